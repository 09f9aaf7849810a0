"""UNION, INTERSECT and EXCEPT, with and without ALL, PostgreSQL's semantics.

Rows are compared whole with NULLs equal (as DISTINCT does). UNION streams; INTERSECT
and EXCEPT count the right side's rows in a hash table, then stream the left side: the
ALL forms emit min(m, n) and max(m - n, 0) copies of a row present m times on the left
and n times on the right, the others one copy. Rows come out in left input order.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain

from .base import Operator
from .canon import row_key
from .distinct import first_of_each

KINDS = ("union", "intersect", "except")


class SetOp(Operator):
    def __init__(self, kind: str, all: bool, left: Operator, right: Operator,  # noqa: A002
                 label: str | None = None):
        kind = kind.lower()
        if kind not in KINDS:
            raise ValueError(f"unknown set operation {kind!r}")
        if left.columns != right.columns:
            raise ValueError("set operation sides differ in width")
        super().__init__([left, right], left.columns, label)
        self.kind, self.all = kind, bool(all)
        if kind == "union":
            self.name = "Append" if self.all else "HashSetOp Union"
        else:
            self.name = "HashSetOp " + kind.capitalize() + (" All" if self.all else "")

    def __iter__(self):
        left, right = self.children
        if self.kind == "union":
            rows = chain(left, right)
            return rows if self.all else first_of_each(rows, row_key)
        return self._run()

    def _run(self):
        left, right = self.children
        counts = Counter(map(row_key, right))
        intersect, keep_all = self.kind == "intersect", self.all
        for row in left:
            k = row_key(row)
            n = counts.get(k, 0)
            if intersect:
                if n:
                    counts[k] = n - 1 if keep_all else 0
                    yield row
            elif n > 0:
                if keep_all:
                    counts[k] = n - 1
            else:
                if not keep_all:
                    counts[k] = -1  # emitted once: later copies are not new
                if n == 0:
                    yield row
