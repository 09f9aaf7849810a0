"""Ordering and equality of SQL values as PostgreSQL's btree operator classes define them.

Why: Python's own comparisons disagree with PostgreSQL in a few places that matter for
ORDER BY, DISTINCT, GROUP BY, MIN/MAX and comparisons: NaN equals NaN and sorts above
every number (float and numeric), char(n) ignores trailing spaces, jsonb has its own
cross-type order, arrays compare element-wise with NULL elements last, timetz compares
the UTC instant first. `sort_key(t)` gives a key function with PostgreSQL's order for
non-NULL values of type t; `compare(a, b, t)` is -1/0/1.

Text compares by code point (equivalently by UTF-8 bytes): immusql behaves like
PostgreSQL with collation "C" everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from . import jsonvals
from . import types as T

_NAN_KEY = (2,)


def _float_key(v: float):
    if v != v:
        return _NAN_KEY
    return (1, v + 0.0)  # -0.0 == 0.0 already; keep a float


def _numeric_key(v: Decimal):
    if v.is_nan():
        return _NAN_KEY
    return (1, v)


def _bpchar_key(v: str):
    return v.rstrip(" ")


def _jsonb_key(v: str):
    return jsonvals.sort_key(jsonvals.parse(v))


def _timetz_key(v: dt.time):
    off = v.utcoffset() or dt.timedelta(0)
    us = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
    return (us - off // dt.timedelta(microseconds=1), -off.total_seconds())


class _Last:
    """Sorts after everything (NULL elements inside arrays)."""

    __slots__ = ()

    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return not isinstance(other, _Last)

    def __eq__(self, other):
        return isinstance(other, _Last)

    def __hash__(self):
        return 0


_LAST = _Last()


class _Elem:
    """Wraps an array element key so None (NULL) sorts last and mixed keys compare."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    def __lt__(self, other):
        if self.k is _LAST:
            return False
        if other.k is _LAST:
            return True
        return self.k < other.k

    def __eq__(self, other):
        return self.k == other.k

    def __hash__(self):
        return hash(self.k)


def _flatten(v, out, dims, depth=0):
    if len(dims) <= depth:
        dims.append(len(v))
    for x in v:
        if isinstance(x, list):
            _flatten(x, out, dims, depth + 1)
        else:
            out.append(x)


def _array_key_fn(elem: T.SqlType):
    ek = sort_key(elem)

    def key(v):
        flat: list = []
        dims: list = []
        _flatten(v, flat, dims)
        return (tuple(_Elem(_LAST if x is None else ek(x)) for x in flat), len(dims),
                tuple(dims))

    return key


def _identity(v):
    return v


@functools.lru_cache(maxsize=None)
def sort_key(t: T.SqlType):
    """Key function giving PostgreSQL's btree order for non-NULL values of type t."""
    if t.element is not None:
        return _array_key_fn(t.element)
    oid = t.oid
    if oid in T.FLOAT_TYPES:
        return _float_key
    if oid == T.NUMERIC.oid:
        return _numeric_key
    if oid == T.BPCHAR.oid:
        return _bpchar_key
    if oid == T.JSONB.oid:
        return _jsonb_key
    if oid == T.TIMETZ.oid:
        return _timetz_key
    return _identity


def compare(a, b, t: T.SqlType) -> int:
    k = sort_key(t)
    ka, kb = k(a), k(b)
    if ka < kb:
        return -1
    if kb < ka:
        return 1
    return 0


def equal(a, b, t: T.SqlType) -> bool:
    return compare(a, b, t) == 0


def hash_key(v, t: T.SqlType):
    """A hashable value equal for values PostgreSQL considers equal (GROUP BY, DISTINCT,
    hash joins): NaNs collapse, char(n) trailing spaces are ignored, arrays become
    tuples."""
    if v is None:
        return None
    if t.element is not None:
        return tuple(hash_key(x, t.element) if not isinstance(x, list) else hash_key(x, t)
                     for x in v)
    oid = t.oid
    if oid in T.FLOAT_TYPES:
        return "NaN" if v != v else v + 0.0
    if oid == T.NUMERIC.oid:
        return "NaN" if v.is_nan() else v
    if oid == T.BPCHAR.oid:
        return v.rstrip(" ")
    if oid == T.JSONB.oid:
        return jsonvals.normalize_jsonb(v)
    return v


# Types whose Python values sort differently from PostgreSQL in ways the sort operators'
# generic handling (NaN, NULL array elements) does not cover.
_NEEDS_KEY = frozenset({T.JSONB.oid, T.BPCHAR.oid, T.TIMETZ.oid})


def order_fn(fn, t: T.SqlType):
    """Row function `fn` producing values of type t, wrapped so its results sort in
    PostgreSQL's order (NULL stays None for NULLS FIRST/LAST); `fn` itself when plain
    Python order already is PostgreSQL's."""
    base = t.element if t.element is not None else t
    if base.oid not in _NEEDS_KEY:
        return fn
    key = sort_key(t)
    return lambda row: None if (v := fn(row)) is None else key(v)


def hash_canon(t: T.SqlType):
    """For grouping: a function giving values of type t that PostgreSQL calls equal one
    hash key, where the generic canonical form does not already (char(n): trailing
    blanks); None when none is needed."""
    return _bpchar_key if t.oid == T.BPCHAR.oid else None
