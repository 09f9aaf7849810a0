"""SQL types of immusql's SQL layer, as PostgreSQL 15 names, numbers and groups them.

Why this module exists: every later stage (casts, operator and function resolution, key and
row encodings, the wire protocol's RowDescription) needs one shared description of a type:
PostgreSQL's OID (clients decode results by it), atttypmod (the `(10,2)` of numeric(10,2)
in PostgreSQL's own encoding, so information_schema and the wire protocol can report it),
the category and preferred flag that drive PostgreSQL's implicit type resolution, and
`format_type()`'s spelling for error messages.

It also defines the Python value classes the SQL layer needs beyond the standard library:
`Interval` (PostgreSQL's three-field interval) and the +/-infinity sentinels of date and
timestamp types.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from dataclasses import dataclass

from ..errors import InvalidParameterValue, SyntaxError, UndefinedObject

# ------------------------------------------------------------------------ value classes --

USECS_PER_DAY = 86_400_000_000
USECS_PER_MONTH = 30 * USECS_PER_DAY  # PostgreSQL's interval comparisons: a month is 30 days


@dataclass(frozen=True, eq=False)
class Interval:
    """PostgreSQL's interval: months, days and microseconds kept apart, because a month or
    a day has no fixed length when added to a timestamp ('1 mon' after Jan 31 is Feb 29).

    Equality, ordering and hashing follow PostgreSQL's interval_cmp: by the total span with
    30-day months and 24-hour days, so '1 mon' = '30 days' = '720 hours'.
    """

    months: int = 0
    days: int = 0
    microseconds: int = 0

    def span(self) -> int:
        """Total microseconds with 30-day months (PostgreSQL's interval_cmp_value)."""
        return self.months * USECS_PER_MONTH + self.days * USECS_PER_DAY + self.microseconds

    def __eq__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        return self.span() == other.span()

    def __lt__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        return self.span() < other.span()

    def __le__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        return self.span() <= other.span()

    def __gt__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        return self.span() > other.span()

    def __ge__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        return self.span() >= other.span()

    def __hash__(self):
        return hash(self.span())

    def fields(self) -> tuple[int, int, int]:
        """(months, days, microseconds) exactly: use it where '1 mon' != '30 days' matters
        (output, storage, DISTINCT is by equality like PostgreSQL though)."""
        return (self.months, self.days, self.microseconds)


@functools.total_ordering
class InfiniteDatetime:
    """'infinity' / '-infinity' of date, timestamp and timestamptz.

    Python's date and datetime cannot hold them, so two sentinels stand in: they compare
    above (or below) every date and datetime (naive or aware) and equal only themselves,
    so sorting, MIN/MAX and comparisons behave like PostgreSQL. Use `POS_INFINITY` and
    `NEG_INFINITY`; never construct others.
    """

    __slots__ = ("sign",)

    def __init__(self, sign: int):
        self.sign = sign

    def __eq__(self, other):
        return isinstance(other, InfiniteDatetime) and other.sign == self.sign

    def __hash__(self):
        return hash(("InfiniteDatetime", self.sign))

    def __lt__(self, other):
        if isinstance(other, InfiniteDatetime):
            return self.sign < other.sign
        import datetime as _dt
        if isinstance(other, _dt.date):
            return self.sign < 0
        return NotImplemented

    def __repr__(self):
        return "POS_INFINITY" if self.sign > 0 else "NEG_INFINITY"

    def __str__(self):
        return "infinity" if self.sign > 0 else "-infinity"

    def __reduce__(self):
        return (_infinity, (self.sign,))


POS_INFINITY = InfiniteDatetime(1)
NEG_INFINITY = InfiniteDatetime(-1)


def _infinity(sign: int) -> InfiniteDatetime:
    return POS_INFINITY if sign > 0 else NEG_INFINITY


def is_infinite(value) -> bool:
    return isinstance(value, InfiniteDatetime)


# ---------------------------------------------------------------------------- SqlType --


@dataclass(frozen=True)
class SqlType:
    """A PostgreSQL type with its modifier.

    name: format_type's spelling without modifier ('integer', 'character varying',
    'timestamp with time zone', 'integer[]' for arrays). oid: pg_type.oid. typmod:
    pg_attribute.atttypmod (-1: none). element: the element type of an array type.
    category / preferred: pg_type.typcategory / typispreferred (implicit resolution).
    Two SqlTypes with different typmods are different values; compare `.oid` (or use
    `base`) for "same type".
    """

    name: str
    oid: int
    typmod: int = -1
    element: SqlType | None = None
    category: str = "U"
    preferred: bool = False

    @property
    def is_array(self) -> bool:
        return self.element is not None

    @property
    def base(self) -> SqlType:
        """The type without modifier (typmods of array elements removed too)."""
        if self.typmod == -1 and (self.element is None or self.element.typmod == -1):
            return self
        if self.element is not None:
            return array_of(self.element.base)
        return _BY_OID[self.oid]

    def with_typmod(self, typmod: int) -> SqlType:
        if self.element is not None:
            return array_of(self.element.with_typmod(typmod))
        return SqlType(self.name, self.oid, typmod, None, self.category, self.preferred)

    @property
    def array_oid(self) -> int:
        return _ARRAY_OIDS.get(self.oid, 0)

    def __str__(self) -> str:
        return format_type(self)


_BY_OID: dict[int, SqlType] = {}
_ARRAY_OIDS: dict[int, int] = {}
_BY_NAME: dict[str, SqlType] = {}


def _t(name: str, oid: int, array_oid: int, category: str, preferred: bool = False) -> SqlType:
    t = SqlType(name, oid, -1, None, category, preferred)
    _BY_OID[oid] = t
    _BY_NAME[name] = t
    if array_oid:
        _ARRAY_OIDS[oid] = array_oid
    return t


BOOL = _t("boolean", 16, 1000, "B", True)
BYTEA = _t("bytea", 17, 1001, "U")
CHAR = _t('"char"', 18, 1002, "Z")
NAME = _t("name", 19, 1003, "S")
INT8 = _t("bigint", 20, 1016, "N")
INT2 = _t("smallint", 21, 1005, "N")
INT4 = _t("integer", 23, 1007, "N")
REGPROC = _t("regproc", 24, 1008, "N")
TEXT = _t("text", 25, 1009, "S", True)
OID = _t("oid", 26, 1028, "N", True)
JSON = _t("json", 114, 199, "U")
FLOAT4 = _t("real", 700, 1021, "N")
FLOAT8 = _t("double precision", 701, 1022, "N", True)
UNKNOWN = _t("unknown", 705, 0, "X")
BPCHAR = _t("character", 1042, 1014, "S")
VARCHAR = _t("character varying", 1043, 1015, "S")
DATE = _t("date", 1082, 1182, "D")
TIME = _t("time without time zone", 1083, 1183, "D")
TIMESTAMP = _t("timestamp without time zone", 1114, 1115, "D")
TIMESTAMPTZ = _t("timestamp with time zone", 1184, 1185, "D", True)
INTERVAL = _t("interval", 1186, 1187, "T", True)
TIMETZ = _t("time with time zone", 1266, 1270, "D")
NUMERIC = _t("numeric", 1700, 1231, "N")
REGCLASS = _t("regclass", 2205, 2210, "N")
REGTYPE = _t("regtype", 2206, 2211, "N")
RECORD = _t("record", 2249, 2287, "P")
VOID = _t("void", 2278, 0, "P")
UUID = _t("uuid", 2950, 2951, "U")
JSONB = _t("jsonb", 3802, 3807, "U")
REGNAMESPACE = _t("regnamespace", 4089, 4090, "N")

ALL_TYPES = tuple(_BY_OID.values())

# Types of system catalog columns (pg_catalog emulation, planner/syscat): not for user
# tables. int2vector / oidvector are PostgreSQL's one-dimensional vectors (pg_index.indkey,
# indclass): arrays here (element int2 / oid), printed space-separated; subscripts start at
# 1 (PostgreSQL's start at 0). pg_node_tree holds expression text (pg_get_expr prints it).
XID = _t("xid", 28, 1011, "U")
INET = _t("inet", 869, 1041, "I")  # pg_stat_activity.client_addr, inet_server_addr()
PG_NODE_TREE = _t("pg_node_tree", 194, 0, "Z")
ACLITEM = _t("aclitem", 1033, 1034, "U")
REGPROCEDURE = _t("regprocedure", 2202, 2207, "N")
REGOPER = _t("regoper", 2203, 2208, "N")
REGOPERATOR = _t("regoperator", 2204, 2209, "N")
REGROLE = _t("regrole", 4096, 4097, "N")
INT2VECTOR = SqlType("int2vector", 22, -1, INT2, "A")
OIDVECTOR = SqlType("oidvector", 30, -1, OID, "A")
VECTOR_OIDS = frozenset({INT2VECTOR.oid, OIDVECTOR.oid})
for _v in (INT2VECTOR, OIDVECTOR):
    _BY_OID[_v.oid] = _v
    _BY_NAME[_v.name] = _v
_ARRAY_OIDS.update({INT2VECTOR.oid: 1006, OIDVECTOR.oid: 1013})


@dataclass(frozen=True)
class RecordType(SqlType):
    """An anonymous row type with known fields (a composite-returning function's result):
    its values are tuples; `(value).field` selects by name."""

    fields: tuple = ()  # ((name, SqlType), ...)

    def field_index(self, name: str) -> int | None:
        for i, (n, _) in enumerate(self.fields):
            if n == name:
                return i
        return None


def record_of(fields) -> RecordType:
    return RecordType("record", 2249, -1, None, "P", False, tuple(fields))
_TYPNAME = {16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2",
            23: "int4", 24: "regproc", 25: "text", 26: "oid", 114: "json", 700: "float4",
            701: "float8", 705: "unknown", 1042: "bpchar", 1043: "varchar", 1082: "date",
            1083: "time", 1114: "timestamp", 1184: "timestamptz", 1186: "interval",
            1266: "timetz", 1700: "numeric", 2205: "regclass", 2206: "regtype",
            2249: "record", 2278: "void", 2950: "uuid", 3802: "jsonb", 4089: "regnamespace",
            22: "int2vector", 28: "xid", 30: "oidvector", 194: "pg_node_tree", 1033: "aclitem",
            869: "inet",
            2202: "regprocedure", 2203: "regoper", 2204: "regoperator", 4096: "regrole"}


def typname(t: SqlType) -> str:
    """pg_type.typname: 'int4', 'varchar', '_int4' for integer[]."""
    if t.element is not None and t.oid not in VECTOR_OIDS:
        return "_" + typname(t.element)
    if t.category == "E":  # a user-defined enum (planner/enumtypes.py)
        return t.name
    return _TYPNAME[t.oid]
INTEGER_TYPES = frozenset({INT2.oid, INT4.oid, INT8.oid})
FLOAT_TYPES = frozenset({FLOAT4.oid, FLOAT8.oid})
STRING_TYPES = frozenset({TEXT.oid, VARCHAR.oid, BPCHAR.oid, NAME.oid})
REG_TYPES = frozenset({REGCLASS.oid, REGTYPE.oid, REGPROC.oid, REGNAMESPACE.oid,
                       REGPROCEDURE.oid, REGOPER.oid, REGOPERATOR.oid, REGROLE.oid})
OID_LIKE = REG_TYPES | {OID.oid}
INT_RANGES = {INT2.oid: (-(1 << 15), (1 << 15) - 1), INT4.oid: (-(1 << 31), (1 << 31) - 1),
              INT8.oid: (-(1 << 63), (1 << 63) - 1)}

_ARRAY_CACHE: dict[SqlType, SqlType] = {}

# User-defined (enum) types the running statement sees: an object with by_name(name) and
# by_oid(oid) (planner/enumtypes.UserTypes), set per statement by StatementContext; type
# lookups fall back to it for names and OIDs that are not built in.
USER_TYPES: ContextVar = ContextVar("immusql_user_types", default=None)


def array_shape(value: list) -> tuple[int, ...]:
    """The dimensions of an array value (nested lists: a sub-list is a dimension)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def array_of(t: SqlType) -> SqlType:
    """The array type whose elements are `t` (arrays of arrays are the same array type:
    PostgreSQL arrays carry their dimensions in the value)."""
    if t.element is not None:
        return t
    got = _ARRAY_CACHE.get(t)
    if got is None:
        oid = t.array_oid
        if not oid:
            raise UndefinedObject(f"could not find array type for data type {format_type(t)}")
        got = SqlType(t.name + "[]", oid, -1, t, "A", False)
        _ARRAY_CACHE[t] = got
    return got


def type_by_oid(oid: int) -> SqlType:
    """The type (or array type) with this OID; UndefinedObject if immusql lacks it."""
    t = _BY_OID.get(oid)
    if t is not None:
        return t
    for elem_oid, arr_oid in _ARRAY_OIDS.items():
        if arr_oid == oid:
            return array_of(_BY_OID[elem_oid])
    user = USER_TYPES.get()
    t = user.by_oid(oid) if user is not None and oid >= 16384 else None
    if t is not None:
        return t
    raise UndefinedObject(f"type with OID {oid} does not exist")


# ---------------------------------------------------------------- names and modifiers --

_ALIASES = {
    "int2": INT2, "smallint": INT2, "smallserial": INT2, "serial2": INT2,
    "int4": INT4, "int": INT4, "integer": INT4, "serial": INT4, "serial4": INT4,
    "int8": INT8, "bigint": INT8, "bigserial": INT8, "serial8": INT8,
    "float4": FLOAT4, "real": FLOAT4, "float8": FLOAT8, "double precision": FLOAT8,
    "numeric": NUMERIC, "decimal": NUMERIC, "dec": NUMERIC,
    "bool": BOOL, "boolean": BOOL, "text": TEXT,
    "varchar": VARCHAR, "character varying": VARCHAR, "char varying": VARCHAR,
    "bpchar": BPCHAR, "character": BPCHAR, "char": CHAR,
    "name": NAME, '"char"': CHAR, "bytea": BYTEA, "date": DATE,
    "time": TIME, "time without time zone": TIME, "timetz": TIMETZ,
    "time with time zone": TIMETZ, "timestamp": TIMESTAMP,
    "timestamp without time zone": TIMESTAMP, "timestamptz": TIMESTAMPTZ,
    "timestamp with time zone": TIMESTAMPTZ, "interval": INTERVAL, "uuid": UUID,
    "json": JSON, "jsonb": JSONB, "oid": OID, "regclass": REGCLASS, "regtype": REGTYPE,
    "regproc": REGPROC, "regnamespace": REGNAMESPACE, "unknown": UNKNOWN, "void": VOID,
    "regprocedure": REGPROCEDURE, "regoper": REGOPER, "regoperator": REGOPERATOR,
    "regrole": REGROLE, "int2vector": INT2VECTOR, "oidvector": OIDVECTOR, "xid": XID,
    "pg_node_tree": PG_NODE_TREE, "aclitem": ACLITEM,
    "record": RECORD,
}
for _k, _v in list(_ALIASES.items()):
    if _k.startswith("time") and " " in _k:
        continue
    _ALIASES.setdefault("pg_catalog." + _k, _v)

SERIAL_NAMES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial",
                          "serial2"})

_NO_MODIFIER_OK = frozenset({VARCHAR.oid, BPCHAR.oid, NUMERIC.oid, TIME.oid, TIMETZ.oid,
                             TIMESTAMP.oid, TIMESTAMPTZ.oid, INTERVAL.oid})
INTERVAL_FULL_RANGE = 0x7FFF


def _typmod(base: SqlType, mods: tuple[int, ...], written: str) -> int:
    """PostgreSQL's typmodin for `base` with the written modifiers (errors as PostgreSQL)."""
    if not mods:
        return 5 if base is BPCHAR and written == "character" else -1
    if base.oid not in _NO_MODIFIER_OK:
        raise SyntaxError(f"type modifier is not allowed for type \"{_TYPNAME[base.oid]}\"")
    if base is VARCHAR or base is BPCHAR:
        if len(mods) != 1:
            raise SyntaxError("invalid type modifier")
        n = mods[0]
        short = "varchar" if base is VARCHAR else "char"
        if n < 1:
            raise InvalidParameterValue(f"length for type {short} must be at least 1")
        if n > 10485760:
            raise InvalidParameterValue(f"length for type {short} cannot exceed 10485760")
        return n + 4
    if base is NUMERIC:
        if len(mods) > 2:
            raise SyntaxError("invalid NUMERIC type modifier")
        p = mods[0]
        s = mods[1] if len(mods) == 2 else 0
        if not 1 <= p <= 1000:
            raise InvalidParameterValue(f"NUMERIC precision {p} must be between 1 and 1000")
        if not -1000 <= s <= 1000:
            raise InvalidParameterValue(f"NUMERIC scale {s} must be between -1000 and 1000")
        return ((p << 16) | (s & 0x7FF)) + 4
    if len(mods) != 1:
        raise SyntaxError("invalid type modifier")
    p = mods[0]
    label = {TIME.oid: "TIME", TIMETZ.oid: "TIME(p) WITH TIME ZONE",
             TIMESTAMP.oid: "TIMESTAMP", TIMESTAMPTZ.oid: "TIMESTAMP(p) WITH TIME ZONE",
             INTERVAL.oid: "INTERVAL"}[base.oid]
    if p < 0:
        raise InvalidParameterValue(f"{label}({p}) precision must not be negative")
    p = min(p, 6)  # PostgreSQL warns and reduces to the maximum allowed, 6
    if base is INTERVAL:
        return (INTERVAL_FULL_RANGE << 16) | p
    return p


def numeric_precision_scale(typmod: int) -> tuple[int, int] | None:
    """(precision, scale) of a numeric typmod, or None when unconstrained."""
    if typmod < 4:
        return None
    tm = typmod - 4
    scale = tm & 0x7FF
    if scale & 0x400:  # negative scales are stored in 11-bit two's complement
        scale -= 0x800
    return (tm >> 16) & 0xFFFF, scale


def type_from_name(tn) -> SqlType:
    """The SqlType of a parsed TypeName (ast.TypeName: name, modifiers, array_dims).

    Serial types give their integer type (the DEFAULT nextval() is the planner's job; see
    SERIAL_NAMES). Names follow the parser's normalisation: SQL `CHAR`/`CHARACTER` arrive
    as 'character' (character(1) without modifier), the quoted one-byte type "char" as
    'char' (or '"char"'). float(p) gives real for p <= 24 and double precision up to 53,
    like PostgreSQL.
    """
    name = tn.name.lower() if not tn.name.startswith('"') else tn.name
    mods = tuple(tn.modifiers)
    if name in ("float", "pg_catalog.float"):
        if not mods:
            base = FLOAT8
        else:
            p = mods[0]
            if p < 1:
                raise InvalidParameterValue("precision for type float must be at least 1 bit")
            if p > 53:
                raise InvalidParameterValue(
                    "precision for type float must be less than 54 bits")
            base = FLOAT4 if p <= 24 else FLOAT8
        t = base
    else:
        base = _ALIASES.get(name)
        if base is None:
            user = USER_TYPES.get()
            base = user.by_name(tn.name) if user is not None else None
            if base is not None and mods:
                raise SyntaxError(f'type modifier is not allowed for type "{base.name}"')
        if base is None:
            raise UndefinedObject(f'type "{tn.name}" does not exist')
        t = base.with_typmod(_typmod(base, mods, name)) if base.oid in _NO_MODIFIER_OK \
            or mods else base
    if tn.array_dims:
        if t in (UNKNOWN, VOID):
            raise UndefinedObject(f'type "{tn.name}[]" does not exist')
        t = array_of(t)
    return t


def parse_type_string(text: str) -> SqlType:
    """A type written as text, as regtype input and `'...'::regtype` accept it:
    'integer', 'int4', 'character varying(10)', 'numeric(10,2)', 'text[]',
    'timestamp(3) with time zone'. Raises UndefinedObject for unknown names."""
    from types import SimpleNamespace
    s = " ".join(text.strip().split())
    low = s.lower()
    dims = 0
    while low.endswith("[]"):
        dims += 1
        low = low[:-2].rstrip()
    mods: tuple[int, ...] = ()
    if "(" in low:
        head, _, rest = low.partition("(")
        inner, _, tail = rest.partition(")")
        try:
            mods = tuple(int(x) for x in inner.split(","))
        except ValueError:
            raise SyntaxError(f'invalid type name "{text}"') from None
        low = (head.strip() + " " + tail.strip()).strip()
    if low.startswith('"') and low != '"char"':
        low = low.strip('"')
    elif low == "char":
        low = "character"  # in SQL text an unquoted char is character(1)
    try:
        return type_from_name(SimpleNamespace(name=low, modifiers=mods, array_dims=dims))
    except UndefinedObject:
        raise UndefinedObject(f'type "{text.strip()}" does not exist') from None


def format_type(t: SqlType) -> str:
    """PostgreSQL's format_type(oid, typmod) spelling: 'character varying(10)',
    'numeric(10,2)', 'timestamp(3) with time zone', 'integer[]', 'bpchar' (character
    without length)."""
    if t.element is not None:
        if t.oid in VECTOR_OIDS:
            return t.name
        return format_type(t.element) + "[]"
    tm = t.typmod
    if tm < 0:
        return "bpchar" if t.oid == BPCHAR.oid else t.name
    if t.oid in (VARCHAR.oid, BPCHAR.oid):
        return f"{t.name}({tm - 4})"
    if t.oid == NUMERIC.oid:
        ps = numeric_precision_scale(tm)
        return f"numeric({ps[0]},{ps[1]})" if ps else "numeric"
    if t.oid in (TIMESTAMP.oid, TIMESTAMPTZ.oid, TIME.oid, TIMETZ.oid):
        head, _, tail = t.name.partition(" ")
        return f"{head}({tm}) {tail}"
    if t.oid == INTERVAL.oid:
        p = tm & 0xFFFF
        return "interval" if p == 0xFFFF else f"interval({p})"
    return t.name


def regtype_name(t: SqlType) -> str:
    """How a regtype value prints (format_type without modifier: 'character', not
    'bpchar')."""
    return format_type(t.base) if t.oid != BPCHAR.oid else "character"


def length_limit(t: SqlType) -> int | None:
    """n of varchar(n) / char(n), else None."""
    if t.oid in (VARCHAR.oid, BPCHAR.oid) and t.typmod >= 4:
        return t.typmod - 4
    return None


def time_precision(t: SqlType) -> int | None:
    """p of timestamp(p) / time(p) / interval(p), else None."""
    if t.typmod < 0:
        return None
    if t.oid == INTERVAL.oid:
        p = t.typmod & 0xFFFF
        return None if p == 0xFFFF else p
    if t.oid in (TIME.oid, TIMETZ.oid, TIMESTAMP.oid, TIMESTAMPTZ.oid):
        return t.typmod
    return None
