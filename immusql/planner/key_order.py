"""ORDER BY the primary key without sorting: read the table in key order (or backwards).

Why: `SELECT ... ORDER BY id DESC LIMIT 20` is how applications page through a table. A
sort must read every row before returning the first; a scan in key order returns rows in
the requested order already, so LIMIT stops it after 20. It applies when one table is
read whole or by key range (no join, grouping, DISTINCT, window or set-returning
function can reorder rows in between), and the ORDER BY items are the leading primary-key
columns, all ASC or all DESC, of types whose key bytes sort as PostgreSQL sorts them.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import ops
from .fromclause import TableScan
from .key_range import _RANGE_TYPES, KeyRangeScan


def read_in_key_order(from_op, scope, order_by, items, cols) -> bool:
    """Set `from_op` to scan in the direction `order_by` asks, when that makes the rows
    come out in ORDER BY order; True if it did (the caller then needs no sort)."""
    scan = from_op.children[0] if isinstance(from_op, ops.Filter) else from_op
    if type(scan) not in (TableScan, KeyRangeScan) or not order_by:
        return False
    if isinstance(scan, TableScan) and (scan.as_of is not None or scan.history):
        return False
    rel = scan.rel
    pk = rel.primary_key or ()
    # items after the whole key cannot reorder anything: the key is unique
    keyed = order_by[:len(pk)]
    directions = {o.descending for o in keyed}
    if not pk or len(directions) != 1:
        return False
    for o, cid in zip(keyed, pk):
        col = rel.column_by_id(cid)
        if col.type.oid not in _RANGE_TYPES or col.type.element is not None:
            return False
        if _slot_of(o.expr, scope, items, cols) != rel.columns.index(col):
            return False
    scan.desc = directions.pop()
    backward = " Backward" if scan.desc else ""
    if isinstance(scan, TableScan):
        cols = ", ".join(rel.column_by_id(c).name for c in pk[:len(keyed)])
        scan.label = f"Index Scan{backward} using {rel.name}_pkey on {rel.name}  (order: {cols})"
    else:
        scan.label = scan.label.replace("Index Scan", f"Index Scan{backward}", 1)
    return True


def _slot_of(e, scope, items, cols) -> int | None:
    """The FROM slot an ORDER BY item reads, when it is a plain column (directly, by
    ordinal, or through an output column's name, which a bare name means first)."""
    if isinstance(e, ast.Literal) and e.kind == "integer" and 1 <= e.value <= len(items):
        e = items[e.value - 1].expr
    elif isinstance(e, ast.ColumnRef) and len(e.parts) == 1:
        named = [i.expr for i, c in zip(items, cols) if c.name == e.parts[0]]
        if named:
            e = named[0]
    if not isinstance(e, ast.ColumnRef):
        return getattr(e, "slot", None) if type(e).__name__ == "StarColumn" else None
    try:
        depth, slot, _ = scope.resolve(e.parts)
    except errors.Error:
        return None
    return slot if depth == 0 else None
