"""benchreport: what kv_bench.py and sql_bench.py print and measure the same way.

Both scripts set immusql beside sqlite3 and print one table of figures with the ratio
immusql / sqlite3, followed by notes and errors, under a header that describes the machine.
This module holds the pieces they share: progress logging, the figure and result-table
classes (with the table text and the JSON form), the report printing, the machine notes
(CPU, memory, filesystem, fsync latency, versions, immusql revision) and a median helper.
Each script imports it as a sibling module (`import benchreport`); the script's own
directory is on sys.path when it is run as `python benchmarks/<script>.py`.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field

ENGINES = ("immusql", "sqlite3")

_STARTED = time.monotonic()


def log(msg: str) -> None:
    """Progress goes to stderr so stdout stays a clean, pipeable table."""
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {msg}", file=sys.stderr, flush=True)


class Progress:
    """Throttled progress lines for long phases: enough to see it is alive, not a flood."""

    def __init__(self, label: str, total: int, unit: str = "entries", every: float = 5.0):
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.started = self.last = time.monotonic()

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            rate = done / max(now - self.started, 1e-9)
            log(f"  {self.label}: {done:,}/{self.total:,} {self.unit} ({rate:,.0f}/s)")


def median_of(rounds: int, measure) -> tuple[float, list[float]]:
    """Median of `rounds` runs of a cheap measurement, and every run.

    The machine this runs on may be shared; a median of a few short runs resists a burst
    of outside load much better than one run. With an even count, the upper middle run.
    """
    runs = [measure() for _ in range(max(1, rounds))]
    return sorted(runs)[len(runs) // 2], runs


# ----------------------------------------------------------------------------- results ----
@dataclass
class Target:
    op: str  # ">=" or "<"
    value: float
    text: str

    def met(self, v: float | None) -> bool | None:
        if v is None:
            return None
        return v >= self.value if self.op == ">=" else v < self.value


@dataclass
class Figure:
    key: str
    label: str
    unit: str  # "/s" (more is better); "ms", "s", "us", "MiB" (less is better)
    target: Target | None = None  # applies to immusql
    values: dict = field(default_factory=dict)  # engine -> float | None
    errors: dict = field(default_factory=dict)  # engine -> message
    na: dict = field(default_factory=dict)  # engine -> why there is no figure

    def ratio(self) -> float | None:
        a, b = self.values.get("immusql"), self.values.get("sqlite3")
        if a is None or b is None or b == 0:
            return None
        return a / b

    def target_met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.values.get("immusql"))


def cell(f: Figure, engine: str) -> str:
    """One engine's value in the table, formatted by the figure's unit."""
    if engine in f.errors:
        return "error"
    if engine in f.na:
        return "n/a"
    v = f.values.get(engine)
    if v is None:
        return "-"
    if f.unit == "/s":
        return f"{v:,.0f}"
    if f.unit in ("ms", "s"):
        return f"{v:.3f}" if v < 100 else f"{v:,.1f}"
    if f.unit == "us":
        return f"{v:,.1f}" if v < 10_000 else f"{v:,.0f}"
    return f"{v:,.1f}"


class Results:
    """Every figure, note and error of a run; renders the table and the JSON file.

    Each script subclasses it with the put / na / fail calls that suit its figures.
    """

    with_targets = False  # a target column in the table, target fields in the JSON

    def __init__(self, figures: Iterable[Figure] = ()):
        self.figures: dict[str, Figure] = {f.key: f for f in figures}
        self.notes: list[str] = []
        self.errors: list[str] = []

    def figure(self, key: str, label: str, unit: str) -> Figure:
        """The figure `key`, created (at the end of the table) on first use."""
        f = self.figures.get(key)
        if f is None:
            f = self.figures[key] = Figure(key, label, unit)
        return f

    def record_error(self, f: Figure, engine: str, msg: str) -> None:
        f.errors[engine] = msg
        self.errors.append(msg)
        log(f"ERROR {msg}")
        traceback.print_exc(file=sys.stderr)

    def note(self, text: str) -> None:
        self.notes.append(text)
        log(f"  note: {text}")

    def shown(self) -> list[Figure]:
        """The figures that make the table and the JSON, in order."""
        return list(self.figures.values())

    def table(self) -> str:
        head = ("metric", *ENGINES, "ratio") + (("target",) if self.with_targets else ())
        rows = [head]
        for f in self.shown():
            r = f.ratio()
            cells = [f.label, *(cell(f, e) for e in ENGINES), "n/a" if r is None else f"{r:.2f}x"]
            if self.with_targets:
                met = f.target_met()
                cells.append("" if f.target is None else f.target.text + (
                    "" if met is None else "  ok" if met else "  MISSED"))
            rows.append(tuple(cells))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = []
        for n, r in enumerate(rows):
            lines.append(" | ".join(
                c.ljust(w) if head[i] in ("metric", "target") else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths))).rstrip())
            if n == 0:
                lines.append("-+-".join("-" * w for w in widths))
        return "\n".join(lines)

    def figure_json(self, f: Figure) -> dict:
        out = {"key": f.key, "metric": f.label.strip(), "unit": f.unit,
               **{e: f.values.get(e) for e in ENGINES},
               "ratio": f.ratio(), "not_applicable": f.na}
        if self.with_targets:
            out["target"] = None if f.target is None else f.target.text
            out["target_met"] = f.target_met()
        out["errors"] = f.errors
        return out

    def to_json(self, meta: dict) -> dict:
        return {**meta, "figures": [self.figure_json(f) for f in self.shown()],
                "notes": self.notes, "errors": self.errors}


# ---------------------------------------------------------------------------- the report ----
def print_report(results: Results, meta: dict, header: list[str], extra=None) -> None:
    """Header lines, the machine line, the table, the notes, `extra()` (more sections, if
    any), the errors and the run time: all to stdout."""
    m = meta["machine"]
    print()
    for line in header:
        print(line)
    print(f"machine: {m.get('cpu', '?')}, {m.get('cpus')} CPUs, {m.get('mem_gib', '?')} GiB; "
          f"{m['filesystem']}; fsync p50 {m['fsync_p50_ms']} ms; Python {m['python']}, "
          f"SQLite {m['sqlite']}, LMDB {m.get('lmdb', '?')}; "
          f"immusql {m.get('immusql_revision', '?')}")
    print()
    print(results.table())
    if results.notes:
        print()
        for n in results.notes:
            print(f"- {n}")
    if extra is not None:
        extra()
    if results.errors:
        print()
        print(f"{len(results.errors)} error(s):")
        for e in results.errors:
            print(f"! {e}")
    print(f"\n(run took {meta['elapsed_s']:.0f} s)")


def write_json(path: str, data: dict) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=2, default=str)
    log(f"wrote {path}")


# ------------------------------------------------------------------------ machine notes ----
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fsync_latency_ms(directory: str, count: int = 200) -> float:
    """Median small-write+fsync latency: what a synced commit costs at the bottom."""
    path = os.path.join(directory, "kvbench-fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    lat = []
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            os.write(fd, b"x" * 128)
            os.fsync(fd)
            lat.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    return lat[len(lat) // 2] * 1000


def machine_info(directory: str) -> dict:
    """What a reader needs to compare runs across machines."""
    info = {
        "python": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
    }
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in f
                                if ln.startswith("model name")), "?")
        with open("/proc/meminfo") as f:
            info["mem_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    info["filesystem"] = _filesystem_of(directory)
    info["immusql_revision"] = _revision()
    try:
        import lmdb
        info["lmdb"] = ".".join(map(str, lmdb.version()))
    except Exception:  # noqa: BLE001  (information only)
        pass
    info["fsync_p50_ms"] = round(fsync_latency_ms(directory), 3)
    return info


def _revision() -> str:
    """The immusql commit measured (+dirty): the code under test changes between runs."""
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "immusql"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head or "?") + ("+dirty" if dirty else "")


def _filesystem_of(directory: str) -> str:
    best, fs = "", "?"
    try:
        real = os.path.realpath(directory)
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, typ = line.split()[:3]
                if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and \
                        len(mnt) > len(best):
                    best, fs = mnt, f"{typ} on {dev} ({mnt})"
    except OSError:
        pass
    return fs
