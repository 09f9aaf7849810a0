#!/usr/bin/env python3
"""sql_bench: immusql's SQL layer measured side by side with Python's sqlite3.

Both engines get the same schema, the same rows, the same batch sizes and comparable
durability: immusql's store fsyncs every commit (`synced=True`, the default), sqlite3 runs
with `journal_mode=WAL, synchronous=FULL`. Every figure is printed for both, with the
ratio immusql / sqlite3.

Figures: bulk insert (multi-row INSERT ... VALUES with %s parameters, a commit per
statement), point select by primary key, secondary-index lookup, a 3-table join, a GROUP
BY over every row, and the parse / plan cost of a statement (with a breakdown of one
immusql point select). `--profile DIR` adds pyinstrument profiles of the insert and
point-select paths and prints their hotspots.

Run `python benchmarks/sql_bench.py --help`; benchmarks/README.md explains each figure.
Progress goes to stderr; the final table, notes and errors to stdout (and `--json FILE`).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback

from benchreport import (
    ENGINES,
    REPO,
    Progress,
    Results,
    log,
    machine_info,
    median_of,
    print_report,
    write_json,
)

import immusql
from immusql import errors as sql_errors

DEFAULT_ROWS = 1_000_000
QUICK_ROWS = 100_000
DEFAULT_BATCH = 1000
SEED = 20240601

REGIONS = ("north", "south", "east", "west")
CATEGORIES = ("books", "music", "games", "garden", "tools", "toys", "food", "sports",
              "beauty", "office")
STATUSES = ("new", "paid", "shipped", "cancelled")

# ------------------------------------------------------------------------------ schema ----
# immusql gets PostgreSQL types; sqlite3 the closest affinities. `INTEGER PRIMARY KEY`
# makes the id sqlite's rowid (a table clustered on its key, as immusql's rows are keyed
# by primary key); both engines get the one secondary index on orders.customer_id.
SCHEMA = {
    "immusql": [
        "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, "
        "region text NOT NULL, segment int NOT NULL)",
        "CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL, "
        "category text NOT NULL, price double precision NOT NULL)",
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, "
        "product_id bigint NOT NULL, qty int NOT NULL, amount double precision NOT NULL, "
        "status text NOT NULL, note text)",
        "CREATE INDEX orders_customer ON orders (customer_id)",
    ],
    "sqlite3": [
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "region TEXT NOT NULL, segment INTEGER NOT NULL)",
        "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "category TEXT NOT NULL, price REAL NOT NULL)",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
        "product_id INTEGER NOT NULL, qty INTEGER NOT NULL, amount REAL NOT NULL, "
        "status TEXT NOT NULL, note TEXT)",
        "CREATE INDEX orders_customer ON orders (customer_id)",
    ],
}
COLUMNS = {
    "customers": ("id", "name", "region", "segment"),
    "products": ("id", "name", "category", "price"),
    "orders": ("id", "customer_id", "product_id", "qty", "amount", "status", "note"),
}
SECONDARY_INDEXES = {"customers": 0, "products": 0, "orders": 1}

POINT_SQL = ("SELECT id, customer_id, product_id, qty, amount, status, note "
             "FROM orders WHERE id = %s")
INDEX_SQL = "SELECT id, product_id, qty, amount FROM orders WHERE customer_id = %s"
JOIN_SQL = ("SELECT o.id, c.name, p.name, o.qty, o.amount "
            "FROM orders o JOIN customers c ON c.id = o.customer_id "
            "JOIN products p ON p.id = o.product_id "
            "WHERE c.region = %s AND p.category = %s AND o.qty >= %s ORDER BY o.id")
JOIN_PARAMS = ("north", "books", 5)
GROUP_SQL = ("SELECT status, count(*), sum(amount), avg(qty) FROM orders "
             "GROUP BY status ORDER BY status")


def insert_sql(table: str, rows: int) -> str:
    cols = COLUMNS[table]
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES " + ", ".join([one] * rows)


def qmark(sql: str) -> str:
    """%s placeholders -> sqlite's ? (the statements here have no % elsewhere)."""
    return sql.replace("%s", "?")


# ---------------------------------------------------------------------------- data set ----
def sizes(n: int) -> tuple[int, int]:
    """(customers, products) for N orders: ~10 orders per customer, up to 1,000 products."""
    return max(100, n // 10), max(10, min(1000, n // 100))


def customer_rows(lo: int, hi: int) -> list[tuple]:
    return [(i, f"customer {i}", REGIONS[(i * 7) % 4], i % 5) for i in range(lo, hi)]


def product_rows(lo: int, hi: int) -> list[tuple]:
    rng = random.Random(SEED + 1 + lo)
    return [(i, f"product {i}", CATEGORIES[i % len(CATEGORIES)], round(rng.uniform(1, 200), 2))
            for i in range(lo, hi)]


def order_rows(lo: int, hi: int, customers: int, products: int) -> list[tuple]:
    """Orders lo..hi-1 (ids ascending, as from a sequence); the same rows for a given range
    whatever the batch size, so both engines always get identical data."""
    out = []
    for i in range(lo, hi):
        rng = random.Random(SEED * 7919 + i)
        out.append((i, rng.randint(1, customers), rng.randint(1, products), rng.randint(1, 10),
                    round(rng.uniform(1, 1000), 2), rng.choice(STATUSES),
                    None if rng.random() < 0.1 else f"note for order {i}"))
    return out


def flat(rows: list[tuple]) -> list:
    return [v for r in rows for v in r]


# ------------------------------------------------------------------------------ engines ----
class ImmuSide:
    name = "immusql"

    def __init__(self, path: str, max_tx_entries: int | None):
        options = {} if max_tx_entries is None else {"max_tx_entries": max_tx_entries}
        self.path = path
        self.conn = immusql.connect(path, **options)  # synced=True: fsync per commit
        self.cur = self.conn.cursor()

    @property
    def max_tx_entries(self) -> int:
        return self.conn._engine.store.options.max_tx_entries

    def execute(self, sql: str, params=None) -> list:
        self.cur.execute(sql, params)
        return self.cur.fetchall() if self.cur.description is not None else []

    def begin(self) -> None:
        pass  # the connection opens a transaction block at the first statement

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def reads_mode(self) -> None:
        self.conn.autocommit = True  # every read its own snapshot, as sqlite3 below

    def explain(self, sql: str, params) -> list[str]:
        return [r[0] for r in self.execute("EXPLAIN " + sql, params)]

    def close(self) -> None:
        self.conn.close()


class SqliteSide:
    name = "sqlite3"

    def __init__(self, path: str):
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")

    def execute(self, sql: str, params=None) -> list:
        return self.conn.execute(qmark(sql), params or ()).fetchall()

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def reads_mode(self) -> None:
        pass  # isolation_level=None: each SELECT outside BEGIN is its own transaction

    def explain(self, sql: str, params) -> list[str]:
        return [r[-1] for r in self.execute("EXPLAIN QUERY PLAN " + sql, params)]

    def close(self) -> None:
        self.conn.close()


def describe_error(exc: BaseException) -> str:
    code = getattr(exc, "sqlstate", None)
    return f"{type(exc).__name__}" + (f" [{code}]" if code else "") + f": {exc}"


def short_sql(sql: str, limit: int = 160) -> str:
    return sql if len(sql) <= limit else sql[:limit] + f"... ({len(sql):,} chars)"


# ----------------------------------------------------------------------------- results ----
class SqlResults(Results):
    """Figures in the order they are first recorded, each with its label and unit; failed
    statements keep their SQL in the error list; profiler hotspots go in the JSON."""

    def __init__(self):
        super().__init__()
        self.hotspots: dict = {}

    def put(self, key: str, label: str, unit: str, engine: str, value: float) -> None:
        self.figure(key, label, unit).values[engine] = value

    def na(self, key: str, label: str, unit: str, engine: str, why: str) -> None:
        self.figure(key, label, unit).na[engine] = why

    def fail(self, key: str, label: str, unit: str, engine: str, exc: BaseException,
             sql: str | None = None) -> None:
        msg = f"{label.strip()} [{engine}]: {describe_error(exc)}"
        if sql:
            msg += f"\n    SQL: {short_sql(sql, 400)}"
        self.record_error(self.figure(key, label, unit), engine, msg)

    def to_json(self, meta: dict) -> dict:
        return {**super().to_json(meta), "hotspots": self.hotspots}


# ------------------------------------------------------------------------------- bench ----
class Bench:
    def __init__(self, args, workdir: str):
        self.args = args
        self.workdir = workdir
        self.n = args.rows
        self.customers, self.products = sizes(self.n)
        self.results = SqlResults()
        self.paths = {"immusql": os.path.join(workdir, "sqlbench-immusql"),
                      "sqlite3": os.path.join(workdir, "sqlbench-sqlite3.db")}
        self.sides: dict = {}
        self.batch = args.batch  # rows per INSERT of orders, settled by probe_batch
        self.loaded: dict[str, bool] = {}
        self.checks: dict[str, dict] = {e: {} for e in ENGINES}  # result checksums

    # ------------------------------------------------------------------ set-up ---------
    def remove_data(self) -> None:
        for p in self.paths.values():
            for q in (p, p + "-wal", p + "-shm"):
                if os.path.isdir(q):
                    shutil.rmtree(q, ignore_errors=True)
                elif os.path.exists(q):
                    os.unlink(q)

    def open(self) -> None:
        self.remove_data()
        self.sides["immusql"] = ImmuSide(self.paths["immusql"], self.args.max_tx_entries)
        self.sides["sqlite3"] = SqliteSide(self.paths["sqlite3"])

    def close(self) -> None:
        for side in self.sides.values():
            try:
                side.close()
            except Exception:  # noqa: BLE001
                traceback.print_exc(file=sys.stderr)

    def create_schema(self) -> None:
        for engine, side in self.sides.items():
            for stmt in SCHEMA[engine]:
                try:
                    side.begin()
                    side.execute(stmt)
                    side.commit()
                except Exception as e:
                    side.rollback()
                    self.results.fail("schema", "schema", "s", engine, e, stmt)
                    raise

    def probe_batch(self) -> None:
        """The largest multi-row INSERT into orders immusql takes in one transaction.

        immusql's store caps a transaction at max_tx_entries keys (1,024 unless set at
        creation), and a row costs 1 entry plus 1 per secondary index. Each attempt runs
        in a transaction that is rolled back, so nothing is written.
        """
        side, r = self.sides["immusql"], self.results
        limit = side.max_tx_entries
        per_row = 1 + SECONDARY_INDEXES["orders"]
        rows = order_rows(1, self.batch + 1, self.customers, self.products)

        def fits(k: int) -> tuple[bool, BaseException | None]:
            sql = insert_sql("orders", k)
            try:
                side.execute(sql, flat(rows[:k]))
                return True, None
            except sql_errors.Error as e:
                return False, e
            finally:
                side.rollback()

        ok, err = fits(self.batch)
        if ok:
            r.note(f"immusql: a {self.batch:,}-row INSERT into orders fits one transaction "
                   f"(store limit {limit:,} entries, {per_row} per row)")
            return
        cols = ", ".join(COLUMNS["orders"])
        r.note(f"immusql REFUSED the requested batch: INSERT INTO orders ({cols}) VALUES "
               f"(%s, ...) x {self.batch:,} rows, in a transaction block -> the INSERT "
               f"raised {describe_error(err)}")
        lo, hi = 0, self.batch  # lo fits (0 trivially), hi does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fits(mid)[0]:
                lo = mid
            else:
                hi = mid
        chosen = lo - lo % 100 if lo >= 100 else lo
        r.note(f"immusql: largest INSERT into orders that fits one transaction = {lo:,} rows "
               f"(max_tx_entries {limit:,}; each row is 1 row entry + {per_row - 1} secondary-"
               f"index entry); both engines use {chosen:,} rows per statement and commit. "
               f"Raise the limit with --max-tx-entries (a store creation option).")
        if chosen < 1:
            raise RuntimeError("no INSERT batch size fits an immusql transaction")
        self.batch = chosen

    # ------------------------------------------------------------------ loading --------
    def load_table(self, engine: str, table: str, total: int, batch: int, make) -> float:
        """Insert rows 1..total in multi-row INSERTs of `batch` rows, a commit per batch;
        seconds spent in execute + commit (row generation excluded)."""
        side = self.sides[engine]
        spent = 0.0
        full_sql = insert_sql(table, batch)
        prog = Progress(f"{engine} {table}", total, "rows")
        for lo in range(1, total + 1, batch):
            hi = min(lo + batch, total + 1)
            params = flat(make(lo, hi))
            sql = full_sql if hi - lo == batch else insert_sql(table, hi - lo)
            t0 = time.perf_counter()
            try:
                side.begin()
                side.execute(sql, params)
                side.commit()
            except Exception as e:
                side.rollback()
                e.add_note(f"batch rows {lo}..{hi - 1}")
                e.sql = sql  # type: ignore[attr-defined]
                raise
            spent += time.perf_counter() - t0
            prog.update(hi - 1)
        return spent

    def run_load(self) -> None:
        r = self.results
        label = f"bulk insert orders, {self.batch:,} rows/INSERT+commit (rows/s)"
        dims_label = "  load customers + products, 1,000 rows/INSERT (rows/s)"
        r.figure("insert", label, "/s")  # the headline row first in the table
        for engine in ENGINES:
            log(f"{engine}: loading {self.customers:,} customers, {self.products:,} products")
            try:
                t = self.load_table(engine, "customers", self.customers,
                                    min(DEFAULT_BATCH, self.dim_batch()), customer_rows)
                t += self.load_table(engine, "products", self.products,
                                     min(DEFAULT_BATCH, self.dim_batch()), product_rows)
                r.put("load_dims", dims_label, "/s", engine,
                      (self.customers + self.products) / t)
            except Exception as e:
                r.fail("load_dims", dims_label, "/s", engine, e, getattr(e, "sql", None))
                continue
            log(f"{engine}: loading {self.n:,} orders, {self.batch:,} rows per INSERT")
            try:
                t = self.load_table(engine, "orders", self.n, self.batch,
                                    lambda lo, hi: order_rows(lo, hi, self.customers,
                                                              self.products))
                r.put("insert", label, "/s", engine, self.n / t)
                self.loaded[engine] = True
                log(f"{engine}: {self.n / t:,.0f} rows/s ({t:.1f} s in INSERT + COMMIT)")
            except Exception as e:
                r.fail("insert", label, "/s", engine, e, getattr(e, "sql", None))

    def dim_batch(self) -> int:
        return self.sides["immusql"].max_tx_entries  # no secondary index: 1 entry a row

    # ------------------------------------------------------------------ reads ----------
    def timed_queries(self, engine: str, sql: str, params_list: list, what: str):
        """(seconds, rows returned, sum of first columns) for running every parameter tuple
        once, after an untimed warm-up over the first tenth of them."""
        side = self.sides[engine]
        for params in params_list[:max(1, len(params_list) // 10)]:
            side.execute(sql, params)  # warm-up, untimed: caches, specialised bytecode
        total_rows = 0
        checksum = 0
        prog = Progress(f"{engine} {what}", len(params_list), "queries")
        t0 = time.perf_counter()
        for i, params in enumerate(params_list):
            rows = side.execute(sql, params)
            total_rows += len(rows)
            for row in rows:
                checksum += row[0]
            if i & 1023 == 0:
                prog.update(i)
        return time.perf_counter() - t0, total_rows, checksum

    def run_point(self) -> None:
        rng = random.Random(SEED + 2)
        keys = [(rng.randint(1, self.n),) for _ in range(self.args.point)]
        label = f"point select by PK, {len(keys):,} random ids (queries/s)"
        lat_label = "  point select latency, mean (us)"
        for engine in self.ready_engines():
            try:
                t, nrows, checksum = self.timed_queries(engine, POINT_SQL, keys, "point select")
                self.results.put("point", label, "/s", engine, len(keys) / t)
                self.results.put("point_us", lat_label, "us", engine, t / len(keys) * 1e6)
                self.checks[engine]["point"] = (nrows, checksum)
                if nrows != len(keys):
                    self.results.note(f"{engine}: point select returned {nrows:,} rows for "
                                      f"{len(keys):,} existing ids")
            except Exception as e:
                self.results.fail("point", label, "/s", engine, e, POINT_SQL)

    def run_index(self) -> None:
        rng = random.Random(SEED + 3)
        ids = [(rng.randint(1, self.customers),) for _ in range(self.args.lookups)]
        label = f"secondary-index lookup, {len(ids):,} customer_ids (queries/s)"
        for engine in self.ready_engines():
            try:
                t, nrows, checksum = self.timed_queries(engine, INDEX_SQL, ids, "index lookup")
                self.results.put("index", label, "/s", engine, len(ids) / t)
                self.checks[engine]["index"] = (nrows, checksum)
                if engine == "immusql":
                    self.results.note(f"secondary-index lookup returns {nrows / len(ids):.1f} "
                                      f"rows per query on average ({nrows:,} rows in all)")
            except Exception as e:
                self.results.fail("index", label, "/s", engine, e, INDEX_SQL)

    def timed_statement(self, key: str, label: str, sql: str, params) -> None:
        for engine in self.ready_engines():
            side = self.sides[engine]
            runs = []
            try:
                for i in range(self.args.repeat):
                    t0 = time.perf_counter()
                    rows = side.execute(sql, params)
                    runs.append(time.perf_counter() - t0)
                    log(f"  {engine} {key} run {i + 1}: {runs[-1]:.3f} s, {len(rows):,} rows")
                self.results.put(key, label, "s", engine, statistics.median(runs))
                self.checks[engine][key] = rows
            except Exception as e:
                self.results.fail(key, label, "s", engine, e, sql)

    def run_join(self) -> None:
        self.timed_statement(
            "join", "3-table join orders x customers x products, filtered (s)", JOIN_SQL,
            JOIN_PARAMS)

    def run_group(self) -> None:
        self.timed_statement("group", f"GROUP BY status over all {self.n:,} orders (s)",
                             GROUP_SQL, None)

    def ready_engines(self) -> list[str]:
        return [e for e in ENGINES if self.loaded.get(e)]

    # ------------------------------------------------------------------ parse / plan ---
    def run_parse(self) -> None:
        """Parse and plan cost per statement. immusql: `immusql.parser.parse`, then
        parse + QueryPlanner.plan_query; sqlite3 parses and plans in C inside
        sqlite3_prepare, estimated as an uncached `EXPLAIN QUERY PLAN` (prepare plus a
        trivial step)."""
        from immusql.dbapi import convert_params
        from immusql.parser import parse
        r = self.results
        reps = self.args.parse_reps
        batch_sql = insert_sql("orders", self.batch)
        statements = [("point", "point select", POINT_SQL, (42,)),
                      ("join", "3-table join", JOIN_SQL, JOIN_PARAMS)]
        for key, what, sql, params in statements:
            text, _ = convert_params(sql, params)
            label = f"parse, {what} (us)"
            try:
                r.put(f"parse_{key}", label, "us", "immusql",
                      per_call_us(lambda: parse(text), reps))
            except Exception as e:
                r.fail(f"parse_{key}", label, "us", "immusql", e, text)
            r.na(f"parse_{key}", label, "us", "sqlite3", "parsing is C inside sqlite3_prepare")
            label = f"parse + plan, {what} (us)"
            if self.loaded.get("immusql"):
                try:
                    r.put(f"plan_{key}", label, "us", "immusql",
                          per_call_us(self.immu_planner(text, params), reps))
                except Exception as e:
                    r.fail(f"plan_{key}", label, "us", "immusql", e, text)
            try:
                r.put(f"plan_{key}", label, "us", "sqlite3",
                      per_call_us(sqlite_prepare(self.paths["sqlite3"], sql, params), reps))
            except Exception as e:
                r.fail(f"plan_{key}", label, "us", "sqlite3", e, sql)
        label = f"parse, {self.batch:,}-row INSERT (us per row)"
        try:
            params = flat(order_rows(1, self.batch + 1, self.customers, self.products))
            text, _ = convert_params(batch_sql, params)
            us = per_call_us(lambda: parse(text), max(3, reps // 200))
            r.put("parse_insert", label, "us", "immusql", us / self.batch)
            conv = per_call_us(lambda: convert_params(batch_sql, params), max(3, reps // 200))
            label2 = f"  %s -> $n rewrite, {self.batch:,}-row INSERT (us per row)"
            r.put("convert_insert", label2, "us", "immusql", conv / self.batch)
            r.na("convert_insert", label2, "us", "sqlite3", "sqlite3 binds ? natively")
        except Exception as e:
            r.fail("parse_insert", label, "us", "immusql", e, short_sql(batch_sql))
        r.na("parse_insert", label, "us", "sqlite3", "parsing is C inside sqlite3_prepare")

    def immu_planner(self, text: str, params):
        """A callable: parse + plan (no execution) of `text` in a fresh read transaction."""
        from immusql.parser import parse
        from immusql.planner.context import StatementContext
        from immusql.planner.select import QueryPlanner
        side = self.sides["immusql"]
        session, store = side.conn._session, side.conn._engine.store

        def run():
            stmt = parse(text)[0]
            tx = store.transaction()
            try:
                ctx = StatementContext(session, tx, list(params))
                ctx.track_reads = False
                QueryPlanner(ctx).plan_query(stmt)
            finally:
                tx.rollback()
        return run

    def run_breakdown(self) -> None:
        """Where one immusql point select spends its time, phase by phase, through the same
        internals `cursor.execute` calls (dbapi -> parser -> planner -> store)."""
        if not self.loaded.get("immusql"):
            return
        from immusql.dbapi import convert_params
        from immusql.parser import ast, parse
        from immusql.planner.context import StatementContext
        from immusql.planner.select import QueryPlanner
        r = self.results
        side = self.sides["immusql"]
        session, store = side.conn._session, side.conn._engine.store
        rng = random.Random(SEED + 4)
        keys = [rng.randint(1, self.n) for _ in range(self.args.breakdown)]
        phases = {"convert": 0.0, "parse": 0.0, "context": 0.0, "plan": 0.0, "execute": 0.0,
                  "finish": 0.0}
        cursor_t = 0.0
        try:
            rel = None
            row_keys = []
            for k in keys:
                t0 = time.perf_counter()
                text, values = convert_params(POINT_SQL, (k,))
                t1 = time.perf_counter()
                stmt = parse(text)[0]
                t2 = time.perf_counter()
                tx = store.transaction()
                ctx = StatementContext(session, tx, values)  # includes the catalog check
                ctx.track_reads = False
                t3 = time.perf_counter()
                plan = QueryPlanner(ctx).plan_query(stmt)
                t4 = time.perf_counter()
                rows = plan.rows()
                t5 = time.perf_counter()
                tx.commit()
                out = [tuple(x) for x in rows]
                t6 = time.perf_counter()
                assert len(out) == 1
                t7 = time.perf_counter()
                side.execute(POINT_SQL, (k,))  # the whole DB-API path, for comparison
                cursor_t += time.perf_counter() - t7
                for name, a, b in (("convert", t0, t1), ("parse", t1, t2), ("context", t2, t3),
                                   ("plan", t3, t4), ("execute", t4, t5), ("finish", t5, t6)):
                    phases[name] += b - a
                if rel is None:
                    rel = ctx.find_relation(ast.Name(("orders",)))
                row_keys.append(ctx.codec(rel).key_of_pk((k,)))
            t0 = time.perf_counter()
            for key in row_keys:
                tx = store.transaction()
                tx.get(key)
                tx.commit()
            read = time.perf_counter() - t0
        except Exception as e:
            r.fail("bd_total", "point select breakdown", "us", "immusql", e, POINT_SQL)
            return
        n = len(keys)
        us = {k: v / n * 1e6 for k, v in phases.items()}
        read_us = read / n * 1e6
        total = sum(us.values())
        names = [("convert", "%s -> $n parameter rewrite"),
                 ("parse", "parse"),
                 ("context", "begin tx + statement context + catalog check"),
                 ("plan", "plan (QueryPlanner.plan_query)"),
                 ("execute", "execute: key lookup + row decode"),
                 ("finish", "commit (no writes) + result tuples")]
        r.put("bd_total", f"point select, phases summed, {n:,} queries (us)", "us", "immusql",
              total)
        r.na("bd_total", f"point select, phases summed, {n:,} queries (us)", "us", "sqlite3",
             "phases not separable")
        for key, what in names:
            r.put(f"bd_{key}", f"  {what} (us)", "us", "immusql", us[key])
            r.na(f"bd_{key}", f"  {what} (us)", "us", "sqlite3", "in C")
        label = "  store read alone: begin + Transaction.get(row key) + commit (us)"
        r.put("bd_read", label, "us", "immusql", read_us)
        r.na("bd_read", label, "us", "sqlite3", "in C")
        cursor_us = cursor_t / n * 1e6
        label = "  whole cursor.execute + fetchall, same keys, interleaved (us)"
        r.put("bd_cursor", label, "us", "immusql", cursor_us)
        r.na("bd_cursor", label, "us", "sqlite3", "see the point select latency row")
        label = "point select minus the store read (us)"
        r.put("bd_minus", label, "us", "immusql", cursor_us - read_us)
        r.na("bd_minus", label, "us", "sqlite3", "in C")
        r.note(f"immusql point select breakdown: the phases sum to {total:.1f} us, the whole "
               f"DB-API call on the same keys at the same time takes {cursor_us:.1f} us, the "
               f"row's store read {read_us:.1f} us; besides the row, each statement reads "
               f"the catalog version key (counted under 'context')")

    # ------------------------------------------------------------------ plans / checks --
    def run_explain(self) -> None:
        for engine in self.ready_engines():
            side = self.sides[engine]
            for what, sql, params in (("point", POINT_SQL, (1,)), ("index", INDEX_SQL, (1,)),
                                      ("join", JOIN_SQL, JOIN_PARAMS)):
                try:
                    plan = side.explain(sql, params)
                    self.results.note(f"{engine} plan, {what}: " + " / ".join(
                        p.strip() for p in plan))
                except Exception as e:
                    self.results.note(f"{engine} EXPLAIN {what} failed: {describe_error(e)}")

    def compare_results(self) -> None:
        a, b = self.checks["immusql"], self.checks["sqlite3"]
        for key in ("point", "index"):
            if key in a and key in b and a[key] != b[key]:
                self.results.note(f"MISMATCH {key}: immusql (rows, sum of ids) {a[key]} vs "
                                  f"sqlite3 {b[key]}")
        if "join" in a and "join" in b:
            ia = [(r[0], r[1], r[2], r[3], round(float(r[4]), 2)) for r in a["join"]]
            ib = [(r[0], r[1], r[2], r[3], round(float(r[4]), 2)) for r in b["join"]]
            if ia != ib:
                self.results.note(f"MISMATCH join: immusql {len(ia):,} rows vs sqlite3 "
                                  f"{len(ib):,} rows (or different content)")
            else:
                self.results.note(f"join returns {len(ia):,} rows, identical in both engines")
        if "group" in a and "group" in b:
            ga = [(r[0], r[1], round(float(r[2]), 2)) for r in a["group"]]
            gb = [(r[0], r[1], round(float(r[2]), 2)) for r in b["group"]]
            same = [(x[0], x[1]) for x in ga] == [(x[0], x[1]) for x in gb] and all(
                abs(x[2] - y[2]) <= 1e-6 * max(1.0, abs(y[2])) for x, y in zip(ga, gb))
            self.results.note("GROUP BY results " + ("agree" if same else
                                                     f"DIFFER: immusql {ga} vs sqlite3 {gb}"))

    # ------------------------------------------------------------------ profile --------
    def run_profile(self) -> None:
        """pyinstrument over extra work on the loaded data: more orders inserted (new ids
        past N) and more point selects. Separate from the timed runs, which it would skew."""
        if not self.loaded.get("immusql"):
            return
        from pyinstrument import Profiler
        os.makedirs(self.args.profile, exist_ok=True)
        side = self.sides["immusql"]
        batches = self.args.profile_batches
        rng = random.Random(SEED + 5)
        keys = [(rng.randint(1, self.n),) for _ in range(self.args.profile_queries)]
        start = self.n + 1
        sql = insert_sql("orders", self.batch)
        data = [flat(order_rows(lo, lo + self.batch, self.customers, self.products))
                for lo in range(start, start + batches * self.batch, self.batch)]
        work = {
            "insert": (f"{batches} INSERTs of {self.batch} rows + COMMIT", lambda: [
                (side.execute(sql, params), side.commit()) for params in data]),
            "point": (f"{len(keys):,} point selects", lambda: [
                side.execute(POINT_SQL, k) for k in keys]),
        }
        side.conn.autocommit = False
        for name, (what, fn) in work.items():
            if name == "point":
                side.reads_mode()
            log(f"profiling immusql {name}: {what}")
            prof = Profiler(interval=0.0005)
            prof.start()
            try:
                fn()
            finally:
                prof.stop()
            session = prof.last_session
            base = os.path.join(self.args.profile, f"sqlbench-{name}")
            with open(base + ".txt", "w") as f:
                f.write(prof.output_text(unicode=True, color=False, show_all=False))
            with open(base + ".html", "w") as f:
                f.write(prof.output_html())
            spots = hotspots(session.root_frame())
            spots["what"] = what
            self.results.hotspots[name] = spots
            log(f"  wrote {base}.txt and {base}.html")

    # ------------------------------------------------------------------ run ------------
    def run(self) -> Results:
        r = self.results
        self.open()
        try:
            self.create_schema()
            self.probe_batch()
            self.run_load()
            for side in self.sides.values():
                side.reads_mode()
            for name, fn in (("plans", self.run_explain), ("point select", self.run_point),
                             ("secondary index", self.run_index), ("join", self.run_join),
                             ("group by", self.run_group), ("parse/plan", self.run_parse),
                             ("point select breakdown", self.run_breakdown)):
                log(f"section: {name}")
                fn()
            self.compare_results()
            if self.args.profile:
                self.run_profile()
        except Exception as e:  # a set-up failure: report it and print what there is
            if not r.errors:
                r.errors.append(f"aborted: {describe_error(e)}")
            traceback.print_exc(file=sys.stderr)
        finally:
            self.close()
        return r


def per_call_us(fn, reps: int) -> float:
    """Median over 5 rounds of the mean time per call, in microseconds."""
    fn()  # warm up (parser tables, caches)
    per_round = max(1, reps // 5)

    def one_round() -> float:
        t0 = time.perf_counter()
        for _ in range(per_round):
            fn()
        return (time.perf_counter() - t0) / per_round * 1e6
    return median_of(5, one_round)[0]


def sqlite_prepare(path: str, sql: str, params):
    """A callable: sqlite3 prepares (parses + plans) `sql` afresh every call; EXPLAIN QUERY
    PLAN makes the step that follows trivial. cached_statements=0 defeats the statement
    cache of the sqlite3 module."""
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=0)
    text = "EXPLAIN QUERY PLAN " + qmark(sql)

    def run():
        conn.execute(text, params).fetchall()
    return run


# wrappers whose inclusive time is only their callee's: left out of the inclusive list
PASS_THROUGH = {"immusql/dbapi.py:execute", "immusql/dbapi.py:_run",
                "immusql/planner/session.py:_run", "immusql/planner/dispatch.py:run_statement",
                "lark/parser_frontends.py:parse", "lark/parsers/lalr_parser.py:parse"}


def hotspots(root, top: int = 12) -> dict:
    """Self and inclusive time per file:function from a pyinstrument frame tree."""
    total = root.time or 1e-9
    self_t: dict[str, float] = {}
    incl_t: dict[str, float] = {}
    stack = [(root, frozenset())]
    while stack:
        frame, above = stack.pop()
        name = _frame_name(frame)
        if name is None:  # pyinstrument's synthetic [self]/[await] leaves: the parent's
            continue
        own = frame.time - sum(c.time for c in frame.children if _frame_name(c) is not None)
        self_t[name] = self_t.get(name, 0.0) + own
        if name not in above:  # count recursion once
            incl_t[name] = incl_t.get(name, 0.0) + frame.time
        for c in frame.children:
            stack.append((c, above | {name}))
    by_file: dict[str, float] = {}
    for name, t in self_t.items():
        f = name.rsplit(":", 1)[0]
        by_file[f] = by_file.get(f, 0.0) + t

    def pct(d: dict, n: int = top) -> list:
        return [(k, round(100 * v / total, 1)) for k, v in
                sorted(d.items(), key=lambda kv: -kv[1])[:n]]
    inclusive = [(k, p) for k, p in pct(incl_t, len(incl_t))
                 if ("immusql/" in k or "lark/" in k) and k not in PASS_THROUGH][:top]
    return {"total_s": round(total, 3), "self": pct(self_t), "by_file": pct(by_file),
            "inclusive": inclusive}


def _frame_name(frame) -> str | None:
    if frame.is_synthetic:
        return None
    path = frame.file_path or "?"
    if path.startswith(REPO + os.sep):
        path = os.path.relpath(path, REPO)
    elif "site-packages" + os.sep in path:
        path = path.split("site-packages" + os.sep, 1)[1]
    elif "lib" + os.sep + "python" in path:
        path = "stdlib/" + os.path.basename(path)
    return f"{path}:{frame.function}"


# -------------------------------------------------------------------------------- main ----
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Benchmark immusql's SQL layer against sqlite3 doing the same work.")
    p.add_argument("--rows", type=int, default=None,
                   help=f"orders N (default {DEFAULT_ROWS:,}); customers N/10, products "
                        f"min(1,000, N/100)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: N = {QUICK_ROWS:,} unless --rows is given")
    p.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                   help="rows per INSERT statement and per commit (default 1,000; lowered "
                        "to what fits one immusql transaction if needed)")
    p.add_argument("--max-tx-entries", type=int, default=None,
                   help="immusql store creation option (default: the store's, 1,024)")
    p.add_argument("--point", type=int, default=20_000, help="point selects (default 20,000)")
    p.add_argument("--lookups", type=int, default=5_000,
                   help="secondary-index lookups (default 5,000)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of the join and GROUP BY; the median is reported (default 3)")
    p.add_argument("--parse-reps", type=int, default=2_000,
                   help="calls per parse / plan figure (default 2,000)")
    p.add_argument("--breakdown", type=int, default=5_000,
                   help="point selects timed phase by phase (default 5,000)")
    p.add_argument("--profile", metavar="DIR",
                   help="also profile the immusql insert and point-select paths with "
                        "pyinstrument (reports in DIR, hotspots in the output)")
    p.add_argument("--profile-batches", type=int, default=40,
                   help="INSERT batches profiled (default 40)")
    p.add_argument("--profile-queries", type=int, default=10_000,
                   help="point selects profiled (default 10,000)")
    p.add_argument("--dir", help="work directory (default: a new temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the databases")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.rows is None:
        args.rows = QUICK_ROWS if args.quick else DEFAULT_ROWS
    if args.rows < 1000:
        p.error("--rows must be at least 1,000")
    if args.batch < 1:
        p.error("--batch must be positive")
    return args


def print_hotspots(results: SqlResults) -> None:
    for name, spots in results.hotspots.items():
        print()
        print(f"hotspots, immusql {name} ({spots['what']}, {spots['total_s']:.2f} s sampled), "
              f"% of sampled time:")
        print("  self time by function:")
        for k, pct in spots["self"][:8]:
            print(f"    {pct:5.1f}%  {k}")
        print("  self time by file:")
        for k, pct in spots["by_file"][:6]:
            print(f"    {pct:5.1f}%  {k}")
        print("  inclusive time (immusql and lark functions):")
        for k, pct in spots["inclusive"][:10]:
            print(f"    {pct:5.1f}%  {k}")


def main(argv=None) -> int:
    args = parse_args(argv)
    own_dir = args.dir is None
    workdir = tempfile.mkdtemp(prefix="sqlbench-") if own_dir else os.path.abspath(args.dir)
    os.makedirs(workdir, exist_ok=True)
    log(f"work directory {workdir}; N = {args.rows:,} orders")
    bench = Bench(args, workdir)
    started = time.monotonic()
    meta = {"machine": machine_info(workdir)}
    try:
        results = bench.run()
    finally:
        if not args.keep:
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                bench.remove_data()
    if args.keep:
        log(f"databases kept in {workdir}")
    meta["args"] = vars(args)
    meta["batch_used"] = bench.batch
    meta["elapsed_s"] = round(time.monotonic() - started, 1)
    print_report(results, meta, [
        f"sql_bench: {bench.n:,} orders, {bench.customers:,} customers, {bench.products:,} "
        f"products; {bench.batch:,} rows per INSERT and commit; ratio = immusql / sqlite3 "
        f"(/s: > 1 means immusql is faster; s, us: > 1 means immusql is slower)",
        "durability: immusql fsync per commit; sqlite3 journal_mode=WAL, synchronous=FULL",
    ], extra=lambda: print_hotspots(results))
    if args.json:
        write_json(args.json, results.to_json(meta))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
