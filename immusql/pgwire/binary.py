"""PostgreSQL 15's binary wire formats (typsend / typreceive) for immusql's values.

Why a module of its own: drivers that ask for binary results or send binary parameters
(asyncpg, JDBC, Npgsql, psycopg's binary mode) decode the bytes exactly as PostgreSQL
lays them out, so every layout here follows PostgreSQL's send/recv function of the type
and is compared byte for byte with a real PostgreSQL in tests/pgwire/test_codecs.py.

`raw_encoder(t)` gives a function of one non-NULL value (NULL is the caller's: codecs.py
adds the check once per column); `raw_decoder(t)` gives a function of the bytes of one
non-NULL value, raising `LengthError` when the bytes are shorter or longer than the type
needs (the caller words it: PostgreSQL says "in bind parameter N" or "in array element
N"). Types without a binary form raise FeatureNotSupported when the function is built.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import struct
import uuid as _uuid
from decimal import ROUND_DOWN, Decimal

from .. import errors
from ..planner import jsonvals
from ..planner import numerics as nums
from ..planner import types as T
from ..planner.types import NEG_INFINITY, POS_INFINITY, InfiniteDatetime, Interval

_I4 = struct.Struct("!i")
_I8 = struct.Struct("!q")
_TIMETZ = struct.Struct("!qi")
_INTERVAL = struct.Struct("!qii")  # time (µs), days, months: interval_send's order
_NUMERIC_HEAD = struct.Struct("!HhHH")  # ndigits, weight, sign, dscale
_ARRAY_HEAD = struct.Struct("!iiI")  # ndim, has-null flag, element type oid
_DIM = struct.Struct("!ii")  # size, lower bound

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
UTC = dt.timezone.utc
EPOCH_ORDINAL = dt.date(2000, 1, 1).toordinal()  # PostgreSQL's epoch for dates and times
USECS_PER_DAY = 86_400_000_000
FIRST_AD_DAY = dt.date(1, 1, 1).toordinal() - EPOCH_ORDINAL  # 0001-01-01 in PG days
LAST_DAY = dt.date(9999, 12, 31).toordinal() - EPOCH_ORDINAL
# PostgreSQL's own limits (datatype/timestamp.h): outside them its recv functions refuse.
PG_DATE_MIN, PG_DATE_END = -2451545, 2147483494 - 2451545
PG_TIMESTAMP_MIN, PG_TIMESTAMP_END = -211813488000000000, 9223371331200000000
TZDISP_LIMIT = 16 * 3600  # timetz zones must be within +/- 15:59:59
MAXDIM = 6
NUMERIC_POS, NUMERIC_NEG, NUMERIC_NAN = 0x0000, 0x4000, 0xC000
NUMERIC_PINF, NUMERIC_NINF = 0xD000, 0xF000
NUMERIC_DSCALE_MASK = 0x3FFF
FIRST_GENBKI_OID = 10000  # array_recv complains about a mismatch only between built-ins


class LengthError(Exception):
    """The bytes of one value are too short (`short`) or too long for its type."""

    def __init__(self, short: bool):
        super().__init__("short" if short else "long")
        self.short = short


def insufficient_data() -> errors.Error:
    # PostgreSQL raises this one as 08P01 from pq_copymsgbytes; 22P03 keeps the
    # connection usable and names the real problem (bad data, not bad framing).
    return errors.InvalidBinaryRepresentation("insufficient data left in message")


def decode_utf8(data) -> str:
    """Client bytes as text, refused like PostgreSQL's pg_verify_mbstr: invalid UTF-8 or
    a NUL byte is 22021 naming the offending bytes (`0xc3 0x28`)."""
    try:
        s = str(data, "utf-8")
    except UnicodeDecodeError as e:
        bad = e.start
        nul = bytes(data).find(0, 0, bad)
        raise _bad_encoding(bytes(data), nul if nul >= 0 else bad) from None
    if "\x00" in s:
        raise _bad_encoding(bytes(data), bytes(data).index(0))
    return s


def _bad_encoding(data: bytes, pos: int) -> errors.Error:
    lead = data[pos]
    n = 2 if lead & 0xE0 == 0xC0 else 3 if lead & 0xF0 == 0xE0 else \
        4 if lead & 0xF8 == 0xF0 else 1  # pg_utf_mblen
    shown = " ".join(f"0x{b:02x}" for b in data[pos:pos + n])
    return errors.CharacterNotInRepertoire(
        f'invalid byte sequence for encoding "UTF8": {shown}')


# ----------------------------------------------------------------------- scalars out --

def _enc_bool(v) -> bytes:
    return b"\x01" if v else b"\x00"


def _enc_str(v: str) -> bytes:
    return v.encode()


def _enc_char(v: str) -> bytes:
    # "char" is one byte; PostgreSQL keeps the first byte of what it was given
    return v.encode()[:1] or b"\x00"


def _enc_jsonb(v: str) -> bytes:
    return b"\x01" + v.encode()  # jsonb_send: format version 1, then the text


def _enc_void(v) -> bytes:
    return b""


_DATE_PINF, _DATE_NINF = _I4.pack(INT32_MAX), _I4.pack(INT32_MIN)
_TS_PINF, _TS_NINF = _I8.pack(INT64_MAX), _I8.pack(INT64_MIN)


def _enc_date(v, _pack=_I4.pack, _epoch=EPOCH_ORDINAL) -> bytes:
    if v.__class__ is InfiniteDatetime:
        return _DATE_PINF if v.sign > 0 else _DATE_NINF
    return _pack(v.toordinal() - _epoch)


def _enc_timestamp(v, _pack=_I8.pack, _epoch=EPOCH_ORDINAL) -> bytes:
    if v.__class__ is InfiniteDatetime:
        return _TS_PINF if v.sign > 0 else _TS_NINF
    return _pack((((v.toordinal() - _epoch) * 86400 + v.hour * 3600 + v.minute * 60
                   + v.second) * 1_000_000) + v.microsecond)


def _enc_timestamptz(v, _utc=UTC) -> bytes:
    if v.__class__ is not InfiniteDatetime and v.tzinfo is not _utc:
        v = v.astimezone(_utc)  # the engine keeps UTC; anything else is converted
    return _enc_timestamp(v)


def _enc_time(v, _pack=_I8.pack) -> bytes:
    return _pack(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)


def _enc_timetz(v, _pack=_TIMETZ.pack) -> bytes:
    off = v.utcoffset()
    zone = -(off.days * 86400 + off.seconds) if off else 0  # seconds *west* of UTC
    return _pack(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond,
                 zone)


def _enc_interval(v: Interval, _pack=_INTERVAL.pack) -> bytes:
    return _pack(v.microseconds, v.days, v.months)


_NUMERIC_NAN_BYTES = _NUMERIC_HEAD.pack(0, 0, NUMERIC_NAN, 0)
# numeric_send reads dscale through the short-header macro, which sees bit 0x1000 of the
# infinities' header as dscale 32: PostgreSQL really sends 32 there.
_NUMERIC_PINF_BYTES = _NUMERIC_HEAD.pack(0, 0, NUMERIC_PINF, 32)
_NUMERIC_NINF_BYTES = _NUMERIC_HEAD.pack(0, 0, NUMERIC_NINF, 32)


def _enc_numeric(v: Decimal, _head=_NUMERIC_HEAD.pack) -> bytes:
    """numeric_send: base-10000 digits aligned on the decimal point, no leading or
    trailing zero digits, weight = position of the first digit, dscale = shown scale."""
    if not v.is_finite():
        if v.is_nan():
            return _NUMERIC_NAN_BYTES
        return _NUMERIC_NINF_BYTES if v.is_signed() else _NUMERIC_PINF_BYTES
    s = format(v, "f")
    sign = NUMERIC_POS
    if s[0] == "-":
        sign = NUMERIC_NEG
        s = s[1:]
    ip, _, fp = s.partition(".")
    dscale = len(fp)
    frac = fp + "0" * (-dscale % 4)  # whole base-10000 digits after the point
    if len(ip) + len(frac) <= 64:
        # short: arithmetic on one int is cheaper than slicing (quadratic when long)
        coef = int(ip + frac)
        if not coef:
            return _head(0, 0, NUMERIC_POS, dscale)  # zero: no digits, never negative
        groups = []
        while coef:
            coef, r = divmod(coef, 10000)
            groups.append(r)
        weight = len(groups) - len(frac) // 4 - 1
        groups.reverse()
    else:
        ip = ip.lstrip("0")
        ip = "0" * (-len(ip) % 4) + ip
        digits = ip + frac
        groups = [int(digits[i:i + 4]) for i in range(0, len(digits), 4)]
        weight = len(ip) // 4 - 1
        lead = 0
        while lead < len(groups) and not groups[lead]:
            lead += 1
        if lead == len(groups):
            return _head(0, 0, NUMERIC_POS, dscale)
        del groups[:lead]
        weight -= lead
    while not groups[-1]:
        groups.pop()
    n = len(groups)
    return struct.pack(f"!HhHH{n}H", n, weight, sign, dscale, *groups)


# ------------------------------------------------------------------------ scalars in --

def _fixed(size: int, unpack):
    """Decoder of a fixed-size value: exactly `size` bytes, else LengthError."""
    def decode(data):
        if len(data) != size:
            raise LengthError(len(data) < size)
        return unpack(data)[0]
    return decode


def _dec_bool(data) -> bool:
    if len(data) != 1:
        raise LengthError(not data)
    return data[0] != 0


def _dec_char(data) -> str:
    if len(data) != 1:
        raise LengthError(not data)
    b = data[0]
    if b >= 0x80:
        raise errors.FeatureNotSupported('"char" values with the high bit set are not '
                                         'supported')
    return chr(b) if b else ""


def _dec_name(data) -> str:
    if len(data) >= 64:  # namerecv refuses what namein would cut
        raise errors.NameTooLong("identifier too long",
                                 detail="Identifier must be less than 64 characters.")
    return decode_utf8(data)


def _dec_bytea(data) -> bytes:
    return bytes(data)


def _dec_json(data) -> str:
    return jsonvals.validate_json(decode_utf8(data))


def _dec_jsonb(data) -> str:
    if not data:
        raise LengthError(True)
    if data[0] != 1:
        raise errors.InvalidBinaryRepresentation(
            f"unsupported jsonb version number {data[0]}")
    return jsonvals.normalize_jsonb(decode_utf8(data[1:]))


def _dec_uuid(data) -> _uuid.UUID:
    if len(data) != 16:
        raise LengthError(len(data) < 16)
    return _uuid.UUID(bytes=bytes(data))


def _dec_date(data):
    if len(data) != 4:
        raise LengthError(len(data) < 4)
    (d,) = _I4.unpack(data)
    if d == INT32_MAX:
        return POS_INFINITY
    if d == INT32_MIN:
        return NEG_INFINITY
    if not PG_DATE_MIN <= d < PG_DATE_END:
        raise errors.DatetimeFieldOverflow("date out of range")
    _check_python_range(d)
    return dt.date.fromordinal(d + EPOCH_ORDINAL)


def _check_python_range(day: int) -> None:
    """Days PostgreSQL holds but Python's date cannot (BC, after 9999)."""
    if day < FIRST_AD_DAY:
        raise errors.FeatureNotSupported("BC dates are not supported")
    if day > LAST_DAY:
        raise errors.FeatureNotSupported("dates after 9999-12-31 are not supported")


def _timestamp(us: int, tzinfo):
    if us == INT64_MAX:
        return POS_INFINITY
    if us == INT64_MIN:
        return NEG_INFINITY
    if not PG_TIMESTAMP_MIN <= us < PG_TIMESTAMP_END:
        raise errors.DatetimeFieldOverflow("timestamp out of range")
    days, rem = divmod(us, USECS_PER_DAY)
    _check_python_range(days)
    secs, micro = divmod(rem, 1_000_000)
    d = dt.date.fromordinal(days + EPOCH_ORDINAL)
    return dt.datetime(d.year, d.month, d.day, secs // 3600, secs // 60 % 60, secs % 60,
                       micro, tzinfo)


def _dec_timestamp(data):
    if len(data) != 8:
        raise LengthError(len(data) < 8)
    return _timestamp(_I8.unpack(data)[0], None)


def _dec_timestamptz(data):
    if len(data) != 8:
        raise LengthError(len(data) < 8)
    return _timestamp(_I8.unpack(data)[0], UTC)


def _time(us: int, tzinfo=None) -> dt.time:
    if not 0 <= us <= USECS_PER_DAY:
        raise errors.DatetimeFieldOverflow("time out of range")
    if us == USECS_PER_DAY:
        raise errors.FeatureNotSupported("time value 24:00:00 is not supported")
    secs, micro = divmod(us, 1_000_000)
    return dt.time(secs // 3600, secs // 60 % 60, secs % 60, micro, tzinfo)


def _dec_time(data) -> dt.time:
    if len(data) != 8:
        raise LengthError(len(data) < 8)
    return _time(_I8.unpack(data)[0])


def _dec_timetz(data) -> dt.time:
    if len(data) != 12:
        raise LengthError(len(data) < 12)
    us, zone = _TIMETZ.unpack(data)
    t = _time(us)
    if not -TZDISP_LIMIT < zone < TZDISP_LIMIT:
        raise nums.InvalidTimeZoneDisplacement("time zone displacement out of range")
    return t.replace(tzinfo=dt.timezone(dt.timedelta(seconds=-zone)))


def _dec_interval(data) -> Interval:
    if len(data) != 16:
        raise LengthError(len(data) < 16)
    us, days, months = _INTERVAL.unpack(data)
    return Interval(months, days, us)


_NUMERIC_SPECIAL_IN = {NUMERIC_NAN: nums.NAN, NUMERIC_PINF: nums.DEC_INF,
                       NUMERIC_NINF: nums.DEC_NEG_INF}


def _dec_numeric(data) -> Decimal:
    """numeric_recv: checks sign, dscale and digits, then truncates to dscale."""
    size = len(data)
    if size < 8:
        raise LengthError(True)
    n, weight, sign, dscale = _NUMERIC_HEAD.unpack_from(data)
    if size != 8 + 2 * n:
        raise LengthError(size < 8 + 2 * n)
    if sign not in (NUMERIC_POS, NUMERIC_NEG, NUMERIC_NAN, NUMERIC_PINF, NUMERIC_NINF):
        raise errors.InvalidBinaryRepresentation('invalid sign in external "numeric" value')
    if dscale & NUMERIC_DSCALE_MASK != dscale:
        raise errors.InvalidBinaryRepresentation(
            'invalid scale in external "numeric" value')
    digits = struct.unpack_from(f"!{n}H", data, 8)
    if any(d >= 10000 for d in digits):
        raise errors.InvalidBinaryRepresentation(
            'invalid digit in external "numeric" value')
    if sign in _NUMERIC_SPECIAL_IN:
        return _NUMERIC_SPECIAL_IN[sign]
    text = "".join(["%04d" % d for d in digits]) or "0"
    value = Decimal(f"{'-' if sign == NUMERIC_NEG else ''}{text}E{(weight + 1 - n) * 4}")
    value = value.quantize(Decimal((0, (1,), -dscale)), rounding=ROUND_DOWN,
                           context=nums.EXACT)
    if value and value.adjusted() >= 131072:  # NUMERIC_WEIGHT_MAX digits before the point
        raise errors.NumericValueOutOfRange("value overflows numeric format")
    return nums.norm(value)


# --------------------------------------------------------------------------- arrays --

def _array_encoder(elem: T.SqlType):
    """array_send: ndim, has-null flag, element oid, (size, lower bound 1) per dimension,
    then each element as int32 length (-1: NULL) and its bytes, in row-major order."""
    enc = raw_encoder(elem)
    elem_oid = elem.oid
    empty = _ARRAY_HEAD.pack(0, 0, elem_oid)
    head_1d = (_ARRAY_HEAD.pack(1, 0, elem_oid), _ARRAY_HEAD.pack(1, 1, elem_oid))
    pack_len, pack_dim = _I4.pack, _DIM.pack
    null = _I4.pack(-1)

    def encode(v: list) -> bytes:
        if not v:
            return empty
        if v[0].__class__ is not list:
            flat, dims = v, None
        else:
            flat, dims = _flatten(v)
            if flat is None:
                return empty
        out = []
        has_null = 0
        for x in flat:
            if x is None:
                out.append(null)
                has_null = 1
            else:
                b = enc(x)
                out.append(pack_len(len(b)))
                out.append(b)
        if dims is None:
            head = head_1d[has_null] + pack_dim(len(flat), 1)
        else:
            head = _ARRAY_HEAD.pack(len(dims), has_null, elem_oid) + \
                b"".join([pack_dim(d, 1) for d in dims])
        return head + b"".join(out)

    return encode


def _flatten(v: list):
    """(elements in row-major order, dims) of a nested list; (None, dims) when a
    dimension is 0 (PostgreSQL has no such array: it is the empty array)."""
    dims = []
    x = v
    while x.__class__ is list:
        dims.append(len(x))
        if not x:
            return None, dims
        x = x[0]
    flat = v
    try:
        for _ in range(len(dims) - 1):
            flat = [y for sub in flat for y in sub]
    except TypeError:
        flat = None
    total = 1
    for d in dims:
        total *= d
    if flat is None or len(flat) != total:
        raise errors.InternalError("malformed array value: sub-arrays of different sizes")
    return flat, dims


def _vector_encoder(elem: T.SqlType):
    """int2vector / oidvector: array_send of a one-dimensional array from 0, no NULLs."""
    enc = raw_encoder(elem)
    head = _ARRAY_HEAD.pack(1, 0, elem.oid)
    pack_len = _I4.pack

    def encode(v: list) -> bytes:
        out = [head, _DIM.pack(len(v), 0)]
        for x in v:
            b = enc(x)
            out.append(pack_len(len(b)))
            out.append(b)
        return b"".join(out)

    return encode


def _record_encoder(fields: tuple):
    """record_send of a row type whose fields are known: field count, then per field its
    type oid, int32 length (-1: NULL) and bytes. (Anonymous records of unknown shape
    have no binary form here.)"""
    parts = [(struct.pack("!I", ft.oid), raw_encoder(ft)) for _, ft in fields]
    head = _I4.pack(len(parts))
    pack_len = _I4.pack
    null = _I4.pack(-1)

    def encode(v: tuple) -> bytes:
        out = [head]
        for x, (oid, enc) in zip(v, parts):
            out.append(oid)
            if x is None:
                out.append(null)
            else:
                b = enc(x)
                out.append(pack_len(len(b)))
                out.append(b)
        return b"".join(out)

    return encode


def _array_decoder(elem: T.SqlType, vector: str | None = None):
    """array_recv, with its checks and messages; lower bounds other than 1 are refused
    (immusql's arrays start at 1). `vector` ('int2vector' / 'oidvector'): one dimension
    from 0, no NULLs, as int2vectorrecv / oidvectorrecv check."""
    dec = raw_decoder(elem)
    lower = 0 if vector else 1
    want = elem.oid
    unpack_len = _I4.unpack_from

    def decode(data) -> list:
        size = len(data)
        if size < 12:
            raise LengthError(True)
        ndim, flags, oid = _ARRAY_HEAD.unpack_from(data)
        if ndim < 0:
            raise errors.InvalidBinaryRepresentation(f"invalid number of dimensions: {ndim}")
        if ndim > MAXDIM:
            raise errors.ProgramLimitExceeded(f"number of array dimensions ({ndim}) exceeds "
                                              f"the maximum allowed ({MAXDIM})")
        if flags not in (0, 1):
            raise errors.InvalidBinaryRepresentation("invalid array flags")
        if oid != want and oid < FIRST_GENBKI_OID:
            raise errors.DatatypeMismatch(
                f"binary data has array element type {oid} ({_type_label(oid)}) instead of "
                f"expected {want} ({_type_label(want)})")
        pos = 12
        if size < pos + 8 * ndim:
            raise LengthError(True)
        dims, total = [], 1 if ndim else 0
        for _ in range(ndim):
            d, lb = _DIM.unpack_from(data, pos)
            pos += 8
            if d < 0 or total * d > 134217727:  # MaxArraySize
                raise errors.ProgramLimitExceeded(
                    "array size exceeds the maximum allowed (134217727)")
            if lb + d > INT32_MAX:
                raise errors.ProgramLimitExceeded(f"array lower bound is too large: {lb}")
            if lb != lower and d:
                if vector:
                    raise errors.InvalidBinaryRepresentation(f"invalid {vector} data")
                raise errors.FeatureNotSupported(
                    "arrays with lower bounds other than 1 are not supported")
            dims.append(d)
            total *= d
        items = []
        for i in range(1, total + 1):
            if size - pos < 4:
                raise LengthError(True)
            (n,) = unpack_len(data, pos)
            pos += 4
            if n == -1:
                items.append(None)
                continue
            if n < -1 or n > size - pos:
                raise insufficient_data()
            try:
                items.append(dec(data[pos:pos + n]))
            except LengthError as e:
                if e.short:
                    raise insufficient_data() from None
                raise errors.InvalidBinaryRepresentation(
                    f"improper binary format in array element {i}") from None
            pos += n
        if pos != size:
            raise LengthError(False)
        if vector and (ndim != 1 or not items or None in items):
            raise errors.InvalidBinaryRepresentation(f"invalid {vector} data")
        for d in reversed(dims[1:]):
            items = [items[j:j + d] for j in range(0, len(items), d)]
        return items

    return decode


def _type_label(oid: int) -> str:
    try:
        return T.format_type(T.type_by_oid(oid))
    except errors.Error:
        return "???"


# inet: family (2 = AF_INET, 3 = PostgreSQL's AF_INET6), prefix bits, is_cidr, length,
# address bytes. The engine holds inet values as their text form.
def _enc_inet(v) -> bytes:
    iface = ipaddress.ip_interface(str(v))
    family = 2 if iface.version == 4 else 3
    packed = iface.ip.packed
    return bytes([family, iface.network.prefixlen, 0, len(packed)]) + packed


def _dec_inet(data) -> str:
    data = bytes(data)
    if len(data) < 4 or data[0] not in (2, 3) or len(data) != 4 + data[3] \
            or data[3] != (4 if data[0] == 2 else 16):
        raise errors.InvalidBinaryRepresentation("invalid address family in external "
                                                 '"inet" value')
    ip = ipaddress.ip_address(data[4:])
    full = 32 if ip.version == 4 else 128
    return str(ip) if data[1] == full else f"{ip}/{data[1]}"


# ------------------------------------------------------------------------ dispatch --

_ENCODERS = {
    T.BOOL.oid: _enc_bool,
    T.BYTEA.oid: bytes,
    T.CHAR.oid: _enc_char,
    T.INT2.oid: struct.Struct("!h").pack,
    T.INT4.oid: _I4.pack,
    T.INT8.oid: _I8.pack,
    T.FLOAT4.oid: struct.Struct("!f").pack,
    T.FLOAT8.oid: struct.Struct("!d").pack,
    T.NUMERIC.oid: _enc_numeric,
    T.DATE.oid: _enc_date,
    T.TIME.oid: _enc_time,
    T.TIMETZ.oid: _enc_timetz,
    T.TIMESTAMP.oid: _enc_timestamp,
    T.TIMESTAMPTZ.oid: _enc_timestamptz,
    T.INTERVAL.oid: _enc_interval,
    T.UUID.oid: lambda v: v.bytes,
    T.JSONB.oid: _enc_jsonb,
    T.VOID.oid: _enc_void,
    T.INET.oid: _enc_inet,
}
for _t in (T.TEXT, T.VARCHAR, T.BPCHAR, T.NAME, T.UNKNOWN, T.JSON, T.PG_NODE_TREE):
    _ENCODERS[_t.oid] = _enc_str
for _oid in (T.OID.oid, T.XID.oid, *T.REG_TYPES):
    _ENCODERS[_oid] = struct.Struct("!I").pack

_DECODERS = {
    T.BOOL.oid: _dec_bool,
    T.BYTEA.oid: _dec_bytea,
    T.CHAR.oid: _dec_char,
    T.NAME.oid: _dec_name,
    T.INT2.oid: _fixed(2, struct.Struct("!h").unpack),
    T.INT4.oid: _fixed(4, _I4.unpack),
    T.INT8.oid: _fixed(8, _I8.unpack),
    T.FLOAT4.oid: _fixed(4, struct.Struct("!f").unpack),
    T.FLOAT8.oid: _fixed(8, struct.Struct("!d").unpack),
    T.NUMERIC.oid: _dec_numeric,
    T.DATE.oid: _dec_date,
    T.TIME.oid: _dec_time,
    T.TIMETZ.oid: _dec_timetz,
    T.TIMESTAMP.oid: _dec_timestamp,
    T.TIMESTAMPTZ.oid: _dec_timestamptz,
    T.INTERVAL.oid: _dec_interval,
    T.UUID.oid: _dec_uuid,
    T.JSON.oid: _dec_json,
    T.JSONB.oid: _dec_jsonb,
    T.INET.oid: _dec_inet,
}
for _t in (T.TEXT, T.VARCHAR, T.BPCHAR, T.UNKNOWN):
    _DECODERS[_t.oid] = decode_utf8
for _oid in (T.OID.oid, T.XID.oid, *T.REG_TYPES):
    _DECODERS[_oid] = _fixed(4, struct.Struct("!I").unpack)


def raw_encoder(t: T.SqlType):
    """typsend of `t` as a function of one non-NULL value."""
    if t.oid in T.VECTOR_OIDS:
        return _vector_encoder(t.element)
    if t.element is not None:
        return _array_encoder(t.element)
    enc = _ENCODERS.get(t.oid)
    if enc is None and t.category == "E":  # enum_send: the label's text
        return _enc_str
    if enc is None and getattr(t, "fields", None):
        return _record_encoder(t.fields)
    if enc is None:
        raise errors.FeatureNotSupported(
            f"binary format is not supported for type {T.format_type(t)}",
            hint="Ask for this column in text format.")
    return enc


def raw_decoder(t: T.SqlType):
    """typreceive of `t` as a function of one non-NULL value's bytes."""
    if t.oid in T.VECTOR_OIDS:
        return _array_decoder(t.element, vector=T.typname(t))
    if t.element is not None:
        return _array_decoder(t.element)
    dec = _DECODERS.get(t.oid)
    if dec is None and t.category == "E":  # enum_recv: the label's text
        return lambda data: t.by_label(decode_utf8(data))
    if dec is None:
        raise errors.FeatureNotSupported(
            f"binary format is not supported for parameters of type {T.format_type(t)}",
            hint="Send this parameter in text format.")
    return dec
