"""Walking AST expressions: finding aggregate and window calls, and referenced tables.

The walks stop at subqueries: an aggregate inside a subquery belongs to that subquery.
"""

from __future__ import annotations

import dataclasses

from ..parser import ast
from .callinfo import is_aggregate

_SUBQUERY_NODES = (ast.SubqueryExpr, ast.Exists, ast.InSubquery, ast.ArraySubquery,
                   ast.Query)


def children(node):
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        v = getattr(node, f.name)
        if isinstance(v, tuple):
            for x in v:
                if isinstance(x, tuple):
                    yield from (y for y in x if dataclasses.is_dataclass(y))
                elif dataclasses.is_dataclass(x):
                    yield x
        elif dataclasses.is_dataclass(v):
            yield v


def find_calls(roots, predicate) -> list:
    """Distinct FuncCall nodes matching `predicate`, in first-seen order, outside subqueries
    (and not inside another match: an aggregate's arguments are its own business)."""
    found: list = []
    seen = set()

    def visit(node):
        if node is None or isinstance(node, _SUBQUERY_NODES):
            if isinstance(node, ast.InSubquery):
                visit(node.operand)
            return
        if isinstance(node, ast.FuncCall) and predicate(node):
            if node not in seen:
                seen.add(node)
                found.append(node)
            return
        for c in children(node):
            visit(c)

    for r in roots:
        visit(r)
    return found


def contains_aggregate(node) -> bool:
    return bool(find_calls([node], lambda f: f.over is None
                           and is_aggregate(f.name.last)))


def table_names(node) -> set[str]:
    """Unqualified names of every table referenced anywhere below `node`."""
    out = set()

    def visit(n):
        if isinstance(n, ast.TableRef):
            out.add(n.name.last)
        for c in children(n):
            visit(c)
    visit(node)
    return out
