"""DDL of enum types: CREATE TYPE ... AS ENUM, ALTER TYPE, DROP TYPE.

Why its own module: enum types live in the catalog's version entry (Catalog.enums), not in
relation entries, and their changes follow PostgreSQL's pg_enum rules: label OIDs never
change (rows store them, so RENAME VALUE rewrites no row), sort orders never change
either (index keys hold them), and ADD VALUE BEFORE/AFTER takes the float4 midpoint of its
neighbours' sort orders as PostgreSQL does.
"""

from __future__ import annotations

from dataclasses import replace

from .. import errors
from ..parser import ast
from .enumtypes import float4, make_enum

NAMEDATALEN = 64


def _result(tag, notices=()):
    from .session import Result
    return Result(tag, notices=list(notices)) if notices else Result(tag)


def _commit(ctx, cat, changed=(), removed=()):
    from .ddl import _commit_catalog
    return _commit_catalog(ctx, cat, changed, removed)


def _check_label(label: str) -> None:
    if len(label.encode()) > NAMEDATALEN - 1:
        raise errors.InvalidParameterValue(
            f'invalid enum label "{label}"',
            detail=f"Labels must be {NAMEDATALEN - 1} bytes or less.")


def find_enum(ctx, name: ast.Name):
    """The EnumType `name` names (schema-qualified or by search_path), or None."""
    parts = name.parts
    schemas = (parts[-2],) if len(parts) >= 2 else tuple(ctx.search_path)
    for s in schemas:
        for e in ctx.catalog.enums.values():
            if e.schema == s and e.name == parts[-1]:
                return e
    return None


def _type_name_taken(cat, schema: str, name: str) -> bool:
    """Enum types and the row types of tables and views share pg_type's namespace."""
    if any(e.schema == schema and e.name == name for e in cat.enums.values()):
        return True
    return any(r.schema == schema and r.name == name and r.kind in ("table", "view")
               for r in cat.relations.values())


def _lookup(ctx, name: ast.Name):
    e = find_enum(ctx, name)
    if e is None:
        raise errors.UndefinedObject(f'type "{name}" does not exist')
    return e


# ------------------------------------------------------------------------ CREATE -------
def create_enum(ctx, ce: ast.CreateEnum):
    from .ddl import _schema_of
    cat = ctx.catalog
    schema = _schema_of(ctx, ce.name)
    name = ce.name.last
    if _type_name_taken(cat, schema, name):
        raise errors.DuplicateObject(f'type "{name}" already exists')
    seen = set()
    for label in ce.labels:
        _check_label(label)
        if label in seen:  # PostgreSQL: pg_enum's unique index on (type, label)
            raise errors.UniqueViolation('duplicate key value violates unique constraint '
                                         '"pg_enum_typid_label_index"')
        seen.add(label)
    cat, ids = cat.allocate_ids(2 + len(ce.labels))
    labels = [(ids[2 + i], label, float(i + 1)) for i, label in enumerate(ce.labels)]
    cat = cat.with_enum(make_enum(ids[0], schema, name, ids[1], labels))
    _commit(ctx, cat)
    return _result("CREATE TYPE")


# ------------------------------------------------------------------------ ALTER --------
def alter_type(ctx, at: ast.AlterType):
    e = _lookup(ctx, at.name)
    if at.action == "owner":
        return _result("ALTER TYPE")
    if at.action == "rename":
        if _type_name_taken(ctx.catalog, e.schema, at.new_value):
            raise errors.DuplicateObject(f'type "{at.new_value}" already exists')
        new = replace(e, name=at.new_value)
    elif at.action == "rename_value":
        new = _rename_value(e, at.value, at.new_value)
    else:
        new, notice = _add_value(ctx, e, at)
        if new is None:
            return _result("ALTER TYPE", [notice])
    cat = ctx.catalog
    if at.action == "add_value":
        cat, (label_id,) = cat.allocate_ids(1)
        new = replace(new, labels=tuple((label_id if i is None else i, lab, o)
                                        for i, lab, o in new.labels))
    cat = cat.with_enum(new)
    changed = []
    if at.action == "rename_value":
        cat, changed = _relabel_constants(cat, new, at.value, at.new_value)
    _commit(ctx, cat, changed)
    return _result("ALTER TYPE")


def _relabel_constants(cat, e, old: str, new: str):
    """RENAME VALUE in stored DEFAULT and CHECK expressions: PostgreSQL stores their enum
    constants as the label's OID, immusql stores the literal, so a literal that is the
    enum's (a DEFAULT of an enum column, an operand compared with or cast to one) follows
    the rename. (catalog, changed relations)."""
    from .views import rewrite

    def lit(n):
        return isinstance(n, ast.Literal) and n.kind == "string" and n.value == old

    def fixed(n):
        return replace(n, value=new) if lit(n) else n

    changed = []
    for rel in list(cat.relations.values()):
        cols = {c.name for c in rel.columns
                if c.type.oid == e.oid or (c.type.element is not None and
                                          c.type.element.oid == e.oid)}
        if not cols:
            continue

        def is_col(n, cols=cols):
            return isinstance(n, ast.ColumnRef) and n.parts[-1] in cols

        def fn(n):
            if isinstance(n, ast.Cast) and lit(n.operand) and \
                    n.type.name.split(".")[-1] == e.name:
                return replace(n, operand=fixed(n.operand))
            if isinstance(n, ast.BinaryOp) and (is_col(n.left) or is_col(n.right)):
                return replace(n, left=fixed(n.left), right=fixed(n.right)) \
                    if lit(n.left) or lit(n.right) else None
            if isinstance(n, ast.InList) and is_col(n.operand):
                return replace(n, items=tuple(fixed(i) for i in n.items))
            if isinstance(n, ast.Between) and is_col(n.operand):
                return replace(n, low=fixed(n.low), high=fixed(n.high))
            return None

        columns = tuple(replace(c, default=rewrite(fixed(c.default), fn))
                        if c.name in cols and c.default is not None else c
                        for c in rel.columns)
        checks = tuple(replace(k, expr=rewrite(k.expr, fn)) for k in rel.checks)
        if columns != rel.columns or checks != rel.checks:
            rel = replace(rel, columns=columns, checks=checks)
            cat = cat.with_relation(rel)
            changed.append(rel)
    return cat, changed


def _labels(e) -> list[str]:
    return [lab for _, lab, _ in e.labels]


def _rename_value(e, old: str, new: str):
    if old not in _labels(e):
        raise errors.InvalidParameterValue(f'"{old}" is not an existing enum label')
    if new in _labels(e):
        raise errors.DuplicateObject(f'enum label "{new}" already exists')
    _check_label(new)
    return replace(e, labels=tuple((i, new if lab == old else lab, o)
                                   for i, lab, o in e.labels))


def _add_value(ctx, e, at: ast.AlterType):
    """(the type with the new label (its OID still None), None) or (None, notice)."""
    label = at.value
    _check_label(label)
    if label in _labels(e):
        if at.if_not_exists:
            return None, f'enum label "{label}" already exists, skipping'
        raise errors.DuplicateObject(f'enum label "{label}" already exists')
    orders = [o for _, _, o in e.labels]
    if at.neighbor is None:  # PostgreSQL: the last sort order + 1
        order = orders[-1] + 1 if orders else 1.0
    else:
        where, nbr = at.neighbor
        if nbr not in _labels(e):
            raise errors.InvalidParameterValue(f'"{nbr}" is not an existing enum label')
        k = _labels(e).index(nbr)
        other = k - 1 if where == "before" else k + 1
        if not 0 <= other < len(orders):  # before the first / after the last: -1 / +1
            order = orders[k] + (1 if where == "after" else -1)
        else:  # between two neighbours: their midpoint, in float4 as PostgreSQL's
            order = float4((orders[k] + orders[other]) / 2)
        if order in orders:  # PostgreSQL renumbers here; immusql's keys hold orders
            raise errors.FeatureNotSupported(
                f'no room left in the sort order of enum {e.name} before "{nbr}"'
                if where == "before" else
                f'no room left in the sort order of enum {e.name} after "{nbr}"')
    return replace(e, labels=tuple(sorted(e.labels + ((None, label, order),),
                                          key=lambda x: x[2]))), None


def comment_type(ctx, c: ast.Comment, text: str | None):
    """COMMENT ON TYPE: kept on an enum type; accepted and ignored for built-in types."""
    e = find_enum(ctx, c.name)
    if e is None:
        if _builtin(c.name):
            return _result("COMMENT")
        raise errors.UndefinedObject(f'type "{c.name}" does not exist')
    _commit(ctx, ctx.catalog.with_enum(replace(e, comment=text)))
    return _result("COMMENT")


# ------------------------------------------------------------------------ DROP ---------
def _users(cat, oid: int):
    """(relation, column) pairs whose column is of the enum type or an array of it."""
    out = []
    for rel in sorted(cat.relations.values(), key=lambda r: r.id):
        if rel.kind != "table":
            continue
        for c in rel.columns:
            if c.type.oid == oid or (c.type.element is not None and
                                     c.type.element.oid == oid):
                out.append((rel, c))
    return out


def drop_types(ctx, d: ast.Drop):
    from . import alter_table
    cat = ctx.catalog
    notices, targets = [], []
    for n in d.names:
        e = find_enum(ctx, n)
        if e is None:
            if _builtin(n):
                raise errors.DependentObjectsStillExist(
                    f"cannot drop type {n} because it is required by the database system")
            if d.if_exists:
                notices.append(f'type "{n}" does not exist, skipping')
                continue
            raise errors.UndefinedObject(f'type "{n}" does not exist')
        targets.append(e)
    changed = {}
    for e in targets:
        users = _users(cat, e.oid)
        if users and not d.cascade:
            lines = [f"column {c.name} of table {r.name} depends on type {e.name}"
                     for r, c in users]
            raise errors.DependentObjectsStillExist(
                f"cannot drop type {e.name} because other objects depend on it",
                detail="\n".join(lines),
                hint="Use DROP ... CASCADE to drop the dependent objects too.")
        if len(users) == 1:
            notices.append(f"drop cascades to column {users[0][1].name} of table "
                           f"{users[0][0].name}")
        elif users:
            notices.append(f"drop cascades to {len(users)} other objects")
        for rel, col in users:
            rel = cat.relations[rel.id]
            action = ast.AlterAction("drop_column", name=col.name, cascade=True)
            rel, cat = alter_table._ALTER["drop_column"](ctx, cat, rel, action)
            cat = cat.with_relation(rel)
            changed[rel.id] = rel
        cat = cat.without_enum(e.oid)
    _commit(ctx, cat, list(changed.values()))
    return _result("DROP TYPE", notices)


def _builtin(n: ast.Name) -> bool:
    from .types import _ALIASES
    return (len(n.parts) == 1 or n.parts[0] == "pg_catalog") and n.last in _ALIASES


# ------------------------------------------------------------------ schemas -------------
def in_schema(cat, schema: str) -> list:
    """The enum types of `schema` (DROP SCHEMA: dependents, dropped by CASCADE)."""
    return sorted((e for e in cat.enums.values() if e.schema == schema), key=lambda e: e.oid)


def with_schema_renamed(cat, old: str, new: str):
    """The catalog with `old`'s enum types moved to `new` (ALTER SCHEMA ... RENAME TO)."""
    for e in in_schema(cat, old):
        cat = cat.with_enum(replace(e, schema=new))
    return cat


__all__ = ["create_enum", "alter_type", "drop_types", "find_enum", "comment_type",
           "in_schema", "with_schema_renamed"]
