"""Expression and partial indexes: what CREATE INDEX accepts in them, and how a row's key
values and coverage (does the row satisfy the index predicate?) are computed.

Why one place: the writer, COPY, the index build and the planner must compute the same
key for a row, or an index would lead to the wrong rows. Stored expressions name columns
unqualified (as PostgreSQL's pg_get_indexdef prints them), so a query's expression is
compared after dropping its table qualifier.
"""

from __future__ import annotations

import dataclasses

from .. import errors
from ..parser import ast

_SUBQUERIES = (ast.SubqueryExpr, ast.Exists, ast.InSubquery, ast.ArraySubquery, ast.Query)


def map_columns(node, fn):
    """`node` with every ColumnRef replaced by fn(ref) (subqueries are not entered)."""
    if isinstance(node, ast.ColumnRef):
        return fn(node)
    if not dataclasses.is_dataclass(node) or isinstance(node, _SUBQUERIES):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        v = getattr(node, f.name)
        if isinstance(v, tuple):
            nv = tuple(map_columns(x, fn) if dataclasses.is_dataclass(x) else x for x in v)
            if any(a is not b for a, b in zip(nv, v)):
                changes[f.name] = nv
        elif dataclasses.is_dataclass(v):
            nv = map_columns(v, fn)
            if nv is not v:
                changes[f.name] = nv
    return dataclasses.replace(node, **changes) if changes else node


def unqualified(node, alias: str):
    """`node` with `alias.col` written `col` (how index expressions are stored)."""
    def strip(ref):
        if len(ref.parts) >= 2 and ref.parts[-2] == alias:
            return dataclasses.replace(ref, parts=(ref.parts[-1],))
        return ref
    return map_columns(node, strip)


def renamed_column(node, old: str, new: str):
    def rename(ref):
        if ref.parts == (old,):
            return dataclasses.replace(ref, parts=(new,))
        return ref
    return map_columns(node, rename)


def column_names(node) -> set[str]:
    found: set[str] = set()

    def note(ref):
        found.add(ref.parts[-1])
        return ref
    map_columns(node, note)
    return found


def referenced_columns(rel, idx) -> set[int]:
    """Ids of the columns an index's keys and predicate read."""
    ids = {c for c in idx.columns if c}
    for e in tuple(e for e in idx.exprs if e is not None) + (
            (idx.predicate,) if idx.predicate is not None else ()):
        for name in column_names(e):
            col = rel.column(name)
            if col is not None:
                ids.add(col.id)
    return ids


def conjuncts(node) -> list:
    if isinstance(node, ast.BoolOp) and node.op == "and":
        return [x for a in node.args for x in conjuncts(a)]
    return [node]


def implied(predicate, where_conjuncts, alias: str) -> bool:
    """True if every conjunct of `predicate` appears among the query's WHERE conjuncts
    (PostgreSQL proves more; this is the case where the predicate is written out)."""
    have = [unqualified(c, alias) for c in where_conjuncts]
    return all(p in have for p in conjuncts(predicate))


# ---------------------------------------------------------------------- validation ----
def check_expression(node, what: str) -> None:
    """PostgreSQL's checks on an index expression or predicate (`what`: 'expression' or
    'predicate'): no subqueries, aggregates, window functions or mutable functions."""
    from . import functions
    from .callinfo import is_aggregate

    def visit(n):
        if isinstance(n, _SUBQUERIES):
            raise errors.FeatureNotSupported(f"cannot use subquery in index {what}")
        if isinstance(n, ast.FuncCall):
            name = n.name.last.lower()
            if n.over is not None:
                raise errors.WindowingError(f"window functions are not allowed in index "
                                            f"{what}s")
            if is_aggregate(name):
                raise errors.GroupingError(f"aggregate functions are not allowed in index "
                                           f"{what}s")
            defs = functions._FUNCS.get(name, ())
            if not defs or any(d.volatile or d.needs_ctx for d in defs):
                raise errors.InvalidObjectDefinition(
                    f"functions in index {what} must be marked IMMUTABLE")
        if dataclasses.is_dataclass(n):
            for f in dataclasses.fields(n):
                v = getattr(n, f.name)
                for x in (v if isinstance(v, tuple) else (v,)):
                    if dataclasses.is_dataclass(x):
                        visit(x)
    visit(node)


# ---------------------------------------------------------------------- evaluation ----
class IndexEval:
    """Key values and coverage of rows (column tuples) for one expression/partial index."""

    def __init__(self, ctx, rel, idx):
        from .expr import ExprCompiler
        from .tables import HIDDEN_COLUMNS
        from .writer import table_scope
        scope = table_scope(rel, rel.name)
        comp = ExprCompiler(scope, ctx, clause="index expressions")
        position = {c.id: i for i, c in enumerate(rel.columns)}
        self.pad = (None,) * len(HIDDEN_COLUMNS)
        self.slots, types_ = [], []
        exprs = idx.exprs or (None,) * len(idx.columns)
        for cid, e in zip(idx.columns, exprs):
            if e is None:
                p = position[cid]
                self.slots.append(lambda row, p=p: row[p])
                types_.append(rel.column_by_id(cid).type)
            else:
                c = comp.compile(e)
                self.slots.append(c.fn)
                types_.append(c.type)
        self.types = tuple(types_)
        self.pred = None
        if idx.predicate is not None:
            self.pred = ExprCompiler(scope, ctx, clause="WHERE").predicate(
                idx.predicate)

    def values(self, row: tuple) -> tuple:
        full = row + self.pad
        return tuple(f(full) for f in self.slots)

    def covers(self, row: tuple) -> bool:
        return self.pred is None or self.pred(row + self.pad) is True


# ---------------------------------------------------------------------- printing ------
def key_sql(rel, idx, i: int, pretty: bool = False) -> str:
    """Key `i` as pg_get_indexdef prints it: a column name, a function call, or any other
    expression in parentheses."""
    from .fn_text import quote_ident
    from .syscat.deparse import expr_sql
    e = idx.exprs[i] if idx.exprs else None
    if e is None:
        return quote_ident(rel.column_by_id(idx.columns[i]).name)
    text = expr_sql(e, rel, pretty)
    return text if isinstance(e, ast.FuncCall) else f"({text})"


def key_names(rel, idx) -> str:
    """The keys as a unique violation's DETAIL names them: `Key (lower(code))=...`."""
    return ", ".join(key_sql(rel, idx, i) for i in range(len(idx.columns)))


def predicate_sql(rel, idx, pretty: bool = False) -> str:
    from .syscat.deparse import expr_sql
    return expr_sql(idx.predicate, rel, pretty)  # non-pretty wraps operators itself


def attribute_names(rel, idx) -> list[str]:
    """pg_attribute names of an index's keys: the column, a function's name or 'expr'
    (numbered when repeated), as PostgreSQL's ChooseIndexColumnNames."""
    out: list[str] = []
    for i, cid in enumerate(idx.columns):
        e = idx.exprs[i] if idx.exprs else None
        base = rel.column_by_id(cid).name if e is None else \
            e.name.last if isinstance(e, ast.FuncCall) else "expr"
        name, n = base, 1
        while name in out:
            name, n = f"{base}{n}", n + 1
        out.append(name)
    return out


def catalog_texts(rel, idx) -> tuple[str | None, str | None]:
    """pg_index.indexprs and indpred: the stored expressions as SQL text (where
    PostgreSQL has node trees; pg_get_expr prints them back)."""
    from .syscat.deparse import expr_sql
    exprs = [expr_sql(e, rel, False) for e in idx.exprs if e is not None]
    pred = predicate_sql(rel, idx) if idx.predicate is not None else None
    return (" ".join(exprs) if exprs else None), pred
