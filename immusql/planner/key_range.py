"""Key range scans: `k > x`, `k BETWEEN a AND b`, and equality on a leading part of a
composite key, read as one bounded scan of the table's row keys (primary key) or of a
secondary index's entries (ASC or DESC columns; each entry's row then read by key).

Why this is sound: row keys are the table prefix plus the order-preserving key encoding
(keys.py), so the rows whose key column lies in [lo, hi) are exactly the keys in
[enc(lo), enc(hi)). It is used only for types whose PostgreSQL-equal values encode to
equal bytes (an interval's '1 mon' and '30 days' do not, so intervals never get a range),
and only with bounds that read no row (constants, parameters) and need no lossy
conversion. As with every access path, the WHERE clause is still applied in full to what
is read: a range only narrows what is read.
"""

from __future__ import annotations

from ..kv import KeyNotFoundError
from ..parser import ast
from . import casts, index_exprs, keys
from . import types as T
from .expr import ExprCompiler
from .scope import Scope
from .tables import HIDDEN_COLUMNS, index_prefix, row_prefix

# types whose key encoding is one-to-one with PostgreSQL equality
_RANGE_TYPES = (T.INTEGER_TYPES | T.FLOAT_TYPES
                | {t.oid for t in (T.NUMERIC, T.TEXT, T.VARCHAR, T.NAME, T.DATE, T.TIMESTAMP,
                                   T.TIMESTAMPTZ, T.TIME, T.UUID, T.BOOL)})
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_NO_ROWS = object()


class KeyRange:
    """One range of an ordered key: fixed values for its leading columns, then bounds on
    the next one; evaluated per execution (parameters of a cached plan)."""

    def __init__(self, types_, descending, prefix_fns, lower, upper):
        self.types = tuple(types_)          # the key's column types
        self.descending = tuple(descending) if descending else (False,) * len(types_)
        self.prefix_fns = prefix_fns        # value functions for the leading key columns
        self.lower = lower                  # [(inclusive, value function)] on the next
        self.upper = upper

    def bounds(self, prefix: bytes):
        """(start, end) keys under `prefix`, or None when no key can match (a NULL bound)."""
        fixed = [f() for f in self.prefix_fns]
        if any(v is _NO_ROWS for v in fixed):
            return None
        n = len(fixed)
        base = prefix + keys.encode_key(tuple(fixed), self.types[:n], self.descending[:n])
        start, end = base, keys.key_successor(base)
        if n == len(self.types):
            return start, end
        col = ((self.types[n],), (self.descending[n],))
        # on a DESC column larger values come first: a lower bound limits the end
        low_side, high_side = (self.upper, self.lower) if self.descending[n] else \
            (self.lower, self.upper)
        for inclusive, f in low_side:
            v = f()
            if v is _NO_ROWS:
                return None
            k = base + keys.encode_key((v,), *col)
            start = max(start, k if inclusive else keys.key_successor(k))
        for inclusive, f in high_side:
            v = f()
            if v is _NO_ROWS:
                return None
            k = base + keys.encode_key((v,), *col)
            end = min(end, keys.key_successor(k) if inclusive else k)
        return start, end


class KeyRangeScan:
    """Rows whose primary key lies in a KeyRange: one bounded scan of the row keys."""

    def __init__(self, ctx, rel, key_range: KeyRange, label: str):
        self.ctx, self.rel, self.range, self.label = ctx, rel, key_range, label
        self.desc = False  # backwards in key order (key_order.py)
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def _entries(self, tx, start: bytes, end: bytes):
        return tx.scan(row_prefix(self.rel.id), start, end, desc=self.desc,
                       track=self.ctx.track_reads)

    def _prefix(self) -> bytes:
        return row_prefix(self.rel.id)

    def __iter__(self):
        bounds = self.range.bounds(self._prefix())
        if bounds is None or bounds[0] >= bounds[1]:
            return
        decode = self.ctx.codec(self.rel).decode
        check = self.ctx.session.check_interrupt
        tx = self.ctx.snapshot_tx or self.ctx.tx
        for n, e in enumerate(self._entries(tx, *bounds)):
            if not n & 1023:
                check()
            yield decode(e.value) + (e.tx_id or None, e.revision or None, False, e.key)

    def explain(self) -> list[str]:
        return [self.label]


class IndexRangeScan(KeyRangeScan):
    """Rows whose entries in a secondary index lie in a KeyRange: a bounded scan of the
    index, each entry's row then read by its key."""

    def __init__(self, ctx, rel, index, key_range: KeyRange, label: str):
        super().__init__(ctx, rel, key_range, label)
        self.index = index

    def _prefix(self) -> bytes:
        return index_prefix(self.index.id)

    def _entries(self, tx, start: bytes, end: bytes):
        track = self.ctx.track_reads
        for entry in tx.scan(self._prefix(), start, end, track=track):
            try:
                yield tx.get(entry.value)
            except KeyNotFoundError:
                continue


def choose(ctx, rel, alias: str, conjuncts, outer, row_free):
    """A range scan for WHERE `conjuncts` over `rel`'s primary key, else over the first
    secondary index it applies to; None when no key range applies.

    `row_free(expr)`: does expr read no row (so it can be evaluated once per execution)?
    """
    if ctx.describing:  # compiling bounds would type parameters
        return None
    by_column = _bounds_by_column(ctx, rel, alias, conjuncts, outer, row_free)
    if not by_column:
        return None
    best, best_score = None, None
    candidates = [(None, list(rel.primary_key))] if rel.primary_key else []
    for idx in rel.indexes:
        if idx.primary or (idx.predicate is not None and not index_exprs.implied(
                idx.predicate, conjuncts, alias)):
            continue
        lead = []  # the leading keys that are plain columns
        for i, c in enumerate(idx.columns):
            if idx.exprs and idx.exprs[i] is not None:
                break
            lead.append(c)
        if lead:
            candidates.append((idx, lead))
    for idx, cols in candidates:  # the key with the most columns used wins; the pk on ties
        types_ = [rel.column_by_id(c).type for c in cols]
        got = _plan(rel, cols, types_, idx.descending[:len(cols)] if idx else (), by_column)
        if got is None:
            continue
        key_range, used = got
        score = (len(key_range.prefix_fns), bool(key_range.lower or key_range.upper))
        if best_score is None or score > best_score:
            best, best_score = (idx, key_range, used), score
    if best is None:
        return None
    idx, key_range, used = best
    from .access import on  # access imports this module
    target = f"{on(rel, alias)}  (range: {', '.join(used)})"
    if idx is None:
        return KeyRangeScan(ctx, rel, key_range,
                            f"Index Scan using {rel.name}_pkey on {target}")
    return IndexRangeScan(ctx, rel, idx, key_range, f"Index Scan using {idx.name} on {target}")


def _bounds_by_column(ctx, rel, alias, conjuncts, outer, row_free) -> dict[int, list]:
    """column id -> [(op, value function)] from `col op bound` conjuncts."""
    comp = ExprCompiler(outer or Scope(), ctx)
    by_column: dict[int, list] = {}
    for c in conjuncts:
        for op, col, bound in _comparisons(c):
            if not (isinstance(col, ast.ColumnRef) and _names_column(col, rel, alias)
                    and row_free(bound)):
                continue
            column = rel.column(col.parts[-1])
            fn = _bound_value(comp, bound, column.type)
            if fn is not None:
                by_column.setdefault(column.id, []).append((op, fn))
    return by_column


def _plan(rel, key_cols, key_types, descending, by_column):
    """(KeyRange, names of the key columns it uses) for a key over `key_cols`, or None."""
    if any(t.oid not in _RANGE_TYPES or t.element is not None for t in key_types):
        return None
    prefix_fns, used = [], []
    for cid in key_cols:
        eq = [fn for op, fn in by_column.get(cid, ()) if op == "="]
        if not eq:
            break
        prefix_fns.append(eq[0])
        used.append(rel.column_by_id(cid).name)
    lower, upper = [], []
    if len(prefix_fns) < len(key_cols):
        nxt = key_cols[len(prefix_fns)]
        for op, fn in by_column.get(nxt, ()):
            if op in (">", ">="):
                lower.append((op == ">=", fn))
            elif op in ("<", "<="):
                upper.append((op == "<=", fn))
        if lower or upper:
            used.append(rel.column_by_id(nxt).name)
    if not (lower or upper or prefix_fns):
        return None
    return KeyRange(key_types, descending, prefix_fns, lower, upper), used


def _comparisons(c):
    """(op, column side, bound side) pairs a conjunct states, op read as `column op bound`."""
    if isinstance(c, ast.BinaryOp) and c.op in _FLIP:
        yield c.op, c.left, c.right
        yield _FLIP[c.op], c.right, c.left
    elif isinstance(c, ast.Between) and not c.negated and not c.symmetric:
        yield ">=", c.operand, c.low
        yield "<=", c.operand, c.high


def _names_column(e: ast.ColumnRef, rel, alias: str) -> bool:
    if len(e.parts) >= 2 and e.parts[-2] != alias:
        return False
    return rel.column(e.parts[-1]) is not None


def _bound_value(comp: ExprCompiler, e, col_type: T.SqlType):
    """A zero-argument function giving the bound as a value of the key column's type
    (_NO_ROWS for NULL), or None when the bound's type cannot be converted exactly."""
    try:
        c = comp.compile(e)
    except Exception:  # leave it to the WHERE clause, which reports it properly
        return None
    src, f = c.type, c.fn
    same = src.oid == col_type.oid or (src.oid in T.INTEGER_TYPES
                                       and col_type.oid in T.INTEGER_TYPES)
    if same:
        return lambda: _NO_ROWS if (x := f(())) is None else x
    if src.oid == T.UNKNOWN.oid or (src.category == "S" and col_type.category == "S"):
        tz = getattr(comp.ctx, "timezone", None)
        target = col_type.base  # 'abcd' bounds a varchar(3) key without being one

        def value():
            x = f(())
            return _NO_ROWS if x is None else casts.cast(x, src, target, False, tz=tz)
        return value
    return None
