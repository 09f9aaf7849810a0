"""Planning FROM: table scans (current, as of a transaction, or whole history), views,
CTEs, subqueries, VALUES, set-returning functions and joins.

Each FROM item is planned with its own local columns (its rows start at slot 0), and the
items are then joined left to right: an equality in WHERE or ON between the two sides
becomes a hash join, anything else a nested loop. WHERE conjuncts that read one table
narrow what it reads: an access path (access.py), and a filter right at its scan when no
outer join can NULL-extend its rows. The WHERE clause is still applied in full
afterwards, so none of these choices ever changes a result.
"""

from __future__ import annotations

import itertools

from .. import errors
from ..parser import ast
from . import access, functions, index_exprs, index_join, ops, syscat, walk
from . import types as T
from .compiled import error_position as _pos
from .expr import ExprCompiler
from .scope import Scope, ScopeColumn
from .tables import HIDDEN_COLUMNS

HASHABLE_CATEGORIES = {"N", "S", "B", "U"}


class TableScan:
    """Rows of a table as tuples: its columns in order, then _tx and _rev."""

    def __init__(self, ctx, rel, label: str, as_of=None, history: bool = False):
        self.ctx, self.rel, self.label = ctx, rel, label
        self.as_of, self.history = as_of, history
        self.desc = False  # backwards in key order (key_order.py)
        self.columns = len(rel.columns) + len(HIDDEN_COLUMNS)
        self.children = []

    def __iter__(self):
        return iter(self.ctx.table_rows(self.rel, self.as_of, self.history, self.desc))

    def explain(self) -> list[str]:
        return [self.label]


class FromPlanner:
    def __init__(self, planner, scope: Scope):
        self.qp = planner
        self.ctx = planner.ctx
        self.scope = scope

    def plan_from(self, items, where) -> object:
        if not items:
            return ops.Values([()], 0)
        conjuncts = _split_and(where)
        # WHERE conjuncts narrow what each table reads (access paths, pushed filters);
        # the WHERE clause still runs in full above the joins
        self._conjuncts = conjuncts
        # pushed filters only pay off below a join (alone, the WHERE filter is the same)
        self._push = conjuncts if len(items) > 1 or isinstance(items[0], ast.Join) else []
        acc_op, acc_cols = self.plan_item(items[0], None)
        for item in items[1:]:
            if _is_lateral(item):
                self._conjuncts = self._push = []
                lateral = Scope(columns=list(acc_cols), parent=self.scope.parent)
                right_plan = {}

                def factory(row, item=item, lateral=lateral, right_plan=right_plan):
                    lateral.outer.row = row
                    if "op" not in right_plan:
                        right_plan["op"], right_plan["cols"] = self.plan_item(item, lateral)
                    return right_plan["op"]
                # plan once to learn the columns (with an empty outer row)
                lateral.outer.row = (None,) * len(acc_cols)
                r_op, r_cols = self.plan_item(item, lateral)
                right_plan["op"], right_plan["cols"] = r_op, r_cols
                acc_op = ops.NestedLoopJoin(acc_op, factory, None, "inner", lateral=True,
                                            right_columns=len(r_cols))
                acc_cols = acc_cols + r_cols
                continue
            self._conjuncts = self._push = conjuncts
            r_op, r_cols = self.plan_item(item, None)
            acc_op = self._join(acc_op, acc_cols, r_op, r_cols, conjuncts, "inner", None)
            acc_cols = acc_cols + r_cols
        self._conjuncts = self._push = []
        self.scope.extend(acc_cols)
        return acc_op

    # ------------------------------------------------------------------ items ----------
    def plan_item(self, item, lateral: Scope | None):
        outer = lateral if lateral is not None else self.scope.parent
        if isinstance(item, ast.TableRef):
            return self._table(item, outer)
        if isinstance(item, ast.SubqueryRef):
            if item.alias is None:
                raise errors.SyntaxError("subquery in FROM must have an alias",
                                         position=_pos(item))
            plan = self.qp.plan_query(item.query, outer)
            return plan.op, _named(plan.columns, item.alias, item.column_aliases)
        if isinstance(item, ast.ValuesRef):
            plan = self.qp.plan_values(item.values, outer)
            return plan.op, _named(plan.columns, item.alias or "*VALUES*", item.column_aliases)
        if isinstance(item, ast.FunctionRef):
            return self._function(item, outer)
        if isinstance(item, ast.Join):
            return self._join_item(item, lateral)
        raise errors.FeatureNotSupported(f"FROM item {type(item).__name__}")

    def _table(self, ref: ast.TableRef, outer):
        name = ref.name
        alias = ref.alias or name.last
        if len(name.parts) == 1 and name.last in self.ctx.ctes and ref.as_of is None:
            kind, cols, payload = self.ctx.ctes[name.last]
            if kind == "lazy":
                recursive, cte_outer = payload
                cols, payload = self.qp.plan_cte(cols, recursive, cte_outer)
                kind = "plan"
            if kind == "recursive":
                op = ops.FunctionScan(lambda holder=payload: iter(holder.get("rows", ())),
                                      len(cols))
                op.rescan = True  # the work table changes every iteration: never cache it
            else:
                op = payload
            return op, _named(cols, alias, ref.column_aliases)
        rel = self.ctx.find_relation(name, ref.pos)
        record = getattr(self.ctx, "ref_recorder", None)  # views.py: what names resolve to
        if record is not None:
            record(ref, rel)
        if syscat.is_system(rel):  # pg_catalog / information_schema: generated rows
            return syscat.plan_scan(self, ref, rel, outer)
        if rel.kind == "view":
            if ref.as_of is not None or ref.history:
                raise errors.FeatureNotSupported("time travel on a view")
            plan = self.qp.plan_query(rel.view_query, None)
            # a view's columns keep their catalog names (renames below it don't show)
            names = tuple(c.name for c in rel.columns)[:len(plan.columns)]
            aliases = tuple(ref.column_aliases) + names[len(ref.column_aliases):]
            return plan.op, _named(plan.columns, alias, aliases)
        if rel.kind != "table":
            raise errors.WrongObjectType(f'"{name}" is not a table')
        as_of = self._as_of(ref.as_of, outer) if ref.as_of is not None else None
        label = f"{'History Scan' if ref.history else 'Seq Scan'} on {rel.name}"
        if alias != rel.name:
            label += f" {alias}"
        op = None
        if as_of is None and not ref.history and getattr(self, "_conjuncts", None):
            op = access.choose(self.ctx, rel, alias, self._conjuncts, outer)
        if op is None:
            op = TableScan(self.ctx, rel, label, as_of, ref.history)
        cols = [ScopeColumn(alias, c.name, c.type, schema=rel.schema, table_id=rel.id,
                            column_id=c.id) for c in rel.columns]
        if ref.column_aliases:
            for c, new in zip(cols, ref.column_aliases):
                c.name = new
        cols += [ScopeColumn(alias, "_tx", T.INT8, hidden=True),
                 ScopeColumn(alias, "_rev", T.INT8, hidden=True),
                 ScopeColumn(alias, "_deleted", T.BOOL, hidden=True),
                 ScopeColumn(alias, "_key", T.BYTEA, hidden=True)]
        return self._pushed_filter(op, cols, outer), cols

    def _pushed_filter(self, op, cols, outer):
        """`op` under the WHERE conjuncts that read only its own columns, so rows that
        cannot qualify are dropped before any join sees them. Only where this table's
        rows are never NULL-extended by an outer join (self._push is empty there), and
        only conjuncts without subqueries or volatile functions, because the full WHERE
        evaluates them again above the joins."""
        local = Scope(columns=list(cols))
        mine = [c for c in getattr(self, "_push", ()) if _reads_only(c, local)
                and _repeatable(c)]
        if not mine:
            return op
        try:
            pred = ExprCompiler(Scope(columns=list(cols), parent=outer), self.ctx,
                                clause="WHERE").predicate(
                mine[0] if len(mine) == 1 else ast.BoolOp("and", tuple(mine)))
        except errors.Error:
            return op  # the full WHERE reports it, with its own context
        return ops.Filter(op, pred)

    def _as_of(self, a: ast.AsOf, outer):
        comp = ExprCompiler(outer or Scope(), self.ctx, clause="AS OF")
        value = comp.compile(a.value)
        until = comp.compile(a.until) if a.until is not None else None
        if a.kind == "timestamp":
            v = comp.coerce(value, T.TIMESTAMPTZ, a.value, "explicit").fn(())
            return ("timestamp", v, None)
        v = comp.coerce(value, T.INT8, a.value).fn(()) if value.type != T.INT8 \
            else value.fn(())
        u = None
        if until is not None:
            u = comp.coerce(until, T.INT8, a.until).fn(()) if until.type != T.INT8 \
                else until.fn(())
        return (a.kind, v, u)

    def _function(self, f: ast.FunctionRef, outer):
        # the arguments may read earlier FROM items (LATERAL) or an enclosing query: both
        # are outer rows, one level up from the function's own (empty) row
        comp = ExprCompiler(Scope(parent=outer), self.ctx, clause="FROM")
        args = [comp.compile(a) for a in f.call.args]
        args = [comp.cast(a, T.TEXT, explicit=False) if a.type == T.UNKNOWN else a
                for a in args]
        if f.call.name.last == "unnest" and len(args) > 1:
            impl, out_cols = _multi_unnest(args, self.ctx.fctx)
        else:
            impl, out_cols = functions.set_returning_function(
                f.call.name.last, [a.type for a in args], self.ctx.fctx)
        out_names = [n for n, _ in out_cols]
        out_types = [t for _, t in out_cols]
        fns = [a.fn for a in args]
        ordinality = f.with_ordinality

        def produce():
            vals = [fn(()) for fn in fns]
            rows = impl(*vals)
            if ordinality:
                return (tuple(r) + (i + 1,) for i, r in enumerate(rows))
            return (tuple(r) for r in rows)
        types_ = list(out_types) + ([T.INT8] if ordinality else [])
        names = list(out_names) + (["ordinality"] if ordinality else [])
        alias = f.alias or f.call.name.last
        if len(names) == 1 and not f.column_aliases:
            names = [f.alias or names[0]] if f.alias else names
        if f.column_aliases:
            names[:len(f.column_aliases)] = f.column_aliases
        op = ops.FunctionScan(produce, len(types_))
        return op, [ScopeColumn(alias, n, t) for n, t in zip(names, types_)]

    def _join_item(self, j: ast.Join, lateral):
        push = getattr(self, "_push", [])
        try:  # WHERE conjuncts go down only to the side an outer join never NULL-extends
            self._push = push if j.kind not in ("right", "full") else []
            l_op, l_cols = self.plan_item(j.left, lateral)
            self._push = push if j.kind not in ("left", "full") else []
            if _is_lateral(j.right) and not j.using and not j.natural:
                return self._lateral_join(j, l_op, l_cols)
            r_op, r_cols = self.plan_item(j.right, lateral)
        finally:
            self._push = push
        return self._join_sides(j, l_op, l_cols, r_op, r_cols)

    def _join_sides(self, j: ast.Join, l_op, l_cols, r_op, r_cols):
        kind = j.kind
        using = list(j.using)
        if j.natural:
            r_names = {c.name for c in r_cols if not c.hidden}
            using = [c.name for c in l_cols if not c.hidden and c.name in r_names]
        if using:
            conds = []
            for name in using:
                lc = [c for c in l_cols if c.name == name and not c.hidden]
                rc = [c for c in r_cols if c.name == name and not c.hidden]
                if len(lc) != 1 or len(rc) != 1:
                    raise errors.UndefinedColumn(
                        f'column "{name}" specified in USING clause does not exist in '
                        f'{"left" if len(lc) != 1 else "right"} table', position=_pos(j))
                conds.append((l_cols.index(lc[0]), len(l_cols) + r_cols.index(rc[0])))
            op, cols = self._using_join(l_op, l_cols, r_op, r_cols, kind, conds, using)
            return op, cols
        conjuncts = _split_and(j.on)
        if kind == "cross":
            kind = "inner"
        op = self._join(l_op, l_cols, r_op, r_cols, conjuncts, kind, j.on)
        return op, l_cols + r_cols

    def _lateral_join(self, j: ast.Join, l_op, l_cols):
        """x JOIN LATERAL (...) ON ...: the right side is re-run for every left row."""
        if j.kind in ("right", "full"):
            raise errors.SyntaxError("the combining JOIN type must be INNER or LEFT for a "
                                     "LATERAL reference", position=_pos(j))
        lat = Scope(columns=list(l_cols), parent=self.scope.parent)
        lat.outer.row = (None,) * len(l_cols)
        r_op, r_cols = self.plan_item(j.right, lat)

        def factory(row, lat=lat, r_op=r_op):
            lat.outer.row = row
            return r_op
        residual = None
        if j.on is not None:
            both = Scope(columns=list(l_cols) + list(r_cols), parent=self.scope.parent)
            residual = ExprCompiler(both, self.ctx, clause="JOIN/ON").predicate(j.on)
        kind = "inner" if j.kind == "cross" else j.kind
        op = ops.NestedLoopJoin(l_op, factory, residual, kind, lateral=True,
                                right_columns=len(r_cols))
        return op, l_cols + r_cols

    def _using_join(self, l_op, l_cols, r_op, r_cols, kind, conds, using):
        lw = len(l_cols)
        lk = [(lambda row, i=li: row[i]) for li, _ in conds]
        rk = [(lambda row, i=ri - lw: row[i]) for _, ri in conds]
        join_kind = "inner" if kind == "cross" else kind
        op = ops.HashJoin(l_op, r_op, lk, rk, join_kind)
        # output: merged USING columns, then the rest of left, then the rest of right,
        # then the originals (hidden) so t1.col and t2.col still resolve
        merged_fns, merged_cols = [], []
        for (li, ri), name in zip(conds, using):
            lt, rt = l_cols[li].type, r_cols[ri - lw].type
            if kind == "full":
                merged_fns.append(lambda row, a=li, b=ri: row[a] if row[a] is not None
                                  else row[b])
            elif kind == "right":
                merged_fns.append(lambda row, b=ri: row[b])
            else:
                merged_fns.append(lambda row, a=li: row[a])
            merged_cols.append(ScopeColumn(None, name, lt if kind != "right" else rt,
                                           using_merged=True))
        used_l = {li for li, _ in conds}
        used_r = {ri for _, ri in conds}
        rest_idx = [i for i in range(lw) if i not in used_l] + \
                   [lw + i for i in range(len(r_cols)) if lw + i not in used_r]
        all_cols = l_cols + r_cols
        orig_idx = sorted(used_l | used_r)
        fns = merged_fns + [(lambda row, i=i: row[i]) for i in rest_idx + orig_idx]
        cols = merged_cols + [all_cols[i] for i in rest_idx]
        for i in orig_idx:
            c = all_cols[i]
            cols.append(ScopeColumn(c.table, c.name, c.type, hidden=True, schema=c.schema,
                                    table_id=c.table_id, column_id=c.column_id))
        return ops.Project(op, fns), cols

    def _join(self, l_op, l_cols, r_op, r_cols, conjuncts, kind, on):
        lscope = Scope(columns=list(l_cols), parent=self.scope.parent)
        rscope = Scope(columns=list(r_cols), parent=self.scope.parent)
        lk, rk = [], []
        for c in conjuncts:
            if isinstance(c, ast.BinaryOp) and c.op == "=":
                pair = self._key_pair(c.left, c.right, lscope, rscope) or \
                    self._key_pair(c.right, c.left, lscope, rscope)
                if pair:
                    lk.append(pair[0])
                    rk.append(pair[1])
        residual = None
        if on is not None:
            both = Scope(columns=list(l_cols) + list(r_cols), parent=self.scope.parent)
            residual = ExprCompiler(both, self.ctx, clause="JOIN/ON").predicate(on)
        if lk:
            by_key = index_join.try_index_join(self, l_op, l_cols, r_op, r_cols, conjuncts,
                                               kind, residual)
            return by_key or ops.HashJoin(l_op, r_op, lk, rk, kind, residual)
        right = r_op if getattr(r_op, "rescan", False) else ops.Materialize(r_op)
        return ops.NestedLoopJoin(l_op, right, residual, kind)

    def _key_pair(self, a, b, lscope, rscope):
        try:
            ca = ExprCompiler(lscope, self.ctx).compile(a)
            cb = ExprCompiler(rscope, self.ctx).compile(b)
        except errors.Error:
            return None
        if ca.const or cb.const:
            return None
        ta, tb = ca.type, cb.type
        if ta != tb and not (ta.category == tb.category == "N" or
                             (ta.category == tb.category == "S")):
            return None
        if ta.category not in HASHABLE_CATEGORIES and ta != tb:
            return None
        return ca.fn, cb.fn


def _reads_only(node, local: Scope) -> bool:
    """Do all of `node`'s column references name columns of `local` (and nothing else)?"""
    for ref in _column_refs(node):
        try:
            if local._find(ref.parts, -1) is None:
                return False
        except errors.Error:  # ambiguous here: the full WHERE reports it
            return False
    return True


def _column_refs(node):
    if isinstance(node, ast.ColumnRef):
        yield node
    for c in walk.children(node):
        yield from _column_refs(c)


def _repeatable(node) -> bool:
    """No subquery, aggregate or volatile function: evaluating it twice is harmless."""
    try:
        index_exprs.check_expression(node, "predicate")
    except errors.Error:
        return False
    return True


def _named(cols, alias, column_aliases) -> list[ScopeColumn]:
    out = []
    for i, c in enumerate(cols):
        name = column_aliases[i] if i < len(column_aliases) else c.name
        out.append(ScopeColumn(alias, name, c.type))
    return out


def _multi_unnest(args, fctx):
    """unnest(a, b, ...) in FROM means ROWS FROM (unnest(a), unnest(b), ...): one column
    per array, the shorter arrays padded with NULL."""
    parts = [functions.set_returning_function("unnest", [a.type], fctx) for a in args]

    def impl(*vals):
        its = [fn(v) for (fn, _), v in zip(parts, vals)]
        return (tuple(r[0] if r is not None else None for r in row)
                for row in itertools.zip_longest(*its))
    return impl, [c for _, cols in parts for c in cols]


def _split_and(e) -> list:
    if e is None:
        return []
    if isinstance(e, ast.BoolOp) and e.op == "and":
        out = []
        for o in e.operands:
            out += _split_and(o)
        return out
    return [e]


def _is_lateral(item) -> bool:
    return (isinstance(item, (ast.SubqueryRef, ast.FunctionRef)) and
            (getattr(item, "lateral", False) or isinstance(item, ast.FunctionRef)))


