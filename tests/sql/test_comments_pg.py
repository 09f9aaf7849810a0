"""COMMENT ON and the renames of indexes, sequences and constraints, compared with a real
PostgreSQL 15.

The same DDL and COMMENT statements run on both; then pg_description, obj_description /
col_description, psql's \\dt+ / \\dn+ / \\d+ queries and the captured per-table client
queries (psql, SQLAlchemy, pgJDBC reflection, tests/sql/fixtures/syscat_client_queries.json)
must answer alike, user OIDs replaced by what they name (test_syscat_pg.Side). Errors are
compared by SQLSTATE and message. tests/planner/test_comments.py has the engine-only tests.
"""

from __future__ import annotations

import pytest
from test_syscat_pg import QUERIES, ImmuSide, PgSide, _compare

import immusql
from immusql.planner.cluster import Cluster

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, a text CONSTRAINT a_chk CHECK (a <> ''), b int UNIQUE,
    c int REFERENCES t);
CREATE INDEX t_a_idx ON t (a);
CREATE SEQUENCE sq;
CREATE VIEW v AS SELECT id, a FROM t;
COMMENT ON TABLE t IS 'the table';
COMMENT ON COLUMN t.a IS 'column a';
COMMENT ON COLUMN t.b IS 'column b';
COMMENT ON COLUMN t.b IS NULL;
COMMENT ON COLUMN t.id IS 'the key';
COMMENT ON COLUMN t.id IS '';
COMMENT ON COLUMN public.t.c IS 'it''s c';
COMMENT ON VIEW v IS 'a view';
COMMENT ON COLUMN v.a IS 'view column';
COMMENT ON SEQUENCE sq IS 'a sequence';
COMMENT ON INDEX t_a_idx IS 'an index';
COMMENT ON INDEX t_pkey IS 'the pk index';
COMMENT ON CONSTRAINT t_pkey ON t IS 'the pk constraint';
COMMENT ON CONSTRAINT a_chk ON t IS 'a check';
COMMENT ON CONSTRAINT t_c_fkey ON t IS 'a foreign key';
COMMENT ON CONSTRAINT t_b_key ON t IS 'unique b';
ALTER INDEX t_a_idx RENAME TO t_a_renamed;
ALTER TABLE t RENAME CONSTRAINT t_b_key TO t_b_uniq;
ALTER TABLE t RENAME CONSTRAINT a_chk TO a_check;
ALTER SEQUENCE sq RENAME TO sq2;
ALTER TABLE sq2 RENAME TO sq3;
ALTER INDEX IF EXISTS nope RENAME TO nope2;
CREATE TABLE other (x int);
COMMENT ON TABLE other IS 'to be dropped';
DROP TABLE other;
COMMENT ON SCHEMA public IS 'the public schema';
BEGIN;
COMMENT ON TABLE t IS 'rolled back';
COMMENT ON COLUMN t.a IS 'rolled back';
ALTER INDEX t_a_renamed RENAME TO rolled_back;
ROLLBACK;
INSERT INTO t VALUES (1, 'x', 10, NULL), (2, 'y', 20, 1)
"""


def _statements(script):
    return [s for s in script.split(";\n") if s.strip()]


@pytest.fixture
def sides(pg, tmp_path):
    """(PostgreSQL, immusql) after SCHEMA, as user postgres in databases of one name."""
    for stmt in _statements(SCHEMA):
        pg.execute(stmt)
    conn = immusql.connect(tmp_path / "db", autocommit=True)
    try:
        session = conn._engine.session(Cluster(database=pg.info.dbname, user="postgres"))
        for stmt in _statements(SCHEMA):
            session.execute(stmt)
        yield PgSide(pg), ImmuSide(session)
    finally:
        conn.close()


def _same(pgs, ims, sql):
    p_names, p_types, p_rows = pgs.run(sql)
    i_names, i_types, i_rows = ims.run(sql)
    assert (i_names, i_types) == (p_names, p_types), sql
    assert ims.normalise(i_rows) == pgs.normalise(p_rows), sql
    return p_rows


@pytest.mark.parametrize("sql", [
    "SELECT objsubid, description FROM pg_description WHERE objoid = 't'::regclass "
    "ORDER BY 1",
    "SELECT objsubid, description FROM pg_description WHERE objoid = 'v'::regclass "
    "ORDER BY 1",
    "SELECT classoid::regclass::text, objsubid, description FROM pg_description "
    "WHERE objoid IN ('sq3'::regclass, 't_a_renamed'::regclass, 't_pkey'::regclass) "
    "ORDER BY 3",
    "SELECT c.conname, d.description, obj_description(c.oid, 'pg_constraint') "
    "FROM pg_constraint c LEFT JOIN pg_description d ON d.objoid = c.oid "
    "AND d.classoid = 'pg_constraint'::regclass WHERE c.conrelid = 't'::regclass ORDER BY 1",
    "SELECT obj_description('t'::regclass, 'pg_class'), obj_description('t'::regclass), "
    "obj_description('v'::regclass, 'pg_class'), obj_description('sq3'::regclass), "
    "obj_description('t_pkey'::regclass, 'pg_class'), "
    "obj_description('t'::regclass, 'pg_namespace')",
    "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
    "WHERE a.attrelid IN ('t'::regclass, 'v'::regclass) AND a.attnum > 0 "
    "ORDER BY a.attrelid::regclass::text, a.attnum",
    "SELECT col_description('t'::regclass, 0), col_description('t'::regclass, 99), "
    "col_description(0, 1), obj_description(0), obj_description(0, 'pg_class')",
    "SELECT obj_description(n.oid, 'pg_namespace') FROM pg_namespace n "
    "WHERE nspname = 'public'",
    # psql 15's \dt+ (its Size column left out: storage differs) and \dn+
    """SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",
  CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN 'temporary' WHEN 'u' THEN 'unlogged' END as "Persistence",
  am.amname as "Access method",
  pg_catalog.obj_description(c.oid, 'pg_class') as "Description"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','v','m','S','f','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2""",
    """SELECT n.nspname AS "Name",
  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner",
  pg_catalog.obj_description(n.oid, 'pg_namespace') AS "Description"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1""",
])
def test_descriptions(sides, sql):
    pgs, ims = sides
    _same(pgs, ims, sql)


def test_descriptions_are_there(sides):
    """The comparisons above compare something: the comments exist."""
    pgs, _ = sides
    rows = pgs.run("SELECT description FROM pg_description WHERE objoid >= 16384 "
                   "ORDER BY 1")[2]
    assert [r[0] for r in rows] == [
        "a check", "a foreign key", "a sequence", "a view", "an index", "column a",
        "it's c", "the pk constraint", "the pk index", "the table", "unique b",
        "view column"]


_PER_TABLE = [n for n, q in QUERIES.items() if q.get("table") == "accounts"]


def test_client_queries_on_a_commented_table(sides):
    """psql \\d+ (col_description), SQLAlchemy's get_columns / table comment / constraint
    comments, pgJDBC's metadata: the captured queries for table t."""
    pgs, ims = sides
    for name in _PER_TABLE:
        _compare(QUERIES[name], pgs, ims, "t")


def _outcome(run, sql):
    try:
        run(sql)
        return "ok"
    except Exception as e:  # psycopg or immusql error: compare SQLSTATE and message
        state = getattr(e, "sqlstate", None)
        text = str(e).split("\n")[0]
        return state, text


@pytest.mark.parametrize("sql", [
    "COMMENT ON TABLE nope IS 'x'",
    "COMMENT ON COLUMN t.nope IS 'x'",
    "COMMENT ON COLUMN nope.a IS 'x'",
    "COMMENT ON COLUMN a IS 'x'",
    "COMMENT ON COLUMN sq3.last_value IS 'x'",
    "COMMENT ON COLUMN t_pkey.id IS 'x'",
    "COMMENT ON TABLE v IS 'x'",
    "COMMENT ON VIEW t IS 'x'",
    "COMMENT ON SEQUENCE t IS 'x'",
    "COMMENT ON INDEX t IS 'x'",
    "COMMENT ON INDEX nope IS 'x'",
    "COMMENT ON MATERIALIZED VIEW v IS 'x'",
    "COMMENT ON CONSTRAINT nope ON t IS 'x'",
    "COMMENT ON CONSTRAINT t_pkey ON v IS 'x'",
    "COMMENT ON SCHEMA nope IS 'x'",
    "COMMENT ON ROLE nope IS 'x'",
    "ALTER INDEX nope RENAME TO x",
    "ALTER INDEX t_a_renamed RENAME TO t",
    "ALTER INDEX t_a_renamed RENAME TO sq3",
    "ALTER SEQUENCE t RENAME TO x",
    "ALTER SEQUENCE nope RENAME TO x",
    "ALTER VIEW t RENAME TO x",
    "ALTER TABLE t RENAME CONSTRAINT nope TO x",
    "ALTER TABLE t RENAME CONSTRAINT a_check TO t_b_uniq",
    "ALTER TABLE t RENAME CONSTRAINT t_pkey TO sq3",
    "ALTER TABLE t RENAME CONSTRAINT t_pkey TO a_check",
    "ALTER TABLE nope RENAME CONSTRAINT a TO b",
    "ALTER TABLE t DROP CONSTRAINT nope",
])
def test_errors(sides, sql):
    pgs, ims = sides
    p = _outcome(pgs.conn.execute, sql)
    i = _outcome(ims.session.execute, sql)
    assert p != "ok" and i == p


def test_drop_primary_key(sides):
    pgs, ims = sides
    script = ["CREATE TABLE k (id int PRIMARY KEY, x text UNIQUE)",
              "INSERT INTO k VALUES (3, 'c'), (1, 'a'), (2, 'b')",
              "CREATE TABLE r (id int REFERENCES k, y text REFERENCES k (x))",
              "INSERT INTO r VALUES (1, 'a')"]
    for sql in script:
        pgs.conn.execute(sql)
        ims.session.execute(sql)
    for sql in ("ALTER TABLE k DROP CONSTRAINT k_pkey", "ALTER TABLE k DROP CONSTRAINT k_x_key"):
        p, i = _outcome(pgs.conn.execute, sql), _outcome(ims.session.execute, sql)
        assert p[0] == "2BP01" and i == p
    for sql in ("ALTER TABLE k DROP CONSTRAINT k_pkey CASCADE",
                "INSERT INTO k VALUES (1, 'dup')", "INSERT INTO r VALUES (99, 'b')"):
        pgs.conn.execute(sql)
        ims.session.execute(sql)
    for sql in ("SELECT conname, contype FROM pg_constraint WHERE conrelid IN "
                "('k'::regclass, 'r'::regclass) ORDER BY 1",
                "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'k'::regclass "
                "AND attnum > 0 ORDER BY attnum",
                "SELECT relname FROM pg_class WHERE relname LIKE 'k%' ORDER BY 1",
                "SELECT * FROM k ORDER BY id, x",
                "SELECT * FROM r ORDER BY id"):
        _same(pgs, ims, sql)
    sql = "ALTER TABLE k ADD PRIMARY KEY (id)"
    assert _outcome(ims.session.execute, sql) == _outcome(pgs.conn.execute, sql)
    for sql in ("DELETE FROM k WHERE x = 'dup'", "ALTER TABLE k ADD PRIMARY KEY (id)"):
        pgs.conn.execute(sql)
        ims.session.execute(sql)
    _same(pgs, ims, "SELECT conname, contype FROM pg_constraint WHERE conrelid = "
                    "'k'::regclass ORDER BY 1")

