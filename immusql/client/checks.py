"""The proof checks of the client, named: each failure says which check failed.

Thin wrappers over the store's pure verification functions (`immusql.kv.proofs`): the
proof is verified once; when it fails, its own hashes (entry digest, inclusion path,
header, alh) are checked alone to name the failure "proof", else it is the link to the
trusted state ("dual-proof"); then the signature with the pinned key ("signature"). Used
by the online client and by `immusql verify-proof` alike; no I/O.
"""

from __future__ import annotations

from ..kv import hashing, merkle
from ..kv.errors import ProofError
from ..kv.proofs import (
    DualProof,
    EntryProof,
    TxProof,
    header_alh,
    verify_entry_inclusion,
    verify_entry_proof,
    verify_state_transition,
    verify_tx_proof,
)
from ..kv.state import State, empty_state
from .errors import TamperedError

__all__ = ["parse", "check_entry", "check_tx", "check_state_step", "check_signature",
           "check_db"]


def parse(parse_fn, obj, what: str):
    """Parse a proof's JSON strictly; malformed input is a TamperedError("malformed")."""
    try:
        return parse_fn(obj)
    except ProofError as e:
        raise TamperedError("malformed", f"the {what} is malformed: {e}") from e


def check_db(trusted: State | None, state: State) -> None:
    if trusted is not None and state.db != trusted.db:
        raise TamperedError("database", f"the proof is of database {state.db!r}, the "
                            f"trusted state of {trusted.db!r}", tx_id=state.tx_id)


def check_signature(state: State, public_key: bytes | None) -> None:
    if public_key is None:
        return
    try:
        state.verify_signature(public_key)
    except ProofError as e:
        raise TamperedError("signature", str(e), tx_id=state.tx_id) from e


def _linked(trusted: State | None) -> bool:
    return trusted is not None and trusted.tx_id > 0


def _own_entry_chain(proof: EntryProof) -> None:
    """The entry's own chain: digest -> inclusion -> eh -> header -> alh."""
    header_alh(proof.tx)
    if proof.inclusion.width != proof.tx.nentries:
        raise ProofError(f"inclusion width {proof.inclusion.width} is not the "
                         f"{proof.tx.nentries} entries of tx {proof.tx.id}")
    digest = hashing.entry_digest(proof.key, hashing.sha256(proof.value), proof.md)
    verify_entry_inclusion(digest, proof.inclusion, proof.tx.eh)


def _own_tx_chain(proof: TxProof) -> None:
    """A transaction's own chain: every entry -> eh -> header -> alh."""
    header_alh(proof.tx)
    if len(proof.entries) != proof.tx.nentries:
        raise ProofError(f"tx {proof.tx.id} has {proof.tx.nentries} entries, the proof "
                         f"carries {len(proof.entries)}")
    eh = merkle.root([hashing.leaf_hash(hashing.entry_digest(k, hashing.sha256(v), md))
                      for k, v, md in proof.entries])
    if eh != proof.tx.eh:
        raise ProofError(f"the entries do not hash to eh of tx {proof.tx.id}")


def _verified(verify, own_chain, proof, trusted: State | None, public_key, what: str):
    """Run the store's verification once; name the failed check only when it fails."""
    check_db(trusted, proof.state)
    try:
        new = verify(proof, trusted, None)
    except ProofError as e:
        try:  # which part: the proof's own hashes, or its link to the trusted state?
            own_chain(proof)
        except ProofError as own:
            raise TamperedError("proof", f"{what}: {own}", tx_id=proof.tx.id) from e
        except Exception:  # noqa: BLE001 - a malformed proof: the first error says it
            raise TamperedError("proof", f"{what}: {e}", tx_id=proof.tx.id) from e
        raise TamperedError("dual-proof" if _linked(trusted) else "proof", f"{what}: {e}",
                            tx_id=proof.tx.id) from e
    check_signature(new, public_key)
    return new


def check_entry(proof: EntryProof, trusted: State | None, public_key: bytes | None,
                what: str = "entry proof") -> State:
    """PROOFS.md section 7 on an entry_proof; returns the state it leads to."""
    return _verified(verify_entry_proof, _own_entry_chain, proof, trusted, public_key, what)


def check_tx(proof: TxProof, trusted: State | None, public_key: bytes | None) -> State:
    """A tx_proof: eh recomputed from every entry, then as check_entry."""
    return _verified(verify_tx_proof, _own_tx_chain, proof, trusted, public_key, "tx proof")


def check_state_step(trusted: State | None, dual: DualProof, new: State,
                     public_key: bytes | None) -> State:
    """The auditor's step: `new` (same or newer) proven to extend `trusted`."""
    base = trusted if trusted is not None else empty_state(new.db)
    check_db(trusted, new)
    if new.tx_id < base.tx_id:
        raise TamperedError("rollback", f"the server's state is tx {new.tx_id}, the trusted "
                            f"state tx {base.tx_id}: history was truncated or an old copy "
                            "restored", tx_id=new.tx_id)
    try:
        verify_state_transition(base, dual, new, None)
    except ProofError as e:
        raise TamperedError("dual-proof" if _linked(trusted) else "proof", str(e),
                            tx_id=new.tx_id) from e
    check_signature(new, public_key)
    return new
