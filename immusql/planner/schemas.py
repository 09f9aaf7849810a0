"""CREATE / DROP / ALTER SCHEMA, and where an unqualified CREATE puts its object.

User schemas are kept in the catalog version entry (`Catalog.schemas`: name -> (OID,
owner)), so schema DDL is a catalog change like any other: written in the statement's
transaction and rolled back with it. Relations name their schema; renaming a schema moves
them and rewrites stored queries and defaults that spelled the old name (PostgreSQL stores
OIDs, which a rename keeps).
"""

from __future__ import annotations

from dataclasses import replace

from .. import errors
from ..parser import ast
from .catalog import DEFAULT_SCHEMA, SYSTEM_SCHEMAS

_CURRENT = ("CURRENT_USER", "CURRENT_ROLE", "SESSION_USER")
_KIND_WORD = {"table": "table", "view": "view", "sequence": "sequence"}


def _result(tag, notices=()):
    from .session import Result
    return Result(tag, notices=list(notices))


def _commit(ctx, cat, changed=(), removed=()):
    from .ddl import _commit_catalog
    return _commit_catalog(ctx, cat, changed, removed)


def _role(ctx, spec) -> tuple[int, str]:
    """(OID, name) of a role_spec; the current user when absent."""
    from .syscat.resolver import role_oid
    name = ctx.session.user if spec is None or spec in _CURRENT else spec
    oid = role_oid(ctx, name)
    if oid is None:
        raise errors.UndefinedObject(f'role "{name}" does not exist')
    return oid, name


def _check_reserved(name: str) -> None:
    if name.startswith("pg_"):
        raise errors.ReservedName(f'unacceptable schema name "{name}"',
                                  detail='The prefix "pg_" is reserved for system schemas.')


def _missing(name: str):
    return errors.InvalidSchemaName(f'schema "{name}" does not exist')


# ------------------------------------------------------------------ creation target -----
def creation_schema(ctx, name: ast.Name, pos: int | None = None) -> str:
    """The schema CREATE puts `name` in: its qualifier, else the first schema of the
    search path that exists (PostgreSQL's RangeVarGetCreationNamespace)."""
    if len(name.parts) >= 2:
        schema = name.parts[-2]
    else:
        path = ctx.search_path
        if not path:
            raise errors.InvalidSchemaName("no schema has been selected to create in",
                                           position=pos)
        schema = path[0]
    if schema in SYSTEM_SCHEMAS:
        raise errors.InsufficientPrivilege(
            f'permission denied to create "{schema}.{name.last}"',
            detail="System catalog modifications are currently disallowed.")
    if not ctx.catalog.schema_exists(schema):
        raise errors.InvalidSchemaName(f'schema "{schema}" does not exist', position=pos)
    return schema


def check_qualifier(ctx, name: ast.Name) -> None:
    """3F000 when `name` is qualified by a schema that does not exist (DROP, ALTER)."""
    if len(name.parts) == 2 and not ctx.catalog.schema_exists(name.parts[0]):
        raise _missing(name.parts[0])


# ------------------------------------------------------------------ CREATE SCHEMA -------
def create_schema(ctx, cs: ast.CreateSchema):
    owner, owner_name = _role(ctx, cs.authorization)
    name = cs.name or owner_name
    _check_reserved(name)
    cat = ctx.catalog
    if cat.schema_exists(name) or name == "pg_toast":
        if cs.if_not_exists:
            return _result("CREATE SCHEMA", [f'schema "{name}" already exists, skipping'])
        raise errors.DuplicateSchema(f'schema "{name}" already exists')
    cat, (oid,) = cat.allocate_ids(1)
    schemas = dict(cat.schemas)
    schemas[name] = (oid, owner)
    _commit(ctx, replace(cat, schemas=schemas))
    return _result("CREATE SCHEMA")


# ------------------------------------------------------------------ DROP SCHEMA ---------
def drop_schema(ctx, d: ast.Drop):
    cat = ctx.catalog
    notices, names = [], []
    for n in d.names:
        if len(n.parts) != 1:
            raise errors.SyntaxError("schema name cannot be qualified")
        name = n.last
        if name == "pg_catalog":
            raise errors.DependentObjectsStillExist(
                "cannot drop schema pg_catalog because it is required by the database system")
        if name == "information_schema":
            raise errors.DependentObjectsStillExist(
                "cannot drop schema information_schema because other objects depend on it",
                hint="Use DROP ... CASCADE to drop the dependent objects too.")
        if name == DEFAULT_SCHEMA:
            raise errors.FeatureNotSupported("dropping schema public is not supported")
        if name not in cat.schemas:
            if d.if_exists:
                notices.append(f'schema "{name}" does not exist, skipping')
                continue
            raise _missing(name)
        if name not in names:
            names.append(name)
    if not names:
        return _result("DROP SCHEMA", notices)
    from .enums import in_schema
    members = sorted((r for r in cat.relations.values() if r.schema in names),
                     key=lambda r: r.id)
    types = [e for n in names for e in in_schema(cat, n)]
    owned = {c.sequence for r in members for c in r.columns if c.sequence is not None}
    listed = sorted([(r.id, _KIND_WORD.get(r.kind, r.kind), r.schema, r.name)
                     for r in members if r.id not in owned] +
                    [(e.oid, "type", e.schema, e.name) for e in types])
    lines = [f"{kind} {schema}.{name} depends on schema {schema}"
             for _id, kind, schema, name in listed]
    removed = {r.id for r in members}
    _check_type_users(cat, types, removed, d.cascade)
    changed = {}
    # objects elsewhere that depend on what goes: views reading it, foreign keys to it
    from .views import dependent_views
    pending = list(members)
    while pending:
        rel = pending.pop(0)
        for view in dependent_views(ctx, cat, rel.id):
            if view.id not in removed:
                removed.add(view.id)
                pending.append(view)
                lines.append(f"view {view.schema}.{view.name} depends on "
                             f"{_KIND_WORD.get(rel.kind, rel.kind)} {rel.schema}.{rel.name}")
    for rel in list(cat.relations.values()):
        if rel.id in removed:
            continue
        fks = tuple(f for f in rel.foreign_keys if f.ref_table not in removed)
        if len(fks) != len(rel.foreign_keys):
            for f in rel.foreign_keys:
                if f.ref_table in removed:
                    ref = cat.relations[f.ref_table]
                    lines.append(f"constraint {f.name} on table {rel.schema}.{rel.name} "
                                 f"depends on table {ref.schema}.{ref.name}")
            changed[rel.id] = replace(rel, foreign_keys=fks)
    if lines and not d.cascade:
        what = (f"schema {names[0]}" if len(names) == 1 else "desired object(s)")
        them = "it" if len(names) == 1 else "them"
        raise errors.DependentObjectsStillExist(
            f"cannot drop {what} because other objects depend on {them}",
            detail="\n".join(lines),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    if lines:
        cascaded = [ln.split(" depends on ")[0] for ln in lines]
        notices.append(f"drop cascades to {cascaded[0]}" if len(cascaded) == 1
                       else f"drop cascades to {len(cascaded)} other objects")
    for rid in removed:
        cat = cat.without_relation(rid)
    for e in types:
        cat = cat.without_enum(e.oid)
    for rel in changed.values():
        cat = cat.with_relation(rel)
    schemas = {k: v for k, v in cat.schemas.items() if k not in names}
    comments = {k: v for k, v in cat.schema_comments.items() if k not in names}
    _commit(ctx, replace(cat, schemas=schemas, schema_comments=comments),
            list(changed.values()), sorted(removed))
    return _result("DROP SCHEMA", notices)


def _check_type_users(cat, types, removed, cascade) -> None:
    """A type of the dropped schema used by a column that stays: PostgreSQL reports it
    (2BP01) or drops the column (CASCADE), which is not done here (0A000)."""
    from .enums import _users
    for e in types:
        for rel, col in _users(cat, e.oid):
            if rel.id in removed:
                continue
            if not cascade:
                raise errors.DependentObjectsStillExist(
                    f"cannot drop schema {e.schema} because other objects depend on it",
                    detail=f"column {col.name} of table {rel.schema}.{rel.name} depends on "
                           f"type {e.schema}.{e.name}",
                    hint="Use DROP ... CASCADE to drop the dependent objects too.")
            raise errors.FeatureNotSupported(
                f"DROP SCHEMA {e.schema} CASCADE would drop column {col.name} of table "
                f"{rel.schema}.{rel.name}: drop the column first")


# ------------------------------------------------------------------ ALTER SCHEMA --------
def alter_schema(ctx, a: ast.AlterSchema):
    cat = ctx.catalog
    old = a.name
    if not cat.schema_exists(old):
        raise _missing(old)
    if old in (DEFAULT_SCHEMA,) + SYSTEM_SCHEMAS:
        raise errors.FeatureNotSupported(f"altering schema {old} is not supported")
    schemas = dict(cat.schemas)
    if a.owner is not None:
        owner, _name = _role(ctx, a.owner)
        schemas[old] = (schemas[old][0], owner)
        _commit(ctx, replace(cat, schemas=schemas))
        return _result("ALTER SCHEMA")
    new = a.new_name
    if cat.schema_exists(new) or new == "pg_toast":
        raise errors.DuplicateSchema(f'schema "{new}" already exists')
    _check_reserved(new)
    schemas[new] = schemas.pop(old)
    comments = dict(cat.schema_comments)
    if old in comments:
        comments[new] = comments.pop(old)
    changed = []
    for rel in cat.relations.values():
        moved = _renamed_in(rel, old, new)
        if rel.schema == old:
            moved = replace(moved, schema=new)
        if moved is not rel:
            changed.append(moved)
    for rel in changed:
        cat = cat.with_relation(rel)
    from .enums import with_schema_renamed
    cat = with_schema_renamed(cat, old, new)  # after: it retypes the columns using them
    changed = [cat.relations[r.id] for r in changed]
    _commit(ctx, replace(cat, schemas=schemas, schema_comments=comments), changed)
    return _result("ALTER SCHEMA")


_SEQUENCE_FUNCTIONS = ("nextval", "currval", "setval")


def _renamed_in(rel, old: str, new: str):
    """`rel` with the names its stored query, defaults and checks qualify by schema
    `old` spelled with `new` (the same relation object when nothing changed)."""
    from .fn_text import quote_ident
    from .views import rewrite

    def literal(lit):
        if not (isinstance(lit, ast.Literal) and isinstance(lit.value, str)):
            return None
        parts = lit.value.split(".")
        if len(parts) != 2 or parts[0].strip('"') != old:
            return None
        return replace(lit, value=f"{quote_ident(new)}.{parts[1]}")

    def fix(n):
        if isinstance(n, ast.TableRef) and len(n.name.parts) >= 2 and \
                n.name.parts[-2] == old:
            parts = n.name.parts
            return replace(n, name=ast.Name(parts[:-2] + (new, parts[-1])))
        if isinstance(n, ast.ColumnRef) and len(n.parts) >= 3 and n.parts[-3] == old:
            return replace(n, parts=n.parts[:-3] + (new,) + n.parts[-2:])
        if isinstance(n, ast.Star) and n.table and len(n.table) >= 2 and \
                n.table[-2] == old:
            return replace(n, table=n.table[:-2] + (new, n.table[-1]))
        if isinstance(n, ast.Cast) and isinstance(n.operand, ast.Literal):
            lit = literal(n.operand)
            if lit is not None and _is_regclass(n):
                return replace(n, operand=lit)
        if isinstance(n, ast.FuncCall) and n.name.last.lower() in _SEQUENCE_FUNCTIONS \
                and n.args:
            arg = n.args[0]
            inner = arg.operand if isinstance(arg, ast.Cast) else arg
            lit = literal(inner)
            if lit is not None:
                arg = replace(arg, operand=lit) if isinstance(arg, ast.Cast) else lit
                return replace(n, args=(arg,) + tuple(rewrite(x, fix) for x in n.args[1:]))
        return None

    out = rel
    if rel.view_query is not None:
        q = rewrite(rel.view_query, fix)
        if q is not rel.view_query:
            out = replace(out, view_query=q)
    cols = tuple(replace(c, default=rewrite(c.default, fix)) if c.default is not None
                 else c for c in rel.columns)
    if any(a is not b for a, b in zip(cols, rel.columns)):
        out = replace(out, columns=cols)
    checks = tuple(replace(c, expr=rewrite(c.expr, fix)) for c in rel.checks)
    if any(a.expr is not b.expr for a, b in zip(checks, rel.checks)):
        out = replace(out, checks=checks)
    return out


def _is_regclass(cast) -> bool:
    t = getattr(cast, "type", None)
    name = getattr(t, "name", None)
    return str(name).lower() == "regclass"
