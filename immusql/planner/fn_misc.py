"""Array, JSON, set-returning and system functions.

Why: array functions follow PostgreSQL's 1-based, NULL-aware rules (array_position finds
NULL with IS NOT DISTINCT FROM, array_dims prints '[1:3]'), JSON builders print exactly
what PostgreSQL prints ('{"a" : 1}' for json_build_object, '{"a": 1}' for jsonb), and
set-returning functions (generate_series, unnest, jsonb_array_elements...) yield tuples.
"""

from __future__ import annotations

import datetime as dt
import uuid as _uuid
from decimal import Decimal

from ..errors import (
    ArraySubscriptError,
    FeatureNotSupported,
    InvalidParameterValue,
    NullValueNotAllowed,
)
from . import datetimes as dts
from . import intervals as ivs
from . import jsonvals
from . import numerics as nums
from . import types as T
from .functions import register
from .ops_impl import flatten
from .overload import ANY, ANYARRAY, ANYELEMENT
from .textio import format_text

I4, I8, N, TXT, BOOL, JB, J = T.INT4, T.INT8, T.NUMERIC, T.TEXT, T.BOOL, T.JSONB, T.JSON


def _elem_result(params, elem):
    return elem


def _array_result(params, elem):
    return T.array_of(elem)


# ------------------------------------------------------------------------ arrays --

def _dims(a):
    out = []
    while isinstance(a, list) and a:
        out.append(len(a))
        a = a[0]
    return out


def _array_length(a, d):
    dims = _dims(a)
    return dims[d - 1] if 1 <= d <= len(dims) else None


def _array_lower(a, d):
    return 1 if 1 <= d <= len(_dims(a)) else None


def _array_dims(a):
    dims = _dims(a)
    return "".join(f"[1:{n}]" for n in dims) if dims else None


def _one_dim(a):
    if len(_dims(a)) > 1:
        raise FeatureNotSupported("searching for elements in multidimensional arrays is not "
                                  "supported")


def _array_position(a, x, start=1):
    if a is None:
        return None
    _one_dim(a)
    for i in range(max(start, 1) - 1, len(a)):
        if a[i] == x or (a[i] is None and x is None):
            return i + 1
    return None


def _array_positions(a, x):
    if a is None:
        return None
    _one_dim(a)
    return [i + 1 for i, y in enumerate(a) if y == x or (y is None and x is None)]


def _array_remove(a, x):
    if a is None:
        return None
    if len(_dims(a)) > 1:
        raise FeatureNotSupported("removing elements from multidimensional arrays is not "
                                  "supported")
    return [y for y in a if not (y == x or (y is None and x is None))]


def _array_replace(a, x, y):
    if a is None:
        return None

    def rep(v):
        if isinstance(v, list):
            return [rep(e) for e in v]
        return y if (v == x or (v is None and x is None)) else v
    return rep(a)


def _array_fill(x, dims, lbounds=None):
    """array_fill(value, dims[, lower bounds]): not strict in the value (NULLs fill)."""
    if dims is None or (lbounds is not None and lbounds is None):
        raise NullValueNotAllowed("dimension array or low bound array cannot be null")
    if lbounds is not None and any(b != 1 for b in flatten(lbounds)):
        raise FeatureNotSupported("arrays with lower bounds other than 1 are not supported")
    sizes = flatten(dims)
    if any(n is None for n in sizes):
        raise NullValueNotAllowed("dimension values cannot be null")
    if not sizes or any(n <= 0 for n in sizes):
        return []

    def build(i):
        return [x] * sizes[i] if i == len(sizes) - 1 else [build(i + 1)
                                                           for _ in range(sizes[i])]
    return build(0)


def _trim_array(a, n):
    if not 0 <= n <= len(a):
        raise ArraySubscriptError(f"number of elements to trim must be between 0 and {len(a)}")
    return a[:len(a) - n]


def _array_append(a, x):
    from .ops_impl import _array_append as app
    return [x] if a is None else app(a, x)


def _array_prepend(x, a):
    from .ops_impl import _array_prepend as pre
    return [x] if a is None else pre(x, a)


def _array_cat(a, b):
    from .ops_impl import _array_cat as cat
    if a is None:
        return b
    if b is None:
        return a
    return cat(a, b)


def _array_to_string_factory(ctx, params, elem):
    et = params[0].element

    def f(a, delim, null_str=None):
        if a is None or delim is None:
            return None
        parts = []
        for x in flatten(a):
            if x is None:
                if null_str is not None:
                    parts.append(null_str)
            else:
                parts.append(format_text(x, et, tz=ctx.timezone))
        return delim.join(parts)
    return f


def _unnest(a):
    return [(x,) for x in flatten(a)]


def _generate_subscripts(a, d, reverse=False):
    n = _array_length(a, d)
    if n is None:
        return []
    rng = range(n, 0, -1) if reverse else range(1, n + 1)
    return [(i,) for i in rng]


# ------------------------------------------------------------------ generate_series --

def _series_int(start, stop, step=1):
    if step == 0:
        raise InvalidParameterValue("step size cannot equal zero")
    if step > 0:
        return ((v,) for v in range(start, stop + 1, step))
    return ((v,) for v in range(start, stop - 1, step))


def _series_numeric(start, stop, step=Decimal(1)):
    for v, what in ((start, "start"), (stop, "stop"), (step, "step size")):
        if v.is_nan():
            raise InvalidParameterValue(f"{what} value cannot be NaN" if what != "step size"
                                        else "step size cannot be NaN")
        if v.is_infinite():
            raise InvalidParameterValue(f"{what} value cannot be infinity"
                                        if what != "step size" else
                                        "step size cannot be infinity")
    if step.is_zero():
        raise InvalidParameterValue("step size cannot equal zero")
    def gen():
        v = start
        while (v <= stop) if step > 0 else (v >= stop):
            yield (v,)
            v = nums.EXACT.add(v, step)
    return gen()


def _series_ts_factory(ctx, params, elem):
    aware = params[0].oid == T.TIMESTAMPTZ.oid

    def f(start, stop, step):
        if step.span() == 0:
            raise InvalidParameterValue("step size cannot equal zero")
        if isinstance(start, T.InfiniteDatetime) or isinstance(stop, T.InfiniteDatetime):
            raise InvalidParameterValue("start value cannot be infinity")

        def gen():
            v = start
            pos = step.span() > 0
            while (v <= stop) if pos else (v >= stop):
                yield (v,)
                v = ivs.timestamp_add(v, step, ctx.timezone, aware=aware)
        return gen()
    return f


# --------------------------------------------------------------------------- json --

def _iso_offset(off: dt.timedelta) -> str:
    secs = int(off.total_seconds())
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    out = f"{sign}{secs // 3600:02d}:{secs // 60 % 60:02d}"
    if secs % 60:
        out += f":{secs % 60:02d}"
    return out


def _json_datetime(v, t: T.SqlType, tz) -> str:
    if isinstance(v, T.InfiniteDatetime):
        return str(v)
    if t.oid == T.DATE.oid:
        return dts.format_date(v)
    if t.oid == T.TIMESTAMP.oid:
        return dts.format_date(v) + "T" + dts.format_time(v.time())
    if t.oid == T.TIMESTAMPTZ.oid:
        local = v.astimezone(dts.zone_of(tz))
        return (dts.format_date(local) + "T" + dts.format_time(local.time())
                + _iso_offset(local.utcoffset()))
    if t.oid == T.TIMETZ.oid:
        return dts.format_time(v) + _iso_offset(v.utcoffset() or dt.timedelta(0))
    return dts.format_time(v)


def to_json_value(v, t: T.SqlType, tz=None):
    """A SQL value as a parsed JSON value (for jsonb building)."""
    if v is None:
        return None
    if isinstance(t, T.RecordType) and t.fields:
        return {n: to_json_value(x, ft, tz) for (n, ft), x in zip(t.fields, v)}
    if t.element is not None:
        return [to_json_value(x, t.element, tz) if not isinstance(x, list)
                else to_json_value(x, t, tz) for x in v]
    oid = t.oid
    if oid == T.BOOL.oid:
        return v
    if oid in T.INTEGER_TYPES:
        return Decimal(v)
    if oid in T.FLOAT_TYPES:
        if v != v or v in (float("inf"), float("-inf")):
            return format_text(v, t)
        return nums.norm(Decimal(format_text(v, t)))
    if oid == T.NUMERIC.oid:
        return v if v.is_finite() else format_text(v, t)
    if oid in (T.JSON.oid, T.JSONB.oid):
        return jsonvals.parse(v)
    if oid in (T.DATE.oid, T.TIMESTAMP.oid, T.TIMESTAMPTZ.oid, T.TIME.oid, T.TIMETZ.oid):
        return _json_datetime(v, t, tz)
    return format_text(v, t, tz=tz)


def to_json_text(v, t: T.SqlType, tz=None) -> str:
    """to_json's text (json type keeps json input as written, arrays without spaces)."""
    if v is None:
        return "null"
    if t.element is not None:
        return "[" + ",".join(to_json_text(x, t.element, tz) if not isinstance(x, list)
                              else to_json_text(x, t, tz) for x in v) + "]"
    if t.oid in (T.JSON.oid, T.JSONB.oid):
        return v
    if isinstance(t, T.RecordType) and t.fields:  # row_to_json: no spaces, field order
        return "{" + ",".join(f"{jsonvals.escape_string(n)}:{to_json_text(x, ft, tz)}"
                              for (n, ft), x in zip(t.fields, v)) + "}"
    jv = to_json_value(v, t, tz)
    return jsonvals.dump(jv)


def _build_object_factory(jsonb: bool):
    def make(ctx, params, elem):
        def f(*args):
            if len(args) % 2:
                raise InvalidParameterValue(
                    "argument list must have even number of elements",
                    hint=f"The arguments of {'jsonb' if jsonb else 'json'}_build_object() "
                         "must consist of alternating keys and values.")
            items = []
            for i in range(0, len(args), 2):
                k, v = args[i], args[i + 1]
                if k is None:
                    raise NullValueNotAllowed(f"argument {i + 1}: key must not be null")
                key = format_text(k, params[i], tz=ctx.timezone) if params[i].oid != \
                    T.BOOL.oid else ("true" if k else "false")
                items.append((key, v, params[i + 1]))
            if jsonb:
                out = {}
                for key, v, t in items:
                    out[key] = to_json_value(v, t, ctx.timezone)
                return jsonvals.dump(out)
            return "{" + ", ".join(f"{jsonvals.escape_string(key)} : "
                                   f"{to_json_text(v, t, ctx.timezone)}"
                                   for key, v, t in items) + "}"
        return f
    return make


def _build_array_factory(jsonb: bool):
    def make(ctx, params, elem):
        def f(*args):
            if jsonb:
                return jsonvals.dump([to_json_value(v, t, ctx.timezone)
                                      for v, t in zip(args, params)])
            return "[" + ", ".join(to_json_text(v, t, ctx.timezone)
                                   for v, t in zip(args, params)) + "]"
        return f
    return make


def _to_json_factory(jsonb: bool):
    def make(ctx, params, elem):
        t = params[0]
        if jsonb:
            return lambda v: jsonvals.dump(to_json_value(v, t, ctx.timezone))
        return lambda v: to_json_text(v, t, ctx.timezone)
    return make


def _row_to_json_factory(ctx, params, elem):
    """row_to_json(record): declared with "any" so that the record's field names (its
    RecordType) reach here; any other argument type has no such function."""
    t = params[0]
    if t.oid != T.RECORD.oid:
        from ..errors import UndefinedFunction
        raise UndefinedFunction(f"function row_to_json({T.format_type(t)}) does not exist",
                                hint="No function matches the given name and argument "
                                     "types. You might need to add explicit type casts.")
    return lambda v: to_json_text(v, t, ctx.timezone)


def _array_length_json(v):
    p = jsonvals.parse(v)
    if not isinstance(p, list):
        kind = "scalar" if not isinstance(p, dict) else "a non-array"
        raise InvalidParameterValue(f"cannot get array length of {kind}")
    return len(p)


def _array_elements(text_out: bool, jsonb: bool):
    def f(v):
        if not jsonb:
            kind, items = jsonvals.raw_children(v)
            if kind != "array":
                raise InvalidParameterValue("cannot extract elements from "
                                            f"{'an object' if kind == 'object' else 'a scalar'}")
            if text_out:
                return [(jsonvals.as_text(jsonvals.parse(x, False)) if not x.startswith("\"")
                         else jsonvals.parse(x, False),) for x in items]
            return [(x,) for x in items]
        p = jsonvals.parse(v)
        if not isinstance(p, list):
            raise InvalidParameterValue("cannot extract elements from "
                                        f"{'an object' if isinstance(p, dict) else 'a scalar'}")
        if text_out:
            return [(jsonvals.as_text(x),) for x in p]
        return [(jsonvals.dump(x),) for x in p]
    return f


def _each(text_out: bool, jsonb: bool):
    def f(v):
        if not jsonb:
            kind, items = jsonvals.raw_children(v)
            if kind != "object":
                raise InvalidParameterValue("cannot call json_each on a non-object")
            if text_out:
                return [(k, jsonvals.as_text(jsonvals.parse(raw, False))) for k, raw in items]
            return [(k, raw) for k, raw in items]
        p = jsonvals.parse(v)
        if not isinstance(p, dict):
            raise InvalidParameterValue(
                f"cannot call {'jsonb_each_text' if text_out else 'jsonb_each'} on a "
                "non-object")
        keys = sorted(p, key=jsonvals.key_order)
        if text_out:
            return [(k, jsonvals.as_text(p[k])) for k in keys]
        return [(k, jsonvals.dump(p[k])) for k in keys]
    return f


def _object_keys(v):
    p = jsonvals.parse(v)
    if not isinstance(p, dict):
        raise InvalidParameterValue("cannot call jsonb_object_keys on a "
                                    f"{'array' if isinstance(p, list) else 'scalar'}")
    return [(k,) for k in sorted(p, key=jsonvals.key_order)]


def _extract_path(text_out: bool):
    def f(v, *path):
        r = jsonvals.get_path(jsonvals.parse(v), list(path))
        if r is jsonvals.MISSING:
            return None
        return jsonvals.as_text(r) if text_out else jsonvals.dump(r)
    return f


def _strip_nulls(v):
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(y) for k, y in x.items() if y is not None}
        if isinstance(x, list):
            return [strip(y) for y in x]
        return x
    return jsonvals.dump(strip(jsonvals.parse(v)))


def _jsonb_set(target, path, new, create=True):
    return jsonvals.dump(jsonvals.set_path(jsonvals.parse(target), list(path),
                                           jsonvals.parse(new), create))


# --------------------------------------------------------------------------- misc --

def _version_factory(ctx, params, elem):
    return lambda: (f"PostgreSQL 15.0 on x86_64-pc-linux-gnu, compiled by "
                    f"{ctx.version_suffix}, 64-bit")


def _pg_typeof_factory(ctx, params, elem):
    oid = params[0].oid
    return lambda v: oid


def _ctx_attr(attr):
    return lambda ctx, params, elem: (lambda: getattr(ctx, attr))


def _num_nulls(*args):
    return sum(1 for a in args if a is None)


def _reg_all():
    r = register
    AA, AE = ANYARRAY, ANYELEMENT
    r("array_length", (AA, I4), I4, _array_length)
    r("cardinality", (AA,), I4, lambda a: len(flatten(a)))
    r("array_upper", (AA, I4), I4, _array_length)
    r("array_lower", (AA, I4), I4, _array_lower)
    r("array_dims", (AA,), TXT, _array_dims)
    r("array_ndims", (AA,), I4, lambda a: len(_dims(a)) or None)
    r("array_position", (AA, AE), I4, _array_position, strict=False)
    r("array_position", (AA, AE, I4), I4, _array_position, strict=False)
    r("array_positions", (AA, AE), T.array_of(I4), _array_positions, strict=False)
    r("array_append", (AA, AE), _array_result, _array_append, strict=False)
    r("array_prepend", (AE, AA), _array_result, _array_prepend, strict=False)
    r("array_cat", (AA, AA), _array_result, _array_cat, strict=False)
    r("array_remove", (AA, AE), _array_result, _array_remove, strict=False)
    r("array_replace", (AA, AE, AE), _array_result, _array_replace, strict=False)
    r("array_fill", (AE, T.array_of(I4)), _array_result, _array_fill, strict=False)
    r("array_fill", (AE, T.array_of(I4), T.array_of(I4)), _array_result, _array_fill,
      strict=False)
    r("trim_array", (AA, I4), lambda params, elem: params[0], _trim_array)
    r("array_to_string", (AA, TXT), TXT, _array_to_string_factory, needs_ctx=True,
      strict=False)
    r("array_to_string", (AA, TXT, TXT), TXT, _array_to_string_factory, needs_ctx=True,
      strict=False)
    r("unnest", (AA,), _unnest_columns, _unnest, srf=True)
    r("generate_subscripts", (AA, I4), [("generate_subscripts", I4)], _generate_subscripts,
      srf=True)
    r("generate_subscripts", (AA, I4, BOOL), [("generate_subscripts", I4)],
      _generate_subscripts, srf=True)
    for t in (I4, I8):
        r("generate_series", (t, t), [("generate_series", t)], _series_int, srf=True)
        r("generate_series", (t, t, t), [("generate_series", t)], _series_int, srf=True)
    r("generate_series", (N, N), [("generate_series", N)], _series_numeric, srf=True)
    r("generate_series", (N, N, N), [("generate_series", N)], _series_numeric, srf=True)
    for t in (T.TIMESTAMP, T.TIMESTAMPTZ):
        r("generate_series", (t, t, T.INTERVAL), [("generate_series", t)],
          _series_ts_factory, srf=True, needs_ctx=True)
    # json
    r("json_build_object", (ANY,), J, _build_object_factory(False), strict=False,
      needs_ctx=True, variadic=True)
    r("jsonb_build_object", (ANY,), JB, _build_object_factory(True), strict=False,
      needs_ctx=True, variadic=True)
    r("json_build_object", (), J, lambda: "{}")
    r("jsonb_build_object", (), JB, lambda: "{}")
    r("json_build_array", (ANY,), J, _build_array_factory(False), strict=False,
      needs_ctx=True, variadic=True)
    r("jsonb_build_array", (ANY,), JB, _build_array_factory(True), strict=False,
      needs_ctx=True, variadic=True)
    r("json_build_array", (), J, lambda: "[]")
    r("jsonb_build_array", (), JB, lambda: "[]")
    r("to_json", (AE,), J, _to_json_factory(False), needs_ctx=True)
    r("to_jsonb", (AE,), JB, _to_json_factory(True), needs_ctx=True)
    r("array_to_json", (AA,), J, _to_json_factory(False), needs_ctx=True)
    r("row_to_json", (ANY,), J, _row_to_json_factory, needs_ctx=True)
    r("jsonb_typeof", (JB,), TXT, lambda v: jsonvals.typeof(jsonvals.parse(v)))
    r("json_typeof", (J,), TXT, lambda v: jsonvals.typeof(jsonvals.parse(v, False)))
    r("jsonb_array_length", (JB,), I4, _array_length_json)
    r("json_array_length", (J,), I4, _array_length_json)
    r("jsonb_array_elements", (JB,), [("value", JB)], _array_elements(False, True), srf=True)
    r("jsonb_array_elements_text", (JB,), [("value", TXT)], _array_elements(True, True),
      srf=True)
    r("json_array_elements", (J,), [("value", J)], _array_elements(False, False), srf=True)
    r("json_array_elements_text", (J,), [("value", TXT)], _array_elements(True, False),
      srf=True)
    r("jsonb_each", (JB,), [("key", TXT), ("value", JB)], _each(False, True), srf=True)
    r("jsonb_each_text", (JB,), [("key", TXT), ("value", TXT)], _each(True, True), srf=True)
    r("json_each", (J,), [("key", TXT), ("value", J)], _each(False, False), srf=True)
    r("json_each_text", (J,), [("key", TXT), ("value", TXT)], _each(True, False), srf=True)
    r("jsonb_object_keys", (JB,), [("jsonb_object_keys", TXT)], _object_keys, srf=True)
    r("jsonb_extract_path", (JB, TXT), JB, _extract_path(False), variadic=True)
    r("jsonb_extract_path_text", (JB, TXT), TXT, _extract_path(True), variadic=True)
    r("jsonb_pretty", (JB,), TXT, lambda v: jsonvals.pretty(jsonvals.parse(v)))
    r("jsonb_strip_nulls", (JB,), JB, _strip_nulls)
    r("jsonb_set", (JB, T.array_of(TXT), JB), JB, _jsonb_set)
    r("jsonb_set", (JB, T.array_of(TXT), JB, BOOL), JB, _jsonb_set)
    # misc
    r("gen_random_uuid", (), T.UUID, _uuid.uuid4, volatile=True)
    r("uuid_generate_v4", (), T.UUID, _uuid.uuid4, volatile=True)
    r("version", (), TXT, _version_factory, needs_ctx=True)
    r("pg_typeof", (ANY,), T.REGTYPE, _pg_typeof_factory, strict=False, needs_ctx=True)
    # immusql has no advisory locks, so there is never one to release; asyncpg's pool runs
    # this on every connection it takes back (its reset query for PostgreSQL servers)
    r("pg_advisory_unlock_all", (), T.VOID, lambda: "", volatile=True)
    for name, attr in (("current_user", "user"), ("session_user", "user"), ("user", "user"),
                       ("current_role", "user"), ("current_database", "database"),
                       ("current_catalog", "database"), ("current_schema", "schema")):
        r(name, (), T.NAME, _ctx_attr(attr), needs_ctx=True)
    r("num_nulls", (ANY,), I4, _num_nulls, strict=False, variadic=True)
    r("num_nonnulls", (ANY,), I4, lambda *a: sum(1 for x in a if x is not None),
      strict=False, variadic=True)


def _unnest_columns(params, elem):
    return [("unnest", elem)]


_reg_all()
