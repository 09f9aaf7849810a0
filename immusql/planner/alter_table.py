"""ALTER TABLE: columns (add, drop, rename, type, default, NOT NULL), constraints (add,
drop, rename; a new primary key re-keys the rows), and renaming tables and the other
relations ALTER TABLE / INDEX / SEQUENCE / VIEW ... RENAME TO reach.

Like the rest of the DDL (ddl.py), each change builds a new catalog snapshot, writes the
relations it changed into the statement's transaction, and leaves the data in place
unless the change needs it rewritten (a new key, a new type).
"""

from __future__ import annotations

from dataclasses import replace

from .. import errors
from ..parser import ast
from .catalog import relation_key
from .ddl import (
    _add_check,
    _add_fk,
    _add_primary_key,
    _add_unique,
    _check_default,
    _column,
    _commit_catalog,
    _find_relation_or_index,
    _result,
)
from .expr import ExprCompiler
from .types import type_from_name
from .writer import TableWriter


def alter_table(ctx, at: ast.AlterTable):
    cat = ctx.catalog
    if at.kind != "table" or [a.kind for a in at.actions] == ["rename_table"]:
        return _rename_relation(ctx, at)
    rel = cat.find(at.name, ctx.search_path, ("table",))
    if rel is None:
        if at.if_exists:
            from .session import Result
            return Result("ALTER TABLE",
                          notices=[f'relation "{at.name}" does not exist, skipping'])
        raise errors.UndefinedTable(f'relation "{at.name}" does not exist')
    before = cat
    for a in at.actions:
        rel, cat = _ALTER[a.kind](ctx, cat, rel, a)
        cat = cat.with_relation(rel)
        ctx.session.tx_catalog = cat
        ctx.catalog = cat
    from .views import changed_relations  # the table, new sequences, views that follow
    _commit_catalog(ctx, cat, *changed_relations(before, cat))
    return _result("ALTER TABLE")


def _add_column(ctx, cat, rel, a):
    cd = a.column
    if rel.column(cd.name) is not None:
        if a.if_not_exists or a.if_exists:
            return rel, cat
        raise errors.DuplicateColumn(f'column "{cd.name}" of relation "{rel.name}" already '
                                     "exists")
    col, seq, cat = _column(ctx, cat, rel.schema, rel.name, cd, rel.next_column_id)
    rel = replace(rel, columns=rel.columns + (col,), next_column_id=rel.next_column_id + 1)
    cat = cat.with_relation(rel)
    if seq is not None:
        ctx.tx.set(relation_key(seq.id), seq.to_msgpack())
    ctx.session.tx_catalog = ctx.catalog = cat
    # existing rows get the default (rows store values by column id; fill them now)
    writer = TableWriter(ctx, rel)
    default = writer.defaults()[-1]
    width = len(rel.columns) - 1
    for r in list(ctx.table_rows(rel)):
        old = r[:width] + (None,)
        new = r[:width] + (default(),)
        if new != old:
            writer.update(old, r[-1], new)
        elif col.not_null:
            raise errors.NotNullViolation(f'column "{col.name}" of relation "{rel.name}" '
                                          "contains null values")
    for con in cd.constraints:
        if con.kind == "primary_key":
            rel, cat = _add_primary_key(ctx, cat, rel, con.name, (cd.name,))
        elif con.kind == "unique":
            rel, cat = _add_unique(ctx, cat, rel, con.name, (cd.name,), build=True)
        elif con.kind == "check":
            rel = _add_check(ctx, rel, con.name, con.expr, cd.name)
        elif con.kind == "references":
            rel = _add_fk(ctx, cat, rel, con.name, (cd.name,), con.ref_table,
                          con.ref_columns, con.on_delete, con.on_update)
    return rel, cat


def _drop_column(ctx, cat, rel, a):
    col = rel.column(a.name)
    if col is None:
        if a.if_exists:
            return rel, cat
        raise errors.UndefinedColumn(f'column "{a.name}" of relation "{rel.name}" does not '
                                     "exist")
    if col.id in rel.primary_key and not a.cascade:
        raise errors.DependentObjectsStillExist(
            f"cannot drop column {a.name} of table {rel.name} because other objects depend "
            "on it")
    from .views import check_drop_column, mentions
    for v in check_drop_column(ctx, cat, rel, col, a.cascade):  # 2BP01, or CASCADE
        cat = cat.without_relation(v.id)
    from .index_ddl import without_column
    indexes = without_column(rel, col.id)
    checks = tuple(c for c in rel.checks  # as PostgreSQL, checks using it go with it
                   if c.column != col.id and not mentions(c.expr, col.name))
    fks = tuple(f for f in rel.foreign_keys if col.id not in f.columns)
    pk = rel.primary_key if col.id not in rel.primary_key else ()
    rel = replace(rel, columns=tuple(c for c in rel.columns if c.id != col.id),
                  indexes=indexes, checks=checks, foreign_keys=fks, primary_key=pk)
    return rel, cat


def _rename_column(ctx, cat, rel, a):
    col = rel.column(a.name)
    if col is None:
        raise errors.UndefinedColumn(f'column "{a.name}" does not exist')
    if rel.column(a.new_name) is not None:
        raise errors.DuplicateColumn(f'column "{a.new_name}" of relation "{rel.name}" '
                                     "already exists")
    cols = tuple(replace(c, name=a.new_name) if c.id == col.id else c for c in rel.columns)
    from .index_ddl import with_renamed_column
    from .views import renamed_column  # CHECKs and views follow the rename
    rel = replace(rel, columns=cols, indexes=with_renamed_column(rel, a.name, a.new_name))
    return renamed_column(ctx, cat, rel, col, a.new_name)


def _rename_table(ctx, cat, rel, a):
    if cat.name_taken(rel.schema, a.new_name):
        raise errors.DuplicateTable(f'relation "{a.new_name}" already exists')
    from .views import renamed_relation  # views reading it follow the rename
    return renamed_relation(ctx, cat, replace(rel, name=a.new_name), a.new_name)


def _add_constraint(ctx, cat, rel, a):
    tc = a.constraint
    if tc.kind == "primary_key":
        if rel.primary_key:
            raise errors.InvalidTableDefinition(
                f'multiple primary keys for table "{rel.name}" are not allowed')
        return _rekey(ctx, cat, rel, tc)
    if tc.kind == "unique":
        return _add_unique(ctx, cat, rel, tc.name, tc.columns, build=True)
    if tc.kind == "check":
        rel = _add_check(ctx, rel, tc.name, tc.expr, None)
        writer = TableWriter(ctx, rel)
        width = len(rel.columns)
        for r in ctx.table_rows(rel):
            try:
                writer.check(r[:width])
            except errors.CheckViolation as e:
                raise errors.CheckViolation(
                    f'check constraint "{rel.checks[-1].name}" of relation "{rel.name}" is '
                    "violated by some row") from e
        return rel, cat
    if tc.kind == "foreign_key":
        rel = _add_fk(ctx, cat, rel, tc.name, tc.columns, tc.ref_table, tc.ref_columns,
                      tc.on_delete, tc.on_update)
        writer = TableWriter(ctx, rel)
        width = len(rel.columns)
        for r in ctx.table_rows(rel):
            writer._check_parent(rel.foreign_keys[-1], r[:width])
        return rel, cat
    raise errors.FeatureNotSupported(f"ADD CONSTRAINT {tc.kind}")


def _rekey(ctx, cat, rel, tc):
    """ADD PRIMARY KEY to a table that had none: rows move to keys made of their values."""
    old_rows = list(ctx.table_rows(rel))
    width = len(rel.columns)
    old_writer = TableWriter(ctx, rel)
    for r in old_rows:
        old_writer.delete(r[:width], r[-1], check_children=False)
    new, cat = _add_primary_key(ctx, cat, rel, tc.name, tc.columns)
    ctx.session.tx_catalog = ctx.catalog = cat.with_relation(new)
    writer = TableWriter(ctx, new)
    for r in old_rows:
        row = r[:width]
        for cid in new.primary_key:
            if row[writer.codec.position[cid]] is None:
                col = new.column_by_id(cid)
                raise errors.NotNullViolation(f'column "{col.name}" of relation "{rel.name}" '
                                              "contains null values")
        try:
            writer.insert(row)
        except errors.UniqueViolation as e:  # as PostgreSQL's index build reports it
            pk = next(i for i in new.indexes if i.primary)
            if getattr(e, "constraint_name", None) != pk.name:
                raise
            detail = (e.detail or "").replace(" already exists.", " is duplicated.")
            raise errors.UniqueViolation(f'could not create unique index "{pk.name}"',
                                         detail=detail or None) from e
    return new, cat


def _drop_constraint(ctx, cat, rel, a):
    name = a.name
    if name not in rel.constraint_names():
        if a.if_exists:
            return rel, cat
        raise errors.UndefinedObject(f'constraint "{name}" of relation "{rel.name}" does not '
                                     "exist")
    pk = rel.primary_key
    idx = next((i for i in rel.indexes if i.constraint and i.name == name), None)
    if idx is not None:
        rel, cat = _drop_dependent_fks(ctx, cat, rel, idx, a.cascade)
    if idx is not None and idx.primary:
        return _unkey(ctx, cat, rel, idx)
    rel = replace(rel, indexes=tuple(i for i in rel.indexes if i.name != name),
                  checks=tuple(c for c in rel.checks if c.name != name),
                  foreign_keys=tuple(f for f in rel.foreign_keys if f.name != name),
                  primary_key=pk)
    return rel, cat


def _drop_dependent_fks(ctx, cat, rel, idx, cascade):
    """Foreign keys that need `idx` (the unique index matching their referenced columns)
    block dropping its constraint, or with CASCADE are dropped too (written here: they
    may be on other tables)."""
    others = [i for i in rel.indexes if i.unique and i.id != idx.id]
    deps = [(child, fk) for child, fk in cat.referencing(rel.id)
            if set(fk.ref_columns) == set(idx.columns)
            and not any(set(i.columns) == set(fk.ref_columns) for i in others)]
    if deps and not cascade:
        raise errors.DependentObjectsStillExist(
            f"cannot drop constraint {idx.name} on table {rel.name} because other objects "
            "depend on it",
            detail="\n".join(f"constraint {fk.name} on table {child.name} depends on index "
                             f"{idx.name}" for child, fk in deps),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    for child, fk in deps:
        if child.id == rel.id:
            rel = replace(rel, foreign_keys=tuple(f for f in rel.foreign_keys
                                                  if f.name != fk.name))
            continue
        child = cat.relations[child.id]
        child = replace(child, foreign_keys=tuple(f for f in child.foreign_keys
                                                  if f.name != fk.name))
        cat = cat.with_relation(child)
        ctx.tx.set(relation_key(child.id), child.to_msgpack())
    return rel, cat


def _unkey(ctx, cat, rel, idx):
    """DROP CONSTRAINT of the primary key: the table's rows move from keys made of their
    primary key values to hidden row ids (a table without a primary key), in this
    transaction, like PostgreSQL's table rewrite. The columns stay NOT NULL (as in
    PostgreSQL 15)."""
    old_rows = list(ctx.table_rows(rel))
    width = len(rel.columns)
    old_writer = TableWriter(ctx, rel)
    new = replace(rel, primary_key=(), indexes=tuple(i for i in rel.indexes
                                                     if i.id != idx.id))
    ctx.session.tx_catalog = ctx.catalog = cat.with_relation(new)
    writer = TableWriter(ctx, new)
    for r in old_rows:
        old_writer.delete(r[:width], r[-1], check_children=False)
    for r in old_rows:
        row = r[:width]
        writer._write(row, writer.key_for(row))
    return new, cat


def _rename_constraint(ctx, cat, rel, a):
    name, new_name = a.name, a.new_name
    if name not in rel.constraint_names():
        raise errors.UndefinedObject(f'constraint "{name}" for table "{rel.name}" does not '
                                     "exist")
    if any(i.constraint and i.name == name for i in rel.indexes) and \
            cat.name_taken(rel.schema, new_name):  # its index is renamed too
        raise errors.DuplicateTable(f'relation "{new_name}" already exists')
    if new_name in rel.constraint_names():
        raise errors.DuplicateObject(f'constraint "{new_name}" for relation "{rel.name}" '
                                     "already exists")
    return replace(
        rel, indexes=tuple(replace(i, name=new_name) if i.constraint and i.name == name
                           else i for i in rel.indexes),
        checks=tuple(replace(c, name=new_name) if c.name == name else c
                     for c in rel.checks),
        foreign_keys=tuple(replace(f, name=new_name) if f.name == name else f
                           for f in rel.foreign_keys)), cat



def _rename_relation(ctx, at: ast.AlterTable):
    """ALTER TABLE|INDEX|SEQUENCE|VIEW name RENAME TO new. As in PostgreSQL, ALTER TABLE
    and ALTER INDEX rename any relation; ALTER SEQUENCE and ALTER VIEW only their kind."""
    tag = f"ALTER {at.kind.upper()}"
    new_name = at.actions[0].new_name
    cat = ctx.catalog
    hit = _find_relation_or_index(cat, at.name, ctx.search_path)
    if hit is None:
        if at.if_exists:
            from .session import Result
            return Result(tag, notices=[f'relation "{at.name}" does not exist, skipping'])
        raise errors.UndefinedTable(f'relation "{at.name}" does not exist')
    rel, idx = hit
    if at.kind in ("sequence", "view") and (idx is not None or rel.kind != at.kind):
        raise errors.WrongObjectType(f'"{at.name.last}" is not a {at.kind}')
    if cat.name_taken(rel.schema, new_name):
        raise errors.DuplicateTable(f'relation "{new_name}" already exists')
    if idx is None:
        rel = replace(rel, name=new_name)
    else:
        if idx.constraint and new_name in rel.constraint_names():
            raise errors.DuplicateObject(f'constraint "{new_name}" for relation "{rel.name}" '
                                         "already exists")
        rel = replace(rel, indexes=tuple(replace(i, name=new_name) if i.id == idx.id else i
                                         for i in rel.indexes))
    if idx is None and rel.kind in ("table", "view", "sequence"):  # dependents follow
        from .views import changed_relations, renamed_relation, renamed_sequence
        old = cat
        if rel.kind == "sequence":
            cat = renamed_sequence(cat, rel, hit[0].name, new_name)
        else:
            rel, cat = renamed_relation(ctx, cat, rel, new_name)
        cat = cat.with_relation(rel)
        _commit_catalog(ctx, cat, *changed_relations(old, cat))
        return _result(tag)
    _commit_catalog(ctx, cat.with_relation(rel), [rel])
    return _result(tag)


def _set_column(ctx, cat, rel, a, **changes):
    col = rel.column(a.name)
    if col is None:
        raise errors.UndefinedColumn(f'column "{a.name}" of relation "{rel.name}" does not '
                                     "exist")
    if changes.get("not_null"):
        pos = rel.columns.index(col)
        for r in ctx.table_rows(rel):
            if r[pos] is None:
                raise errors.NotNullViolation(f'column "{col.name}" of relation "{rel.name}" '
                                              "contains null values")
    if "default" in changes and changes["default"] is not None:
        _check_default(ctx, changes["default"], col.type)
    cols = tuple(replace(c, **changes) if c.id == col.id else c for c in rel.columns)
    return replace(rel, columns=cols), cat


def _alter_type(ctx, cat, rel, a):
    col = rel.column(a.name)
    if col is None:
        raise errors.UndefinedColumn(f'column "{a.name}" does not exist')
    new_type = type_from_name(a.type)
    from . import casts
    from .writer import table_scope
    pos = rel.columns.index(col)
    using = None
    if a.expr is not None:  # ALTER ... TYPE t USING expr: computed from the old row
        comp = ExprCompiler(table_scope(rel, rel.name), ctx, clause="USING")
        c = comp.compile(a.expr)
        using = (comp.coerce(c, new_type, a.expr, "assignment") if c.type != new_type
                 else c).fn
    elif col.type != new_type and not casts.can_cast(col.type, new_type, "assignment"):
        raise errors.DatatypeMismatch(
            f'column "{col.name}" cannot be cast automatically to type '
            f"{_fmt_type(new_type)}",
            hint=f'You might need to specify "USING {col.name}::{_fmt_type(new_type)}".')
    new_rel = replace(rel, columns=tuple(replace(c, type=new_type) if c.id == col.id else c
                                         for c in rel.columns))
    width = len(rel.columns)
    rows = list(ctx.table_rows(rel))
    writer = TableWriter(ctx, new_rel)
    ctx._codecs.pop(rel.id, None)
    for r in rows:
        row = list(r[:width])
        if using is not None:
            row[pos] = using(r)
        elif row[pos] is not None:
            row[pos] = casts.cast(row[pos], col.type, new_type, False)
        writer.update(r[:width], r[-1], tuple(row))
    return new_rel, cat


def _fmt_type(t) -> str:
    from .types import format_type
    return format_type(t)


_ALTER = {
    "add_column": _add_column,
    "drop_column": _drop_column,
    "rename_column": _rename_column,
    "rename_table": _rename_table,
    "rename_constraint": _rename_constraint,
    "add_constraint": _add_constraint,
    "drop_constraint": _drop_constraint,
    "set_default": lambda ctx, cat, rel, a: _set_column(ctx, cat, rel, a, default=a.expr),
    "drop_default": lambda ctx, cat, rel, a: _set_column(ctx, cat, rel, a, default=None),
    "set_not_null": lambda ctx, cat, rel, a: _set_column(ctx, cat, rel, a, not_null=True),
    "drop_not_null": lambda ctx, cat, rel, a: _set_column(ctx, cat, rel, a, not_null=False),
    "alter_column_type": _alter_type,
    "owner": lambda ctx, cat, rel, a: (rel, cat),
}
