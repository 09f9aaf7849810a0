"""The public result types of the store: what get/scan/history/tx_by_id hand back."""

from __future__ import annotations

from dataclasses import dataclass, field

from .hashing import is_deleted
from .header import TxHeader


@dataclass(frozen=True, slots=True)
class Reference:
    """Where a value read through a reference came from."""

    key: bytes  # the reference's own key
    tx_id: int
    revision: int
    at_tx: int  # 0: the reference follows the latest version of the target


@dataclass(frozen=True, slots=True)
class Entry:
    key: bytes
    value: bytes
    md: bytes
    tx_id: int
    revision: int
    referenced_by: Reference | None = None

    @property
    def deleted(self) -> bool:
        return is_deleted(self.md)


@dataclass(frozen=True, slots=True)
class ZEntry:
    set: bytes
    key: bytes
    score: float
    at_tx: int  # 0: follows the latest version of key
    entry: Entry


@dataclass(frozen=True, slots=True)
class TxRecordEntry:
    """An entry of a transaction exactly as stored (key space prefixes included)."""

    key: bytes
    value: bytes
    md: bytes
    value_hash: bytes


@dataclass(frozen=True, slots=True)
class Tx:
    header: TxHeader
    entries: list[TxRecordEntry] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.header.id


@dataclass(frozen=True, slots=True)
class CheckReport:
    transactions: int
    entries: int
    value_bytes: int
    index_versions: int
    seconds: float
