"""Aggregate functions and window-function result types.

Why: aggregate results must match PostgreSQL's types and scales exactly (sum(int4) is
bigint, sum(int8) numeric, avg(int) numeric with PostgreSQL's division scale,
stddev(numeric) with its variance scale rules, float variance with the Youngs-Cramer
algorithm PostgreSQL uses), and their NULL rules (strict aggregates skip NULL inputs and
return NULL over no rows; count gives 0; array_agg/json_agg keep NULLs).

Contract with the executor: `spec = lookup_aggregate(name, arg_types, distinct)`;
`state = spec.init()`; for each input row `state = spec.step(state, *values)` with the
raw values, NULLs included (the spec applies the NULL rules and DISTINCT itself;
ORDER BY inside the call is the executor's: feed rows in that order);
`spec.final(state)` is the result. count(*) is lookup_aggregate('count', ()).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from ..errors import UndefinedFunction
from . import intervals as ivs
from . import jsonvals
from . import numerics as nums
from . import types as T
from .casts import cast
from .compare import hash_key, sort_key
from .overload import ANY, ANYARRAY, ANYELEMENT, ANYNONARRAY, Ambiguous, resolve


@dataclass(frozen=True)
class AggregateSpec:
    init: Callable[[], object]
    step: Callable[..., object]
    final: Callable[[object], object]
    result_type: T.SqlType
    name: str = ""
    arg_types: tuple = ()


# ----------------------------------------------------------------------- helpers --

def _variance_numeric(kind: str):
    """stddev/variance over numeric inputs, PostgreSQL's numeric_stddev_internal."""
    def final(st):
        if st is None:
            return None
        n, sx, sx2 = st
        sample = kind in ("var_samp", "stddev_samp")
        if n == 0 or (sample and n == 1):
            return None
        c = nums.EXACT
        vsum = c.multiply(sx, sx)
        vsum2 = c.multiply(Decimal(n), sx2)
        num = c.subtract(vsum2, vsum)
        if num <= 0:
            return Decimal(0)
        den = Decimal(n * (n - 1) if sample else n * n)
        rscale = nums.select_div_scale(num, den)
        var = nums.div_exact_scale(num, den, rscale)
        if kind.startswith("stddev"):
            ctx = nums._ctx(rscale + 30)
            return nums.quantize_half_up(var.sqrt(context=ctx), rscale)
        return var
    return final


def _variance_float(kind: str):
    def final(st):
        if st is None:
            return None
        n, sx, sxx = st
        sample = kind in ("var_samp", "stddev_samp")
        if n == 0 or (sample and n == 1):
            return None
        v = sxx / (n - 1 if sample else n)
        return math.sqrt(v) if kind.startswith("stddev") else v
    return final


def _float_accum(st, x):
    if st is None:
        st = (0.0, 0.0, 0.0)
    n, sx, sxx = st
    n1 = n + 1.0
    sx1 = sx + x
    if n > 0.0:
        tmp = x * n1 - sx1
        sxx = sxx + tmp * tmp / (n1 * n)
        if math.isinf(sx1) or math.isinf(sxx):
            if not (math.isinf(sx) or math.isinf(x)):
                raise nums.NumericValueOutOfRange("value out of range: overflow")
            sxx = math.nan
    else:
        sxx = math.nan if math.isnan(x) or math.isinf(x) else 0.0
    return (n1, sx1, sxx)


def _numeric_accum(st, x: Decimal):
    if st is None:
        st = (0, Decimal(0), Decimal(0))
    n, sx, sx2 = st
    if x.is_nan() or x.is_infinite():
        return (n + 1, nums.NAN, nums.NAN)
    c = nums.EXACT
    return (n + 1, c.add(sx, x), c.add(sx2, c.multiply(x, x)))


# ------------------------------------------------------------------------ catalog --

def _strict_step(fn):
    """Skip rows where any argument is NULL (PostgreSQL strict transition function)."""
    def step(state, *vals):
        for v in vals:
            if v is None:
                return state
        return fn(state, *vals)
    return step


def _array_accum(s, v):
    """array_agg(anyarray): the inputs become the rows of an array one dimension up, so
    each must be a non-null, non-empty array shaped like the first."""
    from ..errors import ArraySubscriptError, NullValueNotAllowed
    if v is None:
        raise NullValueNotAllowed("cannot accumulate null arrays")
    if s is None:
        if not v:
            raise ArraySubscriptError("cannot accumulate empty arrays")
        s = []
    elif T.array_shape(v) != T.array_shape(s[0]):
        raise ArraySubscriptError("cannot accumulate arrays of different dimensionality")
    s.append(v)
    return s


def _build(name, params, elem) -> tuple:
    """(init, step, final, result) for a resolved aggregate signature."""
    t = params[0] if params else None
    oid = t.oid if t is not None else None
    none = lambda: None  # noqa: E731
    ident = lambda s: s  # noqa: E731
    if name == "count":
        return (lambda: 0, (lambda s, *v: s + 1) if not params else
                _strict_step(lambda s, v: s + 1), ident, T.INT8)
    if name == "sum":
        if oid in (T.INT2.oid, T.INT4.oid):
            return none, _strict_step(lambda s, v: (s or 0) + v), \
                lambda s: None if s is None else nums.check_int(s, T.INT8.oid), T.INT8
        if oid in (T.INT8.oid, T.NUMERIC.oid):
            return none, _strict_step(lambda s, v: nums.numeric_add(
                s if s is not None else Decimal(0), Decimal(v) if isinstance(v, int) else v)), \
                ident, T.NUMERIC
        if oid in T.FLOAT_TYPES:
            return none, _strict_step(lambda s, v: (s or 0.0) + v), \
                (lambda s: s if s is None else nums.to_float4(s)) if oid == T.FLOAT4.oid \
                else ident, t
        if oid == T.INTERVAL.oid:
            return none, _strict_step(lambda s, v: v if s is None else ivs.add(s, v)), \
                ident, T.INTERVAL
    if name == "avg":
        if oid in T.INTEGER_TYPES or oid == T.NUMERIC.oid:
            def step(s, v):
                n, tot = s or (0, Decimal(0))
                return (n + 1, nums.numeric_add(tot, Decimal(v) if isinstance(v, int) else v))
            return none, _strict_step(step), \
                lambda s: None if s is None else nums.numeric_div(s[1], Decimal(s[0])), \
                T.NUMERIC
        if oid in T.FLOAT_TYPES:
            return none, _strict_step(_float_accum), \
                lambda s: None if s is None else s[1] / s[0], T.FLOAT8
        if oid == T.INTERVAL.oid:
            return none, _strict_step(lambda s, v: (1, v) if s is None else
                                      (s[0] + 1, ivs.add(s[1], v))), \
                lambda s: None if s is None else ivs.div(s[1], s[0]), T.INTERVAL
    if name in ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop"):
        kind = {"stddev": "stddev_samp", "variance": "var_samp"}.get(name, name)
        if oid in T.FLOAT_TYPES:
            return none, _strict_step(_float_accum), _variance_float(kind), T.FLOAT8
        if oid in T.INTEGER_TYPES or oid == T.NUMERIC.oid:
            def vstep(s, v):
                return _numeric_accum(s, Decimal(v) if isinstance(v, int) else v)
            fin = _variance_numeric(kind)

            def final(s):
                if s is not None and s[1].is_nan():
                    n = s[0]
                    sample = kind in ("var_samp", "stddev_samp")
                    return None if (sample and n <= 1) else nums.NAN
                return fin(s)
            return none, _strict_step(vstep), final, T.NUMERIC
    if name in ("min", "max"):
        key = sort_key(t)
        better = (lambda a, b: key(a) < key(b)) if name == "min" else \
            (lambda a, b: key(b) < key(a))
        if t.oid == T.BPCHAR.oid:  # bpchar_larger/smaller keep the first of equals
            return none, _strict_step(lambda s, v: v if s is None or better(v, s) else s), \
                ident, t
        # int4larger, numeric_larger, interval_larger...: a tie takes the newer value,
        # which shows for equal but distinct values (1.0 vs 1.00, '1 mon' vs '30 days')
        return none, _strict_step(lambda s, v: v if s is None or not better(s, v) else s), \
            ident, t
    if name in ("bool_and", "every"):
        return none, _strict_step(lambda s, v: v if s is None else (s and v)), ident, T.BOOL
    if name == "bool_or":
        return none, _strict_step(lambda s, v: v if s is None else (s or v)), ident, T.BOOL
    if name == "bit_and":
        return none, _strict_step(lambda s, v: v if s is None else s & v), ident, t
    if name == "bit_or":
        return none, _strict_step(lambda s, v: v if s is None else s | v), ident, t
    if name == "bit_xor":
        return none, _strict_step(lambda s, v: v if s is None else s ^ v), ident, t
    if name == "string_agg":
        def sstep(s, v, d):
            if v is None:
                return s
            if s is None:
                return [v]
            s.append(d if d is not None else v[:0])
            s.append(v)
            return s
        join = "".join if oid != T.BYTEA.oid else b"".join
        return none, sstep, lambda s: None if s is None else join(s), t
    if name == "array_agg" and t.element is not None:
        return none, _array_accum, lambda s: None if s is None else list(s), t.base
    if name == "array_agg":
        def astep(s, v):
            if s is None:
                s = []
            s.append(v)
            return s
        # final returns a copy: window frames call it on a state that keeps growing
        return none, astep, lambda s: None if s is None else list(s), \
            T.array_of(elem if elem is not None else t)
    if name in ("json_agg", "jsonb_agg"):
        from .fn_misc import to_json_text, to_json_value

        def jstep(s, v):
            if s is None:
                s = []
            s.append(v)
            return s
        if name == "json_agg":
            return none, jstep, lambda s: None if s is None else \
                "[" + ", ".join(to_json_text(v, t) for v in s) + "]", T.JSON
        return none, jstep, lambda s: None if s is None else \
            jsonvals.dump([to_json_value(v, t) for v in s]), T.JSONB
    if name in ("json_object_agg", "jsonb_object_agg"):
        from .fn_misc import to_json_text, to_json_value
        from .textio import format_text
        vt = params[1]

        def ostep(s, k, v):
            if k is None:
                from ..errors import NullValueNotAllowed
                raise NullValueNotAllowed("field name must not be null")
            if s is None:
                s = []
            s.append((format_text(k, t), v))
            return s
        if name == "json_object_agg":
            return none, ostep, lambda s: None if s is None else \
                "{ " + ", ".join(f"{jsonvals.escape_string(k)} : {to_json_text(v, vt)}"
                                 for k, v in s) + " }", T.JSON
        return none, ostep, lambda s: None if s is None else \
            jsonvals.dump({k: to_json_value(v, vt) for k, v in s}), T.JSONB
    return None


_N = T.NUMERIC
_SIGS: dict[str, list] = {
    "count": [(), (ANY,)],
    "sum": [(T.INT2,), (T.INT4,), (T.INT8,), (T.FLOAT4,), (T.FLOAT8,), (_N,), (T.INTERVAL,)],
    "avg": [(T.INT2,), (T.INT4,), (T.INT8,), (T.FLOAT4,), (T.FLOAT8,), (_N,), (T.INTERVAL,)],
    "min": [(t,) for t in (T.INT2, T.INT4, T.INT8, T.FLOAT4, T.FLOAT8, _N, T.TEXT, T.BPCHAR,
                           T.DATE, T.TIME, T.TIMETZ, T.TIMESTAMP, T.TIMESTAMPTZ, T.INTERVAL,
                           T.OID, T.UUID, T.BYTEA, T.BOOL, T.JSONB)] + [(ANYARRAY,)],
    "bool_and": [(T.BOOL,)], "bool_or": [(T.BOOL,)], "every": [(T.BOOL,)],
    "bit_and": [(T.INT2,), (T.INT4,), (T.INT8,)],
    "string_agg": [(T.TEXT, T.TEXT), (T.BYTEA, T.BYTEA)],
    "array_agg": [(ANYNONARRAY,), (ANYARRAY,)],
    "json_agg": [(ANYELEMENT,)], "jsonb_agg": [(ANYELEMENT,)],
    "json_object_agg": [(ANY, ANY)], "jsonb_object_agg": [(ANY, ANY)],
}
_SIGS["max"] = _SIGS["min"]
_SIGS["bit_or"] = _SIGS["bit_xor"] = _SIGS["bit_and"]
for _n in ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop"):
    _SIGS[_n] = [(T.INT2,), (T.INT4,), (T.INT8,), (T.FLOAT4,), (T.FLOAT8,), (_N,)]


def _label(t):
    return "unknown" if t.oid == T.UNKNOWN.oid else T.format_type(t.base)


def lookup_aggregate(name: str, arg_types: tuple, distinct: bool = False) -> AggregateSpec:
    name = name.lower()
    sigs = _SIGS.get(name, [])
    if name in ("min", "max") and len(arg_types) == 1 and arg_types[0].category == "E":
        sigs = [(arg_types[0],)]  # PostgreSQL's min(anyenum) / max(anyenum)
    sig = f"{name}({', '.join(_label(t) for t in arg_types)})"
    try:
        got = resolve(tuple(arg_types), [(s, s) for s in sigs])
    except Ambiguous:
        from ..errors import AmbiguousFunction
        raise AmbiguousFunction(f"function {sig} is not unique",
                                hint="Could not choose a best candidate function. You might "
                                     "need to add explicit type casts.") from None
    if got is None:
        raise UndefinedFunction(f"function {sig} does not exist",
                                hint="No function matches the given name and argument types. "
                                     "You might need to add explicit type casts.")
    params, _, elem = got
    params = tuple(a if p.oid == ANY.oid else p for a, p in zip(arg_types, params))
    if name == "min" or name == "max":
        if params and params[0].oid == ANYARRAY.oid:
            params = (arg_types[0],)
    built = _build(name, params, elem)
    init, step, final, result = built
    convs = [None if (a == p or a.oid == p.oid or p.oid in (ANY.oid, ANYELEMENT.oid,
                                                              ANYARRAY.oid, ANYNONARRAY.oid))
             else p for a, p in zip(arg_types, params)]
    if any(c is not None for c in convs):
        inner_step = step

        def step(state, *vals):
            vals = tuple(v if c is None or v is None else cast(v, a, c, explicit=False)
                         for v, a, c in zip(vals, arg_types, convs))
            return inner_step(state, *vals)
    if distinct:
        inner = step
        types = params

        def init2():
            return (set(), init())

        def step2(st, *vals):
            seen, s = st
            k = tuple(hash_key(v, t) for v, t in zip(vals, types))
            if k in seen:
                return st
            seen.add(k)
            return (seen, inner(s, *vals))
        return AggregateSpec(init2, step2, lambda st: final(st[1]), result, name, params)
    return AggregateSpec(init, step, final, result, name, params)


# ---------------------------------------------------------------- window functions --

_WINDOW = {"row_number": T.INT8, "rank": T.INT8, "dense_rank": T.INT8,
           "percent_rank": T.FLOAT8, "cume_dist": T.FLOAT8, "ntile": T.INT4}


def window_function_type(name: str, arg_types: tuple) -> T.SqlType:
    """Result type of a window function (or of an aggregate used as one)."""
    name = name.lower()
    if name in _WINDOW:
        expected = 1 if name == "ntile" else 0
        if len(arg_types) != expected:
            raise UndefinedFunction(
                f"function {name}({', '.join(_label(t) for t in arg_types)}) does not exist",
                hint="No function matches the given name and argument types. You might "
                     "need to add explicit type casts.")
        return _WINDOW[name]
    if name in ("lag", "lead", "first_value", "last_value", "nth_value"):
        if not arg_types:
            raise UndefinedFunction(f"function {name}() does not exist",
                                    hint="No function matches the given name and argument "
                                         "types. You might need to add explicit type casts.")
        t = arg_types[0]
        if name in ("lag", "lead") and len(arg_types) == 3 and t.oid == T.UNKNOWN.oid:
            t = arg_types[2]
        return T.TEXT if t.oid == T.UNKNOWN.oid else t
    return lookup_aggregate(name, arg_types).result_type
