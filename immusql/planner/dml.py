"""INSERT, UPDATE, DELETE and TRUNCATE: plan the rows, then write them through TableWriter.

Rows to change are collected before the first write (no statement sees its own effects,
the Halloween problem). RETURNING is evaluated over the written row.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from . import modifying_cte
from .compiled import Compiled
from .expr import ExprCompiler, output_name
from .scope import Scope, ScopeColumn
from .select import OutputColumn, QueryPlanner, _source_of, bare_params
from .tables import HIDDEN_COLUMNS
from .types import TEXT, UNKNOWN
from .writer import TableWriter, table_scope


def _target(ctx, name: ast.Name, pos: int):
    rel = ctx.find_relation(name, pos)
    if rel.kind != "table":
        kind = {"view": "view", "sequence": "sequence"}.get(rel.kind, rel.kind)
        raise errors.WrongObjectType(f'cannot change {kind} "{rel.name}"')
    return rel


def _write_target(ctx, name: ast.Name, pos: int, op: str):
    """(table, ViewTarget or None): an automatically updatable view writes its table."""
    rel = ctx.find_relation(name, pos)
    if rel.kind == "view":
        from . import view_dml
        return view_dml.target(ctx, rel, op)
    return _target(ctx, name, pos), None


def _returning(ctx, items, scope: Scope):
    """(compiled fns, output columns) for a RETURNING list over `scope`."""
    if not items:
        return None, None
    comp = ExprCompiler(scope, ctx, clause="RETURNING")
    fns, cols = [], []
    for item in items:
        if isinstance(item.expr, ast.Star):
            table = item.expr.table[-1] if item.expr.table else None
            for s in scope.star(table, item.expr.pos):
                c = scope.columns[s]
                fns.append(lambda row, i=s: row[i])
                cols.append(OutputColumn(c.name, c.type, c.table_id or 0, c.column_id or 0))
            continue
        c = comp.compile(item.expr)
        if c.type == UNKNOWN:
            c = comp.cast(c, TEXT, explicit=False)
        fns.append(c.fn)
        cols.append(OutputColumn(item.alias or output_name(item.expr, c), c.type,
                                 *_source_of(item.expr, scope)))
    return fns, cols


def _result(tag: str, count: int, ret_fns, ret_cols, returned):
    from .session import Result
    if ret_fns is None:
        return Result(tag, rowcount=count)
    return Result(tag, ret_cols, returned, count)


# ------------------------------------------------------------------------ INSERT -------
def run_insert(ctx, ins: ast.Insert):
    if ins.with_:
        return modifying_cte.run_with(ctx, ins, run_insert)
    rel, through = _write_target(ctx, ins.table, ins.pos, "insert")
    if through is not None:
        if ins.on_conflict:
            raise errors.FeatureNotSupported("INSERT ... ON CONFLICT on a view is not "
                                             "supported yet")
        from dataclasses import replace

        from .view_dml import insert_columns
        ins = replace(ins, columns=insert_columns(through, ins))
    writer = TableWriter(ctx, rel)
    alias = ins.alias or rel.name
    if ins.columns:
        targets = []
        for name in ins.columns:
            col = rel.column(name)
            if col is None:
                raise errors.UndefinedColumn(
                    f'column "{name}" of relation "{rel.name}" does not exist')
            if col in targets:
                raise errors.DuplicateColumn(f'column "{name}" specified more than once')
            targets.append(col)
    else:
        targets = list(rel.columns)
    positions = [rel.columns.index(c) for c in targets]
    defaults = writer.defaults()
    rows = _source_rows(ctx, ins, rel, targets)
    scope = table_scope(rel, alias) if through is None else \
        through.scope(ins.alias or through.view.name)
    ret_fns, ret_cols = _returning(ctx, ins.returning, scope)
    conflict = _ConflictHandler(ctx, ins, rel, writer, alias) if ins.on_conflict else None
    count, returned = 0, []
    for values in rows:
        full = [None] * len(rel.columns)
        given = [False] * len(rel.columns)
        for pos, value in zip(positions, values):
            if value is _DEFAULT:
                continue
            full[pos] = value
            given[pos] = True
        for i, col in enumerate(rel.columns):
            if given[i] and col.identity is not None and ins.overriding == "user":
                given[i] = False  # OVERRIDING USER VALUE: the sequence's value instead
            elif given[i] and col.identity == "always" and ins.overriding != "system":
                raise errors.GeneratedAlways(
                    f'cannot insert a non-DEFAULT value into column "{col.name}"',
                    detail=f'Column "{col.name}" is an identity column defined as GENERATED '
                           "ALWAYS.", hint="Use OVERRIDING SYSTEM VALUE to override.")
            if not given[i]:
                full[i] = defaults[i]()
        row = tuple(full)
        if conflict is not None:
            written = conflict.insert(row)
            if written is None:
                continue
            row = written
        else:
            writer.insert(row)
        if through is not None:
            through.check(row)  # WITH CHECK OPTION, after the table's own constraints
        count += 1
        if ret_fns is not None:
            full_row = row + (None,) * len(HIDDEN_COLUMNS)
            if through is not None:
                full_row = through.view_row(row)
            returned.append(tuple(f(full_row) for f in ret_fns))
    return _result(f"INSERT 0 {count}", count, ret_fns, ret_cols, returned)


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


_DEFAULT = _Default()


def _source_rows(ctx, ins: ast.Insert, rel, targets):
    """Rows of values for the target columns, coerced to their types (DEFAULT marked)."""
    if ins.default_values or ins.source is None:
        return [[]] if ins.default_values and not ctx.describing else []
    body = ins.source.body
    comp = ExprCompiler(Scope(), ctx, clause="VALUES")
    converters: dict = {}

    def param_value(e: ast.Param, col_type):
        """$n for a column: converted by a function made once per (parameter type, column
        type), not compiled anew for each of a multi-row INSERT's values."""
        i = e.index - 1
        t = ctx.param_type(i)
        conv = converters.get((t, col_type))
        if conv is None:
            conv = converters[(t, col_type)] = comp.coerce(
                Compiled(_first, t), col_type, e, "assignment").fn if t != col_type else _first
        v = ctx.params[i]
        return None if v is None else conv((v,))
    if isinstance(body, ast.Values) and not ins.source.order_by and ins.source.limit is None:
        out = []
        for r in body.rows:
            if len(r) > len(targets):
                raise errors.SyntaxError("INSERT has more expressions than target columns",
                                         position=_p(r[len(targets)]))
            if len(r) < len(targets) and ins.columns:
                raise errors.SyntaxError("INSERT has more target columns than expressions")
            vals = []
            for e, col in zip(r, targets):
                if isinstance(e, ast.Default):
                    vals.append(_DEFAULT)
                    continue
                if isinstance(e, ast.Param) and not ctx.describing and \
                        1 <= e.index <= len(ctx.params):
                    vals.append(param_value(e, col.type))
                    continue
                c = comp.compile(e)
                if c.type != col.type:
                    c = comp.coerce(c, col.type, e, "assignment")
                vals.append(None if ctx.describing else c.fn(()))
            out.append(vals)
        return [] if ctx.describing else out
    plan = QueryPlanner(ctx).plan_query(ins.source)
    if len(plan.columns) > len(targets):
        raise errors.SyntaxError("INSERT has more expressions than target columns")
    if ctx.describing:  # INSERT ... SELECT $1: $1 takes the target column's type
        for i, (c, col) in enumerate(zip(plan.columns, targets)):
            if c.unknown:
                for index in bare_params(ins.source, i):
                    ctx.infer_param(index, col.type)
        return []
    from . import casts
    types_ = plan.types
    out = []
    for row in plan.rows():
        vals = []
        for v, src, col in zip(row, types_, targets):
            if v is not None and src != col.type:
                if not casts.can_cast(src, col.type, "assignment"):
                    raise errors.DatatypeMismatch(
                        f'column "{col.name}" is of type {_fmt(col.type)} but expression is '
                        f"of type {_fmt(src)}")
                v = casts.cast(v, src, col.type, False)
            vals.append(v)
        out.append(vals)
    return out


def _first(row):
    return row[0]


class _ConflictHandler:
    """ON CONFLICT DO NOTHING / DO UPDATE."""

    def __init__(self, ctx, ins, rel, writer: TableWriter, alias: str):
        self.ctx, self.rel, self.writer = ctx, rel, writer
        oc = ins.on_conflict
        self.action = oc.action
        self.arbiters = self._arbiters(oc)
        self.touched: set = set()
        if oc.action == "update":
            scope = table_scope(rel, alias)
            for c in rel.columns:
                scope.add(ScopeColumn("excluded", c.name, c.type))
            comp = ExprCompiler(scope, ctx, clause="ON CONFLICT DO UPDATE")
            self.sets = []
            for name, expr in oc.assignments:
                col = rel.column(name)
                if col is None:
                    raise errors.UndefinedColumn(
                        f'column "{name}" of relation "{rel.name}" does not exist')
                if isinstance(expr, ast.Default):
                    d = writer.defaults()[rel.columns.index(col)]
                    self.sets.append((rel.columns.index(col), lambda row, d=d: d()))
                    continue
                c = comp.compile(expr)
                if c.type != col.type:
                    c = comp.coerce(c, col.type, expr, "assignment")
                self.sets.append((rel.columns.index(col), c.fn))
            self.where = comp.predicate(oc.where) if oc.where is not None else None

    def _arbiters(self, oc):
        rel = self.rel
        if oc.constraint is not None:
            names = {i.name for i in rel.indexes}
            if oc.constraint not in names:
                raise errors.UndefinedObject(
                    f'constraint "{oc.constraint}" for table "{rel.name}" does not exist')
            return {oc.constraint}
        if not oc.target:
            if self.action == "update":
                raise errors.SyntaxError(
                    "ON CONFLICT DO UPDATE requires inference specification or constraint name",
                    hint="For example, ON CONFLICT (column_name).")
            return None
        ids = []
        for name in oc.target:
            col = rel.column(name)
            if col is None:
                raise errors.UndefinedColumn(f'column "{name}" does not exist')
            ids.append(col.id)
        from . import index_exprs  # a partial index is inferred when WHERE implies it
        matches = {i.name for i in rel.indexes if i.unique and set(i.columns) == set(ids)
                   and (i.plain or (i.predicate is not None and not any(i.exprs) and
                                    oc.target_where is not None and index_exprs.implied(
                                        i.predicate, index_exprs.conjuncts(
                                            oc.target_where), rel.name)))}
        if not matches:
            raise errors.InvalidColumnReference(
                "there is no unique or exclusion constraint matching the ON CONFLICT "
                "specification")
        return matches

    def insert(self, row: tuple):
        w = self.writer
        w.check(row)
        key = w.key_for(row)
        hit = w.conflict(row, key)
        if hit is None:
            w._write(row, key)
            self.touched.add(key)
            return row
        name, existing_key = hit
        if self.arbiters is not None and name not in self.arbiters:
            raise w.unique_error(name, row)
        if self.action == "nothing":
            return None
        if existing_key in self.touched:
            raise errors.CardinalityViolation(
                "ON CONFLICT DO UPDATE command cannot affect row a second time",
                hint="Ensure that no rows proposed for insertion within the same command "
                     "have duplicate constrained values.")
        old = w.codec.decode(self.ctx.tx.get(existing_key).value)
        joined = old + (None,) * len(HIDDEN_COLUMNS) + row
        if self.where is not None and self.where(joined) is not True:
            return None
        new = list(old)
        for pos, fn in self.sets:
            new[pos] = fn(joined)
        new = tuple(new)
        key = w.update(old, existing_key, new)
        self.touched.add(key)
        return new


# ------------------------------------------------------------------------ UPDATE -------
def _matched(ctx, rel, alias, from_items, where, through=None):
    """The rows a DELETE/UPDATE acts on: (joined row, scope), table columns first (after
    the view's columns when the target is a view: `through`)."""
    from .fromclause import FromPlanner
    first = ast.TableRef(rel_name(rel), alias) if through is None else \
        through.from_item(alias)
    items = (first,) + tuple(from_items)
    scope = Scope()
    qp = QueryPlanner(ctx)
    op = FromPlanner(qp, scope).plan_from(items, where)
    off = 0 if through is None else through.hide_extras(scope)
    if where is not None:
        pred = ExprCompiler(scope, ctx).predicate(where)
        rows = [] if ctx.describing else [r for r in op if pred(r) is True]
    else:
        rows = [] if ctx.describing else list(op)
    seen, out = set(), []
    key_slot = off + len(rel.columns) + len(HIDDEN_COLUMNS) - 1
    for r in rows:  # a row matched through several FROM rows is changed once
        if r[key_slot] not in seen:
            seen.add(r[key_slot])
            out.append(r)
    return out, scope


def rel_name(rel) -> ast.Name:
    return ast.Name((rel.schema, rel.name))


def run_update(ctx, up: ast.Update):
    if up.with_:
        return modifying_cte.run_with(ctx, up, run_update)
    rel, through = _write_target(ctx, up.table, up.pos, "update")
    alias = up.alias or (rel if through is None else through.view).name
    writer = TableWriter(ctx, rel)
    rows, scope = _matched(ctx, rel, alias, up.from_, up.where, through)
    off = 0 if through is None else len(through.view.columns)
    comp = ExprCompiler(scope, ctx, clause="UPDATE")
    sets = []
    for cols, expr in up.assignments:
        if len(cols) > 1:
            if not isinstance(expr, (ast.RowExpr, ast.SubqueryExpr)):
                raise errors.SyntaxError("source for a multiple-column UPDATE item must be a "
                                         "sub-SELECT or ROW() expression")
            exprs = expr.items if isinstance(expr, ast.RowExpr) else None
            if exprs is None:
                raise errors.FeatureNotSupported("(a, b) = (SELECT ...) is not supported yet")
            pairs = zip(cols, exprs)
        else:
            pairs = [(cols[0], expr)]
        for name, e in pairs:
            col = rel.column(name) if through is None else through.column(name)
            if col is None:
                raise errors.UndefinedColumn(
                    f'column "{name}" of relation "{rel.name}" does not exist')
            pos = rel.columns.index(col)
            if col.identity == "always" and not isinstance(e, ast.Default):
                raise errors.GeneratedAlways(f'column "{name}" can only be updated to DEFAULT')
            if isinstance(e, ast.Default):
                d = writer.defaults()[pos]
                sets.append((pos, lambda row, d=d: d()))
                continue
            c = comp.compile(e)
            if c.type != col.type:
                c = comp.coerce(c, col.type, e, "assignment")
            sets.append((pos, c.fn))
    ret_fns, ret_cols = _returning(ctx, up.returning, scope)
    width = len(rel.columns)
    key_slot = width + len(HIDDEN_COLUMNS) - 1
    returned = []
    for r in rows:
        old = r[off:off + width]
        new = list(old)
        for pos, fn in sets:
            new[pos] = fn(r)
        new = tuple(new)
        writer.update(old, r[off + key_slot], new)
        if through is not None:
            through.check(new)
        if ret_fns is not None:
            nr = new + r[width:] if through is None else \
                through.view_row(new) + new + r[off + width:]
            returned.append(tuple(f(nr) for f in ret_fns))
    return _result(f"UPDATE {len(rows)}", len(rows), ret_fns, ret_cols, returned)


def run_delete(ctx, de: ast.Delete):
    if de.with_:
        return modifying_cte.run_with(ctx, de, run_delete)
    rel, through = _write_target(ctx, de.table, de.pos, "delete")
    alias = de.alias or (rel if through is None else through.view).name
    writer = TableWriter(ctx, rel)
    rows, scope = _matched(ctx, rel, alias, de.using, de.where, through)
    off = 0 if through is None else len(through.view.columns)
    ret_fns, ret_cols = _returning(ctx, de.returning, scope)
    width = len(rel.columns)
    key_slot = width + len(HIDDEN_COLUMNS) - 1
    returned = []
    for r in rows:
        writer.delete(r[off:off + width], r[off + key_slot])
        if ret_fns is not None:
            returned.append(tuple(f(r) for f in ret_fns))
    return _result(f"DELETE {len(rows)}", len(rows), ret_fns, ret_cols, returned)


def run_truncate(ctx, t: ast.Truncate):
    from .session import Result
    rels = [_target(ctx, n, t.pos) for n in t.tables]
    ids = {r.id for r in rels}
    for rel in rels:
        for child, _fk in ctx.catalog.referencing(rel.id):
            if child.id not in ids and not t.cascade:
                raise errors.FeatureNotSupported(
                    "cannot truncate a table referenced in a foreign key constraint",
                    detail=f'Table "{child.name}" references "{rel.name}".',
                    hint=f'Truncate table "{child.name}" at the same time, or use '
                         "TRUNCATE ... CASCADE.")
    for rel in rels:
        writer = TableWriter(ctx, rel)
        width = len(rel.columns)
        for r in list(ctx.table_rows(rel)):
            writer.delete(r[:width], r[-1], check_children=False)
        if t.restart_identity:
            for col in rel.columns:
                if col.sequence is not None:
                    seq = ctx.catalog.relations[col.sequence]
                    ctx.engine.reset_sequence(seq, seq.sequence.get("start", 1) -
                                              seq.sequence.get("increment", 1))
    return Result("TRUNCATE TABLE")


def _fmt(t) -> str:
    from .types import format_type
    return format_type(t)


def _p(node):
    p = getattr(node, "pos", -1)
    return p + 1 if p is not None and p >= 0 else None
