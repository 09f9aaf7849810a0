"""asyncpg against `immusql serve`.

asyncpg is the strictest common client of the extended protocol: every statement is a
named Parse followed by Describe(statement) and Flush (no Sync), it encodes arguments
from the ParameterDescription's OIDs (so those must be concrete), asks for every result
column in binary, and for any OID outside its builtin map runs a large recursive
introspection query over pg_type / pg_range / pg_attribute. The tests run asyncpg on
its own event loop (asyncio.run) in plain pytest functions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import uuid
from decimal import Decimal

import asyncpg
import pytest
from asyncpg import exceptions as apgerr
from harness import ADMIN_PASSWORD

# (type, parameter value, value asyncpg hands back); None = the parameter itself
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
    ("json", '{"a": [1, 2]}', None), ("jsonb", '{"a": [1, 2, {"b": null}]}', None),
    ("int4[]", [1, None, 3], None), ("int8[]", [[1, 2], [3, 4]], None),
    ("text[]", ["a", "b,c", None, '"q"'], None), ("numeric[]", [Decimal("1.5")], None),
    ("bool[]", [True, False], None), ("date[]", [dt.date(2020, 1, 1)], None),
    ("uuid[]", [uuid.UUID(int=1)], None), ("float8[]", [1.0, float("inf")], None),
]


def _kw(server, dbname):
    return dict(host="127.0.0.1", port=server.port, user="immusql",
                password=ADMIN_PASSWORD, database=dbname)


@pytest.fixture
def run(server, dbname):
    """run(fn): `await fn(conn)` on a fresh asyncpg connection to the test's database."""
    def runner(fn, **kw):
        async def main():
            conn = await asyncpg.connect(**_kw(server, dbname), **kw)
            try:
                return await fn(conn)
            finally:
                await conn.close()
        return asyncio.run(main())
    return runner


def test_connect_with_scram_and_server_facts(run, server, dbname):
    async def body(c):
        assert c.get_server_version().major == 15
        assert c.get_settings().client_encoding == "utf-8"  # asyncpg normalises UTF8
        assert await c.fetchval("SELECT current_database()") == dbname
        assert await c.fetchval("SELECT current_user") == "immusql"
        return True
    assert run(body)

    async def wrong_password():
        kw = _kw(server, dbname)
        kw["password"] = "nope"
        await asyncpg.connect(**kw)
    with pytest.raises(apgerr.InvalidPasswordError):
        asyncio.run(wrong_password())


def test_parameters_and_results_of_every_common_type(run):
    async def body(c):
        for typ, value, want in VALUES:
            want = value if want is None else want
            got = await c.fetchval(f"SELECT $1::{typ}", value)
            assert got == want, typ
            assert await c.fetchval(f"SELECT $1::{typ} IS NULL", None) is True, typ
            assert await c.fetchval(f"SELECT NULL::{typ}") is None, typ
        # the parameter's type inferred from context, not from a cast
        assert await c.fetchval("SELECT $1 + 1", 41) == 42
        assert await c.fetchval("SELECT length($1)", "abc") == 3
        row = await c.fetchrow("SELECT 1::int2 AS a, 'x'::text AS b, 2.5::numeric AS c")
        assert tuple(row) == (1, "x", Decimal("2.5")) and row["b"] == "x"
    run(body)


def test_literals_come_back_binary(run):
    async def body(c):
        row = await c.fetchrow(
            "SELECT 1::int2, 2, 3::int8, 1.25::numeric, 0.5::float4, 0.25::float8, true, "
            "'t'::text, 'v'::varchar(5), '\\x0102'::bytea, DATE '2000-01-01', "
            "TIME '01:02:03', TIMESTAMP '2001-02-03 04:05:06.7', "
            "TIMESTAMPTZ '2001-02-03 04:05:06+00', INTERVAL '1 mon 2 days 3 s', "
            "'00000000-0000-0000-0000-000000000002'::uuid, '[1]'::json, '{\"k\": 1}'::jsonb, "
            "ARRAY[1, 2], ARRAY['a', NULL], NULL, 'nan'::numeric, '-infinity'::float8")
        assert list(row) == [
            1, 2, 3, Decimal("1.25"), 0.5, 0.25, True, "t", "v", b"\x01\x02",
            dt.date(2000, 1, 1), dt.time(1, 2, 3), dt.datetime(2001, 2, 3, 4, 5, 6, 700000),
            dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
            dt.timedelta(days=32, seconds=3),  # asyncpg folds a month into 30 days
            uuid.UUID(int=2), "[1]", '{"k": 1}', [1, 2], ["a", None], None,
            row[21], float("-inf")]
        assert row[21].is_nan()
    run(body)


def test_table_round_trip_fetch_fetchrow_fetchval(run):
    async def body(c):
        await c.execute("CREATE TABLE items (id serial PRIMARY KEY, name varchar(20) NOT NULL, "
                        "price numeric(10,2), tags text[], meta jsonb, "
                        "at timestamptz DEFAULT now())")
        status = await c.execute("INSERT INTO items (name, price, tags, meta) "
                                 "VALUES ($1, $2, $3, $4)",
                                 "first", Decimal("1.50"), ["x", "y"], json.dumps({"k": 1}))
        assert status == "INSERT 0 1"
        rows = await c.fetch("SELECT id, name, price, tags, meta FROM items ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, "first", Decimal("1.50"), ["x", "y"],
                                             '{"k": 1}')]
        assert await c.fetchrow("SELECT * FROM items WHERE id = $1", 99) is None
        assert await c.fetchval("SELECT at FROM items") is not None
        assert await c.fetchval("SELECT count(*) FROM items WHERE name = ANY($1)",
                                ["first", "other"]) == 1
        ret = await c.fetch("UPDATE items SET price = price * $1 WHERE name = $2 "
                            "RETURNING id, price", Decimal(2), "first")
        assert [tuple(r) for r in ret] == [(1, Decimal("3.00"))]
        assert await c.execute("DELETE FROM items WHERE id = $1", 1) == "DELETE 1"
    run(body)


def test_executemany(run):
    async def body(c):
        await c.execute("CREATE TABLE em (a int PRIMARY KEY, b text, c float8)")
        await c.executemany("INSERT INTO em VALUES ($1, $2, $3)",
                            [(i, f"r{i}", i / 2) for i in range(200)])
        assert tuple(await c.fetchrow("SELECT count(*), sum(a), max(b) FROM em")) == \
            (200, 19900, "r99")
        # executemany is atomic: a failing row rolls the whole batch back
        with pytest.raises(apgerr.UniqueViolationError):
            await c.executemany("INSERT INTO em VALUES ($1, $2, $3)",
                                [(1000, "new", 0.0), (5, "dup", 0.0)])
        assert await c.fetchval("SELECT count(*) FROM em") == 200
        await c.executemany("UPDATE em SET b = $2 WHERE a = $1", [(1, "one"), (2, "two")])
        assert await c.fetchval("SELECT string_agg(b, ',' ORDER BY a) FROM em WHERE a < 3") \
            == "r0,one,two"
    run(body)


def test_transactions_and_savepoints(run):
    async def body(c):
        await c.execute("CREATE TABLE acc (id int PRIMARY KEY, v int)")
        async with c.transaction():
            await c.execute("INSERT INTO acc VALUES (1, 10)")
            assert c.is_in_transaction()
            try:
                async with c.transaction():  # SAVEPOINT
                    await c.execute("INSERT INTO acc VALUES (2, 20)")
                    await c.execute("INSERT INTO acc VALUES (1, 11)")
            except apgerr.UniqueViolationError:
                pass
            async with c.transaction():  # a savepoint released
                await c.execute("INSERT INTO acc VALUES (3, 30)")
        assert not c.is_in_transaction()
        assert [tuple(r) for r in await c.fetch("SELECT id, v FROM acc ORDER BY id")] == \
            [(1, 10), (3, 30)]

        with pytest.raises(RuntimeError, match="boom"):
            async with c.transaction():
                await c.execute("INSERT INTO acc VALUES (4, 40)")
                raise RuntimeError("boom")
        assert await c.fetchval("SELECT count(*) FROM acc WHERE id = 4") == 0

        tr = c.transaction(isolation="serializable")
        await tr.start()
        await c.execute("UPDATE acc SET v = v + 1")
        await tr.rollback()
        assert await c.fetchval("SELECT sum(v) FROM acc") == 40

        async with c.transaction(readonly=True):
            assert await c.fetchval("SELECT count(*) FROM acc") == 2
            with pytest.raises(apgerr.ReadOnlySQLTransactionError):
                await c.execute("INSERT INTO acc VALUES (9, 9)")

        # an error in an explicit block aborts it until ROLLBACK
        tr = c.transaction()
        await tr.start()
        with pytest.raises(apgerr.DivisionByZeroError):
            await c.fetchval("SELECT 1 / $1", 0)
        with pytest.raises(apgerr.InFailedSQLTransactionError):
            await c.fetchval("SELECT 1")
        await tr.rollback()
        assert await c.fetchval("SELECT 1") == 1
    run(body)


def test_prepared_statements(run):
    async def body(c):
        await c.execute("CREATE TABLE p (id int PRIMARY KEY, name text, at date)")
        ins = await c.prepare("INSERT INTO p VALUES ($1, $2, $3)")
        assert [t.name for t in ins.get_parameters()] == ["int4", "text", "date"]
        for i in range(5):
            await ins.fetch(i, f"n{i}", dt.date(2020, 1, 1 + i))
        sel = await c.prepare("SELECT id, name, at FROM p WHERE id >= $1 ORDER BY id")
        assert [a.name for a in sel.get_attributes()] == ["id", "name", "at"]
        assert [a.type.name for a in sel.get_attributes()] == ["int4", "text", "date"]
        assert [r["name"] for r in await sel.fetch(3)] == ["n3", "n4"]
        assert await sel.fetchval(4) == 4
        assert tuple(await sel.fetchrow(2)) == (2, "n2", dt.date(2020, 1, 3))
        assert await sel.fetch(100) == []
        # the statement survives other statements in between (named, not unnamed)
        assert await c.fetchval("SELECT count(*) FROM p") == 5
        assert len(await sel.fetch(0)) == 5
        # explain-free introspection of the statement text and status
        assert sel.get_query().startswith("SELECT id")
        assert await ins.executemany([(10, "x", None), (11, "y", None)]) is None
        assert await c.fetchval("SELECT count(*) FROM p WHERE at IS NULL") == 2
    run(body)


def test_statement_cache_survives_schema_changes(run):
    """asyncpg reuses its named statements; after DDL changes what one returns, the
    server must refuse it (0A000 from RevalidateCachedQuery) rather than send rows in a
    shape the client was not told, and asyncpg then prepares it again."""
    async def body(c):
        await c.execute("CREATE TABLE sc (a int)")
        await c.execute("INSERT INTO sc VALUES (1)")
        assert [tuple(r) for r in await c.fetch("SELECT * FROM sc")] == [(1,)]
        await c.execute("ALTER TABLE sc ADD COLUMN b text DEFAULT 'x'")
        assert [tuple(r) for r in await c.fetch("SELECT * FROM sc")] == [(1, "x")]
        await c.execute("DROP TABLE sc")
        await c.execute("CREATE TABLE sc (a text)")
        await c.execute("INSERT INTO sc VALUES ('z')")
        assert [tuple(r) for r in await c.fetch("SELECT * FROM sc")] == [("z",)]
        # inside a transaction asyncpg cannot retry: it raises, and the block is aborted
        await c.execute("ALTER TABLE sc ADD COLUMN n int DEFAULT 7")
        with pytest.raises(apgerr.InvalidCachedStatementError):
            async with c.transaction():
                await c.fetch("SELECT * FROM sc")
        assert [tuple(r) for r in await c.fetch("SELECT * FROM sc")] == [("z", 7)]
    run(body)


def test_cursors_use_portals_with_row_limits(run):
    async def body(c):
        await c.execute("CREATE TABLE cur (n int PRIMARY KEY)")
        await c.executemany("INSERT INTO cur VALUES ($1)", [(i,) for i in range(100)])
        async with c.transaction():
            seen = [r["n"] async for r in c.cursor(
                "SELECT n FROM cur WHERE n >= $1 ORDER BY n", 10, prefetch=7)]
            assert seen == list(range(10, 100))
            cur = await c.cursor("SELECT n FROM cur ORDER BY n")
            assert [r[0] for r in await cur.fetch(3)] == [0, 1, 2]
            assert (await cur.fetchrow())[0] == 3
            assert await cur.forward(10) == 10
            assert [r[0] for r in await cur.fetch(2)] == [14, 15]
            rest = await cur.fetch(1000)
            assert rest[0][0] == 16 and rest[-1][0] == 99 and len(rest) == 84
            assert await cur.fetch(5) == []
            assert await cur.fetchrow() is None
        async with c.transaction():
            # asyncpg's portals are protocol-level; SQL FETCH / MOVE reach them by name, as
            # in PostgreSQL, where they are NO SCROLL
            cur = await c.cursor("SELECT n FROM cur ORDER BY n")
            portal = cur._portal_name
            assert await c.execute(f'MOVE FORWARD 2 "{portal}"') == "MOVE 2"
            assert [tuple(r) for r in await c.fetch(f'FETCH 2 FROM "{portal}"')] == \
                [(2,), (3,)]
            assert [r[0] for r in await cur.fetch(2)] == [4, 5]
            with pytest.raises(apgerr.ObjectNotInPrerequisiteStateError,
                               match="only scan forward"):
                await c.execute(f'MOVE BACKWARD 1 "{portal}"')
        assert await c.fetchval("SELECT count(*) FROM cur") == 100
        with pytest.raises(apgerr.NoActiveSQLTransactionError):
            await c.cursor("SELECT n FROM cur")
    run(body)


def test_copy_records_to_table_binary(run):
    async def body(c):
        await c.execute("CREATE TABLE cp (id int PRIMARY KEY, name text, price numeric(8,2), "
                        "at timestamptz, tags int4[], raw bytea, u uuid, j jsonb)")
        at = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        records = [(i, f"n{i}" if i % 3 else None, Decimal(i) / 4, at, [i, i + 1],
                    bytes([i % 256]), uuid.UUID(int=i), json.dumps({"i": i}))
                   for i in range(300)]
        status = await c.copy_records_to_table("cp", records=records)
        assert status == "COPY 300"
        rows = await c.fetch("SELECT * FROM cp ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (i, n, Decimal(p).quantize(Decimal("0.01")), a, t, b, u, j)
            for i, n, p, a, t, b, u, j in records]
        # a subset of the columns, in a different order; async iterables too
        await c.execute("CREATE TABLE cp2 (a int, b text DEFAULT 'd', c int)")

        async def gen():
            for i in range(3):
                yield (f"s{i}", i)
        assert await c.copy_records_to_table("cp2", records=gen(), columns=["b", "a"]) == \
            "COPY 3"
        assert [tuple(r) for r in await c.fetch("SELECT * FROM cp2 ORDER BY a")] == \
            [(0, "s0", None), (1, "s1", None), (2, "s2", None)]
        with pytest.raises(apgerr.UniqueViolationError):
            await c.copy_records_to_table("cp", records=[(1, "dup", None, None, None, None,
                                                          None, None)])
        assert await c.fetchval("SELECT count(*) FROM cp") == 300
    run(body)


def test_copy_to_and_from_table_text_and_csv(run, tmp_path):
    async def body(c):
        await c.execute("CREATE TABLE ct (id int PRIMARY KEY, name text, d date)")
        src = io.BytesIO(b"1\talpha\t2020-01-01\n2\t\\N\t2020-01-02\n")
        assert await c.copy_to_table("ct", source=src) == "COPY 2"
        csv = tmp_path / "in.csv"
        csv.write_text('id,name,d\n3,"with, comma",2021-05-06\n')
        assert await c.copy_to_table("ct", source=str(csv), format="csv", header=True) == \
            "COPY 1"
        out = io.BytesIO()
        assert await c.copy_from_table("ct", output=out) == "COPY 3"
        assert out.getvalue() == (b"1\talpha\t2020-01-01\n2\t\\N\t2020-01-02\n"
                                  b"3\twith, comma\t2021-05-06\n")
        chunks = []

        async def sink(data):
            chunks.append(bytes(data))
        assert await c.copy_from_table("ct", output=sink, columns=["name", "id"],
                                       format="csv", header=True) == "COPY 3"
        assert b"".join(chunks) == b'name,id\nalpha,1\n,2\n"with, comma",3\n'
        out = io.BytesIO()
        assert await c.copy_from_query("SELECT id * $1 FROM ct ORDER BY id", 10,
                                       output=out) == "COPY 3"
        assert out.getvalue() == b"10\n20\n30\n"
        out = io.BytesIO()
        assert await c.copy_from_table("ct", output=out, format="binary") == "COPY 3"
        assert out.getvalue().startswith(b"PGCOPY\n\xff\r\n\x00")
        with pytest.raises(apgerr.InvalidTextRepresentationError):
            await c.copy_to_table("ct", source=io.BytesIO(b"x\ty\t2020-01-01\n"))
        assert await c.fetchval("SELECT count(*) FROM ct") == 3
    run(body)


def test_errors_map_to_asyncpg_classes(run):
    async def body(c):
        await c.execute("CREATE TABLE u (id int PRIMARY KEY, v int NOT NULL)")
        await c.execute("INSERT INTO u VALUES (1, 1)")
        with pytest.raises(apgerr.UniqueViolationError) as e:
            await c.execute("INSERT INTO u VALUES ($1, $2)", 1, 2)
        assert e.value.sqlstate == "23505"
        with pytest.raises(apgerr.UndefinedTableError):
            await c.fetch("SELECT * FROM nope")
        with pytest.raises(apgerr.UndefinedColumnError) as e:
            await c.fetch("SELECT missing FROM u")
        assert e.value.position == "8"
        with pytest.raises(apgerr.DivisionByZeroError):
            await c.fetchval("SELECT 1 / 0")
        with pytest.raises(apgerr.NotNullViolationError):
            await c.execute("INSERT INTO u VALUES (2, NULL)")
        with pytest.raises(apgerr.PostgresSyntaxError):
            await c.execute("SELEC 1")
        with pytest.raises(apgerr.InvalidTextRepresentationError):
            await c.fetchval("SELECT 'x'::int")
        with pytest.raises(apgerr.UndefinedFunctionError):
            await c.fetchval("SELECT no_such_function($1)", 1)
        with pytest.raises(apgerr.NumericValueOutOfRangeError):
            await c.fetchval("SELECT $1::int2 * 1000::int2", 1000)
        # asyncpg checks argument types client-side from the ParameterDescription
        with pytest.raises(asyncpg.DataError):
            await c.fetchval("SELECT $1::int", "not an int")
        # the connection stays usable after each of them
        assert await c.fetchval("SELECT count(*) FROM u") == 1
    run(body)


def test_pool_runs_concurrent_queries(server, dbname):
    async def main():
        async with asyncpg.create_pool(**_kw(server, dbname), min_size=2, max_size=4) as pool:
            await pool.execute("CREATE TABLE pc (id int PRIMARY KEY, who text)")

            async def worker(i):
                async with pool.acquire() as c:
                    async with c.transaction():
                        await c.execute("INSERT INTO pc VALUES ($1, $2)", i, f"w{i}")
                    return await c.fetchval("SELECT who FROM pc WHERE id = $1", i)

            got = await asyncio.gather(*(worker(i) for i in range(24)))
            assert got == [f"w{i}" for i in range(24)]
            sums = await asyncio.gather(*(pool.fetchval("SELECT sum(id) + $1 FROM pc", k)
                                          for k in range(12)))
            assert sums == [276 + k for k in range(12)]
            assert await pool.fetchval("SELECT count(*) FROM pc") == 24
    asyncio.run(main())


def test_types_asyncpg_must_introspect(run):
    """OIDs outside asyncpg's builtin map (array types, int2vector / oidvector) make it run
    its recursive typeinfo query over pg_type; the answers must let it decode them."""
    async def body(c):
        assert await c.fetchval("SELECT '1 2 3'::int2vector") == [1, 2, 3]
        assert await c.fetchval("SELECT '23 25'::oidvector") == [23, 25]
        assert await c.fetchval("SELECT ARRAY['12:00+01'::timetz]") == \
            [dt.time(12, tzinfo=dt.timezone(dt.timedelta(hours=1)))]
        assert await c.fetchval("SELECT $1::regtype[]", ["int4", "text"]) == \
            ["integer", "text"]
        assert await c.fetchval("SELECT 'pg_class'::regclass") == "pg_class"
        assert await c.fetchval("SELECT ARRAY['pg_type'::regclass]") == ["pg_type"]
        assert await c.fetchval("SELECT $1::interval[]", [dt.timedelta(1)]) == \
            [dt.timedelta(1)]
        # pg_index.indkey (int2vector) out of the catalog, through the introspected codec
        await c.execute("CREATE TABLE ix (a int, b int, PRIMARY KEY (b, a))")
        assert await c.fetchval("SELECT indkey FROM pg_index WHERE indrelid = 'ix'::regclass") \
            == [2, 1]
        types = await c.fetch("SELECT typname, typarray FROM pg_type WHERE typname = ANY($1) "
                              "ORDER BY typname", ["int4", "text", "int2vector"])
        assert [tuple(r) for r in types] == [("int2vector", 1006), ("int4", 1007),
                                             ("text", 1009)]
    run(body)


def test_enum_types_are_introspected(run):
    """An enum's OID is a user OID: asyncpg introspects it (typtype 'e') and then sends and
    receives its values as their labels, arrays of it too."""
    async def body(c):
        await c.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        await c.execute("CREATE TABLE moods (id int PRIMARY KEY, m mood, ms mood[])")
        await c.executemany("INSERT INTO moods VALUES ($1, $2, $3)",
                            [(1, "happy", ["sad", "ok"]), (2, "sad", None)])
        rows = await c.fetch("SELECT id, m, ms FROM moods ORDER BY m")
        assert [tuple(r) for r in rows] == [(2, "sad", None), (1, "happy", ["sad", "ok"])]
        assert await c.fetchval("SELECT id FROM moods WHERE m = $1", "happy") == 1
        assert await c.fetchval("SELECT $1::mood > 'sad'", "ok") is True
        assert await c.fetchval("SELECT enum_range(NULL::mood)") == ["sad", "ok", "happy"]
        with pytest.raises(asyncpg.InvalidTextRepresentationError):
            await c.fetchval("SELECT $1::mood", "angry")
    run(body)


ARRAY_VALUES = [
    ("int2", [1]), ("int4", [2]), ("int8", [3]), ("numeric", [Decimal("4.5")]),
    ("float4", [0.5]), ("float8", [0.25]), ("bool", [False]), ("text", ["t"]),
    ("varchar", ["v"]), ("bpchar", ["c"]), ("name", ["n"]), ("char", ["c"]),
    ("bytea", [b"\x01"]), ("date", [dt.date(2000, 1, 2)]), ("time", [dt.time(1, 2)]),
    ("timestamp", [dt.datetime(2000, 1, 2, 3)]),
    ("timestamptz", [dt.datetime(2000, 1, 2, 3, tzinfo=dt.timezone.utc)]),
    ("interval", [dt.timedelta(seconds=5)]), ("uuid", [uuid.UUID(int=7)]),
    ("json", ["[1]"]), ("jsonb", ["[1]"]), ("oid", [26]), ("regtype", ["integer"]),
    ("regclass", ["pg_class"]), ("timetz", [dt.time(1, 2, tzinfo=dt.timezone.utc)]),
]


def test_every_array_type_is_introspected_and_decoded(run):
    """Array OIDs are not in asyncpg's builtin map: each one is looked up through pg_type
    (typelem, typdelim of the element, elemtype::regtype::text) before it can be used,
    as a parameter and as a result."""
    async def body(c):
        for typ, value in ARRAY_VALUES:
            assert await c.fetchval(f"SELECT $1::{typ}[]", value) == value, typ
            assert await c.fetchval(f"SELECT $1::{typ}[]", []) == [], typ
    run(body)


def test_catalog_reads_with_unusual_column_types(run):
    """SELECT * over catalogs returns aclitem[] (text-only in asyncpg, which then asks for
    that column in text), oidvector, int2vector, "char", name, regproc, pg_node_tree."""
    async def body(c):
        await c.execute("CREATE TABLE cat (a int PRIMARY KEY, b text DEFAULT 'x')")
        for rel in ("pg_class", "pg_type", "pg_namespace", "pg_index", "pg_attrdef",
                    "pg_constraint", "pg_database", "pg_roles", "pg_settings", "pg_am",
                    "pg_tables", "pg_views", "pg_indexes", "information_schema.columns",
                    "information_schema.tables"):
            assert len(await c.fetch(f"SELECT * FROM {rel}")) > 0, rel
        cols = await c.fetch("SELECT attname, atttypid::regtype::text AS t, attnotnull "
                             "FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                             "ORDER BY attnum", "cat")
        assert [tuple(r) for r in cols] == [("a", "integer", True), ("b", "text", False)]
        # anyarray columns (pg_attribute.attmissingval, pg_stats) have no codec in asyncpg,
        # against PostgreSQL too (asyncpg issue #498): the same error here
        with pytest.raises(asyncpg.InternalClientError, match="could not resolve"):
            await c.fetch("SELECT attmissingval FROM pg_attribute")
    run(body)


def test_select_star_from_pg_proc(run):
    async def body(c):
        rows = await c.fetch("SELECT * FROM pg_proc")
        assert len(rows) > 500
        assert {r["prosupport"] for r in rows if r["proname"] == "version"} == {"-"}
    run(body)


def test_types_without_a_binary_form_fail_clearly(run):
    async def body(c):
        with pytest.raises(apgerr.FeatureNotSupportedError, match="binary format"):
            await c.fetchval("SELECT ROW(1, 'a')")
        assert await c.fetchval("SELECT 1") == 1
    run(body)


@pytest.mark.xfail(strict=True, reason="ARRAY[int2vector] is typed int2vector (types.array_of "
                   "returns a vector type unchanged), its binary encoding raises struct.error "
                   "and the server drops the connection with an internal error")
def test_array_of_int2vector(run):
    async def body(c):
        assert await c.fetchval("SELECT ARRAY['1 2'::int2vector]") == [[1, 2]]
    run(body)


def test_builtin_oids_are_postgres_oids(run):
    """Every type the server reports (RowDescription / ParameterDescription) is the OID
    PostgreSQL uses, so asyncpg finds it in its builtin map and never introspects it."""
    from asyncpg.protocol import protocol

    async def body(c):
        builtin = protocol.BUILTIN_TYPE_OID_MAP
        exprs = ["1::int2", "1", "1::int8", "1::numeric", "1::float4", "1::float8", "true",
                 "'a'::text", "'a'::varchar", "'a'::char(2)", "'a'::name", "'\\x00'::bytea",
                 "now()::date", "now()::time", "now()::timestamp", "now()",
                 "'1 s'::interval", "gen_random_uuid()", "'1'::json", "'1'::jsonb",
                 "1::oid", "'int4'::regtype", "'12:00+01'::timetz"]
        for e in exprs:
            st = await c.prepare(f"SELECT {e}")
            t = st.get_attributes()[0].type
            assert builtin[t.oid] == t.name, e
        st = await c.prepare("SELECT $1::int8 + $2::float8, $3::text || $4::date")
        assert [(t.oid, t.name) for t in st.get_parameters()] == \
            [(20, "int8"), (701, "float8"), (25, "text"), (1082, "date")]
    run(body)
