"""CREATE INDEX and DROP INDEX: column, expression and partial indexes.

An index is built over the existing rows right away (a unique one refuses duplicates,
23505 "could not create unique index"), in the same transaction as its catalog entry.
Expressions and predicates are checked as PostgreSQL does (IMMUTABLE functions only, no
subqueries or aggregates) and stored unqualified; see index_exprs.py.
"""

from __future__ import annotations

from dataclasses import replace

from .. import errors
from ..parser import ast
from . import index_exprs
from .catalog import Index
from .tables import index_entry, unique_probe


def create_index(ctx, ci: ast.CreateIndex):
    from .ddl import _commit_catalog, _free_name, _result
    cat = ctx.catalog
    rel = ctx.find_relation(ci.table, ci.pos)
    if rel.kind != "table":
        raise errors.WrongObjectType(f'"{rel.name}" is not a table')
    ids, desc, exprs = [], [], []
    for ic in ci.columns:
        e = ic.expr
        if isinstance(e, ast.ColumnRef) and len(e.parts) == 1:
            col = rel.column(e.parts[-1])
            if col is None:
                raise errors.UndefinedColumn(f'column "{e.parts[-1]}" does not exist')
            ids.append(col.id)
            exprs.append(None)
        else:
            e = index_exprs.unqualified(e, rel.name)
            index_exprs.check_expression(e, "expression")
            ids.append(0)
            exprs.append(e)
        desc.append(ic.descending)
    predicate = None
    if ci.where is not None:
        predicate = index_exprs.unqualified(ci.where, rel.name)
        index_exprs.check_expression(predicate, "predicate")
    name = ci.name
    if name is None:
        name = _free_name(cat, rel.schema, f"{rel.name}_{_default_stem(rel, ids, exprs)}_idx")
    elif cat.name_taken(rel.schema, name):
        if ci.if_not_exists:
            return _result("CREATE INDEX")
        raise errors.DuplicateTable(f'relation "{name}" already exists')
    cat, (idx_id,) = cat.allocate_ids(1)
    idx = Index(idx_id, name, tuple(ids), ci.unique,
                descending=tuple(desc) if any(desc) else (),
                exprs=tuple(exprs) if any(e is not None for e in exprs) else (),
                predicate=predicate)
    rel = replace(rel, indexes=rel.indexes + (idx,))
    if not idx.plain:  # compiling reports unknown columns and a non-boolean WHERE
        ctx.codec(rel).index_eval(idx)
    build_index(ctx, rel, idx)
    _commit_catalog(ctx, cat.with_relation(rel), [rel])
    return _result("CREATE INDEX")


def _default_stem(rel, ids, exprs) -> str:
    """PostgreSQL's ChooseIndexColumnNames: column names, a function's name, else 'expr'."""
    parts = []
    for cid, e in zip(ids, exprs):
        if e is None:
            parts.append(rel.column_by_id(cid).name)
        elif isinstance(e, ast.FuncCall):
            parts.append(e.name.last)
        else:
            parts.append("expr")
    return "_".join(parts)


def build_index(ctx, rel, idx) -> None:
    """Index entries for every existing row (checking uniqueness for a unique index)."""
    codec = ctx.codec(rel)
    width = len(rel.columns)
    for r in ctx.table_rows(rel):
        row, key = r[:width], r[-1]
        if idx.unique:
            probe = unique_probe(idx, codec, row)
            if probe is not None:
                try:
                    ctx.tx.get(probe)
                    raise errors.UniqueViolation(
                        f'could not create unique index "{idx.name}"',
                        detail=f"Key ({index_exprs.key_names(rel, idx)}) is duplicated.")
                except KeyError:
                    pass
        entry = index_entry(rel, idx, codec, row, key)
        if entry is not None:
            ctx.tx.set(*entry)


def drop_indexes(ctx, d: ast.Drop):
    """DROP INDEX [IF EXISTS] names: only indexes not backing a constraint."""
    from .ddl import _commit_catalog, _result
    cat = ctx.catalog
    changed = []
    for n in d.names:
        hit = cat.find_index(n, ctx.search_path)
        if hit is None:
            if d.if_exists:
                continue
            raise errors.UndefinedObject(f'index "{n}" does not exist')
        rel, idx = hit
        if idx.constraint:
            raise errors.DependentObjectsStillExist(
                f'cannot drop index {idx.name} because constraint {idx.name} on table '
                f"{rel.name} requires it")
        rel = replace(rel, indexes=tuple(i for i in rel.indexes if i.id != idx.id))
        cat = cat.with_relation(rel)
        changed.append(rel)
    _commit_catalog(ctx, cat, changed)
    return _result("DROP INDEX")


def without_column(rel, col_id: int) -> tuple:
    """The indexes of `rel` that survive dropping a column (PostgreSQL drops those that
    read it, expression and predicate included)."""
    return tuple(i for i in rel.indexes
                 if col_id not in index_exprs.referenced_columns(rel, i))


def with_renamed_column(rel, old: str, new: str) -> tuple:
    """Indexes with stored expressions that name column `old` rewritten to `new`."""
    out = []
    for i in rel.indexes:
        if not i.plain:
            i = replace(i, exprs=tuple(None if e is None else
                                       index_exprs.renamed_column(e, old, new)
                                       for e in i.exprs),
                        predicate=None if i.predicate is None else
                        index_exprs.renamed_column(i.predicate, old, new))
        out.append(i)
    return tuple(out)
