"""The embedded engine through PEP 249: parameters, transactions, errors, time travel.

These need no PostgreSQL: they pin immusql's own behaviour (time travel and history have
no PostgreSQL counterpart).
"""

from __future__ import annotations

import random
import threading

import pytest

import immusql
from immusql import errors
from immusql.dbapi import convert_params


@pytest.fixture
def conn(tmp_path):
    c = immusql.connect(tmp_path / "db", autocommit=True)
    yield c
    c.close()


def rows(conn, sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    return cur.fetchall() if cur.description is not None else None


def test_params_are_rewritten_outside_literals_and_comments():
    sql, values = convert_params("select %s, '%s', \"%s\" -- %s\n, %(a)s", None)
    assert (sql, values) == ("select %s, '%s', \"%s\" -- %s\n, %(a)s", [])
    sql, values = convert_params("select %s, '%%s', %s -- %s\n", (1, 2))
    assert sql == "select $1, '%%s', $2 -- %s\n" and values == [1, 2]
    sql, values = convert_params("select %(a)s, %(b)s, %(a)s, 100%%", {"a": 1, "b": "x"})
    assert sql == "select $1, $2, $1, 100%" and values == [1, "x"]
    with pytest.raises(errors.ProgrammingError):
        convert_params("select %s, %s", (1,))
    with pytest.raises(errors.ProgrammingError):
        convert_params("select %(missing)s", {})


def test_insert_select_update_delete_with_parameters(conn):
    rows(conn, "create table t (id int primary key, name text, score numeric(6,2))")
    cur = conn.cursor()
    cur.executemany("insert into t values (%s, %s, %s)",
                    [(i, f"n{i}", i * 1.5) for i in range(1, 6)])
    assert cur.rowcount == 5
    assert rows(conn, "select name from t where id = %s", (3,)) == [("n3",)]
    cur.execute("update t set score = score + %(d)s where id >= %(lo)s", {"d": 1, "lo": 4})
    assert cur.rowcount == 2
    assert rows(conn, "select id, score::text from t where id > 3 order by id") == \
        [(4, "7.00"), (5, "8.50")]
    cur.execute("delete from t where id in (%s, %s) returning id", (1, 2))
    assert sorted(cur.fetchall()) == [(1,), (2,)]
    assert [d[0] for d in cur.description] == ["id"]
    assert cur.description[0][1] == 23  # int4 OID


def test_errors_carry_sqlstate_and_nothing_is_written(conn):
    rows(conn, "create table t (id int primary key, v int not null check (v > 0))")
    rows(conn, "insert into t values (1, 1)")
    cases = [("insert into t values (1, 2)", errors.UniqueViolation, "23505"),
             ("insert into t values (2, null)", errors.NotNullViolation, "23502"),
             ("insert into t values (2, -1)", errors.CheckViolation, "23514"),
             ("insert into t values (2, 1), (3, 1/0)", errors.DivisionByZero, "22012"),
             ("insert into t values (2, 99999999999)", errors.NumericValueOutOfRange, "22003"),
             ("selec 1", errors.SyntaxError, "42601"),
             ("select nope from t", errors.UndefinedColumn, "42703"),
             ("select * from nope", errors.UndefinedTable, "42P01")]
    for sql, cls, code in cases:
        with pytest.raises(cls) as info:
            rows(conn, sql)
        assert info.value.sqlstate == code
    assert rows(conn, "select id, v from t") == [(1, 1)]  # the failed statements wrote nothing


def test_syntax_error_reports_position(conn):
    with pytest.raises(errors.SyntaxError) as info:
        rows(conn, "select 1 form t")
    assert info.value.position == len("select 1 form ") + 1  # "form" is an alias, as in PG


def test_transactions_commit_rollback_and_aborted_state(tmp_path):
    conn = immusql.connect(tmp_path / "db")  # not autocommit: a block per unit of work
    cur = conn.cursor()
    cur.execute("create table t (id int primary key)")
    conn.commit()
    cur.execute("insert into t values (1)")
    conn.rollback()
    cur.execute("select count(*) from t")
    assert cur.fetchone() == (0,)
    cur.execute("insert into t values (2)")
    with pytest.raises(errors.UniqueViolation):
        cur.execute("insert into t values (2)")
    with pytest.raises(errors.InFailedSqlTransaction):
        cur.execute("select 1")
    conn.rollback()
    cur.execute("select count(*) from t")
    assert cur.fetchone() == (0,)
    cur.execute("insert into t values (3)")
    cur.execute("savepoint s")
    cur.execute("insert into t values (4)")
    cur.execute("rollback to savepoint s")
    conn.commit()
    cur.execute("select id from t")
    assert cur.fetchall() == [(3,)]
    conn.close()


def test_concurrent_sessions_conflict_with_40001(tmp_path):
    a = immusql.connect(tmp_path / "db")
    b = immusql.connect(tmp_path / "db")
    ca, cb = a.cursor(), b.cursor()
    ca.execute("create table c (id int primary key, n int)")
    ca.execute("insert into c values (1, 0)")
    a.commit()
    ca.execute("update c set n = n + 1 where id = 1")
    cb.execute("update c set n = n + 10 where id = 1")
    a.commit()
    with pytest.raises(errors.SerializationFailure) as info:
        b.commit()
    assert info.value.sqlstate == "40001"
    cb.execute("select n from c")
    assert cb.fetchall() == [(1,)]
    a.close()
    b.close()


def test_concurrent_increments_lose_no_update(tmp_path):
    setup = immusql.connect(tmp_path / "db", autocommit=True)
    rows(setup, "create table c (id int primary key, n int)")
    rows(setup, "insert into c values (1, 0)")
    workers, per_worker = 4, 15
    start = threading.Barrier(workers)

    def work():
        conn = immusql.connect(tmp_path / "db")
        cur = conn.cursor()
        start.wait(30)
        done = 0
        while done < per_worker:
            try:
                cur.execute("update c set n = n + 1 where id = 1")
                conn.commit()
                done += 1
            except errors.SerializationFailure:
                conn.rollback()
        conn.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert rows(setup, "select n from c") == [(workers * per_worker,)]
    setup.close()


def test_time_travel_and_history_after_many_changes(conn):
    rows(conn, "create table acct (id int primary key, balance int)")
    rnd = random.Random(7)
    model: dict[int, int] = {}
    snapshots = []  # (tx id, model copy)
    versions: dict[int, list] = {}
    for step in range(120):
        key = rnd.randrange(10)
        if key in model and rnd.random() < 0.25:
            rows(conn, "delete from acct where id = %s", (key,))
            versions[key].append((model.pop(key), True))
        elif key in model:
            model[key] += 1
            rows(conn, "update acct set balance = %s where id = %s", (model[key], key))
            versions[key].append((model[key], False))
        else:
            model[key] = step
            rows(conn, "insert into acct values (%s, %s)", (key, step))
            versions.setdefault(key, []).append((step, False))
        tx = rows(conn, "select max(_tx) from history of acct")[0][0]
        snapshots.append((tx, dict(model)))
    for tx, expected in snapshots[::7]:
        got = dict(rows(conn, f"select id, balance from acct as of tx {tx}"))
        assert got == expected
    assert dict(rows(conn, "select id, balance from acct")) == model
    for key, seq in versions.items():
        hist = rows(conn, "select balance, _deleted, _rev from history of acct "
                          "where id = %s order by _rev", (key,))
        assert [(b, d) for b, d, _ in hist] == seq
        assert [r for _, _, r in hist] == list(range(1, len(seq) + 1))
        # immudb's parenthesized spelling reads the same versions
        assert rows(conn, "select h.balance, h._deleted, h._rev from (HISTORY OF acct) h "
                          "where h.id = %s order by h._rev", (key,)) == hist


def test_cached_plans_rerun_with_new_parameters_and_follow_schema_changes(tmp_path):
    conn = immusql.connect(tmp_path / "db")
    cur = conn.cursor()
    cur.execute("create table p (id int primary key, v text)")
    cur.executemany("insert into p values (%s, %s)", [(i, f"v{i}") for i in range(20)])
    conn.commit()
    session = conn._session
    for i in (3, 7, 3, 19, 25):
        cur.execute("select id, v from p where id = %s", (i,))
        assert cur.fetchall() == ([(i, f"v{i}")] if i < 20 else [])
    assert len(session.plans) == 1  # one plan, run five times with other parameters
    cur.execute("select v from p where id in (%s, %s) order by id", (2, 4))
    assert cur.fetchall() == [("v2",), ("v4",)]
    cur.execute("update p set v = 'new' where id = %s", (3,))
    cur.execute("select id, v from p where id = %s", (3,))
    assert cur.fetchall() == [(3, "new")]  # sees the block's own write
    conn.commit()
    cur.execute("alter table p add column w int default 5")
    cur.execute("select * from p where id = %s", (1,))
    assert cur.fetchall() == [(1, "v1", 5)]
    conn.rollback()  # the added column is gone again, and so is any plan that saw it
    cur.execute("select * from p where id = %s", (1,))
    assert cur.fetchall() == [(1, "v1")]
    conn.close()
