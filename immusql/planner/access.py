"""Access paths: read only the rows a WHERE clause can match, through a key or an index.

For `pk = const` on every primary-key column (or `IN (...)` lists of constants) the rows
are fetched by key; for equality on every column of a secondary index, through the index;
for bounds on the key (`pk > x`, BETWEEN, a leading part of a composite key), by a range
of keys (key_range.py). Everything else scans the table. The WHERE clause is still applied in full afterwards, so
an access path only ever narrows what is read, never what is returned.
"""

from __future__ import annotations

from .. import errors
from ..kv import KeyNotFoundError
from ..parser import ast
from . import casts, index_exprs, key_range, keys
from .expr import ExprCompiler
from .scope import Scope
from .tables import HIDDEN_COLUMNS, index_prefix, index_types


class KeyLookup:
    """Rows whose primary keys come from constants or parameters (known per execution)."""

    def __init__(self, ctx, rel, value_lists, label: str):
        self.ctx, self.rel, self.value_lists, self.label = ctx, rel, value_lists, label
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def __iter__(self):
        codec = self.ctx.codec(self.rel)
        decode = codec.decode
        tx = self.ctx.snapshot_tx or self.ctx.tx
        seen = set()
        for values in _combinations([[f() for f in fns] for fns in self.value_lists]):
            if any(v is _NO_MATCH for v in values):
                continue
            k = codec.key_of_pk(values)
            if k in seen:
                continue
            seen.add(k)
            try:
                e = tx.get(k)
            except KeyNotFoundError:
                continue
            yield decode(e.value) + (e.tx_id or None, e.revision or None, False, k)

    def explain(self) -> list[str]:
        return [self.label]


class IndexLookup:
    """Rows found through a secondary index: equality on all of its columns."""

    def __init__(self, ctx, rel, index, value_lists, label: str):
        self.ctx, self.rel, self.index, self.value_lists = ctx, rel, index, value_lists
        self.label = label
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def __iter__(self):
        codec = self.ctx.codec(self.rel)
        types_ = index_types(self.index, codec)[:len(self.value_lists)]
        tx = self.ctx.snapshot_tx or self.ctx.tx
        seen = set()
        for values in _combinations([[f() for f in fns] for fns in self.value_lists]):
            if any(v is _NO_MATCH for v in values):
                continue
            # no values: every entry (a partial index whose predicate the query implies)
            prefix = index_prefix(self.index.id) + (keys.encode_key(
                values, types_, self.index.descending or None) if values else b"")
            for e in tx.scan(prefix, track=self.ctx.track_reads):
                row_key = e.value
                if row_key in seen:
                    continue
                seen.add(row_key)
                try:
                    r = tx.get(row_key)
                except KeyNotFoundError:
                    continue
                yield codec.decode(r.value) + (r.tx_id or None, r.revision or None, False,
                                               row_key)

    def explain(self) -> list[str]:
        return [self.label]


def choose(ctx, rel, alias: str, conjuncts, outer) -> object | None:
    """A narrower access path for `rel` under WHERE `conjuncts`, or None to scan."""
    if not conjuncts:
        return None
    by_column = _constant_equalities(ctx, rel, alias, conjuncts, outer)
    if rel.primary_key and all(c in by_column for c in rel.primary_key):
        cols = ", ".join(rel.column_by_id(c).name for c in rel.primary_key)
        return KeyLookup(ctx, rel, [by_column[c] for c in rel.primary_key],
                         f"Index Scan using {rel.name}_pkey on {on(rel, alias)}  (key: {cols})")
    found = None
    if by_column or not all(i.plain for i in rel.indexes):
        found = _secondary(ctx, rel, alias, conjuncts, outer, by_column)
    if found is None:  # a key prefix or a key range (pk > x, BETWEEN)
        found = key_range.choose(ctx, rel, alias, conjuncts, outer, _row_free)
    return found


def on(rel, alias: str) -> str:
    """What EXPLAIN names a scanned table: its name, and its alias when it has another."""
    return rel.name if alias in (None, rel.name) else f"{rel.name} {alias}"


def _secondary(ctx, rel, alias, conjuncts, outer, by_column):
    """A lookup through the first secondary index with equality on every key (column or
    expression) whose predicate, if partial, the query implies; else a partial index's
    entries (only the rows its predicate admits) when the query implies the predicate."""
    partial = None
    for idx in rel.indexes:
        if idx.primary:
            continue
        if idx.predicate is not None and not index_exprs.implied(idx.predicate, conjuncts,
                                                                   alias):
            continue
        lists = []
        for i, c in enumerate(idx.columns):
            e = idx.exprs[i] if idx.exprs else None
            fns = by_column.get(c) if e is None else \
                _expression_equality(ctx, rel, alias, conjuncts, outer, idx, i)
            if fns is None:
                break
            lists.append(fns)
        label = f"Index Scan using {idx.name} on {on(rel, alias)}"
        if len(lists) == len(idx.columns):
            return IndexLookup(ctx, rel, idx, lists, label)
        if idx.predicate is not None and partial is None:
            partial = IndexLookup(ctx, rel, idx, [], label)
    return partial


def _expression_equality(ctx, rel, alias, conjuncts, outer, idx, i) -> list | None:
    """Key value functions for key `i` (an expression) from `expr = constant` conjuncts."""
    want = idx.exprs[i]
    comp = ExprCompiler(outer or Scope(), ctx)
    for c in conjuncts:
        if not (isinstance(c, ast.BinaryOp) and c.op == "="):
            continue
        for a, b in ((c.left, c.right), (c.right, c.left)):
            if _row_free(b) and index_exprs.unqualified(a, alias) == want:
                key_type = index_types(idx, ctx.codec(rel))[i]
                try:
                    return [_key_value(comp.compile(b), key_type)]
                except (_NotConstant, errors.Error):
                    continue
    return None


_NO_MATCH = object()  # a value that cannot equal any key (NULL, or 1.5 for an int column)


def _constant_equalities(ctx, rel, alias, conjuncts, outer) -> dict[int, list]:
    """column id -> functions giving candidate key values at run time, from
    `col = expr` and `col IN (exprs)` where each expr reads no row (constants, parameters)."""
    out: dict[int, list] = {}
    comp = ExprCompiler(outer or Scope(), ctx)
    for c in conjuncts:
        col_ref, consts = None, None
        if isinstance(c, ast.BinaryOp) and c.op == "=":
            for a, b in ((c.left, c.right), (c.right, c.left)):
                if _is_column(a, rel, alias) and _row_free(b):
                    col_ref, consts = a, [b]
                    break
        elif isinstance(c, ast.InList) and not c.negated and \
                _is_column(c.operand, rel, alias) and all(_row_free(i) for i in c.items):
            col_ref, consts = c.operand, list(c.items)
        if col_ref is None:
            continue
        col = rel.column(col_ref.parts[-1])
        try:
            fns = [_key_value(comp.compile(e), col.type) for e in consts]
        except (_NotConstant, errors.Error):
            continue
        if col.id not in out:  # a second condition on the column stays a filter
            out[col.id] = fns
    return out


def _key_value(v, col_type):
    """A zero-argument function: the key value for `v`, or _NO_MATCH."""
    if v.type == col_type or v.type.oid == 705:  # unknown literals are typed by the column
        src, f = v.type, v.fn
        if src == col_type:
            return lambda: _NO_MATCH if (x := f(())) is None else x
        return lambda: _NO_MATCH if (x := f(())) is None else casts.cast(x, src, col_type,
                                                                            False)
    if v.type.category != col_type.category:
        raise _NotConstant  # cross-type equality: let the filter decide
    src, f = v.type, v.fn

    def value():
        x = f(())
        if x is None:
            return _NO_MATCH
        try:
            y = casts.cast(x, src, col_type, False)
        except errors.Error:
            return _NO_MATCH
        return y if casts.cast(y, col_type, src, True) == x else _NO_MATCH
    return value


def _row_free(e) -> bool:
    """True if `e` reads no column and no subquery (constants, parameters, casts)."""
    if isinstance(e, (ast.Literal, ast.Param)):
        return True
    if isinstance(e, ast.Cast):
        return _row_free(e.operand)
    if isinstance(e, ast.UnaryOp):
        return _row_free(e.operand)
    if isinstance(e, ast.BinaryOp):
        return _row_free(e.left) and _row_free(e.right)
    return False


class _NotConstant(Exception):
    pass


def _is_column(e, rel, alias) -> bool:
    if not isinstance(e, ast.ColumnRef):
        return False
    if len(e.parts) >= 2 and e.parts[-2] != alias:
        return False
    return rel.column(e.parts[-1]) is not None


def _combinations(lists) -> list[tuple]:
    out = [()]
    for values in lists:
        out = [prefix + (v,) for prefix in out for v in values]
        if len(out) > 10_000:
            break
    return out
