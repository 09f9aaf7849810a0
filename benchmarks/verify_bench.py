#!/usr/bin/env python3
"""verify_bench: what a verified row read costs a client, and how big its proof is.

An `immusql serve` child process gets a table loaded by COPY (one transaction per
--batch rows, the way bulk loads arrive). At 1,000, 10,000, 100,000 and 1,000,000 rows
the script times --trips `VERIFY ROW` round trips through the verifying client
(`immusql.client.Client.verify_row`: the state file's lock, the query, and every check
of docs/verify.md section 3 on this side), for uniformly random rows, with a trusted
state at the newest transaction (the steady state of a client: every proof carries a
dual proof). It prints p50 / p99 of the whole call, the share of the server round trip
and of the client's checks, and the size of the two proofs (JSON bytes as sent, and the
number of hashes: the entry's audit path plus the dual proofs' inclusion and consistency
paths), next to log2(rows).

    python benchmarks/verify_bench.py --quick      # up to 100,000 rows (about 1 min)
    python benchmarks/verify_bench.py              # up to 1,000,000 rows

Progress goes to stderr; the table (and --json FILE) to stdout. benchmarks/README.md
explains the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchreport import REPO, log, machine_info, write_json

sys.path.insert(0, REPO)

import psycopg  # noqa: E402

from immusql.client import Client, checks, rows  # noqa: E402
from immusql.kv.proofs import EntryProof  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000)
PASSWORD = "verify-bench"
SEED = 20240611


class Server:
    """`python -m immusql serve` on a fresh directory, port picked by the OS."""

    def __init__(self, directory: str):
        env = dict(os.environ, IMMUSQL_ADMIN_PASSWORD=PASSWORD,
                   PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "immusql", "serve", "--dir", directory, "--port", "0",
             "--log-level", "info"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
            text=True, env=env, cwd=REPO)
        self.port = None
        log_lines = []
        for line in self.proc.stderr:
            log_lines.append(line)
            m = re.search(r"listening on \S+ port (\d+)", line)
            if m and self.port is None:
                self.port = int(m.group(1))
            if "ready to accept connections" in line:
                break
        else:
            raise RuntimeError("the server did not start:\n" + "".join(log_lines))
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def dsn(self, db: str = "immusql") -> str:
        return (f"host=127.0.0.1 port={self.port} dbname={db} user=immusql "
                f"password={PASSWORD} sslmode=disable")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(120)


def load(conn, start: int, end: int, batch: int, rng: random.Random) -> None:
    """Rows start+1..end, one COPY (one transaction) per `batch` rows."""
    done = start
    t0 = time.monotonic()
    while done < end:
        n = min(batch, end - done)
        with conn.cursor().copy("COPY bench (id, owner, balance, created) FROM STDIN") as cp:
            for i in range(done + 1, done + n + 1):
                cp.write_row((i, f"owner-{i:08d}", f"{rng.randrange(10**7) / 100:.2f}",
                              "2024-06-11 12:00:00+00"))
        done += n
        if (done - start) % (batch * 100) == 0:
            rate = (done - start) / (time.monotonic() - t0)
            log(f"  loaded {done:,} rows ({rate:,.0f} rows/s)")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure(client: Client, conn, n: int, trips: int, rng: random.Random) -> dict:
    """`trips` verified reads of random rows of the first `n`, from the newest state."""
    client.verify_state()  # the steady state: trusted = the newest transaction
    ids = [rng.randint(1, n) for _ in range(trips)]
    for i in ids[:50]:  # warm up (connection, caches)
        client.verify_row("bench", {"id": i})
    total = []
    for i in ids:
        t0 = time.perf_counter()
        row = client.verify_row("bench", {"id": i})
        total.append(time.perf_counter() - t0)
        assert row.values["id"] == i
    # the same calls split: the server round trip alone, then the client's checks alone
    since = client.state.tx_id
    server, verify, sizes, hashes, parts = [], [], [], [], None
    for i in ids[: min(trips, 500)]:
        t0 = time.perf_counter()
        cur = conn.execute("VERIFY ROW FROM bench WHERE id = %s SINCE TX %s", (i, since))
        r = cur.fetchone()
        server.append(time.perf_counter() - t0)
        names = [d.name for d in cur.description]
        t0 = time.perf_counter()
        p = EntryProof.from_json(r[-2])
        sp = EntryProof.from_json(r[-1])
        s1 = checks.check_entry(p, client.state, None)
        checks.check_entry(sp, s1, None)
        rows.check_row("bench", None, {"id": i}, None, False, names[:-2], list(r[:-2]),
                       (p.key, p.value, p.md), (sp.key, sp.value, sp.md))
        verify.append(time.perf_counter() - t0)
        sizes.append(len(json.dumps(r[-2], separators=(",", ":")))
                     + len(json.dumps(r[-1], separators=(",", ":"))))
        h = (len(p.inclusion.terms) + len(sp.inclusion.terms),
             sum(len(d.inclusion) + len(d.consistency) for d in (p.dual, sp.dual) if d))
        hashes.append(sum(h))
        parts = parts or h
    ms = 1000
    return {"rows": n, "p50_ms": statistics.median(total) * ms, "p99_ms": pct(total, 99) * ms,
            "server_p50_ms": statistics.median(server) * ms,
            "verify_p50_ms": statistics.median(verify) * ms,
            "proof_bytes": statistics.median(sizes), "proof_bytes_max": max(sizes),
            "hashes": statistics.median(hashes), "hashes_max": max(hashes),
            "log2_rows": math.log2(n), "trips": trips}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="stop at 100,000 rows")
    ap.add_argument("--rows", type=int, help="stop at this size (one of 1k, 10k, 100k, 1M "
                    "or any number: the sizes up to it are measured)")
    ap.add_argument("--trips", type=int, default=2000, help="timed calls per size")
    ap.add_argument("--batch", type=int, default=1000, help="rows per COPY transaction")
    ap.add_argument("--dir", help="where the data directory goes (default: a temporary "
                    "directory, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--json", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    top = args.rows or (100_000 if args.quick else 1_000_000)
    sizes = [s for s in SIZES if s <= top] + ([top] if top not in SIZES else [])
    base = tempfile.mkdtemp(prefix="verifybench-", dir=args.dir)
    log(f"data directory {base}")
    machine = machine_info(base)
    server = Server(os.path.join(base, "data"))
    rng = random.Random(SEED)
    results = []
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE TABLE bench (id bigint PRIMARY KEY, owner text, "
                         "balance numeric(12,2), created timestamptz)")
            client = Client(conn, state_dir=os.path.join(base, "state"))
            loaded = 0
            for n in sizes:
                log(f"loading up to {n:,} rows")
                load(conn, loaded, n, args.batch, rng)
                loaded = n
                log(f"measuring {args.trips:,} verified reads at {n:,} rows")
                r = measure(client, conn, n, args.trips, rng)
                r["txs"] = client.state.tx_id
                results.append(r)
                log(f"  p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                    f"proof {r['proof_bytes']:.0f} bytes, {r['hashes']:.0f} hashes")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(f"VERIFY ROW + client verification, {args.trips:,} random rows per size, "
          f"{args.batch:,} rows per COPY transaction")
    print(f"machine: {machine.get('cpu', '?')}, {machine.get('cpus')} CPUs, Python "
          f"{machine.get('python')}, immusql {machine.get('immusql_revision')}")
    head = ("rows", "txs", "p50 ms", "p99 ms", "server p50", "verify p50", "proof bytes",
            "hashes", "log2(rows)")
    table = [(f"{r['rows']:,}", f"{r['txs']:,}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
              f"{r['server_p50_ms']:.2f}", f"{r['verify_p50_ms']:.2f}",
              f"{r['proof_bytes']:,.0f}", f"{r['hashes']:.0f}", f"{r['log2_rows']:.1f}")
             for r in results]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(head)]
    print(" | ".join(h.rjust(w) for h, w in zip(head, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in table:
        print(" | ".join(c.rjust(w) for c, w in zip(row, widths)))
    target = all(r["p50_ms"] < 2 for r in results)
    print(f"target p50 < 2 ms: {'ok' if target else 'MISSED'}")
    if args.json:
        write_json(args.json, {"machine": machine, "results": results, "batch": args.batch,
                               "trips": args.trips})
    return 0


if __name__ == "__main__":
    sys.exit(main())
