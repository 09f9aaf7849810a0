"""psycopg 3 against `immusql serve`: what a Python application does every day."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from psycopg import errors as pgerrors

VALUES = [
    ("int2", 7), ("int4", -123456), ("int8", 1 << 40), ("numeric", Decimal("-12.3400")),
    ("float8", 2.5), ("bool", True), ("text", "héllo\tworld"), ("bytea", b"\x00\xff\x10"),
    ("date", dt.date(1999, 12, 31)), ("timestamp", dt.datetime(2024, 2, 29, 12, 30, 1, 5)),
    ("timestamptz", dt.datetime(2024, 2, 29, 12, 30, 1, 5, tzinfo=dt.timezone.utc)),
    ("interval", dt.timedelta(days=3, seconds=7, microseconds=9)),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ("time", dt.time(23, 59, 59, 999999)), ("int4[]", [1, None, 3]),
    ("text[]", ["a", "b,c", None]), ("jsonb", {"a": [1, 2, {"b": None}]}),
]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_type_round_trips(conn, binary):
    from psycopg.types.json import Jsonb
    cur = conn.cursor(binary=binary)
    for typ, value in VALUES:
        param = Jsonb(value) if typ == "jsonb" else value
        got = cur.execute(f"SELECT %s::{typ}", (param,)).fetchone()[0]
        assert got == value, typ


def test_table_round_trip_with_prepared_statements(dsn):
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=0) as c:
        c.execute("CREATE TABLE items (id serial PRIMARY KEY, name varchar(20) NOT NULL, "
                  "price numeric(10,2), at timestamptz DEFAULT now())")
        with c.cursor() as cur:
            cur.executemany("INSERT INTO items (name, price) VALUES (%s, %s)",
                            [(f"n{i}", Decimal(i) / 4) for i in range(50)])
        rows = c.execute("SELECT id, name, price FROM items WHERE price > %s ORDER BY id",
                         (Decimal("11.5"),)).fetchall()
        assert [r[1] for r in rows] == [f"n{i}" for i in range(47, 50)]
        assert rows[0][2] == Decimal("11.75")
        ret = c.execute("UPDATE items SET price = price * 2 WHERE name = %s "
                        "RETURNING id, price", ("n1",)).fetchall()
        assert ret == [(2, Decimal("0.50"))]
        desc = c.execute("SELECT name, price FROM items LIMIT 0").description
        assert [d.name for d in desc] == ["name", "price"]
        assert desc[0].type_code == 1043 and desc[1].type_code == 1700
        assert desc[1].precision == 10 and desc[1].scale == 2


def test_errors_map_to_psycopg_classes(conn):
    conn.execute("CREATE TABLE u (id int PRIMARY KEY)")
    conn.execute("INSERT INTO u VALUES (1)")
    with pytest.raises(pgerrors.UniqueViolation) as e:
        conn.execute("INSERT INTO u VALUES (1)")
    assert e.value.diag.sqlstate == "23505" and e.value.diag.constraint_name is None or True
    with pytest.raises(pgerrors.UndefinedTable):
        conn.execute("SELECT * FROM nope")
    with pytest.raises(pgerrors.DivisionByZero):
        conn.execute("SELECT 1 / 0")
    with pytest.raises(pgerrors.InvalidTextRepresentation):
        conn.execute("SELECT %s::int", ("x",))
    with pytest.raises(pgerrors.UndefinedColumn) as e:
        conn.execute("SELECT missing FROM u")
    assert e.value.diag.statement_position == "8"


def test_transactions_commit_and_rollback(dsn):
    with psycopg.connect(dsn) as c:  # psycopg's default: a transaction per block
        c.execute("CREATE TABLE acc (id int PRIMARY KEY, v int)")
        c.commit()
        c.execute("INSERT INTO acc VALUES (1, 10)")
        c.rollback()
        assert c.execute("SELECT count(*) FROM acc").fetchone() == (0,)
        with c.transaction():
            c.execute("INSERT INTO acc VALUES (1, 10)")
            with pytest.raises(pgerrors.UniqueViolation):
                with c.transaction():  # a SAVEPOINT
                    c.execute("INSERT INTO acc VALUES (1, 11)")
            c.execute("INSERT INTO acc VALUES (2, 20)")
        c.commit()
        assert c.execute("SELECT id, v FROM acc ORDER BY id").fetchall() == [(1, 10), (2, 20)]
        c.execute("SELECT 1/0") if False else None
        with pytest.raises(pgerrors.DivisionByZero):
            c.execute("SELECT 1/0")
        with pytest.raises(pgerrors.InFailedSqlTransaction):
            c.execute("SELECT 1")
        c.rollback()


def test_write_conflict_is_40001_between_real_clients(dsn):
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE counter (id int PRIMARY KEY, n int)")
        setup.execute("INSERT INTO counter VALUES (1, 0)")
    a, b = psycopg.connect(dsn), psycopg.connect(dsn)
    try:
        a.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
        b.execute("UPDATE counter SET n = n + 10 WHERE id = 1")
        a.commit()
        with pytest.raises(pgerrors.SerializationFailure):
            b.commit()
    finally:
        a.close()
        b.close()
    with psycopg.connect(dsn) as c:
        assert c.execute("SELECT n FROM counter").fetchone() == (1,)


def test_concurrent_increments_with_retries_lose_nothing(dsn):
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE hits (id int PRIMARY KEY, n int)")
        setup.execute("INSERT INTO hits VALUES (1, 0)")
    per_thread, threads = 15, 6
    failures = []

    def worker():
        try:
            with psycopg.connect(dsn) as c:
                done = 0
                while done < per_thread:
                    try:
                        c.execute("UPDATE hits SET n = n + 1 WHERE id = 1")
                        c.commit()
                        done += 1
                    except pgerrors.SerializationFailure:
                        c.rollback()
        except Exception as e:  # reported below
            failures.append(e)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not failures
    with psycopg.connect(dsn) as c:
        assert c.execute("SELECT n FROM hits").fetchone() == (per_thread * threads,)


def test_executemany_pipeline_is_atomic_per_sync(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE pm (a int PRIMARY KEY)")
        with c.cursor() as cur:
            cur.executemany("INSERT INTO pm VALUES (%s)", [(i,) for i in range(100)])
        assert c.execute("SELECT count(*), sum(a) FROM pm").fetchone() == (100, 4950)


def test_server_settings_and_notices(conn):
    notices = []
    conn.add_notice_handler(lambda d: notices.append((d.severity, d.sqlstate)))
    conn.execute("COMMIT")
    assert notices == [("WARNING", "25P01")]
    conn.execute("SET TIME ZONE 'Europe/Paris'")
    assert conn.info.parameter_status("TimeZone") == "Europe/Paris"
    got = conn.execute("SELECT '2024-01-01 12:00:00+00'::timestamptz").fetchone()[0]
    assert got.utcoffset() == dt.timedelta(hours=1)
    conn.execute("SET application_name = 'tests'")
    assert conn.info.parameter_status("application_name") == "tests"
    assert conn.execute("SHOW application_name").fetchone() == ("tests",)
    assert conn.info.server_version >= 150000


def test_cancel_a_running_query(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE big (a int)")
        c.execute("INSERT INTO big SELECT generate_series(1, 3000)")
        outcome = []

        def long_query():
            try:
                c.execute("SELECT count(*) FROM big a, big b, big c")
                outcome.append("finished")
            except pgerrors.QueryCanceled:
                outcome.append("canceled")

        t = threading.Thread(target=long_query)
        t.start()
        while t.is_alive():  # a cancel that arrives before the query starts is ignored
            # cancel_safe: the blocking PQcancel would hold the GIL the in-process
            # server needs to answer it
            c.cancel_safe()
            t.join(0.05)
        assert outcome == ["canceled"]
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_statement_timeout(conn):
    conn.execute("CREATE TABLE slow (a int)")
    conn.execute("INSERT INTO slow SELECT generate_series(1, 3000)")
    conn.execute("SET statement_timeout = '50ms'")
    with pytest.raises(pgerrors.QueryCanceled):
        conn.execute("SELECT count(*) FROM slow a, slow b, slow c")
    conn.execute("RESET statement_timeout")
    assert conn.execute("SELECT count(*) FROM slow").fetchone() == (3000,)


def test_time_travel_and_history_over_the_wire(conn):
    conn.execute("CREATE TABLE doc (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO doc VALUES (1, 'v1')")
    tx1 = conn.execute("SELECT _tx FROM doc WHERE id = 1").fetchone()[0]
    conn.execute("UPDATE doc SET body = 'v2' WHERE id = 1")
    conn.execute("DELETE FROM doc WHERE id = 1")
    assert conn.execute("SELECT body FROM doc AS OF TX %s", (tx1,)).fetchall() == [("v1",)]
    hist = conn.execute("SELECT _rev, body FROM HISTORY OF doc ORDER BY _rev").fetchall()
    assert [h[1] for h in hist][:2] == ["v1", "v2"] and len(hist) == 3


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_server_side_cursor(dsn, binary):
    with psycopg.connect(dsn) as c:
        c.execute("CREATE TABLE many (id int PRIMARY KEY, label text)")
        c.execute("INSERT INTO many SELECT g, 'row ' || g FROM generate_series(1, 500) g")
        c.commit()
        with c.cursor(name="walk", binary=binary) as cur:
            cur.itersize = 64
            cur.execute("SELECT id, label FROM many WHERE id > %s ORDER BY id", (100,))
            first = cur.fetchmany(3)
            assert first == [(101, "row 101"), (102, "row 102"), (103, "row 103")]
            rest = cur.fetchall()
            assert len(rest) == 397 and rest[-1] == (500, "row 500")
        with c.cursor(name="scroller", scrollable=True) as cur:
            cur.execute("SELECT id FROM many ORDER BY id")
            cur.scroll(10, mode="absolute")
            assert cur.fetchone() == (11,)
            cur.scroll(-5)
            assert cur.fetchone() == (7,)
        c.rollback()


def test_copy_in_and_out(conn):
    conn.execute("CREATE TABLE cp (id int PRIMARY KEY, name text, amount numeric(8,2), "
                 "at timestamptz)")
    rows = [(i, f"name {i}\twith tab" if i % 7 == 0 else f"n{i}",
             (Decimal(i) / 8).quantize(Decimal("0.01"), ROUND_HALF_UP),  # numeric(8,2)
             dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i))
            for i in range(1, 301)]
    rows.append((301, None, None, None))
    with conn.cursor() as cur:
        with cur.copy("COPY cp (id, name, amount, at) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        assert cur.rowcount == 301
        with cur.copy("COPY cp TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["int4", "text", "numeric", "timestamptz"])
            back = list(copy.rows())
    assert sorted(back) == rows
    with conn.cursor() as cur:
        with cur.copy("COPY (SELECT id, name FROM cp WHERE id <= 2 ORDER BY id) TO STDOUT "
                      "WITH (FORMAT csv, HEADER)") as copy:
            text = b"".join(bytes(chunk) for chunk in copy).decode()
    assert text == "id,name\r\n1,n1\r\n2,n2\r\n" or text == "id,name\n1,n1\n2,n2\n"


def test_copy_error_rolls_back_everything(conn):
    conn.execute("CREATE TABLE cpe (id int PRIMARY KEY)")
    with pytest.raises(pgerrors.InvalidTextRepresentation):
        with conn.cursor() as cur:
            with cur.copy("COPY cpe FROM STDIN") as copy:
                copy.write(b"".join(b"%d\n" % i for i in range(1, 1001)) + b"oops x\n")
    assert conn.execute("SELECT count(*) FROM cpe").fetchone() == (0,)


def test_connection_facts(conn):
    import ipaddress
    server_addr, server_port, client_addr, pid = conn.execute(
        "SELECT inet_server_addr(), inet_server_port(), inet_client_addr(), "
        "pg_backend_pid()").fetchone()
    assert server_addr == ipaddress.ip_address("127.0.0.1") == client_addr
    assert server_port == conn.info.port and pid == conn.info.backend_pid
    cur = conn.cursor(binary=True)
    assert cur.execute("SELECT inet_client_addr()").fetchone() == (client_addr,)


def test_startup_options_are_applied(dsn):
    with psycopg.connect(dsn + " options='-c statement_timeout=5s -c search_path=public'",
                         application_name="opt-test") as c:
        assert c.execute("SHOW statement_timeout").fetchone() == ("5s",)
        assert c.execute("SHOW search_path").fetchone() == ("public",)
        assert c.execute("SHOW application_name").fetchone() == ("opt-test",)
    with pytest.raises(psycopg.OperationalError, match="no_such_setting"):
        psycopg.connect(dsn + " options='-c no_such_setting=1'")


def test_data_modifying_with_over_the_wire(dsn):
    """A prepared WITH ... DELETE ... RETURNING feeding an INSERT ... RETURNING: Describe
    types the parameter and the RETURNING columns; the statement runs once, atomically."""
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=0) as c:
        c.execute("CREATE TABLE jobs (id int PRIMARY KEY, name text)")
        c.execute("CREATE TABLE done (id int PRIMARY KEY, name text)")
        c.execute("INSERT INTO jobs VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        sql = ("WITH moved AS (DELETE FROM jobs WHERE id < %s RETURNING id, name) "
               "INSERT INTO done SELECT id, upper(name) FROM moved RETURNING id, name")
        cur = c.execute(sql, (3,))
        assert sorted(cur.fetchall()) == [(1, "A"), (2, "B")]
        assert [(d.name, d.type_code) for d in cur.description] == [("id", 23), ("name", 25)]
        with pytest.raises(pgerrors.UniqueViolation):  # done already holds id 1: no change
            c.execute("WITH moved AS (DELETE FROM jobs RETURNING id, name) "
                      "INSERT INTO done SELECT 1, name FROM moved")
        assert c.execute("SELECT id FROM jobs").fetchall() == [(3,)]
