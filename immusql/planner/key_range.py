"""Primary-key range scans: `pk > x`, `pk BETWEEN a AND b`, and equality on a leading
part of a composite key, read as one bounded scan of the table's row keys.

Why this is sound: row keys are the table prefix plus the order-preserving key encoding
(keys.py), so the rows whose key column lies in [lo, hi) are exactly the keys in
[enc(lo), enc(hi)). It is used only for types whose PostgreSQL-equal values encode to
equal bytes (an interval's '1 mon' and '30 days' do not, so intervals never get a range),
and only with bounds that read no row (constants, parameters) and need no lossy
conversion. As with every access path, the WHERE clause is still applied in full to what
is read: a range only narrows what is read.
"""

from __future__ import annotations

from ..parser import ast
from . import casts, keys
from . import types as T
from .expr import ExprCompiler
from .scope import Scope
from .tables import HIDDEN_COLUMNS, row_prefix

# types whose key encoding is one-to-one with PostgreSQL equality
_RANGE_TYPES = (T.INTEGER_TYPES | T.FLOAT_TYPES
                | {t.oid for t in (T.NUMERIC, T.TEXT, T.VARCHAR, T.NAME, T.DATE, T.TIMESTAMP,
                                   T.TIMESTAMPTZ, T.TIME, T.UUID, T.BOOL)})
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_NO_ROWS = object()


class KeyRangeScan:
    """Rows whose primary key starts with fixed values and/or has its next column within
    bounds; bounds are evaluated per execution (parameters of a cached plan)."""

    def __init__(self, ctx, rel, prefix_fns, lower, upper, label: str):
        self.ctx, self.rel, self.label = ctx, rel, label
        self.prefix_fns = prefix_fns   # value functions for the leading key columns
        self.lower = lower             # [(inclusive, value function)] on the next column
        self.upper = upper
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def _bounds(self):
        """(start, end) row keys, or None when no key can match (a NULL bound)."""
        codec = self.ctx.codec(self.rel)
        types_ = codec.pk_types
        fixed = [f() for f in self.prefix_fns]
        if any(v is _NO_ROWS for v in fixed):
            return None
        base = codec.prefix + keys.encode_key(tuple(fixed), types_[:len(fixed)])
        col_type = types_[len(fixed)] if len(fixed) < len(types_) else None
        start, end = base, keys.key_successor(base)
        for inclusive, f in self.lower:
            v = f()
            if v is _NO_ROWS:
                return None
            k = base + keys.encode_key((v,), (col_type,))
            start = max(start, k if inclusive else keys.key_successor(k))
        for inclusive, f in self.upper:
            v = f()
            if v is _NO_ROWS:
                return None
            k = base + keys.encode_key((v,), (col_type,))
            end = min(end, keys.key_successor(k) if inclusive else k)
        return start, end

    def __iter__(self):
        bounds = self._bounds()
        if bounds is None or bounds[0] >= bounds[1]:
            return
        start, end = bounds
        decode = self.ctx.codec(self.rel).decode
        check = self.ctx.session.check_interrupt
        tx = self.ctx.snapshot_tx or self.ctx.tx
        rows = tx.scan(row_prefix(self.rel.id), start, end, track=self.ctx.track_reads)
        for n, e in enumerate(rows):
            if not n & 1023:
                check()
            yield decode(e.value) + (e.tx_id or None, e.revision or None, False, e.key)

    def explain(self) -> list[str]:
        return [self.label]


def choose(ctx, rel, alias: str, conjuncts, outer, row_free) -> KeyRangeScan | None:
    """A range scan over `rel`'s primary key for WHERE `conjuncts`, or None.

    `row_free(expr)`: does expr read no row (so it can be evaluated once per execution)?
    """
    if not rel.primary_key or ctx.describing:  # compiling bounds would type parameters
        return None
    comp = ExprCompiler(outer or Scope(), ctx)
    by_column: dict[int, list] = {}  # column id -> [(op, value function)]
    for c in conjuncts:
        for op, col, bound in _comparisons(c):
            if not (isinstance(col, ast.ColumnRef) and _names_column(col, rel, alias)
                    and row_free(bound)):
                continue
            column = rel.column(col.parts[-1])
            fn = _bound_value(comp, bound, column.type)
            if fn is not None:
                by_column.setdefault(column.id, []).append((op, fn))
    prefix_fns, used = [], []
    for cid in rel.primary_key:
        eq = [fn for op, fn in by_column.get(cid, ()) if op == "="]
        if not eq:
            break
        prefix_fns.append(eq[0])
        used.append(rel.column_by_id(cid).name)
    lower, upper = [], []
    if len(prefix_fns) < len(rel.primary_key):
        nxt = rel.column_by_id(rel.primary_key[len(prefix_fns)])
        if nxt.type.oid in _RANGE_TYPES and nxt.type.element is None:
            for op, fn in by_column.get(nxt.id, ()):
                if op in (">", ">="):
                    lower.append((op == ">=", fn))
                elif op in ("<", "<="):
                    upper.append((op == "<=", fn))
            if lower or upper:
                used.append(nxt.name)
    if not (lower or upper) and not prefix_fns:
        return None
    if any(rel.column_by_id(c).type.oid not in _RANGE_TYPES
           for c in rel.primary_key[:len(prefix_fns)]):
        return None
    label = f"Index Scan using {rel.name}_pkey on {rel.name}  (range: {', '.join(used)})"
    return KeyRangeScan(ctx, rel, prefix_fns, lower, upper, label)


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
