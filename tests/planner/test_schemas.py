"""Schemas in the catalog (planner/schemas.py): what the differential fixture
(tests/sql/fixtures/schemas.sql) cannot see: PostgreSQL's DETAIL / HINT / NOTICE texts,
the stored form (an optional "schemas" field of the catalog version entry, so catalogs
written before it still load), persistence across reopening, and another session seeing
the schema only once it commits."""

from __future__ import annotations

import msgpack
import pytest

import immusql
from immusql import errors
from immusql.planner.catalog import CATALOG_VERSION_KEY, Catalog, Relation, relation_key


@pytest.fixture
def path(tmp_path):
    return tmp_path / "db"


@pytest.fixture
def db(path):
    conn = immusql.connect(path, autocommit=True)
    yield conn
    conn.close()


def run(conn, script: str):
    out = []
    for stmt in script.split(";"):
        if stmt.strip():
            out += conn._session.execute(stmt)
    return out


def rows(conn, sql):
    return conn._session.execute(sql)[-1].rows


def fails(conn, sql, sqlstate: str) -> errors.Error:
    with pytest.raises(errors.Error) as info:
        conn._session.execute(sql)
    assert info.value.sqlstate == sqlstate, str(info.value)
    return info.value


def test_drop_schema_reports_dependents_as_postgresql(db):
    run(db, """CREATE SCHEMA s; CREATE TABLE s.t (id serial PRIMARY KEY, x int);
               CREATE VIEW s.v AS SELECT * FROM s.t; CREATE SEQUENCE s.q""")
    e = fails(db, "DROP SCHEMA s", "2BP01")
    assert str(e) == "cannot drop schema s because other objects depend on it"
    assert e.detail == ("table s.t depends on schema s\nview s.v depends on schema s\n"
                        "sequence s.q depends on schema s")
    assert e.hint == "Use DROP ... CASCADE to drop the dependent objects too."
    assert str(fails(db, "DROP SCHEMA pg_catalog", "2BP01")) == (
        "cannot drop schema pg_catalog because it is required by the database system")
    res = db._session.execute("DROP SCHEMA s CASCADE")[-1]
    assert res.tag == "DROP SCHEMA" and res.notices == ["drop cascades to 3 other objects"]
    assert rows(db, "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'v', 'q', "
                    "'t_id_seq', 't_pkey')") == [(0,)]


def test_notices_and_reserved_names(db):
    run(db, "CREATE SCHEMA s")
    assert db._session.execute("CREATE SCHEMA IF NOT EXISTS s")[-1].notices == [
        'schema "s" already exists, skipping']
    assert db._session.execute("DROP SCHEMA IF EXISTS nope, s")[-1].notices == [
        'schema "nope" does not exist, skipping']
    e = fails(db, "CREATE SCHEMA pg_x", "42939")
    assert e.detail == 'The prefix "pg_" is reserved for system schemas.'
    fails(db, "DROP SCHEMA public", "0A000")  # PostgreSQL drops an empty public; we refuse


def test_views_in_other_schemas_and_foreign_keys_go_with_cascade(db):
    run(db, """CREATE SCHEMA s; CREATE TABLE s.t (id int PRIMARY KEY);
               CREATE TABLE refs (id int REFERENCES s.t (id));
               CREATE VIEW pv AS SELECT id FROM s.t""")
    e = fails(db, "DROP SCHEMA s", "2BP01")
    assert e.detail.splitlines() == [
        "table s.t depends on schema s", "view public.pv depends on table s.t",
        "constraint refs_id_fkey on table public.refs depends on table s.t"]
    run(db, "DROP SCHEMA s CASCADE")
    fails(db, "SELECT * FROM pv", "42P01")
    run(db, "INSERT INTO refs VALUES (42)")  # the foreign key went with s.t
    assert rows(db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == [(0,)]


def test_authorization_and_owner(db):
    run(db, "CREATE SCHEMA AUTHORIZATION CURRENT_USER; CREATE SCHEMA a AUTHORIZATION "
            f"{db._session.user}")
    user = db._session.user
    assert rows(db, "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                    f"WHERE nspname IN ('a', '{user}') ORDER BY oid") == [(user, user),
                                                                            ("a", user)]
    fails(db, "ALTER SCHEMA a OWNER TO nobody_here", "42704")
    run(db, "ALTER SCHEMA a OWNER TO CURRENT_USER")
    # "$user" in the default search_path: the user's schema comes first now
    run(db, "CREATE TABLE mine (x int)")
    assert rows(db, "SELECT schemaname FROM pg_tables WHERE tablename = 'mine'") == [(user,)]
    assert rows(db, "SELECT current_schema()") == [(user,)]


def test_stored_in_the_catalog_and_persistent(db, path):
    run(db, """CREATE SCHEMA s; CREATE TABLE s.t (id serial PRIMARY KEY);
               INSERT INTO s.t DEFAULT VALUES; COMMENT ON SCHEMA s IS 'kept'""")
    oid = rows(db, "SELECT 's'::regnamespace::oid")[0][0]
    doc = msgpack.unpackb(db._engine.store.get(CATALOG_VERSION_KEY).value)
    assert doc["schemas"] == {"s": [oid, doc["schemas"]["s"][1]]}
    db.close()
    conn = immusql.connect(path, autocommit=True)
    try:
        assert rows(conn, "SELECT 's'::regnamespace::oid") == [(oid,)]
        assert rows(conn, "SELECT id FROM s.t") == [(1,)]
        assert rows(conn, "SELECT obj_description('s'::regnamespace, 'pg_namespace')") == [
            ("kept",)]
        run(conn, "ALTER SCHEMA s RENAME TO r")
        assert rows(conn, "SELECT obj_description('r'::regnamespace, 'pg_namespace')") == [
            ("kept",)]
        # the serial's sequence moved too (a reopened engine skips its reserved block)
        assert rows(conn, "INSERT INTO r.t DEFAULT VALUES RETURNING id")[0][0] > 1
        assert rows(conn, "SELECT pg_get_serial_sequence('r.t', 'id')") == [("r.t_id_seq",)]
    finally:
        conn.close()


def test_old_catalogs_load():
    """A version entry without "schemas" (written before CREATE SCHEMA) loads, and a
    relation in a schema nobody created keeps its schema usable."""
    rel = Relation(16384, "legacy", "t", "table")
    cat = Catalog.load([(CATALOG_VERSION_KEY, msgpack.packb({"version": 3, "next_id": 16385})),
                        (relation_key(rel.id), rel.to_msgpack())])
    assert cat.schemas == {}
    assert cat.schema_exists("legacy") and cat.schema_exists("public")
    assert not cat.schema_exists("other")
    assert b"schemas" not in cat.version_value()


def test_other_sessions_see_a_schema_once_committed(db):
    other = db._engine.session()
    run(db, "BEGIN; CREATE SCHEMA s; CREATE TABLE s.t (a int)")
    with pytest.raises(errors.Error) as info:
        other.execute("CREATE TABLE s.u (a int)")
    assert info.value.sqlstate == "3F000"
    run(db, "COMMIT")
    other.execute("CREATE TABLE s.u (a int)")
    assert rows(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 's'") == [(2,)]
