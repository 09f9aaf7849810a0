"""Byte layouts of the transaction log and the tx index, and their encode/decode.

Transaction log record (one per transaction, appended to `tx/NNNNNNNN.tx`)::

    u32  body_len          bytes in `body` below
    u32  crc32             zlib.crc32(body): catches torn writes before any hashing
    body:
      u64  id              transaction id (1, 2, 3, ...)
      u64  ts              commit time, Unix microseconds
      u16  version         header version (1)
      u16  txmd_len, txmd  transaction metadata
      u32  nentries
      u64  bl_tx_id        always id - 1
      32   bl_root         hash tree root over alh(1..id-1)
      32   prev_alh
      nentries times:
        u16 md_len, md     entry metadata (PROOFS.md section 1)
        u16 key_len, key   the key as stored
        u32 value_len
        u64 value_offset   where the value starts in the value log
        32  value_hash     H(value)
      32   alh             the transaction's accumulated linear hash

`eh` is not stored: it is recomputed from the entries on every read, and the recomputed
alh must equal the stored one, so a changed byte in any hashed field is caught. A changed
value_len/value_offset is not hashed; it is caught by the CRC, and by the value hash when
the value is read.

Tx index record (`txi/NNNNNNNN.txi`, fixed 56 bytes, record k is transaction k+1)::

    u64 offset      where the record starts in the tx log
    u32 size        whole record, including the 8-byte prefix
    u64 tree_offset where the transaction's entries tree starts in the htree log
    u32 nentries
    32  alh

The tx index is derived from the log (rebuilt on open if it disagrees) and lets a
transaction, its alh and its stored entries tree be found by id in O(1).
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import NamedTuple

from .errors import CorruptionError
from .hashing import entry_digest
from .header import TxHeader
from .merkle import EntriesTree

RECORD_PREFIX = struct.Struct(">II")  # body_len, crc32
HEADER_HEAD = struct.Struct(">QQHH")  # id, ts, version, txmd_len
HEADER_TAIL = struct.Struct(">IQ32s32s")  # nentries, bl_tx_id, bl_root, prev_alh
ENTRY_FIXED = struct.Struct(">IQ32s")  # value_len, value_offset, value_hash
U16 = struct.Struct(">H")
TXI_RECORD = struct.Struct(">QIQI32s")  # offset, size, tree_offset, nentries, alh
assert RECORD_PREFIX.size == 8 and HEADER_HEAD.size == 20 and HEADER_TAIL.size == 76
assert ENTRY_FIXED.size == 44 and TXI_RECORD.size == 56
HEAD_READ = RECORD_PREFIX.size + HEADER_HEAD.size + HEADER_TAIL.size  # with empty txmd

MAX_RECORD = 1 << 31  # sanity bound on body_len when scanning a damaged log


class TxEntry(NamedTuple):
    """One entry as the log records it: the value itself lives in the value log."""

    key: bytes
    md: bytes
    value_len: int
    value_offset: int
    value_hash: bytes

    def digest(self) -> bytes:
        return entry_digest(self.key, self.value_hash, self.md)


def entries_leaves(entries) -> list[bytes]:
    return leaves_of([(e.key, e.md) for e in entries], [e.value_hash for e in entries])


def leaves_of(keys_mds, value_hashes) -> list[bytes]:
    """leaf_hash(entry_digest(key, value_hash, md)) for each entry, in one tight loop."""
    sha, pack = hashlib.sha256, U16.pack
    return [sha(b"\x00" + sha(pack(len(md)) + md + pack(len(k)) + k + h).digest()).digest()
            for (k, md), h in zip(keys_mds, value_hashes)]


def decode_head(raw: bytes, eh: bytes, where: str = "") -> TxHeader:
    """The header from the first bytes of a record (no entries parsed), given its eh."""
    try:
        tx_id, ts, version, mdlen = HEADER_HEAD.unpack_from(raw, RECORD_PREFIX.size)
        pos = RECORD_PREFIX.size + HEADER_HEAD.size
        txmd = bytes(raw[pos:pos + mdlen])
        nentries, bl_tx_id, bl_root, prev_alh = HEADER_TAIL.unpack_from(raw, pos + mdlen)
    except struct.error as e:
        raise CorruptionError(f"truncated transaction header: {e}", where=where) from e
    return TxHeader(id=tx_id, ts=ts, version=version, md=txmd, nentries=nentries, eh=eh,
                    bl_tx_id=bl_tx_id, bl_root=bl_root, prev_alh=prev_alh)


def encode_record(header: TxHeader, entries: list[TxEntry], alh: bytes) -> bytes:
    pack16, packfix = U16.pack, ENTRY_FIXED.pack
    parts = [pack16(len(md)) + md + pack16(len(key)) + key + packfix(vlen, voff, vhash)
             for key, md, vlen, voff, vhash in entries]
    parts.insert(0, HEADER_HEAD.pack(header.id, header.ts, header.version, len(header.md))
                 + header.md + HEADER_TAIL.pack(header.nentries, header.bl_tx_id,
                                                header.bl_root, header.prev_alh))
    parts.append(alh)
    body = b"".join(parts)
    return RECORD_PREFIX.pack(len(body), zlib.crc32(body)) + body


def decode_record(record: bytes, where: str = "", with_tree: bool = False):
    """Parse and fully re-hash one record (prefix included); CorruptionError if anything is off.

    Returns (header, entries, alh), plus the EntriesTree when `with_tree`.
    """
    try:
        body_len, crc = RECORD_PREFIX.unpack_from(record, 0)
        body = memoryview(record)[8:]
        if body_len != len(body):
            raise CorruptionError(f"record length {body_len} != {len(body)}", where=where)
        if zlib.crc32(body) != crc:
            raise CorruptionError("transaction record checksum mismatch", where=where)
        tx_id, ts, version, mdlen = HEADER_HEAD.unpack_from(body, 0)
        pos = HEADER_HEAD.size
        txmd = bytes(body[pos:pos + mdlen])
        pos += mdlen
        nentries, bl_tx_id, bl_root, prev_alh = HEADER_TAIL.unpack_from(body, pos)
        pos += HEADER_TAIL.size
        entries = []
        unpack16, unpackfix = U16.unpack_from, ENTRY_FIXED.unpack_from
        for _ in range(nentries):
            (n,) = unpack16(body, pos)
            md = bytes(body[pos + 2:pos + 2 + n])
            pos += 2 + n
            (n,) = unpack16(body, pos)
            key = bytes(body[pos + 2:pos + 2 + n])
            pos += 2 + n
            vlen, voff, vhash = unpackfix(body, pos)
            pos += ENTRY_FIXED.size
            entries.append(TxEntry(key, md, vlen, voff, vhash))
        alh = bytes(body[pos:pos + 32])
        if pos + 32 != len(body):
            raise CorruptionError("transaction record has trailing bytes", where=where)
    except struct.error as e:
        raise CorruptionError(f"truncated transaction record: {e}", where=where) from e
    tree = EntriesTree(entries_leaves(entries))
    header = TxHeader(id=tx_id, ts=ts, version=version, md=txmd, nentries=nentries,
                      eh=tree.root, bl_tx_id=bl_tx_id, bl_root=bl_root, prev_alh=prev_alh)
    if header.alh() != alh:
        raise CorruptionError("transaction hash (alh) mismatch", where=where, tx_id=tx_id)
    return (header, entries, alh, tree) if with_tree else (header, entries, alh)
