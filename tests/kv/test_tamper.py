"""Tamper evidence of the key-value store: flipped bytes, damaged derived data, forked history.

One golden store (40 transactions over 4 KiB segments, so every log spans several segment
files) is built once; each case copies it, flips one byte at a chosen place of one file and
then runs every read the store offers against what the golden store holds. The rule checked
everywhere: a read either returns exactly the true data or raises CorruptionError (SQLSTATE
XX001) naming a file@offset or a tx, and the damage is detected at the latest by `check()`
(for the source-of-truth logs) -- a wrong value is never returned as valid, and a proof the
store hands out always verifies against the true history. Damaged derived files (txi, aht,
htree, index, checkpoint) must also be recoverable: after deleting them the store rebuilds
them from the log.

The last part checks the client side: a Verifier that trusts a state rejects every proof of a
forked, rewritten or rolled-back history, while honest proofs keep verifying.
"""

from __future__ import annotations

import random
import re
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from immusql.kv import (
    CorruptionError,
    IndexCorruptedError,
    InvalidArgumentError,
    KeyNotFoundError,
    ProofError,
    State,
    Store,
    Verifier,
    verify_entry_proof,
    verify_state_transition,
    verify_tx_proof,
)
from immusql.kv import store as store_mod
from immusql.kv.ahtree import node_slot, nodes_for
from immusql.kv.errors import ImmuSQLError
from immusql.kv.hashing import MD_DELETED_BYTES, sha256
from immusql.kv.htree import tree_size
from immusql.kv.index import INDEXED
from immusql.kv.txlog import TXI_RECORD

SEG = 4096
LONG_KEY = b"L" * 600  # > 480 bytes: indexed through the index's `long` table
NTX = 40  # even, so the hash tree's last stored node is not re-derivable from tx NTX's bl_root
ERR_PLACE = re.compile(r"\(tx \d+\)|@\d+|/index\b|immusql\.json|/\d{8}\.(tx|val|txi|aht|htree)\b")


# ================================================================== the golden store ====

@dataclass
class Golden:
    path: Path
    db: str
    headers: dict = field(default_factory=dict)  # tx id -> TxHeader
    alh: dict = field(default_factory=dict)  # tx id -> alh
    stored: dict = field(default_factory=dict)  # tx id -> [(stored key, stored value, md)]
    txi: dict = field(default_factory=dict)  # tx id -> (offset, size, tree_offset, width)
    writes: dict = field(default_factory=dict)  # tx id -> {user key: value | None}
    raw_versions: dict = field(default_factory=dict)  # stored key -> [76-byte records]
    indexed_raw: bytes = b""

    @property
    def top(self) -> int:
        return len(self.headers)

    def keys(self) -> list[bytes]:
        return sorted({k for w in self.writes.values() for k in w})

    def at(self, t: int) -> dict[bytes, bytes | None]:
        state: dict[bytes, bytes | None] = {}
        for i in range(1, t + 1):
            state.update(self.writes[i])
        return state

    def history(self, key: bytes) -> list[tuple]:
        out, rev = [], 0
        for t in range(1, self.top + 1):
            if key in self.writes[t]:
                rev += 1
                v = self.writes[t][key]
                out.append((t, rev, b"" if v is None else v,
                            MD_DELETED_BYTES if v is None else b""))
        return out

    def trusted(self, t: int) -> State:
        return State(self.db, t, self.alh[t])


def golden_ops(seed: int = 42) -> list[tuple[str, list]]:
    """Deterministic operations: ("set", [(k, v)]) or ("del", [k])."""
    rng = random.Random(seed)
    live: set[bytes] = set()
    ops: list[tuple[str, list]] = [("set", [(b"key%02d" % i, rng.randbytes(1 + 37 * i))
                                            for i in range(20)])]
    live.update(k for k, _ in ops[0][1])
    for t in range(2, NTX + 1):
        if t in (5, 23):
            entries = [(LONG_KEY, rng.randbytes(100 + t)), (b"key03", rng.randbytes(50))]
        elif t == 10:
            entries = [(b"big", rng.randbytes(10_000)), (b"key04", b"v")]
        elif t % 6 == 0 and len(live) > 3:
            ks = sorted(rng.sample(sorted(live - {LONG_KEY}), 2))
            ops.append(("del", ks))
            live -= set(ks)
            continue
        else:
            entries = [(b"key%02d" % i, rng.randbytes(rng.choice([1, 9, 120, 900, 5000])))
                       for i in rng.sample(range(30), rng.randint(1, 8))]
        ops.append(("set", entries))
        live.update(k for k, _ in entries)
    return ops


def apply_op(s: Store, op) -> dict:
    kind, arg = op
    if kind == "set":
        s.set(arg)
        return dict(arg)
    s.delete(arg)
    return {k: None for k in arg}


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> Golden:
    path = tmp_path_factory.mktemp("golden") / "db"
    g = Golden(path, "defaultdb")
    with Store.open(path, segment_size=SEG) as s:
        for op in golden_ops():
            writes = apply_op(s, op)
            g.writes[s.last_committed] = writes
        assert s.last_committed == NTX
        for t in range(1, NTX + 1):
            tx = s.tx_by_id(t)
            g.headers[t] = tx.header
            g.alh[t] = tx.header.alh()
            g.stored[t] = [(e.key, e.value, e.md) for e in tx.entries]
            off, size, tree_off, width, alh = s._txi_record(t)
            assert alh == g.alh[t]
            g.txi[t] = (off, size, tree_off, width)
        env = s._index._env
        with env.begin() as txn:
            cur = txn.cursor(s._index._versions)
            for k, raw in cur.iternext(keys=True, values=True):
                g.raw_versions.setdefault(k, []).append(raw)
        g.indexed_raw = INDEXED.pack(NTX, g.alh[NTX])
        s.check()
    # a clean close wrote the checkpoint at tx NTX
    return g


def copy_golden(golden: Golden, tmp_path: Path) -> Path:
    dst = tmp_path / "db"
    shutil.copytree(golden.path, dst,
                    ignore=lambda d, names: [n for n in names if n in ("LOCK", "lock.mdb")])
    return dst


# =============================================================== flipping a byte ====

def seg_file(path: Path, name: str, offset: int) -> tuple[Path, int]:
    n, pos = divmod(offset, SEG)
    return path / name / f"{n:08d}.{name}", pos


def flip_at(file: Path, pos: int, mask: int = 0x01) -> None:
    raw = bytearray(file.read_bytes())
    assert 0 <= pos < len(raw), f"{file}@{pos} is outside the file"
    raw[pos] ^= mask
    file.write_bytes(bytes(raw))


def flip_all(file: Path, needle: bytes, at: int, mask: int = 0x01) -> int:
    """Flip byte `at` of every occurrence of `needle` (LMDB keeps old page copies too)."""
    raw = bytearray(file.read_bytes())
    found, i = 0, raw.find(needle)
    while i >= 0:
        raw[i + at] ^= mask
        found += 1
        i = raw.find(needle, i + 1)
    assert found, "the bytes to flip were not found in the file"
    file.write_bytes(bytes(raw))
    return found


def txlog_fields(g: Golden, t: int) -> dict[str, int]:
    """Logical tx-log offsets of one byte inside each field of tx t's record (entry 0)."""
    o, size, _, _ = g.txi[t]
    key, value, md = g.stored[t][0]
    e0 = o + 8 + 20 + 76  # prefix, id/ts/version/txmd_len (txmd empty), nentries..prev_alh
    k0 = e0 + 2 + len(md) + 2  # first byte of the stored key
    f0 = k0 + len(key)  # value_len, value_offset, value_hash
    return {
        "body_len": o + 3, "crc": o + 6, "id": o + 8 + 7, "ts": o + 8 + 8 + 6,
        "version": o + 8 + 17, "nentries": o + 8 + 20 + 3, "bl_tx_id": o + 8 + 24 + 7,
        "bl_root": o + 8 + 32 + 5, "prev_alh": o + 8 + 64 + 9, "md_len": e0 + 1,
        "key": k0 + 1, "value_len": f0 + 3, "value_offset": f0 + 4 + 7,
        "value_hash": f0 + 12 + 10, "alh": o + size - 6,
    }


def mid_tx(g: Golden) -> int:
    return 15  # 7 entries


def straddling_tx(g: Golden) -> int:
    """A transaction whose log record crosses a segment boundary."""
    for t, (o, size, _, _) in g.txi.items():
        if o // SEG != (o + size - 1) // SEG and t not in (1, NTX):
            return t
    raise AssertionError("no log record straddles two segments")


def value_location(g: Golden, t: int, key: bytes, within: str) -> int:
    """Logical value-log offset of a byte of the value `key` got in tx t."""
    for e_key, e_value, _ in g.stored[t]:
        if e_key == b"\x00" + key:
            break
    else:
        raise AssertionError(f"{key!r} not in tx {t}")
    tx = None  # (value_offset, value_len) as the log record says
    # the value offset comes from the log record, parsed independently of the store
    raw = read_logical(g.path, "tx", g.txi[t][0], g.txi[t][1])
    pos = 8 + 20 + 76
    for _ in range(g.headers[t].nentries):
        (n,) = struct.unpack_from(">H", raw, pos)
        pos += 2 + n
        (n,) = struct.unpack_from(">H", raw, pos)
        k = raw[pos + 2:pos + 2 + n]
        pos += 2 + n
        vlen, voff = struct.unpack_from(">IQ", raw, pos)
        pos += 44
        if k == b"\x00" + key:
            tx = (voff, vlen)
            break
    assert tx is not None, f"{key!r} not found in the log record of tx {t}"
    voff, vlen = tx
    assert vlen == len(e_value) and vlen >= 3
    return {"tag": voff, "middle": voff + vlen // 2, "last": voff + vlen - 1,
            "after_boundary": (voff // SEG + 1) * SEG + 1}[within]


def read_all(path: Path, name: str) -> bytes:
    segs = sorted(p for p in (path / name).iterdir() if p.name.split(".")[0].isdigit())
    return b"".join(p.read_bytes() for p in segs)


def read_logical(path: Path, name: str, offset: int, length: int) -> bytes:
    out = b""
    while length:
        f, pos = seg_file(path, name, offset)
        n = min(length, SEG - pos)
        with open(f, "rb") as fh:
            fh.seek(pos)
            out += fh.read(n)
        offset += n
        length -= n
    return out


# ============================================================ probing every read ====

class Probe:
    """Run every read against the golden truth; collect CorruptionErrors, fail on lies."""

    def __init__(self, g: Golden):
        self.g = g
        self.errors: list[CorruptionError] = []

    def attempt(self, what: str, fn, expect) -> None:
        try:
            got = fn()
        except CorruptionError as e:
            self.errors.append(e)
            return
        except KeyNotFoundError:
            got = KeyNotFoundError
        except ImmuSQLError as e:
            pytest.fail(f"{what}: raised {type(e).__name__} ({e}) instead of the data or "
                        "a CorruptionError")
        assert got == expect, f"{what} returned wrong data as valid"

    def run(self, path: Path) -> "Probe":
        g = self.g
        try:
            s = Store.open(path)
        except CorruptionError as e:
            self.errors.append(e)
            return self
        with s:
            state = s.state()
            assert (state.db, state.tx_id, state.alh) == (g.db, g.top, g.alh[g.top]), \
                "the store opened with a different state (transactions lost or changed)"
            for t in range(1, g.top + 1):
                self.attempt(f"tx_by_id({t})", lambda: _tx(s.tx_by_id(t)),
                             (g.headers[t], g.stored[t]))
                self.attempt(f"header({t})", lambda: s.header(t), g.headers[t])
                self.attempt(f"alh({t})", lambda: s.alh(t), g.alh[t])
            keys = g.keys()
            for k in keys:
                for t in list(range(1, g.top + 1)) + [None]:
                    v = g.at(g.top if t is None else t).get(k)
                    self.attempt(f"get({k[:8]!r}, at_tx={t})",
                                 lambda: s.get(k, at_tx=t).value,
                                 KeyNotFoundError if v is None else v)
                self.attempt(f"history({k[:8]!r})",
                             lambda: [(e.tx_id, e.revision, e.value, e.md)
                                      for e in s.history(k)], g.history(k))
            for t in (1, g.top // 2, g.top - 1, None):
                want = sorted((k, v) for k, v in g.at(g.top if t is None else t).items()
                              if v is not None)
                self.attempt(f"scan(at_tx={t})",
                             lambda: [(e.key, e.value) for e in s.scan(at_tx=t)], want)
            latest = g.at(g.top)
            for k in keys:
                if latest.get(k) is None:
                    continue
                for since in (None, 1, g.top // 2, g.top):
                    self.attempt(f"verifiable_get({k[:8]!r}, since_tx={since})",
                                 lambda: self._verified_entry(s, k, since),
                                 (b"\x00" + k, b"\x00" + latest[k]))
            for t in range(1, g.top + 1):
                self.attempt(f"verifiable_tx_by_id({t})",
                             lambda: self._verified_tx(s, t, g.top), g.stored[t])
            self.attempt("check()", lambda: _report(s.check()),
                         (g.top, sum(len(x) for x in g.stored.values())))
        return self

    def _verified_entry(self, s: Store, k: bytes, since):
        proof = s.verifiable_get(k, since_tx=since)
        trusted = None if since is None else self.g.trusted(since)
        # a proof that leaves the store must verify against the TRUE history
        verify_entry_proof(proof, trusted)
        return proof.key, proof.value

    def _verified_tx(self, s: Store, t: int, since: int):
        proof = s.verifiable_tx_by_id(t, since_tx=since)
        verify_tx_proof(proof, self.g.trusted(since))
        assert proof.tx == self.g.headers[t]
        return proof.entries

    def assert_errors_name_a_place(self, *places: str) -> None:
        for e in self.errors:
            assert isinstance(e, CorruptionError) and e.sqlstate in ("XX001", "XX002")
            assert ERR_PLACE.search(str(e)), f"error names no file or tx: {e}"
        if places:
            assert any(p in str(e) for e in self.errors for p in places), (
                f"no error names {places}: {[str(e) for e in self.errors]}")


def _tx(tx):
    return tx.header, [(e.key, e.value, e.md) for e in tx.entries]


def _report(r):
    return r.transactions, r.entries


def test_golden_store_reads_back_clean(golden, tmp_path):
    p = Probe(golden).run(copy_golden(golden, tmp_path))
    assert not p.errors, p.errors
    assert len(list((golden.path / "tx").iterdir())) > 2
    assert len(list((golden.path / "val").iterdir())) > 2


# ---------------------------------------------------------------- source of truth ----

TX_FIELDS = ["body_len", "crc", "id", "ts", "version", "nentries", "bl_tx_id", "bl_root",
             "prev_alh", "md_len", "key", "value_len", "value_offset", "value_hash", "alh"]


@pytest.mark.parametrize("which", ["first", "middle", "straddling", "last"])
@pytest.mark.parametrize("fld", TX_FIELDS)
def test_flipped_tx_log_byte_is_detected(golden, tmp_path, which, fld):
    g = golden
    t = {"first": 1, "middle": mid_tx(g), "straddling": straddling_tx(g), "last": NTX}[which]
    path = copy_golden(g, tmp_path)
    f, pos = seg_file(path, "tx", txlog_fields(g, t)[fld])
    flip_at(f, pos)
    p = Probe(g).run(path)
    assert p.errors, f"a flipped byte in the {fld} of tx {t} went unnoticed"
    p.assert_errors_name_a_place(f"(tx {t})", str(path / "tx"))


VALUE_CASES = [  # (tx, key, byte): a live value, superseded ones, one across segments
    (NTX - 1, None, "middle"), (1, b"key19", "tag"), (1, b"key07", "last"),
    (10, b"big", "middle"), (10, b"big", "after_boundary"), (23, LONG_KEY, "middle"),
]


@pytest.mark.parametrize("t,key,within", VALUE_CASES)
def test_flipped_value_log_byte_is_detected(golden, tmp_path, t, key, within):
    g = golden
    if key is None:  # the newest value in the log, still live
        key = next(k for k, v in g.writes[t].items() if v is not None and len(v) >= 3)
    path = copy_golden(g, tmp_path)
    f, pos = seg_file(path, "val", value_location(g, t, key, within))
    flip_at(f, pos)
    p = Probe(g).run(path)
    assert p.errors, "a flipped value byte went unnoticed"
    p.assert_errors_name_a_place(f"(tx {t})")
    p.assert_errors_name_a_place(str(path / "val"))


@pytest.mark.parametrize("cut", ["flip", "truncate"])
def test_damaged_acknowledged_tail_tx_after_crash_is_not_dropped(tmp_path, cut):
    """After a kill -9 the checkpoint lags; the tx index shows tx N was acknowledged.

    If tx N's record is then damaged (a flipped byte, lost bytes), opening must report it,
    not take it for a torn write and silently cut an acknowledged transaction.
    """
    live = tmp_path / "live"
    s = Store.open(live, segment_size=SEG, checkpoint_every_txs=1000)
    for i in range(12):
        s.set([(b"k%d" % i, b"value %d" % i)])
    crashed = tmp_path / "crashed"
    shutil.copytree(live, crashed, ignore=lambda d, n: [x for x in n if x in ("LOCK",
                                                                          "lock.mdb")])
    s.close()
    segs = sorted((crashed / "tx").iterdir())
    last = segs[-1]
    if cut == "flip":
        flip_at(last, last.stat().st_size - 40)  # inside the value hash of tx 12
    else:
        with open(last, "r+b") as f:
            f.truncate(last.stat().st_size - 3)
    try:
        s2 = Store.open(crashed)
    except CorruptionError as e:
        assert ERR_PLACE.search(str(e))
        return
    with s2:
        assert s2.last_committed == 12, (
            f"acknowledged tx 12 was silently dropped on open (store now ends at tx "
            f"{s2.last_committed}); its damaged record was taken for a torn write")


# ------------------------------------------------------------------- derived data ----

def derived_cases():
    t = 15
    return [
        # txi: every field, for the first, a middle and the last (checkpointed) tx
        *[("txi", f"{fld}-tx{tx}", tx, fld) for tx in (1, t, NTX)
          for fld in ("offset", "size", "tree_offset", "nentries", "alh")],
        ("aht", "leaf-tx15", t, "leaf"), ("aht", "leaf-tx1", 1, "leaf"),
        ("aht", "inner-0-4", 0, "inner"), ("aht", "last-node", NTX, "last"),
        ("htree", "leaf-tx15", t, "leaf"), ("htree", "inner-tx15", t, "inner"),
        ("htree", "root-tx15", t, "root"), ("htree", "root-tx40", NTX, "root"),
        *[("checkpoint", f"byte{b}", 0, b) for b in (7, 15, 23, 31, 40, 66)],
    ]


def flip_derived(g: Golden, path: Path, kind: str, tx: int, where) -> None:
    if kind == "txi":
        base = (tx - 1) * TXI_RECORD.size
        at = {"offset": 7, "size": 11, "tree_offset": 19, "nentries": 23, "alh": 40}[where]
        f, pos = seg_file(path, "txi", base + at)
    elif kind == "aht":
        slot = {"leaf": node_slot(0, tx - 1) if tx else 0, "inner": node_slot(2, 0),
                "last": nodes_for(NTX) - 1}[where]
        f, pos = seg_file(path, "aht", slot * 32 + 9)
    elif kind == "htree":
        _, _, tree_off, width = g.txi[tx]
        assert width > 2
        node = {"leaf": 0, "inner": width, "root": tree_size(width) // 32 - 1}[where]
        f, pos = seg_file(path, "htree", tree_off + node * 32 + 3)
    elif kind == "checkpoint":
        f, pos = path / "checkpoint", where
    else:
        raise AssertionError(kind)
    flip_at(f, pos)


def remove_derived(path: Path, kind: str) -> None:
    p = path / kind
    if p.is_dir():
        shutil.rmtree(p)
    elif p.exists():
        p.unlink()


def continue_and_recover(g: Golden, path: Path, kind: str) -> None:
    """Write on the damaged store (if it opens), then drop the damaged file: all is well."""
    committed = g.top
    try:
        with Store.open(path) as s:
            s.set([(b"post", b"damage")])
            committed += 1
    except CorruptionError:
        pass  # refusing to open a damaged store is fine; recovery must still work
    remove_derived(path, kind)
    with Store.open(path) as s:
        assert s.last_committed == committed
        s.check()
        for t in range(1, g.top + 1):
            assert s.header(t) == g.headers[t] and s.alh(t) == g.alh[t]
        if committed > g.top:
            assert s.get(b"post").value == b"damage"
            verify_tx_proof(s.verifiable_tx_by_id(committed, since_tx=g.top),
                            g.trusted(g.top))


@pytest.mark.parametrize("kind,name,tx,where", derived_cases(),
                         ids=[f"{c[0]}-{c[1]}" for c in derived_cases()])
def test_flipped_derived_byte(golden, tmp_path, kind, name, tx, where):
    g = golden
    path = copy_golden(g, tmp_path)
    flip_derived(g, path, kind, tx, where)
    p = Probe(g).run(path)  # no wrong data, whatever happens
    p.assert_errors_name_a_place()
    if kind == "checkpoint":
        assert not p.errors, "a damaged checkpoint must just be ignored (CRC)"
    elif not p.errors:  # undetected is only fine if opening repaired (rebuilt) the file
        assert read_all(path, kind) == read_all(g.path, kind), (
            f"a flipped byte in {kind} was neither detected nor repaired")
    # Reopening after deleting the damaged derived file recovers.
    remove_derived(path, kind)
    p = Probe(g).run(path)
    assert not p.errors, [str(e) for e in p.errors]
    shutil.rmtree(path)
    path = copy_golden(g, tmp_path)
    flip_derived(g, path, kind, tx, where)
    continue_and_recover(g, path, kind)


def test_damaged_hash_tree_makes_proofs_fail_on_the_server(golden, tmp_path):
    """The store self-checks proofs: a bad node gives CorruptionError, not a bad proof."""
    g = golden
    path = copy_golden(g, tmp_path)
    f, pos = seg_file(path, "aht", node_slot(0, 4) * 32)  # leaf of tx 5: sibling of tx 6
    flip_at(f, pos)
    with Store.open(path) as s:
        with pytest.raises(CorruptionError, match=r"\(tx \d+\)") as ei:
            s.verifiable_tx_by_id(6, since_tx=NTX)
        assert not isinstance(ei.value, IndexCorruptedError)
        with pytest.raises(CorruptionError):
            s.check()
        # data away from the damaged node still proves fine
        verify_tx_proof(s.verifiable_tx_by_id(NTX, since_tx=NTX), g.trusted(NTX))


# --------------------------------------------------------------------- key index ----

INDEX_FIELDS = {"tx_id_high": 0, "tx_id_low": 7, "revision": 11, "entry_index": 15,
                "value_offset": 23, "value_len": 27, "value_hash": 40, "md_len": 60,
                "md": 61, "crc": 74}


def index_target(g: Golden, which: str) -> bytes:
    """The 76-byte record of a chosen version, as it sits in data.mdb."""
    many = max((k for k in g.raw_versions if len(k) < 100),
               key=lambda k: (len(g.raw_versions[k]), k))
    if which == "middle":
        recs = g.raw_versions[many]
        return recs[len(recs) // 2]
    if which == "latest":
        return g.raw_versions[many][-1]
    if which == "tombstone":
        for k, recs in sorted(g.raw_versions.items()):
            if recs[-1][60] == 1 and recs[-1][61] == 0:
                return recs[-1]
    raise AssertionError(which)


INDEX_CASES = [("middle", f) for f in INDEX_FIELDS] + [
    ("latest", "tx_id_low"), ("latest", "value_hash"), ("latest", "crc"),
    ("tombstone", "md"), ("tombstone", "md_len")]


@pytest.mark.parametrize("which,fld", INDEX_CASES, ids=[f"{w}-{f}" for w, f in INDEX_CASES])
def test_flipped_index_version_record(golden, tmp_path, which, fld):
    g = golden
    path = copy_golden(g, tmp_path)
    mask = 0x80 if fld == "tx_id_high" else 0x01
    flip_all(path / "index" / "data.mdb", index_target(g, which), INDEX_FIELDS[fld], mask)
    p = Probe(g).run(path)
    assert p.errors, "a damaged index record went unnoticed by check()"
    assert any(isinstance(e, IndexCorruptedError) for e in p.errors)
    p.assert_errors_name_a_place("index")
    # rebuild_index repairs it in place ...
    with Store.open(path) as s:
        s.rebuild_index()
    assert not Probe(g).run(path).errors
    # ... and so does deleting the index
    shutil.rmtree(path)
    path = copy_golden(g, tmp_path)
    flip_all(path / "index" / "data.mdb", index_target(g, which), INDEX_FIELDS[fld], mask)
    continue_and_recover(g, path, "index")


@pytest.mark.parametrize("what", ["indexed-marker", "long-key"])
def test_flipped_index_aux_records(golden, tmp_path, what):
    g = golden
    path = copy_golden(g, tmp_path)
    mdb = path / "index" / "data.mdb"
    if what == "indexed-marker":
        flip_all(mdb, g.indexed_raw, 20)
    else:
        flip_all(mdb, b"\x00" + LONG_KEY, 500)  # past the 480 bytes the lmdb key holds
    p = Probe(g).run(path)
    p.assert_errors_name_a_place()
    if what == "long-key":
        assert p.errors
    continue_and_recover(g, path, "index")


# --------------------------------------------------------------------- immusql.json ----

@pytest.mark.parametrize("where", ["brace", "format-key", "format-value", "segment-digit",
                                   "key-name", "non-utf8"])
def test_flipped_metadata_byte(golden, tmp_path, where):
    g = golden
    path = copy_golden(g, tmp_path)
    meta = path / "immusql.json"
    text = meta.read_bytes()
    pos, mask = {
        "brace": (0, 0x01),
        "format-key": (text.index(b'"format"') + 2, 0x01),
        "format-value": (text.index(b'"format"') + 10, 0x01),
        "segment-digit": (text.index(b'"segment_size"') + 16, 0x01),
        "key-name": (text.index(b'"max_tx_entries"') + 3, 0x01),
        "non-utf8": (text.index(b'"max_key_len"') + 5, 0x80),
    }[where]
    flip_at(meta, pos, mask)
    p = Probe(g).run(path)
    assert p.errors, "a damaged immusql.json went unnoticed"
    p.assert_errors_name_a_place()


def test_flipped_db_name_in_metadata_is_detected(golden, tmp_path):
    """The db name is part of every signed state: a flipped byte must not rename the db."""
    g = golden
    path = copy_golden(g, tmp_path)
    meta = path / "immusql.json"
    text = meta.read_bytes()
    flip_at(meta, text.index(b'"defaultdb"') + 9, 0x01)  # defaultdb -> defaultdc
    try:
        s = Store.open(path)
    except CorruptionError as e:
        assert "immusql.json" in str(e)
        return
    with s:
        assert s.state().db == g.db, (
            f"the store silently serves (and would sign) states of db {s.state().db!r}")


# ========================================================= forks seen by a Verifier ====

class FakeTime:
    """Replays recorded commit times so a forged history can copy the original's ts."""

    def __init__(self, micros: list[int]):
        self._it = iter(micros)

    def time_ns(self) -> int:
        return next(self._it) * 1000


FORK_OPS = [("set", [(b"acct%d" % i, b"%d" % (100 * i)) for i in range(6)])] + [
    ("set", [(b"acct%d" % (t % 6), b"%d" % (t * 7)), (b"log%02d" % t, b"entry %d" % t)])
    for t in range(2, 21)]


def build_ops(path: Path, ops, ts: list[int] | None = None, monkeypatch=None) -> Store:
    if ts is not None:
        monkeypatch.setattr(store_mod, "time", FakeTime(ts))
    try:
        s = Store.open(path, segment_size=SEG)
        for op in ops:
            apply_op(s, op)
    finally:
        if ts is not None:
            monkeypatch.undo()
    return s


def trust_at(s: Store, k: int, path: Path | None = None) -> Verifier:
    v = Verifier(s.db, path)
    v.verify_tx(s.verifiable_tx_by_id(k))  # trust on first use, at tx k
    assert v.state.tx_id == k and v.state.alh == s.alh(k)
    return v


def assert_rejected(v: Verifier, make_proof, kind: str = "entry") -> None:
    before = v.state
    proof = make_proof()
    with pytest.raises(ProofError):
        if kind == "entry":
            v.verify_entry(proof)
        elif kind == "tx":
            v.verify_tx(proof)
        else:
            v.advance(*proof)
    with pytest.raises(ProofError):  # the JSON a remote server would send, too
        if kind == "entry":
            v.verify_entry(proof.to_json())
        elif kind == "tx":
            v.verify_tx(proof.to_json())
        else:
            v.advance(proof[0].to_json(), proof[1].to_json())
    assert v.state == before, "a rejected proof moved the trusted state"


K = 12  # the verifier trusts tx K of the honest store


def test_verifier_rejects_a_fork_at_the_trusted_tx(tmp_path):
    """B shares txs 1..K-1 with A byte for byte, then commits a different tx K (and more)."""
    a = build_ops(tmp_path / "a", FORK_OPS[:K - 1])
    a.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    a = Store.open(tmp_path / "a")
    b = Store.open(tmp_path / "b")
    try:
        for op in FORK_OPS[K - 1:]:
            apply_op(a, op)
        apply_op(b, ("set", [(b"acct0", b"1000000"), (b"log12", b"rewritten")]))
        for op in FORK_OPS[K:K + 4]:
            apply_op(b, op)
        for t in range(1, K):
            assert b.header(t) == a.header(t)
        assert b.alh(K) != a.alh(K)
        v = trust_at(a, K, tmp_path / "state.json")
        saved = (tmp_path / "state.json").read_bytes()

        assert_rejected(v, lambda: b.verifiable_get(b"acct0", since_tx=K))  # the forged tx
        assert_rejected(v, lambda: b.verifiable_get(b"acct1", since_tx=K))  # untouched, older
        assert_rejected(v, lambda: b.verifiable_get(b"log03", since_tx=K))
        assert_rejected(v, lambda: b.verifiable_get(b"log15", since_tx=K))  # newer than K
        assert_rejected(v, lambda: b.verifiable_tx_by_id(K, since_tx=K), "tx")
        assert_rejected(v, lambda: b.verifiable_tx_by_id(K + 3, since_tx=K), "tx")
        assert_rejected(v, lambda: b.verifiable_state(since_tx=K), "state")
        # a server lying about what the client trusts gets no further
        assert_rejected(v, lambda: b.verifiable_get(b"acct0", since_tx=K - 1))
        assert_rejected(v, lambda: b.verifiable_get(b"acct0"))
        assert_rejected(v, lambda: b.verifiable_tx_by_id(K - 2, since_tx=K - 1), "tx")
        assert (tmp_path / "state.json").read_bytes() == saved

        # honest proofs of A still verify and move the state forward
        for key in (b"acct1", b"log03", b"log19", b"acct0"):
            proof = v.verify_entry(a.verifiable_get(key, since_tx=v.state.tx_id))
            assert proof.value == b"\x00" + a.get(key).value
        v.verify_tx(a.verifiable_tx_by_id(3, since_tx=v.state.tx_id))
        v.advance(*a.verifiable_state(since_tx=v.state.tx_id))
        assert v.state.tx_id == a.last_committed and v.state.alh == a.alh(a.last_committed)
        assert Verifier(a.db, tmp_path / "state.json").state == v.state
        # and the fork is still rejected from the newer trusted state
        with pytest.raises(ProofError):
            v.verify_entry(b.verifiable_get(b"acct0", since_tx=b.last_committed))
    finally:
        a.close()
        b.close()


J = 5  # the rewritten transaction, older than the trusted K


def test_verifier_rejects_a_consistent_rewrite_of_history(tmp_path, monkeypatch):
    """B rewrites tx J < K and recomputes every later hash: self-consistent, still caught."""
    a = build_ops(tmp_path / "a", FORK_OPS)
    ts = [a.header(t).ts for t in range(1, a.last_committed + 1)]
    forged = list(FORK_OPS)
    forged[J - 1] = ("set", [(b"acct%d" % (J % 6), b"999999999"),
                             (b"log%02d" % J, b"entry %d" % J)])
    b = build_ops(tmp_path / "b", forged, ts, monkeypatch)
    try:
        # a forgery that looks right: same length, same times, same early headers, and
        # internally consistent down to every hash
        assert b.last_committed == a.last_committed
        for t in range(1, J):
            assert b.header(t) == a.header(t)
        for t in range(J, a.last_committed + 1):
            assert b.header(t).ts == a.header(t).ts and b.alh(t) != a.alh(t)
        b.check()
        fresh = Verifier(b.db)  # with nothing trusted yet, the forgery is accepted ...
        fresh.verify_entry(b.verifiable_get(b"acct%d" % (J % 6), at_tx=J))
        fresh.verify_entry(b.verifiable_get(b"acct1", since_tx=fresh.state.tx_id))

        v = trust_at(a, K)  # ... but not by a client that trusted A at tx K
        rewritten = b"acct%d" % (J % 6)
        assert_rejected(v, lambda: b.verifiable_get(rewritten, since_tx=K, at_tx=J))
        assert_rejected(v, lambda: b.verifiable_get(rewritten, since_tx=K))
        assert_rejected(v, lambda: b.verifiable_get(b"log02", since_tx=K))  # before J
        assert_rejected(v, lambda: b.verifiable_tx_by_id(J, since_tx=K), "tx")
        assert_rejected(v, lambda: b.verifiable_tx_by_id(J - 1, since_tx=K), "tx")
        assert_rejected(v, lambda: b.verifiable_state(since_tx=K), "state")
        # splicing honest pieces into B's answers does not help either
        honest = a.verifiable_get(rewritten, since_tx=K, at_tx=J)
        forged_proof = b.verifiable_get(rewritten, since_tx=K, at_tx=J)
        for mixed in (type(honest)(forged_proof.key, forged_proof.value, forged_proof.md,
                                   honest.tx, honest.inclusion, honest.dual, honest.state),
                      type(honest)(honest.key, honest.value, honest.md, forged_proof.tx,
                                   forged_proof.inclusion, honest.dual, honest.state)):
            with pytest.raises(ProofError):
                v.verify_entry(mixed)
        # the honest history still verifies
        v.verify_entry(honest)
        v.verify_entry(a.verifiable_get(b"log02", since_tx=K))
        dual, state = a.verifiable_state(since_tx=K)
        assert v.advance(dual, state).tx_id == a.last_committed
    finally:
        a.close()
        b.close()


def test_verifier_rejects_a_rollback(tmp_path):
    """B is A as it was at tx M < K (history cut back): it cannot satisfy a client at K."""
    M = 8
    a = build_ops(tmp_path / "a", FORK_OPS[:M])
    a.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    a = Store.open(tmp_path / "a")
    b = Store.open(tmp_path / "b")
    try:
        for op in FORK_OPS[M:]:
            apply_op(a, op)
        v = trust_at(a, K)
        with pytest.raises(InvalidArgumentError):
            b.verifiable_get(b"acct1", since_tx=K)  # the honest old server refuses
        assert_rejected(v, lambda: b.verifiable_get(b"acct1"))
        assert_rejected(v, lambda: b.verifiable_get(b"acct1", since_tx=M))
        assert_rejected(v, lambda: b.verifiable_get(b"log03", since_tx=3))
        assert_rejected(v, lambda: b.verifiable_tx_by_id(M, since_tx=M), "tx")
        assert_rejected(v, lambda: b.verifiable_state(since_tx=M), "state")
        assert_rejected(v, lambda: b.verifiable_state(since_tx=1), "state")
        # B's state and proof from the trusted past, offered as "the current state"
        dual, state = b.verifiable_state(since_tx=1)
        with pytest.raises(ProofError):
            verify_state_transition(v.state, dual, state)
        # the rolled-back server grows again, differently: still a fork
        for i in range(K + 2 - M):
            b.set([(b"acct1", b"rolled back %d" % i)])
        assert b.last_committed > K
        assert_rejected(v, lambda: b.verifiable_get(b"acct1", since_tx=K))
        assert_rejected(v, lambda: b.verifiable_state(since_tx=K), "state")
        # untouched data of A still verifies
        for key in (b"acct1", b"log03"):
            proof = v.verify_entry(a.verifiable_get(key, since_tx=v.state.tx_id))
            assert proof.value == b"\x00" + a.get(key).value
        v.verify_entry(a.verifiable_get(b"log03", since_tx=v.state.tx_id, at_tx=3))
    finally:
        a.close()
        b.close()


def test_tampered_proof_fields_are_rejected(tmp_path):
    """Honest proofs verify; changing any one part of one (value, key, header) does not."""
    from dataclasses import replace

    a = build_ops(tmp_path / "a", FORK_OPS)
    try:
        v = trust_at(a, K)
        honest = a.verifiable_get(b"acct3", since_tx=K)
        bad = [
            replace(honest, value=honest.value + b"0"),
            replace(honest, key=b"\x00acct4"),
            replace(honest, md=MD_DELETED_BYTES),
            replace(honest, tx=replace(honest.tx, ts=honest.tx.ts + 1)),
            replace(honest, state=replace(honest.state, tx_id=honest.state.tx_id + 1)),
            replace(honest, state=replace(honest.state, alh=sha256(b"x"))),
        ]
        for proof in bad:
            with pytest.raises(ProofError):
                v.verify_entry(proof)
        assert v.state.tx_id == K
        v.verify_entry(honest)
        assert v.state.tx_id == honest.state.tx_id > K
    finally:
        a.close()
