"""Implementations of PostgreSQL's operators, registered into operators.py's tables.

Why separate: operators.py holds resolution; this file holds the many small
implementations (one per pg_operator row we support), each taking already-coerced
non-NULL Python values. Error texts and SQLSTATEs follow PostgreSQL 15.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from ..errors import DatetimeFieldOverflow, DivisionByZero, NumericValueOutOfRange
from . import intervals as ivs
from . import jsonvals, patterns
from . import numerics as nums
from . import types as T
from .overload import ANYARRAY, ANYELEMENT, ANYNONARRAY

INTS = (T.INT2, T.INT4, T.INT8)
_WIDTH = {T.INT2.oid: 0, T.INT4.oid: 1, T.INT8.oid: 2}


def _wider(a, b):
    return a if _WIDTH[a.oid] >= _WIDTH[b.oid] else b


# --------------------------------------------------------------------- integers --

def _int_ops(oid):
    chk = nums.check_int

    def add(a, b):
        return chk(a + b, oid)

    def sub(a, b):
        return chk(a - b, oid)

    def mul(a, b):
        return chk(a * b, oid)

    def div(a, b):
        if b == 0:
            raise DivisionByZero("division by zero")
        q = abs(a) // abs(b)
        return chk(q if (a >= 0) == (b > 0) else -q, oid)

    def mod(a, b):
        if b == 0:
            raise DivisionByZero("division by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r

    return {"+": add, "-": sub, "*": mul, "/": div, "%": mod}


def _shift_left(oid):
    bits = {T.INT2.oid: 16, T.INT4.oid: 32, T.INT8.oid: 64}[oid]

    def f(a, n):
        n &= bits - 1  # C shifts use the count modulo the width on x86
        v = (a << n) & ((1 << bits) - 1)
        return v - (1 << bits) if v >= (1 << (bits - 1)) else v

    return f


def _shift_right(oid):
    bits = {T.INT2.oid: 16, T.INT4.oid: 32, T.INT8.oid: 64}[oid]
    return lambda a, n: a >> (n & (bits - 1))


# ----------------------------------------------------------------------- floats --

def _float_ops(oid):
    chk = nums.check_float

    def add(a, b):
        return chk(a + b, oid, math.isinf(a) or math.isinf(b))

    def sub(a, b):
        return chk(a - b, oid, math.isinf(a) or math.isinf(b))

    def mul(a, b):
        return chk(a * b, oid, math.isinf(a) or math.isinf(b), a == 0 or b == 0)

    def div(a, b):
        if b == 0 and not math.isnan(a):
            raise DivisionByZero("division by zero")
        if math.isnan(b) or math.isnan(a):
            return math.nan
        return chk(a / b, oid, math.isinf(a), a == 0 or math.isinf(b))

    return {"+": add, "-": sub, "*": mul, "/": div}


def float_pow(a: float, b: float) -> float:
    if math.isnan(a):
        return 1.0 if b == 0 else math.nan
    if math.isnan(b):
        return 1.0 if a == 1 else math.nan
    if a == 0 and b < 0:
        raise nums.InvalidArgumentForPower("zero raised to a negative power is undefined")
    if a < 0 and not math.isinf(b) and b != math.floor(b):
        raise nums.InvalidArgumentForPower(
            "a negative number raised to a non-integer power yields a complex result")
    try:
        r = math.pow(a, b)
    except OverflowError:
        raise NumericValueOutOfRange("value out of range: overflow") from None
    if math.isinf(r) and not (math.isinf(a) or math.isinf(b)):
        raise NumericValueOutOfRange("value out of range: overflow")
    if r == 0 and a != 0 and not math.isinf(b):
        raise NumericValueOutOfRange("value out of range: underflow")
    return r


# ------------------------------------------------------------------ date / time --

def date_to_ts(d, aware=False, tz=None):
    if isinstance(d, T.InfiniteDatetime):
        return d
    v = dt.datetime(d.year, d.month, d.day)
    if aware:
        from .datetimes import from_local
        return from_local(v, tz)
    return v


def _date_plus_int(d, n):
    if isinstance(d, T.InfiniteDatetime):
        return d
    try:
        return d + dt.timedelta(days=n)
    except OverflowError:
        raise DatetimeFieldOverflow("date out of range") from None


def _date_minus_date(a, b):
    if isinstance(a, T.InfiniteDatetime) or isinstance(b, T.InfiniteDatetime):
        raise DatetimeFieldOverflow("cannot subtract infinite dates")
    return (a - b).days


def _needs_ctx(maker):
    """Mark an implementation factory that needs (params, elem, ctx) at resolution."""
    maker.needs_types = True
    return maker


def _tz_of(ctx):
    return getattr(ctx, "timezone", None) if ctx is not None else None


@_needs_ctx
def _tstz_plus(params, elem, ctx):
    tz = _tz_of(ctx)
    if params[0].oid == T.INTERVAL.oid:
        return lambda iv, ts: ivs.timestamp_add(ts, iv, tz, aware=True)
    return lambda ts, iv: ivs.timestamp_add(ts, iv, tz, aware=True)


@_needs_ctx
def _tstz_minus(params, elem, ctx):
    tz = _tz_of(ctx)
    return lambda ts, iv: ivs.timestamp_add(ts, ivs.neg(iv), tz, aware=True)


def _time_plus(t, iv):
    return ivs.time_from_micros(ivs.time_micros(t) + iv.microseconds, t.tzinfo)


# ------------------------------------------------------------------------- text --

@_needs_ctx
def _textanycat(params, elem, ctx):
    tz = _tz_of(ctx)
    lt, rt = params
    from .casts import cast
    if lt.oid == T.TEXT.oid:
        return lambda a, b: a + cast(b, rt, T.TEXT, tz=tz)
    return lambda a, b: cast(a, lt, T.TEXT, tz=tz) + b


# ------------------------------------------------------------------------ json --

def _jparse(v):
    return jsonvals.parse(v)


def _jsonb_get(v, key):
    r = jsonvals.get_field(_jparse(v), key)
    return None if r is jsonvals.MISSING else jsonvals.dump(r)


def _jsonb_get_text(v, key):
    r = jsonvals.get_field(_jparse(v), key)
    return jsonvals.as_text(r)


def _json_get(v, key):
    kind, items = jsonvals.raw_children(v)
    if kind == "object" and isinstance(key, str):
        found = None
        for k, raw in items:
            if k == key:
                found = raw
        return found
    if kind == "array" and isinstance(key, int):
        idx = key if key >= 0 else len(items) + key
        return items[idx] if 0 <= idx < len(items) else None
    return None


def _json_get_text(v, key):
    raw = _json_get(v, key)
    if raw is None:
        return None
    parsed = jsonvals.parse(raw, jsonb=False)
    if parsed is None:
        return None
    if isinstance(parsed, str):
        return parsed
    return raw


def _jsonb_path(v, path):
    r = jsonvals.get_path(_jparse(v), path)
    return None if r is jsonvals.MISSING else jsonvals.dump(r)


def _jsonb_path_text(v, path):
    r = jsonvals.get_path(_jparse(v), path)
    return jsonvals.as_text(r)


def _json_path(v, path):
    cur = v
    for step in path:
        if step is None:
            return None
        kind, _ = jsonvals.raw_children(cur)
        if kind == "array":
            try:
                step = int(step)
            except ValueError:
                return None
        cur = _json_get(cur, step)
        if cur is None:
            return None
    return cur


def _json_path_text(v, path):
    raw = _json_path(v, path)
    if raw is None:
        return None
    parsed = jsonvals.parse(raw, jsonb=False)
    if parsed is None:
        return None
    return parsed if isinstance(parsed, str) else raw


def _jsonb_concat(a, b):
    x, y = _jparse(a), _jparse(b)
    if isinstance(x, dict) and isinstance(y, dict):
        out = dict(x)
        out.update(y)
        return jsonvals.dump(out)
    xs = x if isinstance(x, list) else [x]
    ys = y if isinstance(y, list) else [y]
    return jsonvals.dump(xs + ys)


def _jsonb_delete(a, key):
    x = _jparse(a)
    if isinstance(x, dict):
        return jsonvals.dump({k: v for k, v in x.items() if k != key})
    if isinstance(x, list):
        if isinstance(key, int):
            idx = key if key >= 0 else len(x) + key
            return jsonvals.dump([v for i, v in enumerate(x) if i != idx])
        return jsonvals.dump([v for v in x if not (isinstance(v, str) and v == key)])
    from ..errors import InvalidParameterValue
    raise InvalidParameterValue("cannot delete from scalar")


def _jsonb_delete_keys(a, keys):
    """jsonb - text[]: drop those top-level keys (or string elements); NULLs ignored."""
    x = _jparse(a)
    drop = {k for k in keys if k is not None}
    if isinstance(x, dict):
        return jsonvals.dump({k: v for k, v in x.items() if k not in drop})
    if isinstance(x, list):
        return jsonvals.dump([v for v in x if not (isinstance(v, str) and v in drop)])
    from ..errors import InvalidParameterValue
    raise InvalidParameterValue("cannot delete from scalar")


def _jsonb_delete_path(a, path):
    if path and isinstance(path[0], list):
        from ..errors import ArraySubscriptError
        raise ArraySubscriptError("wrong number of array subscripts")
    x = _jparse(a)
    if not isinstance(x, (dict, list)):
        from ..errors import InvalidParameterValue
        raise InvalidParameterValue("cannot delete path in scalar")
    if not x or not path:
        return a
    return jsonvals.dump(jsonvals.delete_path(x, list(path)))


# ----------------------------------------------------------------------- arrays --

def flatten(v) -> list:
    """The elements of a (possibly multi-dimensional) array, in storage order."""
    out = []
    for x in v:
        if isinstance(x, list):
            out.extend(flatten(x))
        else:
            out.append(x)
    return out




def array_contains(a, b):
    """a @> b: every non-NULL element of b is in a (NULL elements never match)."""
    fa = flatten(a)
    for x in flatten(b):
        if x is None or not any(y is not None and y == x for y in fa):
            return False
    return True


def array_overlap(a, b):
    fa = [x for x in flatten(a) if x is not None]
    return any(x is not None and x in fa for x in flatten(b))


def _array_cat(a, b):
    if a is None or b is None:  # array_cat is not strict: NULL acts as an empty array
        return None if a is None and b is None else list(b if a is None else a)
    if not a:
        return list(b)
    if not b:
        return list(a)
    da = _ndims(a)
    db = _ndims(b)
    if da == db:
        if da > 1 and _dims(a)[1:] != _dims(b)[1:]:
            raise _array_err("cannot concatenate incompatible arrays",
                             "Arrays with differing element dimensions are not compatible "
                             "for concatenation.")
        return list(a) + list(b)
    if da == db + 1:
        if _dims(a)[1:] != _dims(b):
            raise _array_err("cannot concatenate incompatible arrays",
                             "Arrays with differing element dimensions are not compatible "
                             "for concatenation.")
        return list(a) + [b]
    if db == da + 1:
        if _dims(b)[1:] != _dims(a):
            raise _array_err("cannot concatenate incompatible arrays",
                             "Arrays with differing element dimensions are not compatible "
                             "for concatenation.")
        return [a] + list(b)
    raise _array_err("cannot concatenate incompatible arrays",
                     f"Arrays of {da} and {db} dimensions are not compatible for "
                     "concatenation.")


def _array_err(msg, detail):
    from ..errors import DataError

    class _E(DataError, sqlstate="2202E"):
        pass

    return _E(msg, detail=detail)


def _ndims(v):
    n = 0
    while isinstance(v, list) and v:
        n += 1
        v = v[0]
    return n


def _dims(v):
    out = []
    while isinstance(v, list) and v:
        out.append(len(v))
        v = v[0]
    return out


def _array_append(a, x):  # not strict: a NULL array is empty, a NULL element is kept
    if a is None:
        return [x]
    if _ndims(a) > 1:
        raise _array_err("cannot concatenate incompatible arrays",
                         "Arrays of 2 and 0 dimensions are not compatible for concatenation.")
    return list(a) + [x]


def _array_prepend(x, a):
    if a is None:
        return [x]
    if _ndims(a) > 1:
        raise _array_err("cannot concatenate incompatible arrays",
                         "Arrays of 0 and 2 dimensions are not compatible for concatenation.")
    return [x] + list(a)


_array_cat.nonstrict = _array_append.nonstrict = _array_prepend.nonstrict = True


def _array_result(params, elem):
    return T.array_of(elem)


# --------------------------------------------------------------------- register --

def register_all(reg2, reg1):
    # integer arithmetic: every width pair, result is the wider type
    for a in INTS:
        for b in INTS:
            w = _wider(a, b)
            ops = _int_ops(w.oid)
            for op in ("+", "-", "*", "/"):
                reg2(op, a, b, w, ops[op])
        ops = _int_ops(a.oid)
        reg2("%", a, a, a, ops["%"])
        for op, f in (("&", lambda x, y: x & y), ("|", lambda x, y: x | y),
                      ("#", lambda x, y: x ^ y)):
            reg2(op, a, a, a, f)
        reg2("<<", a, T.INT4, a, _shift_left(a.oid))
        reg2(">>", a, T.INT4, a, _shift_right(a.oid))
        oid = a.oid
        reg1("-", a, a, lambda x, oid=oid: nums.check_int(-x, oid))
        reg1("+", a, a, lambda x: x)
        reg1("@", a, a, lambda x, oid=oid: nums.check_int(abs(x), oid))
        reg1("~", a, a, lambda x: ~x)
    # floats
    for a, b, r in ((T.FLOAT4, T.FLOAT4, T.FLOAT4), (T.FLOAT8, T.FLOAT8, T.FLOAT8),
                    (T.FLOAT4, T.FLOAT8, T.FLOAT8), (T.FLOAT8, T.FLOAT4, T.FLOAT8)):
        ops = _float_ops(r.oid)
        for op in ("+", "-", "*", "/"):
            reg2(op, a, b, r, ops[op])
    for a in (T.FLOAT4, T.FLOAT8):
        reg1("-", a, a, lambda x: -x)
        reg1("+", a, a, lambda x: x)
        reg1("@", a, a, abs)
    reg2("^", T.FLOAT8, T.FLOAT8, T.FLOAT8, float_pow)
    reg1("|/", T.FLOAT8, T.FLOAT8, _float_sqrt)
    reg1("||/", T.FLOAT8, T.FLOAT8, math.cbrt)
    # numeric
    N = T.NUMERIC
    reg2("+", N, N, N, nums.numeric_add)
    reg2("-", N, N, N, nums.numeric_sub)
    reg2("*", N, N, N, nums.numeric_mul)
    reg2("/", N, N, N, nums.numeric_div)
    reg2("%", N, N, N, nums.numeric_mod)
    reg2("^", N, N, N, nums.numeric_power)
    reg1("-", N, N, lambda x: nums.norm(-x))
    reg1("+", N, N, lambda x: x)
    reg1("@", N, N, abs)
    # date/time
    D, TS, TSZ, IV, TM = T.DATE, T.TIMESTAMP, T.TIMESTAMPTZ, T.INTERVAL, T.TIME
    reg2("+", D, T.INT4, D, _date_plus_int)
    reg2("+", T.INT4, D, D, lambda n, d: _date_plus_int(d, n))
    reg2("-", D, T.INT4, D, lambda d, n: _date_plus_int(d, -n))
    reg2("-", D, D, T.INT4, _date_minus_date)
    reg2("+", D, IV, TS, lambda d, iv: ivs.timestamp_add(date_to_ts(d), iv))
    reg2("+", IV, D, TS, lambda iv, d: ivs.timestamp_add(date_to_ts(d), iv))
    reg2("-", D, IV, TS, lambda d, iv: ivs.timestamp_add(date_to_ts(d), ivs.neg(iv)))
    reg2("+", D, TM, TS, lambda d, t: date_to_ts(d) + dt.timedelta(
        microseconds=ivs.time_micros(t)))
    reg2("+", TM, D, TS, lambda t, d: date_to_ts(d) + dt.timedelta(
        microseconds=ivs.time_micros(t)))
    reg2("+", TS, IV, TS, lambda ts, iv: ivs.timestamp_add(ts, iv))
    reg2("+", IV, TS, TS, lambda iv, ts: ivs.timestamp_add(ts, iv))
    reg2("-", TS, IV, TS, lambda ts, iv: ivs.timestamp_add(ts, ivs.neg(iv)))
    reg2("-", TS, TS, IV, ivs.timestamp_diff)
    reg2("+", TSZ, IV, TSZ, _tstz_plus)
    reg2("+", IV, TSZ, TSZ, _tstz_plus)
    reg2("-", TSZ, IV, TSZ, _tstz_minus)
    reg2("-", TSZ, TSZ, IV, ivs.timestamp_diff)
    reg2("+", IV, IV, IV, ivs.add)
    reg2("-", IV, IV, IV, ivs.sub)
    reg2("*", IV, T.FLOAT8, IV, ivs.mul)
    reg2("*", T.FLOAT8, IV, IV, lambda f, iv: ivs.mul(iv, f))
    reg2("/", IV, T.FLOAT8, IV, ivs.div)
    reg1("-", IV, IV, ivs.neg)
    reg1("+", IV, IV, lambda x: x)
    reg2("+", TM, IV, TM, _time_plus)
    reg2("+", IV, TM, TM, lambda iv, t: _time_plus(t, iv))
    reg2("-", TM, IV, TM, lambda t, iv: _time_plus(t, ivs.neg(iv)))
    reg2("-", TM, TM, IV, lambda a, b: T.Interval(0, 0, ivs.time_micros(a)
                                                   - ivs.time_micros(b)))
    reg2("+", T.TIMETZ, IV, T.TIMETZ, _time_plus)
    reg2("-", T.TIMETZ, IV, T.TIMETZ, lambda t, iv: _time_plus(t, ivs.neg(iv)))
    # text and friends
    reg2("||", T.TEXT, T.TEXT, T.TEXT, lambda a, b: a + b)
    reg2("||", T.TEXT, ANYNONARRAY, T.TEXT, _textanycat)
    reg2("||", ANYNONARRAY, T.TEXT, T.TEXT, _textanycat)
    reg2("||", T.BYTEA, T.BYTEA, T.BYTEA, lambda a, b: a + b)
    reg2("||", ANYARRAY, ANYARRAY, _array_result, _array_cat)
    reg2("||", ANYELEMENT, ANYARRAY, _array_result, _array_prepend)
    reg2("||", ANYARRAY, ANYELEMENT, _array_result, _array_append)
    reg2("||", T.JSONB, T.JSONB, T.JSONB, _jsonb_concat)
    # pattern matching
    for tt in (T.TEXT, T.BPCHAR, T.NAME):
        reg2("~", tt, T.TEXT, T.BOOL, lambda s, p: patterns.regex_match(s, p))
        reg2("~*", tt, T.TEXT, T.BOOL, lambda s, p: patterns.regex_match(s, p, True))
        reg2("!~", tt, T.TEXT, T.BOOL, lambda s, p: not patterns.regex_match(s, p))
        reg2("!~*", tt, T.TEXT, T.BOOL, lambda s, p: not patterns.regex_match(s, p, True))
        reg2("~~", tt, T.TEXT, T.BOOL, lambda s, p: patterns.like(s, p))
        reg2("^@", tt, T.TEXT, T.BOOL, lambda s, p: s.startswith(p))
        reg2("~~*", tt, T.TEXT, T.BOOL, lambda s, p: patterns.like(s, p, None, True))
        reg2("!~~", tt, T.TEXT, T.BOOL, lambda s, p: not patterns.like(s, p))
        reg2("!~~*", tt, T.TEXT, T.BOOL, lambda s, p: not patterns.like(s, p, None, True))
    reg2("~~", T.BYTEA, T.BYTEA, T.BOOL,
         lambda s, p: patterns.like(s.decode("latin-1"), p.decode("latin-1")))
    # json / jsonb
    J, JB, TA = T.JSON, T.JSONB, T.array_of(T.TEXT)
    reg2("->", JB, T.TEXT, JB, _jsonb_get)
    reg2("->", JB, T.INT4, JB, _jsonb_get)
    reg2("->>", JB, T.TEXT, T.TEXT, _jsonb_get_text)
    reg2("->>", JB, T.INT4, T.TEXT, _jsonb_get_text)
    reg2("#>", JB, TA, JB, _jsonb_path)
    reg2("#>>", JB, TA, T.TEXT, _jsonb_path_text)
    reg2("->", J, T.TEXT, J, _json_get)
    reg2("->", J, T.INT4, J, _json_get)
    reg2("->>", J, T.TEXT, T.TEXT, _json_get_text)
    reg2("->>", J, T.INT4, T.TEXT, _json_get_text)
    reg2("#>", J, TA, J, _json_path)
    reg2("#>>", J, TA, T.TEXT, _json_path_text)
    reg2("@>", JB, JB, T.BOOL, lambda a, b: jsonvals.contains(_jparse(a), _jparse(b)))
    reg2("<@", JB, JB, T.BOOL, lambda a, b: jsonvals.contains(_jparse(b), _jparse(a)))
    reg2("?", JB, T.TEXT, T.BOOL, lambda a, k: jsonvals.exists(_jparse(a), k))
    reg2("?|", JB, TA, T.BOOL, lambda a, ks: any(
        k is not None and jsonvals.exists(_jparse(a), k) for k in ks))
    reg2("?&", JB, TA, T.BOOL, lambda a, ks: all(
        k is None or jsonvals.exists(_jparse(a), k) for k in ks))
    reg2("-", JB, T.TEXT, JB, _jsonb_delete)
    reg2("-", JB, T.INT4, JB, _jsonb_delete)
    reg2("-", JB, TA, JB, _jsonb_delete_keys)
    reg2("#-", JB, TA, JB, _jsonb_delete_path)
    # arrays
    reg2("@>", ANYARRAY, ANYARRAY, T.BOOL, array_contains)
    reg2("<@", ANYARRAY, ANYARRAY, T.BOOL, lambda a, b: array_contains(b, a))
    reg2("&&", ANYARRAY, ANYARRAY, T.BOOL, array_overlap)


def _float_sqrt(x):
    if x < 0:
        raise nums.InvalidArgumentForPower("cannot take square root of a negative number")
    return math.sqrt(x)


__all__ = ["register_all", "date_to_ts", "array_contains", "array_overlap", "float_pow",
           "Decimal"]
