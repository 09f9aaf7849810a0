#!/usr/bin/env python3
"""kv_bench: immusql.kv measured side by side with Python's sqlite3 doing the same work.

Every figure is printed for both engines with the ratio immusql / sqlite3, because an
absolute number on one machine says little: sqlite3 on the same disk, with the same batch
size and the same durability setting, is the yardstick. Durability is matched as
  immusql synced=True   <->  sqlite3 journal_mode=WAL, synchronous=FULL
  immusql synced=False  <->  sqlite3 journal_mode=WAL, synchronous=OFF
and the sqlite3 table is `kv(key BLOB PRIMARY KEY, value BLOB)`.

Run `python benchmarks/kv_bench.py --help`; see benchmarks/README.md for what each figure
means. Progress goes to stderr, the final table to stdout (and `--json FILE`).

The script re-invokes itself (`--child ...`) for the figures that need a fresh process:
peak memory, and a writer that is killed with SIGKILL for the unclean-open figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from benchreport import (
    ENGINES,
    Figure,
    Progress,
    Results,
    Target,
    log,
    machine_info,
    median_of,
    print_report,
    write_json,
)

SECTIONS = ("writes", "commits", "get", "verified", "check", "memory", "disk", "open")
NEEDS_DATA = {"get", "verified", "check", "memory", "disk", "open"}
DEFAULT_ENTRIES = 1_000_000
QUICK_ENTRIES = 100_000
BATCH = 1000
SEED = 20240601

# ---------------------------------------------------------------------------- data set ----
def key_of(i: int) -> bytes:
    """Fixed-width keys, so both engines index byte-identical keys of one size."""
    return b"key-%012d" % i


def _scatter_multiplier(n: int) -> int:
    """A multiplier coprime with n: i -> i*m mod n is then a permutation of range(n)."""
    m = 2654435761  # Knuth's multiplicative hashing constant (a prime)
    while math.gcd(m, n) != 1:
        m += 2
    return m


def batches(n: int, batch: int, value_size: int, start: int = 0):
    """Yield lists of (key, value) covering keys start..start+n-1 in a scattered order.

    Keys are inserted out of order (a multiplicative permutation) because sequential keys
    flatter every B-tree; values are random so neither engine gains from compression.
    """
    m = _scatter_multiplier(n)
    for lo in range(0, n, batch):
        hi = min(lo + batch, n)
        blob = os.urandom(value_size * (hi - lo))
        yield [(key_of(start + (i * m) % n), blob[(i - lo) * value_size:(i - lo + 1) * value_size])
               for i in range(lo, hi)]


def random_keys(n: int, count: int, seed: int) -> list[bytes]:
    """Uniformly random existing keys, generated before any timing starts."""
    rng = random.Random(seed)
    return [key_of(rng.randrange(n)) for _ in range(count)]


def _spread(runs: list[float]) -> str:
    return ", ".join(f"{r:,.0f}" for r in runs)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# ----------------------------------------------------------------------------- engines ----
class ImmuEngine:
    """immusql.kv behind the small interface the benchmark needs.

    immusql is imported lazily so a sqlite3 child process does not pay for it in memory.
    """

    name = "immusql"

    def __init__(self, path: str, synced: bool, create: bool = False):
        from immusql.kv import Store
        self.path = path
        self.store = Store.open(path, synced=synced)

    def write_batch(self, pairs: list[tuple[bytes, bytes]]) -> None:
        self.store.set(pairs)

    def open_writer(self):
        """(put, close) for one writer thread: all threads share the Store (group commit)."""
        return (lambda k, v: self.store.set([(k, v)])), (lambda: None)

    def get(self, key: bytes) -> bytes:
        return self.store.get(key).value

    def check(self, progress: Progress | None) -> int:
        """Full re-verification; returns the number of entries checked."""
        cb = None if progress is None else (lambda done, total: progress.update(done))
        return self.store.check(progress=cb).entries

    def tx_count(self) -> int:
        return self.store.last_committed

    def close(self) -> None:
        self.store.close()

    @staticmethod
    def files(path: str) -> list[str]:
        out = []
        for root, _, names in os.walk(path):
            out.extend(os.path.join(root, n) for n in names)
        return out


class SqliteEngine:
    """sqlite3 configured to promise what immusql promises (see the module docstring)."""

    name = "sqlite3"
    SELECT = "SELECT value FROM kv WHERE key=?"

    def __init__(self, path: str, synced: bool, create: bool = False):
        self.path, self.synced = path, synced
        self.conn = self._connect()
        if create:
            self.conn.execute("CREATE TABLE IF NOT EXISTS kv(key BLOB PRIMARY KEY, value BLOB)")

    def _connect(self) -> sqlite3.Connection:
        """One connection with the matched durability; autocommit mode, explicit BEGINs.

        The busy timeout lets concurrent writer connections queue on the write lock
        instead of failing with 'database is locked'.
        """
        conn = sqlite3.connect(self.path, timeout=120, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self.synced else 'OFF'}")
        return conn

    def write_batch(self, pairs: list[tuple[bytes, bytes]]) -> None:
        """One transaction per batch; INSERT OR REPLACE has immusql's set (upsert) meaning."""
        c = self.conn
        c.execute("BEGIN")
        try:
            c.executemany("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", pairs)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def open_writer(self):
        """(put, close) with a connection of its own, as sqlite3 needs one per thread.

        BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that upgrades
        from reader to writer can fail with SQLITE_BUSY without waiting for the timeout.
        """
        conn = self._connect()

        def put(k: bytes, v: bytes) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (k, v))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return put, conn.close

    def get(self, key: bytes) -> bytes:
        row = self.conn.execute(self.SELECT, (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def check(self, progress: Progress | None) -> int:
        """PRAGMA integrity_check; returns the row count (counted before, untimed)."""
        result = self.conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            raise RuntimeError(f"integrity_check failed: {result[:5]}")
        return -1  # the caller knows the row count

    def row_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM kv").fetchone()[0]

    def close(self) -> None:
        self.conn.close()

    @staticmethod
    def files(path: str) -> list[str]:
        return [p for p in (path, path + "-wal", path + "-shm", path + "-journal")
                if os.path.exists(p)]


ENGINE_CLASSES = {"immusql": ImmuEngine, "sqlite3": SqliteEngine}


# ----------------------------------------------------------------------------- results ----
WRITE_TARGET = Target(">=", 500_000, ">= 500,000/s")
OPEN_TARGET = Target("<", 1000.0, "< 1 s")
VERIFIED_TARGET = Target("<", 1.0, "< 1 ms")

FIGURES = [
    Figure("writes_synced", "batched writes, synced (entries/s)", "/s", WRITE_TARGET),
    Figure("writes_async", "batched writes, async (entries/s)", "/s", WRITE_TARGET),
    Figure("commits_1", "1-entry synced commits, 1 thread (tx/s)", "/s"),
    Figure("commits_16", "1-entry synced commits, 16 threads (tx/s)", "/s"),
    Figure("get", "random get (ops/s)", "/s"),
    Figure("verified_p50", "verified get + verify p50 (ms)", "ms", VERIFIED_TARGET),
    Figure("verified_p99", "verified get + verify p99 (ms)", "ms"),
    Figure("point_p50", "  plain point read p50, for scale (ms)", "ms"),
    Figure("point_p99", "  plain point read p99, for scale (ms)", "ms"),
    Figure("check", "check / integrity_check (entries/s)", "/s"),
    Figure("open_clean", "open + first get, after clean close (ms)", "ms", OPEN_TARGET),
    Figure("open_unclean", "open + first get, after SIGKILL (ms)", "ms", OPEN_TARGET),
    Figure("rss", "peak RSS, fresh process: open + 10k gets (MiB)", "MiB"),
    Figure("disk", "disk used, N-entry data set (MiB)", "MiB"),
]


class KvResults(Results):
    """The fixed FIGURES, in order; the table shows those measured, with a target column."""

    with_targets = True

    def __init__(self):
        super().__init__(FIGURES)

    def put(self, key: str, engine: str, value: float | None) -> None:
        self.figures[key].values[engine] = value

    def na(self, key: str, engine: str) -> None:
        self.figures[key].na[engine] = "no equivalent"

    def fail(self, key: str, engine: str, exc: BaseException) -> None:
        self.record_error(self.figures[key], engine,
                          f"{key} [{engine}]: {type(exc).__name__}: {exc}")

    def shown(self) -> list[Figure]:
        return [f for f in self.figures.values() if f.values or f.errors or f.na]

    def figure_json(self, f: Figure) -> dict:
        return {**super().figure_json(f), "not_applicable": sorted(f.na)}


# ------------------------------------------------------------------------ child process ----
def proc_status() -> dict:
    """Memory of this process, in KiB: peak (VmHWM, ru_maxrss) and current anon/file RSS.

    LMDB and sqlite read through the page cache; file-backed pages mapped by LMDB count in
    RSS (RssFile), which is why anon and file are reported separately.
    """
    out = {"ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    out[name] = int(rest.split()[0])
    except OSError:
        pass
    return out


def child_memory(engine: str, path: str, n: int, gets: int) -> None:
    """Open the N-entry data set in this fresh process, do `gets` random reads, report RSS."""
    baseline = proc_status()
    if engine == "immusql":
        import immusql.kv  # noqa: F401  (count the import in the baseline, not the work)
        baseline = proc_status()
    keys = random_keys(n, gets, SEED + 7)
    eng = ENGINE_CLASSES[engine](path, synced=True)
    for k in keys:
        eng.get(k)
    after = proc_status()
    eng.close()
    print(json.dumps({"baseline": baseline, "after": after}), flush=True)


def child_writer(engine: str, path: str, start: int, batch: int, value_size: int,
                 limit: int) -> None:
    """Write batches of new keys forever, one acknowledged line per batch, until killed.

    The parent kills this process with SIGKILL while it is writing. After `limit` batches
    it sleeps rather than exits, so it can never close the store cleanly.
    """
    eng = ENGINE_CLASSES[engine](path, synced=True)
    for j, pairs in enumerate(batches(limit * batch, batch, value_size, start=start)):
        eng.write_batch(pairs)
        print(f"acked {j + 1} {pairs[-1][0].decode()}", flush=True)
    time.sleep(3600)


def run_child(args) -> None:
    if args.child == "memory":
        child_memory(args.engine, args.path, args.entries, args.gets)
    elif args.child == "writer":
        child_writer(args.engine, args.path, args.start, BATCH, args.value_size,
                     args.limit)
    else:
        raise SystemExit(f"unknown child mode {args.child}")


def child_command(*extra: str) -> list[str]:
    return [sys.executable, os.path.abspath(__file__), *extra]


# ---------------------------------------------------------------------------- the bench ----
class Bench:
    """Runs the selected sections in a fixed order and collects figures into Results.

    Order matters: the N-entry data set is built once (synced) and read by later sections;
    the unclean-open section appends to it, so it runs last.
    """

    def __init__(self, args, workdir: str):
        self.args, self.workdir = args, workdir
        self.n = args.entries
        self.results = KvResults()
        self.built: dict[str, bool] = {}
        self.paths = {"immusql": os.path.join(workdir, "kvbench-immusql"),
                      "sqlite3": os.path.join(workdir, "kvbench-sqlite.db")}

    # -- helpers ------------------------------------------------------------------------
    def attempt(self, key: str, engine: str, fn) -> None:
        """Run one measurement; a failure is recorded and reported, the run goes on."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001  (a benchmark reports, it does not stop)
            self.results.fail(key, engine, e)

    def open(self, engine: str, synced: bool = True):
        if not self.built.get(engine):
            raise RuntimeError("the N-entry data set could not be built")
        return ENGINE_CLASSES[engine](self.paths[engine], synced=synced)

    def scratch(self, label: str, engine: str) -> str:
        """A fresh path for a throwaway store (removed right after its section)."""
        suffix = "" if engine == "immusql" else ".db"
        return os.path.join(self.workdir, f"kvbench-{label}-{engine}{suffix}")

    def remove(self, path: str) -> None:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        for p in (path, path + "-wal", path + "-shm", path + "-journal"):
            if os.path.isfile(p):
                os.unlink(p)

    # -- sections -----------------------------------------------------------------------
    def run(self, sections: list[str]) -> Results:
        if "writes" in sections or NEEDS_DATA & set(sections):
            self.build_data_set()
        for name in sections:
            log(f"section {name}" + (" (async)" if name == "writes" else ""))
            if name == "writes":
                self.section_writes_async()
            else:
                getattr(self, f"section_{name}")()
        return self.results

    def fill(self, engine_obj, label: str, n: int) -> float:
        """Write n entries in batches of BATCH; entries/s over the time spent in writes only.

        Generating the batches is excluded, so both engines are charged for storage work
        alone.
        """
        progress = Progress(label, n)
        busy, done = 0.0, 0
        for pairs in batches(n, BATCH, self.args.value_size):
            t0 = time.perf_counter()
            engine_obj.write_batch(pairs)
            busy += time.perf_counter() - t0
            done += len(pairs)
            progress.update(done)
        return n / busy

    def build_data_set(self) -> None:
        """The synced N-entry data set every read section uses; its build is 'writes_synced'."""
        log(f"section writes (synced): building the {self.n:,}-entry data set")
        for engine in ENGINES:
            path = self.paths[engine]
            self.remove(path)

            def build():
                e = ENGINE_CLASSES[engine](path, synced=True, create=True)
                try:
                    rate = self.fill(e, f"{engine} batched writes (synced)", self.n)
                finally:
                    e.close()
                self.results.put("writes_synced", engine, rate)
                self.built[engine] = True
                log(f"  {engine}: {rate:,.0f} entries/s")
            self.attempt("writes_synced", engine, build)

    def section_writes_async(self) -> None:
        """Same batched load with asynchronous commits, into a throwaway store."""
        for engine in ENGINES:
            path = self.scratch("async", engine)
            self.remove(path)

            def measure():
                e = ENGINE_CLASSES[engine](path, synced=False, create=True)
                try:
                    rate = self.fill(e, f"{engine} batched writes (async)", self.n)
                finally:
                    e.close()
                self.results.put("writes_async", engine, rate)
                log(f"  {engine}: {rate:,.0f} entries/s")
            try:
                self.attempt("writes_async", engine, measure)
            finally:
                self.remove(path)

    def section_commits(self) -> None:
        """Single-entry synced transactions: the fsync-per-commit path and group commit.

        A fixed number of transactions bounds the run. immusql shares one Store between
        threads (so concurrent commits can share an fsync); sqlite3 uses one connection
        per thread, as it requires, queueing on its write lock through the busy timeout.
        """
        for threads in (1, 16):
            key = f"commits_{threads}"
            for engine in ENGINES:
                path = self.scratch(f"commits{threads}", engine)

                def one_round() -> float:
                    self.remove(path)
                    try:
                        return self.commit_rate(engine, path, threads, self.args.commits)
                    finally:
                        self.remove(path)

                def measure():
                    rate, runs = median_of(self.args.repeat, one_round)
                    self.results.put(key, engine, rate)
                    self.results.note(f"commits {engine}, {threads} thread(s): median of "
                                      f"{len(runs)} runs of {self.args.commits:,} tx: "
                                      f"{_spread(runs)} tx/s")
                self.attempt(key, engine, measure)

    def commit_rate(self, engine: str, path: str, threads: int, total: int) -> float:
        eng = ENGINE_CLASSES[engine](path, synced=True, create=True)
        per_thread = max(1, total // threads)
        value = os.urandom(self.args.value_size)
        barrier = threading.Barrier(threads + 1)
        errors: list[BaseException] = []
        elapsed = 0.0

        def work(t: int) -> None:
            put, close = eng.open_writer()
            try:
                barrier.wait()
                for j in range(per_thread):
                    put(b"commit-%02d-%09d" % (t, j), value)
            except BaseException as e:  # noqa: BLE001  (re-raised by the main thread)
                errors.append(e)
                barrier.abort()
            finally:
                close()
        workers = [threading.Thread(target=work, args=(t,), daemon=True)
                   for t in range(threads)]
        try:
            for w in workers:
                w.start()
            barrier.wait()
            t0 = time.perf_counter()
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - t0
        except threading.BrokenBarrierError:
            for w in workers:
                w.join()
        finally:
            eng.close()
        if errors:
            raise errors[0]
        return per_thread * threads / elapsed

    def section_get(self) -> None:
        """Random point reads of existing keys, one thread, page cache warm."""
        keys = random_keys(self.n, self.args.reads, SEED)
        for engine in ENGINES:
            def measure():
                e = self.open(engine)

                def one_round() -> float:
                    t0 = time.perf_counter()
                    for k in keys:
                        e.get(k)
                    return len(keys) / (time.perf_counter() - t0)
                try:
                    for k in keys[:1000]:  # warm the engine's own caches
                        e.get(k)
                    rate, runs = median_of(self.args.repeat, one_round)
                finally:
                    e.close()
                self.results.put("get", engine, rate)
                self.results.note(f"get {engine}: median of {len(runs)} runs of "
                                  f"{len(keys):,} gets: {_spread(runs)} gets/s")
            self.attempt("get", engine, measure)

    def section_verified(self) -> None:
        """Latency of a verified read as a client sees it: proof from the store, then checked.

        since_tx is always the verifier's trusted tx, so (after the first read) each proof
        carries a dual proof linking the entry's tx and the trusted state. sqlite3 has
        nothing equivalent; plain point-read latencies of both engines are given for scale.
        """
        keys = random_keys(self.n, self.args.verified, SEED + 1)
        self.attempt("verified_p50", "immusql", lambda: self.verified_latency(keys))
        for f in ("verified_p50", "verified_p99"):
            self.results.na(f, "sqlite3")
        for engine in ENGINES:
            self.attempt("point_p50", engine, lambda: self.point_latency(engine, keys))

    def verified_latency(self, keys: list[bytes]) -> None:
        from immusql.kv import Verifier
        e = self.open("immusql")
        total, server, client = [], [], []
        try:
            verifier = Verifier(e.store.db)
            clock = time.perf_counter_ns
            for k in keys:
                t0 = clock()
                proof = e.store.verifiable_get(k, since_tx=verifier.state.tx_id)
                t1 = clock()
                verifier.verify_entry(proof)
                t2 = clock()
                server.append((t1 - t0) / 1e6)
                client.append((t2 - t1) / 1e6)
                total.append((t2 - t0) / 1e6)
            final_tx = verifier.state.tx_id
        finally:
            e.close()
        total.sort(), server.sort(), client.sort()
        self.results.put("verified_p50", "immusql", percentile(total, 50))
        self.results.put("verified_p99", "immusql", percentile(total, 99))
        self.results.note(
            f"verified get split (immusql, ms): verifiable_get p50 {percentile(server, 50):.3f}"
            f" p99 {percentile(server, 99):.3f}; Verifier.verify_entry p50 "
            f"{percentile(client, 50):.3f} p99 {percentile(client, 99):.3f}; "
            f"{len(keys):,} reads, verifier ended trusting tx {final_tx:,}")
        log(f"  immusql verified p50 {percentile(total, 50):.3f} ms, "
            f"p99 {percentile(total, 99):.3f} ms")

    def point_latency(self, engine: str, keys: list[bytes]) -> None:
        e = self.open(engine)
        lat = []
        try:
            clock = time.perf_counter_ns
            for k in keys:
                t0 = clock()
                e.get(k)
                lat.append((clock() - t0) / 1e6)
        finally:
            e.close()
        lat.sort()
        self.results.put("point_p50", engine, percentile(lat, 50))
        self.results.put("point_p99", engine, percentile(lat, 99))

    def section_check(self) -> None:
        """Whole-store verification speed: immusql check() vs PRAGMA integrity_check.

        They do not do the same work: check() re-hashes every value and transaction and
        rebuilds the hash tree; integrity_check walks the B-trees. Both are the 'is my data
        intact' tool of their engine, hence side by side.
        """
        for engine in ENGINES:
            def measure():
                e = self.open(engine)
                try:
                    rows = e.row_count() if engine == "sqlite3" else None
                    if engine == "sqlite3":
                        log("  sqlite3: PRAGMA integrity_check (no progress available)")
                    t0 = time.perf_counter()
                    checked = e.check(Progress(f"{engine} check", e.tx_count(),
                                               "transactions")
                                      if engine == "immusql" else None)
                    elapsed = time.perf_counter() - t0
                finally:
                    e.close()
                entries = rows if rows is not None else checked
                self.results.put("check", engine, entries / elapsed)
                log(f"  {engine}: {entries:,} entries in {elapsed:.2f}s")
            self.attempt("check", engine, measure)

    def section_memory(self) -> None:
        """Peak RSS of a fresh process that opens the data set and does 10,000 random gets.

        A child process is the only honest way: the parent has already touched everything.
        """
        for engine in ENGINES:
            def measure():
                if not self.built.get(engine):
                    raise RuntimeError("the N-entry data set could not be built")
                out = subprocess.run(
                    child_command("--child", "memory", "--engine", engine, "--path",
                                  self.paths[engine], "--entries", str(self.n),
                                  "--gets", "10000"),
                    capture_output=True, text=True, timeout=3600)
                if out.returncode != 0:
                    raise RuntimeError(f"memory child failed: {out.stderr.strip()[-2000:]}")
                m = json.loads(out.stdout.strip().splitlines()[-1])
                after, base = m["after"], m["baseline"]
                peak = after.get("VmHWM", after["ru_maxrss"])
                self.results.put("rss", engine, peak / 1024)
                self.results.note(
                    f"memory {engine}: peak {peak / 1024:.1f} MiB (after imports "
                    f"{base.get('VmHWM', base['ru_maxrss']) / 1024:.1f} MiB); at the end "
                    f"anon {after.get('RssAnon', 0) / 1024:.1f} MiB, file-backed "
                    f"{after.get('RssFile', 0) / 1024:.1f} MiB")
            self.attempt("rss", engine, measure)

    def section_disk(self) -> None:
        """Bytes the N-entry data set occupies after a clean close (allocated blocks)."""
        for engine in ENGINES:
            def measure():
                if not self.built.get(engine):
                    raise RuntimeError("the N-entry data set could not be built")
                files = ENGINE_CLASSES[engine].files(self.paths[engine])
                allocated = sum(os.stat(p).st_blocks * 512 for p in files)
                apparent = sum(os.path.getsize(p) for p in files)
                self.results.put("disk", engine, allocated / 2**20)
                per_entry = allocated / self.n
                self.results.note(
                    f"disk {engine}: {allocated / 2**20:,.1f} MiB allocated "
                    f"({per_entry:,.0f} B/entry for {self.args.value_size} B values), "
                    f"{apparent / 2**20:,.1f} MiB apparent, {len(files)} files")
                if engine == "immusql":
                    self.results.note("disk immusql by part: " + _by_part(self.paths[engine]))
            self.attempt("disk", engine, measure)

    def section_open(self) -> None:
        """Open time, clean and after a SIGKILL, measured as open + first point read.

        'Open' alone would flatter sqlite3, whose connect() is lazy: the first read is where
        it actually reads the schema (and, after a crash, replays the WAL index).
        """
        for engine in ENGINES:
            self.attempt("open_clean", engine, lambda: self.clean_open(engine))
        for engine in ENGINES:
            self.attempt("open_unclean", engine, lambda: self.unclean_open(engine))

    def timed_open(self, engine: str, key: bytes) -> float:
        t0 = time.perf_counter()
        e = self.open(engine)
        try:
            e.get(key)
            return time.perf_counter() - t0
        finally:
            e.close()

    def clean_open(self, engine: str) -> None:
        """Median of three reopen cycles (each ends with a clean close)."""
        key = key_of(self.n // 2)
        times = sorted(self.timed_open(engine, key) for _ in range(3))
        self.results.put("open_clean", engine, times[1] * 1000)
        log(f"  {engine} clean open: {times[1] * 1000:.1f} ms (runs: "
            f"{', '.join(f'{t * 1000:.1f}' for t in times)} ms)")

    def unclean_open(self, engine: str) -> None:
        """Kill a writer with SIGKILL mid-stream, then time the recovery open.

        The writer appends new keys in synced batches; after it acknowledged
        --kill-after batches the parent kills it by pid. The reopen must then find the last
        acknowledged key, which doubles as a durability check.
        """
        if not self.built.get(engine):
            raise RuntimeError("the N-entry data set could not be built")
        acked, last_key = self.kill_writer(engine)
        t = self.timed_open(engine, last_key.encode())
        self.results.put("open_unclean", engine, t * 1000)
        self.results.note(
            f"unclean open {engine}: writer killed (SIGKILL) after {acked} acknowledged "
            f"batches of {BATCH} entries, while writing the next; reopen took {t * 1000:.1f} "
            f"ms and found the last acknowledged key")
        log(f"  {engine} open after SIGKILL: {t * 1000:.1f} ms")

    def kill_writer(self, engine: str) -> tuple[int, str]:
        want = self.args.kill_after
        err_path = os.path.join(self.workdir, f"kvbench-writer-{engine}.stderr")
        with open(err_path, "w") as err:
            proc = subprocess.Popen(
                child_command("--child", "writer", "--engine", engine, "--path",
                              self.paths[engine], "--start", str(self.n * 2),
                              "--limit", str(want * 20),
                              "--value-size", str(self.args.value_size)),
                stdout=subprocess.PIPE, stderr=err, text=True)
            acked, last_key = 0, ""
            try:
                while acked < want:
                    line = proc.stdout.readline()
                    if not line:
                        break
                    _, count, last_key = line.split()
                    acked = int(count)
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                proc.stdout.close()
        if acked < want:
            with open(err_path) as f:
                raise RuntimeError(f"writer stopped after {acked} batches: "
                                   f"{f.read().strip()[-2000:]}")
        os.unlink(err_path)
        return acked, last_key


def _by_part(path: str) -> str:
    """Allocated MiB per immusql sub-directory (tx log, values, index...)."""
    parts = []
    for name in sorted(os.listdir(path)):
        p = os.path.join(path, name)
        files = ImmuEngine.files(p) if os.path.isdir(p) else [p]
        size = sum(os.stat(f).st_blocks * 512 for f in files)
        if size:
            parts.append(f"{name} {size / 2**20:,.1f}")
    return ", ".join(parts)


# -------------------------------------------------------------------------------- main ----
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Benchmark immusql.kv against sqlite3 doing the equivalent work.",
        epilog="Sections: " + ", ".join(SECTIONS) + ". Targets: batched writes >= "
               "500,000 entries/s, open < 1 s, verified read p50 < 1 ms.")
    p.add_argument("--entries", type=int, default=None,
                   help=f"size N of the data set (default {DEFAULT_ENTRIES:,})")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: N={QUICK_ENTRIES:,} unless --entries is given")
    p.add_argument("--dir", help="work directory (default: a new temporary directory)")
    p.add_argument("--keep", action="store_true",
                   help="keep the data sets (default: removed at the end)")
    p.add_argument("--only", help="comma-separated sections to run (default: all)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--value-size", type=int, default=100, help="value bytes (default 100)")
    p.add_argument("--commits", type=int, default=2000,
                   help="transactions per single-entry commit run (default 2000)")
    p.add_argument("--reads", type=int, default=100_000,
                   help="random gets for the get/s figure (default 100,000)")
    p.add_argument("--verified", type=int, default=10_000,
                   help="verified reads for the latency figures (default 10,000)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of the short sections (commits, get); the median is "
                        "reported (default 3)")
    p.add_argument("--kill-after", type=int, default=100,
                   help="acknowledged batches before the writer is killed (default 100)")
    # internal: the script re-invokes itself for fresh-process measurements
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    p.add_argument("--path", help=argparse.SUPPRESS)
    p.add_argument("--gets", type=int, default=10_000, help=argparse.SUPPRESS)
    p.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.entries is None:
        args.entries = QUICK_ENTRIES if args.quick else DEFAULT_ENTRIES
    if args.entries < BATCH:
        p.error(f"--entries must be at least {BATCH}")
    args.sections = list(SECTIONS)
    if args.only:
        chosen = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in SECTIONS]
        if unknown:
            p.error(f"unknown section(s) {', '.join(unknown)}; choose from "
                    f"{', '.join(SECTIONS)}")
        args.sections = [s for s in SECTIONS if s in chosen]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        run_child(args)
        return 0
    own_dir = args.dir is None
    workdir = tempfile.mkdtemp(prefix="kvbench-") if own_dir else os.path.abspath(args.dir)
    os.makedirs(workdir, exist_ok=True)
    log(f"work directory {workdir}; N = {args.entries:,}; sections: {', '.join(args.sections)}")
    bench = Bench(args, workdir)
    started = time.monotonic()
    try:
        meta = {"machine": machine_info(workdir)}
        results = bench.run(args.sections)
    finally:
        if not args.keep:
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                for p in bench.paths.values():
                    bench.remove(p)
    meta["args"] = {k: v for k, v in vars(args).items()
                    if k not in ("child", "engine", "path", "gets", "start", "limit")}
    meta["elapsed_s"] = round(time.monotonic() - started, 1)
    print_report(results, meta, [
        f"kv_bench: N = {args.entries:,} entries, {args.value_size} B values, {BATCH} entries "
        f"per batch; ratio = immusql / sqlite3"])
    if args.json:
        write_json(args.json, results.to_json(meta))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
