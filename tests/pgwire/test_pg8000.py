"""pg8000 against `immusql serve`: its native API and its DB-API.

pg8000 is pure Python and the opposite of asyncpg on the wire: an unnamed Parse per
statement with no parameter OIDs (or the ones `types=` declares, e.g. 705 unknown), every
parameter as text, every result column as text decoded by the column's OID, transaction
control as plain SQL, and COPY through file-like streams.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

import pg8000.dbapi
import pg8000.native
import pytest
from harness import ADMIN_PASSWORD
from pg8000.exceptions import DatabaseError

# (type, parameter value, value pg8000 hands back); None = the parameter itself
VALUES = [
    ("int2", 7, None), ("int4", -123456, None), ("int8", 1 << 40, None),
    ("numeric", Decimal("-12.3400"), None), ("float4", 1.5, None), ("float8", 2.5, None),
    ("bool", True, None), ("text", "héllo\tworld", None), ("varchar", "vc", None),
    ("bytea", b"\x00\xff\x10", None), ("date", dt.date(1999, 12, 31), None),
    ("time", dt.time(23, 59, 59, 999999), None),
    ("timestamp", dt.datetime(2024, 2, 29, 12, 30, 1, 5), None),
    ("timestamptz", dt.datetime(2024, 2, 29, 12, 30, 1, 5, tzinfo=dt.timezone.utc), None),
    ("interval", dt.timedelta(days=3, seconds=7, microseconds=9), None),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678"), None),
    ("json", {"a": [1, 2]}, None), ("jsonb", {"a": [1, 2, {"b": None}]}, None),
    ("int4[]", [1, None, 3], None), ("int8[]", [[1, 2], [3, 4]], None),
    ("text[]", ["a", "b,c", None, '"q"', "NULL"], None),
    ("numeric[]", [Decimal("1.5")], None), ("bool[]", [True, False], None),
    ("date[]", [dt.date(2020, 1, 1)], None), ("float8[]", [1.0, 0.5], None),
    ("oid", 26, None), ("name", "nm", None),
]


@pytest.fixture
def native(server, dbname):
    c = pg8000.native.Connection("immusql", host="127.0.0.1", port=server.port,
                                 database=dbname, password=ADMIN_PASSWORD)
    yield c
    c.close()


@pytest.fixture
def dbapi(server, dbname):
    c = pg8000.dbapi.connect(user="immusql", host="127.0.0.1", port=server.port,
                             database=dbname, password=ADMIN_PASSWORD)
    yield c
    c.close()


def test_connect_with_scram(native, server, dbname):
    assert native.run("SELECT current_database(), current_user") == [[dbname, "immusql"]]
    assert native.parameter_statuses["server_version"].startswith("15")
    with pytest.raises(DatabaseError) as e:
        pg8000.native.Connection("immusql", host="127.0.0.1", port=server.port,
                                 database=dbname, password="wrong")
    assert e.value.args[0]["C"] == "28P01" and e.value.args[0]["S"] == "FATAL"


def test_parameters_and_results_of_every_common_type(native):
    for typ, value, want in VALUES:
        want = value if want is None else want
        got = native.run(f"SELECT CAST(:v AS {typ}) AS x", v=value)
        assert got == [[want]], typ
        assert native.run(f"SELECT CAST(:v AS {typ}) IS NULL", v=None) == [[True]], typ
        assert native.run(f"SELECT NULL::{typ}") == [[None]], typ
    # an untyped parameter is text, as in PostgreSQL; a context types it
    assert native.run("SELECT :v", v=7) == [["7"]]
    assert native.columns[0]["type_oid"] == 25
    assert native.run("SELECT :v + 1", v=41) == [[42]]
    assert native.run("SELECT length(:v)", v="abc") == [[3]]
    assert native.run("SELECT :a::int * :b::numeric", a=3, b=Decimal("1.5")) == \
        [[Decimal("4.5")]]


def test_declared_parameter_types(native):
    """pg8000's `types=` puts OIDs into the Parse: concrete ones, 0, or 705 (unknown)."""
    assert native.run("SELECT :v", v=5, types={"v": 23}) == [[5]]
    assert native.columns[0]["type_oid"] == 23
    assert native.run("SELECT :v + 1", v="5", types={"v": 705}) == [[6]]
    assert native.run("SELECT :v", v="x", types={"v": 705}) == [["x"]]
    assert native.run("SELECT :v", v=2.5, types={"v": 701}) == [[2.5]]
    assert native.run("SELECT :a || :b", a="x", b=1, types={"a": 25, "b": 0}) == [["x1"]]
    with pytest.raises(DatabaseError) as e:
        native.run("SELECT :v", v=1, types={"v": 99999})
    assert e.value.args[0]["C"] == "42704"


def test_literals_come_back_decoded_by_oid(native):
    row, = native.run(
        "SELECT 1::int2, 2, 3::int8, 1.25::numeric, 0.5::float4, 0.25::float8, true, "
        "'t'::text, 'v'::varchar(5), '\\x0102'::bytea, DATE '2000-01-01', TIME '01:02:03', "
        "TIMESTAMP '2001-02-03 04:05:06.7', TIMESTAMPTZ '2001-02-03 04:05:06+00', "
        "INTERVAL '2 days 3 s', '00000000-0000-0000-0000-000000000002'::uuid, "
        "'[1]'::json, '{\"k\": 1}'::jsonb, ARRAY[1, 2], ARRAY['a', NULL], NULL, "
        "'-infinity'::float8, 'a'::char(3), 5::oid, '1 2'::int2vector")
    assert row == [1, 2, 3, Decimal("1.25"), 0.5, 0.25, True, "t", "v", b"\x01\x02",
                   dt.date(2000, 1, 1), dt.time(1, 2, 3),
                   dt.datetime(2001, 2, 3, 4, 5, 6, 700000),
                   dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
                   dt.timedelta(days=2, seconds=3), uuid.UUID(int=2), [1], {"k": 1}, [1, 2],
                   ["a", None], None, float("-inf"), "a  ", 5, [1, 2]]
    assert [c["type_oid"] for c in native.columns][:6] == [21, 23, 20, 1700, 700, 701]
    iv = native.run("SELECT INTERVAL '1 mon 2 days 3 s'")[0][0]
    assert (iv.months, iv.days, iv.seconds) == (1, 2, 3)


def test_table_round_trip_with_named_params(native):
    native.run("CREATE TABLE items (id serial PRIMARY KEY, name varchar(20) NOT NULL, "
               "price numeric(10,2), tags text[], meta jsonb, at timestamptz DEFAULT now())")
    native.run("INSERT INTO items (name, price, tags, meta) VALUES (:n, :p, :t, :m)",
               n="first", p=Decimal("1.5"), t=["x", "y"], m={"k": 1})
    assert native.row_count == 1
    rows = native.run("SELECT id, name, price, tags, meta FROM items WHERE name = :n", n="first")
    assert rows == [[1, "first", Decimal("1.50"), ["x", "y"], {"k": 1}]]
    assert [c["name"] for c in native.columns] == ["id", "name", "price", "tags", "meta"]
    # one named parameter used twice, parameters typed by their columns
    assert native.run("SELECT count(*) FROM items WHERE id = :i OR id = :i + 1", i=1) == [[1]]
    ret = native.run("UPDATE items SET price = price * :f WHERE id = :i RETURNING id, price",
                     f=2, i=1)
    assert ret == [[1, Decimal("3.00")]]
    assert native.run("DELETE FROM items WHERE id = :i", i=1) is None  # no rows: None
    assert native.row_count == 1


def test_native_prepared_statement(native):
    native.run("CREATE TABLE p (id int PRIMARY KEY, name text)")
    ins = native.prepare("INSERT INTO p VALUES (:id, :name)")
    for i in range(5):
        ins.run(id=i, name=f"n{i}")
    sel = native.prepare("SELECT name FROM p WHERE id >= :lo ORDER BY id")
    assert sel.run(lo=3) == [["n3"], ["n4"]]
    assert sel.run(lo=4) == [["n4"]]
    sel.close()
    ins.close()
    assert native.run("SELECT count(*) FROM p") == [[5]]


def test_dbapi_executemany_and_fetch(dbapi):
    cur = dbapi.cursor()
    cur.execute("CREATE TABLE em (a int PRIMARY KEY, b text, c float8, d date)")
    cur.executemany("INSERT INTO em VALUES (%s, %s, %s, %s)",
                    [(i, f"r{i}", i / 2, dt.date(2020, 1, 1) + dt.timedelta(i))
                     for i in range(100)])
    dbapi.commit()
    cur.execute("SELECT count(*), sum(a), max(b), max(d) FROM em")
    assert cur.fetchone() == [100, 4950, "r99", dt.date(2020, 4, 9)]
    cur.execute("SELECT a, b FROM em WHERE a < %s ORDER BY a", (3,))
    assert cur.description[0][0] == "a" and cur.description[0][1] == 23
    assert cur.fetchmany(2) == ([0, "r0"], [1, "r1"])
    assert cur.fetchall() == ([2, "r2"],)
    cur.execute("UPDATE em SET b = 'x' WHERE a < 10")
    assert cur.rowcount == 10
    dbapi.commit()


def test_dbapi_transactions(dbapi, server, dbname):
    cur = dbapi.cursor()
    cur.execute("CREATE TABLE acc (id int PRIMARY KEY, v int)")
    dbapi.commit()
    cur.execute("INSERT INTO acc VALUES (1, 10)")
    dbapi.rollback()
    cur.execute("SELECT count(*) FROM acc")
    assert cur.fetchone() == [0]
    cur.execute("INSERT INTO acc VALUES (1, 10)")
    cur.execute("SAVEPOINT s1")
    with pytest.raises(DatabaseError) as e:
        cur.execute("INSERT INTO acc VALUES (1, 11)")
    assert e.value.args[0]["C"] == "23505"
    cur.execute("ROLLBACK TO SAVEPOINT s1")
    cur.execute("INSERT INTO acc VALUES (2, 20)")
    # another connection does not see the open transaction's rows
    other = pg8000.native.Connection("immusql", host="127.0.0.1", port=server.port,
                                     database=dbname, password=ADMIN_PASSWORD)
    try:
        assert other.run("SELECT count(*) FROM acc") == [[0]]
        dbapi.commit()
        assert other.run("SELECT id, v FROM acc ORDER BY id") == [[1, 10], [2, 20]]
    finally:
        other.close()
    # an error aborts the transaction until rollback
    with pytest.raises(DatabaseError) as e:
        cur.execute("SELECT 1 / 0")
    assert e.value.args[0]["C"] == "22012"
    with pytest.raises(DatabaseError) as e:
        cur.execute("SELECT 1")
    assert e.value.args[0]["C"] == "25P02"
    dbapi.rollback()
    cur.execute("SELECT 1")
    assert cur.fetchone() == [1]
    dbapi.rollback()
    # autocommit
    dbapi.autocommit = True
    cur.execute("INSERT INTO acc VALUES (3, 30)")
    dbapi.autocommit = False
    cur.execute("SELECT sum(v) FROM acc")
    assert cur.fetchone() == [60]
    dbapi.commit()


def test_native_transactions(native):
    native.run("CREATE TABLE t (id int PRIMARY KEY)")
    native.run("START TRANSACTION")
    native.run("INSERT INTO t VALUES (1)")
    native.run("ROLLBACK")
    native.run("BEGIN")
    native.run("INSERT INTO t VALUES (2)")
    native.run("COMMIT")
    assert native.run("SELECT id FROM t") == [[2]]


def test_errors_carry_the_sqlstate(native):
    native.run("CREATE TABLE u (id int PRIMARY KEY, v int NOT NULL)")
    native.run("INSERT INTO u VALUES (1, 1)")
    cases = [
        ("INSERT INTO u VALUES (:i, 2)", {"i": 1}, "23505"),
        ("SELECT * FROM nope", {}, "42P01"),
        ("SELECT missing FROM u", {}, "42703"),
        ("SELECT 1 / 0", {}, "22012"),
        ("INSERT INTO u VALUES (2, NULL)", {}, "23502"),
        ("SELEC 1", {}, "42601"),
        ("SELECT CAST(:v AS int)", {"v": "x"}, "22P02"),
        ("SELECT no_such_function(:v)", {"v": 1}, "42883"),
    ]
    for sql, params, code in cases:
        with pytest.raises(DatabaseError) as e:
            native.run(sql, **params)
        err = e.value.args[0]
        assert err["C"] == code, sql
        assert err["S"] == "ERROR" and err["M"]
    with pytest.raises(DatabaseError) as e:
        native.run("SELECT missing FROM u")
    assert e.value.args[0]["P"] == "8"
    assert native.run("SELECT count(*) FROM u") == [[1]]


def test_copy_from_stdin_and_to_stdout_with_streams(native):
    native.run("CREATE TABLE ct (id int PRIMARY KEY, name text, d date)")
    native.run("COPY ct FROM STDIN",
               stream=io.BytesIO(b"1\talpha\t2020-01-01\n2\t\\N\t2020-01-02\n"))
    assert native.row_count == 2
    native.run("COPY ct FROM STDIN WITH (FORMAT csv, HEADER)",
               stream=io.StringIO('id,name,d\n3,"with, comma",2021-05-06\n'))
    native.run("COPY ct (id, name) FROM STDIN", stream=[f"{i}\tn{i}\n" for i in range(4, 7)])
    assert native.run("SELECT count(*), count(d) FROM ct") == [[6, 3]]
    out = io.BytesIO()
    native.run("COPY ct TO STDOUT", stream=out)
    assert out.getvalue().splitlines()[:3] == [b"1\talpha\t2020-01-01", b"2\t\\N\t2020-01-02",
                                              b"3\twith, comma\t2021-05-06"]
    out = io.StringIO()
    native.run("COPY (SELECT id, name FROM ct WHERE id <= 3 ORDER BY id) TO STDOUT "
               "WITH (FORMAT csv, HEADER)", stream=out)
    assert out.getvalue() == 'id,name\n1,alpha\n2,\n3,"with, comma"\n'
    # COPY is a utility statement: PostgreSQL gives its query no parameters either
    with pytest.raises(DatabaseError) as e:
        native.run("COPY (SELECT :n) TO STDOUT", stream=io.BytesIO(), n=3)
    assert e.value.args[0]["C"] == "42P02"
    with pytest.raises(DatabaseError) as e:
        native.run("COPY ct FROM STDIN", stream=io.BytesIO(b"x\ty\t2020-01-01\n"))
    assert e.value.args[0]["C"] == "22P02"
    with pytest.raises(DatabaseError) as e:
        native.run("COPY ct FROM STDIN", stream=io.BytesIO(b"1\tdup\t2020-01-01\n"))
    assert e.value.args[0]["C"] == "23505"
    assert native.run("SELECT count(*) FROM ct") == [[6]]


def test_copy_binary_round_trip_with_streams(native):
    native.run("CREATE TABLE cb (a int, b text, c numeric, d timestamptz, e int4[])")
    native.run("INSERT INTO cb VALUES (1, 'x', 1.5, '2024-01-02 03:04:05+00', '{1,NULL}'), "
               "(2, NULL, NULL, NULL, NULL)")
    out = io.BytesIO()
    native.run("COPY cb TO STDOUT WITH (FORMAT binary)", stream=out)
    assert out.getvalue().startswith(b"PGCOPY\n\xff\r\n\x00")
    native.run("CREATE TABLE cb2 (a int, b text, c numeric, d timestamptz, e int4[])")
    native.run("COPY cb2 FROM STDIN WITH (FORMAT binary)", stream=io.BytesIO(out.getvalue()))
    assert native.row_count == 2
    assert native.run("SELECT * FROM cb2 ORDER BY a") == native.run("SELECT * FROM cb ORDER BY a")


def test_dbapi_copy_with_stream(dbapi):
    cur = dbapi.cursor()
    cur.execute("CREATE TABLE cd (a int, b text)")
    cur.execute("COPY cd FROM STDIN WITH (FORMAT csv)", stream=io.StringIO("1,x\n2,y\n"))
    dbapi.commit()
    out = io.BytesIO()
    cur.execute("COPY cd TO STDOUT", stream=out)
    assert out.getvalue() == b"1\tx\n2\ty\n"
    dbapi.commit()


def test_catalog_queries_pg8000_users_run(native):
    native.run("CREATE TABLE cat (a int PRIMARY KEY, b text)")
    rows = native.run("SELECT table_name FROM information_schema.tables "
                      "WHERE table_schema = 'public'")
    assert rows == [["cat"]]
    assert native.run("SELECT typname FROM pg_type WHERE oid = :o", o=1007) == [["_int4"]]
    assert native.run("SELECT :r::regclass::oid = 'cat'::regclass::oid", r="cat") == [[True]]
