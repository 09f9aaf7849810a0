"""The public contract of `immusql.kv.Store`: reads, writes, deletes, scans, references,
sorted sets, transactions by id, limits, options, lifecycle and verifiable reads.

Expected values are always the ones the test itself wrote; stored layouts are rebuilt from
the documented key-space rules (keyspace.py / docs), not from the store's own encoders.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import struct
import tempfile
import time
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from immusql.kv import (
    CorruptionError,
    ImmuSQLError,
    InvalidArgumentError,
    KeyNotFoundError,
    LimitExceededError,
    ProofError,
    Reference,
    State,
    Store,
    StoreClosedError,
    StoreLockedError,
    TxNotFoundError,
    Verifier,
    ZEntry,
    generate_signing_key,
    public_key_bytes,
    verify_entry_proof,
)

SEG = 64 * 1024
DELETED_MD = b"\x00"
U64 = struct.Struct(">Q")


# --- documented stored layouts (rebuilt here independently of immusql.kv.keyspace) -----

def stored_key(key: bytes) -> bytes:
    return b"\x00" + key


def stored_value(value: bytes) -> bytes:
    return b"\x00" + value


def stored_reference(target: bytes, at_tx: int) -> bytes:
    return b"\x01" + U64.pack(at_tx) + b"\x00" + target


def orderable_score(score: float) -> bytes:
    (bits,) = struct.unpack(">Q", struct.pack(">d", score + 0.0))
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 1 << 63
    return U64.pack(bits)


def stored_zkey(set_key: bytes, score: float, key: bytes, at_tx: int) -> bytes:
    return (b"\x01" + U64.pack(len(set_key)) + set_key + orderable_score(score)
            + U64.pack(len(key)) + key + U64.pack(at_tx))


def keys_of(entries) -> list[bytes]:
    return [e.key for e in entries]


def assert_sqlstate(excinfo, code: str) -> None:
    assert excinfo.value.sqlstate == code, (excinfo.value, excinfo.value.sqlstate)


# =========================================================================================
# set / get / at_tx / history
# =========================================================================================

def test_set_returns_header_and_get_reads_it(store):
    h1 = store.set([(b"a", b"1"), (b"b", b"2")])
    assert h1.id == 1 and h1.nentries == 2 and h1.bl_tx_id == 0
    h2 = store.set([(b"a", b"3")])
    assert h2.id == 2 and h2.nentries == 1
    assert h2.prev_alh == h1.alh() and h2.ts >= h1.ts
    a = store.get(b"a")
    assert (a.key, a.value, a.tx_id, a.revision, a.md) == (b"a", b"3", 2, 2, b"")
    assert not a.deleted and a.referenced_by is None
    b = store.get(b"b")
    assert (b.key, b.value, b.tx_id, b.revision) == (b"b", b"2", 1, 1)
    assert store.last_committed == 2
    assert store.state().tx_id == 2 and store.state().alh == h2.alh()


def test_get_missing_key_raises_key_not_found(store):
    with pytest.raises(KeyNotFoundError) as ei:
        store.get(b"nope")
    assert_sqlstate(ei, "P0002")
    store.set([(b"x", b"1")])
    with pytest.raises(KeyNotFoundError):
        store.get(b"nope")
    with pytest.raises(KeyNotFoundError):  # a prefix of a key is not the key
        store.get(b"x\x00")


def test_empty_value_and_binary_values_round_trip(store):
    store.set([(b"empty", b""), (b"bin", bytes(range(256))), (b"\x00", b"\xff" * 3)])
    assert store.get(b"empty").value == b""
    assert store.get(b"bin").value == bytes(range(256))
    assert store.get(b"\x00").value == b"\xff\xff\xff"


def test_bytearray_keys_and_values_are_accepted(store):
    store.set([(bytearray(b"ba"), bytearray(b"val"))])
    assert store.get(b"ba").value == b"val"
    assert store.get(bytearray(b"ba")).value == b"val"


def test_get_at_tx_reads_the_version_as_of_that_tx(store):
    store.set([(b"k", b"v1")])                 # 1
    store.set([(b"other", b"x")])              # 2
    store.set([(b"k", b"v2")])                 # 3
    store.delete([b"k"])                       # 4
    store.set([(b"k", b"v3")])                 # 5
    expected = {1: (b"v1", 1, 1), 2: (b"v1", 1, 1), 3: (b"v2", 3, 2), 5: (b"v3", 5, 4)}
    for at, (value, tx_id, revision) in expected.items():
        e = store.get(b"k", at_tx=at)
        assert (e.value, e.tx_id, e.revision) == (value, tx_id, revision), at
    with pytest.raises(KeyNotFoundError):
        store.get(b"k", at_tx=4)  # deleted as of tx 4
    with pytest.raises(KeyNotFoundError):
        store.get(b"other", at_tx=1)  # not yet written at tx 1
    with pytest.raises(KeyNotFoundError):
        store.get(b"k", at_tx=0)  # the empty database


def test_at_tx_in_the_future_raises_tx_not_found(store):
    store.set([(b"k", b"v")])
    for call in (lambda: store.get(b"k", at_tx=2),
                 lambda: list(store.scan(at_tx=2)),
                 lambda: store.set_reference(b"r", b"k", at_tx=5),
                 lambda: store.zadd(b"z", 1.0, b"k", at_tx=2),
                 lambda: store.tx_by_id(2),
                 lambda: store.verifiable_get(b"k", at_tx=3),
                 lambda: store.verifiable_tx_by_id(2)):
        with pytest.raises(TxNotFoundError) as ei:
            call()
        assert_sqlstate(ei, "22023")


def test_negative_at_tx_is_rejected(store):
    store.set([(b"k", b"v")])
    with pytest.raises(InvalidArgumentError):
        store.get(b"k", at_tx=-1)
    with pytest.raises(InvalidArgumentError):
        list(store.scan(at_tx=-1))


def test_history_lists_every_version_including_tombstones(store):
    store.set([(b"k", b"v1")])
    store.set([(b"x", b"-")])
    store.set([(b"k", b"v2")])
    store.delete([b"k"])
    store.set([(b"k", b"v3")])
    hist = store.history(b"k")
    assert [(e.key, e.value, e.tx_id, e.revision, e.deleted) for e in hist] == [
        (b"k", b"v1", 1, 1, False),
        (b"k", b"v2", 3, 2, False),
        (b"k", b"", 4, 3, True),
        (b"k", b"v3", 5, 4, False),
    ]
    assert hist[2].md == DELETED_MD and hist[0].md == b""
    desc = store.history(b"k", desc=True)
    assert [e.revision for e in desc] == [4, 3, 2, 1]
    assert [e.revision for e in store.history(b"k", offset=1)] == [2, 3, 4]
    assert [e.revision for e in store.history(b"k", offset=1, limit=2)] == [2, 3]
    assert [e.revision for e in store.history(b"k", limit=1)] == [1]
    assert [e.revision for e in store.history(b"k", offset=1, limit=2, desc=True)] == [3, 2]
    assert store.history(b"k", offset=4) == []
    assert store.history(b"k", offset=10, limit=3) == []
    assert store.history(b"k", limit=0) == []
    assert store.history(b"never-written") == []
    with pytest.raises(InvalidArgumentError):
        store.history(b"k", offset=-1)
    with pytest.raises(InvalidArgumentError):
        store.history(b"k", limit=-1)


def test_revisions_count_per_key_and_are_one_based(store):
    for i in range(5):
        store.set([(b"a", b"a%d" % i)] + ([(b"b", b"b%d" % i)] if i % 2 else []))
    assert [e.revision for e in store.history(b"a")] == [1, 2, 3, 4, 5]
    assert [e.revision for e in store.history(b"b")] == [1, 2]
    assert [e.tx_id for e in store.history(b"b")] == [2, 4]
    assert store.get(b"a").revision == 5
    assert store.get(b"b").revision == 2


# =========================================================================================
# delete
# =========================================================================================

def test_delete_semantics(store):
    store.set([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    h = store.delete([b"b"])
    assert h.id == 2 and h.nentries == 1
    with pytest.raises(KeyNotFoundError):
        store.get(b"b")
    assert keys_of(store.scan()) == [b"a", b"c"]
    assert keys_of(store.scan(desc=True)) == [b"c", b"a"]
    assert keys_of(store.scan(prefix=b"b")) == []
    # the past is unchanged
    assert store.get(b"b", at_tx=1).value == b"2"
    assert keys_of(store.scan(at_tx=1)) == [b"a", b"b", b"c"]
    hist = store.history(b"b")
    assert [(e.tx_id, e.deleted) for e in hist] == [(1, False), (2, True)]
    # set again after a delete
    store.set([(b"b", b"again")])
    e = store.get(b"b")
    assert (e.value, e.tx_id, e.revision) == (b"again", 3, 3)
    assert keys_of(store.scan()) == [b"a", b"b", b"c"]
    # and delete again
    store.delete([b"b"])
    with pytest.raises(KeyNotFoundError):
        store.get(b"b")


def test_delete_several_keys_in_one_tx(store):
    store.set([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    h = store.delete([b"a", b"c"])
    assert h.nentries == 2
    assert keys_of(store.scan()) == [b"b"]
    tx = store.tx_by_id(h.id)
    assert [(e.key, e.value, e.md) for e in tx.entries] == [
        (stored_key(b"a"), b"", DELETED_MD), (stored_key(b"c"), b"", DELETED_MD)]


def test_delete_missing_or_deleted_key_raises_and_writes_nothing(store):
    with pytest.raises(KeyNotFoundError) as ei:
        store.delete([b"never"])
    assert_sqlstate(ei, "P0002")
    store.set([(b"a", b"1")])
    store.delete([b"a"])
    before = store.state()
    with pytest.raises(KeyNotFoundError):
        store.delete([b"a"])  # already deleted
    store.set([(b"b", b"2")])
    with pytest.raises(KeyNotFoundError):
        store.delete([b"b", b"missing"])  # all or nothing
    assert store.get(b"b").value == b"2"  # the set went through, the delete did not
    assert store.last_committed == before.tx_id + 1
    assert [e.deleted for e in store.history(b"b")] == [False]


def test_delete_rejects_bad_input(store):
    store.set([(b"a", b"1")])
    with pytest.raises(InvalidArgumentError):
        store.delete([])
    with pytest.raises(InvalidArgumentError):
        store.delete([b"a", b"a"])
    with pytest.raises(InvalidArgumentError):
        store.delete(["a"])
    assert store.get(b"a").value == b"1"


# =========================================================================================
# scan
# =========================================================================================

def test_scan_prefix_bounds_desc_limit(store):
    keys = [b"a", b"ab", b"abc", b"abd", b"ac", b"b", b"ba", b"c"]
    store.set([(k, b"v" + k) for k in keys])
    assert keys_of(store.scan()) == keys
    assert [e.value for e in store.scan()] == [b"v" + k for k in keys]
    assert keys_of(store.scan(desc=True)) == keys[::-1]
    assert keys_of(store.scan(prefix=b"ab")) == [b"ab", b"abc", b"abd"]
    assert keys_of(store.scan(prefix=b"ab", desc=True)) == [b"abd", b"abc", b"ab"]
    assert keys_of(store.scan(start=b"abc")) == keys[2:]           # inclusive
    assert keys_of(store.scan(end=b"abd")) == keys[:3]             # exclusive
    assert keys_of(store.scan(start=b"abc", end=b"b")) == [b"abc", b"abd", b"ac"]
    assert keys_of(store.scan(start=b"abc", end=b"b", desc=True)) == [b"ac", b"abd", b"abc"]
    assert keys_of(store.scan(start=b"abb", end=b"abz")) == [b"abc", b"abd"]  # absent bounds
    assert keys_of(store.scan(prefix=b"a", start=b"ab", end=b"ac")) == [b"ab", b"abc", b"abd"]
    assert keys_of(store.scan(prefix=b"ab", start=b"a")) == [b"ab", b"abc", b"abd"]
    assert keys_of(store.scan(prefix=b"ab", end=b"zz")) == [b"ab", b"abc", b"abd"]
    assert keys_of(store.scan(prefix=b"b", start=b"c")) == []
    assert keys_of(store.scan(start=b"b", end=b"b")) == []
    assert keys_of(store.scan(start=b"c", end=b"a")) == []
    assert keys_of(store.scan(limit=3)) == keys[:3]
    assert keys_of(store.scan(limit=3, desc=True)) == keys[::-1][:3]
    assert keys_of(store.scan(limit=0)) == []
    assert keys_of(store.scan(prefix=b"zz")) == []


def test_scan_entries_carry_tx_and_revision(store):
    store.set([(b"a", b"1")])
    store.set([(b"a", b"2"), (b"b", b"1")])
    got = [(e.key, e.value, e.tx_id, e.revision) for e in store.scan()]
    assert got == [(b"a", b"2", 2, 2), (b"b", b"1", 2, 1)]


def test_scan_limit_counts_live_entries_only(store):
    store.set([(b"k%d" % i, b"v") for i in range(10)])
    store.delete([b"k0", b"k1", b"k2", b"k8"])
    assert keys_of(store.scan(limit=3)) == [b"k3", b"k4", b"k5"]
    assert keys_of(store.scan(limit=3, desc=True)) == [b"k9", b"k7", b"k6"]


def test_scan_at_tx_snapshots(store):
    store.set([(b"a", b"1"), (b"b", b"1")])   # 1
    store.set([(b"c", b"2"), (b"a", b"2")])   # 2
    store.delete([b"b"])                      # 3
    store.set([(b"b", b"4")])                 # 4
    snap = {at: [(e.key, e.value) for e in store.scan(at_tx=at)] for at in range(0, 5)}
    assert snap[0] == []
    assert snap[1] == [(b"a", b"1"), (b"b", b"1")]
    assert snap[2] == [(b"a", b"2"), (b"b", b"1"), (b"c", b"2")]
    assert snap[3] == [(b"a", b"2"), (b"c", b"2")]
    assert snap[4] == [(b"a", b"2"), (b"b", b"4"), (b"c", b"2")]
    assert [(e.key, e.value) for e in store.scan(at_tx=2, desc=True, limit=2)] == [
        (b"c", b"2"), (b"b", b"1")]


def test_scan_is_lazy_and_consistent_while_writing(store):
    store.set([(b"k%03d" % i, b"old") for i in range(50)])
    it = store.scan()
    first = next(it)
    store.set([(b"k%03d" % i, b"new") for i in range(50)])
    store.set([(b"k000a", b"inserted")])
    rest = list(it)
    got = [first] + rest
    # the scan was pinned to the state when it started
    assert keys_of(got) == [b"k%03d" % i for i in range(50)]
    assert {e.value for e in got} == {b"old"}


def test_scan_keys_around_0xff(store):
    keys = [b"\xfe", b"\xfe\xff", b"\xff", b"\xff\x00", b"\xff\xff", b"\xff\xff\xff",
            b"a\xff", b"a\xff\xff", b"b", b"\x00", b"\x00\xff", b"\x01"]
    store.set([(k, k * 2) for k in keys])
    store.zadd(b"\xff", 1.0, b"\xff")  # sorted-set keys live in another key space
    store.set_reference(b"\xffref", b"b")
    all_keys = sorted(keys + [b"\xffref"])
    assert keys_of(e.referenced_by or e for e in store.scan()) == all_keys
    assert keys_of(e.referenced_by or e for e in store.scan(desc=True)) == all_keys[::-1]
    assert keys_of(store.scan(prefix=b"\xff\xff")) == [b"\xff\xff", b"\xff\xff\xff"]
    assert keys_of(store.scan(prefix=b"\xff\xff", desc=True)) == [b"\xff\xff\xff", b"\xff\xff"]
    assert keys_of(store.scan(prefix=b"a\xff")) == [b"a\xff", b"a\xff\xff"]
    assert keys_of(store.scan(prefix=b"\xfe")) == [b"\xfe", b"\xfe\xff"]
    assert keys_of(store.scan(prefix=b"\x00")) == [b"\x00", b"\x00\xff"]
    assert keys_of(store.scan(start=b"\xff\xff")) == [b"\xff\xff", b"\xff\xff\xff"]
    assert keys_of(store.scan(end=b"\x00\xff")) == [b"\x00"]
    assert keys_of(e.referenced_by or e for e in store.scan(start=b"\xff", end=b"\xff\xff")) \
        == [b"\xff", b"\xff\x00", b"\xffref"]


def test_scan_long_keys_mixed_with_short_keys_sharing_prefixes(store):
    base = b"L" * 470
    keys = {
        b"L", b"L" * 100, base, base + b"\x00", base + b"\xff",
        base + b"x" * 9,            # 479 bytes: stored as 480, the longest short key
        base + b"x" * 10,           # 480 bytes: stored as 481, the shortest long key
        base + b"x" * 10 + b"\x00",
        base + b"x" * 10 + b"a",
        base + b"x" * 10 + b"b" * 200,
        base + b"x" * 10 + b"\xff" * 3,
        base + b"x" * 11,
        base + b"x" * 9 + b"y" + b"z" * 300,
        base + b"y" * 500,
        base + b"y" * 500 + b"\x00",
        base + b"y" * 499 + b"\x00",
        base + b"\xff" * 40,
        b"M" * 900, b"M" * 899, b"M" * 899 + b"\x00", b"Ma",
    }
    store.set([(k, hashlib.sha256(k).digest()) for k in keys])
    model = sorted(keys)
    assert keys_of(store.scan()) == model
    assert keys_of(store.scan(desc=True)) == model[::-1]
    for e in store.scan():
        assert e.value == hashlib.sha256(e.key).digest()
    for k in model:
        assert store.get(k).value == hashlib.sha256(k).digest()
    probes = [b"", b"L", base, base + b"x" * 9, base + b"x" * 10, base + b"x" * 10 + b"a",
              base + b"y" * 500, base + b"y" * 499, b"M" * 899, b"M" * 900, b"N",
              base + b"x" * 10 + b"b" * 100]
    for p in probes:
        want = [k for k in model if k.startswith(p)]
        assert keys_of(store.scan(prefix=p)) == want, p[:10]
        assert keys_of(store.scan(prefix=p, desc=True)) == want[::-1]
    for lo in probes + [None]:
        for hi in probes + [None]:
            want = [k for k in model if (lo is None or k >= lo) and (hi is None or k < hi)]
            assert keys_of(store.scan(start=lo, end=hi)) == want
            assert keys_of(store.scan(start=lo, end=hi, desc=True)) == want[::-1]
            assert keys_of(store.scan(start=lo, end=hi, limit=3)) == want[:3]
            assert keys_of(store.scan(start=lo, end=hi, desc=True, limit=3)) == want[::-1][:3]
    # long keys have a history of their own
    k = base + b"x" * 10 + b"a"
    store.set([(k, b"second")])
    assert [e.value for e in store.history(k)] == [hashlib.sha256(k).digest(), b"second"]
    store.delete([k])
    with pytest.raises(KeyNotFoundError):
        store.get(k)
    assert k not in keys_of(store.scan())
    with pytest.raises(KeyNotFoundError):
        store.get(base + b"x" * 10 + b"c")  # an absent long key with a present neighbour


# --- model-based test: Store against a dict of versions ----------------------------------

ALPHABET = [0x00, 0x01, 0x61, 0x62, 0xFE, 0xFF]
LONG_BASE = b"\xffp" * 239  # 478 bytes: keys built on it straddle the 480-byte boundary
short_keys = st.binary(min_size=1, max_size=3).map(
    lambda b: bytes(ALPHABET[x % len(ALPHABET)] for x in b))
suffixes = st.lists(st.sampled_from(ALPHABET), min_size=0, max_size=6).map(bytes)
# user keys of 480+ bytes whose first 479 bytes agree: the index groups and re-sorts them
grouped_long = st.tuples(st.sampled_from([b"a", b"\xff"]), st.sampled_from([b"\x00", b"b", b"\xff"]),
                         st.lists(st.sampled_from(ALPHABET), max_size=3).map(bytes)).map(
    lambda t: LONG_BASE + t[0] + t[1] + t[2])
long_keys = st.one_of(suffixes.map(lambda s: LONG_BASE + s), grouped_long)
model_keys = st.one_of(short_keys, long_keys, grouped_long,
                       st.sampled_from([LONG_BASE[:1], LONG_BASE[:2], LONG_BASE]))
bounds = st.one_of(st.none(), st.none(), model_keys, st.just(LONG_BASE[:300]))
prefixes = st.one_of(st.just(b""), st.just(b"\xff"), short_keys.map(lambda k: k[:2]),
                     st.sampled_from([b"\xffa"]).map(lambda p: LONG_BASE + p[1:]),
                     suffixes.map(lambda s: LONG_BASE + s[:2]), st.just(LONG_BASE[:100]))
values = st.binary(max_size=40)
# keys every run starts from, so that scans always meet long keys grouped by the index
SEED_KEYS = [b"\x00", b"\x01\xff", b"a", b"a\xff", b"\xff", b"\xff\xff", LONG_BASE[:2],
             LONG_BASE, LONG_BASE + b"a", LONG_BASE + b"a\x00", LONG_BASE + b"ab",
             LONG_BASE + b"ab\x01", LONG_BASE + b"a\xff", LONG_BASE + b"a" + b"z" * 100,
             LONG_BASE + b"\xff", LONG_BASE + b"\xff\x00", LONG_BASE + b"\xff\xff\xff",
             LONG_BASE + b"\xff\xffb"]


class StoreVsModel(RuleBasedStateMachine):
    """Every read of the store agrees with a plain Python model of all versions."""

    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="immusql-model-")
        self.store = Store.open(self.dir, segment_size=4096, synced=False)
        self.versions: dict[bytes, list[tuple[int, bytes | None]]] = {}
        self.tx = 0

    # -- model helpers --
    def model_at(self, key: bytes, at: int | None):
        """(value, tx, revision) of the live version of key at `at`, or None."""
        at = self.tx if at is None else at
        found = None
        for rev, (tx, value) in enumerate(self.versions.get(key, []), start=1):
            if tx <= at:
                found = (value, tx, rev)
        if found is None or found[0] is None:
            return None
        return found

    def live(self) -> list[bytes]:
        return sorted(k for k in self.versions if self.model_at(k, None) is not None)

    # -- rules --
    @initialize(keys=st.lists(st.sampled_from(SEED_KEYS), min_size=4, unique=True))
    def seed(self, keys):
        self.set({k: b"seed" + k[-3:] for k in keys})

    @rule(batch=st.dictionaries(model_keys, values, min_size=1, max_size=6))
    def set(self, batch):
        h = self.store.set(list(batch.items()))
        self.tx += 1
        assert h.id == self.tx and h.nentries == len(batch)
        for k, v in batch.items():
            self.versions.setdefault(k, []).append((self.tx, v))

    @precondition(lambda self: any(self.model_at(k, None) for k in self.versions))
    @rule(data=st.data())
    def delete(self, data):
        live = self.live()
        chosen = data.draw(st.lists(st.sampled_from(live), min_size=1, max_size=3,
                                    unique=True))
        h = self.store.delete(chosen)
        self.tx += 1
        assert h.id == self.tx
        for k in chosen:
            self.versions[k].append((self.tx, None))

    @rule(key=model_keys)
    def delete_missing(self, key):
        assume(self.model_at(key, None) is None)
        with pytest.raises(KeyNotFoundError):
            self.store.delete([key])

    @rule(key=model_keys, data=st.data())
    def get(self, key, data):
        at = data.draw(st.one_of(st.none(), st.integers(0, self.tx)))
        want = self.model_at(key, at)
        if want is None:
            with pytest.raises(KeyNotFoundError):
                self.store.get(key, at_tx=at)
        else:
            e = self.store.get(key, at_tx=at)
            assert (e.key, e.value, e.tx_id, e.revision) == (key, *want)

    @precondition(lambda self: self.versions)
    @rule(data=st.data())
    def history_of_written_key(self, data):
        key = data.draw(st.sampled_from(sorted(self.versions)))
        desc = data.draw(st.booleans())
        want = [(tx, v if v is not None else b"", v is None, rev)
                for rev, (tx, v) in enumerate(self.versions[key], start=1)]
        if desc:
            want.reverse()
        got = [(e.tx_id, e.value, e.deleted, e.revision) for e in self.store.history(key, desc=desc)]
        assert got == want

    @rule(prefix=prefixes, start=bounds, end=bounds, desc=st.booleans(),
          limit=st.one_of(st.none(), st.integers(0, 5)), data=st.data())
    def scan(self, prefix, start, end, desc, limit, data):
        at = data.draw(st.one_of(st.none(), st.integers(0, self.tx)))
        want = []
        for k in sorted(self.versions, reverse=desc):
            if not k.startswith(prefix) or (start is not None and k < start) \
                    or (end is not None and k >= end):
                continue
            m = self.model_at(k, at)
            if m is not None:
                want.append((k, *m))
        if limit is not None:
            want = want[:limit]
        got = [(e.key, e.value, e.tx_id, e.revision)
               for e in self.store.scan(prefix=prefix, start=start, end=end, desc=desc,
                                        limit=limit, at_tx=at)]
        assert got == want

    @rule()
    def reopen(self):
        before = self.store.state()
        self.store.close()
        self.store = Store.open(self.dir, synced=False)
        assert self.store.state() == before

    @invariant()
    def state_matches(self):
        assert self.store.last_committed == self.tx
        assert self.store.state().tx_id == self.tx

    def teardown(self):
        try:
            if self.tx:
                self.store.check()
        finally:
            self.store.close()
            shutil.rmtree(self.dir, ignore_errors=True)


StoreVsModel.TestCase.settings = settings(
    max_examples=35, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large])
test_store_matches_model = StoreVsModel.TestCase


# =========================================================================================
# references
# =========================================================================================

def test_reference_get_follows_latest_target(store):
    store.set([(b"target", b"v1")])
    h = store.set_reference(b"ref", b"target")
    e = store.get(b"ref")
    assert (e.key, e.value, e.tx_id, e.revision) == (b"target", b"v1", 1, 1)
    assert e.referenced_by == Reference(b"ref", h.id, 1, 0)
    store.set([(b"target", b"v2")])
    e = store.get(b"ref")
    assert (e.value, e.tx_id, e.revision) == (b"v2", 3, 2)
    assert e.referenced_by.key == b"ref" and e.referenced_by.at_tx == 0
    # the reference as of before the target's update reads the older version
    assert store.get(b"ref", at_tx=2).value == b"v1"
    with pytest.raises(KeyNotFoundError):
        store.get(b"ref", at_tx=1)  # the reference did not exist yet
    # the target is unchanged by reading it through a reference
    assert store.get(b"target").referenced_by is None


def test_reference_pinned_at_tx(store):
    store.set([(b"t", b"v1")])       # 1
    store.set([(b"t", b"v2")])       # 2
    h = store.set_reference(b"pinned", b"t", at_tx=1)
    store.set([(b"t", b"v3")])
    e = store.get(b"pinned")
    assert (e.key, e.value, e.tx_id, e.revision) == (b"t", b"v1", 1, 1)
    assert e.referenced_by == Reference(b"pinned", h.id, 1, 1)
    store.delete([b"t"])
    assert store.get(b"pinned").value == b"v1"  # pinned to a version that still exists


def test_reference_to_deleted_target_reads_as_missing(store):
    store.set([(b"t", b"v")])
    store.set_reference(b"r", b"t")
    store.delete([b"t"])
    with pytest.raises(KeyNotFoundError):
        store.get(b"r")
    store.set([(b"t", b"back")])
    assert store.get(b"r").value == b"back"


def test_reference_overwritten_and_replaced(store):
    store.set([(b"a", b"A"), (b"b", b"B")])
    store.set_reference(b"r", b"a")
    assert store.get(b"r").value == b"A"
    store.set_reference(b"r", b"b")
    assert store.get(b"r").value == b"B"
    assert store.get(b"r").referenced_by.revision == 2
    store.set([(b"r", b"plain now")])
    e = store.get(b"r")
    assert e.value == b"plain now" and e.referenced_by is None
    store.delete([b"r"])
    with pytest.raises(KeyNotFoundError):
        store.get(b"r")


def test_reference_rejections(store):
    store.set([(b"t", b"v")])
    store.set_reference(b"r", b"t")
    before = store.last_committed
    with pytest.raises(InvalidArgumentError):
        store.set_reference(b"r2", b"r")  # a reference to a reference
    with pytest.raises(KeyNotFoundError):
        store.set_reference(b"r3", b"missing")
    with pytest.raises(InvalidArgumentError):
        store.set_reference(b"t", b"t")  # to itself
    store.set([(b"later", b"L")])
    with pytest.raises(KeyNotFoundError):
        store.set_reference(b"r4", b"later", at_tx=before)  # target absent at that tx
    assert store.set_reference(b"r4", b"later", at_tx=before + 1).id == before + 2
    before = store.last_committed
    store.delete([b"t"])
    with pytest.raises(KeyNotFoundError):
        store.set_reference(b"r5", b"t")  # deleted target
    with pytest.raises(TxNotFoundError):
        store.set_reference(b"r6", b"t", at_tx=store.last_committed + 1)
    with pytest.raises(InvalidArgumentError):
        store.set_reference("r", b"t")
    with pytest.raises(LimitExceededError):
        store.set_reference(b"", b"t")
    assert store.last_committed == before + 1  # only the delete was written


def test_reference_pinned_to_a_past_version_of_a_deleted_key(store):
    store.set([(b"t", b"v")])
    store.delete([b"t"])
    store.set_reference(b"r", b"t", at_tx=1)
    assert store.get(b"r").value == b"v"


def test_scan_returns_references_resolved(store):
    store.set([(b"a", b"A"), (b"c", b"C")])
    h = store.set_reference(b"b", b"c")
    got = list(store.scan())
    assert [(e.key, e.value, None if e.referenced_by is None else e.referenced_by.key)
            for e in got] == [(b"a", b"A", None), (b"c", b"C", b"b"), (b"c", b"C", None)]
    assert got[1].referenced_by == Reference(b"b", h.id, 1, 0)


def test_scan_skips_reference_whose_target_was_deleted(store):
    """A scan must not fail because some reference in its range dangles (get of the
    reference reads as missing, so a scan skips it like any other missing key)."""
    store.set([(b"a", b"A"), (b"b", b"B")])
    store.set_reference(b"r", b"a")
    store.delete([b"a"])
    with pytest.raises(KeyNotFoundError):
        store.get(b"r")
    assert [(e.key, e.value) for e in store.scan()] == [(b"b", b"B")]


def test_target_later_overwritten_by_a_reference_is_not_reported_as_corruption(store):
    """r1 -> k; then k itself becomes a reference. Nothing is damaged on disk, so reading
    r1 must not raise CorruptionError (XX001): either resolve or refuse with a client error,
    or refuse turning a referenced key into a reference in the first place."""
    store.set([(b"k", b"K"), (b"k2", b"K2")])
    store.set_reference(b"r1", b"k")
    try:
        store.set_reference(b"k", b"k2")
    except InvalidArgumentError:
        assert store.get(b"r1").value == b"K"
        return
    try:
        e = store.get(b"r1")
    except CorruptionError as exc:
        pytest.fail(f"a reference chain made through the public API reads as corruption: {exc}")
    except (InvalidArgumentError, KeyNotFoundError):
        pass
    else:
        assert e.value in (b"K2",)
    store.check()  # and the store really is not damaged


# =========================================================================================
# sorted sets
# =========================================================================================

def test_zadd_zscan_orders_by_score(store):
    scores = {b"neg-big": -1e300, b"neg": -2.5, b"neg-tiny": -5e-324, b"zero": 0.0,
              b"tiny": 5e-324, b"one": 1.0, b"int": 7, b"big": 1e300,
              b"inf": math.inf, b"ninf": -math.inf}
    store.set([(k, b"val-" + k) for k in scores])
    for k, s in scores.items():
        store.zadd(b"set", s, k)
    got = list(store.zscan(b"set"))
    want = sorted(scores, key=lambda k: scores[k])
    assert [z.key for z in got] == want
    assert [z.score for z in got] == [float(scores[k]) for k in want]
    assert all(isinstance(z, ZEntry) and z.set == b"set" and z.at_tx == 0 for z in got)
    assert [z.entry.value for z in got] == [b"val-" + k for k in want]
    assert [z.key for z in store.zscan(b"set", desc=True)] == want[::-1]
    assert [z.key for z in store.zscan(b"set", limit=3)] == want[:3]
    assert [z.key for z in store.zscan(b"set", desc=True, limit=2)] == want[::-1][:2]
    assert list(store.zscan(b"other-set")) == []


def test_zscan_score_bounds_are_inclusive(store):
    store.set([(b"m%d" % i, b"%d" % i) for i in range(7)])
    for i, s in enumerate([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]):
        store.zadd(b"s", s, b"m%d" % i)

    def keys(**kw):
        return [z.key for z in store.zscan(b"s", **kw)]
    assert keys(min_score=-1.0) == [b"m1", b"m2", b"m3", b"m4", b"m5", b"m6"]
    assert keys(max_score=1.0) == [b"m0", b"m1", b"m2", b"m3", b"m4", b"m5"]
    assert keys(min_score=-1.0, max_score=1.0) == [b"m1", b"m2", b"m3", b"m4", b"m5"]
    assert keys(min_score=-1.0, max_score=1.0, desc=True) == [b"m5", b"m4", b"m3", b"m2", b"m1"]
    assert keys(min_score=-0.75, max_score=0.75) == [b"m2", b"m3", b"m4"]
    assert keys(min_score=0.0, max_score=0.0) == [b"m3"]
    assert keys(min_score=-0.0, max_score=-0.0) == [b"m3"]  # -0.0 == 0.0
    assert keys(min_score=2.0, max_score=-2.0) == []
    assert keys(min_score=5.0) == []
    assert keys(max_score=-5.0) == []
    assert keys(min_score=-math.inf, max_score=math.inf) == [b"m%d" % i for i in range(7)]
    assert keys(min_score=-1.0, max_score=1.0, limit=2) == [b"m1", b"m2"]


def test_zadd_negative_zero_is_zero(store):
    store.set([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    store.zadd(b"s", -0.0, b"a")
    store.zadd(b"s", -1e-300, b"b")
    store.zadd(b"s", 1e-300, b"c")
    got = list(store.zscan(b"s"))
    assert [z.key for z in got] == [b"b", b"a", b"c"]
    assert got[1].score == 0.0 and math.copysign(1, got[1].score) == 1.0
    assert [z.key for z in store.zscan(b"s", min_score=0.0, max_score=0.0)] == [b"a"]


def test_zset_members_follow_updates_and_deletes(store):
    store.set([(b"a", b"a1"), (b"b", b"b1"), (b"c", b"c1")])
    store.zadd(b"s", 1, b"a")
    store.zadd(b"s", 2, b"b")
    pinned_at = store.last_committed
    store.zadd(b"s", 3, b"c", at_tx=1)
    store.set([(b"a", b"a2"), (b"c", b"c2")])
    got = {z.key: z for z in store.zscan(b"s")}
    assert got[b"a"].entry.value == b"a2"          # follows the latest
    assert got[b"c"].entry.value == b"c1"          # pinned at tx 1
    assert got[b"c"].at_tx == 1 and got[b"a"].at_tx == 0
    store.delete([b"b"])
    assert [z.key for z in store.zscan(b"s")] == [b"a", b"c"]
    assert [z.key for z in store.zscan(b"s", limit=2)] == [b"a", b"c"]  # skipped, not counted
    store.delete([b"c"])  # pinned member still reads its old version
    assert [(z.key, z.entry.value) for z in store.zscan(b"s")] == [(b"a", b"a2"), (b"c", b"c1")]
    # zscan as of an earlier tx
    assert [z.key for z in store.zscan(b"s", at_tx=pinned_at)] == [b"a", b"b"]


def test_zset_sets_are_separate_and_keys_may_repeat_with_scores(store):
    store.set([(b"k", b"v")])
    store.zadd(b"s1", 1, b"k")
    store.zadd(b"s1x", 5, b"k")   # a set whose name extends another's
    store.zadd(b"s", 9, b"k")
    assert [z.set for z in store.zscan(b"s1")] == [b"s1"]
    assert [z.set for z in store.zscan(b"s1x")] == [b"s1x"]
    assert [z.score for z in store.zscan(b"s")] == [9.0]
    # zsets are not plain keys
    assert keys_of(store.scan()) == [b"k"]


def test_zadd_rejections(store):
    store.set([(b"k", b"v")])
    before = store.last_committed
    with pytest.raises(InvalidArgumentError) as ei:
        store.zadd(b"s", math.nan, b"k")
    assert_sqlstate(ei, "22023")
    with pytest.raises(InvalidArgumentError):
        store.zadd(b"s", "1", b"k")
    with pytest.raises(KeyNotFoundError):
        store.zadd(b"s", 1.0, b"missing")
    with pytest.raises(InvalidArgumentError):
        store.zadd("s", 1.0, b"k")
    with pytest.raises(LimitExceededError):
        store.zadd(b"", 1.0, b"k")
    assert store.last_committed == before
    assert list(store.zscan(b"s")) == []


# =========================================================================================
# tx_by_id / tx_scan and the stored layout
# =========================================================================================

def test_tx_by_id_entries_carry_key_space_prefixes(store):
    h1 = store.set([(b"k1", b"v1"), (b"k2", b"")])
    h2 = store.set_reference(b"ref", b"k1", at_tx=1)
    h3 = store.set_reference(b"ref2", b"k2")
    h4 = store.zadd(b"zs", -2.5, b"k1", at_tx=1)
    h5 = store.delete([b"k2"])
    tx1 = store.tx_by_id(h1.id)
    assert tx1.id == 1 and tx1.header == h1
    assert [(e.key, e.value, e.md, e.value_hash) for e in tx1.entries] == [
        (stored_key(b"k1"), stored_value(b"v1"), b"", hashlib.sha256(b"\x00v1").digest()),
        (stored_key(b"k2"), stored_value(b""), b"", hashlib.sha256(b"\x00").digest())]
    tx2 = store.tx_by_id(h2.id)
    assert [(e.key, e.value) for e in tx2.entries] == [
        (stored_key(b"ref"), stored_reference(b"k1", 1))]
    assert store.tx_by_id(h3.id).entries[0].value == stored_reference(b"k2", 0)
    tx4 = store.tx_by_id(h4.id)
    assert [(e.key, e.value, e.md) for e in tx4.entries] == [
        (stored_zkey(b"zs", -2.5, b"k1", 1), b"", b"")]
    tx5 = store.tx_by_id(h5.id)
    assert [(e.key, e.value, e.md) for e in tx5.entries] == [(stored_key(b"k2"), b"", DELETED_MD)]
    for h in (h1, h2, h3, h4, h5):
        assert store.tx_by_id(h.id).header == h
        assert store.header(h.id) == h
        assert store.alh(h.id) == h.alh()


def test_zset_stored_keys_follow_the_documented_layout(store):
    store.set([(b"m", b"v")])
    scores = [-math.inf, -1e300, -2.0, -1.0, -1e-300, -0.0, 0.0, 1e-300, 1.0, 2.0, 1e300,
              math.inf]
    stored = []
    for score in scores:
        h = store.zadd(b"set", score, b"m")
        (entry,) = store.tx_by_id(h.id).entries
        assert entry.key == stored_zkey(b"set", score, b"m", 0)
        stored.append(entry.key)
    # stored keys sort like the scores, and -0.0 is stored as 0.0
    assert stored == sorted(stored)
    assert stored[5] == stored[6]
    got = [z.score for z in store.zscan(b"set")]
    assert got == sorted(set(s + 0.0 for s in scores))  # one member per distinct score


def test_tx_by_id_rejects_unknown_ids(store):
    with pytest.raises(TxNotFoundError):
        store.tx_by_id(1)
    store.set([(b"k", b"v")])
    for bad in (0, -1, 2, 10 ** 6):
        with pytest.raises(TxNotFoundError) as ei:
            store.tx_by_id(bad)
        assert_sqlstate(ei, "22023")


def test_tx_scan(store):
    headers = [store.set([(b"k%d" % i, b"v%d" % i)]) for i in range(1, 11)]
    assert [t.id for t in store.tx_scan(1)] == list(range(1, 11))
    assert [t.header for t in store.tx_scan(1)] == headers
    assert [t.id for t in store.tx_scan(4, limit=3)] == [4, 5, 6]
    assert [t.id for t in store.tx_scan(9, limit=5)] == [9, 10]
    assert [t.id for t in store.tx_scan(10, limit=3, desc=True)] == [10, 9, 8]
    assert [t.id for t in store.tx_scan(3, desc=True)] == [3, 2, 1]
    assert [t.id for t in store.tx_scan(50, limit=2, desc=True)] == [10, 9]
    assert list(store.tx_scan(11)) == []
    assert list(store.tx_scan(1, limit=0)) == []
    for t in store.tx_scan(1):
        assert [(e.key, e.value) for e in t.entries] == [
            (stored_key(b"k%d" % t.id), stored_value(b"v%d" % t.id))]


# =========================================================================================
# segments, large values, persistence
# =========================================================================================

def test_value_bigger_than_a_segment(store, reopen):
    big = bytes(range(256)) * (3 * SEG // 256 + 7)  # > 3 segments, not segment aligned
    other = b"x" * (SEG - 5)
    store.set([(b"small", b"s")])
    h = store.set([(b"big", big), (b"other", other)])
    store.set([(b"after", b"a")])
    assert store.get(b"big").value == big
    assert store.get(b"other").value == other
    assert store.tx_by_id(h.id).entries[0].value == stored_value(big)
    proof = store.verifiable_get(b"big")
    assert proof.value == stored_value(big)
    Verifier(store.db).verify_entry(proof)
    report = store.check()
    assert report.transactions == 3 and report.value_bytes >= len(big) + len(other)
    s2 = reopen(store)
    assert s2.get(b"big").value == big and s2.get(b"after").value == b"a"
    s2.check()
    segs = os.listdir(os.path.join(s2.path, "val"))
    assert len(segs) >= 4  # the value log really spans several segment files


def test_many_transactions_cross_segment_boundaries(store, reopen):
    written = {}
    for i in range(400):
        k, v = b"key-%04d" % i, b"value-%d-" % i + b"p" * (i % 97)
        store.set([(k, v)])
        written[k] = v
    assert len(os.listdir(os.path.join(store.path, "tx"))) >= 2
    for k, v in written.items():
        assert store.get(k).value == v
    assert store.check().transactions == 400
    s2 = reopen(store)
    assert {e.key: e.value for e in s2.scan()} == written
    assert s2.check().entries == 400


def test_persistence_across_close_and_reopen(store, reopen):
    store.set([(b"a", b"1"), (b"b", b"2")])
    store.delete([b"b"])
    store.set_reference(b"r", b"a")
    store.set([(b"a", b"3")])
    store.zadd(b"z", 1.5, b"a")
    headers = [t.header for t in store.tx_scan(1)]
    state = store.state()
    hist = store.history(b"a")
    s2 = reopen(store)
    assert s2.state() == state
    assert s2.last_committed == state.tx_id
    assert [t.header for t in s2.tx_scan(1)] == headers
    assert s2.history(b"a") == hist
    assert s2.get(b"a").value == b"3"
    assert s2.get(b"r").value == b"3"
    with pytest.raises(KeyNotFoundError):
        s2.get(b"b")
    assert [(z.key, z.score) for z in s2.zscan(b"z")] == [(b"a", 1.5)]
    # and it goes on from where it was
    h = s2.set([(b"c", b"4")])
    assert h.id == state.tx_id + 1 and h.prev_alh == state.alh
    s3 = reopen(s2)
    assert s3.get(b"c").value == b"4"
    assert s3.check().transactions == state.tx_id + 1


def test_state_of_an_empty_store_and_after_reopen(store_path):
    with Store.open(store_path, segment_size=SEG) as s:
        st0 = s.state()
        assert st0.tx_id == 0 and st0.alh == hashlib.sha256(b"").digest()
        assert st0.db == "defaultdb" and st0.signature is None
    with Store.open(store_path) as s:
        assert s.state() == st0
        s.set([(b"k", b"v")])
        st1 = s.state()
    with Store.open(store_path) as s:
        assert s.state() == st1 and st1.tx_id == 1


def test_db_name_option(store_path):
    with Store.open(store_path, db="mydb") as s:
        s.set([(b"k", b"v")])
        assert s.db == "mydb" and s.state().db == "mydb"
        v = Verifier("mydb")
        v.verify_entry(s.verifiable_get(b"k"))
        with pytest.raises(ProofError):  # a proof of mydb does not advance otherdb
            verify_entry_proof(s.verifiable_get(b"k", since_tx=1), State("otherdb", 1, s.alh(1)))


# =========================================================================================
# limits and bad input
# =========================================================================================

def test_default_limits(store):
    opts = store.options
    assert (opts.max_tx_entries, opts.max_key_len, opts.max_value_len) == (1024, 1024, 32 << 20)
    store.set([(b"k%04d" % i, b"") for i in range(1024)])  # exactly the limit
    with pytest.raises(LimitExceededError) as ei:
        store.set([(b"k%04d" % i, b"") for i in range(1025)])
    assert_sqlstate(ei, "54000")
    store.set([(b"K" * 1024, b"max key")])
    assert store.get(b"K" * 1024).value == b"max key"
    with pytest.raises(LimitExceededError) as ei:
        store.set([(b"K" * 1025, b"v")])
    assert_sqlstate(ei, "54000")
    with pytest.raises(LimitExceededError) as ei:
        store.set([(b"big", bytes((32 << 20) + 1))])
    assert_sqlstate(ei, "54000")
    assert store.last_committed == 2


def test_custom_limits_are_enforced_everywhere(store_path):
    with Store.open(store_path, max_tx_entries=3, max_key_len=8, max_value_len=10,
                    segment_size=SEG) as s:
        s.set([(b"12345678", b"0123456789")])
        s.set([(b"a", b""), (b"b", b""), (b"c", b"")])
        cases = [
            lambda: s.set([(b"123456789", b"v")]),
            lambda: s.set([(b"k", b"01234567890")]),
            lambda: s.set([(b"a", b""), (b"b", b""), (b"c", b""), (b"d", b"")]),
            lambda: s.get(b"123456789"),
            lambda: s.delete([b"123456789"]),
            lambda: s.delete([b"a", b"b", b"c", b"12345678"]),
            lambda: s.set_reference(b"123456789", b"a"),
            lambda: s.set_reference(b"r", b"123456789"),
            lambda: s.zadd(b"123456789", 1, b"a"),
            lambda: s.zadd(b"z", 1, b"123456789"),
            lambda: s.history(b"123456789"),
            lambda: s.verifiable_set([(b"k", b"01234567890")]),
        ]
        for i, call in enumerate(cases):
            with pytest.raises(LimitExceededError) as ei:
                call()
            assert_sqlstate(ei, "54000")
            assert isinstance(ei.value, InvalidArgumentError), i
        assert s.last_committed == 2
    with Store.open(store_path) as s:  # limits are kept in the store
        with pytest.raises(LimitExceededError):
            s.set([(b"123456789", b"v")])
        assert s.options.max_value_len == 10


def test_bad_input_each_with_its_sqlstate(store):
    store.set([(b"k", b"v")])
    before = store.state()

    def raises(cls, code, call):
        with pytest.raises(cls) as ei:
            call()
        assert_sqlstate(ei, code)
        assert isinstance(ei.value, ImmuSQLError)

    # empty key: below the length limit (a client error, 22023 family)
    with pytest.raises(InvalidArgumentError) as ei:
        store.set([(b"", b"v")])
    assert ei.value.sqlstate in ("22023", "54000")
    with pytest.raises(InvalidArgumentError):
        store.get(b"")
    raises(InvalidArgumentError, "22023", lambda: store.set([]))
    raises(InvalidArgumentError, "22023", lambda: store.set([(b"d", b"1"), (b"d", b"2")]))
    raises(InvalidArgumentError, "22023", lambda: store.set([("k", b"v")]))
    raises(InvalidArgumentError, "22023", lambda: store.set([(b"k", "v")]))
    raises(InvalidArgumentError, "22023", lambda: store.set([(1, b"v")]))
    raises(InvalidArgumentError, "22023", lambda: store.set([(None, b"v")]))
    raises(InvalidArgumentError, "22023", lambda: store.set([(b"k", None)]))
    raises(InvalidArgumentError, "22023", lambda: store.get("k"))
    raises(InvalidArgumentError, "22023", lambda: store.history("k"))
    raises(InvalidArgumentError, "22023", lambda: store.verifiable_get("k"))
    raises(TxNotFoundError, "22023", lambda: store.get(b"k", at_tx=99))
    raises(KeyNotFoundError, "P0002", lambda: store.get(b"missing"))
    assert store.state() == before  # nothing was written


@pytest.mark.parametrize("case", [
    "scan-prefix-str", "scan-start-str", "scan-end-int", "scan-limit-negative",
    "zscan-min-nan", "zscan-max-nan", "zscan-min-str", "zscan-limit-negative",
    "zadd-score-overflows-float", "history-offset-str",
])
def test_malformed_arguments_raise_invalid_argument(store, case):
    """Every error the store raises carries a SQLSTATE: bad arguments are reported as
    InvalidArgumentError (22023), never as a bare TypeError/ValueError/OverflowError, and
    never silently turned into an empty answer (history() already rejects limit=-1)."""
    store.set([(b"a", b"1")])
    store.zadd(b"z", 1.0, b"a")
    calls = {
        "scan-prefix-str": lambda: list(store.scan(prefix="a")),
        "scan-start-str": lambda: list(store.scan(start="a")),
        "scan-end-int": lambda: list(store.scan(end=5)),
        "scan-limit-negative": lambda: list(store.scan(limit=-1)),
        "zscan-min-nan": lambda: list(store.zscan(b"z", min_score=math.nan)),
        "zscan-max-nan": lambda: list(store.zscan(b"z", max_score=math.nan)),
        "zscan-min-str": lambda: list(store.zscan(b"z", min_score="1")),
        "zscan-limit-negative": lambda: list(store.zscan(b"z", limit=-1)),
        "zadd-score-overflows-float": lambda: store.zadd(b"z", 10 ** 400, b"a"),
        "history-offset-str": lambda: store.history(b"a", offset="1"),
    }
    with pytest.raises(InvalidArgumentError) as ei:
        calls[case]()
    assert_sqlstate(ei, "22023")
    assert store.last_committed == 2


def test_header_ts_is_commit_time_in_microseconds(store):
    before = time.time_ns() // 1000
    h1 = store.set([(b"a", b"1")])
    h2 = store.set([(b"a", b"2")])
    after = time.time_ns() // 1000
    assert before <= h1.ts <= h2.ts <= after


def test_rebuild_index_gives_the_same_answers(store):
    store.set([(b"a", b"1"), (b"b", b"2")])
    store.delete([b"a"])
    store.set_reference(b"r", b"b")
    store.zadd(b"z", 2, b"b")
    store.set([(b"b", b"3")])
    before = ([(e.key, e.value, e.tx_id, e.revision) for e in store.scan()],
              store.history(b"a"), [(z.key, z.entry.value) for z in store.zscan(b"z")])
    store.rebuild_index()
    after = ([(e.key, e.value, e.tx_id, e.revision) for e in store.scan()],
             store.history(b"a"), [(z.key, z.entry.value) for z in store.zscan(b"z")])
    assert after == before
    assert store.check().index_versions == 6


def test_transaction_cannot_commit_on_a_closed_store(store):
    store.set([(b"k", b"v")])
    tx = store.transaction()
    tx.set(b"k", b"new")
    path = store.path
    store.close()
    with pytest.raises(StoreClosedError):
        tx.commit()
    with Store.open(path) as s:
        assert s.get(b"k").value == b"v" and s.last_committed == 1


def test_duplicate_key_in_one_tx_writes_nothing(store):
    with pytest.raises(InvalidArgumentError):
        store.set([(b"a", b"1"), (b"b", b"2"), (b"a", b"3")])
    assert store.last_committed == 0
    with pytest.raises(KeyNotFoundError):
        store.get(b"b")


def test_invalid_creation_options(store_path):
    for bad in ({"segment_size": 100}, {"max_tx_entries": 0}, {"max_key_len": 0},
                {"no_such_option": 1}, {"db": ""}):
        with pytest.raises(InvalidArgumentError):
            Store.open(store_path, **bad)
    with Store.open(store_path, segment_size=SEG) as s:  # the directory is still usable
        s.set([(b"k", b"v")])


# =========================================================================================
# options fixed at creation, locking, read-only, closed
# =========================================================================================

@pytest.mark.parametrize("option,value", [("segment_size", 2 * SEG), ("max_tx_entries", 10),
                                          ("max_key_len", 100), ("max_value_len", 100),
                                          ("db", "another")])
def test_creation_option_cannot_change_on_reopen(store, option, value):
    store.set([(b"k", b"v")])
    path = store.path
    store.close()
    with pytest.raises(InvalidArgumentError) as ei:
        Store.open(path, **{option: value})
    assert_sqlstate(ei, "22023")
    # the refused open released the directory and changed nothing
    current = {"segment_size": SEG, "max_tx_entries": 1024, "max_key_len": 1024,
               "max_value_len": 32 << 20, "db": "defaultdb"}[option]
    with Store.open(path, **{option: current}) as s:
        assert s.get(b"k").value == b"v"
        assert getattr(s.options, option) == current


def test_second_open_of_same_directory_is_locked(store):
    store.set([(b"k", b"v")])
    with pytest.raises(StoreLockedError) as ei:
        Store.open(store.path)
    assert_sqlstate(ei, "55006")
    with pytest.raises(StoreLockedError):
        Store.open(store.path, read_only=True)
    assert store.get(b"k").value == b"v"  # the first one is unaffected
    store.set([(b"k2", b"v2")])
    path = store.path
    store.close()
    with Store.open(path) as s:  # released on close
        assert s.get(b"k2").value == b"v2"


def test_read_only_refuses_writes(store):
    store.set([(b"a", b"1"), (b"b", b"2")])
    path, state = store.path, store.state()
    store.close()
    with Store.open(path, read_only=True) as ro:
        assert ro.get(b"a").value == b"1"
        assert keys_of(ro.scan()) == [b"a", b"b"]
        assert ro.state() == state
        Verifier(ro.db).verify_entry(ro.verifiable_get(b"a"))
        writes = [lambda: ro.set([(b"c", b"3")]), lambda: ro.delete([b"a"]),
                  lambda: ro.set_reference(b"r", b"a"), lambda: ro.zadd(b"z", 1, b"a"),
                  lambda: ro.verifiable_set([(b"c", b"3")]), lambda: ro.transaction()]
        for w in writes:
            with pytest.raises(ImmuSQLError) as ei:
                w()
            assert isinstance(ei.value.sqlstate, str) and len(ei.value.sqlstate) == 5
        assert ro.state() == state
        assert ro.check().transactions == 1
    with Store.open(path) as s:
        assert s.state() == state
        with pytest.raises(KeyNotFoundError):
            s.get(b"c")


def test_closed_store_refuses_every_call(store):
    store.set([(b"k", b"v")])
    store.zadd(b"z", 1, b"k")
    store.close()
    store.close()  # idempotent
    calls = {
        "get": lambda: store.get(b"k"),
        "set": lambda: store.set([(b"x", b"y")]),
        "delete": lambda: store.delete([b"k"]),
        "history": lambda: store.history(b"k"),
        "scan": lambda: list(store.scan()),
        "set_reference": lambda: store.set_reference(b"r", b"k"),
        "zadd": lambda: store.zadd(b"z", 2, b"k"),
        "zscan": lambda: list(store.zscan(b"z")),
        "tx_by_id": lambda: store.tx_by_id(1),
        "tx_scan": lambda: list(store.tx_scan(1)),
        "state": lambda: store.state(),
        "verifiable_get": lambda: store.verifiable_get(b"k"),
        "verifiable_set": lambda: store.verifiable_set([(b"x", b"y")]),
        "verifiable_tx_by_id": lambda: store.verifiable_tx_by_id(1),
        "verifiable_state": lambda: store.verifiable_state(),
        "transaction": lambda: store.transaction(),
        "check": lambda: store.check(),
    }
    wrong = {}
    for name, call in calls.items():
        try:
            call()
        except StoreClosedError as e:
            assert e.sqlstate == "55000"
        except BaseException as e:  # noqa: BLE001 - collected and reported below
            wrong[name] = f"{type(e).__module__}.{type(e).__name__}: {e}"
        else:
            wrong[name] = "no error"
    assert not wrong, f"closed store did not raise StoreClosedError: {wrong}"


def test_context_manager_closes(store_path):
    with Store.open(store_path, segment_size=SEG) as s:
        s.set([(b"k", b"v")])
    with pytest.raises(StoreClosedError):
        s.get(b"k")
    with Store.open(store_path) as s2:  # the lock was released
        assert s2.get(b"k").value == b"v"


# =========================================================================================
# verifiable reads and writes
# =========================================================================================

def test_verifiable_get_proof_content(store):
    store.set([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    store.set([(b"b", b"22")])
    p = store.verifiable_get(b"b")
    assert (p.key, p.value, p.md) == (stored_key(b"b"), stored_value(b"22"), b"")
    assert p.tx.id == 2 and p.dual is None and p.state.tx_id == 2
    assert p.state.alh == store.alh(2)
    p_old = store.verifiable_get(b"b", at_tx=1)
    assert p_old.value == stored_value(b"2") and p_old.tx.id == 1
    assert (p_old.inclusion.leaf, p_old.inclusion.width) == (1, 3)
    Verifier(store.db).verify_entry(p_old)
    # a tampered proof is refused: the checks are not vacuous
    for bad in (replace(p, value=stored_value(b"23")), replace(p, key=stored_key(b"a")),
                replace(p, md=DELETED_MD)):
        with pytest.raises(ProofError):
            Verifier(store.db).verify_entry(bad)
    with pytest.raises(KeyNotFoundError):
        store.verifiable_get(b"missing")
    store.delete([b"a"])
    with pytest.raises(KeyNotFoundError):
        store.verifiable_get(b"a")
    assert store.verifiable_get(b"a", at_tx=1).value == stored_value(b"1")


def test_trusted_state_moves_forward_over_many_steps(store):
    v = Verifier(store.db)
    written: dict[bytes, tuple[bytes, int]] = {}
    for step in range(1, 41):
        key = b"k%02d" % (step % 13)
        value = b"v%d" % step
        if step % 3 == 0:
            proof = store.verifiable_set([(key, value), (b"s%d" % step, b"x")],
                                         since_tx=v.state.tx_id)
            assert proof.entries[0] == (stored_key(key), stored_value(value), b"")
            assert proof.tx.nentries == 2
            v.verify_tx(proof)
            tx_id = proof.tx.id
        else:
            tx_id = store.set([(key, value)]).id
        written[key] = (value, tx_id)
        assert v.state.tx_id <= store.last_committed
        if step % 2 == 0:
            # a newer entry: the verifier advances to it
            before = v.state.tx_id
            p = v.verify_entry(store.verifiable_get(key, since_tx=before))
            assert p.value == stored_value(value) and p.tx.id == tx_id
            assert v.state.tx_id == tx_id >= before
            assert v.state.alh == store.alh(tx_id)
        if step % 5 == 0:
            # an older entry: proven against the newer trusted state, which stays put
            old_key = b"k%02d" % ((step - 4) % 13)
            want_value, want_tx = written[old_key]
            before = v.state
            p = v.verify_entry(store.verifiable_get(old_key, since_tx=before.tx_id))
            assert p.value == stored_value(want_value) and p.tx.id == want_tx
            if want_tx <= before.tx_id:
                assert v.state == before
                if want_tx < before.tx_id:
                    assert p.dual.source.id == want_tx and p.dual.target.id == before.tx_id
            else:
                assert v.state.tx_id == want_tx
        if step % 7 == 0:
            # an old transaction by id
            old = max(1, tx_id - 5)
            before = v.state
            proof = store.verifiable_tx_by_id(old, since_tx=before.tx_id)
            assert [e[0] for e in proof.entries] == [e.key for e in store.tx_by_id(old).entries]
            v.verify_tx(proof)
            assert v.state == before
    # an auditor moves straight to the latest state
    dual, latest = store.verifiable_state(since_tx=v.state.tx_id)
    v.advance(dual, latest)
    assert v.state == store.state()
    # a proof for an older trusted state does not link to what the verifier trusts now
    stale = store.verifiable_get(b"s3", since_tx=1)
    assert 1 < stale.tx.id < v.state.tx_id
    with pytest.raises(ProofError):
        v.verify_entry(stale)
    # an entry of exactly the trusted transaction: a dual proof to itself
    trusted = v.state
    last_key = store.tx_by_id(trusted.tx_id).entries[0].key[1:]
    p = v.verify_entry(store.verifiable_get(last_key, since_tx=trusted.tx_id))
    assert p.dual.source == p.dual.target and p.tx.id == trusted.tx_id
    assert p.dual.inclusion == [] and p.dual.consistency == []
    assert v.state == trusted


def test_verifier_catches_a_forged_history(store_path, tmp_path):
    with Store.open(store_path, segment_size=SEG) as s:
        for i in range(6):
            s.set([(b"k", b"v%d" % i)])
        v = Verifier(s.db)
        v.verify_entry(s.verifiable_get(b"k", at_tx=3))
        assert v.state.tx_id == 3
    # another store with a different history of the same db name
    with Store.open(tmp_path / "fork", segment_size=SEG) as other:
        for i in range(6):
            other.set([(b"k", b"forged%d" % i)])
        with pytest.raises(ProofError):
            v.verify_entry(other.verifiable_get(b"k", since_tx=3))
        with pytest.raises(ProofError):
            v.advance(*other.verifiable_state(since_tx=3))
    assert v.state.tx_id == 3


def test_verifiable_set_and_tx_by_id(store):
    v = Verifier(store.db)
    p1 = store.verifiable_set([(b"a", b"1"), (b"b", b"2")])
    assert p1.dual is None and p1.tx.id == 1
    v.verify_tx(p1)
    p2 = store.verifiable_set([(b"c", b"3")], since_tx=v.state.tx_id)
    v.verify_tx(p2)
    assert v.state == store.state()
    assert store.get(b"c").value == b"3"
    p = store.verifiable_tx_by_id(1, since_tx=2)
    assert p.entries == [(stored_key(b"a"), stored_value(b"1"), b""),
                         (stored_key(b"b"), stored_value(b"2"), b"")]
    v.verify_tx(p)
    bad = replace(p, entries=[p.entries[0], (stored_key(b"b"), stored_value(b"X"), b"")])
    with pytest.raises(ProofError):
        v.verify_tx(bad)
    with pytest.raises(InvalidArgumentError):
        store.verifiable_tx_by_id(1, since_tx=5)  # since_tx newer than anything committed


def test_proofs_survive_json_round_trip(store):
    from immusql.kv import EntryProof, TxProof
    store.set([(b"a", b"1")])
    store.set([(b"b", b"2")])
    v = Verifier(store.db)
    v.verify_entry(store.verifiable_get(b"a").to_json())
    v.verify_entry(EntryProof.from_json(store.verifiable_get(b"b", since_tx=1).to_json()))
    v.verify_tx(TxProof.from_json(store.verifiable_tx_by_id(1, since_tx=2).to_json()))
    assert v.state.tx_id == 2


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_signing_key_signs_states_and_proofs(store_path, tmp_path):
    key = generate_signing_key()
    pub = public_key_bytes(key)
    with Store.open(store_path, segment_size=SEG, signing_key=_pem(key)) as s:
        assert s.public_key == pub
        s.set([(b"a", b"1")])
        st_ = s.state()
        assert st_.signature is not None
        st_.verify_signature(pub)
        with pytest.raises(ProofError):
            replace(st_, tx_id=st_.tx_id + 1).verify_signature(pub)
        v = Verifier(s.db, public_key=pub)
        p = s.verifiable_get(b"a")
        assert p.state.signature is not None
        v.verify_entry(p)
        v.verify_tx(s.verifiable_set([(b"b", b"2")], since_tx=v.state.tx_id))
        s.set([(b"c", b"3")])
        v.advance(*s.verifiable_state(since_tx=v.state.tx_id))
        assert v.state.same_point(s.state()) and v.state.signature is not None
        # another key's verifier refuses these signatures
        intruder = Verifier(s.db, public_key=public_key_bytes(generate_signing_key()))
        with pytest.raises(ProofError):
            intruder.verify_entry(s.verifiable_get(b"a"))
        # an unsigned proof is refused by a verifier that expects signatures
        unsigned = s.verifiable_get(b"a")
        with pytest.raises(ProofError):
            Verifier(s.db, public_key=pub).verify_entry(
                replace(unsigned, state=unsigned.state.unsigned()))
    # the key as a path works too, and is a runtime option (can change between opens)
    path = tmp_path / "key.pem"
    path.write_bytes(_pem(key))
    with Store.open(store_path, signing_key=str(path)) as s:
        s.state().verify_signature(pub)
    with Store.open(store_path) as s:
        assert s.state().signature is None and s.public_key is None


def test_unsigned_store_states_carry_no_signature(store):
    store.set([(b"k", b"v")])
    assert store.state().signature is None
    assert store.verifiable_get(b"k").state.signature is None


def test_check_reports_and_calls_progress(store):
    for i in range(30):
        store.set([(b"k%d" % i, b"v" * i), (b"x%d" % i, b"")])
    calls = []
    report = store.check(progress=lambda done, total: calls.append((done, total)))
    assert report.transactions == 30 and report.entries == 60
    assert report.index_versions == 60
    assert report.value_bytes == sum(1 + i for i in range(30)) + 30
    assert calls and calls[-1] == (30, 30)
