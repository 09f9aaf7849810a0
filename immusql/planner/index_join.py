"""Index nested-loop joins: for each row of a small left side, fetch the matching right
row by its primary key instead of scanning and hashing the whole right table.

Why: `orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = 42` reads one order;
a hash join would still read every customer. Without table statistics the planner calls
a left side small when it was itself narrowed to key or index equality (a KeyLookup or
IndexLookup, possibly filtered, possibly already joined this way). The right side must be
a plain table read (no time travel) whose single-column primary key is equated with an
expression of the left row. Key equality is PostgreSQL equality for key types, and the
join condition and WHERE clause are still evaluated in full, so results do not change.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import access, ops
from .compiled import Compiled
from .expr import ExprCompiler
from .scope import Scope


def try_index_join(fp, l_op, l_cols, r_op, r_cols, conjuncts, kind: str, residual):
    """A NestedLoopJoin looking the right rows up by key, or None when it does not apply."""
    if kind not in ("inner", "left") or not few_rows(l_op):
        return None
    filt, scan = (r_op.predicate, r_op.children[0]) if isinstance(r_op, ops.Filter) \
        else (None, r_op)
    rel = getattr(scan, "rel", None)
    if rel is None or type(scan).__name__ != "TableScan" or scan.as_of is not None \
            or scan.history or len(rel.primary_key or ()) != 1:
        return None
    pk = rel.column_by_id(rel.primary_key[0])
    # no parent scopes: a name the left side lacks must not resolve in an outer query
    left_key = _left_key(fp.ctx, conjuncts, Scope(columns=list(l_cols)),
                         Scope(columns=list(r_cols)), rel.columns.index(pk))
    if left_key is None:
        return None
    cell = [None]
    lf = left_key.fn
    try:
        value = access._key_value(Compiled(lambda _: lf(cell[0]), left_key.type), pk.type)
    except (access._NotConstant, errors.Error):
        return None
    label = f"Index Scan using {rel.name}_pkey on {rel.name}"
    if r_cols and r_cols[0].table and r_cols[0].table != rel.name:
        label += f" {r_cols[0].table}"
    lookup = access.KeyLookup(fp.ctx, rel, [[value]], f"{label}  (key: {pk.name})")
    inner = lookup if filt is None else ops.Filter(lookup, filt)

    def right_for(row):
        cell[0] = row
        return inner
    return ops.NestedLoopJoin(l_op, right_for, residual, kind, lateral=True,
                              right_columns=len(r_cols))


def few_rows(op) -> bool:
    """Was `op` narrowed to key or index equality (so it yields few rows)?"""
    if isinstance(op, (access.KeyLookup, access.IndexLookup)):
        return bool(op.value_lists)  # a partial index read whole is not few rows
    if isinstance(op, ops.Filter):
        return few_rows(op.children[0])
    if isinstance(op, ops.NestedLoopJoin) and op.lateral:
        return few_rows(op.left)
    return False


def _left_key(ctx, conjuncts, lscope: Scope, rscope: Scope, pk_slot: int) -> Compiled | None:
    """The left-side expression a conjunct `right.pk = expr(left)` equates with the key."""
    for c in conjuncts:
        if not (isinstance(c, ast.BinaryOp) and c.op == "="):
            continue
        for key_side, other in ((c.left, c.right), (c.right, c.left)):
            if not isinstance(key_side, ast.ColumnRef):
                continue
            try:
                found = rscope._find(key_side.parts, -1)
            except errors.Error:
                continue
            if found is None or found[0] != pk_slot:
                continue
            try:
                return ExprCompiler(lscope, ctx).compile(other)
            except errors.Error:
                continue
    return None
