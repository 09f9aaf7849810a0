"""One million entries: reads stay correct, check() passes, proofs stay logarithmic.

Built once per module (1000 transactions of 1000 entries, synced=False). Proof sizes are
recorded while the store grows, so the bounds are checked for many history lengths n.
"""

from __future__ import annotations

import math
import random

import pytest

from immusql.kv import (
    KeyNotFoundError,
    ProofError,
    State,
    Store,
    Verifier,
    verify_entry_proof,
    verify_state_transition,
)
from immusql.kv.state import empty_state

pytestmark = pytest.mark.slow

N_TX = 1000
PER_TX = 1000
TOTAL = N_TX * PER_TX
# history lengths at which proofs are taken while the store grows
SAMPLE_AT = sorted({1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 64, 65, 100, 127, 128, 129,
                    255, 256, 257, 500, 511, 512, 513, 999, N_TX})


def key(i: int) -> bytes:
    # scrambled so that each transaction's keys are spread over the whole key space
    return b"key:%08d:%05d" % ((i * 7919) % TOTAL, i % 99991)


def value(i: int) -> bytes:
    return b"val-%d-%s" % (i, b"x" * (i % 7))


def ceil_log2(n: int) -> int:
    return 0 if n <= 1 else math.ceil(math.log2(n))


def dual_bound(n: int) -> int:
    return 2 * ceil_log2(n) + 2


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "db"
    samples = []  # (n, source, len(inclusion), len(consistency), entry inclusion length)
    s = Store.open(path, synced=False, segment_size=16 << 20)
    holder = {"store": s}
    try:
        sample_at = set(SAMPLE_AT)
        for t in range(1, N_TX + 1):
            base = (t - 1) * PER_TX
            h = s.set([(key(i), value(i)) for i in range(base, base + PER_TX)])
            assert h.id == t
            if t in sample_at:
                for source in sorted({1, 2, t // 2, t - 1, t} - {0}):
                    if source > t:
                        continue
                    trusted = State(s.db, source, s.alh(source))
                    i = base + (t * 31) % PER_TX  # an entry of the newest transaction
                    p = s.verifiable_get(key(i), since_tx=source)
                    assert p.value == b"\x00" + value(i) and p.tx.id == t
                    verify_entry_proof(p, trusted)
                    dual, state = s.verifiable_state(since_tx=source)
                    verify_state_transition(trusted, dual, state)
                    assert state.tx_id == t
                    n_inc = len(p.dual.inclusion) if p.dual else 0
                    n_con = len(p.dual.consistency) if p.dual else 0
                    assert (len(dual.inclusion), len(dual.consistency)) == (n_inc, n_con)
                    samples.append((t, source, n_inc, n_con, len(p.inclusion.terms)))
        yield holder, samples
    finally:
        holder["store"].close()


def test_every_transaction_committed(big):
    s = big[0]["store"]
    assert s.last_committed == N_TX
    assert s.state().tx_id == N_TX
    last = s.tx_by_id(N_TX)
    assert last.header.nentries == PER_TX
    assert [e.value for e in last.entries[:3]] == [
        b"\x00" + value(i) for i in range((N_TX - 1) * PER_TX, (N_TX - 1) * PER_TX + 3)]


def test_random_gets_are_correct(big):
    s = big[0]["store"]
    rng = random.Random(1234)
    for i in rng.sample(range(TOTAL), 3000):
        e = s.get(key(i))
        tx = i // PER_TX + 1
        assert (e.key, e.value, e.tx_id, e.revision) == (key(i), value(i), tx, 1)
    for i in rng.sample(range(PER_TX, TOTAL), 200):
        tx = i // PER_TX + 1
        assert s.get(key(i), at_tx=tx).value == value(i)
        with pytest.raises(KeyNotFoundError):
            s.get(key(i), at_tx=tx - 1)
    for j in range(20):
        missing = b"key:%08d:x" % rng.randrange(TOTAL)
        with pytest.raises(KeyNotFoundError):
            s.get(missing)


def test_range_scans_at_scale(big):
    s = big[0]["store"]
    rng = random.Random(99)
    for _ in range(20):
        pos = rng.randrange(TOTAL - 100)
        start = b"key:%08d" % pos
        got = list(s.scan(start=start, limit=50))
        assert [e.key[:12] for e in got] == [b"key:%08d" % p for p in range(pos, pos + 50)]
        for e in got:
            # key(i) embeds (i * 7919) % TOTAL and i % 99991; recover i and check the value
            scrambled, low = int(e.key[4:12]), int(e.key[13:])
            i = (scrambled * pow(7919, -1, TOTAL)) % TOTAL
            assert i % 99991 == low
            assert e.value == value(i) and e.tx_id == i // PER_TX + 1
    tail = list(s.scan(desc=True, limit=5))
    assert [e.key[:12] for e in tail] == [b"key:%08d" % p for p in range(TOTAL - 1, TOTAL - 6, -1)]
    assert len(list(s.scan(prefix=b"key:0000012", at_tx=N_TX))) == 10


def test_check_passes(big):
    s = big[0]["store"]
    progress = []
    report = s.check(progress=lambda done, total: progress.append((done, total)))
    assert report.transactions == N_TX
    assert report.entries == TOTAL
    assert report.index_versions == TOTAL
    assert report.value_bytes == sum(len(value(i)) + 1 for i in range(TOTAL))
    assert progress[-1] == (N_TX, N_TX)


def test_dual_proofs_grow_logarithmically(big):
    _, samples = big
    assert {t for t, *_ in samples} == set(SAMPLE_AT)
    for t, source, n_inc, n_con, _ in samples:
        assert n_inc + n_con <= dual_bound(t), (t, source, n_inc, n_con)
        if source == t:
            assert n_inc == n_con == 0
            continue
        # RFC 9162: an audit path in a tree of size m has at most ceil(log2 m) nodes
        assert n_inc <= ceil_log2(t - 1), (t, source, n_inc)
        assert n_con <= ceil_log2(t - 1) + 1, (t, source, n_con)
        if source == 1:
            # leaf 0 of a tree of size m needs exactly ceil(log2 m) siblings
            assert n_inc == ceil_log2(t - 1) and n_con == 0, (t, n_inc, n_con)
    # the proof from the first transaction really grows with n (not constant, not linear)
    from_first = {t: inc for t, source, inc, _, _ in samples if source == 1}
    assert from_first[N_TX] == ceil_log2(N_TX - 1) > from_first[17] > from_first[3]
    worst = max(inc + con for t, _, inc, con, _ in samples if t == N_TX)
    assert 0 < worst <= dual_bound(N_TX) < 30


def test_entry_inclusion_is_logarithmic_in_the_transaction_width(big):
    s, samples = big[0]["store"], big[1]
    for *_, n_entry in samples:
        assert n_entry <= ceil_log2(PER_TX)
    v = Verifier(s.db)
    rng = random.Random(5)
    lengths = set()
    for i in sorted(rng.sample(range(TOTAL), 40)):
        p = s.verifiable_get(key(i), since_tx=v.state.tx_id)
        assert p.inclusion.width == PER_TX
        assert len(p.inclusion.terms) <= ceil_log2(PER_TX)
        if p.dual is not None:
            assert len(p.dual.inclusion) + len(p.dual.consistency) <= dual_bound(N_TX)
        v.verify_entry(p)
        assert p.value == b"\x00" + value(i)
        lengths.add(len(p.inclusion.terms))
    assert v.state.tx_id >= 1 and len(lengths) >= 1
    first = s.verifiable_get(key((N_TX // 2) * PER_TX))  # leaf 0 of its transaction
    assert first.inclusion.leaf == 0 and len(first.inclusion.terms) == ceil_log2(PER_TX)
    # a tampered entry does not verify at this size either
    from dataclasses import replace
    with pytest.raises(ProofError):
        verify_entry_proof(replace(first, value=b"\x00forged"), None)


def test_entry_inclusion_for_many_widths(tmp_path):
    widths = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 255, 256, 257, 1000, 1024]
    with Store.open(tmp_path / "widths", synced=False, segment_size=1 << 20) as s:
        for w in widths:
            s.set([(b"w%04d-%04d" % (w, j), b"%d" % j) for j in range(w)])
        v = Verifier(s.db)
        for t, w in enumerate(widths, start=1):
            for j in sorted({0, w // 2, w - 1}):
                p = s.verifiable_get(b"w%04d-%04d" % (w, j), since_tx=v.state.tx_id)
                assert (p.tx.id, p.inclusion.leaf, p.inclusion.width) == (t, j, w)
                assert len(p.inclusion.terms) <= ceil_log2(w)
                if j == 0:
                    assert len(p.inclusion.terms) == ceil_log2(w)
                v.verify_entry(p)
        assert v.state == s.state()


def test_reopen_at_scale_keeps_state_and_reads(big):
    s = big[0]["store"]
    state = s.state()
    s.close()
    with Store.open(s.path, synced=False) as s2:
        big[0]["store"] = s2
        assert s2.state() == state
        rng = random.Random(77)
        for i in rng.sample(range(TOTAL), 500):
            assert s2.get(key(i)).value == value(i)
        v = Verifier(s2.db)
        dual, latest = s2.verifiable_state()
        v.advance(dual, latest)
        assert v.state == state
        p = s2.verifiable_get(key(3), since_tx=state.tx_id)
        v.verify_entry(p)
        assert len(p.dual.inclusion) + len(p.dual.consistency) <= dual_bound(N_TX)
        verify_state_transition(empty_state(s2.db), dual, latest)
