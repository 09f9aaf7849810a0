"""Checking what a server claims (PROOFS.md sections 3-8), with nothing but the proof.

This is the code an untrusting client runs, so it is pure (no I/O, no store access) and
fails closed: every `verify_*` returns only when every check of the spec passed and raises
`ProofError` (with the expected and calculated hash where there is one) otherwise; nothing
here returns False. The proof objects parse their section 8 JSON strictly, because a lenient
parser is a second, unspecified format. Imports only `immusql.kv` modules and the stdlib.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import merkle
from .errors import ProofError
from .hashing import EMPTY_HASH, HASH_SIZE, entry_digest, leaf_hash, sha256
from .header import TxHeader
from .merkle import verify_consistency, verify_inclusion
from .state import State, check_keys, json_hex, json_hex_list, json_int

__all__ = ["verify_inclusion", "verify_consistency", "verify_entry_inclusion", "verify_dual",
           "verify_entry_proof", "verify_tx_proof", "verify_state_transition",
           "header_alh", "header_from_json", "EntryInclusion", "DualProof", "EntryProof",
           "TxProof", "PROOF_VERSION"]

PROOF_VERSION = 1
_MAX_U16 = (1 << 16) - 1


def _check_hash(h, what: str) -> None:
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def _check_path(path, what: str) -> None:
    if not isinstance(path, (list, tuple)):
        raise ProofError(f"{what} must be a list of hashes")
    for i, p in enumerate(path):
        _check_hash(p, f"{what}[{i}]")


# --- Proof objects and their section 8 JSON -----------------------------------------------

_HEADER_KEYS = ("id", "ts", "version", "md", "nentries", "eh", "bl_tx_id", "bl_root",
                "prev_alh")


def header_from_json(obj, what: str = "header") -> TxHeader:
    """Parse section 8's header object strictly (exact keys, lower-case hex, ranges)."""
    check_keys(obj, _HEADER_KEYS, what)
    return TxHeader(
        id=json_int(obj["id"], f"{what}.id"), ts=json_int(obj["ts"], f"{what}.ts"),
        version=json_int(obj["version"], f"{what}.version", bits=16),
        md=json_hex(obj["md"], f"{what}.md", max_size=_MAX_U16),
        nentries=json_int(obj["nentries"], f"{what}.nentries", bits=32),
        eh=json_hex(obj["eh"], f"{what}.eh", size=HASH_SIZE),
        bl_tx_id=json_int(obj["bl_tx_id"], f"{what}.bl_tx_id"),
        bl_root=json_hex(obj["bl_root"], f"{what}.bl_root", size=HASH_SIZE),
        prev_alh=json_hex(obj["prev_alh"], f"{what}.prev_alh", size=HASH_SIZE))


def header_alh(header: TxHeader) -> bytes:
    """The header's Alh after checking its section 2 invariants (ProofError if broken)."""
    if not isinstance(header, TxHeader):
        raise ProofError(f"expected a TxHeader, got {type(header).__name__}")
    try:
        header.validate()
        return header.alh()
    except (struct.error, TypeError, AttributeError) as e:  # a field of the wrong type or
        raise ProofError(f"malformed header of tx {header.id!r}: {e}") from e  # out of range


def _version(obj, what: str) -> None:
    if type(obj.get("version")) is not int or obj["version"] != PROOF_VERSION:
        raise ProofError(f"{what}.version must be {PROOF_VERSION}, got {obj.get('version')!r}")


def _entry_from_json(obj, what: str) -> tuple[bytes, bytes, bytes]:
    check_keys(obj, ("key", "value", "md"), what)
    return (json_hex(obj["key"], f"{what}.key", max_size=_MAX_U16),
            json_hex(obj["value"], f"{what}.value"),
            json_hex(obj["md"], f"{what}.md", max_size=_MAX_U16))


def _entry_to_json(key: bytes, value: bytes, md: bytes) -> dict:
    return {"key": key.hex(), "value": value.hex(), "md": md.hex()}


@dataclass(frozen=True, slots=True)
class EntryInclusion:
    """An entry's place in its transaction's entries tree (section 4)."""
    leaf: int  # 0-based position of the entry in the transaction
    width: int  # the transaction's number of entries
    terms: list[bytes]  # RFC 9162 audit path, leaf to eh

    def to_json(self) -> dict:
        return {"leaf": self.leaf, "width": self.width, "terms": [t.hex() for t in self.terms]}

    @classmethod
    def from_json(cls, obj) -> "EntryInclusion":
        check_keys(obj, ("leaf", "width", "terms"), "inclusion")
        return cls(json_int(obj["leaf"], "inclusion.leaf", bits=32),
                   json_int(obj["width"], "inclusion.width", bits=32),
                   json_hex_list(obj["terms"], "inclusion.terms"))


@dataclass(frozen=True, slots=True)
class DualProof:
    """Links a trusted transaction (source) to a newer one (target), section 6."""
    source: TxHeader
    target: TxHeader
    inclusion: list[bytes]  # leaf_hash(alh(source)) in the tree of size target.id - 1
    consistency: list[bytes]  # tree size source.id - 1 -> target.id - 1

    def to_json(self) -> dict:
        return {"source": self.source.to_json(), "target": self.target.to_json(),
                "inclusion": [h.hex() for h in self.inclusion],
                "consistency": [h.hex() for h in self.consistency]}

    @classmethod
    def from_json(cls, obj) -> "DualProof":
        check_keys(obj, ("source", "target", "inclusion", "consistency"), "dual")
        return cls(header_from_json(obj["source"], "dual.source"),
                   header_from_json(obj["target"], "dual.target"),
                   json_hex_list(obj["inclusion"], "dual.inclusion"),
                   json_hex_list(obj["consistency"], "dual.consistency"))


def _dual_from_json(obj) -> DualProof | None:
    return None if obj is None else DualProof.from_json(obj)


@dataclass(frozen=True, slots=True)
class EntryProof:
    """A verified read of one entry (section 7); its JSON is section 8's `entry_proof`."""
    key: bytes
    value: bytes
    md: bytes
    tx: TxHeader
    inclusion: EntryInclusion
    dual: DualProof | None  # None only when the client had no trusted state
    state: State  # the state the proof leads to

    def to_json(self) -> dict:
        return {"version": PROOF_VERSION, "entry": _entry_to_json(self.key, self.value, self.md),
                "tx": self.tx.to_json(), "inclusion": self.inclusion.to_json(),
                "dual": None if self.dual is None else self.dual.to_json(),
                "state": self.state.to_json()}

    @classmethod
    def from_json(cls, obj) -> "EntryProof":
        check_keys(obj, ("version", "entry", "tx", "inclusion", "dual", "state"), "entry_proof")
        _version(obj, "entry_proof")
        key, value, md = _entry_from_json(obj["entry"], "entry")
        return cls(key, value, md, header_from_json(obj["tx"], "tx"),
                   EntryInclusion.from_json(obj["inclusion"]), _dual_from_json(obj["dual"]),
                   State.from_json(obj["state"]))


@dataclass(frozen=True, slots=True)
class TxProof:
    """A whole transaction with every entry (verifiable set / tx by id).

    Our extension of section 8, built only from its pieces: {"version": 1, "tx": header,
    "entries": [{"key", "value", "md"}], "dual": dual|null, "state": state}.
    """
    tx: TxHeader
    entries: list[tuple[bytes, bytes, bytes]]  # (key, value, md), in transaction order
    dual: DualProof | None
    state: State

    def to_json(self) -> dict:
        return {"version": PROOF_VERSION, "tx": self.tx.to_json(),
                "entries": [_entry_to_json(*e) for e in self.entries],
                "dual": None if self.dual is None else self.dual.to_json(),
                "state": self.state.to_json()}

    @classmethod
    def from_json(cls, obj) -> "TxProof":
        check_keys(obj, ("version", "tx", "entries", "dual", "state"), "tx_proof")
        _version(obj, "tx_proof")
        if type(obj["entries"]) is not list:
            raise ProofError("tx_proof.entries must be a list")
        entries = [_entry_from_json(e, f"entries[{i}]") for i, e in enumerate(obj["entries"])]
        return cls(header_from_json(obj["tx"], "tx"), entries, _dual_from_json(obj["dual"]),
                   State.from_json(obj["state"]))


# --- Entries, dual proofs and states (sections 4, 6, 7) -----------------------------------

def _digest(key: bytes, value: bytes, md: bytes) -> bytes:
    if not all(isinstance(x, bytes) for x in (key, value, md)):
        raise ProofError("entry key, value and md must be bytes")
    if len(key) > _MAX_U16 or len(md) > _MAX_U16:
        raise ProofError("entry key or md is longer than 65535 bytes")
    return entry_digest(key, sha256(value), md)


def verify_entry_inclusion(digest: bytes, inclusion: EntryInclusion, eh: bytes) -> None:
    """Check that the entry with `digest` is leaf `inclusion.leaf` of the entries root `eh`.

    The caller must also check `inclusion.width` against the header's `nentries`.
    """
    if not isinstance(inclusion, EntryInclusion):
        raise ProofError("expected an EntryInclusion")
    _check_hash(digest, "entry digest")
    verify_inclusion(leaf_hash(digest), inclusion.leaf, inclusion.width, inclusion.terms, eh)


def verify_dual(proof: DualProof, source_id: int, source_alh: bytes, target_id: int,
                target_alh: bytes) -> None:
    """Check that transaction (target_id, target_alh) extends (source_id, source_alh).

    PROOFS.md section 6, in its order. Also, when target_id == source_id + 1, the target's
    prev_alh must be source_alh (a section 2 invariant that is checkable here).
    """
    if not isinstance(proof, DualProof):
        raise ProofError(f"expected a DualProof, got {type(proof).__name__}")
    if type(source_id) is not int or type(target_id) is not int \
            or not 1 <= source_id <= target_id:
        raise ProofError(f"no dual proof from tx {source_id} to tx {target_id}")
    _check_hash(source_alh, "source alh")
    _check_hash(target_alh, "target alh")
    _check_path(proof.inclusion, "dual inclusion path")
    _check_path(proof.consistency, "dual consistency path")
    for side, header, want_id, want_alh in (("source", proof.source, source_id, source_alh),
                                            ("target", proof.target, target_id, target_alh)):
        alh = header_alh(header)
        if header.id != want_id:
            raise ProofError(f"dual proof {side} header is tx {header.id}, expected {want_id}")
        if alh != want_alh:
            raise ProofError(f"dual proof {side} header of tx {want_id} has a different alh",
                             expected=want_alh, calculated=alh)
    s, t, source, target = source_id, target_id, proof.source, proof.target
    if s == t:
        if source != target:
            raise ProofError(f"dual proof for tx {s} to itself has two different headers")
        if proof.inclusion or proof.consistency:
            raise ProofError(f"dual proof for tx {s} to itself must carry no paths")
        return
    if t == s + 1 and target.prev_alh != source_alh:
        raise ProofError(f"tx {t} does not follow tx {s}", expected=source_alh,
                         calculated=target.prev_alh)
    verify_inclusion(leaf_hash(source_alh), s - 1, t - 1, proof.inclusion, target.bl_root)
    if s > 1:
        verify_consistency(s - 1, t - 1, source.bl_root, target.bl_root, proof.consistency)
    elif proof.consistency:
        raise ProofError("dual proof from tx 1 must carry an empty consistency path")


def _check_trusted(trusted) -> State | None:
    """The trusted state to prove from, or None for trust on first use."""
    if trusted is None:
        return None
    if not isinstance(trusted, State):
        raise ProofError(f"trusted state must be a State, got {type(trusted).__name__}")
    if type(trusted.tx_id) is not int or trusted.tx_id < 0:
        raise ProofError(f"trusted tx id {trusted.tx_id!r} is not a transaction id")
    if trusted.tx_id == 0:
        if trusted.alh != EMPTY_HASH:
            raise ProofError("trusted state at tx 0 must have alh H('')",
                             expected=EMPTY_HASH, calculated=trusted.alh)
        return None
    _check_hash(trusted.alh, "trusted alh")
    return trusted


def _advance(trusted, tx: TxHeader, tx_alh: bytes, dual) -> tuple[int, bytes]:
    """Link `tx` to the trusted state; return (tx_id, alh) of the newer of the two."""
    base = _check_trusted(trusted)
    if base is None:
        if dual is not None:
            raise ProofError("a dual proof was sent although the client trusts no state")
        return tx.id, tx_alh
    if dual is None:
        raise ProofError(f"a dual proof from the trusted tx {base.tx_id} is required")
    if not isinstance(dual, DualProof):
        raise ProofError(f"expected a DualProof, got {type(dual).__name__}")
    if base.tx_id <= tx.id:  # verify_dual binds the proven header through its alh
        verify_dual(dual, base.tx_id, base.alh, tx.id, tx_alh)
        return tx.id, tx_alh
    verify_dual(dual, tx.id, tx_alh, base.tx_id, base.alh)
    return base.tx_id, base.alh


def _accept_state(claimed, tx_id: int, alh: bytes, trusted, public_key) -> State:
    """Check the server's claimed state against the one the proof leads to."""
    if not isinstance(claimed, State):
        raise ProofError(f"proof state must be a State, got {type(claimed).__name__}")
    if trusted is not None and claimed.db != trusted.db:
        raise ProofError(f"proof is for database {claimed.db!r}, trusted is {trusted.db!r}")
    if claimed.tx_id != tx_id:
        raise ProofError(f"proof claims state tx {claimed.tx_id}, it leads to tx {tx_id}")
    if claimed.alh != alh:
        raise ProofError(f"proof claims a different alh for tx {tx_id}", expected=alh,
                         calculated=claimed.alh)
    if public_key is not None:
        claimed.verify_signature(public_key)
    return claimed


def verify_entry_proof(proof: EntryProof, trusted: State | None,
                       public_key: bytes | None = None) -> State:
    """Check a verified read (section 7) and return the state it leads to.

    `trusted` None (or at tx 0) is trust on first use: the proof must carry no dual proof.
    The returned state is the newer of `trusted` and the entry's transaction, carrying the
    proof's signature; it is never older than `trusted`.
    """
    if not isinstance(proof, EntryProof):
        raise ProofError(f"expected an EntryProof, got {type(proof).__name__}")
    digest = _digest(proof.key, proof.value, proof.md)
    tx_alh = header_alh(proof.tx)
    if not isinstance(proof.inclusion, EntryInclusion):
        raise ProofError("expected an EntryInclusion")
    if proof.inclusion.width != proof.tx.nentries:
        raise ProofError(f"inclusion width {proof.inclusion.width} is not the "
                         f"{proof.tx.nentries} entries of tx {proof.tx.id}")
    verify_entry_inclusion(digest, proof.inclusion, proof.tx.eh)
    tx_id, alh = _advance(trusted, proof.tx, tx_alh, proof.dual)
    return _accept_state(proof.state, tx_id, alh, trusted, public_key)


def verify_tx_proof(proof: TxProof, trusted: State | None,
                    public_key: bytes | None = None) -> State:
    """Like `verify_entry_proof`, but rebuilds `eh` from all the transaction's entries."""
    if not isinstance(proof, TxProof):
        raise ProofError(f"expected a TxProof, got {type(proof).__name__}")
    tx_alh = header_alh(proof.tx)
    entries = proof.entries
    if not isinstance(entries, (list, tuple)):
        raise ProofError("the entries of a tx proof must be a list")
    if len(entries) != proof.tx.nentries:
        raise ProofError(f"tx {proof.tx.id} has {proof.tx.nentries} entries, "
                         f"the proof carries {len(entries)}")
    leaves, keys = [], set()
    for entry in entries:
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise ProofError("each entry must be a (key, value, md) tuple")
        leaves.append(leaf_hash(_digest(*entry)))
        if entry[0] in keys:
            raise ProofError(f"key {entry[0].hex()} appears twice in tx {proof.tx.id}")
        keys.add(entry[0])
    eh = merkle.root(leaves)
    if eh != proof.tx.eh:
        raise ProofError(f"the entries do not hash to eh of tx {proof.tx.id}",
                         expected=proof.tx.eh, calculated=eh)
    tx_id, alh = _advance(trusted, proof.tx, tx_alh, proof.dual)
    return _accept_state(proof.state, tx_id, alh, trusted, public_key)


def verify_state_transition(trusted: State, dual: DualProof, new_state: State,
                            public_key: bytes | None = None) -> State:
    """Move an auditor from `trusted` to `new_state` (same or newer) through `dual`.

    From the empty state (tx 0) there is nothing to link to: `dual` must then be the
    proof of the new transaction to itself, which still checks its header.
    """
    if not isinstance(trusted, State) or not isinstance(new_state, State):
        raise ProofError("trusted and new state must be State objects")
    if new_state.tx_id < trusted.tx_id:
        raise ProofError(f"state would move back from tx {trusted.tx_id} "
                         f"to tx {new_state.tx_id}")
    _check_hash(new_state.alh, "new state alh")
    base = _check_trusted(trusted)
    if base is None:
        verify_dual(dual, new_state.tx_id, new_state.alh, new_state.tx_id, new_state.alh)
    else:
        verify_dual(dual, base.tx_id, base.alh, new_state.tx_id, new_state.alh)
    return _accept_state(new_state, new_state.tx_id, new_state.alh, trusted, public_key)
