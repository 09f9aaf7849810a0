#!/usr/bin/env python3
"""pgbench_compare: `immusql serve` and PostgreSQL 15 driven by the same pgbench runs.

Both servers run on this machine, on loopback, each in a new temporary directory, with
comparable durability: immusql's store fsyncs every commit (its default), PostgreSQL runs
with fsync = on, synchronous_commit = on and full_page_writes = on. Both are initialised
with `pgbench -i -s N`, then every workload runs against one server and then the other,
combination by combination, so both see the same machine load.

Workloads (each with 1 and 16 clients, in `-M extended` and `-M prepared`):

- point select: `SELECT abalance FROM pgbench_accounts WHERE aid = :aid` (what `-S` does)
- insert: one row into `bench_insert (id bigint PRIMARY KEY, ...)`, a random 63-bit key
- update: `UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid`
- tpcb-like: pgbench's built-in read-write mix (3 updates, 1 select, 1 insert per tx)

Every run uses `--max-tries` so that serialization failures (immusql commits
optimistically; every tpcb-like transaction updates the one branch row at scale 1) are
retried by pgbench instead of counted as failed. TPS counts committed transactions only.

Run `python benchmarks/pgbench_compare.py --help`; benchmarks/README.md explains the output.
Progress goes to stderr; the table, notes and errors to stdout (and `--json FILE`).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from benchreport import REPO, log, machine_info, write_json

sys.path.insert(0, os.path.join(REPO, "tests", "sql"))
from pg import BINDIR, PostgresError, PostgresServer  # noqa: E402

ENGINES = ("immusql", "postgresql")
PGBENCH = shutil.which("pgbench") or str(BINDIR / "pgbench")
PASSWORD = "pgbench-compare-local"  # a throwaway server on loopback
MAX_TRIES = "1000"

# fair durability: a commit returns after its WAL record is flushed to disk
PG_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}

SCRIPTS = {
    "select": "\\set aid random(1, 100000 * :scale)\n"
              "SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n",
    "insert": "\\set id random(1, 9000000000000000000)\n"
              "\\set aid random(1, 100000 * :scale)\n"
              "\\set delta random(-5000, 5000)\n"
              "INSERT INTO bench_insert (id, aid, delta, mtime) "
              "VALUES (:id, :aid, :delta, CURRENT_TIMESTAMP);\n",
    "update": "\\set aid random(1, 100000 * :scale)\n"
              "\\set delta random(-5000, 5000)\n"
              "UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;\n",
}
INSERT_TABLE = ("CREATE TABLE bench_insert (id bigint PRIMARY KEY, aid int NOT NULL, "
                "delta int NOT NULL, mtime timestamp)")


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    target: float | None = None  # ratio immusql / postgresql TPS (information only)


WORKLOADS = (
    Workload("select", "point select by PK", 0.3),
    Workload("insert", "single-row insert", 1.0),
    Workload("update", "single-row update"),
    Workload("tpcb", "tpcb-like read-write"),
)
MODES = ("extended", "prepared")
CLIENTS = (1, 16)


# ------------------------------------------------------------------------------ servers ----
@dataclass
class Target:
    """Where pgbench connects, and the server process to profile."""
    name: str
    port: int
    user: str
    dbname: str
    password: str | None = None
    pid: int | None = None

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGSSLMODE"] = "disable"
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def conninfo(self) -> str:
        s = (f"host=127.0.0.1 port={self.port} user={self.user} dbname={self.dbname} "
             "sslmode=disable")
        return s + (f" password={self.password}" if self.password else "")


class ImmusqlServer:
    """`python -m immusql serve` as a child on a free loopback port; ready when it logs
    "ready to accept connections". stop() ends exactly this process."""

    LISTEN = re.compile(r"listening on (\S+) port (\d+)")

    def __init__(self, base_dir: str | None):
        self.dir = tempfile.mkdtemp(prefix="pgbench-immusql-", dir=base_dir)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.log: collections.deque[str] = collections.deque(maxlen=200)

    def start(self) -> ImmusqlServer:
        env = dict(os.environ, IMMUSQL_ADMIN_PASSWORD=PASSWORD)
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, "-m", "immusql", "serve", "--dir", os.path.join(self.dir, "data"),
               "--host", "127.0.0.1", "--port", "0", "--log-level", "info",
               "--max-connections", "64"]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True, env=env, cwd=self.dir)
        for line in self.proc.stderr:
            self.log.append(line)
            m = self.LISTEN.search(line)
            if m and self.port is None:
                self.port = int(m.group(2))
            if "ready to accept connections" in line:
                break
        else:
            raise RuntimeError("immusql serve exited before it was ready:\n" + "".join(self.log))
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def target(self) -> Target:
        return Target("immusql", self.port, "immusql", "immusql", PASSWORD, self.proc.pid)


# ------------------------------------------------------------------------------- pgbench ----
@dataclass
class Run:
    tps: float | None = None
    latency_ms: float | None = None
    processed: int = 0
    failed: int = 0
    retried: int = 0
    retries: int = 0
    error: str | None = None


def pgbench(target: Target, *args: str, timeout: float) -> subprocess.CompletedProcess:
    cmd = [PGBENCH, "-h", "127.0.0.1", "-p", str(target.port), "-U", target.user, *args,
           target.dbname]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=target.env())


def parse_run(res: subprocess.CompletedProcess) -> Run:
    out = res.stdout
    run = Run()

    def num(pattern, cast=float):
        m = re.search(pattern, out)
        return cast(m.group(1)) if m else None

    run.tps = num(r"tps = ([\d.]+) \(without initial connection time\)")
    run.latency_ms = num(r"latency average = ([\d.]+) ms")
    run.processed = num(r"number of transactions actually processed: (\d+)", int) or 0
    run.failed = num(r"number of failed transactions: (\d+)", int) or 0
    run.retried = num(r"number of transactions retried: (\d+)", int) or 0
    run.retries = num(r"total number of retries: (\d+)", int) or 0
    tail = "\n".join(res.stderr.strip().splitlines()[-5:])
    if res.returncode != 0 or run.tps is None:
        run.error = f"pgbench exit {res.returncode}: {tail or out[-500:]}"
    elif "aborted" in res.stderr:
        run.error = f"client(s) aborted: {tail}"
    return run


def workload_args(w: Workload, script_dir: str) -> list[str]:
    if w.key == "tpcb":
        return ["-b", "tpcb-like"]   # without -n: vacuums branches/tellers, empties history
    return ["-n", "-f", os.path.join(script_dir, f"{w.key}.sql")]


def run_args(w: Workload, mode: str, clients: int, duration: float, script_dir: str):
    return [*workload_args(w, script_dir), "-M", mode, "-c", str(clients),
            "-j", str(min(clients, os.cpu_count() or 1)), "-T", str(int(duration)),
            "--max-tries", MAX_TRIES]


# ------------------------------------------------------------------------------ results ----
@dataclass
class Row:
    workload: Workload
    mode: str
    clients: int
    runs: dict[str, Run] = field(default_factory=dict)

    def ratio(self) -> float | None:
        a, b = (self.runs.get(e) for e in ENGINES)
        if a is None or b is None or a.error or b.error or not b.tps:
            return None
        return a.tps / b.tps


def _tps(run: Run | None) -> str:
    if run is None:
        return "-"
    return "error" if run.error else f"{run.tps:,.0f}" if run.tps >= 100 else f"{run.tps:,.1f}"


def _lat(run: Run | None) -> str:
    if run is None:
        return "-"
    return "error" if run.error or run.latency_ms is None else f"{run.latency_ms:,.3f}"


def table(rows: list[Row]) -> str:
    head = ("workload", "mode", "clients", "immusql tps", "postgresql tps", "ratio",
            "immusql lat ms", "postgresql lat ms", "target")
    lines = [head]
    for r in rows:
        ratio = r.ratio()
        target = ""
        if r.workload.target is not None:
            target = f">= {r.workload.target}x"
            if ratio is not None:
                target += "  ok" if ratio >= r.workload.target else "  MISSED"
        lines.append((r.workload.label, r.mode, str(r.clients),
                      _tps(r.runs.get("immusql")), _tps(r.runs.get("postgresql")),
                      "n/a" if ratio is None else f"{ratio:.2f}x",
                      _lat(r.runs.get("immusql")), _lat(r.runs.get("postgresql")), target))
    widths = [max(len(x[i]) for x in lines) for i in range(len(head))]
    left = {"workload", "mode", "target"}
    out = []
    for n, x in enumerate(lines):
        out.append(" | ".join(c.ljust(w) if head[i] in left else c.rjust(w)
                              for i, (c, w) in enumerate(zip(x, widths))).rstrip())
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    return "\n".join(out)


# ---------------------------------------------------------------------------- profiling ----
def profile(target: Target, w: Workload, mode: str, clients: int, duration: float,
            script_dir: str, out_dir: str) -> dict:
    """Sample the immusql server with py-spy while pgbench runs one workload; return the
    top self-time and inclusive-time functions.

    Only the thread holding the GIL is sampled (`--gil`): the server is one Python
    process, so the GIL is the resource its threads share, and the samples say what the
    interpreter was busy with. Threads waiting (on the socket, the thread pool queue, a
    commit's fsync, the GIL itself) are not sampled. `gil_busy` is the share of sampling
    ticks at which some thread held the GIL: near 100% means the server is CPU-bound in
    Python."""
    raw = os.path.join(out_dir, f"pgbench-{w.key}-{mode}-c{clients}.txt")
    rate = 200
    spy = subprocess.Popen(["py-spy", "record", "--pid", str(target.pid), "--duration",
                            str(int(duration)), "--rate", str(rate), "--format", "raw",
                            "--function", "--gil", "--nonblocking", "--output", raw],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    cpu0, t0 = cpu_seconds(target.pid), time.monotonic()
    res = pgbench(target, *run_args(w, mode, clients, duration, script_dir),
                  timeout=duration * 3 + 120)
    cpu1, t1 = cpu_seconds(target.pid), time.monotonic()
    _, spy_err = spy.communicate(timeout=duration * 3 + 120)
    run = parse_run(res)
    cores = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / (t1 - t0)
    if spy.returncode != 0 or not os.path.exists(raw):
        return {"error": f"py-spy failed: {spy_err.strip()[-300:]}", "tps": run.tps,
                "cores": cores}
    self_t: collections.Counter = collections.Counter()
    incl: collections.Counter = collections.Counter()
    total = 0
    with open(raw) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            self_t[_frame(frames[-1])] += n
            for fr in {_frame(x) for x in frames}:
                incl[fr] += n
    inclusive_immusql = [(k, v) for k, v in incl.most_common()
                         if "immusql/" in k and "cli.py" not in k
                         and "__main__" not in k][:15]
    return {"raw": raw, "samples": total, "tps": run.tps, "cores": cores,
            "gil_busy": total / (rate * int(duration)),
            "self": [(k, v / max(total, 1)) for k, v in self_t.most_common(15)],
            "inclusive": [(k, v / max(total, 1)) for k, v in inclusive_immusql]}


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _frame(frame: str) -> str:
    """'fn (path/to/immusql/x/y.py:12)' -> 'immusql/x/y.py:fn'; other files keep their
    last two path parts."""
    m = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    fn, path = m.groups()
    i = path.find("immusql/")
    short = path[i:] if i >= 0 else "/".join(path.split("/")[-2:])
    return f"{short}:{fn}"


# --------------------------------------------------------------------------------- main ----
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Run the same pgbench workloads against immusql serve and PostgreSQL 15 "
                    "(fsync on, synchronous_commit on) and print TPS, latency and the ratio.",
        epilog="Targets (information only): point-select ratio >= 0.3, insert ratio >= 1.0.")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds per pgbench run (default 10; 3 with --quick)")
    p.add_argument("--scale", type=int, default=1, help="pgbench -i scale factor (default 1)")
    p.add_argument("--quick", action="store_true",
                   help="3 s runs, and -M extended only with 1 client")
    p.add_argument("--workloads", default=",".join(w.key for w in WORKLOADS),
                   help="comma-separated subset of " + ", ".join(w.key for w in WORKLOADS))
    p.add_argument("--clients", default=",".join(map(str, CLIENTS)),
                   help="comma-separated client counts (default 1,16)")
    p.add_argument("--modes", default=",".join(MODES),
                   help="comma-separated query modes (default extended,prepared)")
    p.add_argument("--dir", help="where both servers' temporary directories go (default: the "
                                 "system temp directory; must be readable by the postgres "
                                 "user when run as root)")
    p.add_argument("--profile", metavar="DIR",
                   help="after the timed runs, sample immusql with py-spy during one more run "
                        "of each workload (16 clients, prepared) and print its hotspots")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.duration is None:
        args.duration = 3.0 if args.quick else 10.0
    if args.duration < 1:
        p.error("--duration must be at least 1 second")
    known = {w.key: w for w in WORKLOADS}
    try:
        args.workload_list = [known[k.strip()] for k in args.workloads.split(",") if k.strip()]
    except KeyError as e:
        p.error(f"unknown workload {e}")
    args.client_list = [int(c) for c in args.clients.split(",") if c.strip()]
    args.mode_list = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in args.mode_list:
        if m not in ("simple", "extended", "prepared"):
            p.error(f"unknown mode {m}")
    return args


def combos(args) -> list[tuple[Workload, str, int]]:
    out = []
    for w in args.workload_list:
        for mode in args.mode_list:
            for c in args.client_list:
                if args.quick and mode == "extended" and c != min(args.client_list):
                    continue
                out.append((w, mode, c))
    return out


def setup(target: Target, scale: int, results: dict, errors: list) -> bool:
    """pgbench -i, then the insert table; records the init time."""
    log(f"{target.name}: pgbench -i -s {scale}")
    t0 = time.monotonic()
    res = pgbench(target, "-i", "-s", str(scale), "-q", timeout=3600)
    results["init_s"][target.name] = round(time.monotonic() - t0, 2)
    if res.returncode != 0:
        errors.append(f"{target.name}: pgbench -i failed ({res.returncode}): "
                      f"{res.stderr.strip()[-800:]}")
        return False
    m = re.search(r"done in ([\d.]+) s \((.*)\)", res.stderr)
    if m:
        results["init_steps"][target.name] = m.group(2)
    import psycopg
    with psycopg.connect(target.conninfo(), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS bench_insert")
        c.execute(INSERT_TABLE)
    return True


def count_inserts(target: Target) -> int | None:
    import psycopg
    try:
        with psycopg.connect(target.conninfo(), autocommit=True) as c:
            return c.execute("SELECT count(*) FROM bench_insert").fetchone()[0]
    except Exception as e:  # noqa: BLE001 (reported as a note)
        log(f"{target.name}: counting bench_insert failed: {e}")
        return None


def version_of(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=30).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.path.isfile(PGBENCH):
        print(f"pgbench not found ({PGBENCH}); install postgresql-client-15", file=sys.stderr)
        return 2
    started = time.monotonic()
    script_dir = tempfile.mkdtemp(prefix="pgbench-scripts-", dir=args.dir)
    for key, text in SCRIPTS.items():
        with open(os.path.join(script_dir, f"{key}.sql"), "w") as f:
            f.write(text)
    plan = combos(args)
    log(f"{len(plan)} combinations x {len(ENGINES)} engines x {args.duration:g} s, "
        f"scale {args.scale}")

    results = {"init_s": {}, "init_steps": {}}
    errors: list[str] = []
    notes: list[str] = []
    rows: list[Row] = []
    profiles: dict[str, dict] = {}
    meta: dict = {}
    pg = immu = None
    try:
        meta["machine"] = machine_info(args.dir or tempfile.gettempdir())
        meta["machine"]["postgresql"] = version_of([str(BINDIR / "postgres"), "--version"])
        meta["machine"]["pgbench"] = version_of([PGBENCH, "--version"])
        log("starting PostgreSQL (fsync on, synchronous_commit on)")
        pg = PostgresServer(settings=PG_SETTINGS, base_dir=args.dir).start()
        log("starting immusql serve")
        immu = ImmusqlServer(args.dir).start()
        targets = {"immusql": immu.target(),
                   "postgresql": Target("postgresql", pg.port, "postgres", "postgres")}
        ready = {name: setup(t, args.scale, results, errors) for name, t in targets.items()}
        inserted = dict.fromkeys(ENGINES, 0)
        for w, mode, clients in plan:
            row = Row(w, mode, clients)
            rows.append(row)
            for name in ENGINES:
                if not ready[name]:
                    row.runs[name] = Run(error="not initialised")
                    continue
                try:
                    res = pgbench(targets[name], *run_args(w, mode, clients, args.duration,
                                                          script_dir),
                                  timeout=args.duration * 3 + 120)
                    run = parse_run(res)
                except subprocess.TimeoutExpired:
                    run = Run(error="pgbench timed out")
                row.runs[name] = run
                if run.error:
                    errors.append(f"{name} {w.key} -M {mode} -c {clients}: {run.error}")
                if w.key == "insert":
                    inserted[name] += run.processed
                if run.failed or run.retried:
                    notes.append(f"{name} {w.label} -M {mode} -c {clients}: {run.failed} failed, "
                                 f"{run.retried} of {run.processed} transactions retried "
                                 f"({run.retries} retries)")
                log(f"{name:10} {w.key:6} {mode:8} c={clients:<2} tps={_tps(run):>8} "
                    f"lat={_lat(run)} ms")
        for name in ENGINES:
            if ready[name] and inserted[name]:
                got = count_inserts(targets[name])
                if got != inserted[name]:
                    errors.append(f"{name}: bench_insert holds {got} rows, pgbench reported "
                                  f"{inserted[name]} committed inserts")
        if args.profile and ready["immusql"]:
            os.makedirs(args.profile, exist_ok=True)
            for w in args.workload_list:
                clients = max(args.client_list)
                log(f"profiling immusql: {w.key} -M prepared -c {clients}")
                profiles[w.key] = profile(targets["immusql"], w, "prepared", clients,
                                          args.duration, script_dir, args.profile)
    finally:
        if immu is not None:
            log("stopping immusql")
            immu.stop()
        if pg is not None:
            log("stopping PostgreSQL")
            pg.stop()
        shutil.rmtree(script_dir, ignore_errors=True)

    meta["elapsed_s"] = round(time.monotonic() - started, 1)
    meta["args"] = {k: v for k, v in vars(args).items()
                    if k not in ("workload_list", "client_list", "mode_list")}
    m = meta["machine"]
    print()
    print(f"pgbench_compare: scale {args.scale}, {args.duration:g} s per run, "
          f"--max-tries {MAX_TRIES}; ratio = immusql / postgresql TPS (more is better for "
          "immusql); PostgreSQL with fsync, synchronous_commit and full_page_writes on")
    print(f"machine: {m.get('cpu', '?')}, {m.get('cpus')} CPUs, {m.get('mem_gib', '?')} GiB; "
          f"{m['filesystem']}; fsync p50 {m['fsync_p50_ms']} ms; Python {m['python']}; "
          f"{m['postgresql']}; {m['pgbench']}; immusql {m.get('immusql_revision', '?')}")
    print()
    print(table(rows))
    init = results["init_s"]
    print()
    print(f"- pgbench -i -s {args.scale}: " + ", ".join(
        f"{e} {init[e]:.1f} s ({results['init_steps'].get(e, '?')})"
        for e in ENGINES if e in init))
    for n in notes:
        print(f"- {n}")
    for key, prof in profiles.items():
        print()
        print(f"py-spy profile of immusql serve, {key} (-M prepared, "
              f"{max(args.client_list)} clients):")
        if "error" in prof:
            print(f"  {prof['error']}")
            continue
        cores = "?" if prof.get("cores") is None else f"{prof['cores']:.2f}"
        print(f"  server CPU {cores} cores (user + system, all threads); "
              f"{prof['samples']} samples with the GIL held (GIL busy "
              f"{prof['gil_busy'] * 100:.0f}% of the time); tps during profile "
              f"{prof['tps'] or 0:,.0f}; raw stacks: {prof['raw']}")
        print("  self time:")
        for k, share in prof["self"]:
            print(f"    {share * 100:5.1f}%  {k}")
        print("  inclusive time, immusql functions:")
        for k, share in prof["inclusive"]:
            print(f"    {share * 100:5.1f}%  {k}")
    if errors:
        print()
        print(f"{len(errors)} error(s):")
        for e in errors:
            print(f"! {e}")
    print(f"\n(run took {meta['elapsed_s']:.0f} s)")
    if args.json:
        write_json(args.json, {
            **meta, "init_s": init, "notes": notes, "errors": errors, "profiles": profiles,
            "rows": [{"workload": r.workload.key, "mode": r.mode, "clients": r.clients,
                      "ratio": r.ratio(), "target_ratio": r.workload.target,
                      **{e: vars(r.runs[e]) for e in ENGINES if e in r.runs}}
                     for r in rows]})
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PostgresError as e:
        print(f"PostgreSQL: {e}", file=sys.stderr)
        sys.exit(2)
