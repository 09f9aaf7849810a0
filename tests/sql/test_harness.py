"""The harness itself: it must catch every kind of difference, and only real ones.

Most tests feed `Comparator` fake DB-API connections with scripted answers, so they run
without PostgreSQL or immusql; the last ones check the private server and the generator
against the real PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal
from pathlib import Path

import generator
import pytest
import sqlscript
from pg import PostgresError, PostgresServer, find_binaries
from pgvalues import Interval, normalise, parse_interval
from runner import Comparator, Outcome, execute
from sqlscript import FixtureError, is_ordered, split

INT4, INT8, TEXT, NUMERIC = 23, 20, 25, 1700


# -- fakes ---------------------------------------------------------------------------------
class FakeError(Exception):
    def __init__(self, sqlstate, message="boom"):
        super().__init__(message)
        self.sqlstate = sqlstate


class FakeCursor:
    def __init__(self, answers):
        self.answers = answers
        self.description = None
        self.rowcount = -1
        self._rows = []

    def execute(self, sql, params=None):
        answer = self.answers[sql]
        if isinstance(answer, Exception):
            raise answer
        columns, rows, self.rowcount = answer
        if columns is None:
            self.description, self._rows = None, []
        else:
            self.description = [(name, oid, None, None, None, None, None)
                                for name, oid in columns]
            self._rows = list(rows)

    def fetchall(self):
        rows, self._rows = self._rows, []
        return rows

    def close(self):
        pass


class FakeConnection:
    """Answers each SQL text from a dict: (columns, rows, rowcount) or an exception."""

    def __init__(self, answers):
        self.answers = answers

    def cursor(self):
        return FakeCursor(self.answers)


def rows(*data, columns=(("a", INT4),)):
    return (list(columns), list(data), len(data))


def compare_one(pg_answer, immu_answer, sql="SELECT a FROM t", ordered=None):
    stmt = split(sql + ";")[0]
    if ordered is not None:
        stmt.ordered = ordered
    c = Comparator(FakeConnection({sql: pg_answer}), FakeConnection({sql: immu_answer}))
    return c.statement(stmt)


# -- the comparison ------------------------------------------------------------------------
def test_identical_results_agree():
    r = compare_one(rows((1,), (2,)), rows((1,), (2,)))
    assert r.problems == []


def test_a_different_row_is_caught():
    r = compare_one(rows((1,), (2,)), rows((1,), (3,)))
    assert r.problems == ["rows differ (compared as a multiset)"]


def test_a_missing_duplicate_is_caught():
    r = compare_one(rows((1,), (1,)), rows((1,),))
    assert r.problems


def test_a_different_sqlstate_is_caught():
    sql = "SELECT 1/0"
    r = compare_one(FakeError("22012"), FakeError("22003"), sql)
    assert r.problems == ["SQLSTATE differs: postgresql 22012, immusql 22003"]


def test_same_sqlstate_with_other_message_agrees():
    r = compare_one(FakeError("22012", "division by zero"), FakeError("22012", "x / 0"))
    assert r.problems == []
    assert r.pg.error == "FakeError: division by zero"


def test_error_on_one_side_only_is_caught():
    assert compare_one(FakeError("23505"), (None, [], 1)).problems
    assert compare_one((None, [], 1), FakeError("23505")).problems


def test_an_exception_without_sqlstate_never_matches():
    r = compare_one(FakeError("XX000"), TypeError("engine bug"))
    assert r.problems and r.immu.sqlstate is None


def test_a_different_type_oid_is_caught():
    r = compare_one(rows((1,), columns=[("a", INT4)]), rows((1,), columns=[("a", INT8)]))
    assert r.problems == ["type OIDs differ: [int4(23)] vs [int8(20)]"]


def test_a_different_column_name_is_caught():
    r = compare_one(rows((1,), columns=[("a", INT4)]), rows((1,), columns=[("b", INT4)]))
    assert r.problems == ["column names differ: ['a'] vs ['b']"]


def test_order_matters_with_top_level_order_by():
    sql = "SELECT a FROM t ORDER BY a"
    r = compare_one(rows((1,), (2,)), rows((2,), (1,)), sql)
    assert r.problems == ["rows differ (compared in order)"]


def test_order_does_not_matter_without_order_by():
    assert compare_one(rows((1,), (2,)), rows((2,), (1,))).problems == []


def test_ordered_directive_forces_order():
    sql = "SELECT a FROM t"
    r = compare_one(rows((1,), (2,)), rows((2,), (1,)), sql, ordered=True)
    assert r.problems


def test_unordered_directive_overrides_order_by():
    sql = "SELECT a FROM t ORDER BY a"
    assert compare_one(rows((1,), (2,)), rows((2,), (1,)), sql, ordered=False).problems == []


def test_rowcount_of_commands_is_compared():
    sql = "UPDATE t SET a = 1"
    assert compare_one((None, [], 2), (None, [], 3), sql).problems == [
        "rowcount differs: postgresql 2, immusql 3"]
    assert compare_one((None, [], -1), (None, [], -1), "CREATE TABLE t (a int)").problems == []


def test_returning_rows_and_rowcount_are_compared():
    sql = "INSERT INTO t VALUES (1) RETURNING a"
    assert compare_one(rows((1,)), rows((2,)), sql).problems
    bad_count = (list([("a", INT4)]), [(1,)], 5)
    assert compare_one(rows((1,)), bad_count, sql).problems


def test_rows_versus_no_rows_is_caught():
    assert compare_one(rows((1,)), (None, [], 1)).problems


def test_numeric_scale_float_sign_and_bool_are_exact():
    num = [("a", NUMERIC)]
    assert compare_one(rows((Decimal("1.0"),), columns=num),
                       rows((Decimal("1.00"),), columns=num)).problems
    assert compare_one(rows((0.0,)), rows((-0.0,))).problems
    assert compare_one(rows((float("nan"),)), rows((float("nan"),))).problems == []
    assert compare_one(rows((True,)), rows((1,))).problems


def test_diff_report_names_line_and_both_results():
    pg = FakeConnection({"SELECT a FROM t ORDER BY a": rows((1,), (2,))})
    immu = FakeConnection({"SELECT a FROM t ORDER BY a": rows((1,), (3,))})
    result = Comparator(pg, immu).sql("-- first\n\nSELECT a FROM t ORDER BY a;\n", "x.sql")
    text = result.report()
    assert "x.sql:3: rows differ (compared in order)" in text
    assert "-(2)" in text and "+(3)" in text


def test_diff_names_the_columns_that_differ():
    cols = [("a", INT4), ("b", TEXT)]
    pg = FakeConnection({"SELECT a, b FROM t": rows((1, "x"), columns=cols)})
    immu = FakeConnection({"SELECT a, b FROM t": rows((1, "y"), columns=cols)})
    assert "columns that differ: b" in Comparator(pg, immu).sql("SELECT a, b FROM t;").report()


def test_skip_immusql_runs_on_both_in_self_mode():
    pg = FakeConnection({"SET x = 1": (None, [], -1)})
    result = Comparator(pg, FakeConnection({"SET x = 1": (None, [], -1)}), self_mode=True).sql(
        "-- skip-immusql: PG only\nSET x = 1;\n")
    assert result.records[0].immu is not None and result.mismatches == []


def test_a_failing_skip_immusql_statement_is_a_fixture_error():
    pg = FakeConnection({"SET x = 1": FakeError("42704")})
    result = Comparator(pg, FakeConnection({})).sql("-- skip-immusql: PG only\nSET x = 1;\n")
    assert "fixture error" in result.mismatches[0].problems[0]


def test_a_client_side_failure_on_postgresql_is_a_fixture_error():
    r = compare_one(ValueError("date too large"), ValueError("date too large"))
    assert r.problems and "fixture error" in r.problems[0]


def test_comparison_goes_on_after_an_error():
    answers = {"BEGIN": (None, [], -1), "SELECT 1/0": FakeError("22012"),
               "SELECT 1": FakeError("25P02"), "ROLLBACK": (None, [], -1)}
    immu = dict(answers, **{"SELECT 1": rows((1,), columns=[("?column?", INT4)])})
    result = Comparator(FakeConnection(answers), FakeConnection(immu)).sql(
        "BEGIN;\nSELECT 1/0;\nSELECT 1;\nROLLBACK;\n")
    assert [r.stmt.line for r in result.mismatches] == [3]
    assert len(result.records) == 4


def test_skip_immusql_runs_on_postgresql_only():
    pg = FakeConnection({"SET x = 1": (None, [], -1)})
    result = Comparator(pg, FakeConnection({})).sql("-- skip-immusql: PG only\nSET x = 1;\n")
    assert result.mismatches == [] and result.records[0].immu is None


def test_execute_captures_description_rows_and_errors():
    conn = FakeConnection({"SELECT a FROM t": rows((1,)), "bad": FakeError("42601", "syntax")})
    out = execute(conn, split("SELECT a FROM t;")[0])
    assert (out.columns, out.type_oids, out.rows) == (["a"], [INT4], [(1,)])
    err = execute(conn, split("bad;")[0])
    assert (err.sqlstate, err.error) == ("42601", "FakeError: syntax")
    assert isinstance(out, Outcome) and not out.failed and err.failed


# -- values --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("00:00:00", (0, 0, 0)),
    ("1 day", (0, 1, 0)),
    ("1 mon", (1, 0, 0)),
    ("30 days", (0, 30, 0)),
    ("720:00:00", (0, 0, 720 * 3600 * 10**6)),
    ("1 year 2 mons 3 days 04:05:06.5", (14, 3, (4 * 3600 + 5 * 60 + 6) * 10**6 + 500000)),
    ("-1 years -2 mons +3 days -04:05:06", (-14, 3, -(4 * 3600 + 5 * 60 + 6) * 10**6)),
    ("-00:00:00.000001", (0, 0, -1)),
    ("2 years", (24, 0, 0)),
])
def test_parse_interval(text, expected):
    assert parse_interval(text) == Interval(*expected)


def test_interval_shapes_normalise_alike():
    class EngineInterval:
        months, days, microseconds = 1, 2, 3

    assert normalise(EngineInterval()) == normalise(Interval(1, 2, 3))
    assert normalise(dt.timedelta(days=1, seconds=1)) == normalise(parse_interval("1 day 00:00:01"))
    assert normalise(parse_interval("1 mon")) != normalise(parse_interval("30 days"))
    assert normalise(parse_interval("1 day")) != normalise(parse_interval("24:00:00"))


def test_normalise_other_values():
    utc = dt.timezone.utc
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert normalise(dt.datetime(2024, 1, 1, 12, tzinfo=utc)) == \
        normalise(dt.datetime(2024, 1, 1, 14, tzinfo=plus2))
    assert normalise(dt.datetime(2024, 1, 1, 12)) != normalise(dt.datetime(2024, 1, 1, 12,
                                                                          tzinfo=utc))
    assert normalise([1, [2, None]]) == ("array", (("int", 1), ("array", (("int", 2), None))))
    assert normalise((1, 2)) == normalise([1, 2])
    u = uuid.UUID(int=5)
    assert normalise(u) == ("uuid", str(u))
    assert normalise(memoryview(b"ab")) == normalise(b"ab")
    assert normalise("1") != normalise(1)
    assert normalise(dt.date(2024, 1, 1)) != normalise(dt.datetime(2024, 1, 1))
    hash(normalise([Decimal("NaN"), float("nan"), {"a"} and "x"]))


# -- the fixture format --------------------------------------------------------------------
def test_split_handles_quotes_comments_and_dollar_bodies():
    text = (
        "-- header\n"
        "SELECT 'a;'\n"
        "  , \"x;\" FROM t; -- trailing comment\n"
        "\n"
        "/* block ; */ SELECT E'it\\'s;';\n"
        "CREATE FUNCTION f() RETURNS int AS $$\n"
        "  SELECT 1;\n"
        "$$ LANGUAGE sql;\n"
        "DO $body$ BEGIN PERFORM 1; END $body$;\n"
        "SELECT 'it''s;' || $1;\n"
    )
    stmts = split(text, "s.sql")
    assert [s.line for s in stmts] == [2, 5, 6, 9, 10]
    assert stmts[0].sql == "SELECT 'a;'\n  , \"x;\" FROM t"
    assert stmts[2].sql.endswith("$$ LANGUAGE sql")
    assert stmts[3].sql == "DO $body$ BEGIN PERFORM 1; END $body$"


def test_split_reads_directives():
    text = ("-- ordered\nSELECT 1;\n-- unordered\n-- just prose\nSELECT 2 ORDER BY 1;\n"
            "-- skip-immusql: only PG\nSET a = 1;\n-- params: [1, \"x\"]\nSELECT %s, %s;\n")
    a, b, c, d = split(text)
    assert (a.ordered, b.ordered, c.skip_immusql, d.params) == (True, False, "only PG", [1, "x"])
    assert a.rows_ordered() and not b.rows_ordered()


@pytest.mark.parametrize("text", [
    "SELECT 1; SELECT 2;\n",           # two statements on one line
    "SELECT 1\n",                       # unterminated
    "SELECT 'abc;\n",                   # unterminated string
    "SELECT 1;\n-- ordered\n",          # directive for nothing
    "-- skip-immusql\nSELECT 1;\n",     # no reason
    "-- params: nope\nSELECT 1;\n",
    "SELECT $$ x;\n",
])
def test_split_rejects_malformed_fixtures(text):
    with pytest.raises(FixtureError):
        split(text)


@pytest.mark.parametrize("sql, ordered", [
    ("SELECT a FROM t ORDER BY a", True),
    ("select a from t\norder\n  by a desc limit 3", True),
    ("SELECT a FROM t", False),
    ("SELECT * FROM (SELECT a FROM t ORDER BY a) s", False),
    ("SELECT row_number() OVER (ORDER BY a) FROM t", False),
    ("SELECT string_agg(a, ',' ORDER BY a) FROM t", False),
    ("SELECT 'order by' FROM t", False),
    ("SELECT a FROM t -- order by a\n", False),
    ("WITH c AS (SELECT 1 AS a) SELECT a FROM c ORDER BY a", True),
    ("SELECT 1 UNION SELECT 2 ORDER BY 1", True),
    ('SELECT "order by" FROM t', False),
])
def test_is_ordered(sql, ordered):
    assert is_ordered(sql) is ordered


def test_every_fixture_parses():
    fixtures = sorted((Path(__file__).resolve().parent / "fixtures").glob("*.sql"))
    assert fixtures
    for path in fixtures:
        assert sqlscript.load(path), path.name


# -- generator -----------------------------------------------------------------------------
def test_generator_is_deterministic_and_prefix_stable():
    a = [s.sql for s in generator.queries(7, 50)]
    assert a == [s.sql for s in generator.queries(7, 50)]
    assert a[:20] == [s.sql for s in generator.queries(7, 20)]
    assert a != [s.sql for s in generator.queries(8, 50)]
    assert all(s.ordered for s in generator.queries(7, 50))


def test_generated_queries_mostly_succeed_and_raise_only_expected_errors(pg):
    for stmt in generator.schema_statements():
        pg.execute(stmt.sql)
    outcomes = [execute(pg, s) for s in generator.queries(3, 200)]
    errors = {o.sqlstate for o in outcomes if o.failed}
    assert errors <= {"22003", "22012", "22P02"}, [o.error for o in outcomes if o.failed]
    assert errors == {"22003", "22012", "22P02"}
    with_rows = sum(1 for o in outcomes if not o.failed and o.rows)
    assert with_rows > 0.6 * len(outcomes)


# -- the private server --------------------------------------------------------------------
def test_missing_binaries_say_how_to_install(tmp_path):
    with pytest.raises(PostgresError, match="apt-get install"):
        find_binaries(tmp_path)


def test_server_starts_serves_and_stops_only_itself():
    import psycopg
    server = PostgresServer().start()
    base, pid = server.base, server._postmaster_pid
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            settings = conn.execute("SELECT current_setting('TimeZone'), "
                                    "current_setting('DateStyle'), "
                                    "current_setting('server_encoding'), "
                                    "current_setting('lc_collate'), "
                                    "current_setting('server_version_num')::int / 10000"
                                    ).fetchone()
        assert settings == ("UTC", "ISO, MDY", "UTF8", "C", 15)
    finally:
        server.stop()
    assert not base.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    server.stop()  # idempotent


def test_server_moves_to_another_port_when_its_port_is_taken(monkeypatch):
    import socket

    import pg
    import psycopg
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = iter([taken.getsockname()[1]])
    real_free_port = pg.free_port
    monkeypatch.setattr(pg, "free_port", lambda: next(ports, None) or real_free_port())
    try:
        with PostgresServer() as server:
            assert server.port != taken.getsockname()[1]
            with psycopg.connect(server.conninfo(), autocommit=True) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        taken.close()
