"""Golden values for the hash preimages of PROOFS.md sections 1-4.

Each value is pinned twice: as a literal (so a change of format is a visible diff) and as a
recomputation straight from the spec's byte layout with struct and hashlib.
"""

from __future__ import annotations

import hashlib
import struct

from immusql.kv import merkle
from immusql.kv.hashing import (
    EMPTY_HASH,
    ZERO_HASH,
    entry_digest,
    leaf_hash,
    node_hash,
    sha256,
)
from immusql.kv.header import TxHeader


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def test_empty_and_zero_hash():
    assert EMPTY_HASH.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert ZERO_HASH == bytes(32)
    assert sha256(b"abc").hex() == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_entry_digest():
    want = H(u16(0) + b"" + u16(4) + b"key1" + H(b"value1"))
    assert want.hex() == "057c2029dd6feccd1bc4d8f3e721512bcb0d37f1704b4c45aab76f112f33fa34"
    assert entry_digest(b"key1", H(b"value1"), b"") == want
    assert entry_digest(b"key1", H(b"value1")) == want
    deleted = H(u16(1) + b"\x00" + u16(3) + b"abc" + H(b""))
    assert deleted.hex() == "c04c748ab7988b23298f12c7cce95ade72b6640f251753798aa73fdd8c4f249c"
    assert entry_digest(b"abc", H(b""), b"\x00") == deleted
    # the lengths keep key and md apart: moving a byte between them changes the digest
    assert entry_digest(b"ab", H(b"v"), b"\x01") != entry_digest(b"\x01ab", H(b"v"), b"")
    long_key = bytes(range(256)) * 3
    assert entry_digest(long_key, H(b"x"), b"") == H(u16(0) + u16(768) + long_key + H(b"x"))


def test_leaf_and_node_hash():
    assert leaf_hash(bytes(32)) == H(b"\x00" + bytes(32))
    assert leaf_hash(bytes(32)).hex() == \
        "7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9"
    left, right = bytes(32), b"\xff" * 32
    assert node_hash(left, right) == H(b"\x01" + left + right)
    assert node_hash(left, right).hex() == \
        "bc6b943b820c449acf880d293c216a24a8066b153f87f2361fae2beda3a72641"
    assert node_hash(left, right) != node_hash(right, left)


def _inner(ts, txmd, nentries, eh, bl_tx_id, bl_root):
    return H(u64(ts) + u16(1) + u16(len(txmd)) + txmd + u32(nentries) + eh + u64(bl_tx_id)
             + bl_root)


def test_header_alh_from_the_spec_layout():
    ts = 1_700_000_000_000_000
    eh1 = H(b"\x00" + H(u16(0) + u16(4) + b"key1" + H(b"value1")))  # one entry: eh = its leaf
    tx1 = TxHeader(id=1, ts=ts, version=1, md=b"", nentries=1, eh=eh1, bl_tx_id=0,
                   bl_root=bytes(32), prev_alh=H(b""))
    tx1.validate()
    inner1 = _inner(ts, b"", 1, eh1, 0, bytes(32))
    alh1 = H(u64(1) + H(b"") + inner1)
    assert tx1.inner_hash() == inner1
    assert tx1.alh() == alh1
    assert alh1.hex() == "7522620719e7b2b593a452bf1a699c3386ca70ed5b7644633646d224dfc05a44"

    # tx 2: metadata, three entries, and bl_root = the one-leaf tree over alh(1)
    leaves = [H(b"\x00" + H(u16(0) + u16(1) + k + H(b"v"))) for k in (b"a", b"b", b"c")]
    eh2 = H(b"\x01" + H(b"\x01" + leaves[0] + leaves[1]) + leaves[2])
    assert merkle.root(leaves) == eh2
    bl_root = H(b"\x00" + alh1)
    tx2 = TxHeader(id=2, ts=ts + 5, version=1, md=b"\x05\xa0", nentries=3, eh=eh2,
                   bl_tx_id=1, bl_root=bl_root, prev_alh=alh1)
    tx2.validate()
    inner2 = _inner(ts + 5, b"\x05\xa0", 3, eh2, 1, bl_root)
    assert tx2.alh() == H(u64(2) + alh1 + inner2)
