"""enum_first, enum_last and enum_range: PostgreSQL's functions over an enum's labels.

Why they bind to the argument's type, not its value: they are called with a NULL of the
enum type (`enum_range(NULL::mood)`), so like PostgreSQL they are non-strict and read the
label table from the type the argument has at plan time.
"""

from __future__ import annotations

from ..errors import ObjectNotInPrerequisiteState, UndefinedFunction
from . import types as T
from .functions import register
from .overload import ANYELEMENT


def _enum_of(name, params, elem):
    if elem is None or elem.category != "E":
        args = ", ".join(T.format_type(p) for p in params)
        raise UndefinedFunction(
            f"function {name}({args}) does not exist",
            hint="No function matches the given name and argument types. You might need "
                 "to add explicit type casts.")
    return elem


def _values(e):
    if not e.labels:
        raise ObjectNotInPrerequisiteState(f"enum {e.name} contains no values")
    return e.values()


def _first(ctx, params, elem):
    e = _enum_of("enum_first", params, elem)
    return lambda _v: _values(e)[0]


def _last(ctx, params, elem):
    e = _enum_of("enum_last", params, elem)
    return lambda _v: _values(e)[-1]


def _range1(ctx, params, elem):
    e = _enum_of("enum_range", params, elem)
    return lambda _v: e.values()


def _range2(ctx, params, elem):
    e = _enum_of("enum_range", params, elem)

    def fn(lo, hi):
        return [v for v in e.values() if (lo is None or v >= lo) and (hi is None or v <= hi)]
    return fn


def _elem(params, elem):
    return elem


def _array(params, elem):
    return T.array_of(elem) if elem is not None and elem.category == "E" else T.TEXT


register("enum_first", (ANYELEMENT,), _elem, _first, strict=False, needs_ctx=True)
register("enum_last", (ANYELEMENT,), _elem, _last, strict=False, needs_ctx=True)
register("enum_range", (ANYELEMENT,), _array, _range1, strict=False, needs_ctx=True)
register("enum_range", (ANYELEMENT, ANYELEMENT), _array, _range2, strict=False,
         needs_ctx=True)
