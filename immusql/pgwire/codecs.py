"""Values on the wire: result column encoders, Bind parameter decoders, and the type facts
RowDescription and ParameterDescription report.

Why: the server sends each result column in the format the client asked for (0 = text,
byte for byte what PostgreSQL's output function prints; 1 = binary, PostgreSQL's typsend
layout, see binary.py) and reads parameters in the same two ways. Whatever depends only on
the column's type and the session's settings is settled when the encoder is built, so the
per-value function is a NULL check and one conversion.

Settings (the session's dict, lower-case keys). `timezone` is honoured: timestamptz text
output and datetime parameter input use it. textio prints only the defaults of the other
output settings, so a text column whose output one of them would change raises
FeatureNotSupported when its encoder is built, instead of printing what the client did
not ask for: DateStyle with an output style other than ISO (date, timestamp,
timestamptz), IntervalStyle other than postgres, extra_float_digits below 1 (1, 2 and 3
all print shortest round-trip digits, as in PostgreSQL), bytea_output = escape. Binary
output does not depend on them.

Parameters are read as PostgreSQL's Bind does: with the type's input or receive function
and no type modifier (typmod -1); coercion to a column's typmod happens in the statement.
"""

from __future__ import annotations

import datetime as dt
import functools

from .. import errors
from ..planner import datetimes as dts
from ..planner import intervals as ivs
from ..planner import numerics as nums
from ..planner import textio
from ..planner import types as T
from . import binary

FORMAT_TEXT = 0
FORMAT_BINARY = 1

# pg_type.typlen: what RowDescription / ParameterDescription report as the type size.
_TYPLEN = {
    T.BOOL.oid: 1, T.BYTEA.oid: -1, T.CHAR.oid: 1, T.NAME.oid: 64, T.INT8.oid: 8,
    T.INT2.oid: 2, T.INT4.oid: 4, T.REGPROC.oid: 4, T.TEXT.oid: -1, T.OID.oid: 4,
    T.JSON.oid: -1, T.FLOAT4.oid: 4, T.FLOAT8.oid: 8, T.UNKNOWN.oid: -2, T.BPCHAR.oid: -1,
    T.VARCHAR.oid: -1, T.DATE.oid: 4, T.TIME.oid: 8, T.TIMESTAMP.oid: 8,
    T.TIMESTAMPTZ.oid: 8, T.INTERVAL.oid: 16, T.TIMETZ.oid: 12, T.NUMERIC.oid: -1,
    T.REGCLASS.oid: 4, T.REGTYPE.oid: 4, T.RECORD.oid: -1, T.VOID.oid: 4, T.UUID.oid: 16,
    T.JSONB.oid: -1, T.REGNAMESPACE.oid: 4, T.INT2VECTOR.oid: -1, T.XID.oid: 4,
    T.OIDVECTOR.oid: -1, T.PG_NODE_TREE.oid: -1, T.ACLITEM.oid: 12,
}

# Values of these types are str and print as themselves.
_STR_OIDS = frozenset({T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid, T.UNKNOWN.oid,
                       T.CHAR.oid, T.JSON.oid, T.JSONB.oid})
_INT_OIDS = T.INTEGER_TYPES | {T.OID.oid}
_DATESTYLE_OIDS = frozenset({T.DATE.oid, T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid})
_TZ_INPUT_OIDS = frozenset({T.DATE.oid, T.TIME.oid, T.TIMETZ.oid, T.TIMESTAMP.oid,
                            T.TIMESTAMPTZ.oid})  # 'now', 'today', zone-less timetz/tz
_NO_INPUT_OIDS = frozenset({T.RECORD.oid, T.VOID.oid, T.PG_NODE_TREE.oid})


# ------------------------------------------------------------------ type descriptions --

def type_oid(t: T.SqlType) -> int:
    """pg_type.oid (the array type's own oid for arrays)."""
    return t.oid


def type_size(t: T.SqlType) -> int:
    """pg_type.typlen: 1, 2, 4, 8, 12, 16 or 64 for fixed sizes, -1 varlena, -2 cstring."""
    if t.element is not None:
        return -1
    size = _TYPLEN.get(t.oid)
    if size is None:
        return 4 if t.oid in T.OID_LIKE or t.category == "E" else -1  # enums: 4, as PG
    return size


def type_modifier(t: T.SqlType) -> int:
    """atttypmod; an array column reports its element's modifier, as PostgreSQL does."""
    return t.element.typmod if t.element is not None else t.typmod


# ---------------------------------------------------------------------- settings --

def session_zone(settings) -> dt.tzinfo:
    """The session's TimeZone as a tzinfo (UTC when unset)."""
    return _zone((settings or {}).get("timezone") or "UTC")


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> dt.tzinfo:
    name = name.strip().strip("'")
    try:
        return dts.zone_of(name)
    except errors.InvalidParameterValue:
        # SET TIME ZONE 5 / -3.5: hours east of Greenwich (PostgreSQL's check_timezone)
        try:
            hours = float(name)
        except ValueError:
            raise errors.InvalidParameterValue(
                f'invalid value for parameter "TimeZone": "{name}"') from None
        return dt.timezone(dt.timedelta(seconds=round(hours * 3600)))


def _check_output_settings(t: T.SqlType, settings) -> None:
    """FeatureNotSupported when a setting would change t's text output from what textio
    prints (see the module docstring)."""
    if not settings:
        return
    oid = (t.element or t).oid
    if oid in _DATESTYLE_OIDS:
        value = settings.get("datestyle", "ISO")
        styles = [p.strip().strip("'").lower() for p in value.split(",")]
        if any(s in ("sql", "postgres", "german") for s in styles):
            raise _unsupported("DateStyle", value, "dates and timestamps print in ISO style")
    elif oid == T.INTERVAL.oid:
        value = settings.get("intervalstyle", "postgres")
        if value.strip().strip("'").lower() != "postgres":
            raise _unsupported("IntervalStyle", value, "intervals print in postgres style")
    elif oid in T.FLOAT_TYPES:
        value = settings.get("extra_float_digits", "1")
        try:
            digits = int(str(value).strip().strip("'"))
        except ValueError:
            digits = 1
        if digits < 1:
            raise _unsupported("extra_float_digits", value,
                               "floats print with shortest round-trip digits (1 to 3)")
    elif oid == T.BYTEA.oid:
        value = settings.get("bytea_output", "hex")
        if value.strip().strip("'").lower() != "hex":
            raise _unsupported("bytea_output", value, "bytea prints in hex")


def _unsupported(name: str, value: str, what: str) -> errors.Error:
    return errors.FeatureNotSupported(
        f'{name} = "{value}" is not supported in text output',
        hint=f"immusql's {what}; request binary format or reset {name}.")


# ---------------------------------------------------------------------- encoders --

def column_encoder(t: T.SqlType, fmt: int, settings=None, *, resolver=None):
    """`encode(value) -> bytes | None` for one result column of type `t` in format `fmt`
    (None for NULL). `resolver` is textio's catalog callback for reg* names in text."""
    if fmt == FORMAT_TEXT:
        return _text_encoder(t, settings, resolver)
    if fmt == FORMAT_BINARY:
        enc = binary.raw_encoder(t)

        def encode_binary(v):
            return None if v is None else enc(v)
        return encode_binary
    raise errors.InvalidParameterValue(f"unsupported format code: {fmt}")


def _text_encoder(t: T.SqlType, settings, resolver):
    _check_output_settings(t, settings)
    oid = t.oid
    if oid in _STR_OIDS or t.category == "E":  # an enum value is a str: its label
        return _encode_str
    if oid in _INT_OIDS:
        return _encode_int
    if oid == T.BOOL.oid:
        return _encode_bool
    tz = session_zone(settings) if (t.element or t).oid == T.TIMESTAMPTZ.oid else None
    fmt = text_formatter(t, tz, resolver)

    def encode_text(v):
        return None if v is None else fmt(v).encode()
    return encode_text


def _encode_str(v):
    return None if v is None else v.encode()


def _encode_int(v):
    return None if v is None else b"%d" % v


def _encode_bool(v):
    return None if v is None else (b"t" if v else b"f")


_FORMATTERS = {
    T.NUMERIC.oid: nums.format_numeric,
    T.FLOAT8.oid: nums.format_float8,
    T.FLOAT4.oid: nums.format_float4,
    T.DATE.oid: dts.format_date,
    T.TIMESTAMP.oid: dts.format_timestamp,
    T.TIME.oid: dts.format_time,
    T.TIMETZ.oid: dts.format_timetz,
    T.INTERVAL.oid: ivs.format_interval,
    T.BYTEA.oid: textio.format_bytea,
    T.UUID.oid: str,
    T.BOOL.oid: lambda v: "t" if v else "f",
    T.VOID.oid: lambda v: "",
}
for _oid in _INT_OIDS | _STR_OIDS:
    _FORMATTERS[_oid] = str


def text_formatter(t: T.SqlType, tz=None, resolver=None):
    """`fmt(value) -> str` for non-NULL values: the function textio.format_text would
    pick for `t`, picked once (arrays quote their elements like textio.format_array)."""
    if t.oid in T.VECTOR_OIDS:  # int2vector / oidvector: '1 2 3'
        return functools.partial(textio.format_text, t=t)
    if t.element is not None:
        return _array_formatter(text_formatter(t.element, tz, resolver))
    f = _FORMATTERS.get(t.oid)
    if f is not None:
        return f
    if t.oid == T.TIMESTAMPTZ.oid:
        return functools.partial(dts.format_timestamptz, tz=tz)
    return functools.partial(textio.format_text, t=t, tz=tz, resolver=resolver)


def _array_formatter(elem):
    quote = textio._quote_elem  # array_out's quoting, shared with textio.format_array

    def fmt(v: list) -> str:
        parts = []
        for x in v:
            if x is None:
                parts.append("NULL")
            elif x.__class__ is list:
                parts.append(fmt(x))
            else:
                parts.append(quote(elem(x)))
        return "{" + ",".join(parts) + "}"
    return fmt


# ---------------------------------------------------------------------- decoders --

def param_decoder(t: T.SqlType, fmt: int, settings=None, *, resolver=None,
                  number: int | None = None):
    """`decode(data: bytes | None) -> value` for a Bind parameter of type `t` sent in
    format `fmt` (None stays None). `number` (1-based) names the parameter in errors
    about its binary layout, as PostgreSQL's messages do."""
    base = t.base
    if (base.element or base).oid in _NO_INPUT_OIDS:
        raise errors.FeatureNotSupported(
            f"parameters of type {T.format_type(base)} are not supported")
    if fmt == FORMAT_TEXT:
        return _text_decoder(base, settings, resolver)
    if fmt == FORMAT_BINARY:
        return _binary_decoder(base, number)
    raise errors.InvalidParameterValue(f"unsupported format code: {fmt}")


def _text_decoder(t: T.SqlType, settings, resolver):
    utf8 = binary.decode_utf8
    if t.oid in (T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.UNKNOWN.oid):
        def decode_str(data):
            return None if data is None else utf8(data)
        return decode_str
    tz = session_zone(settings) if (t.element or t).oid in _TZ_INPUT_OIDS else None
    parse = textio.parse_text

    def decode_text(data):
        return None if data is None else parse(utf8(data), t, tz=tz, resolver=resolver)
    return decode_text


def _binary_decoder(t: T.SqlType, number: int | None):
    dec = binary.raw_decoder(t)
    where = f" in bind parameter {number}" if number is not None else ""

    def decode_binary(data):
        if data is None:
            return None
        try:
            return dec(data)
        except binary.LengthError as e:
            if e.short:
                raise binary.insufficient_data() from None
            raise errors.InvalidBinaryRepresentation(
                f"incorrect binary data format{where}") from None
    return decode_binary
