"""SqlType catalog, type names, typmods and format_type (checked against PostgreSQL 15's
pg_type and format_type())."""

from types import SimpleNamespace

import pytest

from immusql.errors import InvalidParameterValue, SyntaxError, UndefinedObject
from immusql.parser.ast import TypeName
from immusql.planner import types as T
from immusql.planner.types import (
    NEG_INFINITY,
    POS_INFINITY,
    Interval,
    SqlType,
    array_of,
    format_type,
    parse_type_string,
    type_from_name,
)

# (constant, oid, array oid, category, preferred, format_type) from pg_type
CATALOG = [
    (T.BOOL, 16, 1000, "B", True, "boolean"),
    (T.BYTEA, 17, 1001, "U", False, "bytea"),
    (T.CHAR, 18, 1002, "Z", False, '"char"'),
    (T.NAME, 19, 1003, "S", False, "name"),
    (T.INT8, 20, 1016, "N", False, "bigint"),
    (T.INT2, 21, 1005, "N", False, "smallint"),
    (T.INT4, 23, 1007, "N", False, "integer"),
    (T.REGPROC, 24, 1008, "N", False, "regproc"),
    (T.TEXT, 25, 1009, "S", True, "text"),
    (T.OID, 26, 1028, "N", True, "oid"),
    (T.JSON, 114, 199, "U", False, "json"),
    (T.FLOAT4, 700, 1021, "N", False, "real"),
    (T.FLOAT8, 701, 1022, "N", True, "double precision"),
    (T.UNKNOWN, 705, 0, "X", False, "unknown"),
    (T.BPCHAR, 1042, 1014, "S", False, "bpchar"),
    (T.VARCHAR, 1043, 1015, "S", False, "character varying"),
    (T.DATE, 1082, 1182, "D", False, "date"),
    (T.TIME, 1083, 1183, "D", False, "time without time zone"),
    (T.TIMESTAMP, 1114, 1115, "D", False, "timestamp without time zone"),
    (T.TIMESTAMPTZ, 1184, 1185, "D", True, "timestamp with time zone"),
    (T.INTERVAL, 1186, 1187, "T", True, "interval"),
    (T.TIMETZ, 1266, 1270, "D", False, "time with time zone"),
    (T.NUMERIC, 1700, 1231, "N", False, "numeric"),
    (T.REGCLASS, 2205, 2210, "N", False, "regclass"),
    (T.REGTYPE, 2206, 2211, "N", False, "regtype"),
    (T.RECORD, 2249, 2287, "P", False, "record"),
    (T.VOID, 2278, 0, "P", False, "void"),
    (T.UUID, 2950, 2951, "U", False, "uuid"),
    (T.JSONB, 3802, 3807, "U", False, "jsonb"),
    (T.REGNAMESPACE, 4089, 4090, "N", False, "regnamespace"),
]


@pytest.mark.parametrize("t,oid,array_oid,cat,pref,fmt", CATALOG, ids=lambda x: str(x))
def test_catalog(t, oid, array_oid, cat, pref, fmt):
    assert t.oid == oid
    assert t.category == cat
    assert t.preferred is pref
    assert t.typmod == -1
    assert format_type(t) == fmt
    assert t.array_oid == array_oid
    if array_oid:
        a = array_of(t)
        assert a.oid == array_oid and a.element == t and a.category == "A"
        assert T.type_by_oid(array_oid) == a


def tn(name, *mods, dims=0):
    return TypeName(name, tuple(mods), dims)


# (TypeName, format_type, typmod) -- PostgreSQL's atttypmod encoding
NAMES = [
    (tn("integer"), "integer", -1),
    (tn("int"), "integer", -1),
    (tn("int4"), "integer", -1),
    (tn("serial"), "integer", -1),
    (tn("bigserial"), "bigint", -1),
    (tn("smallserial"), "smallint", -1),
    (tn("character varying", 10), "character varying(10)", 14),
    (tn("varchar"), "character varying", -1),
    (tn("character"), "character(1)", 5),
    (tn("character", 3), "character(3)", 7),
    (tn("char"), '"char"', -1),  # the parser's name for the quoted "char"
    (tn("bpchar"), "bpchar", -1),
    (tn('"char"'), '"char"', -1),
    (tn("numeric", 10, 2), "numeric(10,2)", 655366),
    (tn("numeric", 5), "numeric(5,0)", (5 << 16) + 4),
    (tn("decimal", 7, 3), "numeric(7,3)", (7 << 16 | 3) + 4),
    (tn("numeric", 3, -2), "numeric(3,-2)", ((3 << 16) | (-2 & 0x7FF)) + 4),
    (tn("numeric"), "numeric", -1),
    (tn("timestamp with time zone"), "timestamp with time zone", -1),
    (tn("timestamptz", 3), "timestamp(3) with time zone", 3),
    (tn("timestamp", 0), "timestamp(0) without time zone", 0),
    (tn("time", 2), "time(2) without time zone", 2),
    (tn("interval", 3), "interval(3)", (0x7FFF << 16) | 3),
    (tn("float"), "double precision", -1),
    (tn("float", 24), "real", -1),
    (tn("float", 25), "double precision", -1),
    (tn("real"), "real", -1),
    (tn("double precision"), "double precision", -1),
    (tn("boolean"), "boolean", -1),
    (tn("bool"), "boolean", -1),
    (tn("integer", dims=1), "integer[]", -1),
    (tn("text", dims=2), "text[]", -1),
    (tn("character varying", 5, dims=1), "character varying(5)[]", -1),
    (tn("jsonb"), "jsonb", -1),
    (tn("regclass"), "regclass", -1),
]


@pytest.mark.parametrize("name,fmt,typmod", NAMES, ids=lambda x: str(x))
def test_type_from_name(name, fmt, typmod):
    t = type_from_name(name)
    assert format_type(t) == fmt
    if not name.array_dims:
        assert t.typmod == typmod


def test_unknown_type():
    with pytest.raises(UndefinedObject) as e:
        type_from_name(tn("foo"))
    assert str(e.value) == 'type "foo" does not exist'
    assert e.value.sqlstate == "42704"


@pytest.mark.parametrize("name,exc,msg", [
    (tn("varchar", 0), InvalidParameterValue, "length for type varchar must be at least 1"),
    (tn("character", 0), InvalidParameterValue, "length for type char must be at least 1"),
    (tn("numeric", 0), InvalidParameterValue, "NUMERIC precision 0 must be between 1 and 1000"),
    (tn("numeric", 1001), InvalidParameterValue,
     "NUMERIC precision 1001 must be between 1 and 1000"),
    (tn("float", 0), InvalidParameterValue, "precision for type float must be at least 1 bit"),
    (tn("float", 54), InvalidParameterValue,
     "precision for type float must be less than 54 bits"),
    (tn("integer", 5), SyntaxError, 'type modifier is not allowed for type "int4"'),
    (tn("char", 3), SyntaxError, 'type modifier is not allowed for type "char"'),
])
def test_bad_modifiers(name, exc, msg):
    with pytest.raises(exc) as e:
        type_from_name(name)
    assert str(e.value) == msg


def test_type_from_name_accepts_duck_typed_names():
    t = type_from_name(SimpleNamespace(name="INTEGER", modifiers=(), array_dims=0))
    assert t == T.INT4


@pytest.mark.parametrize("text,fmt", [
    ("integer", "integer"), ("int4", "integer"), ("character varying(10)",
                                                   "character varying(10)"),
    ("numeric(10,2)", "numeric(10,2)"), ("text[]", "text[]"),
    ("timestamp(3) with time zone", "timestamp(3) with time zone"),
    ("  double   precision ", "double precision"), ("char", "character(1)"),
    ("char(3)", "character(3)"), ('"char"', '"char"'), ("bpchar", "bpchar"),
])
def test_parse_type_string(text, fmt):
    assert format_type(parse_type_string(text)) == fmt


def test_parse_type_string_unknown():
    with pytest.raises(UndefinedObject):
        parse_type_string("nosuchtype")


def test_base_and_with_typmod():
    v10 = T.VARCHAR.with_typmod(14)
    assert v10 != T.VARCHAR and v10.base == T.VARCHAR
    assert array_of(v10).base == array_of(T.VARCHAR)
    assert T.length_limit(v10) == 10
    assert T.numeric_precision_scale(655366) == (10, 2)
    assert T.numeric_precision_scale(-1) is None
    assert T.time_precision(T.TIMESTAMP.with_typmod(3)) == 3
    assert str(v10) == "character varying(10)"
    assert isinstance(v10, SqlType)


def test_array_of_array_is_same_type():
    a = array_of(T.INT4)
    assert array_of(a) is a
    with pytest.raises(UndefinedObject):
        array_of(T.UNKNOWN)


def test_regtype_name():
    assert T.regtype_name(T.BPCHAR) == "character"
    assert T.regtype_name(T.VARCHAR.with_typmod(14)) == "character varying"
    assert T.regtype_name(array_of(T.INT4)) == "integer[]"


# ---------------------------------------------------------------------- Interval --

def test_interval_compares_by_span():
    assert Interval(1, 0, 0) == Interval(0, 30, 0)
    assert Interval(0, 1, 0) == Interval(0, 0, 86_400_000_000)
    assert hash(Interval(1, 0, 0)) == hash(Interval(0, 30, 0))
    assert Interval(0, 0, 1) > Interval(0, 0, 0)
    assert Interval(-1, 0, 0) < Interval(0, -29, 0)
    assert sorted([Interval(0, 31, 0), Interval(1, 0, 0), Interval(0, 0, -1)]) == [
        Interval(0, 0, -1), Interval(1, 0, 0), Interval(0, 31, 0)]
    assert Interval(1, 0, 0).fields() == (1, 0, 0)
    assert Interval(1, 2, 3) != (1, 2, 3)


def test_infinity_sentinels():
    import datetime as dt
    d = dt.date(2024, 1, 1)
    ts = dt.datetime(2024, 1, 1)
    tz = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    for v in (d, ts, tz):
        assert NEG_INFINITY < v < POS_INFINITY
        assert v > NEG_INFINITY and v <= POS_INFINITY
        assert v != POS_INFINITY
    assert sorted([POS_INFINITY, d, NEG_INFINITY]) == [NEG_INFINITY, d, POS_INFINITY]
    assert POS_INFINITY == POS_INFINITY and NEG_INFINITY < POS_INFINITY
    assert max([ts, POS_INFINITY]) is POS_INFINITY
    assert T.is_infinite(POS_INFINITY) and not T.is_infinite(d)
    import pickle
    assert pickle.loads(pickle.dumps(POS_INFINITY)) is POS_INFINITY


def test_typname():
    assert T.typname(T.INT4) == "int4"
    assert T.typname(array_of(T.TEXT)) == "_text"
    assert T.typname(T.BPCHAR) == "bpchar"
