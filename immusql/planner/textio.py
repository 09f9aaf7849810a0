"""Text input and output of every type: PostgreSQL's typinput / typoutput functions.

Why: the text form is PostgreSQL's contract with clients (psql, the wire protocol's text
format, casts to and from text), and tests compare it byte for byte. `parse_text` is what
'...'::type does; `format_text` is what a client sees. Per-family details live in
numerics, datetimes, intervals and jsonvals; this module dispatches and adds the small
types (bool, bytea, uuid, "char", name, oid and reg*) and array literals.

`resolver`: regclass/regproc/regnamespace need the catalog, which belongs to the planner.
Pass a callable `resolver(kind, value)`: kind is 'regclass' | 'regproc' |
'regnamespace' | 'regtype'; given a str it returns the OID (or raises the PostgreSQL error,
e.g. UndefinedTable 42P01 `relation "x" does not exist`); given an int OID it returns the
name to print or None (printed as the number). regtype works without one for built-in
types.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import uuid as _uuid
from decimal import Decimal

from ..errors import (
    InvalidParameterValue,
    InvalidTextRepresentation,
    NumericValueOutOfRange,
    StringDataRightTruncation,
)
from . import datetimes as dts
from . import intervals as ivs
from . import jsonvals
from . import numerics as nums
from . import types as T

# ----------------------------------------------------------------------- small types --

_BOOL_WORDS = (("true", True), ("false", False), ("yes", True), ("no", False))


def parse_bool(text: str) -> bool:
    """boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, any unique prefix, any case."""
    s = text.strip().lower()
    if s:
        for word, val in _BOOL_WORDS:
            if word.startswith(s):
                return val
        if len(s) >= 2 and "on".startswith(s):
            return True
        if len(s) >= 2 and "off".startswith(s):
            return False
        if s == "1":
            return True
        if s == "0":
            return False
    raise InvalidTextRepresentation(f'invalid input syntax for type boolean: "{text}"')


def parse_bytea(text: str) -> bytes:
    """byteain: '\\x0102...' (hex, whitespace between pairs allowed) or escape format."""
    if text.startswith("\\x"):
        out = bytearray()
        s = text[2:]
        i = 0
        while i < len(s):
            c = s[i]
            if c in " \t\n\r":
                i += 1
                continue
            if c not in "0123456789abcdefABCDEF":
                raise InvalidParameterValue(f'invalid hexadecimal digit: "{c}"')
            if i + 1 >= len(s):
                raise InvalidParameterValue("invalid hexadecimal data: odd number of digits")
            d = s[i + 1]
            if d not in "0123456789abcdefABCDEF":
                raise InvalidParameterValue(f'invalid hexadecimal digit: "{d}"')
            out.append(int(c + d, 16))
            i += 2
        return bytes(out)
    out = bytearray()
    i = 0
    raw = text.encode()
    while i < len(raw):
        b = raw[i]
        if b != 0x5C:
            out.append(b)
            i += 1
            continue
        nxt = raw[i + 1:i + 2]
        if nxt == b"\\":
            out.append(0x5C)
            i += 2
        elif (len(raw) >= i + 4 and raw[i + 1] in b"0123" and raw[i + 2] in b"01234567"
              and raw[i + 3] in b"01234567"):
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        else:
            raise InvalidTextRepresentation("invalid input syntax for type bytea")
    return bytes(out)


def format_bytea(b: bytes) -> str:
    return "\\x" + bytes(b).hex()


def parse_uuid(text: str) -> _uuid.UUID:
    s = text
    bad = InvalidTextRepresentation(f'invalid input syntax for type uuid: "{text}"')
    braces = s.startswith("{")
    i = 1 if braces else 0
    hexdigits = []
    for n in range(16):
        pair = s[i:i + 2]
        if len(pair) != 2 or not all(c in "0123456789abcdefABCDEF" for c in pair):
            raise bad
        hexdigits.append(pair)
        i += 2
        if s[i:i + 1] == "-" and n % 2 == 1 and n < 15:
            i += 1
    if braces:
        if s[i:i + 1] != "}":
            raise bad
        i += 1
    if i != len(s):
        raise bad
    return _uuid.UUID("".join(hexdigits))


def parse_oid(text: str) -> int:
    s = text.strip()
    try:
        if not s or not (s.lstrip("+-").isdigit()) or s.count("-") + s.count("+") > 1:
            raise ValueError
        v = int(s)
    except ValueError:
        raise InvalidTextRepresentation(f'invalid input syntax for type oid: "{text}"') \
            from None
    if not -(1 << 31) <= v <= 0xFFFFFFFF:
        raise NumericValueOutOfRange(f'value "{text}" is out of range for type oid')
    return v & 0xFFFFFFFF


def truncate_name(s: str) -> str:
    """name holds at most 63 bytes (NAMEDATALEN - 1), cut at a character boundary."""
    b = s.encode()
    if len(b) <= 63:
        return s
    return b[:63].decode(errors="ignore")


# The resolver of the statement running in this thread (or task): casts compiled without
# one (`'t'::regclass` folded at plan time) use it. The planner sets it per statement
# (StatementContext; the catalog's resolver lives in planner/syscat/resolver.py).
CURRENT_RESOLVER: contextvars.ContextVar = contextvars.ContextVar("immusql_reg_resolver",
                                                                   default=None)


def _reg_in(text: str, t: T.SqlType, resolver):
    s = text.strip()
    if s.isdigit():
        return parse_oid(s)
    if s == "-":
        return 0
    kind = t.name
    if resolver is None:
        resolver = CURRENT_RESOLVER.get()
    if t.oid == T.REGTYPE.oid:
        from ..errors import UndefinedObject
        try:
            return T.parse_type_string(s).oid
        except UndefinedObject:  # not built in: a table's row type?
            oid = resolver("regtype", s) if resolver is not None else None
            if oid is None:
                raise
            return oid
    if resolver is None:
        from ..errors import FeatureNotSupported
        raise FeatureNotSupported(f"{kind} input needs the catalog: \"{text}\"")
    return resolver(kind, s)


def _reg_out(oid: int, t: T.SqlType, resolver) -> str:
    if oid == 0:
        return "-"
    if resolver is None:
        resolver = CURRENT_RESOLVER.get()
    if t.oid == T.REGTYPE.oid:
        try:
            return T.regtype_name(T.type_by_oid(oid))
        except Exception:
            pass
    if resolver is not None:
        name = resolver(t.name, oid)
        if name is not None:
            return name
    return str(oid)


# --------------------------------------------------------------------------- arrays --

def _malformed(text: str, detail: str):
    return InvalidTextRepresentation(f'malformed array literal: "{text}"', detail=detail)


def parse_array(text: str, elem: T.SqlType, **kw) -> list:
    """array_in: '{1,2,NULL}', '{{1,2},{3,4}}', '{"a b","c\\"d"}', '[1:2]={1,2}'."""
    s = text
    i = 0
    n = len(s)
    while i < n and s[i].isspace():
        i += 1
    if i < n and s[i] == "[":
        close = s.find("=", i)
        if close < 0:
            raise _malformed(text, 'Missing "=" after array dimensions.')
        dims = s[i:close].strip()
        for part in dims.split("]")[:-1]:
            lo = part.lstrip("[").split(":")[0].strip()
            if ":" in part and lo not in ("1", "+1"):
                from ..errors import FeatureNotSupported
                raise FeatureNotSupported("arrays with lower bounds other than 1 are not "
                                          "supported")
        i = close + 1
        while i < n and s[i].isspace():
            i += 1
    if i >= n or s[i] != "{":
        raise _malformed(text, 'Array value must start with "{" or dimension information.')

    def parse_level(i: int) -> tuple[list, int]:
        # s[i] == '{'
        i += 1
        items: list = []
        kinds = set()
        expect_item = True
        while True:
            while i < n and s[i].isspace():
                i += 1
            if i >= n:
                raise _malformed(text, "Unexpected end of input.")
            c = s[i]
            if c == "}":
                if items and expect_item:
                    raise _malformed(text, 'Unexpected "}" character.')
                return items, i + 1
            if not expect_item:
                if c != ",":
                    raise _malformed(text, f'Unexpected "{c}" character.')
                i += 1
                expect_item = True
                continue
            if c == "{":
                sub, i = parse_level(i)
                items.append(sub)
                kinds.add("array")
            elif c == '"':
                i += 1
                buf = []
                while True:
                    if i >= n:
                        raise _malformed(text, "Unexpected end of input.")
                    ch = s[i]
                    if ch == "\\":
                        if i + 1 >= n:
                            raise _malformed(text, "Unexpected end of input.")
                        buf.append(s[i + 1])
                        i += 2
                    elif ch == '"':
                        i += 1
                        break
                    else:
                        buf.append(ch)
                        i += 1
                items.append(("q", "".join(buf)))
                kinds.add("scalar")
            elif c == ",":
                raise _malformed(text, 'Unexpected "," character.')
            else:
                buf = []
                trailing_ws = 0
                while i < n and s[i] not in ",}":
                    ch = s[i]
                    if ch in '{"':
                        raise _malformed(text, f'Unexpected "{ch}" character.')
                    if ch == "\\":
                        if i + 1 >= n:
                            raise _malformed(text, "Unexpected end of input.")
                        buf.append(s[i + 1])
                        trailing_ws = 0
                        i += 2
                        continue
                    buf.append(ch)
                    trailing_ws = trailing_ws + 1 if ch.isspace() else 0
                    i += 1
                word = "".join(buf[:len(buf) - trailing_ws] if trailing_ws else buf)
                items.append(("u", word))
                kinds.add("scalar")
            if len(kinds) > 1:
                raise _malformed(text, "Unexpected array element.")
            expect_item = False

    items, i = parse_level(i)
    while i < n and s[i].isspace():
        i += 1
    if i != n:
        raise _malformed(text, "Junk after closing right brace.")

    def shape(v):
        if v and isinstance(v[0], list):
            shapes = {shape(x) for x in v}
            if len(shapes) != 1:
                raise _malformed(text, "Multidimensional arrays must have sub-arrays with "
                                       "matching dimensions.")
            return (len(v),) + shapes.pop()
        return (len(v),)

    shape(items)

    def convert(v):
        if isinstance(v, list):
            if any(isinstance(x, list) and not x for x in v):
                raise _malformed(text, "Multidimensional arrays must have sub-arrays with "
                                       "matching dimensions.")
            return [convert(x) for x in v]
        kind, word = v
        if kind == "u" and word.upper() == "NULL":
            return None
        return parse_text(word, elem, **kw)

    return convert(items)


def _quote_elem(s: str) -> str:
    if (s == "" or s.upper() == "NULL"
            or any(c in '{},"\\' or c in " \t\n\r\v\f" for c in s)):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def format_array(v: list, elem: T.SqlType, **kw) -> str:
    parts = []
    for x in v:
        if x is None:
            parts.append("NULL")
        elif isinstance(x, list):
            parts.append(format_array(x, elem, **kw))
        else:
            parts.append(_quote_elem(format_text(x, elem, **kw)))
    return "{" + ",".join(parts) + "}"


# ---------------------------------------------------------------------- dispatching --

def parse_text(text: str, t: T.SqlType, *, tz=None, now=None, resolver=None,
               explicit: bool = True):
    """PostgreSQL input function of `t` applied to `text` ('...'::t), then t's typmod.

    tz: session TimeZone (zone name or tzinfo; default UTC). now: aware UTC datetime for
    'now'/'today' (default: the wall clock). explicit=False applies varchar(n)/char(n)
    like an assignment (error instead of truncation).
    """
    oid = t.oid
    if oid in T.VECTOR_OIDS:  # int2vector / oidvector: '1 2 3'
        v = [parse_text(w, t.element) for w in text.split()]
    elif t.element is not None:
        v = parse_array(text, t.element, tz=tz, now=now, resolver=resolver,
                        explicit=explicit)
    elif oid in T.INTEGER_TYPES:
        v = nums.parse_int(text, oid)
    elif t.category == "E":  # an enum (planner/enumtypes.py): its label, exactly
        v = t.by_label(text)
    elif oid == T.NUMERIC.oid:
        v = nums.parse_numeric(text)
    elif oid in T.FLOAT_TYPES:
        v = nums.parse_float(text, oid)
    elif oid in (T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.UNKNOWN.oid):
        v = text
    elif oid == T.NAME.oid:
        v = truncate_name(text)
    elif oid == T.BOOL.oid:
        v = parse_bool(text)
    elif oid == T.DATE.oid:
        v = dts.parse_date(text, now, tz)
    elif oid == T.TIMESTAMP.oid:
        v = dts.parse_timestamp(text, now, tz, with_tz=False)
    elif oid == T.TIMESTAMPTZ.oid:
        v = dts.parse_timestamp(text, now, tz, with_tz=True)
    elif oid == T.TIME.oid:
        v = dts.parse_time(text, False, now, tz)
    elif oid == T.TIMETZ.oid:
        v = dts.parse_time(text, True, now, tz)
    elif oid == T.INTERVAL.oid:
        v = ivs.parse_interval(text)
    elif oid == T.BYTEA.oid:
        v = parse_bytea(text)
    elif oid == T.UUID.oid:
        v = parse_uuid(text)
    elif oid == T.JSON.oid:
        v = jsonvals.validate_json(text)
    elif oid == T.JSONB.oid:
        v = jsonvals.normalize_jsonb(text)
    elif oid == T.CHAR.oid:
        v = text[:1]
    elif oid == T.OID.oid:
        v = parse_oid(text)
    elif oid in T.REG_TYPES:
        v = _reg_in(text, t, resolver)
    else:
        from ..errors import FeatureNotSupported
        raise FeatureNotSupported(f"cannot accept a value of type {T.format_type(t)}")
    if t.typmod >= 0 or (t.element is not None and t.element.typmod >= 0):
        v = apply_typmod(v, t, explicit)
    return v


def format_text(v, t: T.SqlType, *, tz=None, resolver=None) -> str:
    """PostgreSQL output function of `t` (what psql shows). NULL is the caller's."""
    oid = t.oid
    if oid in T.VECTOR_OIDS:
        return " ".join(str(x) for x in v)
    if t.element is not None:
        return format_array(v, t.element, tz=tz, resolver=resolver)
    if oid in T.INTEGER_TYPES:
        return str(v)
    if t.category == "E":
        return v.label
    if oid in (T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid, T.UNKNOWN.oid,
               T.CHAR.oid, T.JSON.oid, T.JSONB.oid):
        return v
    if oid == T.NUMERIC.oid:
        return nums.format_numeric(v)
    if oid == T.FLOAT8.oid:
        return nums.format_float8(v)
    if oid == T.FLOAT4.oid:
        return nums.format_float4(v)
    if oid == T.BOOL.oid:
        return "t" if v else "f"
    if oid == T.DATE.oid:
        return dts.format_date(v)
    if oid == T.TIMESTAMP.oid:
        return dts.format_timestamp(v)
    if oid == T.TIMESTAMPTZ.oid:
        return dts.format_timestamptz(v, tz)
    if oid == T.TIME.oid:
        return dts.format_time(v)
    if oid == T.TIMETZ.oid:
        return dts.format_timetz(v)
    if oid == T.INTERVAL.oid:
        return ivs.format_interval(v)
    if oid == T.BYTEA.oid:
        return format_bytea(v)
    if oid == T.UUID.oid:
        return str(v)
    if oid == T.OID.oid:
        return str(v)
    if oid in T.REG_TYPES:
        return _reg_out(v, t, resolver)
    if oid == T.VOID.oid:
        return ""
    if oid == T.RECORD.oid and isinstance(v, tuple):
        return format_record(v, getattr(t, "fields", ()), tz=tz, resolver=resolver)
    return str(v)


def format_record(v: tuple, fields=(), **kw) -> str:
    """record_out: '(a,1,)' with PostgreSQL's quoting (NULL is empty)."""
    parts = []
    for i, x in enumerate(v):
        if x is None:
            parts.append("")
            continue
        if i < len(fields):
            s = format_text(x, fields[i][1], **kw)
        else:
            s = "t" if x is True else "f" if x is False else str(x)
        if s == "" or any(c in '(),"\\' or c.isspace() for c in s):
            s = '"' + s.replace("\\", "\\\\").replace('"', '""') + '"'
        parts.append(s)
    return "(" + ",".join(parts) + ")"


# -------------------------------------------------------------------------- typmods --

def apply_typmod(v, t: T.SqlType, explicit: bool = True):
    """Coerce a value of t's base type to t's modifier: varchar(n)/char(n) length (an
    explicit cast truncates, an assignment raises 22001 unless only spaces are cut;
    char(n) pads), numeric(p,s) rounding and overflow, time/timestamp/interval precision.
    Arrays apply the element's modifier to every element."""
    if v is None:
        return None
    if t.element is not None:
        et = t.element
        if et.typmod < 0:
            return v
        return [apply_typmod(x, et, explicit) if not isinstance(x, list)
                else apply_typmod(x, t, explicit) for x in v]
    tm = t.typmod
    if tm < 0:
        return v
    oid = t.oid
    if oid in (T.VARCHAR.oid, T.BPCHAR.oid):
        n = tm - 4
        if len(v) > n:
            if not explicit and v[n:].strip(" "):
                raise StringDataRightTruncation(
                    f"value too long for type {T.format_type(t)}")
            v = v[:n]
        if oid == T.BPCHAR.oid and len(v) < n:
            v = v + " " * (n - len(v))
        return v
    if oid == T.NUMERIC.oid:
        p, s = T.numeric_precision_scale(tm)
        return nums.apply_numeric_typmod(v, p, s)
    if oid in (T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid):
        return dts.round_timestamp(v, tm)
    if oid in (T.TIME.oid, T.TIMETZ.oid):
        return dts.round_time(v, tm)
    if oid == T.INTERVAL.oid:
        return ivs.round_interval(v, T.time_precision(t))
    return v


def is_python_value_of(v, t: T.SqlType) -> bool:
    """Loose check that v has the Python class of t's representation (for assertions)."""
    oid = t.oid
    if t.element is not None:
        return isinstance(v, list)
    if oid in T.INTEGER_TYPES or oid in T.OID_LIKE:
        return isinstance(v, int) and not isinstance(v, bool)
    if oid in T.FLOAT_TYPES:
        return isinstance(v, float)
    if oid == T.NUMERIC.oid:
        return isinstance(v, Decimal)
    if oid == T.BOOL.oid:
        return isinstance(v, bool)
    if oid == T.DATE.oid:
        return isinstance(v, (dt.date, T.InfiniteDatetime)) and not isinstance(v, dt.datetime)
    if oid in (T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid):
        return isinstance(v, (dt.datetime, T.InfiniteDatetime))
    return True
