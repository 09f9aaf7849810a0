"""Building proofs from the store's files, and checking each one before it is served.

Every proof is verified here with the same pure functions a client uses (`proofs`), so a
damaged hash tree or log is reported as corruption on the server instead of reaching a
client as a proof that happens not to verify.
"""

from __future__ import annotations

from .errors import (
    CorruptionError,
    IndexCorruptedError,
    InvalidArgumentError,
    ProofError,
)
from .htree import path_from
from .index import Version
from .proofs import (
    DualProof,
    EntryInclusion,
    EntryProof,
    TxProof,
    verify_entry_proof,
    verify_state_transition,
    verify_tx_proof,
)
from .state import State, empty_state


def _trusted(s, since_tx: int | None) -> State | None:
    if since_tx is None or since_tx == 0:
        return None
    if not isinstance(since_tx, int) or since_tx < 0:
        raise InvalidArgumentError("since_tx must be a non-negative integer")
    if since_tx > s.last_committed:
        raise InvalidArgumentError(f"since_tx {since_tx} is newer than the last committed "
                                   f"transaction {s.last_committed}")
    return State(s.db, since_tx, s.alh(since_tx))


def dual_proof(s, source: int, target: int) -> DualProof:
    """The section 6 proof that transaction `target` extends transaction `source`."""
    src = s.header(source)
    if source == target:
        return DualProof(src, src, [], [])
    aht = s._aht
    inclusion = aht.inclusion_proof(source - 1, target - 1)
    consistency = aht.consistency_proof(source - 1, target - 1) if source > 1 else []
    return DualProof(src, s.header(target), inclusion, consistency)


def _state(s, tx_id: int) -> State:
    state = State(s.db, tx_id, s.alh(tx_id))
    return state.sign(s._signer) if s._signer is not None else state


def _self_check(verify, proof, trusted) -> None:
    try:
        verify(proof, trusted)
    except ProofError as e:
        raise CorruptionError(f"the store produced a proof that does not verify: {e}",
                              tx_id=proof.tx.id) from e


def prove_entry(s, v: Version, since_tx: int | None) -> EntryProof:
    """Proof of one indexed version, from the stored entries tree (no re-hashing of the tx)."""
    trusted = _trusted(s, since_tx)
    header = s.header(v.tx_id)
    raw, width = s._stored_tree(v.tx_id)
    if v.entry_index >= width:
        raise IndexCorruptedError("index entry points past the end of its transaction",
                                  tx_id=v.tx_id)
    value = s._read_value(v)
    inclusion = EntryInclusion(v.entry_index, width, path_from(raw, width, v.entry_index))
    dual, state_tx = None, v.tx_id
    if trusted is not None:
        a, b = sorted((trusted.tx_id, v.tx_id))
        dual, state_tx = dual_proof(s, a, b), b
    proof = EntryProof(v.key, value, v.md, header, inclusion, dual, _state(s, state_tx))
    _self_check(verify_entry_proof, proof, trusted)
    return proof


def prove_tx(s, tx_id: int, since_tx: int | None) -> TxProof:
    trusted = _trusted(s, since_tx)
    header, entries = s._read_tx(tx_id)
    values = [(e.key, s._read_value_of(e, tx_id), e.md) for e in entries]
    dual, state_tx = None, tx_id
    if trusted is not None:
        a, b = sorted((trusted.tx_id, tx_id))
        dual, state_tx = dual_proof(s, a, b), b
    proof = TxProof(header, values, dual, _state(s, state_tx))
    _self_check(verify_tx_proof, proof, trusted)
    return proof


def prove_state(s, since_tx: int) -> tuple[DualProof, State]:
    """For auditors: the current state and a dual proof that it extends `since_tx`."""
    trusted = _trusted(s, since_tx)
    current = s.last_committed
    if current == 0:
        raise InvalidArgumentError("the database is empty: there is no state to prove")
    source = since_tx if trusted is not None else current
    dual = dual_proof(s, source, current)
    state = _state(s, current)
    try:
        verify_state_transition(trusted or empty_state(s.db), dual, state)
    except ProofError as e:
        raise CorruptionError(f"the store produced a proof that does not verify: {e}") from e
    return dual, state
