"""Order-preserving binary encoding of index and primary-key values.

Why: the KV store keeps keys sorted by their bytes, so an index scan returns rows in
PostgreSQL's ORDER BY order only if the bytes of encoded keys sort exactly as the values
do: NULLs last (ascending), NaN above every number, 1.5 < 10 < 100.25 for numerics of any
scale, ('a', 'b') < ('ab', '') for composite keys. The exact layout is in
docs/sql-format.md ("Keys") so an independent verifier can decode keys from proofs.

Per column: one tag byte (0x01 value, 0x02 NULL), then the type's encoding. A DESC column
has every byte of its encoding (tag included) inverted, which also gives PostgreSQL's
default NULLS FIRST for DESC. Equal values (in PostgreSQL's sense) encode to equal bytes
for numeric (1.5 = 1.50: decoded with minimal scale), float (-0 = 0; all NaNs equal) and
character(n) (trailing blanks ignored: decoded without them); intervals keep their three
fields after the span, so '1 mon' and '30 days' sort together but stay distinct keys.
json/jsonb and timetz are not indexable here (FeatureNotSupported).
"""

from __future__ import annotations

import datetime as dt
import struct
import uuid as _uuid
from decimal import Decimal

from ..errors import FeatureNotSupported
from . import numerics as nums
from . import types as T

TAG_VALUE = 0x01
TAG_NULL = 0x02
_I64 = 1 << 63
_EPOCH_DATE = dt.date(2000, 1, 1)
_EPOCH_TS = dt.datetime(1970, 1, 1)
_DATE_NEG_INF = -(1 << 31)
_DATE_POS_INF = (1 << 31) - 1
_TS_NEG_INF = -(1 << 63)
_TS_POS_INF = (1 << 63) - 1
_UTC = dt.timezone.utc


def _u64(v: int) -> bytes:
    return (v + _I64).to_bytes(8, "big")


def _from_u64(b: bytes) -> int:
    return int.from_bytes(b, "big") - _I64


def _escape(b: bytes) -> bytes:
    return b.replace(b"\x00", b"\x00\xff") + b"\x00\x01"


def _unescape(data: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while True:
        i = data.index(b"\x00", pos)
        out += data[pos:i]
        nxt = data[i + 1]
        if nxt == 0xFF:
            out.append(0)
            pos = i + 2
        elif nxt == 0x01:
            return bytes(out), i + 2
        else:
            raise ValueError("bad escaped key component")


def _float(v: float) -> bytes:
    if v != v:
        bits = 0x7FF8000000000000
    else:
        bits = struct.unpack(">Q", struct.pack(">d", v + 0.0))[0]
    if bits & (1 << 63):
        bits ^= 0xFFFFFFFFFFFFFFFF
    else:
        bits |= 1 << 63
    return bits.to_bytes(8, "big")


def _from_float(b: bytes) -> float:
    bits = int.from_bytes(b, "big")
    if bits & (1 << 63):
        bits &= ~(1 << 63)
    else:
        bits ^= 0xFFFFFFFFFFFFFFFF
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]


# numeric: class byte, then for finite nonzero: 4-byte exponent + digits (d+1) + 0x00
_N_NEG_INF, _N_NEG, _N_ZERO, _N_POS, _N_POS_INF, _N_NAN = range(6)


def _numeric(d: Decimal) -> bytes:
    if d.is_nan():
        return bytes([_N_NAN])
    if d.is_infinite():
        return bytes([_N_POS_INF if d > 0 else _N_NEG_INF])
    if d.is_zero():
        return bytes([_N_ZERO])
    sign, digits, _ = d.as_tuple()
    digs = list(digits)
    while digs and digs[0] == 0:
        digs.pop(0)
    while digs and digs[-1] == 0:
        digs.pop()
    body = ((d.adjusted() + (1 << 31)).to_bytes(4, "big") + bytes(x + 1 for x in digs)
            + b"\x00")
    if sign:
        return bytes([_N_NEG]) + bytes(0xFF - x for x in body)
    return bytes([_N_POS]) + body


def _from_numeric(data: bytes, pos: int) -> tuple[Decimal, int]:
    cls = data[pos]
    pos += 1
    if cls == _N_NAN:
        return nums.NAN, pos
    if cls == _N_POS_INF:
        return nums.DEC_INF, pos
    if cls == _N_NEG_INF:
        return nums.DEC_NEG_INF, pos
    if cls == _N_ZERO:
        return Decimal(0), pos
    neg = cls == _N_NEG
    end = data.index(b"\xff" if neg else b"\x00", pos + 4)
    body = data[pos:end]
    if neg:
        body = bytes(0xFF - x for x in body)
    exp = int.from_bytes(body[:4], "big") - (1 << 31)
    digits = tuple(x - 1 for x in body[4:])
    value = Decimal((1 if neg else 0, digits, exp - len(digits) + 1))
    return nums.norm(value), end + 1


def _date_int(v) -> int:
    if isinstance(v, T.InfiniteDatetime):
        return _DATE_POS_INF if v.sign > 0 else _DATE_NEG_INF
    return (v - _EPOCH_DATE).days


def _ts_int(v) -> int:
    if isinstance(v, T.InfiniteDatetime):
        return _TS_POS_INF if v.sign > 0 else _TS_NEG_INF
    if v.tzinfo is not None:
        v = v.astimezone(_UTC).replace(tzinfo=None)
    return (v - _EPOCH_TS) // dt.timedelta(microseconds=1)


def _encode_value(v, t: T.SqlType) -> bytes:
    if t.element is not None:
        return _encode_array(v, t.element)
    oid = t.oid
    if oid in T.INTEGER_TYPES or oid in T.OID_LIKE:
        return _u64(v)
    if oid in T.FLOAT_TYPES:
        return _float(v)
    if oid == T.NUMERIC.oid:
        return _numeric(v)
    if oid in (T.TEXT.oid, T.VARCHAR.oid, T.NAME.oid, T.CHAR.oid):
        return _escape(v.encode())
    if oid == T.BPCHAR.oid:
        return _escape(v.rstrip(" ").encode())
    if oid == T.BYTEA.oid:
        return _escape(bytes(v))
    if oid == T.BOOL.oid:
        return b"\x01" if v else b"\x00"
    if oid == T.DATE.oid:
        return _u64(_date_int(v))
    if oid in (T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid):
        return _u64(_ts_int(v))
    if oid == T.TIME.oid:
        return _u64(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)
    if oid == T.INTERVAL.oid:
        span = v.span()
        return ((span + (1 << 127)).to_bytes(16, "big") + (v.months + (1 << 31)).to_bytes(
            4, "big") + (v.days + (1 << 31)).to_bytes(4, "big") + _u64(v.microseconds))
    if oid == T.UUID.oid:
        return v.bytes
    if t.category == "E":  # enum: its sort order (key order), then its label's OID
        return _float(v.order) + _u64(v.id)
    raise FeatureNotSupported(f"type {T.format_type(t)} cannot be used in an index key")


def _encode_array(v: list, elem: T.SqlType) -> bytes:
    flat: list = []
    dims: list = []

    def walk(a, depth):
        if len(dims) <= depth:
            dims.append(len(a))
        for x in a:
            if isinstance(x, list):
                walk(x, depth + 1)
            else:
                flat.append(x)
    walk(v, 0)
    if not v:
        dims = []
    out = bytearray()
    for x in flat:
        if x is None:
            out.append(TAG_NULL)
        else:
            out.append(TAG_VALUE)
            out += _encode_value(x, elem)
    out.append(0x00)
    out.append(len(dims))
    for n in dims:
        out += n.to_bytes(4, "big")
    return bytes(out)


def _decode_array(data: bytes, pos: int, elem: T.SqlType):
    flat = []
    while True:
        tag = data[pos]
        pos += 1
        if tag == 0x00:
            break
        if tag == TAG_NULL:
            flat.append(None)
        else:
            x, pos = _decode_value(data, pos, elem)
            flat.append(x)
    ndims = data[pos]
    pos += 1
    dims = [int.from_bytes(data[pos + 4 * i:pos + 4 * i + 4], "big") for i in range(ndims)]
    pos += 4 * ndims
    it = iter(flat)

    def build(level):
        if level == len(dims) - 1:
            return [next(it) for _ in range(dims[level])]
        return [build(level + 1) for _ in range(dims[level])]
    return (build(0) if dims else []), pos


def _decode_value(data: bytes, pos: int, t: T.SqlType):
    if t.element is not None:
        return _decode_array(data, pos, t.element)
    oid = t.oid
    if oid in T.INTEGER_TYPES or oid in T.OID_LIKE:
        return _from_u64(data[pos:pos + 8]), pos + 8
    if oid in T.FLOAT_TYPES:
        return _from_float(data[pos:pos + 8]), pos + 8
    if oid == T.NUMERIC.oid:
        return _from_numeric(data, pos)
    if oid in (T.TEXT.oid, T.VARCHAR.oid, T.NAME.oid, T.CHAR.oid, T.BPCHAR.oid):
        b, pos = _unescape(data, pos)
        return b.decode(), pos
    if oid == T.BYTEA.oid:
        return _unescape(data, pos)
    if oid == T.BOOL.oid:
        return data[pos] == 1, pos + 1
    if oid == T.DATE.oid:
        n = _from_u64(data[pos:pos + 8])
        if n == _DATE_POS_INF:
            return T.POS_INFINITY, pos + 8
        if n == _DATE_NEG_INF:
            return T.NEG_INFINITY, pos + 8
        return _EPOCH_DATE + dt.timedelta(days=n), pos + 8
    if oid in (T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid):
        n = _from_u64(data[pos:pos + 8])
        if n == _TS_POS_INF:
            return T.POS_INFINITY, pos + 8
        if n == _TS_NEG_INF:
            return T.NEG_INFINITY, pos + 8
        v = _EPOCH_TS + dt.timedelta(microseconds=n)
        return (v.replace(tzinfo=_UTC) if oid == T.TIMESTAMPTZ.oid else v), pos + 8
    if oid == T.TIME.oid:
        n = _from_u64(data[pos:pos + 8])
        secs, us = divmod(n, 1_000_000)
        return dt.time(secs // 3600, secs // 60 % 60, secs % 60, us), pos + 8
    if oid == T.INTERVAL.oid:
        p = pos + 16
        months = int.from_bytes(data[p:p + 4], "big") - (1 << 31)
        days = int.from_bytes(data[p + 4:p + 8], "big") - (1 << 31)
        us = _from_u64(data[p + 8:p + 16])
        return T.Interval(months, days, us), p + 16
    if oid == T.UUID.oid:
        return _uuid.UUID(bytes=bytes(data[pos:pos + 16])), pos + 16
    if t.category == "E":
        return t.by_id(_from_u64(data[pos + 8:pos + 16])), pos + 16
    raise FeatureNotSupported(f"type {T.format_type(t)} cannot be used in an index key")


def _invert(b: bytes) -> bytes:
    return bytes(0xFF - x for x in b)


def encode_key(values: tuple, types: tuple, descending: tuple | None = None) -> bytes:
    """Concatenated column encodings; bytewise order = PostgreSQL ORDER BY order."""
    out = bytearray()
    for i, (v, t) in enumerate(zip(values, types)):
        part = bytes([TAG_NULL]) if v is None else bytes([TAG_VALUE]) + _encode_value(v, t)
        if descending is not None and descending[i]:
            part = _invert(part)
        out += part
    return bytes(out)


def decode_key(data: bytes, types: tuple, descending: tuple | None = None) -> tuple:
    """Inverse of encode_key (numeric/character(n)/float values come back canonical)."""
    out = []
    pos = 0
    buf = bytes(data)
    for i, t in enumerate(types):
        desc = descending is not None and descending[i]
        if desc:
            # decode from an inverted copy of the remainder: encodings are self-delimiting
            rest = _invert(buf[pos:])
            tag = rest[0]
            if tag == TAG_NULL:
                out.append(None)
                pos += 1
                continue
            v, used = _decode_value(rest, 1, t)
            out.append(v)
            pos += used
        else:
            tag = buf[pos]
            if tag == TAG_NULL:
                out.append(None)
                pos += 1
                continue
            v, pos = _decode_value(buf, pos + 1, t)
            out.append(v)
    if pos != len(buf):
        raise ValueError("trailing bytes after key")
    return tuple(out)


def key_successor(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with prefix (for range scans)."""
    b = bytearray(prefix)
    while b and b[-1] == 0xFF:
        b.pop()
    if not b:
        return b""
    b[-1] += 1
    return bytes(b)
