"""Binary and unary operators with PostgreSQL's typing, resolved once at plan time.

Why: the result type and semantics of `a + b` depend on the operand types (integer
division truncates, int4 overflow is an error, int + numeric is numeric, date - date is
an integer), and PostgreSQL picks the operator by its overload-resolution rules. The
planner calls `resolve_binary(op, left_type, right_type)` once per expression and gets
back `(fn, result_type)`; `fn(left, right)` takes non-NULL Python values of the *given*
operand types (it applies the implicit coercions itself, including parsing unknown-typed
literals) and returns the result. `fn.arg_types` holds the operator's declared input
types, for planners that prefer to coerce constants themselves.

Operators: arithmetic (+ - * / % ^, unary - + @ ~ and |/ ||/), bitwise (& | # << >>),
comparisons for every type, || (text, arrays, bytea, jsonb), date/time arithmetic,
pattern matching (~ ~* !~ !~* and LIKE as ~~ ~~* !~~ !~~*), json/jsonb (-> ->> #> #>> @>
<@ ? ?| ?& - ||) and arrays (@> <@ &&).
"""

from __future__ import annotations

import functools

from ..errors import AmbiguousFunction, UndefinedFunction
from . import types as T
from .casts import cast
from .compare import sort_key
from .ops_impl import register_all
from .overload import ANYARRAY, ANYELEMENT, ANYNONARRAY, Ambiguous, resolve

_BINARY: dict[str, list] = {}
_UNARY: dict[str, list] = {}


def _reg2(op, lt, rt, result, fn):
    _BINARY.setdefault(op, []).append(((lt, rt), (fn, result)))


def _reg1(op, t, result, fn):
    _UNARY.setdefault(op, []).append(((t,), (fn, result)))


# ------------------------------------------------------------------- comparisons --

_CMP = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def comparison(op: str, t: T.SqlType, t2: T.SqlType | None = None):
    """fn(a, b) -> bool comparing two non-NULL values of type t with PostgreSQL's
    semantics (NaN = NaN and greatest; char(n) ignores trailing spaces...)."""
    key = sort_key(t)
    key2 = sort_key(t2) if t2 is not None else key
    test = _CMP[op]
    if key is sort_key(T.INT4) and key2 is key:
        return test
    return lambda a, b: test(key(a), key2(b))


_CMP_TYPES = [T.INT2, T.INT4, T.INT8, T.FLOAT4, T.FLOAT8, T.NUMERIC, T.TEXT, T.BPCHAR,
              T.NAME, T.BOOL, T.BYTEA, T.DATE, T.TIME, T.TIMETZ, T.TIMESTAMP, T.TIMESTAMPTZ,
              T.INTERVAL, T.UUID, T.JSONB, T.OID, T.CHAR]


def _register_comparisons():
    ints = [T.INT2, T.INT4, T.INT8]
    for op in _CMP:
        for t in _CMP_TYPES:
            _reg2(op, t, t, T.BOOL, comparison(op, t))
        for a in ints:
            for b in ints:
                if a != b:
                    _reg2(op, a, b, T.BOOL, _CMP[op])
        _reg2(op, T.FLOAT4, T.FLOAT8, T.BOOL, comparison(op, T.FLOAT8))
        _reg2(op, T.FLOAT8, T.FLOAT4, T.BOOL, comparison(op, T.FLOAT8))
        _reg2(op, ANYARRAY, ANYARRAY, T.BOOL, None)  # element type bound at resolution
        # date/timestamp cross-type operators compare as timestamps
        for a, b in ((T.DATE, T.TIMESTAMP), (T.TIMESTAMP, T.DATE), (T.DATE, T.TIMESTAMPTZ),
                     (T.TIMESTAMPTZ, T.DATE), (T.TIMESTAMP, T.TIMESTAMPTZ),
                     (T.TIMESTAMPTZ, T.TIMESTAMP)):
            _reg2(op, a, b, T.BOOL, ("cross", a, b))


_register_comparisons()
register_all(_reg2, _reg1)


# ------------------------------------------------------------------- resolution --

def _type_label(t: T.SqlType) -> str:
    return T.format_type(t.base) if t.oid != T.UNKNOWN.oid else "unknown"


def _coercer(src: T.SqlType, dst: T.SqlType, ctx):
    if src == dst or dst.oid in (ANYELEMENT.oid, ANYARRAY.oid, ANYNONARRAY.oid) \
            or (src.oid == dst.oid and dst.typmod < 0):
        return None
    tz = getattr(ctx, "timezone", None) if ctx is not None else None

    def conv(v):
        return cast(v, src, dst, explicit=False, tz=tz)

    return conv


def _wrap(fn, conv_l, conv_r):
    if conv_l is None and conv_r is None:
        return fn
    if conv_r is None:
        return lambda a, b: fn(conv_l(a), b)
    if conv_l is None:
        return lambda a, b: fn(a, conv_r(b))
    return lambda a, b: fn(conv_l(a), conv_r(b))


def _bind_special(op, payload_fn, params, elem, ctx):
    """Operators whose implementation depends on the bound types."""
    if payload_fn is None:  # array comparison
        return comparison(op, params[0])
    if isinstance(payload_fn, tuple) and payload_fn and payload_fn[0] == "cross":
        from .ops_impl import date_to_ts
        _, a, b = payload_fn
        tz = getattr(ctx, "timezone", None)

        def lift(t):
            if t.oid == T.DATE.oid:
                other = b if t is a else a
                aware = other.oid == T.TIMESTAMPTZ.oid
                return lambda v: date_to_ts(v, aware, tz)
            if t.oid == T.TIMESTAMP.oid and (T.TIMESTAMPTZ in (a, b)):
                from .datetimes import from_local
                return lambda v: v if isinstance(v, T.InfiniteDatetime) else from_local(v, tz)
            return lambda v: v

        la, lb = lift(a), lift(b)
        test = _CMP[op]
        return lambda x, y: test(la(x), lb(y))
    if callable(payload_fn) and getattr(payload_fn, "needs_types", False):
        return payload_fn(params, elem, ctx)
    return payload_fn


_ANYARRAY_OPS = frozenset(("=", "<>", "<", "<=", ">", ">=", "@>", "<@", "&&"))


def resolve_binary(op: str, left: T.SqlType, right: T.SqlType, ctx=None):
    """(fn, result_type) for `left op right`. Raises UndefinedFunction 42883
    'operator does not exist: integer + text' or AmbiguousFunction 42725."""
    op = {"!=": "<>", "~~": "~~"}.get(op, op)
    if op in _CMP and (left.category == "E" or right.category == "E"):
        got = _enum_comparison(op, left, right, ctx)
        if got is not None:
            return got
    cands = _BINARY.get(op, [])
    try:
        got = resolve((left, right), cands)
    except Ambiguous:
        raise AmbiguousFunction(
            f"operator is not unique: {_type_label(left)} {op} {_type_label(right)}",
            hint="Could not choose a best candidate operator. You might need to add "
                 "explicit type casts.") from None
    if got is None:
        raise UndefinedFunction(
            f"operator does not exist: {_type_label(left)} {op} {_type_label(right)}",
            hint="No operator matches the given name and argument types. You might need "
                 "to add explicit type casts.")
    params, (fn, result), elem = got
    if op in _ANYARRAY_OPS and left.element is not None and right.element is not None \
            and left.base != right.base and params[0].element is not None:
        # anyarray binds one type: int[] = numeric[] has no operator (no implicit cast)
        raise UndefinedFunction(
            f"operator does not exist: {_type_label(left)} {op} {_type_label(right)}",
            hint="No operator matches the given name and argument types. You might need "
                 "to add explicit type casts.")
    fn = _bind_special(op, fn, params, elem, ctx)
    if callable(result):
        result = result(params, elem)
    wrapped = _wrap(fn, _coercer(left, params[0], ctx), _coercer(right, params[1], ctx))
    if wrapped is fn:
        wrapped = functools.partial(fn)  # a fresh object to carry attributes, at C speed
    wrapped.arg_types = params
    wrapped.nonstrict = getattr(fn, "nonstrict", False)  # called with NULLs too
    return wrapped, result


def _enum_comparison(op, left, right, ctx):
    """PostgreSQL's anyenum comparison operators: both sides one enum type (an unknown
    literal takes it); EnumValues compare by their sort order."""
    t = left if left.category == "E" else right
    if left.oid not in (t.oid, T.UNKNOWN.oid) or right.oid not in (t.oid, T.UNKNOWN.oid):
        return None
    fn = _wrap(_CMP[op], _coercer(left, t, ctx), _coercer(right, t, ctx))
    fn = functools.partial(fn)
    fn.arg_types = (t, t)
    fn.nonstrict = False
    return fn, T.BOOL


def resolve_unary(op: str, operand: T.SqlType, ctx=None):
    """(fn, result_type) for prefix `op operand` (- + @ ~ |/ ||/)."""
    cands = _UNARY.get(op, [])
    try:
        got = resolve((operand,), cands)
    except Ambiguous:
        raise AmbiguousFunction(
            f"operator is not unique: {op} {_type_label(operand)}",
            hint="Could not choose a best candidate operator. You might need to add "
                 "explicit type casts.") from None
    if got is None:
        raise UndefinedFunction(
            f"operator does not exist: {op} {_type_label(operand)}",
            hint="No operator matches the given name and argument type. You might need "
                 "to add an explicit type cast.")
    params, (fn, result), elem = got
    if callable(result):
        result = result(params, elem)
    conv = _coercer(operand, params[0], ctx)
    wrapped = (lambda a: fn(conv(a))) if conv is not None else (lambda a: fn(a))
    wrapped.arg_types = params
    return wrapped, result


def operator_names() -> list[str]:
    return sorted(set(_BINARY) | set(_UNARY))


__all__ = ["resolve_binary", "resolve_unary", "comparison", "operator_names"]
