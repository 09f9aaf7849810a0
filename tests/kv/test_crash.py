"""Crash safety of the key-value store: kill -9 loops, torn tails, lost derived data.

The durability contract under test: a commit returns only after fsync, so after a kill -9
every acknowledged transaction is there, byte for byte; a transaction that was in flight may
or may not be there, but never half; on open a torn tail is cut back (transaction log and
orphan values), the derived files (txi, aht, htree, index, checkpoint) are repaired or rebuilt,
`check()` passes, and writing goes on.

`test_kill9_loop` runs `crash_writer.py` in a child process many times over one store and
SIGKILLs it at random moments. The other tests are deterministic: they build a store in
this process, take "crash snapshots" (a copy of the directory while the store is open, which
is exactly what a kill -9 leaves behind, since every write has reached the OS), damage the
tail of one file as a crash would, and reopen.
"""

from __future__ import annotations

import hashlib
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from immusql.kv import KeyNotFoundError, Store
from immusql.kv import recovery as recovery_mod
from immusql.kv.hashing import MD_DELETED_BYTES
from immusql.kv.txlog import TXI_RECORD

WRITER = Path(__file__).with_name("crash_writer.py")
WRITER_SEGMENT = 256 * 1024  # must match crash_writer.SEGMENT_SIZE
WRITER_KEYS = [b"k%03d" % i for i in range(150)]  # crash_writer's key pool
DELETED = "-"
SEG = 4096  # the smallest segment size: the in-process stores span many segments


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ============================================================================ kill -9 loop ====

class LineReader:
    """Lines from a child's stdout, with a deadline and without sleeping (select + read)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.fd = proc.stdout.fileno()
        self.buf = b""
        self.eof = False
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.fd, selectors.EVENT_READ)

    def readline(self, deadline: float) -> str | None:
        """The next complete line, or None at EOF. Fails the test at the deadline."""
        while b"\n" not in self.buf:
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail("crash_writer produced no output before the deadline "
                            "(hung writer?)")
            if self.sel.select(timeout=left):
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    self.eof = True
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def drain(self, deadline: float) -> list[str]:
        """Every remaining complete line up to EOF (an unterminated last line is dropped)."""
        lines = []
        while True:
            line = self.readline(deadline)
            if line is None:
                return lines
            lines.append(line)

    def close(self) -> None:
        self.sel.close()


def parse_entries(fields: list[str]) -> dict[bytes, str]:
    out = {}
    for f in fields:
        k, h = f.split("=")
        out[k.encode()] = h
    return out


class CrashModel:
    """What the parent knows: committed transactions (acknowledged or proven durable)."""

    def __init__(self):
        self.txs: dict[int, dict[bytes, str]] = {}  # 1..top, every one known committed
        self.top = 0
        self.intents: dict[int, dict[bytes, str]] = {}  # announced, fate unknown yet
        self.acked_total = 0
        self.unacked_durable = 0

    def ack(self, tx_id: int, writes: dict[bytes, str]) -> None:
        assert tx_id == self.top + 1, f"acknowledged tx {tx_id} after {self.top}"
        assert self.intents.get(tx_id) == writes, f"ack of tx {tx_id} differs from its intent"
        del self.intents[tx_id]
        self.txs[tx_id] = writes
        self.top = tx_id
        self.acked_total += 1

    def resolve(self, committed: int) -> None:
        """The store says `committed` transactions exist: settle every announced one."""
        assert committed >= self.top, (
            f"acknowledged transactions lost: {self.top} acknowledged, the store has "
            f"{committed} after the crash")
        for tx_id in range(self.top + 1, committed + 1):
            assert tx_id in self.intents, f"tx {tx_id} exists but was never announced"
            self.txs[tx_id] = self.intents.pop(tx_id)
            self.unacked_durable += 1
        self.top = committed
        for tx_id in [t for t in self.intents if t > committed]:
            del self.intents[tx_id]  # never became durable; the id will be reused

    def latest(self) -> dict[bytes, str]:
        state: dict[bytes, str] = {}
        for tx_id in range(1, self.top + 1):
            state.update(self.txs[tx_id])
        return state


def run_writer_round(path: Path, seed: int, rng: random.Random, model: CrashModel,
                     errlog: Path) -> None:
    """Start the writer, read its output until a random moment, SIGKILL it, read the rest."""
    mode = rng.choices(["opening", "ready", "acks", "intent"], [1, 1, 6, 2])[0]
    stop_after = rng.randint(1, 40) if mode == "acks" else rng.randint(1, 25)
    with open(errlog, "ab") as err:
        proc = subprocess.Popen([sys.executable, str(WRITER), str(path), str(seed)],
                                stdout=subprocess.PIPE, stderr=err)
    reader = LineReader(proc)
    deadline = time.monotonic() + 60
    lines: list[str] = []
    try:
        acks = intents = 0
        while True:
            line = reader.readline(deadline)
            if line is None:
                break  # the writer exited by itself: checked below
            lines.append(line)
            if line == "opening":
                if mode == "opening":
                    break
            elif line.startswith("ready"):
                if mode == "ready":
                    break
            elif line.startswith("?"):
                intents += 1
                if mode == "intent" and intents >= stop_after:
                    break
            else:
                acks += 1
                if mode == "acks" and acks >= stop_after:
                    break
        os.kill(proc.pid, signal.SIGKILL)  # the child we started; not yet reaped
        proc.wait(timeout=30)
        lines += reader.drain(time.monotonic() + 30)  # acknowledged before the kill
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.close()
        proc.stdout.close()
    if proc.returncode != -signal.SIGKILL:
        pytest.fail(f"crash_writer exited by itself with {proc.returncode}; stderr:\n"
                    + errlog.read_text(errors="replace")[-3000:])
    for line in lines:
        if line == "opening":
            continue
        fields = line.split()
        if fields[0] == "ready":
            model.resolve(int(fields[1]))
        elif fields[0] == "?":
            tx_id = int(fields[1])
            assert tx_id == model.top + 1, f"writer announced tx {tx_id} after {model.top}"
            model.intents[tx_id] = parse_entries(fields[2:])
        else:
            model.ack(int(fields[0]), parse_entries(fields[1:]))


def verify_crashed_store(path: Path, model: CrashModel) -> None:
    """Reopen after a kill: everything acknowledged is there exactly; check() passes."""
    with Store.open(path, segment_size=WRITER_SEGMENT) as s:
        committed = s.state().tx_id
        assert committed == s.last_committed
        model.resolve(committed)  # asserts no acknowledged tx is missing
        for tx_id in range(1, committed + 1):
            tx = s.tx_by_id(tx_id)
            assert tx.header.id == tx_id
            got = {}
            for e in tx.entries:
                assert e.key[:1] == b"\x00"
                if e.md == MD_DELETED_BYTES:
                    got[e.key[1:]] = DELETED
                else:
                    assert e.md == b"" and e.value[:1] == b"\x00"
                    assert hashlib.sha256(e.value).digest() == e.value_hash
                    got[e.key[1:]] = sha(e.value[1:])
            assert got == model.txs[tx_id], f"tx {tx_id} does not read back as committed"
        latest = model.latest()
        for key in WRITER_KEYS:
            want = latest.get(key, DELETED)
            if want == DELETED:
                with pytest.raises(KeyNotFoundError):
                    s.get(key)
            else:
                assert sha(s.get(key).value) == want, f"latest value of {key!r} is wrong"
        scanned = {e.key: sha(e.value) for e in s.scan()}
        assert scanned == {k: h for k, h in latest.items() if h != DELETED}
        report = s.check()
        assert report.transactions == committed
        assert report.entries == sum(len(model.txs[t]) for t in range(1, committed + 1))


def test_kill9_loop(tmp_path):
    """Many rounds of: writer commits, gets SIGKILLed at a random moment, store reopened."""
    path = tmp_path / "db"
    errlog = tmp_path / "writer.stderr"
    rng = random.Random(20240611)
    model = CrashModel()
    rounds, budget = 60, 75.0  # keep the whole loop well under ~90 s on a slow machine
    started = time.monotonic()
    done = 0
    for r in range(rounds):
        if r >= 10 and time.monotonic() - started > budget:
            break
        run_writer_round(path, 1000 + r, rng, model, errlog)
        done += 1
        # Mostly the parent checks at once; sometimes the next writer recovers first.
        if r == rounds - 1 or rng.random() < 0.75:
            verify_crashed_store(path, model)
    verify_crashed_store(path, model)
    # Writing goes on after the last crash, in this process too.
    with Store.open(path, segment_size=WRITER_SEGMENT) as s:
        before = s.last_committed
        h = s.set([(b"k000", b"after the crashes")])
        assert h.id == before + 1
    with Store.open(path, segment_size=WRITER_SEGMENT) as s:
        assert s.get(b"k000").value == b"after the crashes"
        s.check()
    assert done >= 10
    assert model.acked_total >= 100, "the loop acknowledged too few transactions to mean much"
    # the logs did roll over to new segment files
    assert len(os.listdir(path / "val")) > 1 and len(os.listdir(path / "tx")) > 1


# ================================================================= in-process helpers ====

def ignore_locks(_dir, names):
    return [n for n in names if n in ("LOCK", "lock.mdb")]


def crash_snapshot(src: Path, dst: Path) -> Path:
    """The directory as a kill -9 at this instant would leave it (all writes reached the OS)."""
    shutil.copytree(src, dst, ignore=ignore_locks)
    return dst


def segments(path: Path, name: str) -> list[Path]:
    d = path / name
    return sorted(p for p in d.iterdir() if p.name.split(".")[0].isdigit())


def stream_size(path: Path, name: str) -> int:
    return sum(p.stat().st_size for p in segments(path, name))


def append_stream(path: Path, name: str, data: bytes, seg: int = SEG) -> None:
    """Append to a segmented log the way the store does (filling, then new segment files)."""
    segs = segments(path, name)
    n = len(segs) - 1 if segs else 0
    while data:
        p = path / name / f"{n:08d}.{name}"
        size = p.stat().st_size if p.exists() else 0
        room = seg - size
        if room <= 0:
            n += 1
            continue
        with open(p, "ab") as f:
            f.write(data[:room])
        data = data[room:]


def truncate_stream(path: Path, name: str, size: int, seg: int = SEG) -> None:
    for p in segments(path, name):
        n = int(p.name.split(".")[0])
        if n * seg >= size and n > 0:
            p.unlink()
        elif n * seg < size:
            os.truncate(p, min(seg, size - n * seg))


def read_stream(path: Path, name: str) -> bytes:
    return b"".join(p.read_bytes() for p in segments(path, name))


class Model:
    """Committed transactions of an in-process store, with their real values."""

    def __init__(self):
        self.txs: dict[int, dict[bytes, bytes | None]] = {}

    @property
    def top(self) -> int:
        return len(self.txs)

    def latest(self, upto: int | None = None) -> dict[bytes, bytes | None]:
        state: dict[bytes, bytes | None] = {}
        for t in range(1, (self.top if upto is None else upto) + 1):
            state.update(self.txs[t])
        return state


def random_tx(s: Store, rng: random.Random, model: Model, keys: int = 40) -> int:
    """Commit one random transaction (sets, deletes, or a Transaction) and record it."""
    live = sorted(k for k, v in model.latest().items() if v is not None)
    r = rng.random()
    if r < 0.15 and live:
        ks = rng.sample(live, rng.randint(1, min(4, len(live))))
        h = s.delete(ks)
        writes = {k: None for k in ks}
    elif r < 0.3:
        writes = {}
        with s.transaction() as tx:
            for i in rng.sample(range(keys), rng.randint(1, 12)):
                k = b"key%02d" % i
                v = rng.randbytes(rng.choice([0, 5, 40, 300, 2500, 6000]))
                tx.set(k, v)
                writes[k] = v
        h = None
    else:
        writes = {}
        for i in rng.sample(range(keys), rng.randint(1, 20)):
            writes[b"key%02d" % i] = rng.randbytes(rng.choice([0, 7, 60, 500, 3000, 9000]))
        h = s.set(list(writes.items()))
    tx_id = model.top + 1
    assert s.last_committed == tx_id and (h is None or h.id == tx_id)
    model.txs[tx_id] = writes
    return tx_id


def build(path: Path, n: int, seed: int = 1, **options) -> tuple[Store, Model]:
    s = Store.open(path, segment_size=SEG, **options)
    rng = random.Random(seed)
    model = Model()
    for _ in range(n):
        random_tx(s, rng, model)
    return s, model


def verify(s: Store, model: Model, upto: int | None = None) -> None:
    """The store holds exactly the model's transactions (1..upto) and check() passes."""
    top = model.top if upto is None else upto
    assert s.last_committed == top
    for t in range(1, top + 1):
        tx = s.tx_by_id(t)
        got = {e.key[1:]: (None if e.md == MD_DELETED_BYTES else e.value[1:])
               for e in tx.entries}
        assert got == model.txs[t], f"tx {t} differs"
    for k, v in model.latest(top).items():
        if v is None:
            with pytest.raises(KeyNotFoundError):
                s.get(k)
        else:
            assert s.get(k).value == v
    assert {e.key: e.value for e in s.scan()} == {
        k: v for k, v in model.latest(top).items() if v is not None}
    report = s.check()
    assert report.transactions == top


def reopen_and_continue(path: Path, model: Model, upto: int | None = None) -> None:
    """Open a crashed/damaged copy: intact, checkable, writable, and intact again after."""
    with Store.open(path, segment_size=SEG) as s:
        verify(s, model, upto)
        top = s.last_committed
        h = s.set([(b"after", b"crash"), (b"key00", b"again" * 500)])
        assert h.id == top + 1
        s.check()
    with Store.open(path, segment_size=SEG) as s:
        assert s.last_committed == top + 1
        assert s.get(b"after").value == b"crash"
        assert s.get(b"key00").value == b"again" * 500
        s.check()


# ===================================================================== torn tails ====

@pytest.fixture(scope="module")
def base_states(tmp_path_factory):
    """A cleanly closed store and a crash snapshot of one (old checkpoint), with models."""
    root = tmp_path_factory.mktemp("crash-base")
    closed, model_c = build(root / "closed", 40, seed=11)
    closed.close()
    live, model_k = build(root / "live", 40, seed=12, checkpoint_every_txs=15)
    crash_snapshot(root / "live", root / "crashed")
    live.close()
    return {"closed": (root / "closed", model_c), "crashed": (root / "crashed", model_k)}


def copy_state(base_states, which: str, tmp_path: Path) -> tuple[Path, Model]:
    src, model = base_states[which]
    dst = tmp_path / which
    shutil.copytree(src, dst, ignore=ignore_locks)
    return dst, model


GARBAGE = {"small": 7, "record": 56, "node": 64, "spanning": 3 * SEG + 123}


@pytest.mark.parametrize("which", ["closed", "crashed"])
@pytest.mark.parametrize("target", ["tx", "val", "txi", "aht", "htree", "all"])
@pytest.mark.parametrize("size", list(GARBAGE))
def test_garbage_tail_is_cut(base_states, tmp_path, which, target, size):
    path, model = copy_state(base_states, which, tmp_path)
    rng = random.Random(f"{which}{target}{size}")
    names = ["tx", "val", "txi", "aht", "htree"] if target == "all" else [target]
    before = {n: read_stream(path, n) for n in ("tx", "val")}
    for name in names:
        append_stream(path, name, rng.randbytes(GARBAGE[size]))
    with Store.open(path, segment_size=SEG) as s:
        verify(s, model)
    # the source-of-truth logs are back to exactly what was committed
    for n in ("tx", "val"):
        assert read_stream(path, n) == before[n], f"{n} log not cut back"
    reopen_and_continue(path, model)


@pytest.mark.parametrize("which", ["closed", "crashed"])
def test_duplicated_records_at_tail_are_cut(base_states, tmp_path, which):
    """A replayed copy of the last log record and of the last tx index record is no tx."""
    path, model = copy_state(base_states, which, tmp_path)
    txi = read_stream(path, "txi")
    off, size, _, _, _ = TXI_RECORD.unpack(txi[-TXI_RECORD.size:])
    log = read_stream(path, "tx")
    append_stream(path, "tx", log[off:off + size])
    append_stream(path, "txi", txi[-TXI_RECORD.size:])
    with Store.open(path, segment_size=SEG) as s:
        verify(s, model)
    assert read_stream(path, "tx") == log
    reopen_and_continue(path, model)


def test_kill_between_value_fsync_and_log_write_cuts_orphans(base_states, tmp_path):
    """Values were synced but their record never reached the log: they are cut on open."""
    path, model = copy_state(base_states, "crashed", tmp_path)
    val_before = read_stream(path, "val")
    nseg = len(segments(path, "val"))
    append_stream(path, "val", b"\x00" + b"orphan value " * 1000)  # spans new segments
    assert len(segments(path, "val")) > nseg
    with Store.open(path, segment_size=SEG) as s:
        verify(s, model)
        assert read_stream(path, "val") == val_before
    assert len([p for p in segments(path, "val") if p.stat().st_size]) <= nseg
    reopen_and_continue(path, model)


@pytest.mark.parametrize("cut", [1, 5, 33, "half", "prefix"])
def test_torn_last_record_is_cut(tmp_path, cut):
    """A kill while the record of tx N+1 was being written: N+1 is gone, 1..N are intact."""
    s, model = build(tmp_path / "live", 25, seed=5, checkpoint_every_txs=1000)
    n = model.top
    random_tx(s, random.Random(99), model)  # tx N+1, about to be torn
    path = crash_snapshot(tmp_path / "live", tmp_path / "crashed")
    s.close()
    txi = read_stream(path, "txi")
    off, size, _, _, _ = TXI_RECORD.unpack(txi[-TXI_RECORD.size:])
    keep = {"half": size // 2, "prefix": 3}.get(cut, size - cut if isinstance(cut, int) else 0)
    truncate_stream(path, "tx", off + keep)
    # the tx index is written after the log's fsync: it has no record of tx N+1 yet
    truncate_stream(path, "txi", len(txi) - TXI_RECORD.size)
    del model.txs[n + 1]
    reopen_and_continue(path, model)


@pytest.mark.parametrize("which", ["closed", "crashed"])
@pytest.mark.parametrize("lost", ["txi", "aht", "htree", "index", "checkpoint", "all"])
def test_lost_derived_data_is_rebuilt(base_states, tmp_path, which, lost):
    path, model = copy_state(base_states, which, tmp_path)
    log_before = read_stream(path, "tx")
    names = ["txi", "aht", "htree", "index", "checkpoint"] if lost == "all" else [lost]
    for name in names:
        p = path / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    with Store.open(path, segment_size=SEG) as s:
        verify(s, model)
        # the proofs built from the rebuilt hash tree and entries trees verify
        for t in (1, model.top // 2, model.top):
            s.verifiable_tx_by_id(t, since_tx=model.top)
    for name in ("txi", "aht", "htree"):
        assert stream_size(path, name) > 0
    assert (path / "checkpoint").exists()
    assert read_stream(path, "tx") == log_before
    reopen_and_continue(path, model)


def test_damaged_checkpoint_is_ignored(base_states, tmp_path):
    path, model = copy_state(base_states, "closed", tmp_path)
    raw = bytearray((path / "checkpoint").read_bytes())
    raw[5] ^= 0x40
    (path / "checkpoint").write_bytes(raw)
    (path / "checkpoint.tmp").write_bytes(b"half-written checkpoint")
    reopen_and_continue(path, model)


# ========================================================= crash points inside commit ====

CRASH_POINTS = [
    # (object attribute, method, before/after): where in the commit path the kill lands
    ("_vlog", "sync", "before"),    # values still in the write buffer
    ("_vlog", "sync", "after"),     # values durable, no record yet: orphans
    ("_txlog", "sync", "before"),   # record buffered, not written
    ("_txlog", "sync", "after"),    # record durable, tx index not written
    ("_txi", "flush", "after"),     # tx index written, key index not
    ("_index", "apply", "after"),   # indexed, not yet marked committed
    ("checkpoint", "replace", "before"),  # checkpoint.tmp written, not renamed
]


@pytest.mark.parametrize("point", CRASH_POINTS, ids=lambda p: f"{p[0]}.{p[1]}-{p[2]}")
def test_kill_at_each_point_of_the_commit_path(tmp_path, monkeypatch, point):
    attr, method, when = point
    s, model = build(tmp_path / "live", 20, seed=7, checkpoint_every_txs=1)
    snaps: list[Path] = []

    def snap():
        snaps.append(crash_snapshot(tmp_path / "live", tmp_path / f"snap{len(snaps)}"))

    def hooked(orig):
        def wrapper(*a, **kw):
            if when == "before" and armed[0]:
                snap()
            result = orig(*a, **kw)
            if when == "after" and armed[0]:
                snap()
            return result
        return wrapper

    armed = [False]
    if attr == "checkpoint":
        monkeypatch.setattr(recovery_mod.os, "replace", hooked(os.replace))
    else:
        obj = getattr(s, attr)
        setattr(obj, method, hooked(getattr(obj, method)))
    armed[0] = True
    tx_id = random_tx(s, random.Random(3), model)  # the transaction in flight
    armed[0] = False
    s.close()
    monkeypatch.undo()
    assert snaps, "the crash point was never reached"
    for snap_path in snaps:
        with Store.open(snap_path, segment_size=SEG) as s2:
            committed = s2.last_committed
        # everything before the in-flight tx is there; the in-flight one is whole or absent
        assert committed in (tx_id - 1, tx_id)
        if attr in ("_vlog",) or (attr == "_txlog" and when == "before"):
            assert committed == tx_id - 1, "a tx without a durable record appeared"
        if attr in ("_txi", "_index", "checkpoint"):
            assert committed == tx_id, "a durable tx with a tx index record was dropped"
        reopen_and_continue(snap_path, model, upto=committed)
