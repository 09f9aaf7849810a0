"""Scalar, set-returning, aggregate and window function catalog with PostgreSQL's
overload resolution.

Why: a function call's meaning depends on its argument types (round(numeric, int) keeps
the scale, round(float8) rounds half to even, length(bytea) counts bytes), and PostgreSQL
resolves overloads with the same algorithm as operators. The planner calls
`lookup_function(name, arg_types, ctx)` once per call site and gets `(fn, result_type)`;
`fn(*args)` takes Python values of the given argument types (coercions applied inside).

Strictness: `fn.strict` is True for functions that return NULL when any argument is NULL
(PostgreSQL's STRICT); the returned fn already does that itself, so the flag is only an
optimisation hint. `fn.volatile` marks functions whose result changes per call (random,
clock_timestamp, gen_random_uuid) so the planner does not constant-fold them.

Context: functions that read the statement time, the session time zone, the random
generator or the server version take them from a `FunctionContext` passed at lookup. The
session owns one context and updates `.now` (statement start) and
`.transaction_now` before each statement; the fn reads them at call time.

The libraries themselves live in fn_text, fn_math, fn_datetime, fn_misc and aggregates.
"""

from __future__ import annotations

import datetime as dt
import random as _random
import threading
from dataclasses import dataclass, field

from .. import __version__
from ..errors import AmbiguousFunction, UndefinedFunction
from . import types as T
from .aggregates import AggregateSpec  # noqa: F401 - re-exported
from .casts import cast
from .overload import ANY, Ambiguous, resolve

__all__ = ["FunctionContext", "FuncDef", "lookup_function", "set_returning_function",
           "lookup_aggregate", "window_function_type", "AggregateSpec", "register",
           "function_names"]


@dataclass
class FunctionContext:
    """What context-dependent functions read at call time (one per session).

    now: statement start (aware UTC) for now()/current_timestamp/statement_timestamp
    (PostgreSQL's now() is the *transaction* start: set transaction_now too; None means
    "same as now"). timezone: session TimeZone name. version_suffix: text after
    'compiled by ' in version(). rng: random.Random used by random()/setseed().
    resolver: reg* name lookup (see textio). user / database / schema: for
    current_user, current_database(), current_schema.
    """

    now: dt.datetime | None = None
    transaction_now: dt.datetime | None = None
    timezone: str = "UTC"
    version_suffix: str = f"immusql {__version__}"
    rng: _random.Random = field(default_factory=_random.Random)
    resolver: object = None
    user: str = "immusql"
    database: str = "immusql"
    schema: str = "public"

    def statement_time(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.timezone.utc)

    def transaction_time(self) -> dt.datetime:
        return self.transaction_now or self.statement_time()


@dataclass(frozen=True)
class FuncDef:
    """One pg_proc-like row. result: SqlType or callable(concrete_params, poly_elem).
    impl: callable(*values) or, with needs_ctx, a factory impl(ctx, params, elem) ->
    callable(*values). variadic: the last parameter repeats (PostgreSQL VARIADIC)."""

    name: str
    params: tuple
    result: object
    impl: object
    strict: bool = True
    volatile: bool = False
    needs_ctx: bool = False
    variadic: bool = False
    min_args: int | None = None


_FUNCS: dict[str, list[FuncDef]] = {}
_SRFS: dict[str, list[FuncDef]] = {}


def register(name, params, result, impl, *, strict=True, volatile=False, needs_ctx=False,
             variadic=False, srf=False):
    d = FuncDef(name, tuple(params), result, impl, strict, volatile, needs_ctx, variadic)
    (_SRFS if srf else _FUNCS).setdefault(name, []).append(d)
    return d


def function_names() -> list[str]:
    return sorted(_FUNCS)


def _label(t: T.SqlType) -> str:
    return "unknown" if t.oid == T.UNKNOWN.oid else T.format_type(t.base)


def _expand(defs, nargs):
    out = []
    for d in defs:
        if d.variadic:
            fixed = d.params[:-1]
            if nargs < len(fixed) + (0 if d.min_args == 0 else 1):
                continue
            params = fixed + (d.params[-1],) * (nargs - len(fixed))
        else:
            params = d.params
        out.append((params, d))
    return out


def _select(table, name: str, arg_types, what="function"):
    name = name.lower()
    defs = table.get(name, [])
    sig = f"{name}({', '.join(_label(t) for t in arg_types)})"
    try:
        got = resolve(tuple(arg_types), _expand(defs, len(arg_types)))
    except Ambiguous:
        raise AmbiguousFunction(
            f"{what} {sig} is not unique",
            hint=f"Could not choose a best candidate {what}. You might need to add explicit "
                 "type casts.") from None
    if got is None:
        raise UndefinedFunction(
            f"{what} {sig} does not exist",
            hint=f"No {what} matches the given name and argument types. You might need to "
                 "add explicit type casts.")
    return got


def _bind(d: FuncDef, arg_types, params, elem, ctx):
    ctx = ctx if ctx is not None else FunctionContext()
    impl = d.impl(ctx, params, elem) if d.needs_ctx else d.impl
    tz = ctx.timezone
    convs = []
    for a, p in zip(arg_types, params):
        if p.oid == ANY.oid or a == p or p.oid in (2283, 2277, 2776, 5077, 5078) or \
                (a.oid == p.oid and p.typmod < 0):
            convs.append(None)
        else:
            convs.append(lambda v, a=a, p=p: cast(v, a, p, explicit=False, tz=tz))
    if any(c is not None for c in convs):
        pairs = list(enumerate(convs))

        def call(*args):
            args = list(args)
            for i, c in pairs:
                if c is not None and args[i] is not None:
                    args[i] = c(args[i])
            return impl(*args)
    else:
        call = impl
    if d.strict:
        inner = call

        def fn(*args):
            for a in args:
                if a is None:
                    return None
            return inner(*args)
    else:
        def fn(*args):
            return call(*args)
    fn.strict = d.strict
    fn.volatile = d.volatile
    fn.arg_types = tuple(params)
    fn.name = d.name
    return fn


def _result(d: FuncDef, params, elem):
    r = d.result
    return r(params, elem) if callable(r) else r


def lookup_function(name: str, arg_types, ctx: FunctionContext | None = None):
    """(fn, result_type) for scalar function `name` applied to `arg_types`.
    Raises UndefinedFunction 42883 `function foo(integer) does not exist` (with
    PostgreSQL's hint) or AmbiguousFunction 42725."""
    _ensure_loaded()
    arg_types = tuple(arg_types)
    params, d, elem = _select(_FUNCS, name, arg_types)
    return _bind(d, arg_types, params, elem, ctx), _result(d, params, elem)


def set_returning_function(name: str, arg_types, ctx: FunctionContext | None = None):
    """(fn, columns) for a set-returning function: fn(*args) returns an iterable of
    tuples (one value per column); columns is [(column_name, SqlType)]. Strict SRFs
    return no rows for NULL input. Covers generate_series (integers, numeric,
    timestamps), unnest, generate_subscripts, jsonb/json_array_elements(_text),
    jsonb/json_each(_text), jsonb_object_keys, regexp_matches, string_to_table."""
    _ensure_loaded()
    arg_types = tuple(arg_types)
    params, d, elem = _select(_SRFS, name, arg_types)
    fn = _bind(d, arg_types, params, elem, ctx)
    cols = _result(d, params, elem)
    if isinstance(cols, T.SqlType):
        cols = [(d.name, cols)]
    if d.strict:
        inner = fn

        def srf(*args):
            r = inner(*args)
            return () if r is None else r
        srf.strict, srf.volatile, srf.arg_types = True, d.volatile, fn.arg_types
        return srf, cols
    return fn, cols


def lookup_aggregate(name: str, arg_types, distinct: bool = False):
    """AggregateSpec for name(args) (count(*) is name 'count' with no arguments)."""
    _ensure_loaded()
    from .aggregates import lookup_aggregate as _la
    return _la(name, tuple(arg_types), distinct)


def window_function_type(name: str, arg_types):
    _ensure_loaded()
    from .aggregates import window_function_type as _wft
    return _wft(name, tuple(arg_types))


_loaded = False
_loading = False
_load_lock = threading.RLock()


def _ensure_loaded():
    # Thread-safe: the server's worker threads make their first lookups at the same time,
    # and one that saw a half-filled registry would report `function now() does not
    # exist`. Others wait on the lock until registration is complete; a re-entrant call
    # from the registering thread itself (a module using a lookup at import) goes on.
    global _loaded, _loading
    if _loaded:
        return
    with _load_lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            from . import (  # noqa: F401 - they register
                fn_bytes,
                fn_catalog,
                fn_datetime,
                fn_enum,
                fn_math,
                fn_misc,
                fn_periods,
                fn_regex,
                fn_text,
                fn_trig_degrees,
                fn_verify,
            )
        finally:
            _loading = False
        _loaded = True
