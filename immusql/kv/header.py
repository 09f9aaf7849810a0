"""The transaction header and its hashes (PROOFS.md section 2): inner hash and Alh.

A header binds everything about a transaction: its entries through `eh`, its place in
history through `prev_alh`, and every earlier transaction through `bl_root`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import ProofError
from .hashing import EMPTY_HASH, HASH_SIZE, ZERO_HASH, sha256

HEADER_VERSION = 1

_INNER_HEAD = struct.Struct(">QHH")  # ts, version, len(txmd)
_INNER_TAIL = struct.Struct(">I32sQ32s")  # nentries, eh, bl_tx_id, bl_root
_ALH_HEAD = struct.Struct(">Q32s")  # id, prev_alh


@dataclass(frozen=True, slots=True)
class TxHeader:
    id: int
    ts: int  # commit time, Unix microseconds
    version: int
    md: bytes  # transaction metadata
    nentries: int
    eh: bytes  # root of the entries tree
    bl_tx_id: int  # always id - 1
    bl_root: bytes  # root of the hash tree over alh(1..id-1)
    prev_alh: bytes

    def inner_hash(self) -> bytes:
        return sha256(
            _INNER_HEAD.pack(self.ts, self.version, len(self.md)) + self.md
            + _INNER_TAIL.pack(self.nentries, self.eh, self.bl_tx_id, self.bl_root))

    def alh(self) -> bytes:
        return sha256(_ALH_HEAD.pack(self.id, self.prev_alh) + self.inner_hash())

    def validate(self) -> None:
        """Raise ProofError unless the section 2 invariants hold."""
        for name, bits in (("id", 64), ("ts", 64), ("nentries", 32), ("bl_tx_id", 64)):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value < 1 << bits:
                raise ProofError(f"header {self.id}: {name} is not a u{bits}")
        if not isinstance(self.md, bytes) or len(self.md) >= 1 << 16:
            raise ProofError(f"header {self.id}: md is not a byte string under 64 KiB")
        if self.id < 1:
            raise ProofError(f"header id {self.id} < 1")
        if self.version != HEADER_VERSION:
            raise ProofError(f"header {self.id}: unsupported version {self.version}")
        if self.nentries < 1:
            raise ProofError(f"header {self.id}: no entries")
        if self.bl_tx_id != self.id - 1:
            raise ProofError(f"header {self.id}: bl_tx_id {self.bl_tx_id} != id - 1")
        for name in ("eh", "bl_root", "prev_alh"):
            if len(getattr(self, name)) != HASH_SIZE:
                raise ProofError(f"header {self.id}: {name} is not {HASH_SIZE} bytes")
        if self.id == 1:
            if self.bl_root != ZERO_HASH:
                raise ProofError("header 1: bl_root must be 32 zero bytes")
            if self.prev_alh != EMPTY_HASH:
                raise ProofError("header 1: prev_alh must be H('')")

    def to_json(self) -> dict:
        """PROOFS.md section 8 `header`; parse it back with `proofs.header_from_json`."""
        return {"id": self.id, "ts": self.ts, "version": self.version, "md": self.md.hex(),
                "nentries": self.nentries, "eh": self.eh.hex(), "bl_tx_id": self.bl_tx_id,
                "bl_root": self.bl_root.hex(), "prev_alh": self.prev_alh.hex()}
