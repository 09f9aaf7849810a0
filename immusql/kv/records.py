"""The public result types of the store: what get/scan/history/tx_by_id hand back.

The per-entry types are named tuples: one is made for every value read, and a tuple is
several times cheaper to build than a frozen dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .hashing import is_deleted
from .header import TxHeader


class Reference(NamedTuple):
    """Where a value read through a reference came from."""

    key: bytes  # the reference's own key
    tx_id: int
    revision: int
    at_tx: int  # 0: the reference follows the latest version of the target


class Entry(NamedTuple):
    key: bytes
    value: bytes
    md: bytes
    tx_id: int
    revision: int
    referenced_by: Reference | None = None

    @property
    def deleted(self) -> bool:
        return is_deleted(self.md)


class ZEntry(NamedTuple):
    set: bytes
    key: bytes
    score: float
    at_tx: int  # 0: follows the latest version of key
    entry: Entry


class TxRecordEntry(NamedTuple):
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
