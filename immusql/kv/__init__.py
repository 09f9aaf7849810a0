"""immusql.kv: the verifiable key-value store, the source of truth of immusql.

Public surface (everything other layers and users may import from here):
`Store`, `Transaction`, the result types, the proof types and pure `verify_*` functions,
`Verifier`, `State`, and the errors. `kv` imports nothing of immusql outside itself.
"""

from .errors import (
                     ConflictError,
                     CorruptionError,
                     ImmuSQLError,
                     IndexCorruptedError,
                     InvalidArgumentError,
                     KeyNotFoundError,
                     LimitExceededError,
                     ProofError,
                     StorageError,
                     StoreClosedError,
                     StoreLockedError,
                     TxNotFoundError,
)
from .header import TxHeader
from .proofs import (
                     DualProof,
                     EntryInclusion,
                     EntryProof,
                     TxProof,
                     verify_consistency,
                     verify_dual,
                     verify_entry_inclusion,
                     verify_entry_proof,
                     verify_inclusion,
                     verify_state_transition,
                     verify_tx_proof,
)
from .records import CheckReport, Entry, Reference, Tx, TxRecordEntry, ZEntry
from .state import State, generate_signing_key, load_private_key_pem, public_key_bytes
from .store import Store
from .transaction import Transaction
from .verifier import Verifier

__all__ = [
    "Store", "Transaction", "Entry", "Reference", "ZEntry", "Tx", "TxRecordEntry",
    "TxHeader", "CheckReport", "State", "Verifier", "EntryProof", "TxProof", "DualProof",
    "EntryInclusion", "verify_inclusion", "verify_consistency", "verify_entry_inclusion",
    "verify_dual", "verify_entry_proof", "verify_tx_proof", "verify_state_transition",
    "generate_signing_key", "load_private_key_pem", "public_key_bytes",
    "ImmuSQLError", "StorageError", "StoreClosedError", "StoreLockedError",
    "KeyNotFoundError", "TxNotFoundError", "InvalidArgumentError", "LimitExceededError",
    "ConflictError", "CorruptionError", "IndexCorruptedError", "ProofError",
]
