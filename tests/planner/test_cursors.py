"""SQL cursors in the engine: DECLARE / FETCH / MOVE / CLOSE through the Session and the
DB-API. tests/sql/test_cursors_pg.py checks the same statements against PostgreSQL 15;
this file covers what a differential test cannot see: streaming (rows are pulled as
FETCH reaches them), the snapshot the cursor reads, parameters, Describe, the life cycle
of cursors across transactions, savepoints and the session."""

from __future__ import annotations

import pytest

import immusql
from immusql import errors

ROWS = 50


@pytest.fixture
def session(engine):
    s = engine.session()
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v text); "
              f"INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, {ROWS}) g")
    yield s
    s.close()


def run(session, sql, params=()):
    return session.execute(sql, params)[-1]


def rows(session, sql, params=()):
    return run(session, sql, params).rows


def ids(session, sql):
    return [r[0] for r in rows(session, sql)]


def sqlstate(session, sql) -> str:
    with pytest.raises(errors.Error) as info:
        session.execute(sql)
    return info.value.sqlstate


# ------------------------------------------------------------------ basics --------------

def test_declare_fetch_move_close_tags_and_columns(session):
    assert run(session, "BEGIN").tag == "BEGIN"
    result = run(session, "DECLARE c CURSOR FOR SELECT id, upper(v) AS big FROM t "
                          "ORDER BY id DESC")
    assert (result.tag, result.columns, result.rows) == ("DECLARE CURSOR", None, [])
    result = run(session, "FETCH 2 FROM c")
    assert (result.tag, result.rowcount) == ("FETCH 2", 2)
    assert [(c.name, c.type.name) for c in result.columns] == [("id", "integer"),
                                                                ("big", "text")]
    assert result.rows == [(50, "V50"), (49, "V49")]
    result = run(session, "MOVE FORWARD 10 IN c")
    assert (result.tag, result.columns, result.rowcount) == ("MOVE 10", None, 10)
    assert rows(session, "FETCH c") == [(38, "V38")]
    assert run(session, "FETCH ABSOLUTE 60 c").tag == "FETCH 0"
    assert rows(session, "FETCH PRIOR c") == [(1, "V1")]
    assert run(session, "CLOSE c").tag == "CLOSE CURSOR"
    assert sqlstate(session, "FETCH c") == "34000"
    session.execute("ROLLBACK")


def test_every_direction(session):
    session.execute("BEGIN; DECLARE c SCROLL CURSOR FOR SELECT id FROM t WHERE id <= 5 "
                    "ORDER BY id")
    # (statement, tag, ids): PostgreSQL 15's answers
    for sql, tag, expected in [
        ("FETCH 2 c", "FETCH 2", [1, 2]), ("FETCH PRIOR c", "FETCH 1", [1]),
        ("FETCH LAST c", "FETCH 1", [5]), ("FETCH NEXT c", "FETCH 0", []),
        ("FETCH PRIOR c", "FETCH 1", [5]), ("FETCH ABSOLUTE -2 c", "FETCH 1", [4]),
        ("FETCH RELATIVE 0 c", "FETCH 1", [4]), ("FETCH 0 c", "FETCH 1", [4]),
        ("MOVE 0 c", "MOVE 1", None), ("MOVE ALL c", "MOVE 1", None),
        ("MOVE BACKWARD ALL c", "MOVE 5", None), ("FETCH BACKWARD 2 c", "FETCH 0", []),
        ("FETCH FORWARD ALL c", "FETCH 5", [1, 2, 3, 4, 5]),
        ("FETCH -2 c", "FETCH 2", [5, 4]), ("FETCH ABSOLUTE 0 c", "FETCH 0", []),
        ("FETCH ABSOLUTE 7 c", "FETCH 0", []), ("FETCH PRIOR c", "FETCH 1", [5]),
        ("FETCH FIRST c", "FETCH 1", [1]), ("FETCH RELATIVE 3 c", "FETCH 1", [4]),
        ("FETCH RELATIVE -2 c", "FETCH 1", [2]), ("FETCH BACKWARD ALL c", "FETCH 1", [1]),
        ("FETCH ALL c", "FETCH 5", [1, 2, 3, 4, 5]),
    ]:
        result = run(session, sql)
        assert result.tag == tag, sql
        assert (None if result.columns is None else [r[0] for r in result.rows]) == \
            expected, sql
    session.execute("ROLLBACK")


def test_errors(session):
    assert sqlstate(session, "DECLARE c CURSOR FOR SELECT 1") == "25P01"
    assert sqlstate(session, "DECLARE c CURSOR FOR SELECT * FROM nosuch") == "42P01"
    for sql in ("FETCH c", "MOVE c", "CLOSE c"):
        assert sqlstate(session, sql) == "34000"
    assert run(session, "CLOSE ALL").tag == "CLOSE CURSOR ALL"
    session.execute("BEGIN; DECLARE c CURSOR FOR SELECT 1")
    with pytest.raises(errors.DuplicateCursor, match='cursor "c" already exists'):
        session.execute("DECLARE c CURSOR FOR SELECT 2")
    assert session.failed
    session.execute("ROLLBACK")
    session.execute("BEGIN; DECLARE c NO SCROLL CURSOR FOR SELECT id FROM t")
    session.execute("FETCH 2 c")
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as info:
        session.execute("FETCH PRIOR c")
    assert (info.value.sqlstate, info.value.message, info.value.hint) == (
        "55000", "cursor can only scan forward",
        "Declare it with SCROLL option to enable backward scan.")
    session.execute("ROLLBACK")


def test_query_errors_surface_at_fetch_and_fail_the_cursor(session):
    session.execute("BEGIN; DECLARE c CURSOR FOR SELECT 10 / (g - 3) FROM "
                    "generate_series(1, 5) g")
    assert rows(session, "FETCH 2 c") == [(-5,), (-10,)]
    session.execute("SAVEPOINT s")
    assert sqlstate(session, "FETCH c") == "22012"
    session.execute("ROLLBACK TO s")
    with pytest.raises(errors.ObjectNotInPrerequisiteState, match='portal "c" cannot be run'):
        session.execute("FETCH c")
    session.execute("ROLLBACK")


# ------------------------------------------------------------------ streaming -----------

def test_rows_are_pulled_as_fetch_reaches_them(session):
    session.execute("BEGIN")
    # a billion rows: materialising them at DECLARE would not finish
    session.execute("DECLARE big CURSOR FOR SELECT g, g * 2 FROM "
                    "generate_series(1, 1000000000) g")
    assert rows(session, "FETCH 3 big") == [(1, 2), (2, 4), (3, 6)]
    assert run(session, "MOVE 1000 big").tag == "MOVE 1000"
    assert rows(session, "FETCH big") == [(1004, 2008)]
    session.execute("DECLARE c CURSOR FOR SELECT id, v FROM t WHERE id % 2 = 0")
    session.execute("FETCH 3 c")
    cursor = session.cursors["c"]
    assert len(cursor.rows.buf) == 3 and cursor.rows.it is not None
    session.execute("FETCH PRIOR c")  # backward: served from the rows kept
    assert len(cursor.rows.buf) == 3
    session.execute("ROLLBACK")


def test_no_scroll_cursors_keep_no_rows_behind(session):
    session.execute("BEGIN; DECLARE n NO SCROLL CURSOR FOR SELECT id FROM t")
    assert run(session, "MOVE 40 n").tag == "MOVE 40"
    assert session.cursors["n"].rows.buf == []
    assert ids(session, "FETCH 3 n") == [41, 42, 43]
    assert session.cursors["n"].rows.buf == []
    assert ids(session, "FETCH ABSOLUTE 45 n") == [45]  # forward: allowed
    assert ids(session, "FETCH ALL n") == [46, 47, 48, 49, 50]
    session.execute("ROLLBACK")


# ------------------------------------------------------------------ snapshot ------------

def test_cursor_sees_the_transaction_as_of_declare(session):
    session.execute("BEGIN; INSERT INTO t VALUES (0, 'own write before')")
    session.execute("DECLARE c CURSOR FOR SELECT id, v FROM t WHERE id < 4 ORDER BY id")
    session.execute("DECLARE s CURSOR FOR SELECT id, v FROM t WHERE id < 4")  # streams
    session.execute("UPDATE t SET v = 'changed' WHERE id = 1; DELETE FROM t WHERE id = 2; "
                    "INSERT INTO t VALUES (-1, 'own write after')")
    expected = [(0, "own write before"), (1, "v1"), (2, "v2"), (3, "v3")]
    assert rows(session, "FETCH ALL c") == expected
    assert rows(session, "FETCH ALL s") == expected
    assert rows(session, "SELECT id, v FROM t WHERE id < 4 ORDER BY id") == [
        (-1, "own write after"), (0, "own write before"), (1, "changed"), (3, "v3")]
    session.execute("ROLLBACK")


def test_cursor_does_not_see_later_commits_of_others(engine, session):
    other = engine.session()
    session.execute("BEGIN; DECLARE c CURSOR FOR SELECT count(*), sum(id) FROM t")
    session.execute("DECLARE d CURSOR FOR SELECT id FROM t WHERE id > 48")
    other.execute("INSERT INTO t VALUES (100, 'other'); DELETE FROM t WHERE id = 49")
    assert rows(session, "FETCH c") == [(ROWS, ROWS * (ROWS + 1) // 2)]
    assert ids(session, "FETCH ALL d") == [49, 50]
    session.execute("COMMIT")  # reading through a cursor is no conflict
    assert ids(session, "SELECT id FROM t WHERE id > 48") == [50, 100]
    other.close()


# ------------------------------------------------------------------ parameters ----------

def test_parameters_of_the_declared_query(session):
    session.execute("BEGIN")
    session.execute("DECLARE c CURSOR FOR SELECT id, v FROM t WHERE id > $1 AND v <> $2 "
                    "ORDER BY id", [45, "v47"])
    assert ids(session, "FETCH ALL c") == [46, 48, 49, 50]
    session.execute("ROLLBACK")


def test_dbapi_cursors(tmp_path):
    conn = immusql.connect(tmp_path / "api")  # a block starts at the first statement
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id int PRIMARY KEY)")
    cur.execute("INSERT INTO t SELECT g FROM generate_series(1, 9) g")
    cur.execute("DECLARE c CURSOR FOR SELECT id FROM t WHERE id >= %s ORDER BY id", (4,))
    assert cur.statusmessage == "DECLARE CURSOR"
    cur.execute("FETCH FORWARD 2 FROM c")
    assert (cur.statusmessage, cur.rowcount, cur.fetchall()) == ("FETCH 2", 2, [(4,), (5,)])
    assert [d.name for d in cur.description] == ["id"]
    cur.execute("MOVE -1 FROM c")
    assert (cur.statusmessage, cur.description) == ("MOVE 1", None)
    cur.execute("FETCH 1 FROM c")
    assert cur.fetchall() == [(5,)]
    cur.execute("DECLARE h CURSOR WITH HOLD FOR SELECT id FROM t ORDER BY id DESC")
    conn.commit()  # closes c, materialises h
    with pytest.raises(errors.InvalidCursorName):
        cur.execute("FETCH c")
    conn.rollback()
    cur.execute("FETCH 2 h")
    assert cur.fetchall() == [(9,), (8,)]
    conn.close()


# ------------------------------------------------------------------ describe ------------

def test_describe(session):
    d = session.describe("DECLARE c CURSOR FOR SELECT v FROM t WHERE id = $1")
    assert ([t.name for t in d.param_types], d.columns) == (["integer"], None)
    assert not session.cursors  # describing runs nothing
    session.execute("BEGIN")
    d = session.describe("FETCH 5 FROM c")
    assert d.columns is None and not session.failed  # no such cursor: no columns, no error
    session.execute("DECLARE c CURSOR FOR SELECT id, v || '!' AS loud FROM t")
    d = session.describe("FETCH 5 FROM c")
    assert [(c.name, c.type.name) for c in d.columns] == [("id", "integer"),
                                                          ("loud", "text")]
    assert session.describe("MOVE 5 FROM c").columns is None
    assert session.describe("CLOSE c").columns is None
    assert session.cursors["c"].pos == 0  # nothing moved
    session.execute("ROLLBACK")


# ------------------------------------------------------------------ life cycle ----------

def test_transaction_end_closes_cursors(session):
    session.execute("BEGIN; DECLARE c CURSOR FOR SELECT id FROM t; FETCH c")
    view = session.cursors["c"].view
    session.execute("COMMIT")
    assert session.cursors == {} and view._done
    session.execute("BEGIN; DECLARE c CURSOR WITH HOLD FOR SELECT id FROM t; ROLLBACK")
    assert session.cursors == {}


def test_with_hold_is_materialised_at_commit(session):
    session.execute("BEGIN; DECLARE h SCROLL CURSOR WITH HOLD FOR SELECT id FROM t "
                    "ORDER BY id; FETCH 2 h")
    cursor = session.cursors["h"]
    assert cursor.rows.it is not None and cursor.view is not None
    session.execute("COMMIT")
    assert cursor.rows.it is None and cursor.view is None
    assert len(cursor.rows.buf) == ROWS
    session.execute("DELETE FROM t WHERE id = 3")
    assert ids(session, "FETCH 2 h") == [3, 4]  # from the rows kept, after the commit
    assert ids(session, "FETCH BACKWARD 10 h") == [3, 2, 1]
    session.execute("BEGIN; FETCH LAST h; ROLLBACK")  # held from before: survives
    assert ids(session, "FETCH PRIOR h") == [49]
    session.execute("CLOSE h")
    assert session.cursors == {}


def test_with_hold_outside_a_block(session):
    result = run(session, "DECLARE h NO SCROLL CURSOR WITH HOLD FOR SELECT id FROM t "
                          "WHERE id > 47")
    assert result.tag == "DECLARE CURSOR" and not session.in_block
    assert session.cursors["h"].rows.it is None  # materialised by DECLARE itself
    assert ids(session, "FETCH ALL h") == [48, 49, 50]
    session.execute("CLOSE h")


def test_commit_fails_if_a_held_cursor_fails(session):
    session.execute("BEGIN; DECLARE ok CURSOR WITH HOLD FOR SELECT 1; "
                    "DECLARE h CURSOR WITH HOLD FOR SELECT 1 / (id - 3) FROM t; "
                    "INSERT INTO t VALUES (1000, 'lost')")
    with pytest.raises(errors.DivisionByZero):
        session.execute("COMMIT")
    assert not session.in_block and session.cursors == {}
    assert rows(session, "SELECT count(*) FROM t WHERE id = 1000") == [(0,)]


def test_rollback_to_savepoint_closes_later_cursors(session):
    session.execute("BEGIN; DECLARE a CURSOR FOR SELECT id FROM t ORDER BY id")
    session.execute("SAVEPOINT s1; FETCH 2 a; DECLARE b CURSOR FOR SELECT 1")
    session.execute("SAVEPOINT s2; DECLARE c CURSOR FOR SELECT 2; RELEASE s2")
    session.execute("ROLLBACK TO s1")
    assert sorted(session.cursors) == ["a"]
    assert ids(session, "FETCH a") == [3]  # the FETCH inside s1 is not undone
    session.execute("DECLARE b CURSOR FOR SELECT 3")  # the name is free again
    session.execute("ROLLBACK TO s1")
    assert sorted(session.cursors) == ["a"]
    session.execute("ROLLBACK")


def test_session_close_closes_cursors(engine):
    s = engine.session()
    s.execute("DECLARE h CURSOR WITH HOLD FOR SELECT 1")
    s.execute("BEGIN; DECLARE c CURSOR FOR SELECT * FROM generate_series(1, 10) g")
    view = s.cursors["c"].view
    s.close()
    assert s.cursors == {} and view._done


def test_cursor_names_are_per_session(engine, session):
    other = engine.session()
    session.execute("DECLARE h CURSOR WITH HOLD FOR SELECT 1")
    with pytest.raises(errors.InvalidCursorName):
        other.execute("FETCH h")
    other.execute("DECLARE h CURSOR WITH HOLD FOR SELECT 2")
    assert rows(other, "FETCH h") == [(2,)]
    assert rows(session, "FETCH h") == [(1,)]
    other.close()
