"""immusql's one error hierarchy, each class carrying its PostgreSQL SQLSTATE.

The root and the storage errors are defined in `immusql.kv.errors` (the lowest layer,
which imports nothing of ours) and re-exported here; the SQL and protocol layers add
their classes to the same tree. `lookup(sqlstate)` finds the class for a code.
"""

from .kv.errors import (
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
                        lookup,
)

__all__ = ["ImmuSQLError", "StorageError", "StoreClosedError", "StoreLockedError",
           "KeyNotFoundError", "TxNotFoundError", "InvalidArgumentError",
           "LimitExceededError", "ConflictError", "CorruptionError", "IndexCorruptedError",
           "ProofError", "lookup"]
