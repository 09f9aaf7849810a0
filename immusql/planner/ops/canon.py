"""Canonical forms of SQL values for hashing and sorting, PostgreSQL's way.

Hashing and peer tests (GROUP BY, DISTINCT, hash joins, set operations, window peers):
equal SQL values must be equal keys. Python already equates 1, 1.0 and Decimal(1), and
-0.0 with 0.0, but NaN != NaN while PostgreSQL groups all NaNs together, and arrays
(lists) are unhashable. `canon` maps every NaN to one sentinel object (equal only to
itself) and lists to tuples. Most keys are ints and strings: the compiled key functions
only call `canon` for values whose type is not plain, and `canon_keys` checks a whole
list of keys at C speed before touching any.

Sorting: NaN sorts above every other number, arrays compare element-wise with NULL
elements above everything. `sortable` rewrites a column of values only when it holds such
values, so ordinary columns are sorted as they are.
"""

from __future__ import annotations

import datetime
import operator
import uuid
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import Any, Callable, Sequence

from .base import RowFn, column_index, compile_fn, expr_of, tuple_fn

NoneType = type(None)

# Types whose Python equality and hashing already are SQL's.
PLAIN = frozenset({NoneType, bool, int, str, bytes, datetime.date, datetime.datetime,
                   datetime.time, datetime.timedelta, uuid.UUID})
_plain_superset = PLAIN.issuperset
_NUMERIC_PLAIN = PLAIN | {float, Decimal}
_numeric_superset = _NUMERIC_PLAIN.issuperset

class _NaNKey:
    """The canonical key of NaN: hashable, equal only to itself (unlike NaN)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return self.name


NAN = _NaNKey("NaN")                  # the key of every float NaN
DECIMAL_NAN = _NaNKey("Decimal NaN")  # ... and of every numeric NaN


# First item of the hash key of a dict (a jsonb object): no array's key can equal it.
_OBJECT = object()


def canon(v: Any) -> Any:
    """A hashable value equal (as a dict key) exactly to the keys of SQL-equal values."""
    t = type(v)
    if t in PLAIN:
        return v
    if t is float:
        return NAN if v != v else v
    if t is Decimal:
        return DECIMAL_NAN if v.is_nan() else v
    if t is list or t is tuple:
        return tuple([canon(x) for x in v])
    if t is dict:
        return (_OBJECT, tuple(sorted((k, canon(x)) for k, x in v.items())))
    if t is bytearray or t is memoryview:
        return bytes(v)
    hash(v)  # TypeError for an unhashable type we know nothing about: fail loudly
    return v


def canon_tuple(values: Sequence[Any]) -> tuple:
    return tuple(map(canon, values))


def key_fn(fns: Sequence[RowFn], force_tuple: bool = False) -> Callable[[tuple], Any]:
    """Row -> canonical hash key of the values of `fns`.

    One function gives a scalar key (None when the value is NULL), several (or
    `force_tuple`) a tuple. Compiled to a single lambda; `canon` runs only for values of a
    non-plain type.
    """
    fns = list(fns)
    env: dict[str, Any] = {"PLAIN": PLAIN, "canon": canon, "canon_tuple": canon_tuple,
                           "plain_sup": _plain_superset}
    if not fns:
        return lambda r: ()
    if len(fns) == 1 and not force_tuple:
        e = expr_of(fns[0], env)
        return compile_fn("r", f"v if type(v := {e}) in PLAIN else canon(v)", env)
    idx = [column_index(f) for f in fns]
    if len(fns) > 1 and None not in idx:
        env["_get"] = operator.itemgetter(*idx)
        t = "_get(r)"
    else:
        t = "(" + "".join(expr_of(f, env) + ", " for f in fns) + ")"
    return compile_fn("r", f"k if plain_sup(map(type, k := {t})) else canon_tuple(k)", env)


def raw_key_fn(fns: Sequence[RowFn]) -> Callable[[tuple], Any]:
    """Row -> the key values as they are (a scalar for one function, else a tuple); a C
    itemgetter when the functions are column references."""
    return fns[0] if len(fns) == 1 else tuple_fn(fns)


def canon_keys(keys: list, multi: bool) -> list:
    """Canonical forms of raw keys: `keys` itself (same object) when no value needs one,
    as usual, found with C-speed passes over the values' types (and, for floats and
    numerics, over `v == v`, which is false only for NaN)."""
    types = set(map(type, chain.from_iterable(keys) if multi else keys))
    if types <= PLAIN:
        return keys
    if types <= _NUMERIC_PLAIN:
        values = list(chain.from_iterable(keys)) if multi else keys
        try:
            if all(map(operator.eq, values, values)):
                return keys
        except InvalidOperation:  # signalling NaN
            pass
    return [canon_tuple(k) for k in keys] if multi else list(map(canon, keys))


def row_key(row: tuple) -> tuple:
    """Canonical hash key of a whole row (DISTINCT, set operations): the row itself unless
    it holds a NaN (v != v) or a value of a non-plain, non-numeric type."""
    if _plain_superset(map(type, row)):
        return row
    if _numeric_superset(map(type, row)) and all(map(operator.eq, row, row)):
        return row
    return canon_tuple(row)


# ------------------------------------------------------------------------- sorting ----


class _Top:
    """Sorts above every value of any other type; ranks order the tops among themselves."""

    __slots__ = ("rank",)

    def __init__(self, rank: int):
        self.rank = rank

    def __lt__(self, other):
        return type(other) is _Top and self.rank < other.rank

    def __gt__(self, other):
        return type(other) is not _Top or self.rank > other.rank

    def __le__(self, other):
        return self is other or self < other

    def __ge__(self, other):
        return self is other or self > other

    def __repr__(self):
        return ("NaN", "NULL")[self.rank]


NAN_TOP = _Top(0)   # NaN: above all numbers (PostgreSQL float and numeric ordering)
NULL_TOP = _Top(1)  # a NULL array element: above all non-null elements

_NUMERIC = frozenset({NoneType, bool, int, float, Decimal})
_ORDERED_PLAIN = PLAIN


def sort_key(v: Any) -> Any:
    """A value ordered like PostgreSQL orders `v` among values of its type (not NULL)."""
    t = type(v)
    if t is float or t is Decimal:
        return NAN_TOP if v != v else v
    if t is list or t is tuple:
        return tuple([NULL_TOP if e is None else sort_key(e) for e in v])
    if t is dict:
        return _json_key(v)
    return v


def _json_key(v: Any) -> tuple:
    """jsonb ordering, best effort: object > array > boolean > number > string > null."""
    if v is None:
        return (0,)
    t = type(v)
    if t is str:
        return (1, v)
    if t is bool:
        return (3, v)
    if t is int or t is float or t is Decimal:
        return (2, NAN_TOP if v != v else v)
    if t is list or t is tuple:
        return (4, len(v), tuple(_json_key(e) for e in v))
    if t is dict:
        items = sorted(v.items(), key=lambda kv: (len(kv[0]), kv[0]))
        return (5, len(v), tuple((k, _json_key(x)) for k, x in items))
    return (6, v)


def sortable(values: list) -> list:
    """`values` (NULLs left as None) rewritten only if needed to sort like PostgreSQL."""
    types = set(map(type, values))
    if types <= _ORDERED_PLAIN:
        return values
    if types <= _NUMERIC:
        try:
            if all(map(operator.eq, values, values)):  # no NaN (NaN != NaN)
                return values
        except InvalidOperation:  # signalling NaN
            pass
        return [NAN_TOP if v != v else v for v in values]
    return [None if v is None else sort_key(v) for v in values]
