"""The operator base class, EXPLAIN formatting and the row-function compiler.

Operators are pull-based like PostgreSQL's executor: `iter(op)` starts a fresh execution
(so a plan can be re-run, e.g. the inner side of a nested loop) and rows are produced on
demand, so a LIMIT never makes a child evaluate rows it does not return. Streaming
operators hand out C-level iterators (map, filter, islice, chain) rather than Python
generators, so passing a row along costs no Python frame.

Row functions are plain callables `fn(row) -> value`. `operator.itemgetter(i)` (what
`col(i)` returns) is recognised and inlined as `r[i]` when several functions are compiled
into one, which is the main lever against per-row interpreter overhead.
"""

from __future__ import annotations

import operator
import re
from itertools import chain
from typing import Any, Callable, Iterator, Sequence

from immusql.errors import DataError

Row = tuple
RowFn = Callable[[tuple], Any]

# A detail line of PostgreSQL's EXPLAIN is "Key: value" ("Hash Cond: (a.id = b.id)").
_DETAIL = re.compile(r"[A-Z][\w -]*: ")


def col(i: int) -> RowFn:
    """The row function reading column `i`: an itemgetter, which operators inline."""
    return operator.itemgetter(i)


def column_index(fn: Any) -> int | None:
    """`i` if `fn` is `itemgetter(i)` with one integer item, else None."""
    if type(fn) is operator.itemgetter:
        args = fn.__reduce__()[1]
        if len(args) == 1 and type(args[0]) is int:
            return args[0]
    return None


def compile_fn(params: str, body: str, env: dict[str, Any]) -> Callable:
    """`lambda params: body` compiled once with `env` as its globals."""
    return eval(f"lambda {params}: {body}", dict(env))  # noqa: S307 - our own source text


def expr_of(fn: RowFn, env: dict[str, Any], var: str = "r") -> str:
    """Source text evaluating `fn` on the row named `var`; binds `fn` in `env` if needed."""
    i = column_index(fn)
    if i is not None:
        return f"{var}[{i}]"
    name = f"_f{len(env)}"
    env[name] = fn
    return f"{name}({var})"


def tuple_fn(fns: Sequence[RowFn]) -> Callable[[tuple], tuple]:
    """One function computing `tuple(f(row) for f in fns)` without a generator per row."""
    fns = list(fns)
    if not fns:
        return lambda r: ()
    idx = [column_index(f) for f in fns]
    if len(fns) > 1 and None not in idx:
        return operator.itemgetter(*idx)
    env: dict[str, Any] = {}
    return compile_fn("r", "(" + "".join(expr_of(f, env) + ", " for f in fns) + ")", env)


def _once(fn, args):
    yield fn(*args)


def deferred(fn: Callable[..., Any], *args: Any) -> Iterator[tuple]:
    """Iterator over the rows `fn(*args)` returns, calling it only at the first `next()`.

    Materialising operators compute their result lazily like PostgreSQL's executor, yet
    hand rows out through a C iterator instead of a Python generator.
    """
    return chain.from_iterable(_once(fn, args))


def data_error(message: str, sqlstate: str) -> DataError:
    """A DataError carrying a class-22 SQLSTATE that has no class of its own."""
    err = DataError(message)
    err.sqlstate = sqlstate
    return err


def split_label(label: str | None) -> tuple[str | None, list[str]]:
    """(headline, detail lines) of a planner label.

    Lines shaped like "Key: value" are detail lines shown under the node; the first other
    line replaces the node's headline ("Seq Scan on t" on a Values or FunctionScan).
    """
    head, details = None, []
    for line in (label or "").splitlines():
        if not line.strip():
            continue
        if head is None and not _DETAIL.match(line):
            head = line
        else:
            details.append(line)
    return head, details


class Operator:
    """A physical plan node: `columns` wide, rows by iteration, `explain()` lines."""

    name = "Operator"

    def __init__(self, children: Sequence["Operator"], columns: int,
                 label: str | None = None):
        self.children = list(children)
        self.columns = columns
        self.label = label

    def __iter__(self) -> Iterator[tuple]:
        raise NotImplementedError

    def headline(self) -> str:
        return split_label(self.label)[0] or self.name

    def details(self) -> list[str]:
        """Detail lines the operator adds itself (beyond the planner's label)."""
        return []

    def explain_children(self) -> list[list[str]]:
        return [c.explain() for c in self.children]

    def explain(self) -> list[str]:
        """PostgreSQL-style lines: headline, details indented 2, children as '->  '."""
        details = ["  " + d for d in split_label(self.label)[1] + self.details()]
        lines = explain_node(self.headline(), self.explain_children())
        return lines[:1] + details + lines[1:]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.headline()!r} columns={self.columns}>"


def explain_node(headline: str, children: Sequence[list[str]]) -> list[str]:
    """EXPLAIN lines of a node that exists only in the display (PostgreSQL's "Hash")."""
    lines = [headline]
    for sub in children:
        lines.append("  ->  " + sub[0])
        lines += ["      " + s for s in sub[1:]]
    return lines
