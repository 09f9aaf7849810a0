"""Scans and the streaming operators: Values, FunctionScan, Filter, Project, Limit,
Append, Materialize.

Filter, Project, Limit and Append return `filter`/`map`/`islice`/`chain` iterators over
their child: a row passes through a whole pipeline of them in C, calling only the
planner's row functions, and nothing is read ahead of what the consumer asks for.
"""

from __future__ import annotations

from itertools import chain, islice
from typing import Callable, Iterable, Sequence

from .base import Operator, RowFn, data_error, tuple_fn


class Values(Operator):
    """Rows given as a list (VALUES, a CTE or work table already computed)."""

    name = "Values Scan"

    def __init__(self, rows: Sequence[tuple], columns: int, label: str | None = None):
        super().__init__([], columns, label)
        self.rows = rows

    def __iter__(self):
        return iter(self.rows)


class FunctionScan(Operator):
    """Rows from `fn()`, called again on every iteration (set-returning functions, or a
    table scan the planner wraps)."""

    name = "Function Scan"

    def __init__(self, fn: Callable[[], Iterable[tuple]], columns: int,
                 label: str | None = None):
        super().__init__([], columns, label)
        self.fn = fn

    def __iter__(self):
        return iter(self.fn())


class Filter(Operator):
    """Rows for which `predicate(row)` is true (NULL and false both reject)."""

    name = "Filter"

    def __init__(self, child: Operator, predicate: RowFn, label: str | None = None):
        super().__init__([child], child.columns, label)
        self.predicate = predicate

    def __iter__(self):
        return filter(self.predicate, iter(self.children[0]))


class Project(Operator):
    """One output column per function; the functions are fused into one compiled lambda
    (column references become `r[i]`)."""

    name = "Result"

    def __init__(self, child: Operator, fns: Sequence[RowFn], label: str | None = None):
        super().__init__([child], len(fns), label)
        self.fns = list(fns)
        self._fn = tuple_fn(self.fns)

    def __iter__(self):
        return map(self._fn, iter(self.children[0]))


class Limit(Operator):
    """OFFSET then LIMIT. Never reads a row past the last one returned, and LIMIT 0 reads
    nothing (as PostgreSQL)."""

    name = "Limit"

    def __init__(self, child: Operator, limit: int | None, offset: int = 0,
                 label: str | None = None, ties: Sequence[RowFn] | None = None):
        super().__init__([child], child.columns, label)
        self.limit = limit
        self.offset = offset or 0
        self.ties = ties  # WITH TIES: the ORDER BY key functions of the (sorted) input

    def __iter__(self):
        if self.limit is not None and self.limit < 0:
            raise data_error("LIMIT must not be negative", "2201W")
        if self.offset < 0:
            raise data_error("OFFSET must not be negative", "2201X")
        if self.limit == 0:
            return iter(())
        if self.ties is not None and self.limit is not None:
            return self._with_ties()
        stop = None if self.limit is None else self.offset + self.limit
        return islice(iter(self.children[0]), self.offset, stop)

    def _with_ties(self):
        """FETCH FIRST n ROWS WITH TIES: the n rows, then every following row whose ORDER BY
        keys equal the last one's (NULLs and NaNs equal each other, as in sorting)."""
        fns = self.ties
        rows = islice(iter(self.children[0]), self.offset, None)
        last = None
        for i, row in enumerate(rows):
            key = tuple(f(row) for f in fns)
            if i >= self.limit and not all(
                    a == b or (a is None and b is None) or (a != a and b != b)
                    for a, b in zip(key, last)):
                return
            last = key
            yield row


class Append(Operator):
    """The children's rows one child after another (UNION ALL, inheritance)."""

    name = "Append"

    def __init__(self, children: Sequence[Operator], columns: int | None = None,
                 label: str | None = None):
        children = list(children)
        if columns is None:
            if not children:
                raise ValueError("Append of no children needs columns")
            columns = children[0].columns
        if any(c.columns != columns for c in children):
            raise ValueError("Append children differ in width")
        super().__init__(children, columns, label)

    def __iter__(self):
        return chain.from_iterable(self.children)


class Materialize(Operator):
    """Runs its child once and replays the rows on later iterations.

    Rows are cached as they are first read, so iterations may interleave or stop early
    (an EXISTS probe) and the child is still read at most once, never further than the
    furthest iteration went.
    """

    name = "Materialize"

    def __init__(self, child: Operator, label: str | None = None):
        super().__init__([child], child.columns, label)
        self._rows: list[tuple] = []
        self._source = None
        self._done = False

    def __iter__(self):
        if self._done:
            return iter(self._rows)
        return self._replay()

    def _replay(self):
        rows = self._rows
        i = 0
        while True:
            if i < len(rows):
                yield rows[i]
                i += 1
                continue
            if self._done:
                return
            if self._source is None:
                self._source = iter(self.children[0])
            row = next(self._source, None)
            if row is None:
                self._done, self._source = True, None
                return
            rows.append(row)

    def reset(self) -> None:
        """Forget the cached rows (the child will be run again)."""
        self._rows, self._source, self._done = [], None, False
