"""Parser tests for SQL cursors: DECLARE, FETCH / MOVE in every direction, CLOSE. The
strings psycopg 3's server-side cursors send are here verbatim."""

from __future__ import annotations

import pytest

from immusql import errors
from immusql.parser import parse, parse_one
from immusql.parser.ast import (
    BinaryOp,
    CloseCursor,
    ColumnRef,
    DeclareCursor,
    FetchCursor,
    Param,
    Query,
)


def _error(sql: str) -> errors.Error:
    with pytest.raises(errors.Error) as info:
        parse(sql)
    return info.value


# ------------------------------------------------------------------------ DECLARE --------

@pytest.mark.parametrize("sql,scroll,hold,binary", [
    ('DECLARE "c" CURSOR FOR SELECT 1', None, False, False),
    ('DECLARE "c" SCROLL CURSOR FOR SELECT 1', True, False, False),  # psycopg's forms
    ('DECLARE "c" NO SCROLL CURSOR FOR SELECT 1', False, False, False),
    ('DECLARE "c" CURSOR WITH HOLD FOR SELECT 1', None, True, False),
    ('DECLARE "c" SCROLL CURSOR WITH HOLD FOR SELECT 1', True, True, False),
    ("declare c binary insensitive no scroll cursor without hold for select 1",
     False, False, True),
    ("DECLARE c ASENSITIVE BINARY SCROLL SCROLL CURSOR FOR SELECT 1", True, False, True),
])
def test_declare_options(sql, scroll, hold, binary):
    stmt = parse_one(sql)
    assert isinstance(stmt, DeclareCursor)
    assert (stmt.name, stmt.scroll, stmt.hold, stmt.binary) == ("c", scroll, hold, binary)
    assert stmt.query == parse_one("SELECT 1")


def test_declare_query_forms():
    stmt = parse_one('DECLARE "Big" CURSOR FOR SELECT a FROM t WHERE id = $1')
    assert stmt.name == "Big"
    assert stmt.query.body.where == BinaryOp("=", ColumnRef(("id",)), Param(1))
    for query in ("VALUES (1), (2)", "TABLE t", "(SELECT 1) UNION SELECT 2",
                  "WITH x AS (SELECT 1) SELECT * FROM x", "SELECT 1 ORDER BY 1 LIMIT 3",
                  "SELECT * FROM t FOR UPDATE"):
        declared = parse_one(f"DECLARE c CURSOR FOR {query}").query
        assert isinstance(declared, Query) and declared == parse_one(query)


@pytest.mark.parametrize("sql,message", [
    ("DECLARE c SCROLL NO SCROLL CURSOR FOR SELECT 1",
     "cannot specify both SCROLL and NO SCROLL"),
    ("DECLARE c INSENSITIVE ASENSITIVE CURSOR FOR SELECT 1",
     "cannot specify both ASENSITIVE and INSENSITIVE"),
])
def test_declare_conflicting_options(sql, message):
    err = _error(sql)
    assert (err.sqlstate, err.message) == ("42P11", message)


@pytest.mark.parametrize("sql", [
    "DECLARE c CURSOR FOR INSERT INTO t VALUES (1)",  # a SelectStmt only, as gram.y
    "DECLARE c CURSOR SELECT 1",
    "DECLARE CURSOR FOR SELECT 1",
    "DECLARE c CURSOR WITH FOR SELECT 1",
    "DECLARE c HOLD CURSOR FOR SELECT 1",
    "DECLARE c.d CURSOR FOR SELECT 1",
])
def test_declare_syntax_errors(sql):
    assert _error(sql).sqlstate == "42601"


# ------------------------------------------------------------------------ FETCH / MOVE ---

@pytest.mark.parametrize("words,direction,count", [
    ("", "forward", 1),
    ("NEXT", "forward", 1),
    ("PRIOR", "backward", 1),
    ("FIRST", "absolute", 1),
    ("LAST", "absolute", -1),
    ("ABSOLUTE 3", "absolute", 3),
    ("ABSOLUTE -3", "absolute", -3),
    ("RELATIVE +2", "relative", 2),
    ("RELATIVE -2", "relative", -2),
    ("RELATIVE 0", "relative", 0),
    ("5", "forward", 5),
    ("-5", "forward", -5),
    ("0", "forward", 0),
    ("ALL", "forward", None),
    ("FORWARD", "forward", 1),
    ("FORWARD 7", "forward", 7),
    ("FORWARD -7", "forward", -7),
    ("FORWARD ALL", "forward", None),
    ("BACKWARD", "backward", 1),
    ("BACKWARD 2", "backward", 2),
    ("BACKWARD ALL", "backward", None),
])
@pytest.mark.parametrize("from_in", ["", "FROM ", "in "])
@pytest.mark.parametrize("verb", ["FETCH", "move"])
def test_fetch_and_move_directions(verb, words, from_in, direction, count):
    stmt = parse_one(f"{verb} {words} {from_in}cur")
    assert stmt == FetchCursor("cur", direction, count, move=verb == "move")


def test_psycopg_fetch_and_scroll_statements():
    assert parse_one('FETCH FORWARD 10 FROM "x"') == FetchCursor("x", "forward", 10)
    assert parse_one('FETCH FORWARD ALL FROM "x"') == FetchCursor("x", "forward", None)
    assert parse_one('MOVE -2 FROM "x"') == FetchCursor("x", "forward", -2, move=True)
    assert parse_one('MOVE ABSOLUTE 8 FROM "x"') == FetchCursor("x", "absolute", 8,
                                                                   move=True)


@pytest.mark.parametrize("name", ["next", "prior", "first", "last", "absolute",
                                  "relative", "forward", "backward", "cursor", "scroll"])
def test_direction_words_can_name_cursors(name):
    """Unreserved keywords, as in PostgreSQL: one token of lookahead tells them apart."""
    assert parse_one(f"FETCH {name}") == FetchCursor(name)  # FETCH next: cursor "next"
    assert parse_one(f"FETCH NEXT {name}") == FetchCursor(name)
    assert parse_one(f"FETCH FROM {name}") == FetchCursor(name)
    assert parse_one(f"MOVE BACKWARD {name}") == FetchCursor(name, "backward", move=True)
    assert parse_one(f"CLOSE {name}") == CloseCursor(name)
    assert parse_one(f"DECLARE {name} CURSOR FOR SELECT 1").name == name


def test_new_keywords_stay_usable_as_names():
    words = ("absolute asensitive backward close cursor declare forward hold insensitive "
             "move prior relative scroll").split()
    stmt = parse_one(f"SELECT {', '.join(words)} FROM close AS declare")
    assert [item.expr for item in stmt.body.items] == [ColumnRef((w,)) for w in words]
    assert parse_one("CREATE TABLE cursor (hold int, scroll text)").name.parts == ("cursor",)


@pytest.mark.parametrize("sql", [
    "FETCH", "FETCH FROM", "FETCH ABSOLUTE c", "FETCH RELATIVE ALL c",
    "FETCH ALL ALL c", "FETCH 1.5 c", "FETCH NEXT 2 c", "MOVE", "FETCH c d",
    "FETCH FROM IN c",
])
def test_fetch_syntax_errors(sql):
    assert _error(sql).sqlstate == "42601"


# ------------------------------------------------------------------------ CLOSE ----------

def test_close():
    assert parse_one('CLOSE "x"') == CloseCursor("x")
    assert parse_one("close all") == CloseCursor(None)
    assert parse_one('CLOSE "all"') == CloseCursor("all")
    assert _error("CLOSE").sqlstate == "42601"
    assert _error("CLOSE a, b").sqlstate == "42601"


def test_positions():
    stmts = parse("SELECT 1; DECLARE c CURSOR FOR SELECT 2; FETCH c; MOVE c; CLOSE c")
    assert [s.pos for s in stmts[1:]] == [10, 41, 50, 58]
