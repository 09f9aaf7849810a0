"""Writing through automatically updatable views (PostgreSQL's rewriteTargetView).

A view over one table (or over another such view) without aggregates, DISTINCT,
GROUP BY, set operations, LIMIT or window functions can be the target of INSERT, UPDATE
and DELETE: the statement acts on the base table, a view column that is a plain column
of the relation below maps to that column, and the view's WHERE limits the rows UPDATE
and DELETE see. WITH CHECK OPTION rejects rows the view would not show (44000).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import errors
from ..parser import ast
from .expr import ExprCompiler
from .scope import Scope, ScopeColumn
from .tables import HIDDEN_COLUMNS
from .walk import find_calls

_VERB = {"insert": "insert into", "update": "update", "delete": "delete from"}
_HINT = {"insert": "To enable inserting into the view, provide an INSTEAD OF INSERT trigger "
                   "or an unconditional ON INSERT DO INSTEAD rule.",
         "update": "To enable updating the view, provide an INSTEAD OF UPDATE trigger or an "
                   "unconditional ON UPDATE DO INSTEAD rule.",
         "delete": "To enable deleting from the view, provide an INSTEAD OF DELETE trigger "
                   "or an unconditional ON DELETE DO INSTEAD rule."}
_SINGLE = "Views that do not select from a single table or view are not automatically " \
          "updatable."


def not_updatable_reason(q) -> str | None:
    """Why a view query is not automatically updatable (PostgreSQL's wording), or None."""
    from .callinfo import is_aggregate
    if not isinstance(q, ast.Query):
        return _SINGLE
    body = q.body
    if isinstance(body, ast.Select):
        if body.distinct or body.distinct_on:
            return "Views containing DISTINCT are not automatically updatable."
        if body.group_by:
            return "Views containing GROUP BY are not automatically updatable."
        if body.having is not None:
            return "Views containing HAVING are not automatically updatable."
    if isinstance(body, ast.SetOp):
        return "Views containing UNION, INTERSECT, or EXCEPT are not automatically updatable."
    if q.with_:
        return "Views containing WITH are not automatically updatable."
    if q.limit is not None or q.offset is not None:
        return "Views containing LIMIT or OFFSET are not automatically updatable."
    if not isinstance(body, ast.Select):
        return _SINGLE
    exprs = [i.expr for i in body.items]
    if find_calls(exprs, lambda c: c.over is None and is_aggregate(c.name.last)):
        return "Views that return aggregate functions are not automatically updatable."
    if find_calls(exprs, lambda c: c.over is not None):
        return "Views that return window functions are not automatically updatable."
    if len(body.from_) != 1 or not isinstance(body.from_[0], ast.TableRef):
        return _SINGLE
    ref = body.from_[0]
    if ref.as_of is not None or ref.history:
        return _SINGLE
    return None


@dataclass
class _Level:
    view: object  # Relation
    source: object  # the relation the view selects from
    ref: ast.TableRef
    alias: str
    names: list  # the source's column names as the view sees them
    exprs: list  # per view column, its expression (`*` expanded)
    base: list  # per view column: the base table Column it is, or None
    items: list  # compiled: source row -> view column
    where: object  # compiled predicate over the source row, or None


class ViewTarget:
    """A view as the target of INSERT/UPDATE/DELETE: its base table, the column mapping,
    and the checks and projections of every view level down to the table."""

    def __init__(self, ctx, view, op: str):
        self.ctx, self.view, self.op = ctx, view, op
        self.levels: list[_Level] = []
        rel = view
        while rel.kind == "view":
            lv = self._level(rel, op)
            self.levels.append(lv)
            rel = lv.source
        self.base = rel
        top = self.levels[0]
        for lv in reversed(self.levels):  # below first: a level maps through the next
            self._compile(lv)
        self.columns = top.base
        if op != "delete" and all(c is None for c in self.columns):
            self._refuse(view, op, "Views that have no updatable columns are not "
                                   "automatically updatable.")

    # -- analysis ------------------------------------------------------------------------
    def _refuse(self, view, op, detail):
        raise errors.ObjectNotInPrerequisiteState(f'cannot {_VERB[op]} view "{view.name}"',
                                                  detail=detail, hint=_HINT[op])

    def _level(self, view, op) -> _Level:
        q = view.view_query
        reason = not_updatable_reason(q)
        if reason is not None:
            self._refuse(view, op, reason)
        ref = q.body.from_[0]
        src = self.ctx.find_relation(ref.name, ref.pos)
        if src.kind not in ("table", "view") or src.view_query is None and src.kind == "view":
            self._refuse(view, op, _SINGLE)
        alias = ref.alias or ref.name.last
        names = [c.name for c in src.columns]
        names[:len(ref.column_aliases)] = ref.column_aliases
        exprs = []
        for it in q.body.items:
            if isinstance(it.expr, ast.Star):
                exprs += [ast.ColumnRef((alias, n)) for n in names]
            else:
                exprs.append(it.expr)
        return _Level(view, src, ref, alias, names, exprs, [], [], None)

    def _compile(self, lv: _Level) -> None:
        src = lv.source
        scope = Scope()
        for n, c in zip(lv.names, src.columns):
            scope.add(ScopeColumn(lv.alias, n, c.type, table_id=src.id, column_id=c.id))
        if src.kind == "table":
            from .types import BOOL, BYTEA, INT8
            for n, t in zip(HIDDEN_COLUMNS, (INT8, INT8, BOOL, BYTEA)):
                scope.add(ScopeColumn(lv.alias, n, t, hidden=True))
            below = list(src.columns)
        else:
            below = next(x for x in self.levels if x.view.id == src.id).base
        comp = ExprCompiler(scope, self.ctx)
        lv.items = [comp.compile(e).fn for e in lv.exprs]
        lv.where = comp.predicate(lv.view.view_query.body.where) \
            if lv.view.view_query.body.where is not None else None
        for e in lv.exprs:
            hit = None
            if isinstance(e, ast.ColumnRef) and (len(e.parts) == 1 or e.parts[-2] == lv.alias):
                if e.parts[-1] in lv.names:
                    hit = below[lv.names.index(e.parts[-1])]
            lv.base.append(hit)

    # -- columns -------------------------------------------------------------------------
    def column(self, name: str):
        """The base table column a view column writes, 42703 / 0A000 when none."""
        for c, b in zip(self.view.columns, self.columns):
            if c.name == name:
                if b is None:
                    verb = "insert into" if self.op == "insert" else "update"
                    raise errors.FeatureNotSupported(
                        f'cannot {verb} column "{name}" of view "{self.view.name}"',
                        detail="View columns that are not columns of their base relation "
                               "are not updatable.")
                return b
        raise errors.UndefinedColumn(
            f'column "{name}" of relation "{self.view.name}" does not exist')

    def scope(self, alias: str) -> Scope:
        """The view's columns, for RETURNING after INSERT."""
        s = Scope()
        for c in self.view.columns:
            s.add(ScopeColumn(alias, c.name, c.type, table_id=self.view.id, column_id=c.id))
        return s

    # -- rows ----------------------------------------------------------------------------
    def _walk(self, base_row):
        """(view row, [(level, its input row)] bottom first) of a full base row."""
        row, seen = base_row, []
        for lv in reversed(self.levels):
            seen.append((lv, row))
            row = tuple(f(row) for f in lv.items)
        return row, seen

    def view_row(self, base_row: tuple) -> tuple:
        """The view's columns of a base row (plus hidden columns, None if missing)."""
        full = base_row + (None,) * (len(self.base.columns) + len(HIDDEN_COLUMNS) -
                                     len(base_row))
        return self._walk(full)[0]

    def check(self, base_row: tuple) -> None:
        """WITH [LOCAL | CASCADED] CHECK OPTION of every level that asks for it."""
        checked, cascade = set(), False
        for lv in self.levels:  # from the target view down
            if cascade or lv.view.check_option is not None:
                checked.add(lv.view.id)
            if lv.view.check_option == "cascaded":
                cascade = True
        if not checked:
            return
        full = base_row + (None,) * len(HIDDEN_COLUMNS)
        for lv, row in self._walk(full)[1]:  # the innermost view is checked first
            if lv.view.id in checked and lv.where is not None and lv.where(row) is not True:
                from .casts import format_text
                shown = ", ".join("null" if v is None else format_text(v, c.type)
                                  for v, c in zip(base_row, self.base.columns))
                raise errors.WithCheckOptionViolation(
                    f'new row violates check option for view "{lv.view.name}"',
                    detail=f"Failing row contains ({shown}).")

    def from_item(self, alias: str) -> ast.SubqueryRef:
        """The view as a FROM item producing its columns, then the base row (columns and
        hidden columns), for UPDATE/DELETE to find the rows it shows."""
        return ast.SubqueryRef(self._extended(0), alias)

    def _extended(self, i: int) -> ast.Query:
        lv = self.levels[i]
        n_extra = len(self.base.columns) + len(HIDDEN_COLUMNS)
        if lv.source.kind == "table":
            extras = [ast.ColumnRef((lv.alias, n)) for n in lv.names]
            extras += [ast.ColumnRef((lv.alias, h)) for h in HIDDEN_COLUMNS]
            source = lv.ref
        else:
            extras = [ast.ColumnRef((lv.alias, f"?base{j}")) for j in range(n_extra)]
            source = ast.SubqueryRef(self._extended(i + 1), lv.alias, lv.ref.column_aliases)
        items = tuple(ast.SelectItem(e, c.name) for e, c in zip(lv.exprs, lv.view.columns))
        items += tuple(ast.SelectItem(e, f"?base{j}") for j, e in enumerate(extras))
        q = lv.view.view_query
        return replace(q, body=replace(q.body, items=items, from_=(source,)), order_by=())

    def hide_extras(self, scope: Scope) -> int:
        """Hide the base row's columns in an UPDATE/DELETE scope; their offset."""
        n = len(self.view.columns)
        for c in scope.columns[n:n + len(self.base.columns) + len(HIDDEN_COLUMNS)]:
            c.hidden = True
        return n


def target(ctx, rel, op: str):
    """(table to write, ViewTarget or None) for an INSERT/UPDATE/DELETE target."""
    if rel.kind == "view" and rel.view_query is not None:
        t = ViewTarget(ctx, rel, op)
        return t.base, t
    return rel, None


def insert_columns(t: ViewTarget, ins: ast.Insert) -> tuple[str, ...]:
    """An INSERT's view column list as base table column names."""
    names = ins.columns
    if not names:
        width = len(t.view.columns)
        src = ins.source
        if ins.default_values or src is None:
            width = 0
        elif isinstance(src.body, ast.Values):
            width = max((len(r) for r in src.body.rows), default=0)
        else:
            from .select import QueryPlanner
            width = len(QueryPlanner(t.ctx).plan_query(src).columns)
        names = tuple(c.name for c in t.view.columns[:width])
        if width > len(t.view.columns):
            raise errors.SyntaxError("INSERT has more expressions than target columns")
    out = []
    for n in names:
        col = t.column(n)
        if col.name in out:
            raise errors.DuplicateColumn(f'multiple assignments to same column "{col.name}"')
        out.append(col.name)
    return tuple(out)
