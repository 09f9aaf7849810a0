"""The root of immusql's one error hierarchy, and the store's own errors.

The hierarchy is rooted here, in the lowest layer, because `kv` imports nothing else of
ours; `immusql.errors` re-exports these classes and adds the SQL and protocol ones on top.
Every class carries the PostgreSQL SQLSTATE that the wire server will send for it, and is
registered by that code so `lookup("40001")` finds the class (as psycopg's errors module).
"""

from __future__ import annotations

_BY_SQLSTATE: dict[str, type["ImmuSQLError"]] = {}


class ImmuSQLError(Exception):
    """Base of every error immusql raises on purpose."""

    sqlstate = "XX000"

    def __init_subclass__(cls, sqlstate: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if sqlstate is not None:
            cls.sqlstate = sqlstate
            _BY_SQLSTATE.setdefault(sqlstate, cls)


def register(cls: type[ImmuSQLError]) -> None:
    """Make `cls` the class `lookup` returns for its SQLSTATE (used by the SQL layer,
    whose PEP 249 classes take precedence over the store's for the same code)."""
    _BY_SQLSTATE[cls.sqlstate] = cls


def lookup(sqlstate: str) -> type[ImmuSQLError]:
    """The most general registered class for a SQLSTATE (ImmuSQLError if unknown)."""
    return _BY_SQLSTATE.get(sqlstate, ImmuSQLError)


class StorageError(ImmuSQLError, sqlstate="58000"):
    """The store cannot do what was asked (I/O failure, closed store, ...)."""


class StoreClosedError(StorageError, sqlstate="55000"):
    """The store was closed, or stopped accepting writes after a failed fsync."""


class StoreLockedError(StorageError, sqlstate="55006"):
    """Another process has the store's directory open."""


class KeyNotFoundError(StorageError, KeyError, sqlstate="P0002"):
    """The key has no live version (never written, or deleted) at the asked transaction."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return Exception.__str__(self)


class TxNotFoundError(StorageError, sqlstate="22023"):
    """No transaction with that id has been committed."""


class InvalidArgumentError(ImmuSQLError, sqlstate="22023"):
    """A caller passed a value the store does not accept (empty key, duplicate key, ...)."""


class LimitExceededError(InvalidArgumentError, sqlstate="54000"):
    """A key, value or transaction is larger than the limits fixed when the store was made."""


class ConflictError(ImmuSQLError, sqlstate="40001"):
    """A transaction read or wrote a key that another transaction committed since its snapshot."""


class CorruptionError(ImmuSQLError, sqlstate="XX001"):
    """Stored data failed an integrity check; the bad data is never returned.

    `where` names the place (file, offset or transaction) so an operator can find it.
    """

    def __init__(self, message: str, *, where: str | None = None, tx_id: int | None = None):
        self.where = where
        self.tx_id = tx_id
        detail = message
        if tx_id is not None:
            detail += f" (tx {tx_id})"
        if where:
            detail += f" at {where}"
        super().__init__(detail)


class IndexCorruptedError(CorruptionError, sqlstate="XX002"):
    """The derived key index disagrees with the log; rebuild it from the log."""


class ProofError(CorruptionError):
    """A proof did not verify: the server's answer is not backed by the history we trust."""

    def __init__(self, message: str, *, expected: bytes | None = None,
                 calculated: bytes | None = None):
        self.expected = expected
        self.calculated = calculated
        if expected is not None and calculated is not None:
            message += f": expected {expected.hex()}, calculated {calculated.hex()}"
        super().__init__(message)
