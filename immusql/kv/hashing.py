"""Hash preimages of PROOFS.md sections 1, 3 and 4: entry digests and tree node hashes.

Pure functions over bytes; no I/O. Everything a verifier needs to recompute a digest is here.
"""

from __future__ import annotations

import hashlib
import struct

HASH_SIZE = 32
EMPTY_HASH = hashlib.sha256(b"").digest()  # prev_alh of tx 1; alh of the empty database
ZERO_HASH = bytes(HASH_SIZE)  # bl_root of tx 1

LEAF_PREFIX = b"\x00"  # RFC 6962 domain separation
NODE_PREFIX = b"\x01"

# Entry metadata attribute codes (PROOFS.md section 1), written in ascending code order.
MD_DELETED = 0x00
MD_EXPIRES_AT = 0x01
MD_NON_INDEXED = 0x02

MD_DELETED_BYTES = bytes([MD_DELETED])

_sha256 = hashlib.sha256
_U16 = struct.Struct(">H")


def sha256(data: bytes) -> bytes:
    return _sha256(data).digest()


def leaf_hash(data: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def entry_digest(key: bytes, value_hash: bytes, md: bytes = b"") -> bytes:
    """H(u16(len(md)) || md || u16(len(key)) || key || H(value))."""
    return _sha256(_U16.pack(len(md)) + md + _U16.pack(len(key)) + key + value_hash).digest()


def is_deleted(md: bytes) -> bool:
    """True if the metadata marks a tombstone (deleted is code 0, so always first)."""
    return md[:1] == MD_DELETED_BYTES


def reads_as_absent(md: bytes, now_s: int) -> bool:
    """True if an entry with this metadata reads as missing: a tombstone, or expired."""
    if not md:
        return False
    if md[:1] == MD_DELETED_BYTES:
        return True
    expires_at = decode_md(md).get("expires_at")
    return expires_at is not None and expires_at <= now_s


def is_non_indexed(md: bytes) -> bool:
    return bool(md) and decode_md(md).get("non_indexed", False)


def encode_md(deleted: bool = False, expires_at: int | None = None,
              non_indexed: bool = False) -> bytes:
    out = bytearray()
    if deleted:
        out.append(MD_DELETED)
    if expires_at is not None:
        out.append(MD_EXPIRES_AT)
        out += struct.pack(">Q", expires_at)
    if non_indexed:
        out.append(MD_NON_INDEXED)
    return bytes(out)


def decode_md(md: bytes) -> dict:
    """Parse entry metadata; raises ValueError on unknown codes, bad order or trailing bytes."""
    attrs: dict = {}
    pos, last = 0, -1
    while pos < len(md):
        code = md[pos]
        if code <= last:
            raise ValueError(f"metadata attribute {code:#04x} out of order")
        last = code
        pos += 1
        if code == MD_DELETED:
            attrs["deleted"] = True
        elif code == MD_EXPIRES_AT:
            if pos + 8 > len(md):
                raise ValueError("truncated expires-at metadata")
            attrs["expires_at"] = struct.unpack_from(">Q", md, pos)[0]
            pos += 8
        elif code == MD_NON_INDEXED:
            attrs["non_indexed"] = True
        else:
            raise ValueError(f"unknown metadata attribute {code:#04x}")
    return attrs
