"""DISTINCT and DISTINCT ON, hash based and streaming.

A row is emitted the first time its key is seen, so rows come out in input order and a
LIMIT above stops the scan early. Keys are canonical (`canon`): NULLs are equal to each
other here, as are all NaNs.
"""

from __future__ import annotations

from typing import Sequence

from .base import Operator, RowFn
from .canon import key_fn, row_key


def first_of_each(rows, key):
    """Rows whose `key(row)` was not seen before (one hash per row)."""
    seen: set = set()
    add = seen.add
    for row in rows:
        n = len(seen)
        add(key(row))
        if len(seen) != n:
            yield row


class Distinct(Operator):
    """SELECT DISTINCT: the first row of each distinct key (`key_fns` None: whole row)."""

    name = "Unique"

    def __init__(self, child: Operator, key_fns: Sequence[RowFn] | None = None,
                 label: str | None = None):
        super().__init__([child], child.columns, label)
        self.key_fns = None if key_fns is None else list(key_fns)

    def __iter__(self):
        key = row_key if self.key_fns is None else key_fn(self.key_fns)
        return first_of_each(iter(self.children[0]), key)


class DistinctOn(Distinct):
    """SELECT DISTINCT ON (keys): the first row per key in input order (the planner sorts
    by the keys, then the rest of ORDER BY, beforehand)."""

    def __init__(self, child: Operator, key_fns: Sequence[RowFn], label: str | None = None):
        super().__init__(child, list(key_fns), label)
