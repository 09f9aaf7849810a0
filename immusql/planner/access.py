"""Access paths: read only the rows a WHERE clause can match, through a key or an index.

For `pk = const` on every primary-key column (or `IN (...)` lists of constants) the rows
are fetched by key; for equality on every column of a secondary index, through the index.
Everything else scans the table. The WHERE clause is still applied in full afterwards, so
an access path only ever narrows what is read, never what is returned.
"""

from __future__ import annotations

from .. import errors
from ..kv import KeyNotFoundError
from ..parser import ast
from . import casts, keys
from .expr import ExprCompiler
from .scope import Scope
from .tables import HIDDEN_COLUMNS, index_prefix


class KeyLookup:
    """Rows whose primary keys come from constants or parameters (known per execution)."""

    def __init__(self, ctx, rel, value_lists, label: str):
        self.ctx, self.rel, self.value_lists, self.label = ctx, rel, value_lists, label
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def __iter__(self):
        codec = self.ctx.codec(self.rel)
        decode = codec.decode
        tx = self.ctx.tx
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
        types_ = tuple(codec.types[c] for c in self.index.columns)
        tx = self.ctx.tx
        seen = set()
        for values in _combinations([[f() for f in fns] for fns in self.value_lists]):
            if any(v is _NO_MATCH for v in values):
                continue
            prefix = index_prefix(self.index.id) + keys.encode_key(
                values, types_, self.index.descending or None)
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
    if not by_column:
        return None
    if rel.primary_key and all(c in by_column for c in rel.primary_key):
        cols = ", ".join(rel.column_by_id(c).name for c in rel.primary_key)
        return KeyLookup(ctx, rel, [by_column[c] for c in rel.primary_key],
                         f"Index Scan using {rel.name}_pkey on {rel.name}  (key: {cols})")
    for idx in rel.indexes:
        if idx.primary or not all(c in by_column for c in idx.columns):
            continue
        return IndexLookup(ctx, rel, idx, [by_column[c] for c in idx.columns],
                           f"Index Scan using {idx.name} on {rel.name}")
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
