"""ORDER BY: a stable sort with PostgreSQL's ordering, and top-N with a heap.

One stable `list.sort` pass per key, from the least significant key to the most
significant: each pass evaluates its key once per row into a column and sorts by it with
no Python call per comparison or per row; `reverse=True` gives DESC while keeping ties in
input order, and NULLs are split off and put in front or behind, so values never meet
None. `canon.sortable` rewrites a column only if it holds NaNs or arrays, so ordinary
columns compare as plain Python values (no wrapper objects).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import partial
from typing import Iterable, Sequence

from .base import Operator, RowFn, deferred
from .canon import sort_key, sortable


@dataclass(frozen=True, eq=False)
class SortKey:
    """One ORDER BY item. nulls_first None: PostgreSQL's default (NULLS LAST for ASC,
    NULLS FIRST for DESC)."""

    fn: RowFn
    descending: bool = False
    nulls_first: bool | None = None

    @property
    def nulls_go_first(self) -> bool:
        return self.descending if self.nulls_first is None else self.nulls_first


def _keys_in_order() -> bool:
    """Does list.sort call its key function once per item, in list order (CPython)?"""
    try:
        return sorted("cab", key=partial(next, iter((3, 1, 2))), reverse=True) == ["c", "b",
                                                                                  "a"]
    except TypeError:
        return False


# `key=partial(next, iter(column))` hands list.sort precomputed keys without a Python call
# per row and without reordering rows through an index permutation (random memory access).
_PRECOMPUTED_KEYS = _keys_in_order()


def _sort_by(rows: list, column: list, reverse: bool) -> list:
    """`rows` stably sorted by the parallel list `column` (no None in it)."""
    if _PRECOMPUTED_KEYS:
        rows.sort(key=partial(next, iter(column)), reverse=reverse)
        return rows
    perm = sorted(range(len(rows)), key=column.__getitem__, reverse=reverse)
    return list(map(rows.__getitem__, perm))


def sort_rows(rows: Iterable[tuple], keys: Sequence[SortKey]) -> list[tuple]:
    """A new list of `rows` in ORDER BY `keys` order; ties keep their input order.

    One stable pass per key, least significant first; each key is evaluated once per row.
    """
    rows = list(rows)
    if len(rows) < 2:
        return rows
    for key in reversed(keys):
        column = sortable(list(map(key.fn, rows)))
        if None in column:
            values = [r for r, v in zip(rows, column) if v is not None]
            nulls = [r for r, v in zip(rows, column) if v is None]
            values = _sort_by(values, [v for v in column if v is not None], key.descending)
            rows = nulls + values if key.nulls_go_first else values + nulls
        else:
            rows = _sort_by(rows, column, key.descending)
    return rows


class _Desc:
    """Reverses the order of a (non-null, sort_key'd) value inside a heap key."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return other.v < self.v

    def __eq__(self, other):
        return self.v == other.v


def heap_key(keys: Sequence[SortKey]):
    """Row -> one comparable key tuple for all of `keys` (used by top-N)."""
    spec = [(k.fn, k.descending, (0,) if k.nulls_go_first else (2,)) for k in keys]

    def key(row):
        out = []
        for fn, desc, null_part in spec:
            v = fn(row)
            if v is None:
                out.append(null_part)
            else:
                v = sort_key(v)
                out.append((1, _Desc(v) if desc else v))
        return out

    return key


def top_n(rows: Iterable[tuple], keys: Sequence[SortKey], n: int) -> list[tuple]:
    """The first `n` rows of the ordering, in a bounded heap (stable, like sort_rows)."""
    if n <= 0:
        return []
    return heapq.nsmallest(n, rows, key=heap_key(keys))


class Sort(Operator):
    """Materialises its input and returns it ordered; with `limit`, keeps only the first
    `limit` rows in a heap instead (ORDER BY ... LIMIT n), using O(limit) memory."""

    name = "Sort"

    def __init__(self, child: Operator, keys: Sequence[SortKey], limit: int | None = None,
                 label: str | None = None):
        super().__init__([child], child.columns, label)
        self.keys = list(keys)
        self.limit = limit

    def __iter__(self):
        return deferred(self._run)

    def _run(self) -> list[tuple]:
        if self.limit is not None:
            return top_n(iter(self.children[0]), self.keys, self.limit)
        return sort_rows(list(self.children[0]), self.keys)
