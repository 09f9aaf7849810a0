"""Session.describe (Parse/Describe without executing) and client-declared parameter types.

The expected types in describe_cases.py are PostgreSQL 15's answers;
tests/sql/test_describe_pg.py asserts them against a real server too.
"""

from __future__ import annotations

import pytest
from describe_cases import CASES, ERRORS, LENIENT, SCHEMA

from immusql import errors
from immusql.parser import ast
from immusql.planner import types as T


@pytest.fixture
def session(engine):
    s = engine.session()
    s.execute(SCHEMA)
    yield s
    s.close()


def described(session, sql, param_types=()):
    d = session.describe(sql, param_types)
    params = [T.format_type(t) for t in d.param_types]
    if d.columns is None:
        return params, None
    return params, [(c.name, T.format_type(c.type), c.column_id if c.table_id else 0)
                    for c in d.columns]


def one(session, sql, params=(), param_types=None):
    return session.execute(sql, params, param_types)[0].rows


# ------------------------------------------------------------------ inferred types -----
@pytest.mark.parametrize("sql,params,columns", CASES, ids=[c[0] for c in CASES])
def test_inferred_types_and_columns(session, sql, params, columns):
    assert described(session, sql) == (params, columns)


@pytest.mark.parametrize("sql,sqlstate,params", LENIENT, ids=[c[0] for c in LENIENT])
def test_untypable_parameters_are_text(session, sql, sqlstate, params):
    assert described(session, sql)[0] == params


@pytest.mark.parametrize("sql,sqlstate", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_carry_sqlstates_as_execution(session, sql, sqlstate):
    with pytest.raises(errors.Error) as described_error:
        session.describe(sql)
    assert described_error.value.sqlstate == sqlstate
    if sql == "SELECT * FROM t WHERE a = $1 OR id = $1":
        return  # executed with an untyped str, each $1 is typed where it stands
    n = sql.count("$")
    with pytest.raises(errors.Error) as executed_error:
        session.execute(sql, ["1"] * n)
    assert executed_error.value.sqlstate == sqlstate


def test_columns_are_the_ones_execution_gives(session):
    for sql, params in [("SELECT id, a AS x, c FROM t WHERE id = $1", [1]),
                        ("INSERT INTO u (name) VALUES ($1) RETURNING *", ["a"]),
                        ("UPDATE u SET n = $1 RETURNING id, n + 1, name", [5]),
                        ("DELETE FROM u WHERE name = $1 RETURNING n", ["a"]),
                        ("SHOW TimeZone", []), ("EXPLAIN SELECT * FROM u", [])]:
        assert session.describe(sql).columns == session.execute(sql, params)[0].columns


def test_returning_columns_name_their_table_columns(session, engine):
    d = session.describe("INSERT INTO u (name) VALUES ($1) RETURNING name, id, n + 1 AS m")
    tx = engine.store.transaction()
    rel = session.catalog_for(tx).find(ast.Name(("u",)), ("public",))
    tx.rollback()
    name, id_, m = d.columns
    assert (name.table_id, name.column_id) == (rel.id, rel.column("name").id)
    assert (id_.table_id, id_.column_id) == (rel.id, rel.column("id").id)
    assert (m.table_id, m.column_id) == (0, 0)
    assert [c.type for c in d.columns] == [T.TEXT, T.INT4, T.INT4]


def test_declared_types_are_kept_and_counted(session):
    assert described(session, "SELECT * FROM t WHERE id = $1", [T.INT8])[0] == ["bigint"]
    assert described(session, "SELECT $1, $2", [T.UNKNOWN, T.INT4]) == (
        ["text", "integer"], [("?column?", "text", 0), ("?column?", "integer", 0)])
    # more declared than used: all reported, as PostgreSQL does
    assert described(session, "SELECT 1", [T.INT4, T.UNKNOWN])[0] == ["integer", "text"]
    assert described(session, "SELECT $2 + 1")[0] == ["text", "integer"]


def test_describe_text_holds_at_most_one_statement(session):
    with pytest.raises(errors.SyntaxError):
        session.describe("SELECT 1; SELECT 2")
    d = session.describe("")
    assert d.param_types == [] and d.columns is None


# ------------------------------------------------------------------ no side effects ----
def test_describe_has_no_side_effects(session, engine):
    session.execute("INSERT INTO u (name) VALUES ('first')")  # u's sequence now at 1
    state, last = engine.store.state(), engine.store.last_committed
    for sql in ["SELECT nextval('s')", "INSERT INTO u (name) VALUES ($1) RETURNING id",
                "INSERT INTO u DEFAULT VALUES", "INSERT INTO u (name) SELECT nextval('s')::text",
                "INSERT INTO t (id) VALUES (nextval('s'))",
                "UPDATE u SET n = nextval('s') RETURNING n", "DELETE FROM u",
                "SELECT setval('s', 100)", "EXPLAIN ANALYZE SELECT nextval('s')",
                "WITH x AS (SELECT nextval('s')) SELECT 1",
                "INSERT INTO u (name) VALUES ('x') ON CONFLICT (name) DO UPDATE SET n = 1",
                "TRUNCATE u", "DROP TABLE t", "CREATE TABLE z (a int)", "SET timezone = 'X'"]:
        session.describe(sql)
    assert engine.store.state() == state and engine.store.last_committed == last
    assert session.settings["timezone"] == "UTC"
    assert one(session, "SELECT nextval('s')") == [(1,)]
    assert one(session, "INSERT INTO u (name) VALUES ('second') RETURNING id") == [(2,)]
    assert one(session, "SELECT name, n FROM u ORDER BY id") == [("first", None),
                                                               ("second", None)]
    assert one(session, "SELECT count(*) FROM t") == [(0,)]


def test_describe_in_a_block_sees_its_ddl_and_writes_nothing(session, engine):
    session.execute("BEGIN")
    session.execute("CREATE TABLE w (x int8, y text)")
    assert described(session, "INSERT INTO w VALUES ($1, $2) RETURNING y") == (
        ["bigint", "text"], [("y", "text", 2)])
    assert session.transaction_status == "T"
    assert one(session, "SELECT count(*) FROM w") == [(0,)]
    session.execute("COMMIT")
    assert one(session, "SELECT count(*) FROM w") == [(0,)]
    with pytest.raises(errors.UndefinedTable):
        session.describe("SELECT * FROM nosuch")  # outside a block: nothing to fail
    assert session.transaction_status == "I"


def test_failed_blocks_describe_like_postgresql_parse(session):
    session.execute("BEGIN")
    with pytest.raises(errors.UndefinedColumn):
        session.describe("SELECT nosuch FROM t")  # an error in a block fails it
    assert session.transaction_status == "E"
    with pytest.raises(errors.InFailedSqlTransaction):
        session.describe("SELECT 1")
    with pytest.raises(errors.InFailedSqlTransaction):
        session.describe("BEGIN")
    for sql in ("COMMIT", "ROLLBACK", "ROLLBACK TO SAVEPOINT x"):
        assert session.describe(sql).columns is None
    session.execute("ROLLBACK")
    assert session.describe("SELECT 1").columns[0].type == T.INT4


# ------------------------------------------------------------------ declared at execution
def test_declared_types_at_execution(session):
    session.execute("INSERT INTO t (id, a) VALUES (1, 'one'), (2, 'two')")
    assert one(session, "SELECT pg_typeof($1)::text", [5]) == [("smallint",)]
    assert one(session, "SELECT pg_typeof($1)::text", [5], [T.INT4]) == [("integer",)]
    assert one(session, "SELECT pg_typeof($1)::text", ["x"], [T.TEXT]) == [("text",)]
    assert one(session, "SELECT pg_typeof($1)::text", [None], [T.INT8]) == [("bigint",)]
    res = session.execute("SELECT $1", ["x"], [T.TEXT])[0]
    assert res.columns[0].type == T.TEXT and res.rows == [("x",)]
    # PostgreSQL: operator does not exist: integer = text
    with pytest.raises(errors.UndefinedFunction) as e:
        session.execute("SELECT a FROM t WHERE id = $1", ["1"], [T.TEXT])
    assert e.value.sqlstate == "42883"
    # undeclared: a str is an unknown literal, typed by its context
    assert one(session, "SELECT a FROM t WHERE id = $1", ["1"]) == [("one",)]
    assert one(session, "SELECT a FROM t WHERE id = $1", ["2"], [T.UNKNOWN]) == [("two",)]
    assert one(session, "SELECT a FROM t WHERE id = $1", [2], [T.INT8]) == [("two",)]


def test_plan_cache_keys_on_declared_types(session):
    sql = "SELECT $1 AS v"
    assert session.execute(sql, [5], [T.INT4])[0].columns[0].type == T.INT4
    assert session.execute(sql, [5], [T.INT8])[0].columns[0].type == T.INT8
    assert session.execute(sql, [5])[0].columns[0].type == T.INT2
    assert session.execute(sql, ["5"], [T.TEXT])[0].columns[0].type == T.TEXT


def test_parameters_read_when_planning_are_not_cached(session):
    session.execute("INSERT INTO t (id) VALUES (1), (2), (3)")
    assert len(one(session, "SELECT id FROM t LIMIT $1", [1])) == 1
    assert len(one(session, "SELECT id FROM t LIMIT $1", [2])) == 2
    sql = "SELECT sum(id) OVER (ORDER BY id ROWS $1 PRECEDING) FROM t"
    assert one(session, sql, ["0"]) == [(1,), (2,), (3,)]
    assert one(session, sql, [1], [T.INT8]) == [(1,), (3,), (5,)]


def test_described_types_then_executed(session):
    """What a wire server does: describe, then bind values of the described types."""
    sql = "INSERT INTO u (name, n) VALUES ($1, $2) RETURNING id, n"
    d = session.describe(sql)
    assert d.param_types == [T.TEXT, T.INT4]
    res = session.execute(sql, ["x", 7], d.param_types)[0]
    assert res.rows == [(1, 7)] and res.columns == d.columns
