"""Planning queries: AST Query -> a tree of operators (ops) plus its output columns.

The steps follow PostgreSQL's logical order: FROM (scans, joins) -> WHERE -> GROUP BY and
aggregates -> HAVING -> window functions -> select list -> DISTINCT -> ORDER BY ->
LIMIT/OFFSET. Expressions are compiled once by `ExprCompiler`; aggregates, group keys and
window calls are computed by their operators and reach later clauses as row slots.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import errors
from ..parser import ast
from . import casts, compare, functions, modifying_cte, ops
from . import types as T
from .callinfo import is_aggregate, is_set_returning
from .compiled import error_position as _pos
from .expr import Compiled, ExprCompiler, output_name
from .scope import Scope
from .walk import contains_aggregate, find_calls


@dataclass
class OutputColumn:
    name: str
    type: T.SqlType
    table_id: int = 0
    column_id: int = 0
    unknown: bool = False  # an untyped literal shown as text: a UNION may still type it


@dataclass
class Plan:
    op: object
    columns: list[OutputColumn]

    def rows(self) -> list[tuple]:
        return list(self.op)

    @property
    def types(self) -> list[T.SqlType]:
        return [c.type for c in self.columns]


class QueryPlanner:
    def __init__(self, ctx):
        self.ctx = ctx

    # ------------------------------------------------------------------ queries ---------
    def plan(self, q, outer: Scope | None = None) -> Plan:
        if isinstance(q, ast.Query):
            return self.plan_query(q, outer)
        return self.plan_query(ast.Query(q), outer)

    def plan_query(self, q: ast.Query, outer: Scope | None = None) -> Plan:
        saved = dict(self.ctx.ctes)
        try:
            for cte in q.with_:
                self._register_cte(cte, q.recursive, outer, q is self.ctx.modifying_with)
            body = q.body
            ties = q.with_ties
            if isinstance(body, ast.Select):
                # WITH TIES keys may be hidden sort columns: limit before they are dropped
                hook = (lambda op, keys: self._limit(Plan(op, []), q.limit, q.offset, outer,
                                                     keys).op) if ties else None
                plan = self.plan_select(body, q.order_by, outer, hook)
                if not ties:
                    plan = self._limit(plan, q.limit, q.offset, outer)
            else:
                plan = self.plan_body(body, outer)
                if q.order_by:
                    plan = self._order_outputs(plan, q.order_by)
                plan = self._limit(plan, q.limit, q.offset, outer,
                                   plan.op.keys if ties else None)
            if self.ctx.describing:  # type the parameters of CTEs nothing reads, too
                for cte in q.with_:
                    if self.ctx.ctes.get(cte.name, ("",))[0] == "lazy" \
                            and not modifying_cte.is_modifying(cte):
                        self.plan_cte(cte, q.recursive, outer)
            return plan
        finally:
            self.ctx.ctes = saved

    def plan_body(self, body, outer) -> Plan:
        if isinstance(body, ast.Select):
            return self.plan_select(body, (), outer)
        if isinstance(body, ast.Query):
            return self.plan_query(body, outer)
        if isinstance(body, ast.Values):
            return self.plan_values(body, outer)
        if isinstance(body, ast.SetOp):
            return self.plan_setop(body, outer)
        raise errors.FeatureNotSupported(f"query body {type(body).__name__}")

    def _register_cte(self, cte: ast.CTE, recursive: bool, outer, top: bool = False) -> None:
        """CTEs are planned when first referenced (an unused one is never evaluated, as in
        PostgreSQL), then materialised once however often they are read. A data-modifying
        one runs now, once (modifying_cte); only a top-level WITH (`top`) may hold one."""
        if modifying_cte.is_modifying(cte):
            modifying_cte.run_cte(self, cte, top and outer is None)
            return
        self.ctx.ctes[cte.name] = ("lazy", cte, (recursive, outer))

    def plan_cte(self, cte: ast.CTE, recursive: bool, outer):
        """(output columns, operator) of a CTE on its first reference."""
        q = cte.query
        if not isinstance(q, ast.Query):  # ran already, had no RETURNING
            raise modifying_cte.no_returning(cte)
        if recursive and isinstance(q.body, ast.SetOp) and q.body.op == "union" \
                and _references(q.body.right, cte.name):
            seed = self.plan_body(q.body.left, outer)
            cols = self._cte_columns(cte, seed.columns)
            holder: dict = {"rows": []}
            self.ctx.ctes[cte.name] = ("recursive", cols, holder)
            step = self.plan_body(q.body.right, outer)
            if len(step.columns) != len(cols):
                raise errors.SyntaxError("each UNION query must have the same number of "
                                         "columns")
            _check_recursive_types(cte.name, cols, step.columns)
            step_op = _coerce_plan(step, [c.type for c in cols], self.ctx)

            def step_factory(working, holder=holder, step_op=step_op):
                holder["rows"] = working
                return step_op
            op = ops.Materialize(ops.RecursiveUnion(seed.op, step_factory, q.body.all))
        else:
            plan = self.plan_query(q, outer)
            cols = self._cte_columns(cte, plan.columns)
            op = ops.Materialize(plan.op)
        self.ctx.ctes[cte.name] = ("plan", cols, op)
        return cols, op

    @staticmethod
    def _cte_columns(cte: ast.CTE, columns) -> list[OutputColumn]:
        if len(cte.column_aliases) > len(columns):
            raise errors.InvalidColumnReference(
                f'WITH query "{cte.name}" has {len(columns)} columns available but '
                f"{len(cte.column_aliases)} columns specified")
        names = list(cte.column_aliases) + [c.name for c in columns][len(cte.column_aliases):]
        return [OutputColumn(n, c.type) for n, c in zip(names, columns)]

    def plan_values(self, v: ast.Values, outer) -> Plan:
        width = len(v.rows[0])
        if any(len(r) != width for r in v.rows):
            raise errors.SyntaxError("VALUES lists must all be the same length",
                                     position=_pos(v))
        comp = ExprCompiler(outer or Scope(), self.ctx, clause="VALUES")
        compiled = [[comp.compile(e) for e in r] for r in v.rows]
        col_types = []
        for i in range(width):
            col_types.append(casts.resolve_common_type([r[i].type for r in compiled],
                                                       "VALUES"))
        fns = [[comp.coerce(c, t).fn for c, t in zip(r, col_types)] for r in compiled]
        op = ops.FunctionScan(lambda: (tuple(f(()) for f in r) for r in fns), width)
        cols = [OutputColumn(f"column{i + 1}", t) for i, t in enumerate(col_types)]
        return Plan(op, cols)

    def plan_setop(self, s: ast.SetOp, outer) -> Plan:
        left = self.plan_body(s.left, outer)
        right = self.plan_body(s.right, outer)
        if len(left.columns) != len(right.columns):
            raise errors.SyntaxError(f"each {s.op.upper()} query must have the same number "
                                     "of columns", position=_pos(s))
        types_, unknown = [], []
        for i, (lc, rc) in enumerate(zip(left.columns, right.columns)):
            known = [c.type for c in (lc, rc) if c.type != T.UNKNOWN and not c.unknown]
            types_.append(casts.resolve_common_type(
                [T.UNKNOWN if c.unknown else c.type for c in (lc, rc)], s.op.upper()))
            unknown.append(not known)
            if known and self.ctx.describing:
                for index in bare_params(s, i):  # SELECT $1 UNION SELECT 1: $1 is int4
                    self.ctx.infer_param(index, types_[-1])
        lop = _coerce_plan(left, types_, self.ctx)
        rop = _coerce_plan(right, types_, self.ctx)
        cols = [OutputColumn(c.name, t, unknown=u)
                for c, t, u in zip(left.columns, types_, unknown)]
        return Plan(ops.SetOp(s.op, s.all, lop, rop), cols)

    # ------------------------------------------------------------------ SELECT ----------
    def plan_select(self, sel: ast.Select, order_by, outer, limit_hook=None) -> Plan:
        from .fromclause import FromPlanner
        from .key_order import read_in_key_order
        scope = Scope(parent=outer)
        op = from_op = FromPlanner(self, scope).plan_from(sel.from_, sel.where)
        comp = ExprCompiler(scope, self.ctx)
        if sel.where is not None:
            op = ops.Filter(op, comp.predicate(sel.where))

        items = self._expand_items(sel.items, scope)
        order_by = tuple(order_by)
        group_exprs = self._group_exprs(sel.group_by, items, scope)
        aggregated = bool(group_exprs) or any(
            contains_aggregate(e) for e in [i.expr for i in items] + [o.expr for o in order_by]
            + ([sel.having] if sel.having is not None else []))
        replacements: dict = {}
        if aggregated:
            op, scope, replacements = self._aggregate(op, scope, group_exprs, items, order_by,
                                                      sel.having)
            comp = ExprCompiler(scope, self.ctx, replacements, clause="HAVING")
            if sel.having is not None:
                op = ops.Filter(op, comp.predicate(sel.having))
        elif sel.having is not None:
            raise errors.GroupingError("HAVING requires GROUP BY or an aggregate")
        windows = dict(sel.windows)
        calls = find_calls([i.expr for i in items] + [o.expr for o in order_by],
                           lambda f: f.over is not None)
        if calls:
            op, replacements = self._windows(op, scope, calls, windows, replacements)
        comp = ExprCompiler(scope, self.ctx, replacements, clause="SELECT")
        srfs: dict[int, tuple] = {}  # item position -> (srf, arg fns)
        compiled = []
        for pos, i in enumerate(items):
            if isinstance(i.expr, ast.FuncCall) and i.expr.over is None and \
                    is_set_returning(i.expr.name.last):
                c, srf = self._srf_item(comp, i.expr)
                srfs[pos] = srf
                compiled.append(c)
            elif isinstance(i.expr, ast.FieldAccess) and isinstance(i.expr.operand, ast.FuncCall) \
                    and is_set_returning(i.expr.operand.name.last):  # (srf(x)).field
                c, srf = self._srf_item(comp, i.expr.operand, i.expr.field)
                srfs[pos] = srf
                compiled.append(c)
            else:
                compiled.append(comp.compile(i.expr))
        cols = []
        for item, c in zip(items, compiled):
            name = item.alias or output_name(item.expr, c)
            src = _source_of(item.expr, scope)
            cols.append(OutputColumn(name, c.type if c.type != T.UNKNOWN else T.TEXT, *src,
                                     unknown=c.type == T.UNKNOWN))
        compiled = [comp.output_text(c) if c.type == T.UNKNOWN else c for c in compiled]
        # ORDER BY and DISTINCT ON keys: output columns (by ordinal, name or expression)
        # or extra hidden expressions computed beside the output and dropped at the end
        extra: list[Compiled] = []

        def key_slot(e, for_order: bool) -> int:
            slot = self._output_slot(e, items, cols)
            if slot is None:
                if for_order and sel.distinct and not sel.distinct_on:
                    raise errors.InvalidColumnReference(
                        "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                        position=_pos(e))
                extra.append(comp.compile(e))
                slot = len(compiled) + len(extra) - 1
            return slot

        order_slots = [key_slot(o.expr, True) for o in order_by]
        on_slots = [key_slot(e, False) for e in sel.distinct_on]
        width = len(compiled)
        if srfs:
            op = ProjectSet(op, [srfs.get(i, c.fn) for i, c in enumerate(compiled + extra)],
                            set(srfs))
        else:
            op = ops.Project(op, [c.fn for c in compiled + extra])
        slot_types = [c.type for c in compiled + extra]
        order_keys = [ops.SortKey(compare.order_fn(_slot(s), slot_types[s]), o.descending,
                                  o.nulls_first) for s, o in zip(order_slots, order_by)]
        if sel.distinct_on:
            if order_by and set(order_slots[:len(on_slots)]) != set(on_slots[:len(order_slots)]):
                raise errors.InvalidColumnReference(
                    "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
                    position=_pos(sel.distinct_on[0]))
            leading = [ops.SortKey(compare.order_fn(_slot(s), slot_types[s]), False, None)
                       for s in on_slots]
            op = ops.Sort(op, leading + order_keys)
            op = ops.DistinctOn(op, [_slot(s) for s in on_slots])
        else:
            if sel.distinct:
                op = ops.Distinct(op, [_slot(i) for i in range(width)] if extra else None)
            if order_keys and not (not sel.distinct and not aggregated and not calls
                                   and not srfs and read_in_key_order(from_op, scope,
                                                                      order_by, items, cols)):
                op = ops.Sort(op, order_keys)
        if limit_hook is not None:  # FETCH ... WITH TIES, on the sorted rows
            op = limit_hook(op, order_keys)
        if extra:
            op = ops.Project(op, [_slot(i) for i in range(width)])
        return Plan(op, cols)

    def _srf_item(self, comp: ExprCompiler, call: ast.FuncCall, field: str | None = None):
        """A set-returning function in the select list (PostgreSQL's ProjectSet). One
        returning several columns gives one composite value per row (or, for
        `(f(x)).field`, that field)."""
        args = [comp.compile(a) for a in call.args]
        try:  # unknown arguments typed by the overload, as PostgreSQL's
            impl, out_cols = functions.set_returning_function(
                call.name.last, [a.type for a in args], self.ctx.fctx)
            for a, t in zip(args, impl.arg_types):
                comp._infer(a, t)
        except errors.Error:
            args = [comp.cast(a, T.TEXT, explicit=False) if a.type == T.UNKNOWN else a
                    for a in args]
            impl, out_cols = functions.set_returning_function(
                call.name.last, [a.type for a in args], self.ctx.fctx)
        fns = [a.fn for a in args]
        if len(out_cols) != 1 or field is not None:
            rec = T.record_of(out_cols)
            k = rec.field_index(field) if field is not None else None
            if field is not None and k is None:
                raise errors.UndefinedColumn(f'column "{field}" not found in data type record')

            def rows_of(row):
                rows = impl(*[f(row) for f in fns])
                return [r[k] for r in rows] if k is not None else [tuple(r) for r in rows]
            return Compiled(lambda row: None, out_cols[k][1] if k is not None else rec,
                            name=field or call.name.last), rows_of

        def rows_of(row):
            return [r[0] for r in impl(*[f(row) for f in fns])]
        c = Compiled(lambda row: None, out_cols[0][1], name=call.name.last)
        return c, rows_of

    def _expand_items(self, items, scope: Scope) -> list[ast.SelectItem]:
        out = []
        for item in items:
            if isinstance(item.expr, ast.Star):
                table = item.expr.table[-1] if item.expr.table else None
                slots = scope.star(table, item.expr.pos)
                if not slots and table is None:
                    raise errors.SyntaxError("SELECT * with no tables specified is not valid",
                                             position=_pos(item.expr))
                for s in slots:
                    col = scope.columns[s]
                    out.append(ast.SelectItem(StarColumn(s, col.name), col.name))
            else:
                out.append(item)
        return out

    def _group_exprs(self, group_by, items, scope) -> list:
        out = []
        for g in group_by:
            if isinstance(g, ast.Literal) and g.kind == "integer":
                if not 1 <= g.value <= len(items):
                    raise errors.InvalidColumnReference(
                        f"GROUP BY position {g.value} is not in select list", position=_pos(g))
                out.append(items[g.value - 1].expr)
            elif isinstance(g, ast.ColumnRef) and len(g.parts) == 1 and not _resolvable(
                    scope, g) and any(i.alias == g.parts[0] for i in items):
                out.append(next(i.expr for i in items if i.alias == g.parts[0]))
            else:
                out.append(g)
        return out

    def _aggregate(self, op, scope: Scope, group_exprs, items, order_by, having):
        group_exprs = group_exprs + self._dependent_columns(scope, group_exprs)
        comp = ExprCompiler(scope, self.ctx, clause="GROUP BY")
        group_compiled = [comp.compile(g) for g in group_exprs]
        calls = find_calls([i.expr for i in items] + [o.expr for o in order_by]
                           + ([having] if having is not None else []),
                           lambda f: f.over is None and is_aggregate(f.name.last))
        agg_calls, agg_types = [], []
        arg_comp = ExprCompiler(scope, self.ctx, clause="aggregate function calls")
        for call in calls:
            for a in call.args:
                if contains_aggregate(a):
                    raise errors.GroupingError("aggregate function calls cannot be nested",
                                               position=_pos(a))
            args = [arg_comp.compile(a) for a in call.args]
            spec = functions.lookup_aggregate(call.name.last, [a.type for a in args])
            order = [_sort_key(arg_comp.compile(o.expr), o) for o in call.order_by]
            filt = arg_comp.predicate(call.filter) if call.filter is not None else None
            agg_calls.append(ops.AggCall(spec, [a.fn for a in args], call.distinct, filt,
                                         order, call.star))
            agg_types.append(spec.result_type)
        op = ops.HashAggregate(op, [g.fn for g in group_compiled], agg_calls,
                               key_canon=[compare.hash_canon(g.type) for g in group_compiled])
        new_scope = _GroupScope(scope, group_exprs, group_compiled)
        replacements = {}
        for i, (g, c) in enumerate(zip(group_exprs, group_compiled)):
            replacements[g] = (i, c.type)
        base = len(group_exprs)
        for j, (call, t) in enumerate(zip(calls, agg_types)):
            replacements[call] = (base + j, t)
        new_scope.width = base + len(calls)  # window results go after the aggregates
        return op, new_scope, replacements

    def _dependent_columns(self, scope: Scope, group_exprs) -> list:
        """GROUP BY a table's primary key makes its other columns usable (PostgreSQL's
        functional dependency): they are added as group keys, which changes no group."""
        grouped = set()
        for g in group_exprs:
            if isinstance(g, StarColumn):
                grouped.add(g.slot)
            elif isinstance(g, ast.ColumnRef):
                try:
                    depth, slot, _ = scope.resolve(g.parts)
                except errors.Error:
                    continue
                if depth == 0:
                    grouped.add(slot)
        tables: dict = {}
        for slot, c in enumerate(scope.columns):
            if c.table_id and c.column_id:
                tables.setdefault((c.table, c.table_id), {})[c.column_id] = slot
        extra = []
        for (_, table_id), slots in tables.items():
            rel = self.ctx.catalog.relations.get(table_id)
            if rel is None or not rel.primary_key:
                continue
            if all(slots.get(c) in grouped for c in rel.primary_key):
                for slot in slots.values():
                    if slot not in grouped:
                        extra.append(StarColumn(slot, scope.columns[slot].name))
                        grouped.add(slot)
        return extra

    def _windows(self, op, scope, calls, windows, replacements):
        comp = ExprCompiler(scope, self.ctx, replacements, clause="window functions")
        width = len(scope.columns) if not isinstance(scope, _GroupScope) else scope.width
        new_repl = dict(replacements)
        groups: dict = {}
        for call in calls:
            spec = call.over
            if spec.name is not None:
                base = windows.get(spec.name)
                if base is None:
                    raise errors.UndefinedObject(f'window "{spec.name}" does not exist')
                spec = ast.WindowSpec(None, base.partition_by, spec.order_by or base.order_by,
                                      spec.frame_mode or base.frame_mode,
                                      spec.frame_start or base.frame_start,
                                      spec.frame_end or base.frame_end,
                                      spec.frame_exclusion or base.frame_exclusion)
            key = (spec.partition_by, spec.order_by)
            groups.setdefault(key, []).append((call, spec))
        for (partition_by, order_by), members in groups.items():
            part = [comp.compile(e).fn for e in partition_by]
            order = [_sort_key(comp.compile(o.expr), o) for o in order_by]
            wcalls = []
            for call, spec in members:
                args = [comp.compile(a) for a in call.args]
                name = call.name.last
                if is_aggregate(name):
                    agg = functions.lookup_aggregate(name, [a.type for a in args])
                    rtype = agg.result_type
                else:
                    agg = None
                    rtype = functions.window_function_type(name, [a.type for a in args])
                frame = _frame(spec, comp) if spec.frame_mode else None
                filt = comp.predicate(call.filter) if call.filter is not None else None
                wcalls.append(ops.WindowCall(name, [a.fn for a in args], agg, frame,
                                             call.distinct, filt))
                new_repl[call] = (width, rtype)
                width += 1
            op = ops.Window(op, part, order, wcalls)
        if isinstance(scope, _GroupScope):
            scope.width = width
        return op, new_repl

    def _output_slot(self, e, items, cols) -> int | None:
        if isinstance(e, ast.Literal) and e.kind == "integer":
            if not 1 <= e.value <= len(items):
                raise errors.InvalidColumnReference(
                    f"ORDER BY position {e.value} is not in select list", position=_pos(e))
            return e.value - 1
        if isinstance(e, ast.ColumnRef) and len(e.parts) == 1:
            # a bare name is an output column first (its alias or implicit name, as
            # PostgreSQL's findTargetlistEntrySQL92), an input column only otherwise
            hits = [i for i, c in enumerate(cols) if c.name == e.parts[0]]
            if hits:
                if any(items[i].expr != items[hits[0]].expr for i in hits[1:]):
                    raise errors.AmbiguousColumn(f'ORDER BY "{e.parts[0]}" is ambiguous',
                                                 position=_pos(e))
                return hits[0]
        for i, it in enumerate(items):
            if it.expr == e:
                return i
        return None

    def _order_outputs(self, plan: Plan, order_by) -> Plan:
        keys = []
        for o in order_by:
            e = o.expr
            slot = None
            if isinstance(e, ast.Literal) and e.kind == "integer":
                slot = e.value - 1
                if not 0 <= slot < len(plan.columns):
                    raise errors.InvalidColumnReference(
                        f"ORDER BY position {e.value} is not in select list", position=_pos(e))
            elif isinstance(e, ast.ColumnRef) and len(e.parts) == 1:
                hits = [i for i, c in enumerate(plan.columns) if c.name == e.parts[0]]
                slot = hits[0] if hits else None
            if slot is None:
                if isinstance(e, ast.ColumnRef):
                    raise errors.UndefinedColumn(f'column "{e.parts[-1]}" does not exist',
                                                 position=_pos(e))
                raise errors.FeatureNotSupported(
                    "ORDER BY on a set operation must name an output column", position=_pos(e))
            keys.append(ops.SortKey(compare.order_fn(_slot(slot), plan.columns[slot].type),
                                    o.descending, o.nulls_first))
        return Plan(ops.Sort(plan.op, keys), plan.columns)

    def _limit(self, plan: Plan, limit, offset, outer, ties=None) -> Plan:
        """LIMIT/OFFSET over `plan`; `ties`: the SortKeys of FETCH ... WITH TIES."""
        if limit is None and offset is None:
            return plan
        comp = ExprCompiler(outer or Scope(), self.ctx, clause="LIMIT")

        def value(e, what, error):
            if e is None:
                return None
            c = comp.compile(e)
            c = comp.coerce(c, T.INT8, e, "assignment") if c.type != T.INT8 else c
            v = c.fn(())
            if v is not None and v < 0:
                raise error(f"{what} must not be negative")
            return v
        n = value(limit, "LIMIT", errors.InvalidRowCountInLimitClause)
        skip = value(offset, "OFFSET", errors.InvalidRowCountInResultOffsetClause) or 0
        # a NULL count means no limit, WITH TIES too: PostgreSQL's planner drops a Limit
        # whose count is a NULL constant (limit_needed) before the executor could complain
        return Plan(ops.Limit(plan.op, n, skip, ties=None if ties is None else
                              [k.fn for k in ties]), plan.columns)


class ProjectSet(ops.Operator):
    """Select list with set-returning functions: each input row gives as many rows as
    its longest function result; shorter results are padded with NULL (PostgreSQL 10+)."""

    def __init__(self, child, fns, srf_positions: set):
        super().__init__([child], len(fns), "ProjectSet")
        self.fns, self.srf = fns, srf_positions

    def __iter__(self):
        fns, srf = self.fns, self.srf
        for row in self.children[0]:
            sets = {i: fns[i](row) for i in srf}
            n = max((len(v) for v in sets.values()), default=0)
            if not n:
                continue
            plain = [None if i in srf else f(row) for i, f in enumerate(fns)]
            for k in range(n):
                yield tuple((sets[i][k] if k < len(sets[i]) else None) if i in srf
                            else plain[i] for i in range(len(fns)))


class _GroupScope(Scope):
    """After GROUP BY, a bare column is only valid if it is one of the group keys."""

    def __init__(self, inner: Scope, group_exprs, compiled):
        super().__init__(columns=[], parent=inner.parent, outer=inner.outer,
                         tables=set(inner.tables))
        self.inner = inner
        self.group_slots = {}
        for i, g in enumerate(group_exprs):
            if isinstance(g, (ast.ColumnRef, StarColumn)):
                try:
                    slot = g.slot if isinstance(g, StarColumn) else inner.resolve(g.parts)[1]
                    depth = 0 if isinstance(g, StarColumn) else inner.resolve(g.parts)[0]
                except errors.Error:
                    continue
                if depth == 0:
                    self.group_slots[slot] = (i, compiled[i].type)
        self.width = len(group_exprs)

    def resolve(self, parts, pos=-1):
        depth, slot, type_ = self.inner.resolve(parts, pos)
        if depth > 0:
            return depth, slot, type_
        hit = self.group_slots.get(slot)
        if hit is None:
            col = self.inner.columns[slot]
            name = f"{col.table}.{col.name}" if col.table else col.name
            raise errors.GroupingError(
                f'column "{name}" must appear in the GROUP BY clause or be used in an '
                "aggregate function", position=_pos_int(pos))
        return 0, hit[0], hit[1]


@dataclass(frozen=True)
class StarColumn(ast.Expr):
    """A select-list entry produced by `*`: reads a FROM slot directly."""

    slot: int
    name: str
    pos: int = -1


def _compile_slotref(self: ExprCompiler, n: StarColumn) -> Compiled:
    scope = self.scope
    if isinstance(scope, _GroupScope):
        hit = scope.group_slots.get(n.slot)
        if hit is None:
            col = scope.inner.columns[n.slot]
            raise errors.GroupingError(
                f'column "{col.table}.{col.name}" must appear in the GROUP BY clause or be '
                "used in an aggregate function")
        return Compiled(lambda row, i=hit[0]: row[i], hit[1], name=n.name)
    col = scope.columns[n.slot]
    return Compiled(lambda row, i=n.slot: row[i], col.type, name=n.name)


ExprCompiler._StarColumn = _compile_slotref


def _slot(i: int):
    return lambda row: row[i]


def _resolvable(scope: Scope, ref: ast.ColumnRef) -> bool:
    try:
        scope.resolve(ref.parts)
        return True
    except errors.Error:
        return False


def _source_of(e, scope: Scope) -> tuple[int, int]:
    """(table id, column id) for RowDescription when the item is a plain column."""
    if isinstance(scope, _GroupScope):  # a group key is still its table's column
        scope = scope.inner
    slot = None
    if isinstance(e, StarColumn):
        slot = e.slot
    elif isinstance(e, ast.ColumnRef):
        try:
            depth, slot, _ = scope.resolve(e.parts)
            if depth:
                return 0, 0
        except errors.Error:
            return 0, 0
    if slot is None or isinstance(scope, _GroupScope) or slot >= len(scope.columns):
        return 0, 0
    col = scope.columns[slot]
    return col.table_id or 0, col.column_id or 0


def _coerce_plan(plan: Plan, types_, ctx):
    if all(c.type == t for c, t in zip(plan.columns, types_)):
        return plan.op
    fns = []
    for i, (c, t) in enumerate(zip(plan.columns, types_)):
        if c.type == t:
            fns.append(_slot(i))
        else:
            src = c.type

            def f(row, i=i, src=src, t=t):
                v = row[i]
                return None if v is None else casts.cast(v, src, t, False)
            fns.append(f)
    return ops.Project(plan.op, fns)


def bare_params(body, i: int) -> list[int]:
    """Indexes of the parameters that are output column `i` of `body` as they stand
    (`SELECT $1`, also through set operations): PostgreSQL types them from the context
    of the query (a UNION's other side, INSERT's target column), not as text."""
    if isinstance(body, ast.Query):
        return bare_params(body.body, i) if not body.with_ else []
    if isinstance(body, ast.SetOp):
        return bare_params(body.left, i) + bare_params(body.right, i)
    if isinstance(body, ast.Select) and i < len(body.items) and not any(
            isinstance(it.expr, ast.Star) for it in body.items[:i + 1]):
        e = body.items[i].expr
        return [e.index - 1] if isinstance(e, ast.Param) else []
    return []


def _references(node, name: str) -> bool:
    from .walk import table_names
    return name in table_names(node)


def _pos_int(p):
    return p + 1 if p is not None and p >= 0 else None


def _frame(spec: ast.WindowSpec, comp: ExprCompiler):
    def offset(b):
        if b is None or b.offset is None:
            return None
        c = comp.compile(b.offset)
        if spec.frame_mode in ("rows", "groups") and c.type != T.INT8:
            c = comp.coerce(c, T.INT8, b.offset, "assignment")  # as PostgreSQL: bigint
        v = c.fn(())
        return 0 if v is None and comp.ctx.describing else v  # a NULL fails when run
    start = spec.frame_start or ast.FrameBound("unbounded_preceding")
    end = spec.frame_end or ast.FrameBound("current_row")
    if spec.frame_mode == "range" and (start.offset is not None or end.offset is not None):
        _check_range_offset_order(spec, comp)
    return ops.Frame(spec.frame_mode, start.kind, offset(start), end.kind, offset(end),
                     spec.frame_exclusion or "no_others")


# the types PostgreSQL has an in_range support function for
_IN_RANGE_TYPES = (T.INTEGER_TYPES | T.FLOAT_TYPES
                   | {t.oid for t in (T.NUMERIC, T.DATE, T.TIME, T.TIMETZ, T.TIMESTAMP,
                                      T.TIMESTAMPTZ, T.INTERVAL)})


def _sort_key(c: Compiled, o: ast.OrderItem) -> ops.SortKey:
    return ops.SortKey(compare.order_fn(c.fn, c.type), o.descending, o.nulls_first)


def _check_range_offset_order(spec: ast.WindowSpec, comp: ExprCompiler) -> None:
    """RANGE n PRECEDING/FOLLOWING measures distance along one ORDER BY column, so
    there must be exactly one, of a type that has a distance."""
    if len(spec.order_by) != 1:
        raise errors.WindowingError(
            "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column")
    t = comp.compile(spec.order_by[0].expr).type
    if t.oid not in _IN_RANGE_TYPES:
        raise errors.FeatureNotSupported(
            "RANGE with offset PRECEDING/FOLLOWING is not supported for column type "
            f"{T.format_type(t)}")


def _check_recursive_types(name: str, cols, step_cols) -> None:
    """PostgreSQL fixes a recursive CTE's column types from its non-recursive term: a
    recursive term that would widen the UNION's type (int -> numeric, varchar(3) ->
    varchar) is 42804, not a silent cast."""
    for i, (c, s) in enumerate(zip(cols, step_cols), 1):
        if s.unknown or s.type == T.UNKNOWN:
            continue
        overall = casts.common_type([c.type, s.type], "UNION")
        if overall != c.type:
            raise errors.DatatypeMismatch(
                f'recursive query "{name}" column {i} has type {T.format_type(c.type)} in '
                f"non-recursive term but type {T.format_type(overall)} overall",
                hint="Cast the output of the non-recursive term to the correct type.")
