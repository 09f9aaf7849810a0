"""Casts between SQL types with PostgreSQL 15's rules, contexts and errors.

Why: a cast is where most of PostgreSQL's value semantics show (float -> int rounds half
to even, numeric -> int half away from zero, varchar(3) truncates on an explicit cast but
fails on assignment, bool -> text is 'true' not 't'), and where implicit typing is
decided: `can_cast` answers PostgreSQL's question "is there a cast usable in this
context" (pg_cast plus automatic I/O conversion casts), `common_type` is the UNION / CASE
/ COALESCE / VALUES / ARRAY resolution of
https://www.postgresql.org/docs/15/typeconv-union-case.html.

The pg_cast rows below were taken from PostgreSQL 15's catalog for the types immusql has.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..errors import CannotCoerce, DatatypeMismatch, InvalidParameterValue, NumericValueOutOfRange
from . import datetimes as dts
from . import intervals as ivs
from . import jsonvals
from . import numerics as nums
from . import types as T
from .textio import apply_typmod, format_text, parse_text  # noqa: F401 - public API
from .types import SqlType

IMPLICIT, ASSIGNMENT, EXPLICIT = "implicit", "assignment", "explicit"
_LEVEL = {IMPLICIT: 0, ASSIGNMENT: 1, EXPLICIT: 2, "i": 0, "a": 1, "e": 2}

# pg_cast (castsource>casttarget:context) among immusql's types, PostgreSQL 15.
_PG_CAST = """
bool>bpchar:a bool>int4:e bool>text:a bool>varchar:a bpchar>bpchar:i bpchar>char:a
bpchar>name:i bpchar>text:i bpchar>varchar:i char>bpchar:a char>int4:e char>text:i
char>varchar:a date>timestamp:i date>timestamptz:i float4>float8:i float4>int2:a
float4>int4:a float4>int8:a float4>numeric:a float8>float4:a float8>int2:a float8>int4:a
float8>int8:a float8>numeric:a int2>float4:i int2>float8:i int2>int4:i int2>int8:i
int2>numeric:i int2>oid:i int2>regclass:i int2>regnamespace:i int2>regproc:i
int2>regtype:i int4>bool:e int4>char:e int4>float4:i int4>float8:i int4>int2:a
int4>int8:i int4>numeric:i int4>oid:i int4>regclass:i int4>regnamespace:i int4>regproc:i
int4>regtype:i int8>float4:i int8>float8:i int8>int2:a int8>int4:a int8>numeric:i
int8>oid:i int8>regclass:i int8>regnamespace:i int8>regproc:i int8>regtype:i
interval>interval:i interval>time:a json>jsonb:a jsonb>bool:e jsonb>float4:e
jsonb>float8:e jsonb>int2:e jsonb>int4:e jsonb>int8:e jsonb>json:a jsonb>numeric:e
name>bpchar:a name>text:i name>varchar:a numeric>float4:i numeric>float8:i numeric>int2:a
numeric>int4:a numeric>int8:a numeric>numeric:i oid>int4:a oid>int8:a oid>regclass:i
oid>regnamespace:i oid>regproc:i oid>regtype:i regclass>int4:a regclass>int8:a
regclass>oid:i regnamespace>int4:a regnamespace>int8:a regnamespace>oid:i regproc>int4:a
regproc>int8:a regproc>oid:i regtype>int4:a regtype>int8:a regtype>oid:i text>bpchar:i
text>char:a text>name:i text>regclass:i text>varchar:i time>interval:i time>time:i
time>timetz:i timestamp>date:a timestamp>time:a timestamp>timestamp:i
timestamp>timestamptz:i timestamptz>date:a timestamptz>time:a timestamptz>timestamp:a
timestamptz>timestamptz:i timestamptz>timetz:a timetz>time:a timetz>timetz:i
varchar>bpchar:i varchar>char:a varchar>name:i varchar>regclass:i varchar>text:i
varchar>varchar:i
"""
_SHORT = {"bool": T.BOOL, "bpchar": T.BPCHAR, "char": T.CHAR, "date": T.DATE,
          "float4": T.FLOAT4, "float8": T.FLOAT8, "int2": T.INT2, "int4": T.INT4,
          "int8": T.INT8, "interval": T.INTERVAL, "json": T.JSON, "jsonb": T.JSONB,
          "name": T.NAME, "numeric": T.NUMERIC, "oid": T.OID, "regclass": T.REGCLASS,
          "regnamespace": T.REGNAMESPACE, "regproc": T.REGPROC, "regtype": T.REGTYPE,
          "text": T.TEXT, "time": T.TIME, "timetz": T.TIMETZ, "timestamp": T.TIMESTAMP,
          "timestamptz": T.TIMESTAMPTZ, "varchar": T.VARCHAR, "uuid": T.UUID,
          "bytea": T.BYTEA}
CAST_CONTEXT: dict[tuple[int, int], int] = {}
for _entry in _PG_CAST.split():
    _pair, _, _ctx = _entry.partition(":")
    _s, _, _t = _pair.partition(">")
    CAST_CONTEXT[(_SHORT[_s].oid, _SHORT[_t].oid)] = _LEVEL[_ctx]

_STRINGY = frozenset({T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid})


def cast_level(source: SqlType, target: SqlType) -> int | None:
    """0 implicit, 1 assignment, 2 explicit, None: no cast at all (PostgreSQL's
    find_coercion_pathway, including automatic I/O conversion casts)."""
    if source.oid == target.oid:
        return 0
    if source.oid == T.UNKNOWN.oid:
        return 0
    if target.oid in (T.UNKNOWN.oid, T.VOID.oid, T.RECORD.oid) or source.oid == T.VOID.oid:
        return None
    if source.element is not None and target.element is not None:
        return cast_level(source.element, target.element)
    lvl = CAST_CONTEXT.get((source.oid, target.oid))
    if lvl is not None:
        return lvl
    if target.oid in _STRINGY:
        return 1
    if source.oid in _STRINGY:
        return 2
    return None


def can_cast(source: SqlType, target: SqlType, context: str = IMPLICIT) -> bool:
    """Is there a cast from source to target usable in context ('implicit',
    'assignment' or 'explicit')?"""
    lvl = cast_level(source, target)
    return lvl is not None and lvl <= _LEVEL[context]


def _jsonb_scalar(v: str, target: SqlType):
    parsed = jsonvals.parse(v)
    want_bool = target.oid == T.BOOL.oid
    ok = isinstance(parsed, bool) if want_bool else (
        isinstance(parsed, Decimal) and not isinstance(parsed, bool))
    if not ok:
        kind = {"null": "null", "string": "string", "number": "numeric",
                "boolean": "boolean", "array": "array", "object": "object"}[
            jsonvals.typeof(parsed)]
        raise InvalidParameterValue(f"cannot cast jsonb {kind} to type "
                                    f"{T.format_type(target.base)}")
    return parsed


def _to_text(value, source: SqlType, tz, resolver) -> str:
    if source.oid == T.BOOL.oid:
        return "true" if value else "false"
    if source.oid == T.BPCHAR.oid:
        return value.rstrip(" ")
    return format_text(value, source, tz=tz, resolver=resolver)


def _convert(value, s: SqlType, t: SqlType, tz, resolver, now):
    """Value of base type s -> base type t (typmod is applied by the caller)."""
    so, to = s.oid, t.oid
    if so == to:
        return value
    ints = T.INTEGER_TYPES
    if to in _STRINGY:
        text = _to_text(value, s, tz, resolver)
        return dts_name(text) if to == T.NAME.oid else text
    if so in _STRINGY:
        if so == T.BPCHAR.oid and to != T.CHAR.oid:
            value = value.rstrip(" ")
        return parse_text(value, t, tz=tz, now=now, resolver=resolver)
    if so in ints:
        if to in ints:
            return nums.check_int(value, to)
        if to == T.FLOAT8.oid:
            return float(value)
        if to == T.FLOAT4.oid:
            return nums.to_float4(float(value))
        if to == T.NUMERIC.oid:
            return Decimal(value)
        if to == T.BOOL.oid:
            return value != 0
        if to == T.CHAR.oid:
            if not -128 <= value <= 127:
                raise NumericValueOutOfRange('"char" out of range')
            return chr(value & 0xFF) if value else ""
        if to in T.OID_LIKE:
            if so == T.INT8.oid:
                if not 0 <= value <= 0xFFFFFFFF:
                    raise NumericValueOutOfRange("OID out of range")
                return value
            return value & 0xFFFFFFFF
    if so in T.FLOAT_TYPES:
        if to in ints:
            return nums.float_to_int(value, to)
        if to == T.FLOAT8.oid:
            return value
        if to == T.FLOAT4.oid:
            return nums.float8_to_float4(value)
        if to == T.NUMERIC.oid:
            return nums.float_to_numeric(value, so)
    if so == T.NUMERIC.oid:
        if to in ints:
            return nums.numeric_to_int(value, to)
        if to in T.FLOAT_TYPES:
            return nums.numeric_to_float(value, to)
    if so == T.BOOL.oid and to == T.INT4.oid:
        return 1 if value else 0
    if so == T.CHAR.oid and to == T.INT4.oid:
        return ord(value) if value else 0
    if so in T.OID_LIKE:
        if to == T.INT4.oid:
            return value - (1 << 32) if value >= (1 << 31) else value
        if to == T.INT8.oid or to in T.OID_LIKE:
            return value
    if so == T.JSONB.oid:
        if to == T.JSON.oid:
            return value
        parsed = _jsonb_scalar(value, t)
        if to == T.BOOL.oid:
            return parsed
        if to == T.NUMERIC.oid:
            return parsed
        if to in ints:
            return nums.numeric_to_int(parsed, to)
        return nums.numeric_to_float(parsed, to)
    if so == T.JSON.oid and to == T.JSONB.oid:
        return jsonvals.normalize_jsonb(value)
    if so == T.DATE.oid:
        if isinstance(value, T.InfiniteDatetime):
            return value
        if to == T.TIMESTAMP.oid:
            return dt.datetime(value.year, value.month, value.day)
        if to == T.TIMESTAMPTZ.oid:
            return dts.from_local(dt.datetime(value.year, value.month, value.day), tz)
    if so == T.TIMESTAMP.oid:
        if to == T.TIMESTAMPTZ.oid:
            return value if isinstance(value, T.InfiniteDatetime) else dts.from_local(value, tz)
        if to == T.DATE.oid:
            return value if isinstance(value, T.InfiniteDatetime) else value.date()
        if to == T.TIME.oid:
            _finite(value)
            return value.time()
    if so == T.TIMESTAMPTZ.oid:
        if isinstance(value, T.InfiniteDatetime):
            if to in (T.TIMESTAMP.oid, T.DATE.oid):
                return value
            _finite(value)
        local = dts.to_local(value, tz)
        if to == T.TIMESTAMP.oid:
            return local
        if to == T.DATE.oid:
            return local.date()
        if to == T.TIME.oid:
            return local.time()
        if to == T.TIMETZ.oid:
            off = value.astimezone(dts.zone_of(tz)).utcoffset()
            return local.time().replace(tzinfo=dt.timezone(off))
    if so == T.TIME.oid:
        if to == T.INTERVAL.oid:
            return ivs.interval_from_time(value)
        if to == T.TIMETZ.oid:
            zone = dts.zone_of(tz)
            ref = now or dt.datetime.now(dts.UTC)
            return value.replace(tzinfo=dt.timezone(ref.astimezone(zone).utcoffset()))
    if so == T.TIMETZ.oid and to == T.TIME.oid:
        return value.replace(tzinfo=None)
    if so == T.INTERVAL.oid and to == T.TIME.oid:
        return ivs.time_from_micros(value.microseconds)
    raise CannotCoerce(f"cannot cast type {T.format_type(s)} to {T.format_type(t)}")


def dts_name(text: str) -> str:
    from .textio import truncate_name
    return truncate_name(text)


def _finite(value):
    if isinstance(value, T.InfiniteDatetime):
        from ..errors import DatetimeFieldOverflow
        raise DatetimeFieldOverflow("timestamp out of range")


def cast(value, source: SqlType, target: SqlType, explicit: bool = True, *, tz=None,
         resolver=None, now=None):
    """Convert a non-NULL or NULL value of `source` to `target` with PostgreSQL's
    semantics. explicit=False means an assignment (INSERT/UPDATE) or implicit coercion:
    varchar(n)/char(n) then raise 22001 instead of truncating. Raises CannotCoerce
    (42846) when PostgreSQL has no such cast at all; context checks are can_cast's job.
    tz: session TimeZone; resolver: see textio; now: for 'now'/'today' input."""
    if value is None:
        return None
    if source.element is not None or target.element is not None:
        if source.element is not None and target.element is not None:
            return _cast_array(value, source.element, target.element, explicit, tz,
                               resolver, now)
        if target.element is not None:
            if source.oid in _STRINGY or source.oid == T.UNKNOWN.oid:
                return parse_text(value if source.oid != T.BPCHAR.oid else value.rstrip(" "),
                                  target, tz=tz, now=now, resolver=resolver,
                                  explicit=explicit)
            raise CannotCoerce(f"cannot cast type {T.format_type(source)} to "
                               f"{T.format_type(target)}")
        if target.oid in _STRINGY:
            text = format_text(value, source, tz=tz, resolver=resolver)
            return apply_typmod(text, target, explicit)
        raise CannotCoerce(f"cannot cast type {T.format_type(source)} to "
                           f"{T.format_type(target)}")
    if source.oid == T.UNKNOWN.oid:
        return parse_text(value, target, tz=tz, now=now, resolver=resolver, explicit=explicit)
    if (source.oid == target.oid and source.typmod == target.typmod) or \
            target.oid == T.UNKNOWN.oid:
        return value
    out = _convert(value, source, target, tz, resolver, now)
    if target.typmod >= 0:
        out = apply_typmod(out, target, explicit)
    return out


def _cast_array(value, se: SqlType, te: SqlType, explicit, tz, resolver, now):
    return [None if x is None else
            (_cast_array(x, se, te, explicit, tz, resolver, now) if isinstance(x, list)
             else cast(x, se, te, explicit, tz=tz, resolver=resolver, now=now))
            for x in value]


def coerce_unknown(text: str, target: SqlType, **kw):
    """An unknown-typed literal ('...') taking `target`'s type (parse_text)."""
    return parse_text(text, target, **kw)


# ---------------------------------------------------------------- common type --

def resolve_common_type(types, context: str = "UNION") -> SqlType:
    """common_type over inputs that may include untyped literals (unknown): those take
    the common type but, as in PostgreSQL's select_common_typmod, make its typmod -1
    (VALUES ('a'::char(3)), ('b') gives bpchar, so 'b' is not padded)."""
    types = list(types)
    known = [t for t in types if t != T.UNKNOWN]
    if not known:
        return T.TEXT
    target = common_type(known, context)
    return target.base if len(known) < len(types) else target


def common_type(types, context: str = "UNION") -> SqlType:
    """PostgreSQL's select_common_type + verification: the type a UNION / CASE /
    COALESCE / VALUES / ARRAY / GREATEST column gets. All-unknown gives text. Mismatched
    categories raise DatatypeMismatch 42804 "<context> types X and Y cannot be
    matched"; an input that cannot be implicitly converted raises CannotCoerce 42846
    "<context> could not convert type X to Y". The typmod is kept when every input has
    the same type and typmod."""
    types = list(types)
    if not types:
        raise ValueError("common_type of nothing")
    first = types[0]
    if first.oid != T.UNKNOWN.oid and all(t.oid == first.oid for t in types):
        if all(t == first for t in types):
            return first
        return first.base
    ptype = types[0].base
    pcat, ppref = ptype.category, ptype.preferred
    for nt in types[1:]:
        nt = nt.base
        if nt.oid == T.UNKNOWN.oid or nt == ptype:
            continue
        if ptype.oid == T.UNKNOWN.oid:
            ptype, pcat, ppref = nt, nt.category, nt.preferred
        elif nt.category != pcat:
            raise DatatypeMismatch(f"{context} types {T.format_type(ptype)} and "
                                   f"{T.format_type(nt)} cannot be matched")
        elif (not ppref and can_cast(ptype, nt, IMPLICIT)
              and not can_cast(nt, ptype, IMPLICIT)):
            ptype, pcat, ppref = nt, nt.category, nt.preferred
    if ptype.oid == T.UNKNOWN.oid:
        return T.TEXT
    for t in types:
        if not can_cast(t, ptype, IMPLICIT):
            raise CannotCoerce(f"{context} could not convert type {T.format_type(t.base)} "
                               f"to {T.format_type(ptype)}")
    return ptype
