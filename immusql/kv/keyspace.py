"""How the public API's keys and values are laid out as stored bytes.

The first byte of a stored key says which key space it belongs to; the first byte of a
stored value says what it holds. Proofs carry the stored bytes, so a verifier decodes them
with these rules (documented in docs/format.md)::

    plain key      0x00 || key
    sorted set     0x01 || u64(len(set)) || set || score(8) || u64(len(key)) || key
                        || u64(at_tx)                                   (value: empty)
    plain value    0x00 || value
    reference      0x01 || u64(at_tx) || 0x00 || referenced key        (at_tx 0 = latest)

`score` is the IEEE-754 double made byte-orderable: sign bit flipped for positive numbers,
all bits inverted for negative ones, so stored keys sort by score.
"""

from __future__ import annotations

import math
import struct

PLAIN = b"\x00"
ZSET = b"\x01"
VALUE = b"\x00"
REFERENCE = b"\x01"

_U64 = struct.Struct(">Q")
_F64 = struct.Struct(">d")
KEYSPACE_OVERHEAD = 1  # bytes a plain key gains when stored
ZSET_OVERHEAD = 1 + 8 + 8 + 8 + 8


def plain_key(key: bytes) -> bytes:
    return PLAIN + key


def plain_value(value: bytes) -> bytes:
    return VALUE + value


def reference_value(target: bytes, at_tx: int) -> bytes:
    return REFERENCE + _U64.pack(at_tx) + PLAIN + target


def parse_reference(stored_value: bytes) -> tuple[bytes, int]:
    """(referenced user key, at_tx) of a stored reference value."""
    (at_tx,) = _U64.unpack_from(stored_value, 1)
    return stored_value[10:], at_tx


def encode_score(score: float) -> bytes:
    if math.isnan(score):
        raise ValueError("a sorted-set score cannot be NaN")
    (bits,) = _U64.unpack(_F64.pack(score + 0.0))  # + 0.0 folds -0.0 into 0.0
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 1 << 63
    return _U64.pack(bits)


def decode_score(raw: bytes) -> float:
    (bits,) = _U64.unpack(raw)
    bits = bits ^ (1 << 63) if bits >> 63 else bits ^ 0xFFFFFFFFFFFFFFFF
    return _F64.unpack(_U64.pack(bits))[0]


def zset_prefix(set_key: bytes) -> bytes:
    return ZSET + _U64.pack(len(set_key)) + set_key


def zset_key(set_key: bytes, score: float, key: bytes, at_tx: int) -> bytes:
    return zset_prefix(set_key) + encode_score(score) + _U64.pack(len(key)) + key \
        + _U64.pack(at_tx)


def parse_zset_key(stored_key: bytes) -> tuple[bytes, float, bytes, int]:
    """(set, score, member key, at_tx) of a stored sorted-set key."""
    (n,) = _U64.unpack_from(stored_key, 1)
    set_key = stored_key[9:9 + n]
    pos = 9 + n
    score = decode_score(stored_key[pos:pos + 8])
    (m,) = _U64.unpack_from(stored_key, pos + 8)
    key = stored_key[pos + 16:pos + 16 + m]
    (at_tx,) = _U64.unpack_from(stored_key, pos + 16 + m)
    return set_key, score, key, at_tx
