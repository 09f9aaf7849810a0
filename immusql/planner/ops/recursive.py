"""WITH RECURSIVE: iterate the recursive term over the working table until it is empty.

Streams like PostgreSQL's Recursive Union (the seed first, then each iteration's rows as
they are produced), so `LIMIT n` over an unbounded recursion terminates. UNION (without
ALL) discards rows seen in any earlier iteration, which also ends cycles in graph walks.
Runaway recursions are stopped by `max_iterations` / `max_rows`.
"""

from __future__ import annotations

from typing import Callable

from immusql.errors import StatementTooComplex

from ..interrupts import check as check_interrupt
from .base import Operator
from .canon import row_key

MAX_ITERATIONS = 100_000
MAX_ROWS = 10_000_000


class RecursiveUnion(Operator):
    """`step_factory(working_rows) -> Operator` builds the recursive term's plan reading
    the previous iteration's rows (the work table)."""

    name = "Recursive Union"

    def __init__(self, seed: Operator, step_factory: Callable[[list], Operator],
                 all: bool = False, max_iterations: int = MAX_ITERATIONS,  # noqa: A002
                 max_rows: int = MAX_ROWS, label: str | None = None):
        super().__init__([seed], seed.columns, label)
        self.step_factory = step_factory
        self.all = bool(all)
        self.max_iterations, self.max_rows = max_iterations, max_rows

    def explain_children(self):
        try:  # the factory only builds a plan; show it over an empty work table
            step = self.step_factory([]).explain()
        except Exception:  # noqa: BLE001 - EXPLAIN must not fail on a display detail
            step = ["WorkTable Scan"]
        return [self.children[0].explain(), step]

    def __iter__(self):
        return self._run()

    def _run(self):
        seen = None if self.all else set()
        total = 0
        working: list = []
        source = iter(self.children[0])
        iteration = 0
        while True:
            check_interrupt()  # a runaway recursion is the classic query to cancel
            produced = []
            for row in source:
                if seen is not None:
                    n = len(seen)
                    seen.add(row_key(row))
                    if len(seen) == n:
                        continue
                total += 1
                if total > self.max_rows:
                    raise StatementTooComplex(
                        f"recursive query produced more than {self.max_rows} rows; "
                        "check the termination condition of the WITH RECURSIVE term")
                produced.append(row)
                yield row
            working = produced
            if not working:
                return
            iteration += 1
            if iteration > self.max_iterations:
                raise StatementTooComplex(
                    f"recursive query did not terminate after {self.max_iterations} "
                    "iterations; check the termination condition of the WITH RECURSIVE "
                    "term")
            step = self.step_factory(working)
            if step.columns != self.columns:
                raise ValueError("recursive term and seed differ in width")
            source = iter(step)
