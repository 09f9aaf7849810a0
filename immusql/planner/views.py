"""Views: CREATE [OR REPLACE] VIEW, what views depend on, and keeping them valid on rename.

A view is stored as its parsed query, which names tables and columns. PostgreSQL stores
resolved references instead, so a rename never breaks a view. We get the same effect by
resolving the stored query (planning it with a recorder that notes what every table and
column reference resolved to) and rewriting the names when a table or column is renamed;
the same resolution tells which views depend on a table or column (DROP ... 2BP01).
Writing through views is in view_dml.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

from .. import errors
from ..parser import ast
from .catalog import Column, Relation


# ------------------------------------------------------------------ resolution ---------
class Refs:
    """What the references of one stored query resolved to (keyed by node identity)."""

    def __init__(self):
        self.tables: dict[int, Relation] = {}  # id(TableRef) -> relation
        self.columns: dict[int, object] = {}  # id(ColumnRef) -> ScopeColumn
        self._keep: list = []  # the nodes, so their ids stay theirs

    def record(self, node, target):
        self._keep.append(node)
        if isinstance(node, ast.TableRef):
            self.tables[id(node)] = target
        else:
            self.columns[id(node)] = target


def resolve(ctx, query) -> Refs:
    """Plan `query` in ctx's catalog, recording what its names resolve to."""
    from .select import QueryPlanner
    refs = Refs()
    saved = getattr(ctx, "ref_recorder", None)
    ctx.ref_recorder = refs.record
    try:
        QueryPlanner(ctx).plan_query(query)
    finally:
        ctx.ref_recorder = saved
    return refs


def _selects(node):
    """Every SELECT core in a query tree (subqueries included)."""
    if isinstance(node, ast.Select):
        yield node
    if isinstance(node, tuple):
        for x in node:
            yield from _selects(x)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _selects(getattr(node, f.name))


def _from_tables(items):
    for f in items:
        if isinstance(f, ast.TableRef):
            yield f
        elif isinstance(f, ast.Join):
            yield from _from_tables((f.left, f.right))


def depends_on(ctx, view: Relation) -> tuple[set[int], set[tuple[int, int]]]:
    """(relation ids, (table id, column id) pairs) that a view's query uses."""
    try:
        refs = resolve(ctx, view.view_query)
    except errors.Error:  # a view that no longer plans depends on nothing we can tell
        return set(), set()
    mine = {r.id for r in refs.tables.values()}
    cols = {(c.table_id, c.column_id) for c in refs.columns.values()
            if c.table_id is not None and c.column_id is not None}
    for sel in _selects(view.view_query):  # `*` uses every column of what it expands
        if any(isinstance(i.expr, ast.Star) for i in sel.items):
            for t in _from_tables(sel.from_):
                rel = refs.tables.get(id(t))
                if rel is not None and rel.kind == "table":
                    cols |= {(rel.id, c.id) for c in rel.columns}
    return mine, cols


def dependent_views(ctx, cat, rel_id: int, column_id: int | None = None) -> list[Relation]:
    """Views that use relation `rel_id` (or just its column), directly or through other
    views, nearest first."""
    views = [r for r in cat.relations.values() if r.kind == "view" and r.view_query]
    deps = {v.id: depends_on(ctx, v) for v in views}
    out, targets = [], {rel_id}
    for v in views:
        rels, cols = deps[v.id]
        if v.id != rel_id and ((rel_id, column_id) in cols if column_id is not None
                               else rel_id in rels):
            out.append(v)
    changed = True
    while changed:
        changed = False
        for v in views:
            if v in out or v.id in targets:
                continue
            if deps[v.id][0] & {o.id for o in out}:
                out.append(v)
                changed = True
    return out


_KIND_WORD = {"table": "table", "view": "view", "sequence": "sequence"}


def check_drop(ctx, cat, rel: Relation, cascade: bool, dropping=()) -> list[Relation]:
    """The views DROP of `rel` takes along (CASCADE), or 2BP01 when there are some."""
    views = [v for v in dependent_views(ctx, cat, rel.id) if v.id not in dropping]
    if views and not cascade:
        kind = _KIND_WORD.get(rel.kind, rel.kind)
        raise errors.DependentObjectsStillExist(
            f"cannot drop {kind} {rel.name} because other objects depend on it",
            detail=_dependency_detail(ctx, cat, rel, views),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    return views


def check_drop_column(ctx, cat, rel: Relation, col: Column, cascade: bool):
    views = dependent_views(ctx, cat, rel.id, col.id)
    if views and not cascade:
        raise errors.DependentObjectsStillExist(
            f"cannot drop column {col.name} of table {rel.name} because other objects "
            "depend on it",
            detail="\n".join([f"view {views[0].name} depends on column {col.name} of table "
                              f"{rel.name}"] + [f"view {v.name} depends on view {v2}"
                                                for v, v2 in _chain(ctx, cat, views[1:])]),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    return views


def _chain(ctx, cat, views):
    out = []
    for v in views:
        rels, _ = depends_on(ctx, v)
        parent = next((cat.relations[r].name for r in rels if r in cat.relations and
                       cat.relations[r].kind == "view"), "?")
        out.append((v, parent))
    return out


def _dependency_detail(ctx, cat, rel, views) -> str:
    lines = []
    for v in views:
        rels, _ = depends_on(ctx, v)
        if rel.id in rels:
            lines.append(f"view {v.name} depends on {_KIND_WORD.get(rel.kind, rel.kind)} "
                         f"{rel.name}")
        else:
            parent = next((cat.relations[r].name for r in rels if r in cat.relations and
                           cat.relations[r].kind == "view"), "?")
            lines.append(f"view {v.name} depends on view {parent}")
    return "\n".join(lines)


# ------------------------------------------------------------------ CREATE VIEW --------
def create_view(ctx, cv: ast.CreateView, schema: str, commit):
    """CREATE [OR REPLACE] VIEW; `commit(ctx, catalog, changed)` writes the catalog."""
    from .select import QueryPlanner
    cat = ctx.catalog
    existing = cat.find(ast.Name((schema, cv.name.last)))
    if (existing is not None and not (cv.or_replace and existing.kind == "view")) or (
            existing is None and cat.name_taken(schema, cv.name.last)):  # an index's name
        if existing is not None and cv.or_replace:
            raise errors.WrongObjectType(f'"{cv.name.last}" is not a view')
        raise errors.DuplicateTable(f'relation "{cv.name.last}" already exists')
    plan = QueryPlanner(ctx).plan_query(cv.query)  # validates the query
    if len(cv.column_aliases) > len(plan.columns):
        raise errors.SyntaxError("CREATE VIEW specifies more column names than columns")
    names = list(cv.column_aliases) + [c.name for c in plan.columns][len(cv.column_aliases):]
    query = _bind_tables(ctx, _with_aliases(_expand_stars(ctx, cv.query), cv.column_aliases))
    if cv.check_option is not None:
        _check_option_allowed(cv, query)
    cols = tuple(Column(i + 1, name, c.type) for i, (c, name) in
                 enumerate(zip(plan.columns, names)))
    if existing is not None:
        _check_replacement(existing, cols)
        rel_id = existing.id
    else:
        cat, (rel_id,) = cat.allocate_ids(1)
    rel = Relation(rel_id, schema, cv.name.last, "view", cols, view_query=query,
                   check_option=cv.check_option)
    if existing is not None:  # OR REPLACE keeps the view's comments (same OID, attnums)
        kept = {c.id: c.comment for c in existing.columns}
        rel = replace(rel, comment=existing.comment,
                      columns=tuple(replace(c, comment=kept.get(c.id)) for c in cols))
    commit(ctx, cat.with_relation(rel), [rel])


def _bind_tables(ctx, query: ast.Query) -> ast.Query:
    """Unqualified table names qualified by the schema they resolve to now: PostgreSQL
    binds a view to its tables when it is created, so a later search_path does not
    change what the view reads (pg_get_viewdef drops the schema again when visible)."""
    refs = resolve(ctx, query)
    user = ctx.catalog.relations

    def fix(n):
        if isinstance(n, ast.TableRef) and len(n.name.parts) == 1:
            rel = refs.tables.get(id(n))
            if rel is not None and user.get(getattr(rel, "id", None)) is rel:
                return replace(n, name=ast.Name((rel.schema, n.name.last)))
        return None
    return rewrite(query, fix)


def _expand_stars(ctx, query: ast.Query) -> ast.Query:
    """`*` in the view's select list as the columns it stands for now: PostgreSQL expands
    it when the view is created, so columns added to the table later don't show."""
    body = query.body
    if not isinstance(body, ast.Select) or not any(isinstance(i.expr, ast.Star)
                                                   for i in body.items):
        return query
    for f in body.from_:  # joins merge USING columns: keep `*` there
        if not isinstance(f, ast.TableRef):
            return query
    refs = resolve(ctx, query)
    sources = []
    for f in body.from_:
        rel = refs.tables.get(id(f))
        if rel is None or rel.kind not in ("table", "view"):
            return query
        alias = f.alias or f.name.last
        names = [c.name for c in rel.columns]
        names[:len(f.column_aliases)] = f.column_aliases
        sources.append((alias, names))
    items = []
    for it in body.items:
        if not isinstance(it.expr, ast.Star):
            items.append(it)
            continue
        for alias, names in sources:
            if it.expr.table is None or it.expr.table[-1] == alias:
                items += [ast.SelectItem(ast.ColumnRef((alias, n))) for n in names]
    return replace(query, body=replace(body, items=tuple(items)))


def _with_aliases(query: ast.Query, aliases) -> ast.Query:
    """The view query with its column list applied to the select items (as PostgreSQL
    shows it: `SELECT base.id AS ident`), or wrapped when the items can't carry them."""
    if not aliases:
        return query
    body = query.body
    if isinstance(body, ast.Select) and not any(isinstance(i.expr, ast.Star)
                                                for i in body.items):
        items = tuple(replace(it, alias=aliases[i]) if i < len(aliases) else it
                      for i, it in enumerate(body.items))
        return replace(query, body=replace(body, items=items))
    return ast.Query(ast.Select((ast.SelectItem(ast.Star()),),
                                (ast.SubqueryRef(query, "_v", tuple(aliases)),)))


def _check_option_allowed(cv, query):
    from .view_dml import not_updatable_reason
    reason = not_updatable_reason(query)
    if reason is not None:
        raise errors.FeatureNotSupported(
            "WITH CHECK OPTION is supported only on automatically updatable views",
            hint=reason)


def _check_replacement(old: Relation, cols) -> None:
    """PostgreSQL's checkViewColumns: OR REPLACE may only add columns at the end."""
    from .types import format_type
    if len(cols) < len(old.columns):
        raise errors.InvalidTableDefinition("cannot drop columns from view")
    for o, n in zip(old.columns, cols):
        if o.name != n.name:
            raise errors.InvalidTableDefinition(
                f'cannot change name of view column "{o.name}" to "{n.name}"',
                hint="Use ALTER VIEW ... RENAME COLUMN ... to change name of view column "
                     "instead.")
        if o.type != n.type:
            raise errors.InvalidTableDefinition(
                f'cannot change data type of view column "{o.name}" from '
                f"{format_type(o.type)} to {format_type(n.type)}")


# ------------------------------------------------------------------ renames ------------
def rewrite(node, fn):
    """A copy of an AST with `fn(node)` (a replacement, or None to descend) applied."""
    if isinstance(node, tuple):
        items = tuple(rewrite(x, fn) for x in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    hit = fn(node)
    if hit is not None:
        return hit
    changes = {}
    for f in dataclasses.fields(node):
        v = getattr(node, f.name)
        nv = rewrite(v, fn)
        if nv is not v:
            changes[f.name] = nv
    return replace(node, **changes) if changes else node


def renamed_column(ctx, cat, rel: Relation, col: Column, new: str):
    """(rel, catalog) after `rel`'s column `col` became `new`: its CHECK constraints and
    the views that read it now name `new` (a view keeps its output column name)."""
    old = col.name

    def in_check(n):
        if isinstance(n, ast.ColumnRef) and n.parts[-1] == old and (
                len(n.parts) == 1 or n.parts[-2] == rel.name):
            return replace(n, parts=n.parts[:-1] + (new,))
        return None

    rel = replace(rel, checks=tuple(replace(c, expr=rewrite(c.expr, in_check))
                                    for c in rel.checks))
    for view in dependent_views(ctx, ctx.catalog, rel.id, col.id):
        refs = resolve(ctx, view.view_query)
        hits = {k for k, sc in refs.columns.items()
                if sc.table_id == rel.id and sc.column_id == col.id}

        def in_view(n, hits=hits):
            if isinstance(n, ast.SelectItem) and id(n.expr) in hits:
                return ast.SelectItem(replace(n.expr, parts=n.expr.parts[:-1] + (new,)),
                                      n.alias or n.expr.parts[-1])
            if isinstance(n, ast.ColumnRef) and id(n) in hits:
                return replace(n, parts=n.parts[:-1] + (new,))
            return None

        v = cat.relations[view.id]
        cat = cat.with_relation(replace(v, view_query=rewrite(view.view_query, in_view)))
    return rel, cat


def renamed_relation(ctx, cat, rel: Relation, new: str):
    """(rel, catalog) after `rel` became `new`: views reading it, and qualified
    references in its CHECK constraints, follow."""
    old = ctx.catalog.relations[rel.id].name

    def in_check(n):
        if isinstance(n, ast.ColumnRef) and len(n.parts) >= 2 and n.parts[-2] == old:
            return replace(n, parts=n.parts[:-2] + (new, n.parts[-1]))
        return None

    rel = replace(rel, checks=tuple(replace(c, expr=rewrite(c.expr, in_check))
                                    for c in rel.checks))
    for view in dependent_views(ctx, ctx.catalog, rel.id):
        refs = resolve(ctx, view.view_query)
        tables = {k for k, r in refs.tables.items() if r.id == rel.id}
        if not tables:
            continue
        bare = any(n.alias is None for n in refs._keep
                   if isinstance(n, ast.TableRef) and id(n) in tables)
        quals = {k for k, sc in refs.columns.items()
                 if bare and sc.table == old and sc.table_id in (rel.id, None)}

        def in_view(n, tables=tables, quals=quals, bare=bare):
            if isinstance(n, ast.TableRef) and id(n) in tables:
                return replace(n, name=ast.Name(n.name.parts[:-1] + (new,)))
            if isinstance(n, ast.ColumnRef) and id(n) in quals and len(n.parts) >= 2:
                return replace(n, parts=n.parts[:-2] + (new, n.parts[-1]))
            if bare and isinstance(n, ast.Star) and n.table and n.table[-1] == old:
                return replace(n, table=n.table[:-1] + (new,))
            return None

        v = cat.relations[view.id]
        cat = cat.with_relation(replace(v, view_query=rewrite(view.view_query, in_view)))
    return rel, cat


_SEQUENCE_FUNCTIONS = ("nextval", "currval", "setval")


def renamed_sequence(cat, seq: Relation, old: str, new: str):
    """The catalog after sequence `old` became `new`: column defaults calling
    nextval('old') follow (PostgreSQL stores the regclass, which a rename keeps)."""

    def fix(n):
        if not (isinstance(n, ast.FuncCall) and n.name.last.lower() in _SEQUENCE_FUNCTIONS
                and n.args):
            return None
        arg = n.args[0]
        lit = arg.operand if isinstance(arg, ast.Cast) else arg
        if not (isinstance(lit, ast.Literal) and isinstance(lit.value, str)):
            return None
        parts = lit.value.split(".")
        if parts[-1] != old or (len(parts) == 2 and parts[0] != seq.schema) or len(parts) > 2:
            return None
        lit = replace(lit, value=".".join(parts[:-1] + [new]))
        arg = replace(arg, operand=lit) if isinstance(arg, ast.Cast) else lit
        return replace(n, args=(arg,) + n.args[1:])

    for rel in list(cat.relations.values()):
        if rel.kind != "table" or not any(c.default is not None for c in rel.columns):
            continue
        cols = tuple(replace(c, default=rewrite(c.default, fix)) if c.default is not None
                     else c for c in rel.columns)
        if any(a is not b for a, b in zip(cols, rel.columns)):
            cat = cat.with_relation(replace(rel, columns=cols))
    return cat


def mentions(expr, column: str) -> bool:
    """Whether an expression of a table's own (a CHECK) names `column`."""
    found = []
    rewrite(expr, lambda n: found.append(n) if isinstance(n, ast.ColumnRef) and
            n.parts[-1] == column else None)
    return bool(found)


def changed_relations(before, after) -> tuple[list[Relation], list[int]]:
    """(relations to write, ids to delete) between two catalog snapshots."""
    changed = [r for r in after.relations.values() if before.relations.get(r.id) is not r]
    removed = [i for i in before.relations if i not in after.relations]
    return changed, removed
