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
    """Rows whose KV keys are known in advance (primary-key equality)."""

    def __init__(self, ctx, rel, row_keys: list[bytes], label: str):
        self.ctx, self.rel, self.row_keys, self.label = ctx, rel, row_keys, label
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def __iter__(self):
        decode = self.ctx.codec(self.rel).decode
        tx = self.ctx.tx
        for k in self.row_keys:
            try:
                e = tx.get(k)
            except KeyNotFoundError:
                continue
            yield decode(e.value) + (e.tx_id or None, e.revision or None, False, k)

    def explain(self) -> list[str]:
        return [self.label]


class IndexLookup:
    """Rows found through a secondary index: equality on all of its columns."""

    def __init__(self, ctx, rel, index, values_list: list[tuple], label: str):
        self.ctx, self.rel, self.index, self.values_list = ctx, rel, index, values_list
        self.label = label
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def __iter__(self):
        codec = self.ctx.codec(self.rel)
        types_ = tuple(codec.types[c] for c in self.index.columns)
        tx = self.ctx.tx
        seen = set()
        for values in self.values_list:
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
    codec = ctx.codec(rel)
    if rel.primary_key and all(c in by_column for c in rel.primary_key):
        combos = _combinations([by_column[c] for c in rel.primary_key])
        row_keys = []
        for values in combos:
            try:
                row_keys.append(codec.key_of_pk(values))
            except errors.Error:
                continue
        cols = ", ".join(rel.column_by_id(c).name for c in rel.primary_key)
        return KeyLookup(ctx, rel, row_keys,
                         f"Index Scan using {rel.name}_pkey on {rel.name}  (key: {cols})")
    for idx in rel.indexes:
        if idx.primary or not all(c in by_column for c in idx.columns):
            continue
        combos = _combinations([by_column[c] for c in idx.columns])
        return IndexLookup(ctx, rel, idx, combos, f"Index Scan using {idx.name} on {rel.name}")
    return None


def _constant_equalities(ctx, rel, alias, conjuncts, outer) -> dict[int, list]:
    """column id -> candidate values, from `col = const` and `col IN (consts)`."""
    out: dict[int, list] = {}
    comp = ExprCompiler(outer or Scope(), ctx)
    for c in conjuncts:
        col_ref, consts = None, None
        if isinstance(c, ast.BinaryOp) and c.op == "=":
            for a, b in ((c.left, c.right), (c.right, c.left)):
                if _is_column(a, rel, alias):
                    col_ref, consts = a, [b]
                    break
        elif isinstance(c, ast.InList) and not c.negated and _is_column(c.operand, rel, alias):
            col_ref, consts = c.operand, list(c.items)
        if col_ref is None:
            continue
        col = rel.column(col_ref.parts[-1])
        values = []
        try:
            for e in consts:
                v = comp.compile(e)
                if not v.const:
                    raise _NotConstant
                if v.value is None:
                    continue
                if v.type != col.type:
                    if v.type.category != col.type.category and v.type.oid != 705:
                        raise _NotConstant  # cross-type equality: let the filter decide
                    value = casts.cast(v.value, v.type, col.type, False)
                    if casts.cast(value, col.type, v.type, True) != v.value and \
                            v.type.oid != 705:
                        continue  # e.g. int column = 1.5: can never match
                else:
                    value = v.value
                values.append(value)
        except (_NotConstant, errors.Error):
            continue
        if col.id in out:
            out[col.id] = [v for v in out[col.id] if v in values]
        else:
            out[col.id] = values
    return out


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
