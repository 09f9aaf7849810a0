"""pg_catalog and information_schema as relations of the engine (planner/syscat).

The captured client queries (tests/sql/fixtures/syscat_client_queries.json) run verbatim
through `immusql.connect()` and give what PostgreSQL gives for the same schema; the
differential twin of these tests, comparing every query with a real PostgreSQL 15, is
tests/sql/test_syscat_pg.py. Here: the answers themselves, name resolution, errors, the
reg* types, catalog functions and the planner pieces the emulation added.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import immusql
from immusql import errors
from immusql.planner import textio

FIXTURES = Path(__file__).resolve().parent.parent / "sql" / "fixtures"
QUERIES = {q["name"]: q for q in json.loads(
    (FIXTURES / "syscat_client_queries.json").read_text())["queries"]}

SCHEMA = """
CREATE TABLE users (id SERIAL NOT NULL, email VARCHAR(200) NOT NULL,
    created TIMESTAMP WITH TIME ZONE DEFAULT now(), PRIMARY KEY (id), UNIQUE (email));
CREATE TABLE accounts (
    id SERIAL PRIMARY KEY,
    owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    name VARCHAR(200) NOT NULL,
    balance NUMERIC(10,2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at TIMESTAMPTZ DEFAULT now(),
    CONSTRAINT accounts_name_key UNIQUE (name));
CREATE INDEX accounts_owner_idx ON accounts (owner_id);
CREATE VIEW rich AS SELECT id, name FROM accounts WHERE balance > 1000;
"""


@pytest.fixture
def db(tmp_path):
    conn = immusql.connect(tmp_path / "db", autocommit=True)
    cur = conn.cursor()
    for stmt in SCHEMA.split(";"):
        if stmt.strip():
            cur.execute(stmt)
    yield conn
    conn.close()


def q(conn, sql, params=()):
    """Rows of `sql` as text, as a client of the text protocol sees them."""
    result = conn._session.execute(sql, list(params))[-1]
    return [tuple(None if v is None else textio.format_text(v, c.type)
                  for v, c in zip(row, result.columns)) for row in result.rows]


def captured(conn, name, table="accounts"):
    """Run a captured client query with `table` standing in for the one captured."""
    entry = QUERIES[name]
    sql = entry["sql"]
    oid = q(conn, f"SELECT '{table}'::regclass::oid")[0][0]
    if entry.get("oid_literal"):
        sql = sql.replace(f"'{entry['oid_literal']}'", f"'{oid}'")
    params = []
    for p in entry["params"]:
        value = {"{table}": table, "{oid}": int(oid)}.get(p["value"], p["value"]) \
            if isinstance(p["value"], str) else p["value"]
        if p["type"] == "regtype[]":
            value = [int(q(conn, f"SELECT '{t}'::regtype::oid")[0][0]) for t in value]
        params.append(value)
    return q(conn, sql, params)


def error_of(conn, sql):
    with pytest.raises(errors.Error) as e:
        conn._session.execute(sql)
    return e.value.sqlstate, str(e.value)


# ------------------------------------------------------------------ psql --------------

def test_psql_describe_table(db):
    assert captured(db, "psql.d_table.1") == [(q(db, "SELECT 'accounts'::regclass::oid")[0][0],
                                               "public", "accounts")]
    flags = captured(db, "psql.d_table.2")[0]
    assert flags[:5] == ("1", "r", "t", "f", "t")  # 1 check, table, indexes, triggers (FK)
    assert flags[-1] == "heap"
    columns = captured(db, "psql.d_table.3")
    assert columns == [
        ("id", "integer", "nextval('accounts_id_seq'::regclass)", "t", None, "", ""),
        ("owner_id", "integer", None, "f", None, "", ""),
        ("name", "character varying(200)", None, "t", None, "", ""),
        ("balance", "numeric(10,2)", "0", "t", None, "", ""),
        ("created_at", "timestamp with time zone", "now()", "f", None, "", ""),
    ]
    indexes = captured(db, "psql.d_table.4")
    assert [(r[0], r[5], r[6], r[7]) for r in indexes] == [
        ("accounts_pkey", "CREATE UNIQUE INDEX accounts_pkey ON accounts USING btree (id)",
         "PRIMARY KEY (id)", "p"),
        ("accounts_name_key",
         "CREATE UNIQUE INDEX accounts_name_key ON accounts USING btree (name)",
         "UNIQUE (name)", "u"),
        ("accounts_owner_idx",
         "CREATE INDEX accounts_owner_idx ON accounts USING btree (owner_id)", None, None),
    ]
    for n in range(5, 10):  # policies, statistics, publications, inheritance: none
        assert captured(db, f"psql.d_table.{n}") == []
    assert captured(db, "psql.d_table_fk.5") == [
        ("accounts_balance_check", "CHECK (balance >= 0::numeric)")]
    assert captured(db, "psql.d_table_fk.6") == [
        ("t", "accounts_owner_id_fkey",
         "FOREIGN KEY (owner_id) REFERENCES users(id) ON DELETE CASCADE", "accounts")]
    assert captured(db, "psql.d_table_fk.7", "users") == [
        ("accounts_owner_id_fkey", "accounts",
         "FOREIGN KEY (owner_id) REFERENCES users(id) ON DELETE CASCADE")]
    assert captured(db, "psql.d_table_fk.11") == []  # triggers


def test_psql_lists(db):
    user = db._session.user
    assert captured(db, "psql.dt") == [("public", "accounts", "table", user),
                                       ("public", "users", "table", user)]
    assert captured(db, "psql.d") == [
        ("public", "accounts", "table", user), ("public", "accounts_id_seq", "sequence", user),
        ("public", "rich", "view", user), ("public", "users", "table", user),
        ("public", "users_id_seq", "sequence", user)]
    assert [r[1] for r in captured(db, "psql.di.1")] == [
        "accounts_name_key", "accounts_owner_idx", "accounts_pkey", "users_email_key",
        "users_pkey"]
    assert captured(db, "psql.dv.1") == [("public", "rich", "view", user)]
    assert [r[1] for r in captured(db, "psql.ds.1")] == ["accounts_id_seq", "users_id_seq"]
    assert captured(db, "psql.dn") == [("public", "pg_database_owner")]
    assert captured(db, "psql.du") == [(user, "t", "t", "t", "t", "t", "-1", None, "{}", "t",
                                        "t")]
    assert captured(db, "psql.l") == [(db._session.database, user, "UTF8", "C", "C", None,
                                       "libc", None)]


def test_psql_describe_view_and_index(db):
    assert [r[:2] for r in captured(db, "psql.d_table.3", "rich")] == [
        ("id", "integer"), ("name", "character varying(200)")]
    assert captured(db, "psql.d_index.3", "accounts_pkey") == [("id", "integer", "yes", "id")]
    assert captured(db, "psql.d_index.4", "accounts_pkey") == [
        ("t", "t", "f", "t", "f", "f", "f", "f", "btree", "accounts", None)]


# ------------------------------------------------------------------ SQLAlchemy & co ---

def test_sqlalchemy_first_connect(db):
    assert re.match(r"PostgreSQL 15\.\d+ ", captured(db, "sqlalchemy.version")[0][0])
    assert captured(db, "sqlalchemy.current_schema") == [("public",)]
    assert captured(db, "sqlalchemy.hstore_probe") == []


def test_sqlalchemy_reflection(db):
    assert captured(db, "sqlalchemy.get_table_names.r") == [("users",), ("accounts",)]
    assert captured(db, "sqlalchemy.get_table_names.v") == [("rich",)]
    assert captured(db, "sqlalchemy.has_table") == [("accounts",)]
    cols = captured(db, "sqlalchemy.get_columns")
    assert [(c[0], c[1], c[2], c[3]) for c in cols] == [
        ("id", "integer", "nextval('accounts_id_seq'::regclass)", "t"),
        ("owner_id", "integer", None, "f"), ("name", "character varying(200)", None, "t"),
        ("balance", "numeric(10,2)", "0", "t"),
        ("created_at", "timestamp with time zone", "now()", "f")]
    assert all(c[7] is None and c[8] is None for c in cols)  # identity_options, collation
    oid = q(db, "SELECT 'accounts'::regclass::oid")[0][0]
    assert captured(db, "sqlalchemy.constraint_columns.p") == [
        (oid, "{id}", "accounts_pkey", None, "1", "f")]
    assert captured(db, "sqlalchemy.constraint_columns.u") == [
        (oid, "{name}", "accounts_name_key", None, "1", "f")]
    assert captured(db, "sqlalchemy.get_foreign_keys") == [
        ("accounts", "accounts_owner_id_fkey",
         "FOREIGN KEY (owner_id) REFERENCES users(id) ON DELETE CASCADE", "public", None)]
    assert captured(db, "sqlalchemy.get_check_constraints") == [
        ("accounts", "accounts_balance_check", "CHECK (balance >= 0::numeric)", None)]
    indexes = captured(db, "sqlalchemy.get_indexes")
    assert [(r[1], r[2], r[4], r[11], r[13]) for r in indexes] == [
        ("accounts_name_key", "t", "t", "{name}", "{3126}"),  # text_ops for varchar
        ("accounts_owner_idx", "f", "f", "{owner_id}", "{1978}")]  # int4_ops
    assert captured(db, "sqlalchemy.table_comment") == [("accounts", None)]
    assert captured(db, "sqlalchemy.table_options") == [
        (oid, "accounts", None, None, None, None, None)]
    assert captured(db, "sqlalchemy.am") == [("403", "btree")]


def test_alembic_pandas_pgbench_probes(db):
    assert captured(db, "alembic.version_table_probe") == []
    db.cursor().execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
    assert captured(db, "alembic.version_table_probe") == [("alembic_version",)]
    assert captured(db, "pandas.has_table_probe") == []  # the SQL text is no table name
    assert captured(db, "pgbench.partition_probe") == []
    db.cursor().execute("CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int)")
    # o.n: public's place in current_schemas(true) = {pg_catalog,public}
    assert captured(db, "pgbench.partition_probe") == [("2", None, "0")]


def test_asyncpg_typeinfo(db):
    assert captured(db, "asyncpg.jit_probe") == [("on", "off")]
    assert q(db, "SELECT current_setting('jit')") == [("off",)]
    rows = {r[2]: r for r in captured(db, "asyncpg.typeinfo")}
    assert rows["int4"][3] == "b" and rows["int4"][12] == "-"
    assert rows["_int4"][5] == "23" and rows["_int4"][12] == "integer"  # elemtype
    acc = rows["accounts"]
    assert acc[1:4] == ("public", "accounts", "c")
    assert acc[8] == "{23,23,1043,1700,1184}"
    assert acc[9] == "{id,owner_id,name,balance,created_at}"
    assert {r[2] for r in rows.values()} == {"int4", "_int4", "accounts", "varchar",
                                             "numeric", "timestamptz"}


def test_pgjdbc_metadata(db):
    assert [r[:4] for r in captured(db, "pgjdbc.get_tables")] == [
        (None, "public", "accounts", "TABLE"), (None, "public", "users", "TABLE")]
    cols = captured(db, "pgjdbc.get_columns")
    assert [(c[2], c[4], c[8], c[11]) for c in cols] == [
        ("id", "t", "1", "nextval('accounts_id_seq'::regclass)"), ("owner_id", "f", "2", None),
        ("name", "t", "3", None), ("balance", "t", "4", "0"), ("created_at", "f", "5", "now()")]
    assert captured(db, "pgjdbc.get_primary_keys") == [
        (None, "public", "accounts", "id", "1", "accounts_pkey")]


# ------------------------------------------------------------------ name resolution ---

def test_pg_catalog_is_searched_first(db):
    cur = db.cursor()
    cur.execute("CREATE TABLE pg_class (x int)")  # legal in public, as in PostgreSQL
    assert error_of(db, "INSERT INTO pg_class VALUES (1)")[0] == "42809"  # the catalog's
    cur.execute("INSERT INTO public.pg_class VALUES (42)")
    assert q(db, "SELECT count(*) > 50 FROM pg_class") == [("t",)]  # the catalog
    assert q(db, "SELECT x FROM public.pg_class") == [("42",)]
    cur.execute("SET search_path = public, pg_catalog")
    assert q(db, "SELECT x FROM pg_class") == [("42",)]  # named later: public wins
    cur.execute("SET search_path = public")
    assert q(db, "SELECT count(*) > 50 FROM pg_class") == [("t",)]


def test_information_schema_needs_qualification(db):
    assert q(db, "SELECT count(*) FROM information_schema.tables "
                 "WHERE table_schema = 'public'") == [("3",)]
    state, msg = error_of(db, "SELECT * FROM tables")
    assert (state, msg) == ("42P01", 'relation "tables" does not exist')
    db.cursor().execute("SET search_path = public, information_schema")
    assert q(db, "SELECT count(*) FROM tables WHERE table_schema = 'public'") == [("3",)]
    assert error_of(db, "SELECT * FROM pg_catalog.nope")[0] == "42P01"
    assert error_of(db, "SELECT * FROM nope") == ("42P01", 'relation "nope" does not exist')


def test_catalogs_cannot_be_changed(db):
    assert error_of(db, "CREATE TABLE pg_catalog.t (a int)")[0] == "42501"
    assert error_of(db, "CREATE TABLE information_schema.t (a int)")[0] == "42501"
    assert error_of(db, "CREATE VIEW pg_catalog.v AS SELECT 1")[0] == "42501"
    assert error_of(db, "INSERT INTO pg_class (relname) VALUES ('x')")[0] == "42809"
    assert error_of(db, "UPDATE pg_catalog.pg_type SET typname = 'x'")[0] == "42809"
    assert error_of(db, "DELETE FROM information_schema.tables")[0] == "42809"
    assert error_of(db, "CREATE INDEX ON pg_class (relname)")[0] == "42809"
    assert error_of(db, "DROP TABLE pg_catalog.pg_class")[0] == "42P01"


def test_no_time_travel_on_catalogs(db):
    state, msg = error_of(db, "SELECT * FROM pg_class AS OF TX 1")
    assert state == "0A000" and "catalogs have no history" in msg
    assert error_of(db, "SELECT * FROM HISTORY OF pg_attribute")[0] == "0A000"


def test_explain_names_system_scans(db):
    plan = [r[0] for r in q(db, "EXPLAIN SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                                "ON n.oid = c.relnamespace")]
    assert any("System Scan on pg_class c" in line for line in plan)
    assert any("System Scan on pg_namespace n" in line for line in plan)
    plan = [r[0] for r in q(db, "EXPLAIN SELECT * FROM pg_tables")]
    assert any("System Scan on pg_tables" in line for line in plan)


def test_catalog_follows_the_transaction(db):
    s = db._session
    s.execute("BEGIN")
    s.execute("CREATE TABLE t2 (a int PRIMARY KEY, b text DEFAULT 'x')")
    assert q(db, "SELECT relname FROM pg_class WHERE relname LIKE 't2%' ORDER BY 1") == [
        ("t2",), ("t2_pkey",)]
    assert q(db, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef "
                 "WHERE adrelid = 't2'::regclass") == [("'x'::text",)]
    s.execute("ROLLBACK")
    assert q(db, "SELECT count(*) FROM pg_class WHERE relname = 't2'") == [("0",)]
    assert error_of(db, "SELECT 't2'::regclass")[0] == "42P01"


def test_rows_are_built_once_per_catalog(db):
    from immusql.planner.syscat.model import model_of
    s = db._session
    q(db, "SELECT count(*) FROM pg_attribute")
    cat = s.engine.catalog(s.engine.store.transaction())
    model = model_of(cat)
    rows = model.rows_cache[("pg_attribute", 10)]
    q(db, "SELECT count(*) FROM pg_attribute")
    assert model.rows_cache[("pg_attribute", 10)] is rows
    db.cursor().execute("CREATE TABLE t3 (a int)")
    assert q(db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 't3'::regclass") == [
        ("1",)]


def test_every_system_relation_scans(db):
    from immusql.planner.syscat.registry import all_relations
    for rel in all_relations():
        result = db._session.execute(f"SELECT * FROM {rel.schema}.{rel.name}")[0]
        assert [c.name for c in result.columns] == [c.name for c in rel.columns]
        for row in result.rows:
            assert len(row) == len(rel.columns)


# ------------------------------------------------------------------ reg* types --------

def test_regclass(db):
    oid = q(db, "SELECT oid FROM pg_class WHERE relname = 'accounts'")[0][0]
    assert q(db, "SELECT 'accounts'::regclass::oid, 'public.accounts'::regclass::oid, "
                 "'ACCOUNTS'::regclass::oid") == [(oid, oid, oid)]
    assert q(db, f"SELECT {oid}::regclass, {oid}::oid::regclass::text") == [
        ("accounts", "accounts")]
    assert q(db, "SELECT 'pg_catalog.pg_constraint'::regclass::oid, 'pg_class'::regclass, "
                 "'information_schema.tables'::regclass") == [
        ("2606", "pg_class", "information_schema.tables")]
    assert q(db, "SELECT 'accounts_pkey'::regclass::text, 'accounts_id_seq'::regclass::text"
             ) == [("accounts_pkey", "accounts_id_seq")]
    db.cursor().execute('CREATE TABLE "Mixed Case" (a int)')
    assert q(db, """SELECT '"Mixed Case"'::regclass::text""") == [('"Mixed Case"',)]
    assert error_of(db, "SELECT 'nope'::regclass") == ("42P01", 'relation "nope" does not exist')
    assert error_of(db, "SELECT 'Mixed Case'::regclass")[0] == "42P01"
    assert q(db, "SELECT 123456::regclass, 0::regclass") == [("123456", "-")]


def test_other_reg_types(db):
    assert q(db, "SELECT 'integer'::regtype::oid, 'int4[]'::regtype, 'varchar'::regtype, "
                 "'accounts'::regtype::text, 'accounts[]'::regtype::text") == [
        ("23", "integer[]", "character varying", "accounts", "accounts[]")]
    assert error_of(db, "SELECT 'nope'::regtype")[0] == "42704"
    assert q(db, "SELECT 'public'::regnamespace::oid, 11::regnamespace") == [
        ("2200", "pg_catalog")]
    assert error_of(db, "SELECT 'nope'::regnamespace") == (
        "3F000", 'schema "nope" does not exist')
    assert q(db, "SELECT 'now'::regproc::oid, 1299::regproc, 'now()'::regprocedure::text") == [
        ("1299", "now", "now()")]
    assert error_of(db, "SELECT 'abs'::regproc")[0] == "42725"  # several overloads
    user = db._session.user
    assert q(db, f"SELECT '{user}'::regrole::oid, 10::regrole") == [("10", user)]
    assert error_of(db, "SELECT 'nobody'::regrole")[0] == "42704"


def test_to_reg_functions_return_null(db):
    assert q(db, "SELECT to_regclass('nope'), to_regtype('hstore'), to_regnamespace('x'), "
                 "to_regproc('nope'), to_regrole('nobody'), to_regclass('accounts')::text"
             ) == [(None, None, None, None, None, "accounts")]


# ------------------------------------------------------------------ functions ---------

def test_format_type(db):
    assert q(db, "SELECT format_type(1043, 204), format_type(1700, 655366), "
                 "format_type(1184, -1), format_type(1042, NULL), format_type(1042, -1), "
                 "format_type(23, NULL), format_type(1007, -1), format_type(NULL, 1), "
                 "format_type(22, -1), format_type(999999, -1)") == [
        ("character varying(200)", "numeric(10,2)", "timestamp with time zone", "character",
         "bpchar", "integer", "integer[]", None, "int2vector", "???")]


def test_definitions(db):
    assert q(db, "SELECT pg_get_serial_sequence('accounts', 'id'), "
                 "pg_get_serial_sequence('public.accounts', 'name')") == [
        ("public.accounts_id_seq", None)]
    assert error_of(db, "SELECT pg_get_serial_sequence('accounts', 'nope')")[0] == "42703"
    assert error_of(db, "SELECT pg_get_serial_sequence('nope', 'id')")[0] == "42P01"
    assert q(db, "SELECT pg_get_indexdef('accounts_pkey'::regclass), "
                 "pg_get_indexdef('accounts_pkey'::regclass, 1, true)") == [
        ("CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING btree (id)", "id")]
    assert q(db, "SELECT pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) "
                 "FROM pg_constraint WHERE contype = 'c'") == [
        ("CHECK ((balance >= (0)::numeric))", "CHECK (balance >= 0::numeric)")]
    assert q(db, "SELECT pg_get_viewdef('rich'::regclass, true)") == [
        (" SELECT accounts.id,\n    accounts.name\n   FROM accounts\n"
         "  WHERE accounts.balance > 1000::numeric;",)]
    assert q(db, "SELECT definition FROM pg_views WHERE viewname = 'rich'") == [
        (" SELECT accounts.id,\n    accounts.name\n   FROM accounts\n"
         "  WHERE (accounts.balance > (1000)::numeric);",)]


def test_visibility_and_privileges(db):
    oid = q(db, "SELECT 'accounts'::regclass::oid")[0][0]
    assert q(db, f"SELECT pg_table_is_visible({oid}), pg_table_is_visible(1259), "
                 "pg_table_is_visible('information_schema.tables'::regclass), "
                 "pg_table_is_visible(4242)") == [("t", "t", "f", None)]
    db.cursor().execute("SET search_path = pg_catalog")
    assert q(db, f"SELECT pg_table_is_visible({oid})") == [("f",)]
    db.cursor().execute("SET search_path = public")
    assert q(db, f"SELECT has_table_privilege('accounts', 'SELECT'), "
                 f"has_table_privilege({oid}, 'INSERT'), "
                 f"has_table_privilege('immusql', {oid}, 'SELECT'), "
                 "has_table_privilege(4242, 'SELECT'), has_schema_privilege('public', 'USAGE'),"
                 " has_database_privilege(current_database(), 'CONNECT'), "
                 "has_column_privilege('accounts', 'name', 'SELECT'), "
                 "has_sequence_privilege('accounts_id_seq', 'USAGE'), "
                 "has_function_privilege('now()', 'EXECUTE')") == [
        ("t", "t", "t", None, "t", "t", "t", "t", "t")]
    assert error_of(db, "SELECT has_table_privilege('nope', 'SELECT')")[0] == "42P01"
    assert error_of(db, "SELECT has_schema_privilege('nope', 'USAGE')")[0] == "3F000"


def test_settings_functions(db):
    assert q(db, "SELECT current_setting('search_path'), "
                 "current_setting('default_table_access_method'), "
                 "current_setting('nope.x', true), current_setting('server_version_num')") == [
        ('"$user", public', "heap", None, "150000")]
    assert error_of(db, "SELECT current_setting('nope')") == (
        "42704", 'unrecognized configuration parameter "nope"')
    assert q(db, "SELECT set_config('application_name', 'x', false)") == [("x",)]
    assert q(db, "SHOW application_name") == [("x",)]
    assert q(db, "SELECT setting, source FROM pg_settings WHERE name = 'application_name'") \
        == [("x", "session")]
    assert error_of(db, "SELECT set_config('server_version', '1', false)")[0] == "55P02"
    assert q(db, "SELECT current_schemas(true), current_schemas(false)") == [
        ("{pg_catalog,public}", "{public}")]


def test_session_functions(db):
    s = db._session
    assert q(db, "SELECT pg_backend_pid()") == [(str(os.getpid()),)]
    s.backend_pid = 4242  # the wire server sets it
    assert q(db, "SELECT pg_backend_pid(), pg_is_in_recovery(), inet_server_addr(), "
                 "current_user, session_user, current_database()") == [
        ("4242", "f", None, s.user, s.user, s.database)]
    assert q(db, "SELECT pg_postmaster_start_time() <= now()") == [("t",)]


def test_relation_sizes(db):
    size = q(db, "SELECT pg_relation_size('accounts'), pg_total_relation_size('accounts'), "
                 "pg_indexes_size('accounts'), pg_relation_size('pg_class')")[0]
    assert size == ("0", "0", "0", "0")
    db.cursor().execute("INSERT INTO users (email) VALUES ('a@x.io')")
    db.cursor().execute("INSERT INTO accounts (name, owner_id) VALUES ('alice', 1)")
    table, total, indexes = (int(v) for v in q(
        db, "SELECT pg_relation_size('accounts'), pg_total_relation_size('accounts'), "
            "pg_indexes_size('accounts')")[0])
    assert table > 0 and indexes > 0 and total == table + indexes
    assert q(db, "SELECT pg_size_pretty(10240::bigint), pg_size_pretty(123456789::bigint)"
             ) == [("10 kB", "118 MB")]


def test_comments_are_null(db):
    oid = q(db, "SELECT 'accounts'::regclass::oid")[0][0]
    assert q(db, f"SELECT obj_description({oid}, 'pg_class'), col_description({oid}, 1), "
                 "shobj_description(1, 'pg_database')") == [(None, None, None)]
    # only built-in objects have descriptions (PostgreSQL 15's texts)
    assert q(db, "SELECT count(*) FROM pg_description WHERE objoid >= 16384") == [("0",)]
    assert q(db, "SELECT obj_description(2200, 'pg_namespace'), obj_description(2200), "
                 "obj_description(13559, 'pg_extension')") == [
        ("standard public schema", "standard public schema", "PL/pgSQL procedural language")]


# ------------------------------------------------------------------ planner pieces ----

def test_field_selection(db):
    assert q(db, "SELECT (information_schema._pg_expandarray(ARRAY[5, 7])).x, "
                 "(information_schema._pg_expandarray(ARRAY[5, 7])).n") == [
        ("5", "1"), ("7", "2")]
    assert q(db, "SELECT information_schema._pg_expandarray(ARRAY['a'])") == [("(a,1)",)]
    assert q(db, "SELECT (k).x FROM (SELECT information_schema._pg_expandarray("
                 "ARRAY[3, 4]) AS k) s WHERE (k).n = 2") == [("4",)]
    assert q(db, "SELECT x, n FROM information_schema._pg_expandarray(ARRAY[8, 9])") == [
        ("8", "1"), ("9", "2")]
    assert error_of(db, "SELECT (1).x")[0] == "42809"
    assert error_of(db, "SELECT (ROW(1, 2)).x")[0] == "42703"
    assert error_of(db, "SELECT (k).z FROM (SELECT information_schema._pg_expandarray("
                        "ARRAY[3]) AS k) s")[0] == "42703"


def test_int2vector_and_oidvector(db):
    db.cursor().execute("CREATE INDEX two ON accounts (owner_id, name DESC)")
    assert q(db, "SELECT indkey, indkey::int2[], indoption, indclass, indkey[2] "
                 "FROM pg_index WHERE indexrelid = 'two'::regclass") == [
        ("2 3", "{2,3}", "0 3", "1978 3126", "3")]
    assert q(db, "SELECT '1 2 3'::int2vector, unnest('4 5'::int2vector)") == [
        ("1 2 3", "4"), ("1 2 3", "5")]


def test_recursive_cte_joined_with_a_condition_that_is_not_an_equality(db):
    """The work table is read afresh every iteration, even through a nested loop."""
    rows = q(db, """
        WITH RECURSIVE r(n, depth) AS (
            SELECT 3, 0
            UNION ALL
            SELECT v.x, r.depth + 1 FROM (VALUES (1), (2)) v(x), r
            WHERE v.x < r.n OR (r.n IS NULL AND v.x = 0))
        SELECT n, depth FROM r ORDER BY depth, n""")
    assert rows == [("3", "0"), ("1", "1"), ("2", "1"), ("1", "2")]


def test_function_in_from_reads_earlier_items_and_outer_queries(db):
    db.cursor().execute("CREATE TABLE arr (id int, a int[])")
    db.cursor().execute("INSERT INTO arr VALUES (1, '{7,8}'), (2, '{9}')")
    assert q(db, "SELECT id, x FROM arr, unnest(arr.a) AS u(x) ORDER BY 1, 2") == [
        ("1", "7"), ("1", "8"), ("2", "9")]
    assert q(db, "SELECT id, x, n FROM arr CROSS JOIN LATERAL unnest(a) WITH ORDINALITY "
                 "AS u(x, n) ORDER BY 1, 2") == [("1", "7", "1"), ("1", "8", "2"),
                                                 ("2", "9", "1")]
    assert q(db, "SELECT id, (SELECT sum(x) FROM unnest(arr.a) AS u(x)) FROM arr "
                 "ORDER BY 1") == [("1", "15"), ("2", "9")]


def test_case_is_named_after_its_else(db):
    result = db._session.execute("SELECT CASE WHEN true THEN '' ELSE c.relname::text END, "
                                 "CASE WHEN true THEN 1 END FROM pg_class c LIMIT 1")[0]
    assert [c.name for c in result.columns] == ["relname", "case"]
