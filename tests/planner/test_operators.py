"""Operator resolution and semantics against PostgreSQL 15 (tables checked on a real
server: see pg_cases())."""

from decimal import Decimal

import pytest

from immusql.errors import AmbiguousFunction, UndefinedFunction
from immusql.planner import patterns
from immusql.planner import types as T
from immusql.planner.casts import format_text, parse_text
from immusql.planner.operators import comparison, resolve_binary, resolve_unary
from immusql.planner.types import parse_type_string

U = "unknown"

# (left type, left literal, op, right type, right literal, "result|result type" or ERR)
BINARY = [
    ("integer", "1", "+", "integer", "2", "3|integer"),
    ("integer", "1", "+", "numeric", "2.5", "3.5|numeric"),
    ("integer", "1", "+", "double precision", "2.5", "3.5|double precision"),
    ("numeric", "1.5", "+", "double precision", "2", "3.5|double precision"),
    ("smallint", "1", "+", "smallint", "2", "3|smallint"),
    ("smallint", "1", "+", "integer", "2", "3|integer"),
    ("integer", "1", "+", "bigint", "2", "3|bigint"),
    ("smallint", "1", "%", "bigint", "2", "1|bigint"),
    ("real", "1.5", "+", "real", "2.25", "3.75|real"),
    ("real", "0.1", "+", "double precision", "0.2", "0.30000000149011613|double precision"),
    ("double precision", "0.1", "+", "double precision", "0.2",
     "0.30000000000000004|double precision"),
    (U, "1", "+", "integer", "2", "3|integer"),
    ("integer", "2147483647", "+", "integer", "1", "ERR:22003:integer out of range"),
    ("smallint", "200", "*", "smallint", "200", "ERR:22003:smallint out of range"),
    ("bigint", "9223372036854775807", "+", "bigint", "1", "ERR:22003:bigint out of range"),
    ("integer", "-2147483648", "/", "integer", "-1", "ERR:22003:integer out of range"),
    ("integer", "-2147483648", "%", "integer", "-1", "0|integer"),
    ("integer", "-7", "/", "integer", "2", "-3|integer"),
    ("integer", "7", "/", "integer", "-2", "-3|integer"),
    ("integer", "-7", "%", "integer", "2", "-1|integer"),
    ("integer", "7", "%", "integer", "-2", "1|integer"),
    ("integer", "1", "/", "integer", "0", "ERR:22012:division by zero"),
    ("integer", "1", "%", "integer", "0", "ERR:22012:division by zero"),
    ("numeric", "1", "/", "numeric", "0", "ERR:22012:division by zero"),
    ("double precision", "1", "/", "double precision", "0", "ERR:22012:division by zero"),
    ("numeric", "1", "/", "numeric", "3", "0.33333333333333333333|numeric"),
    ("numeric", "10.00", "/", "numeric", "3", "3.3333333333333333|numeric"),
    ("numeric", "1", "/", "numeric", "7000", "0.00014285714285714286|numeric"),
    ("numeric", "7000", "/", "numeric", "1", "7000.0000000000000000|numeric"),
    ("numeric", "123456789", "/", "numeric", "0.001", "123456789000.00000000|numeric"),
    ("numeric", "2", "/", "numeric", "3", "0.66666666666666666667|numeric"),
    ("numeric", "-2", "/", "numeric", "3", "-0.66666666666666666667|numeric"),
    ("integer", "1", "/", "numeric", "3", "0.33333333333333333333|numeric"),
    ("numeric", "1.50", "*", "numeric", "2.0", "3.000|numeric"),
    ("numeric", "1.50", "+", "numeric", "1", "2.50|numeric"),
    ("numeric", "-5.5", "%", "numeric", "2", "-1.5|numeric"),
    ("numeric", "NaN", "+", "numeric", "1", "NaN|numeric"),
    ("numeric", "Infinity", "-", "numeric", "Infinity", "NaN|numeric"),
    ("integer", "2", "^", "integer", "3", "8|double precision"),
    ("numeric", "2.0", "^", "numeric", "3", "8.0000000000000000|numeric"),
    ("numeric", "2", "^", "numeric", "0.5", "1.4142135623730950|numeric"),
    ("numeric", "2", "^", "numeric", "-2", "0.2500000000000000|numeric"),
    ("double precision", "0", "^", "double precision", "-1",
     "ERR:2201F:zero raised to a negative power is undefined"),
    ("double precision", "-8", "^", "double precision", "0.5", "ERR:2201F"),
    ("double precision", "1e308", "*", "double precision", "10",
     "ERR:22003:value out of range: overflow"),
    ("double precision", "1e-308", "*", "double precision", "1e-308",
     "ERR:22003:value out of range: underflow"),
    ("double precision", "Infinity", "+", "double precision", "1", "Infinity|double precision"),
    ("double precision", "NaN", "=", "double precision", "NaN", "t|boolean"),
    ("double precision", "NaN", ">", "double precision", "Infinity", "t|boolean"),
    ("numeric", "NaN", ">", "numeric", "Infinity", "t|boolean"),
    ("numeric", "NaN", "=", "numeric", "NaN", "t|boolean"),
    ("double precision", "-0", "=", "double precision", "0", "t|boolean"),
    ("integer", "1", "=", "double precision", "1.0", "t|boolean"),
    ("integer", "1", "<", "bigint", "2", "t|boolean"),
    ("integer", "1", "=", "numeric", "1.0", "t|boolean"),
    ("numeric", "1.5", "=", "numeric", "1.50", "t|boolean"),
    (U, "a", "=", U, "a", "t|boolean"), ("text", "a", "<", "text", "B", "f|boolean"),
    ("text", "abc", "<", "text", "abd", "t|boolean"),
    ("text", "a", "<", "character varying", "b", "t|boolean"),
    ("character(5)", "a", "=", "character(5)", "a   ", "t|boolean"),
    ("character(5)", "a", "=", U, "a", "t|boolean"),
    ("text", "é", ">", "text", "z", "t|boolean"),
    ("boolean", "t", ">", "boolean", "f", "t|boolean"),
    ("date", "2024-01-01", "<", "timestamp", "2024-01-01 00:00:01", "t|boolean"),
    ("date", "2024-01-01", "=", "timestamp with time zone", "2024-01-01 00:00:00+00",
     "t|boolean"),
    ("timestamp", "2024-01-01 01:00", "=", "timestamp with time zone", "2024-01-01 01:00+00",
     "t|boolean"),
    ("date", "infinity", ">", "date", "2024-01-01", "t|boolean"),
    ("interval", "1 mon", "=", "interval", "30 days", "t|boolean"),
    ("interval", "1 day", "<", "interval", "25 hours", "t|boolean"),
    ("integer[]", "{1,2}", "<", "integer[]", "{1,2,0}", "t|boolean"),
    ("integer[]", "{1,NULL}", "=", "integer[]", "{1,NULL}", "t|boolean"),
    ("integer[]", "{2}", ">", "integer[]", "{1,5}", "t|boolean"),
    ("integer[]", "{1,NULL}", ">", "integer[]", "{1,5}", "t|boolean"),
    ("jsonb", '{"a":1}', "=", "jsonb", '{ "a" : 1 }', "t|boolean"),
    ("jsonb", "[]", "<", "jsonb", "null", "t|boolean"),
    ("jsonb", '{"a":1}', ">", "jsonb", "[1,2,3]", "t|boolean"),
    ("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "<", "uuid",
     "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "t|boolean"),
    ("json", "1", "=", "json", "1", "ERR:42883:operator does not exist: json = json"),
    ("integer", "1", "+", "text", "a", "ERR:42883:operator does not exist: integer + text"),
    (U, "1", "+", U, "2", "ERR:42725:operator is not unique: unknown + unknown"),
    ("text", "a", "||", "text", "b", "ab|text"), (U, "a", "||", U, "b", "ab|text"),
    ("integer", "1", "||", U, "a", "1a|text"), (U, "a", "||", "integer", "1", "a1|text"),
    ("boolean", "t", "||", U, "a", "truea|text"),
    ("double precision", "1.5", "||", "text", "x", "1.5x|text"),
    ("numeric", "1.50", "||", "text", "x", "1.50x|text"),
    ("bytea", "\\x01", "||", "bytea", "\\x02", "\\x0102|bytea"),
    ("integer[]", "{1}", "||", "integer", "2", "{1,2}|integer[]"),
    ("integer", "0", "||", "integer[]", "{1}", "{0,1}|integer[]"),
    ("integer[]", "{1}", "||", "integer[]", "{2,3}", "{1,2,3}|integer[]"),
    ("integer[]", "{1}", "||", U, "{2,3}", "{1,2,3}|integer[]"),
    ("integer[]", "{{1,2}}", "||", "integer[]", "{3,4}", "{{1,2},{3,4}}|integer[]"),
    ("text[]", "{a}", "||", "text", "b", "{a,b}|text[]"),
    ("integer", "5", "&", "integer", "3", "1|integer"),
    ("integer", "5", "|", "integer", "3", "7|integer"),
    ("integer", "5", "#", "integer", "3", "6|integer"),
    ("integer", "1", "<<", "integer", "4", "16|integer"),
    ("integer", "-16", ">>", "integer", "2", "-4|integer"),
    ("bigint", "1", "<<", "integer", "62", "4611686018427387904|bigint"),
    ("date", "2024-01-31", "+", "integer", "1", "2024-02-01|date"),
    ("integer", "1", "+", "date", "2024-01-31", "2024-02-01|date"),
    ("date", "2024-03-01", "-", "date", "2024-02-01", "29|integer"),
    ("date", "2024-03-01", "-", "integer", "1", "2024-02-29|date"),
    ("date", "2024-01-31", "+", "interval", "1 mon", "2024-02-29 00:00:00|"
                                                     "timestamp without time zone"),
    ("date", "2024-01-31", "-", "interval", "1 day", "2024-01-30 00:00:00|"
                                                      "timestamp without time zone"),
    ("date", "2024-01-31", "+", "time", "10:00", "2024-01-31 10:00:00|"
                                                  "timestamp without time zone"),
    ("timestamp", "2024-01-31 10:00", "+", "interval", "1 mon 1 day 1 hour",
     "2024-03-01 11:00:00|timestamp without time zone"),
    ("timestamp", "2024-03-31 10:00", "-", "interval", "1 mon",
     "2024-02-29 10:00:00|timestamp without time zone"),
    ("timestamp", "2024-01-02", "-", "timestamp", "2024-01-01 12:00", "12:00:00|interval"),
    ("timestamp", "2024-03-02", "-", "timestamp", "2024-01-01 12:00",
     "60 days 12:00:00|interval"),
    ("timestamp with time zone", "2024-01-02 00:00+00", "-", "timestamp with time zone",
     "2024-01-01 00:00+02", "1 day 02:00:00|interval"),
    ("timestamp with time zone", "2024-01-31 00:00+00", "+", "interval", "1 mon",
     "2024-02-29 00:00:00+00|timestamp with time zone"),
    ("interval", "1 day", "+", "interval", "1 hour", "1 day 01:00:00|interval"),
    ("interval", "1 mon", "*", "double precision", "1.5", "1 mon 15 days|interval"),
    ("interval", "1 mon", "*", U, "1.5", "1 mon 15 days|interval"),
    ("integer", "2", "*", "interval", "1 day 1 hour", "2 days 02:00:00|interval"),
    ("interval", "1 day", "/", "integer", "3", "08:00:00|interval"),
    ("interval", "1 mon", "/", "double precision", "7", "4 days 06:51:25.6896|interval"),
    ("interval", "1 day", "/", "integer", "0", "ERR:22012:division by zero"),
    ("time", "23:00", "+", "interval", "2 hours", "01:00:00|time without time zone"),
    ("time", "10:00", "-", "time", "08:30", "01:30:00|interval"),
    ("text", "abc", "~", U, "^a", "t|boolean"), ("text", "abc", "~", U, "^B", "f|boolean"),
    ("text", "abc", "~*", U, "^A", "t|boolean"), ("text", "abc", "!~", U, "c$", "f|boolean"),
    ("text", "a.c", "~", U, "a\\.c", "t|boolean"),
    ("text", "foo bar", "~", U, "\\mbar", "t|boolean"),
    ("text", "abc1", "~", U, "[[:digit:]]$", "t|boolean"),
    ("text", "abc", "~", U, "(", "ERR:2201B"),
    ("text", "abc", "~~", U, "a%", "t|boolean"), ("text", "abc", "~~", U, "_b_", "t|boolean"),
    ("text", "ABC", "~~*", U, "a%", "t|boolean"), ("text", "a%c", "~~", U, "a\\%c", "t|boolean"),
    ("text", "abc", "!~~", U, "a%", "f|boolean"),
    ("jsonb", '{"a":{"b":2}}', "->", U, "a", '{"b": 2}|jsonb'),
    ("jsonb", '{"a":"x"}', "->>", U, "a", "x|text"),
    ("jsonb", '[1,2,3]', "->", "integer", "-1", "3|jsonb"),
    ("jsonb", '[1,2,3]', "->>", "integer", "0", "1|text"),
    ("jsonb", '{"a":{"b":[5,6]}}', "#>", U, "{a,b,1}", "6|jsonb"),
    ("jsonb", '{"a":{"b":[5,6]}}', "#>>", U, "{a,b}", "[5, 6]|text"),
    ("json", '{"a": [1,  2]}', "->", U, "a", "[1,  2]|json"),
    ("json", '{"a": "x"}', "->>", U, "a", "x|text"),
    ("json", '[1, {"b": true}]', "#>", U, "{1,b}", "true|json"),
    ("jsonb", '{"a":1,"b":2}', "@>", U, '{"a":1}', "t|boolean"),
    ("jsonb", '{"a":{"b":1,"c":2}}', "@>", U, '{"a":{"b":1}}', "t|boolean"),
    ("jsonb", '[1,[2]]', "@>", U, '[[2]]', "t|boolean"),
    ("jsonb", '[1,2]', "@>", U, '1', "t|boolean"),
    ("jsonb", '{"a":1}', "<@", U, '{"a":1,"b":2}', "t|boolean"),
    ("jsonb", '["a","b"]', "?", U, "a", "t|boolean"),
    ("jsonb", '{"a":1}', "?", U, "b", "f|boolean"),
    ("jsonb", '{"a":1,"b":2}', "?|", U, "{b,c}", "t|boolean"),
    ("jsonb", '{"a":1,"b":2}', "?&", U, "{b,c}", "f|boolean"),
    ("jsonb", '{"a":1}', "||", U, '{"b":2}', '{"a": 1, "b": 2}|jsonb'),
    ("jsonb", '[1]', "||", U, '2', '[1, 2]|jsonb'),
    ("jsonb", '{"a":1,"b":2}', "-", U, 'a', '{"b": 2}|jsonb'),
    ("integer[]", "{1,2,3}", "@>", U, "{2,3}", "t|boolean"),
    ("integer[]", "{1,2}", "<@", U, "{1,2,3}", "t|boolean"),
    ("integer[]", "{1,2}", "&&", U, "{3,2}", "t|boolean"),
    ("integer[]", "{1,NULL}", "@>", U, "{NULL}", "f|boolean"),
]


def _value(typ, lit):
    t = parse_type_string(typ) if typ != U else T.UNKNOWN
    return t, (lit if typ == U else parse_text(lit, t))


@pytest.mark.parametrize("lt,lv,op,rt,rv,expected", BINARY, ids=lambda x: str(x))
def test_binary(lt, lv, op, rt, rv, expected):
    (ltype, left), (rtype, right) = _value(lt, lv), _value(rt, rv)
    if expected.startswith("ERR:"):
        code, _, msg = expected[4:].partition(":")
        with pytest.raises(Exception) as e:
            fn, rtype_ = resolve_binary(op, ltype, rtype)
            fn(left, right)
        assert getattr(e.value, "sqlstate", None) == code, repr(e.value)
        assert msg in str(e.value)
        return
    fn, result_type = resolve_binary(op, ltype, rtype)
    value, type_name = expected.split("|")
    assert T.regtype_name(result_type) == type_name
    assert format_text(fn(left, right), result_type) == value


UNARY = [
    ("-", "integer", "5", "-5|integer"), ("-", "integer", "-2147483648",
                                         "ERR:22003:integer out of range"),
    ("-", "numeric", "1.50", "-1.50|numeric"), ("-", "double precision", "0",
                                                "-0|double precision"),
    ("@", "integer", "-5", "5|integer"), ("~", "integer", "5", "-6|integer"),
    ("-", "interval", "1 day -01:00:00", "-1 days +01:00:00|interval"),
    ("+", "smallint", "3", "3|smallint"), ("|/", "double precision", "16",
                                           "4|double precision"),
    ("-", "text", "a", "ERR:42883:operator does not exist: - text"),
]


@pytest.mark.parametrize("op,typ,lit,expected", UNARY, ids=lambda x: str(x))
def test_unary(op, typ, lit, expected):
    t, v = _value(typ, lit)
    if expected.startswith("ERR:"):
        code, _, msg = expected[4:].partition(":")
        with pytest.raises(Exception) as e:
            fn, _ = resolve_unary(op, t)
            fn(v)
        assert e.value.sqlstate == code and msg in str(e.value)
        return
    fn, rt = resolve_unary(op, t)
    value, type_name = expected.split("|")
    assert T.regtype_name(rt) == type_name
    assert format_text(fn(v), rt) == value


def test_error_hints():
    with pytest.raises(UndefinedFunction) as e:
        resolve_binary("+", T.INT4, T.TEXT)
    assert e.value.hint == ("No operator matches the given name and argument types. You "
                            "might need to add explicit type casts.")
    with pytest.raises(AmbiguousFunction) as e:
        resolve_binary("+", T.UNKNOWN, T.UNKNOWN)
    assert e.value.sqlstate == "42725"


def test_resolved_arg_types():
    fn, rt = resolve_binary("+", T.INT4, T.NUMERIC)
    assert fn.arg_types == (T.NUMERIC, T.NUMERIC) and rt == T.NUMERIC
    assert fn(1, Decimal("0.5")) == Decimal("1.5")


def test_comparison_helper():
    lt = comparison("<", T.FLOAT8)
    assert lt(1.0, float("nan")) and not lt(float("nan"), float("inf"))
    eq = comparison("=", T.BPCHAR)
    assert eq("a  ", "a")


def test_timestamptz_arithmetic_in_session_zone():
    class Ctx:
        timezone = "America/New_York"
    fn, rt = resolve_binary("+", T.TIMESTAMPTZ, T.INTERVAL, ctx=Ctx())
    start = parse_text("2024-03-09 12:00", T.TIMESTAMPTZ, tz="America/New_York")
    got = fn(start, parse_text("1 day", T.INTERVAL))
    # across the DST change a day is 23 hours of absolute time
    assert format_text(got, rt, tz="America/New_York") == "2024-03-10 12:00:00-04"
    got = fn(start, parse_text("24 hours", T.INTERVAL))
    assert format_text(got, rt, tz="America/New_York") == "2024-03-10 13:00:00-04"


LIKE = [
    ("abc", "abc", None, True), ("abc", "a%", None, True), ("abc", "%c", None, True),
    ("abc", "a_c", None, True), ("abc", "a_", None, False), ("a\nc", "a%c", None, True),
    ("a%c", "a\\%c", None, True), ("abc", "a\\%c", None, False), ("a_c", "a#_c", "#", True),
    ("abc", "a#_c", "#", False), ("a\\c", "a\\c", "", True), ("", "%", None, True),
    ("x.y", "x.y", None, True), ("x+y", "x+y", None, True), ("xay", "x.y", None, False),
]


@pytest.mark.parametrize("value,pattern,escape,expected", LIKE)
def test_like(value, pattern, escape, expected):
    assert patterns.like(value, pattern, escape) is expected


def test_like_errors():
    with pytest.raises(Exception) as e:
        patterns.like("a", "a\\")
    assert e.value.sqlstate == "22025"
    assert str(e.value) == "LIKE pattern must not end with escape character"
    with pytest.raises(Exception) as e:
        patterns.like("a", "a", "ab")
    assert e.value.sqlstate == "22025"  # PostgreSQL: invalid escape string
    assert patterns.like("ABC", "a%", None, ilike=True)


SIMILAR = [("abc", "abc", True), ("abc", "a%", True), ("abc", "%(b|d)%", True),
           ("abc", "(a|b)*c", True), ("abc", "ab", False), ("a.c", "a.c", True),
           ("abc", "a.c", False), ("aaa", "a{2,3}", True), ("abc", "[a-c]+", True),
           # anchored at both ends (PostgreSQL's ^(?:...)$), `_` one character
           ("abc", "a", False), ("abc", "[ab]+", False), ("a\n", "a", False),
           ("x]", "[]x]+", True), ("a^", "_^", True), ("ab", "a|ab", True)]


@pytest.mark.parametrize("value,pattern,expected", SIMILAR)
def test_similar(value, pattern, expected):
    assert patterns.compile_similar(pattern)(value) is expected


def pg_cases():
    def lit(typ, v):
        return "'" + v.replace("'", "''") + "'" + ("" if typ == U else f"::{typ}")
    out = []
    for lt, lv, op, rt, rv, exp in BINARY:
        e = f"{lit(lt, lv)} {op} {lit(rt, rv)}"
        if exp.startswith("ERR:"):
            out.append((f"select {e}", exp))
        else:
            out.append((f"select {e}, pg_typeof({e})", exp))
    for op, typ, lv, exp in UNARY:
        e = f"{op} {lit(typ, lv)}"
        out.append((f"select {e}" if exp.startswith("ERR") else f"select {e}, pg_typeof({e})",
                    exp))
    for value, pattern, escape, exp in LIKE:
        esc = "" if escape is None else f" escape {lit(U, escape)}"
        out.append((f"select {lit('text', value)} like {lit(U, pattern)}{esc}",
                    "t" if exp else "f"))
    for value, pattern, exp in SIMILAR:
        out.append((f"select {lit('text', value)} similar to {lit(U, pattern)}",
                    "t" if exp else "f"))
    return out
