"""COMMENT ON, and the renames and drops that go with catalog objects' names.

COMMENT ON stores descriptions in the catalog (relations, columns, indexes, constraints;
schemas in the catalog version entry; databases and roles in the wire server's cluster),
where pg_description / pg_shdescription and obj_description, col_description and
shobj_description read them. Also ALTER INDEX|SEQUENCE|VIEW ... RENAME TO, ALTER TABLE ...
RENAME CONSTRAINT and ALTER TABLE ... DROP CONSTRAINT of a primary key (which moves the
rows to hidden row ids). tests/sql/test_comments_pg.py compares the same with PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgpack
import pytest

import immusql
from immusql import errors
from immusql.planner import textio
from immusql.planner.catalog import Catalog, Relation, relation_key

FIXTURES = Path(__file__).resolve().parent.parent / "sql" / "fixtures"
QUERIES = {q["name"]: q for q in json.loads(
    (FIXTURES / "syscat_client_queries.json").read_text())["queries"]}

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, a text CONSTRAINT a_chk CHECK (a <> ''), b int UNIQUE);
CREATE INDEX t_a_idx ON t (a);
CREATE SEQUENCE sq;
CREATE VIEW v AS SELECT id, a FROM t
"""


@pytest.fixture
def path(tmp_path):
    return tmp_path / "db"


@pytest.fixture
def db(path):
    conn = immusql.connect(path, autocommit=True)
    run(conn, SCHEMA)
    yield conn
    conn.close()


def run(conn, script: str):
    for stmt in script.split(";"):
        if stmt.strip():
            conn._session.execute(stmt)


def q(conn, sql, params=()):
    """Rows of `sql` as text, as a client of the text protocol sees them."""
    result = conn._session.execute(sql, list(params))[-1]
    return [tuple(None if v is None else textio.format_text(v, c.type)
                  for v, c in zip(row, result.columns)) for row in result.rows]


def tag(conn, sql) -> str:
    return conn._session.execute(sql)[-1].tag


def fails(conn, sql, sqlstate: str, message: str | None = None):
    with pytest.raises(errors.Error) as info:
        conn._session.execute(sql)
    assert info.value.sqlstate == sqlstate, str(info.value)
    if message is not None:
        assert str(info.value) == message
    return info.value


def descriptions(conn, rel="t"):
    return q(conn, "SELECT objsubid, description FROM pg_description "
                   f"WHERE objoid = '{rel}'::regclass ORDER BY 1")


# ------------------------------------------------------------------ COMMENT ON --------

def test_table_and_column_comments(db):
    assert tag(db, "COMMENT ON TABLE t IS 'the table'") == "COMMENT"
    assert tag(db, "COMMENT ON COLUMN t.a IS 'column a'") == "COMMENT"
    assert tag(db, "COMMENT ON COLUMN public.t.b IS 'column b'") == "COMMENT"
    assert descriptions(db) == [("0", "the table"), ("2", "column a"), ("3", "column b")]
    assert q(db, "SELECT obj_description('t'::regclass, 'pg_class'), "
                 "obj_description('t'::regclass), col_description('t'::regclass, 2), "
                 "col_description('t'::regclass, 1), col_description('t'::regclass, 0)") == [
        ("the table", "the table", "column a", None, "the table")]  # objsubid 0, as PG
    assert q(db, "SELECT DISTINCT classoid FROM pg_description WHERE objoid = "
                 "'t'::regclass") == [("1259",)]


def test_view_sequence_index_and_constraint_comments(db):
    run(db, """COMMENT ON VIEW v IS 'a view'; COMMENT ON COLUMN v.a IS 'view column';
               COMMENT ON SEQUENCE sq IS 'a sequence'; COMMENT ON INDEX t_a_idx IS 'an index';
               COMMENT ON INDEX t_pkey IS 'pk index';
               COMMENT ON CONSTRAINT t_pkey ON t IS 'pk constraint';
               COMMENT ON CONSTRAINT a_chk ON t IS 'check';
               COMMENT ON CONSTRAINT t_b_key ON t IS 'unique'""")
    assert descriptions(db, "v") == [("0", "a view"), ("2", "view column")]
    assert descriptions(db, "sq") == [("0", "a sequence")]
    assert descriptions(db, "t_a_idx") == [("0", "an index")]
    assert q(db, "SELECT obj_description('t_pkey'::regclass, 'pg_class')") == [("pk index",)]
    assert q(db, "SELECT c.conname, d.description, obj_description(c.oid, 'pg_constraint') "
                 "FROM pg_constraint c JOIN pg_description d ON d.objoid = c.oid "
                 "AND d.classoid = 'pg_constraint'::regclass ORDER BY 1") == [
        ("a_chk", "check", "check"), ("t_b_key", "unique", "unique"),
        ("t_pkey", "pk constraint", "pk constraint")]
    assert descriptions(db) == []  # the table itself has none


def test_null_and_empty_remove_a_comment(db):
    run(db, "COMMENT ON TABLE t IS 'x'; COMMENT ON COLUMN t.a IS 'y'")
    run(db, "COMMENT ON TABLE t IS NULL; COMMENT ON COLUMN t.a IS ''")
    assert descriptions(db) == []
    run(db, "COMMENT ON TABLE t IS 'again'; COMMENT ON TABLE t IS 'replaced'")
    assert descriptions(db) == [("0", "replaced")]


def test_comments_are_transactional(db):
    run(db, "COMMENT ON TABLE t IS 'kept'")
    run(db, "BEGIN; COMMENT ON TABLE t IS 'changed'; COMMENT ON COLUMN t.a IS 'new'")
    assert descriptions(db) == [("0", "changed"), ("2", "new")]  # seen inside the block
    run(db, "ROLLBACK")
    assert descriptions(db) == [("0", "kept")]
    run(db, "BEGIN; SAVEPOINT s; COMMENT ON TABLE t IS 'inner'; ROLLBACK TO SAVEPOINT s; "
            "COMMENT ON COLUMN t.b IS 'b'; COMMIT")
    assert descriptions(db) == [("0", "kept"), ("3", "b")]
    run(db, "BEGIN READ ONLY")
    fails(db, "COMMENT ON TABLE t IS 'x'", "25006",
          "cannot execute COMMENT in a read-only transaction")
    run(db, "ROLLBACK")


def test_comments_persist_and_other_sessions_see_them(db, path):
    run(db, """COMMENT ON TABLE t IS 'persisted'; COMMENT ON COLUMN t.a IS 'col';
               COMMENT ON INDEX t_a_idx IS 'idx'; COMMENT ON CONSTRAINT a_chk ON t IS 'chk';
               COMMENT ON SCHEMA public IS 'my schema'""")
    other = db._engine.session()
    assert other.execute("SELECT obj_description('t'::regclass, 'pg_class')")[-1].rows == [
        ("persisted",)]
    db.close()
    conn = immusql.connect(path, autocommit=True)
    try:
        assert descriptions(conn) == [("0", "persisted"), ("2", "col")]
        assert descriptions(conn, "t_a_idx") == [("0", "idx")]
        assert q(conn, "SELECT d.description FROM pg_constraint c JOIN pg_description d "
                       "ON d.objoid = c.oid WHERE c.conname = 'a_chk'") == [("chk",)]
        assert q(conn, "SELECT obj_description('public'::regnamespace, 'pg_namespace')") == [
            ("my schema",)]
    finally:
        conn.close()


def test_comments_follow_renames_and_go_with_their_objects(db):
    run(db, """COMMENT ON TABLE t IS 'tbl'; COMMENT ON COLUMN t.a IS 'col a';
               COMMENT ON COLUMN t.b IS 'col b'; COMMENT ON INDEX t_a_idx IS 'idx';
               COMMENT ON CONSTRAINT t_b_key ON t IS 'uniq'""")
    run(db, """DROP VIEW v; ALTER TABLE t RENAME TO t2; ALTER TABLE t2 RENAME COLUMN b TO bb;
               ALTER INDEX t_a_idx RENAME TO t2_a_idx;
               ALTER TABLE t2 RENAME CONSTRAINT t_b_key TO t2_b_key;
               ALTER TABLE t2 ALTER COLUMN bb TYPE bigint""")
    assert descriptions(db, "t2") == [("0", "tbl"), ("2", "col a"), ("3", "col b")]
    assert descriptions(db, "t2_a_idx") == [("0", "idx")]
    assert q(db, "SELECT d.description FROM pg_constraint c JOIN pg_description d "
                 "ON d.objoid = c.oid WHERE c.conname = 't2_b_key'") == [("uniq",)]
    run(db, "ALTER TABLE t2 DROP COLUMN bb; ALTER TABLE t2 ADD COLUMN bb int")
    assert descriptions(db, "t2") == [("0", "tbl"), ("2", "col a")]
    assert q(db, "SELECT count(*) FROM pg_description WHERE classoid = 2606") == [("0",)]
    run(db, "DROP INDEX t2_a_idx; CREATE INDEX t2_a_idx ON t2 (a)")
    assert descriptions(db, "t2_a_idx") == []
    run(db, "DROP TABLE t2; CREATE TABLE t2 (id int)")
    assert descriptions(db, "t2") == []
    assert q(db, "SELECT count(*) FROM pg_description WHERE objoid >= 16384") == [("0",)]


def test_create_or_replace_view_keeps_comments(db):
    run(db, "COMMENT ON VIEW v IS 'kept'; COMMENT ON COLUMN v.a IS 'a'")
    run(db, "CREATE OR REPLACE VIEW v AS SELECT id, a, b FROM t")
    assert descriptions(db, "v") == [("0", "kept"), ("2", "a")]


@pytest.mark.parametrize("sql,sqlstate,message", [
    ("COMMENT ON TABLE nope IS 'x'", "42P01", 'relation "nope" does not exist'),
    ("COMMENT ON INDEX nope IS 'x'", "42P01", 'relation "nope" does not exist'),
    ("COMMENT ON COLUMN nope.a IS 'x'", "42P01", 'relation "nope" does not exist'),
    ("COMMENT ON CONSTRAINT c ON nope IS 'x'", "42P01", 'relation "nope" does not exist'),
    ("COMMENT ON COLUMN t.nope IS 'x'", "42703",
     'column "nope" of relation "t" does not exist'),
    ("COMMENT ON COLUMN a IS 'x'", "42601", "column name must be qualified"),
    ("COMMENT ON CONSTRAINT nope ON t IS 'x'", "42704",
     'constraint "nope" for table "t" does not exist'),
    ("COMMENT ON CONSTRAINT t_pkey ON v IS 'x'", "42704",
     'constraint "t_pkey" for table "v" does not exist'),
    ("COMMENT ON SCHEMA nope IS 'x'", "3F000", 'schema "nope" does not exist'),
    ("COMMENT ON TABLE v IS 'x'", "42809", '"v" is not a table'),
    ("COMMENT ON TABLE t_a_idx IS 'x'", "42809", '"t_a_idx" is not a table'),
    ("COMMENT ON VIEW t IS 'x'", "42809", '"t" is not a view'),
    ("COMMENT ON SEQUENCE t IS 'x'", "42809", '"t" is not a sequence'),
    ("COMMENT ON INDEX t IS 'x'", "42809", '"t" is not an index'),
    ("COMMENT ON MATERIALIZED VIEW v IS 'x'", "42809", '"v" is not a materialized view'),
    ("COMMENT ON COLUMN sq.last_value IS 'x'", "42809", 'cannot set comment on relation "sq"'),
    ("COMMENT ON COLUMN t_a_idx.a IS 'x'", "42809",
     'cannot set comment on relation "t_a_idx"'),
    ("COMMENT ON ROLE nope IS 'x'", "42704", 'role "nope" does not exist'),
])
def test_errors(db, sql, sqlstate, message):
    fails(db, sql, sqlstate, message)
    assert q(db, "SELECT count(*) FROM pg_description WHERE objoid >= 16384") == [("0",)]


def test_schema_comments(db):
    sql = "SELECT obj_description('public'::regnamespace, 'pg_namespace')"
    assert q(db, sql) == [("standard public schema",)]
    run(db, "COMMENT ON SCHEMA public IS 'mine'")
    assert q(db, sql) == [("mine",)]
    run(db, "COMMENT ON SCHEMA public IS NULL")  # the built-in description goes too
    assert q(db, sql) == [(None,)]
    assert q(db, "SELECT count(*) FROM pg_description WHERE classoid = 'pg_namespace'::regclass "
                 "AND objoid = 2200") == [("0",)]
    run(db, "BEGIN; COMMENT ON SCHEMA public IS 'in a block'; ROLLBACK")
    assert q(db, sql) == [(None,)]
    run(db, "COMMENT ON SCHEMA public IS 'standard public schema'")
    assert q(db, "SELECT objoid, classoid, objsubid, description FROM pg_description "
                 "WHERE objoid = 2200") == [("2200", "2615", "0", "standard public schema")]


def test_builtin_descriptions_remain(db):
    assert q(db, "SELECT obj_description(403, 'pg_am'), obj_description(2200), "
                 "obj_description(0), col_description(0, 1), "
                 "obj_description('t'::regclass, 'no_such_catalog')") == [
        ("b-tree index access method", "standard public schema", None, None, None)]


def test_database_and_role_comments_embedded(db):
    """The embedded cluster's one database and user are not stored anywhere: their
    comments are checked and accepted, and an unknown database only warns (as PG)."""
    result = db._session.execute("COMMENT ON DATABASE nope IS 'x'")[-1]
    assert result.tag == "COMMENT"
    assert result.notices == [("WARNING", "3D000", 'database "nope" does not exist')]
    assert tag(db, "COMMENT ON DATABASE immusql IS 'x'") == "COMMENT"
    assert tag(db, "COMMENT ON ROLE immusql IS 'x'") == "COMMENT"
    assert tag(db, "COMMENT ON FUNCTION now() IS 'x'") == "COMMENT"  # built-ins: ignored
    assert q(db, "SELECT shobj_description(1, 'pg_database'), "
                 "shobj_description(10, 'pg_authid')") == [(None, None)]


def test_database_and_role_comments_in_the_server_cluster(tmp_path):
    from immusql.pgwire.cluster import ServerCluster
    with ServerCluster.open(tmp_path / "data") as cluster:
        session = cluster.engine("immusql").session(cluster, "immusql", "immusql")
        session.execute("CREATE ROLE alice")
        for sql in ("COMMENT ON DATABASE immusql IS 'the database'",
                    "COMMENT ON ROLE alice IS 'a role'"):
            assert session.execute(sql)[-1].tag == "COMMENT"
        rows = session.execute(
            "SELECT shobj_description(d.oid, 'pg_database'), "
            "(SELECT shobj_description(r.oid, 'pg_authid') FROM pg_roles r "
            "WHERE r.rolname = 'alice') FROM pg_database d WHERE d.datname = 'immusql'"
        )[-1].rows
        assert rows == [("the database", "a role")]
        assert session.execute("SELECT classoid, description FROM pg_shdescription "
                               "ORDER BY 1")[-1].rows == [(1260, "a role"),
                                                          (1262, "the database")]
        session.execute("COMMENT ON ROLE alice IS ''")
        assert session.execute("SELECT count(*) FROM pg_shdescription")[-1].rows == [(1,)]
    with ServerCluster.open(tmp_path / "data") as cluster:  # kept in the system store
        assert [d.comment for d in cluster.databases()] == ["the database"]


def test_client_queries_read_comments(db):
    """psql's \\d+ (col_description) and SQLAlchemy's table-comment query, as captured."""
    run(db, "COMMENT ON TABLE t IS 'the table'; COMMENT ON COLUMN t.a IS 'column a'")
    oid = q(db, "SELECT 't'::regclass::oid")[0][0]
    entry = QUERIES["psql.d_table_plus.3"]
    sql = entry["sql"].replace(f"'{entry['oid_literal']}'", f"'{oid}'")
    assert [(r[0], r[-1]) for r in q(db, sql)] == [("id", None), ("a", "column a"),
                                                  ("b", None)]
    entry = QUERIES["sqlalchemy.table_comment"]
    params = [p["value"] for p in entry["params"]]
    params = ["t" if v == "{table}" else v for v in params]
    assert q(db, entry["sql"], params) == [("t", "the table")]


# ------------------------------------------------------------------ catalog format --

def test_catalog_entries_without_comments_are_unchanged(db):
    """No comment: the relation descriptor and the version entry have no new keys, so
    catalogs written before COMMENT ON existed read back, and new ones encode alike."""
    cat = db._session.engine.catalog(db._engine.store.transaction())
    rel = next(r for r in cat.relations.values() if r.name == "t")
    d = msgpack.unpackb(rel.to_msgpack(), raw=False, strict_map_key=False)
    assert not {"comment", "col_comments", "idx_comments", "con_comments"} & set(d)
    assert Relation.from_msgpack(rel.to_msgpack()) == rel
    assert set(msgpack.unpackb(cat.version_value())) == {"version", "next_id"}


def test_catalog_entries_with_comments_round_trip(db):
    run(db, """COMMENT ON TABLE t IS 'tbl'; COMMENT ON COLUMN t.a IS 'a';
               COMMENT ON INDEX t_a_idx IS 'i'; COMMENT ON CONSTRAINT t_pkey ON t IS 'pk';
               COMMENT ON CONSTRAINT a_chk ON t IS 'c'; COMMENT ON SCHEMA public IS NULL""")
    tx = db._engine.store.transaction()
    cat = db._session.engine.catalog(tx)
    rel = next(r for r in cat.relations.values() if r.name == "t")
    raw = tx.get(relation_key(rel.id)).value
    d = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    idx = next(i for i in rel.indexes if i.name == "t_a_idx")
    assert (d["comment"], d["col_comments"], d["idx_comments"], d["con_comments"]) == (
        "tbl", {2: "a"}, {idx.id: "i"}, {"t_pkey": "pk", "a_chk": "c"})
    assert Relation.from_msgpack(raw) == rel
    loaded = Catalog.load([(b"V", cat.version_value())])
    assert loaded.schema_comments == {"public": None}


# ------------------------------------------------------------------ renames --------

def test_alter_index_sequence_view_rename(db):
    assert tag(db, "ALTER INDEX t_a_idx RENAME TO t_a") == "ALTER INDEX"
    assert tag(db, "ALTER SEQUENCE sq RENAME TO sq2") == "ALTER SEQUENCE"
    assert tag(db, "ALTER VIEW v RENAME TO v2") == "ALTER VIEW"
    assert tag(db, "ALTER TABLE sq2 RENAME TO sq3") == "ALTER TABLE"  # any relation
    assert tag(db, "ALTER TABLE t_a RENAME TO t_a2") == "ALTER TABLE"
    assert tag(db, "ALTER INDEX v2 RENAME TO v3") == "ALTER INDEX"  # as PostgreSQL allows
    assert q(db, "SELECT relname, relkind FROM pg_class WHERE relnamespace = 2200 "
                 "ORDER BY 1") == [("sq3", "S"), ("t", "r"), ("t_a2", "i"), ("t_b_key", "i"),
                                   ("t_pkey", "i"), ("v3", "v")]
    assert q(db, "SELECT nextval('sq3'), (SELECT count(*) FROM v3)") == [("1", "0")]
    assert q(db, "SELECT indexdef FROM pg_indexes WHERE indexname = 't_a2'") == [
        ("CREATE INDEX t_a2 ON public.t USING btree (a)",)]
    result = db._session.execute("ALTER INDEX IF EXISTS nope RENAME TO x")[-1]
    assert (result.tag, result.notices) == (
        "ALTER INDEX", ['relation "nope" does not exist, skipping'])


def test_renaming_a_constraint_index_renames_the_constraint(db):
    run(db, "ALTER INDEX t_pkey RENAME TO t_pk")
    assert q(db, "SELECT conname, contype FROM pg_constraint WHERE conrelid = 't'::regclass "
                 "ORDER BY 1") == [("a_chk", "c"), ("t_b_key", "u"), ("t_pk", "p")]
    fails(db, "INSERT INTO t VALUES (1, 'x', 1), (1, 'y', 2)", "23505",
          'duplicate key value violates unique constraint "t_pk"')


@pytest.mark.parametrize("sql,sqlstate,message", [
    ("ALTER INDEX nope RENAME TO x", "42P01", 'relation "nope" does not exist'),
    ("ALTER SEQUENCE nope RENAME TO x", "42P01", 'relation "nope" does not exist'),
    ("ALTER INDEX t_a_idx RENAME TO t", "42P07", 'relation "t" already exists'),
    ("ALTER INDEX t_a_idx RENAME TO sq", "42P07", 'relation "sq" already exists'),
    ("ALTER SEQUENCE t RENAME TO x", "42809", '"t" is not a sequence'),
    ("ALTER SEQUENCE t_a_idx RENAME TO x", "42809", '"t_a_idx" is not a sequence'),
    ("ALTER VIEW t RENAME TO x", "42809", '"t" is not a view'),
    ("ALTER TABLE t RENAME CONSTRAINT nope TO x", "42704",
     'constraint "nope" for table "t" does not exist'),
    ("ALTER TABLE t RENAME CONSTRAINT a_chk TO t_b_key", "42710",
     'constraint "t_b_key" for relation "t" already exists'),
    ("ALTER TABLE t RENAME CONSTRAINT t_pkey TO sq", "42P07", 'relation "sq" already exists'),
    ("ALTER TABLE nope RENAME CONSTRAINT a TO b", "42P01", 'relation "nope" does not exist'),
])
def test_rename_errors(db, sql, sqlstate, message):
    fails(db, sql, sqlstate, message)


def test_rename_constraint(db):
    run(db, """ALTER TABLE t RENAME CONSTRAINT a_chk TO sq;
               ALTER TABLE t RENAME CONSTRAINT t_pkey TO t_pk;
               ALTER TABLE t RENAME CONSTRAINT t_b_key TO b_uniq""")
    assert q(db, "SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass "
                 "ORDER BY 1") == [("b_uniq",), ("sq",), ("t_pk",)]
    assert q(db, "SELECT relname FROM pg_class WHERE relkind = 'i' ORDER BY 1") == [
        ("b_uniq",), ("t_a_idx",), ("t_pk",)]  # a check has no index: "sq" is no relation
    fails(db, "INSERT INTO t VALUES (1, '', 1)", "23514",
          'new row for relation "t" violates check constraint "sq"')
    run(db, "BEGIN; ALTER TABLE t RENAME CONSTRAINT sq TO s2; ROLLBACK")
    assert q(db, "SELECT count(*) FROM pg_constraint WHERE conname = 'sq'") == [("1",)]


# ------------------------------------------------------------------ DROP primary key -

def _row_keys(conn, table):
    return q(conn, f"SELECT id, encode(_key, 'hex') FROM {table} ORDER BY id")


def test_drop_primary_key_moves_rows_to_row_ids(db):
    run(db, "CREATE TABLE p (id int PRIMARY KEY, x text UNIQUE); CREATE INDEX p_x ON p (x);"
            "INSERT INTO p VALUES (10, 'a'), (20, 'b'), (30, 'c')")
    before = _row_keys(db, "p")
    assert tag(db, "ALTER TABLE p DROP CONSTRAINT p_pkey") == "ALTER TABLE"
    after = _row_keys(db, "p")
    assert [r[0] for r in after] == ["10", "20", "30"]
    # keys made of the id values before, of row ids 1, 2, 3 (same key encoding) now
    assert [a[1][-2:] for a in after] == ["01", "02", "03"]
    assert [b[1][-2:] for b in before] == ["0a", "14", "1e"]
    assert q(db, "SELECT conname FROM pg_constraint WHERE conrelid = 'p'::regclass") == [
        ("p_x_key",)]
    assert q(db, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'p'::regclass "
                 "AND attname = 'id'") == [("t",)]  # PostgreSQL 15 keeps NOT NULL
    run(db, "INSERT INTO p VALUES (10, 'd')")  # no primary key: duplicates allowed
    fails(db, "INSERT INTO p VALUES (40, 'a')", "23505")  # the unique index still works
    assert q(db, "SELECT id, x FROM p WHERE x = 'b'") == [("20", "b")]  # via index p_x
    run(db, "UPDATE p SET x = 'bb' WHERE id = 20; DELETE FROM p WHERE x = 'c'")
    assert q(db, "SELECT id, x FROM p ORDER BY x") == [("10", "a"), ("20", "bb"),
                                                       ("10", "d")]
    fails(db, "ALTER TABLE p ADD PRIMARY KEY (id)", "23505",
          'could not create unique index "p_pkey"')
    run(db, "DELETE FROM p WHERE x = 'd'; ALTER TABLE p ADD PRIMARY KEY (id)")
    assert q(db, "SELECT id, x FROM p ORDER BY id") == [("10", "a"), ("20", "bb")]


def test_drop_primary_key_rolls_back(db):
    run(db, "INSERT INTO t VALUES (5, 'a', 10), (6, 'b', 20)")
    before = _row_keys(db, "t")
    run(db, "BEGIN; ALTER TABLE t DROP CONSTRAINT t_pkey")
    assert _row_keys(db, "t") != before
    run(db, "ROLLBACK")
    assert _row_keys(db, "t") == before
    assert q(db, "SELECT conname FROM pg_constraint WHERE contype = 'p'") == [("t_pkey",)]


def test_drop_key_with_dependent_foreign_keys(db):
    run(db, "CREATE TABLE c (x int REFERENCES t, y int REFERENCES t (b));"
            "INSERT INTO t VALUES (1, 'a', 10); INSERT INTO c VALUES (1, 10)")
    err = fails(db, "ALTER TABLE t DROP CONSTRAINT t_pkey", "2BP01",
                "cannot drop constraint t_pkey on table t because other objects depend on it")
    assert err.detail == "constraint c_x_fkey on table c depends on index t_pkey"
    fails(db, "ALTER TABLE t DROP CONSTRAINT t_b_key", "2BP01")
    run(db, "ALTER TABLE t DROP CONSTRAINT t_pkey CASCADE")
    assert q(db, "SELECT conname FROM pg_constraint WHERE conrelid = 'c'::regclass") == [
        ("c_y_fkey",)]
    run(db, "INSERT INTO c VALUES (99, 10)")  # c_x_fkey is gone
    fails(db, "INSERT INTO c VALUES (1, 99)", "23503")  # c_y_fkey stays


def test_drop_self_referencing_primary_key(db):
    run(db, "CREATE TABLE s (id int PRIMARY KEY, parent int REFERENCES s);"
            "INSERT INTO s VALUES (1, NULL), (2, 1)")
    run(db, "ALTER TABLE s DROP CONSTRAINT s_pkey CASCADE")
    assert q(db, "SELECT count(*) FROM pg_constraint WHERE conrelid = 's'::regclass") == [
        ("0",)]
    assert q(db, "SELECT id, parent FROM s ORDER BY id") == [("1", None), ("2", "1")]
