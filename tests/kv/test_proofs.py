"""immusql.kv.proofs sections 6 and 7: honest proofs verify, every mutation raises ProofError.

Proofs come from the reference chain of `chain.py`; a forked copy of it plays a server that
rewrote history.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from immusql.kv.hashing import EMPTY_HASH, entry_digest, leaf_hash, sha256
from immusql.kv.proofs import (
    EntryProof,
    verify_dual,
    verify_entry_proof,
    verify_inclusion,
    verify_state_transition,
    verify_tx_proof,
)
from immusql.kv.state import State

try:
    from .chain import Chain, flip, header_mutations, path_mutations, rejects, some_bits
except ImportError:  # tests/kv is not a package: pytest put this directory on sys.path
    from chain import Chain, flip, header_mutations, path_mutations, rejects, some_bits

CHAIN = Chain(20, seed=1)
T = len(CHAIN)
MUTATION_PAIRS = ((1, 1), (1, 2), (1, 20), (2, 3), (5, 5), (7, 13), (8, 16), (3, 17), (19, 20))


# --- Section 6 dual proofs -----------------------------------------------------------------

def test_chain_headers_are_valid_and_some_have_md():
    for tx in CHAIN.txs:
        tx.header.validate()
    assert any(tx.header.md for tx in CHAIN.txs) and any(not tx.header.md for tx in CHAIN.txs)
    assert any(tx.header.nentries > 2 for tx in CHAIN.txs)


def test_every_honest_dual_proof_verifies():
    for t in range(1, T + 1):
        for s in range(1, t + 1):
            dual = CHAIN.dual(s, t)
            verify_dual(dual, s, CHAIN.alh(s), t, CHAIN.alh(t))
            got = verify_state_transition(CHAIN.state(s), dual, CHAIN.state(t))
            assert got == CHAIN.state(t)


@pytest.mark.parametrize("s,t", MUTATION_PAIRS)
def test_dual_rejects_header_bit_flips(s, t):
    dual = CHAIN.dual(s, t)
    args = (s, CHAIN.alh(s), t, CHAIN.alh(t))
    for side in ("source", "target"):
        for name, bad in header_mutations(getattr(dual, side)):
            rejects(verify_dual, replace(dual, **{side: bad}), *args)


@pytest.mark.parametrize("s,t", MUTATION_PAIRS)
def test_dual_rejects_path_and_claim_mutations(s, t):
    rng = random.Random(s * 100 + t)
    dual = CHAIN.dual(s, t)
    alh_s, alh_t = CHAIN.alh(s), CHAIN.alh(t)
    for field in ("inclusion", "consistency"):
        for name, bad in path_mutations(getattr(dual, field), rng):
            rejects(verify_dual, replace(dual, **{field: bad}), s, alh_s, t, alh_t)
    rejects(verify_dual, dual, s, flip(alh_s, 5), t, alh_t)
    rejects(verify_dual, dual, s, alh_s, t, flip(alh_t, 250))
    rejects(verify_dual, dual, 0, EMPTY_HASH, t, alh_t)
    if s != t:
        rejects(verify_dual, dual, s, alh_t, t, alh_s)
        rejects(verify_dual, replace(dual, source=dual.target, target=dual.source),
                t, alh_t, s, alh_s)
        rejects(verify_dual, dual, t, alh_t, s, alh_s)
        if dual.inclusion:  # a self-proof must carry no paths
            rejects(verify_dual, replace(dual, source=dual.target), t, alh_t, t, alh_t)
        if dual.inclusion != dual.consistency:
            rejects(verify_dual, replace(dual, inclusion=dual.consistency,
                                         consistency=dual.inclusion), s, alh_s, t, alh_t)
    if t < T:  # a proof to another target does not prove this one
        rejects(verify_dual, CHAIN.dual(s, t + 1), s, alh_s, t, alh_t)
    rejects(verify_dual, "not a proof", s, alh_s, t, alh_t)


# --- Section 7 entry proofs and whole-transaction proofs -------------------------------------

def test_every_honest_entry_and_tx_proof_verifies():
    for tx_id in range(1, T + 1):
        for trusted_id in range(0, T + 1):
            trusted = CHAIN.state(trusted_id) if trusted_id else None
            want = CHAIN.state(max(tx_id, trusted_id))
            for index in range(len(CHAIN.tx(tx_id).entries)):
                proof = CHAIN.entry_proof(tx_id, index, trusted_id)
                assert verify_entry_proof(proof, trusted) == want
            assert verify_tx_proof(CHAIN.tx_proof(tx_id, trusted_id), trusted) == want
        # trusting the empty database is the same as trusting nothing
        assert verify_entry_proof(CHAIN.entry_proof(tx_id, 0, None), CHAIN.state(0)) \
            == CHAIN.state(tx_id)


ENTRY_CASES = [(tx, trusted) for tx in (1, 2, 9, 20) for trusted in (0, 1, 9, 12, 20)]


@pytest.mark.parametrize("tx_id,trusted_id", ENTRY_CASES)
def test_entry_proof_rejects_mutations(tx_id, trusted_id):
    rng = random.Random(tx_id * 31 + trusted_id)
    trusted = CHAIN.state(trusted_id) if trusted_id else None
    index = len(CHAIN.tx(tx_id).entries) - 1
    proof = CHAIN.entry_proof(tx_id, index, trusted_id)
    verify_entry_proof(proof, trusted)
    bad = []
    for field in ("key", "value", "md"):
        value = getattr(proof, field)
        bad += [replace(proof, **{field: flip(value, b)}) for b in some_bits(len(value) * 8, rng)
                if value]
        bad += [replace(proof, **{field: value + b"\x00"}), replace(proof, **{field: value[1:]})
                if value else replace(proof, **{field: b"\x01"})]
    inc = proof.inclusion
    bad += [replace(proof, inclusion=replace(inc, terms=t)) for _, t in path_mutations(inc.terms, rng)]
    bad += [replace(proof, inclusion=replace(inc, leaf=inc.leaf + d)) for d in (-1, 1) if inc.leaf + d >= 0]
    bad += [replace(proof, inclusion=replace(inc, width=inc.width + d)) for d in (-1, 1)]
    bad += [replace(proof, tx=h) for _, h in header_mutations(proof.tx) if rng.random() < 0.05]
    other_tx = tx_id % T + 1
    bad.append(replace(proof, tx=CHAIN.header(other_tx)))
    bad.append(replace(proof, state=replace(proof.state, tx_id=proof.state.tx_id + 1)))
    bad.append(replace(proof, state=replace(proof.state, alh=flip(proof.state.alh, 77))))
    bad.append(replace(proof, state=CHAIN.state(min(tx_id, trusted_id) or other_tx))
               if tx_id != trusted_id else replace(proof, state=CHAIN.state(other_tx)))
    if trusted_id:
        bad.append(replace(proof, dual=None))
        bad.append(replace(proof, state=replace(proof.state, db="otherdb")))
        s, t = sorted((tx_id, trusted_id))
        bad += [replace(proof, dual=CHAIN.dual(s2, t2)) for s2, t2 in
                {(1, t), (s, T), (s, s), (t, t), (1, 1)} - {(s, t)}]
    else:
        bad.append(replace(proof, dual=CHAIN.dual(tx_id, tx_id)))
    for i, p in enumerate(bad):
        assert p != proof, i
        rejects(verify_entry_proof, p, trusted)
    rejects(verify_entry_proof, proof, State("defaultdb", 0, flip(EMPTY_HASH, 0)))
    if trusted_id:
        rejects(verify_entry_proof, proof, replace(trusted, alh=flip(trusted.alh, 3)))
        rejects(verify_entry_proof, proof, replace(trusted, tx_id=trusted_id % T + 1))


@pytest.mark.parametrize("tx_id,trusted_id", ENTRY_CASES)
def test_tx_proof_rejects_mutations(tx_id, trusted_id):
    trusted = CHAIN.state(trusted_id) if trusted_id else None
    proof = CHAIN.tx_proof(tx_id, trusted_id)
    entries = proof.entries
    bad = [entries[:-1], entries + [(b"extra", b"v", b"")], entries + entries[:1],
           entries[::-1] if len(entries) > 1 else [(b"other", b"", b"")],
           [(k, v + b"!", md) for k, v, md in entries]]
    for i, (k, v, md) in enumerate(entries):
        bad += [entries[:i] + [e] + entries[i + 1:] for e in
                ((flip(k, 0), v, md), (k, v + b"\x00", md), (k, v, md + b"\x02"))]
    for i, b in enumerate(bad):
        assert b != entries, i
        rejects(verify_tx_proof, replace(proof, entries=b), trusted)
    # nentries and eh cannot be changed together without changing the alh
    rejects(verify_tx_proof, replace(proof, tx=replace(proof.tx, nentries=len(entries) + 1),
                                     entries=entries + entries[:1]), trusted)
    rejects(verify_tx_proof, replace(proof, dual=None if trusted_id else CHAIN.dual(1, 1)),
            trusted)


def test_duplicate_key_in_tx_is_rejected_even_with_matching_eh():
    chain = Chain(0)
    chain.append([(b"k", b"1", b""), (b"k", b"2", b"")], ts=1)
    rejects(verify_tx_proof, chain.tx_proof(1, None), None)
    verify_entry_proof(chain.entry_proof(1, 0, None), None)  # eh itself is fine


def test_older_entry_keeps_trusted_state():
    proof = CHAIN.entry_proof(3, 0, 15)
    assert proof.dual.source == CHAIN.header(3) and proof.dual.target == CHAIN.header(15)
    assert verify_entry_proof(proof, CHAIN.state(15)) == CHAIN.state(15)


def test_entry_position_is_bound_by_nentries():
    """(leaf 2, width 3) and (leaf 1, width 2) share an audit path: only nentries decides."""
    chain = Chain(0)
    chain.append([(b"a", b"1", b""), (b"b", b"2", b""), (b"c", b"3", b"")], ts=1)
    proof = chain.entry_proof(1, 2, None)
    inc = proof.inclusion
    verify_entry_proof(proof, None)
    moved = replace(inc, leaf=1, width=2)
    verify_inclusion(leaf_hash(_digest_of(proof)), 1, 2, inc.terms, proof.tx.eh)  # the trap
    rejects(verify_entry_proof, replace(proof, inclusion=moved), None)
    for width in range(1, 9):  # no other (leaf, width) may carry the same terms
        for leaf in range(width):
            if (leaf, width) != (inc.leaf, inc.width):
                rejects(verify_entry_proof, replace(proof, inclusion=replace(
                    inc, leaf=leaf, width=width)), None)


def _digest_of(proof):
    return entry_digest(proof.key, sha256(proof.value), proof.md)


def test_header_that_miscounts_its_entries_is_rejected():
    chain = Chain(2, seed=5)
    chain.append([(b"a", b"1", b""), (b"b", b"2", b""), (b"c", b"3", b"")], ts=9, nentries=2)
    for trusted in (None, 2):
        proof = chain.tx_proof(3, trusted)
        state = chain.state(trusted) if trusted else None
        rejects(verify_tx_proof, proof, state)  # eh matches, the count does not
        rejects(verify_tx_proof, replace(proof, entries=proof.entries[:2]), state)
        for index in range(3):
            rejects(verify_entry_proof, chain.entry_proof(3, index, trusted), state)


def test_dual_checks_prev_alh_of_the_next_tx():
    """bl_root alone would accept a target whose hash chain skips the source."""
    for s in range(1, T):
        forged = replace(CHAIN.header(s + 1), prev_alh=sha256(b"elsewhere"))
        dual = replace(CHAIN.dual(s, s + 1), target=forged)
        rejects(verify_dual, dual, s, CHAIN.alh(s), s + 1, forged.alh())


def _forge_newest(proof, trusted_id, **changes):
    """The proof a server would send if it committed a different header for the newest tx,
    with every place that depends on that header updated to match."""
    header = replace(proof.tx, **changes)
    dual = proof.dual and replace(proof.dual, target=header)
    if dual is not None and dual.source.id == header.id:
        dual = replace(dual, source=header)
    return replace(proof, tx=header, dual=dual,
                   state=State(proof.state.db, header.id, header.alh()))


@pytest.mark.parametrize("tx_id,trusted_id", [(1, 0), (2, 0), (9, 0), (9, 1), (9, 8), (20, 3)])
def test_newest_tx_header_must_keep_the_invariants(tx_id, trusted_id):
    proof = CHAIN.entry_proof(tx_id, 0, trusted_id)
    trusted = CHAIN.state(trusted_id) if trusted_id else None
    # the newest tx is whatever the server committed, as long as it extends what we trust
    verify_entry_proof(_forge_newest(proof, trusted_id, ts=proof.tx.ts + 1), trusted)
    h = proof.tx
    broken = [dict(version=2), dict(version=0), dict(bl_tx_id=h.id), dict(bl_tx_id=h.id - 2),
              dict(id=h.id + 1), dict(nentries=0), dict(eh=h.eh[:31]), dict(ts=1 << 64),
              dict(bl_root=h.bl_root + b"\x00"), dict(prev_alh=h.prev_alh[:16])]
    if h.id == 1:
        broken += [dict(bl_root=sha256(b"x")), dict(prev_alh=sha256(b"x"))]
    for changes in broken:
        try:
            forged = _forge_newest(proof, trusted_id, **changes)
        except Exception:  # the header cannot even be hashed: the server could not send it
            forged = replace(proof, tx=replace(h, **changes))
        rejects(verify_entry_proof, forged, trusted)


# --- A forked history ---------------------------------------------------------------------

FORK_AT = 10
FORK = CHAIN.fork(FORK_AT, seed=99)


def test_fork_shares_only_the_prefix():
    assert all(FORK.alh(i) == CHAIN.alh(i) for i in range(1, FORK_AT))
    assert all(FORK.alh(i) != CHAIN.alh(i) for i in range(FORK_AT, T + 1))


@pytest.mark.parametrize("trusted_id", range(1, T + 1))
def test_fork_is_caught_from_any_state_after_the_fork(trusted_id):
    trusted = CHAIN.state(trusted_id)
    for u in range(1, T + 1):
        honest_fork = FORK.entry_proof(u, 0, trusted_id)  # the fork's own, consistent proofs
        hybrid = _hybrid(u, trusted_id)
        if trusted_id < FORK_AT:
            # the fork is an honest extension of everything this client has seen
            verify_entry_proof(honest_fork, trusted)
            verify_entry_proof(hybrid, trusted)
            continue
        rejects(verify_entry_proof, honest_fork, trusted)
        rejects(verify_tx_proof, FORK.tx_proof(u, trusted_id), trusted)
        if u >= FORK_AT:  # the entry is not in the trusted history at all
            rejects(verify_entry_proof, hybrid, trusted)
            rejects(verify_tx_proof, replace(FORK.tx_proof(u, trusted_id), dual=hybrid.dual,
                                             state=hybrid.state), trusted)
        elif hybrid != CHAIN.entry_proof(u, 0, trusted_id):
            # a true entry, but its link was computed over the fork's tree
            rejects(verify_entry_proof, hybrid, trusted)
        else:  # the fork's tree of that size is the shared prefix: the proof is the real one
            verify_entry_proof(hybrid, trusted)


def _hybrid(u: int, trusted_id: int) -> EntryProof:
    """The fork's proof, with the trusted side's header and state taken from the real chain."""
    s, t = sorted((u, trusted_id))
    proof = FORK.entry_proof(u, 0, trusted_id)
    if trusted_id <= u:
        return replace(proof, dual=replace(proof.dual, source=CHAIN.header(s)))
    return replace(proof, dual=replace(proof.dual, target=CHAIN.header(t)),
                   state=CHAIN.state(t))


def test_state_transition_into_fork_is_rejected():
    for s in range(FORK_AT, T + 1):
        for t in range(s, T + 1):
            dual = FORK.dual(s, t)
            rejects(verify_state_transition, CHAIN.state(s), dual, FORK.state(t))
            rejects(verify_state_transition, CHAIN.state(s), replace(dual, source=CHAIN.header(s)),
                    FORK.state(t))


def test_state_transition_rules():
    d = CHAIN.dual(4, 9)
    rejects(verify_state_transition, CHAIN.state(9), d, CHAIN.state(4))  # backwards
    rejects(verify_state_transition, CHAIN.state(4), d, replace(CHAIN.state(9), db="x"))
    assert verify_state_transition(CHAIN.state(0), CHAIN.dual(9, 9), CHAIN.state(9)) \
        == CHAIN.state(9)
    rejects(verify_state_transition, CHAIN.state(0), d, CHAIN.state(9))
