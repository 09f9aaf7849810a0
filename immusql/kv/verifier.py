"""A client's memory of what it has verified: one trusted state that only moves forward.

Proofs are only as good as the state they start from, so this state must outlive the process
(immudb keeps it in a `.state-<server>` file). It is written atomically (temporary file,
fsync, rename) so that a crash leaves either the old or the new state, never a torn one.
All checking is delegated to `proofs`; this class adds the bookkeeping and a lock, so one
verifier can be shared by threads.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from .durable import replace_file
from .errors import ProofError
from .proofs import (
    DualProof,
    EntryProof,
    TxProof,
    verify_entry_proof,
    verify_state_transition,
    verify_tx_proof,
)
from .state import State, empty_state

__all__ = ["Verifier"]


class Verifier:
    """Checks proofs from one database's server against a trusted state and advances it.

    `path`, if given, is a JSON file holding the trusted state (section 8's state object); it
    is read at construction when it exists and rewritten on every advance. `public_key`, if
    given, is the server's 65-byte signing key, and every accepted state must be signed by it
    (a persisted state too, so a state file written without a key cannot be loaded with one).
    """

    def __init__(self, db: str, path: str | os.PathLike | None = None,
                 public_key: bytes | None = None):
        self._db = db
        self._path = Path(path) if path is not None else None
        self._public_key = public_key
        self._lock = threading.Lock()
        self._state = empty_state(db)
        if self._path is not None and self._path.exists():
            self._state = self._load()

    @property
    def db(self) -> str:
        return self._db

    @property
    def public_key(self) -> bytes | None:
        return self._public_key

    @property
    def state(self) -> State:
        """The trusted state (tx 0 and H('') before the first verified proof)."""
        with self._lock:
            return self._state

    def verify_entry(self, proof: EntryProof | dict | str) -> EntryProof:
        """Check a verified read, advance the trusted state, and return the parsed proof."""
        if not isinstance(proof, EntryProof):
            proof = EntryProof.from_json(_as_json(proof))
        with self._lock:
            self._advance_to(verify_entry_proof(proof, self._state, self._public_key))
        return proof

    def verify_tx(self, proof: TxProof | dict | str) -> TxProof:
        """Check a whole transaction (every entry), advance, and return the parsed proof."""
        if not isinstance(proof, TxProof):
            proof = TxProof.from_json(_as_json(proof))
        with self._lock:
            self._advance_to(verify_tx_proof(proof, self._state, self._public_key))
        return proof

    def advance(self, dual: DualProof | dict | str, new_state: State | dict | str) -> State:
        """Move to `new_state` (same or newer) through a dual proof from the trusted state."""
        if not isinstance(dual, DualProof):
            dual = DualProof.from_json(_as_json(dual))
        if not isinstance(new_state, State):
            new_state = State.from_json(_as_json(new_state))
        with self._lock:
            self._advance_to(verify_state_transition(self._state, dual, new_state,
                                                     self._public_key))
            return self._state

    def _advance_to(self, new: State) -> None:
        """Adopt `new` if it is newer; proofs already guarantee it is never older."""
        if new.tx_id < self._state.tx_id:  # defensive: verify_* never returns an older state
            raise ProofError(f"state would move back from tx {self._state.tx_id} "
                             f"to tx {new.tx_id}")
        if new.tx_id == self._state.tx_id:
            return
        if self._path is not None:
            self._save(new)
        self._state = new

    def _load(self) -> State:
        try:
            obj = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise ProofError(f"cannot read the trusted state file {self._path}: {e}") from e
        state = State.from_json(obj)
        if state.db != self._db:
            raise ProofError(f"the state file {self._path} is for database {state.db!r}, "
                             f"not {self._db!r}")
        if self._public_key is not None and state.tx_id > 0:
            state.verify_signature(self._public_key)
        return state

    def _save(self, state: State) -> None:
        replace_file(self._path, json.dumps(state.to_json(), sort_keys=True).encode("utf-8")
                     + b"\n")


def _as_json(proof) -> dict:
    if isinstance(proof, (str, bytes)):
        try:
            return json.loads(proof)
        except ValueError as e:
            raise ProofError(f"proof is not valid JSON: {e}") from e
    return proof
