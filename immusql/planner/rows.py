"""Row values: the bytes stored as the KV value of a table row.

Why: a row's bytes end up inside inclusion proofs, so a client must be able to decode
them with nothing but docs/sql-format.md ("Row values") and a msgpack library. The
format is therefore small and exact: a version byte, then a msgpack map from column id to
the column's value, NULL columns omitted, keys in ascending order (the same row always
encodes to the same bytes). Per-type encodings favour exactness (numeric as its text,
timestamps as integer microseconds, intervals as their three fields).
"""

from __future__ import annotations

import datetime as dt
import uuid as _uuid
from decimal import Decimal

import msgpack

from ..errors import DataCorrupted
from . import numerics as nums
from . import types as T

ROW_FORMAT_VERSION = 1
_EPOCH_DATE = dt.date(2000, 1, 1)
_EPOCH_TS = dt.datetime(1970, 1, 1)
_UTC = dt.timezone.utc
DATE_NEG_INF, DATE_POS_INF = -(1 << 31), (1 << 31) - 1
TS_NEG_INF, TS_POS_INF = -(1 << 63), (1 << 63) - 1


def _enc(v, t: T.SqlType):
    if v is None:
        return None
    if t.element is not None:
        return [_enc(x, t.element) if not isinstance(x, list) else _enc(x, t) for x in v]
    oid = t.oid
    if oid in T.INTEGER_TYPES or oid in T.OID_LIKE or oid == T.BOOL.oid:
        return v
    if oid in T.FLOAT_TYPES:
        return float(v)
    if oid == T.NUMERIC.oid:
        return nums.format_numeric(v)
    if oid in (T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid, T.CHAR.oid, T.JSON.oid,
               T.JSONB.oid):
        return v
    if oid == T.BYTEA.oid:
        return bytes(v)
    if oid == T.DATE.oid:
        if isinstance(v, T.InfiniteDatetime):
            return DATE_POS_INF if v.sign > 0 else DATE_NEG_INF
        return (v - _EPOCH_DATE).days
    if oid in (T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid):
        if isinstance(v, T.InfiniteDatetime):
            return TS_POS_INF if v.sign > 0 else TS_NEG_INF
        if v.tzinfo is not None:
            v = v.astimezone(_UTC).replace(tzinfo=None)
        return (v - _EPOCH_TS) // dt.timedelta(microseconds=1)
    if oid == T.TIME.oid:
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
    if oid == T.TIMETZ.oid:
        off = int((v.utcoffset() or dt.timedelta(0)).total_seconds())
        return [((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond, off]
    if oid == T.INTERVAL.oid:
        return [v.months, v.days, v.microseconds]
    if oid == T.UUID.oid:
        return v.bytes
    if t.category == "E":  # an enum: its label's stable OID (survives RENAME VALUE)
        return v.id
    raise TypeError(f"cannot store a value of type {T.format_type(t)}")


def _time(us: int, tzinfo=None) -> dt.time:
    secs, micro = divmod(us, 1_000_000)
    return dt.time(secs // 3600, secs // 60 % 60, secs % 60, micro, tzinfo=tzinfo)


def _dec(x, t: T.SqlType):
    if x is None:
        return None
    if t.element is not None:
        return [_dec(e, t.element) if not isinstance(e, list) else _dec(e, t) for e in x]
    oid = t.oid
    if oid in T.INTEGER_TYPES or oid in T.OID_LIKE or oid == T.BOOL.oid:
        return x
    if oid in T.FLOAT_TYPES:
        return float(x)
    if oid == T.NUMERIC.oid:
        return nums.norm(Decimal(x))
    if oid in (T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid, T.CHAR.oid, T.JSON.oid,
               T.JSONB.oid):
        return x
    if oid == T.BYTEA.oid:
        return bytes(x)
    if oid == T.DATE.oid:
        if x == DATE_POS_INF:
            return T.POS_INFINITY
        if x == DATE_NEG_INF:
            return T.NEG_INFINITY
        return _EPOCH_DATE + dt.timedelta(days=x)
    if oid in (T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid):
        if x == TS_POS_INF:
            return T.POS_INFINITY
        if x == TS_NEG_INF:
            return T.NEG_INFINITY
        v = _EPOCH_TS + dt.timedelta(microseconds=x)
        return v.replace(tzinfo=_UTC) if oid == T.TIMESTAMPTZ.oid else v
    if oid == T.TIME.oid:
        return _time(x)
    if oid == T.TIMETZ.oid:
        return _time(x[0], dt.timezone(dt.timedelta(seconds=x[1])))
    if oid == T.INTERVAL.oid:
        return T.Interval(x[0], x[1], x[2])
    if oid == T.UUID.oid:
        return _uuid.UUID(bytes=bytes(x))
    if t.category == "E":
        return t.by_id(x)
    raise TypeError(f"cannot decode a value of type {T.format_type(t)}")


def encode_row(values: dict, types: dict) -> bytes:
    """Version byte 0x01 + msgpack map {column_id: value} (NULLs omitted, ids ascending)."""
    m = {}
    for cid in sorted(values):
        v = values[cid]
        if v is None:
            continue
        m[cid] = _enc(v, types[cid])
    return bytes([ROW_FORMAT_VERSION]) + msgpack.packb(m, use_bin_type=True,
                                                        use_single_float=False)


_PASS_THROUGH = (T.INTEGER_TYPES | T.OID_LIKE
                 | {T.BOOL.oid, T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid,
                    T.CHAR.oid, T.JSON.oid, T.JSONB.oid})


def _value_decoder(t: T.SqlType):
    """x -> value for one column type; None when msgpack's value already is the value."""
    if t.element is None and t.oid in _PASS_THROUGH:
        return None
    if t.element is None and t.oid in T.FLOAT_TYPES:
        return float
    return lambda x: _dec(x, t)


def row_decoder(ids: list, types: dict):
    """A function stored row value -> tuple of the columns `ids`, with the per-column
    decoding chosen once per table instead of once per value (scans decode every row)."""
    decoders = [_value_decoder(types[cid]) for cid in ids]
    if all(d is None for d in decoders):
        def convert(m):
            return tuple(map(m.get, ids))
    else:
        pairs = list(zip(ids, decoders))

        def convert(m):
            return tuple(x if (x := m.get(cid)) is None or d is None else d(x)
                         for cid, d in pairs)
    unpackb = msgpack.unpackb

    def decode(data: bytes) -> tuple:
        if not data or data[0] != ROW_FORMAT_VERSION:
            raise DataCorrupted(f"unknown row format version {data[:1].hex() or 'empty'}")
        try:
            m = unpackb(memoryview(data)[1:], raw=False, strict_map_key=False)
        except Exception as e:
            raise DataCorrupted(f"undecodable row value: {e}") from None
        if not isinstance(m, dict):
            raise DataCorrupted("row value is not a map")
        return convert(m)
    return decode


def decode_row(data: bytes, types: dict) -> dict:
    """Every column id of `types` -> value (None for omitted NULLs). Ids in the data but
    not in `types` (dropped columns) are ignored."""
    if not data or data[0] != ROW_FORMAT_VERSION:
        raise DataCorrupted(f"unknown row format version {data[:1].hex() or 'empty'}")
    try:
        m = msgpack.unpackb(data[1:], raw=False, strict_map_key=False)
    except Exception as e:
        raise DataCorrupted(f"undecodable row value: {e}") from None
    if not isinstance(m, dict):
        raise DataCorrupted("row value is not a map")
    out = {cid: None for cid in types}
    for cid, x in m.items():
        t = types.get(cid)
        if t is not None:
            out[cid] = _dec(x, t)
    return out
