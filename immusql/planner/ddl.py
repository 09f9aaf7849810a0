"""DDL: CREATE/DROP of tables, sequences and views, COMMENT ON, and the helpers the other
DDL modules share (alter_table.py, index_ddl.py, views.py, schemas.py, enums.py).

A DDL statement builds a new catalog snapshot, writes the relations it changed (and the
catalog version) into the statement's transaction, and makes the new snapshot the
session's catalog until the transaction ends, so DDL and DML mix in one transaction.
Creating an index or a constraint over existing rows builds (and checks) it right away.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import errors
from ..parser import ast
from .catalog import (
    CATALOG_VERSION_KEY,
    Check,
    Column,
    ForeignKey,
    Index,
    Relation,
    relation_key,
)
from .expr import ExprCompiler
from .scope import Scope
from .types import INT2, INT4, INT8, type_from_name
from .writer import TableWriter

SERIALS = {"serial": INT4, "serial4": INT4, "bigserial": INT8, "serial8": INT8,
           "smallserial": INT2, "serial2": INT2}
SEQ_MAX = {INT2.oid: (1 << 15) - 1, INT4.oid: (1 << 31) - 1, INT8.oid: (1 << 63) - 1}


def _commit_catalog(ctx, cat, changed=(), removed=()):
    cat = replace(cat, version=cat.version + 1)
    for rel in changed:
        ctx.tx.set(relation_key(rel.id), rel.to_msgpack())
    for rel_id in removed:
        try:
            ctx.tx.delete(relation_key(rel_id))
        except KeyError:
            pass
    ctx.tx.set(CATALOG_VERSION_KEY, cat.version_value())
    ctx.session.plans.clear()
    ctx.session.tx_catalog = cat
    ctx.catalog = cat
    return cat


def _result(tag):
    from .session import Result
    return Result(tag)


def _schema_of(ctx, name: ast.Name) -> str:
    from .schemas import creation_schema
    return creation_schema(ctx, name)


# ------------------------------------------------------------------------ TABLE --------
def create_table(ctx, ct: ast.CreateTable):
    cat = ctx.catalog
    schema = _schema_of(ctx, ct.name)
    name = ct.name.last
    if cat.name_taken(schema, name):
        if ct.if_not_exists:
            return _result("CREATE TABLE")
        raise errors.DuplicateTable(f'relation "{name}" already exists')
    if any(e.schema == schema and e.name == name for e in cat.enums.values()):
        raise errors.DuplicateObject(f'type "{name}" already exists')  # the row type's
    if ct.as_query is not None:
        return _create_table_as(ctx, ct, schema)
    cat, (table_id,) = cat.allocate_ids(1)
    columns, sequences, checks, pk, uniques, fks = [], [], [], None, [], []
    like_indexes = []  # (source relation, Index) of LIKE ... INCLUDING INDEXES
    seen = set()
    for i, cd in enumerate(_with_likes(ctx, ct)):
        if cd.name in seen:
            raise errors.DuplicateColumn(f'column "{cd.name}" specified more than once')
        seen.add(cd.name)
        if isinstance(cd, _LikeColumn):
            col, seq, cat = _like_column(cat, schema, name, cd, i + 1)
            if seq is not None:
                sequences.append(seq)
            columns.append(col)
            src, inc = cd.source, cd.including
            if cd.first and "constraints" in inc:
                for chk in src.checks:
                    checks.append((chk.name, chk.expr, src.column_by_id(chk.column).name
                                   if chk.column is not None else None))
            if cd.first and "indexes" in inc:
                for idx in src.indexes:
                    if not idx.plain:
                        continue  # expression and partial indexes are not copied yet
                    names = tuple(src.column_by_id(c).name for c in idx.columns)
                    if idx.primary:
                        if pk is not None:
                            raise errors.InvalidTableDefinition(
                                f'multiple primary keys for table "{name}" are not allowed')
                        pk = (None, names)
                    elif idx.constraint:
                        uniques.append((None, names))
                    else:
                        like_indexes.append((names, idx))
            continue
        col, seq, cat = _column(ctx, cat, schema, name, cd, i + 1)
        if seq is not None:
            sequences.append(seq)
        for con in cd.constraints:
            if con.kind == "primary_key":
                if pk is not None:
                    raise errors.InvalidTableDefinition(
                        f'multiple primary keys for table "{name}" are not allowed')
                pk = (con.name, (cd.name,))
            elif con.kind == "unique":
                uniques.append((con.name, (cd.name,)))
            elif con.kind == "check":
                checks.append((con.name, con.expr, cd.name))
            elif con.kind == "references":
                fks.append((con.name, (cd.name,), con.ref_table, con.ref_columns,
                            con.on_delete, con.on_update))
        columns.append(col)
    for tc in ct.constraints:
        if tc.kind == "primary_key":
            if pk is not None:
                raise errors.InvalidTableDefinition(
                    f'multiple primary keys for table "{name}" are not allowed')
            pk = (tc.name, tc.columns)
        elif tc.kind == "unique":
            uniques.append((tc.name, tc.columns))
        elif tc.kind == "check":
            checks.append((tc.name, tc.expr, None))
        elif tc.kind == "foreign_key":
            fks.append((tc.name, tc.columns, tc.ref_table, tc.ref_columns, tc.on_delete,
                        tc.on_update))
    rel = Relation(table_id, schema, name, "table", tuple(columns),
                   next_column_id=len(columns) + 1)
    if pk is not None:
        rel, cat = _add_primary_key(ctx, cat, rel, pk[0], pk[1])
    for con_name, cols in uniques:
        rel, cat = _add_unique(ctx, cat, rel, con_name, cols)
    for con_name, expr, col in checks:
        rel = _add_check(ctx, rel, con_name, expr, col)
    for names, idx in like_indexes:
        cat = cat.with_relation(rel)  # so that the index names below see the ones before
        cat, (idx_id,) = cat.allocate_ids(1)
        idx_name = _free_name(cat, schema, f"{name}_{'_'.join(names)}_idx")
        rel = replace(rel, indexes=rel.indexes + (
            Index(idx_id, idx_name, _col_ids(rel, names), idx.unique,
                  descending=idx.descending),))
    cat = cat.with_relation(rel)
    for spec in fks:
        rel = _add_fk(ctx, cat, rel, *spec)
        cat = cat.with_relation(rel)
    for seq in sequences:
        seq = replace(seq, sequence={**seq.sequence, "owner": [table_id]})
        cat = cat.with_relation(seq)
    _commit_catalog(ctx, cat, [rel] + [cat.relations[s.id] for s in sequences])
    return _result("CREATE TABLE")


@dataclass(frozen=True)
class _LikeColumn:
    """A column CREATE TABLE copies from LIKE `source` (its `column`)."""

    name: str
    column: Column
    source: Relation
    including: tuple[str, ...]
    first: bool  # the LIKE clause's first column: its constraints and indexes go with it


def _with_likes(ctx, ct: ast.CreateTable) -> list:
    """The column definitions of CREATE TABLE with each LIKE clause's columns in its place
    (PostgreSQL's transformTableLikeClause)."""
    if not ct.likes:
        return list(ct.columns)
    out = list(ct.columns)
    for at, like in reversed(ct.likes):
        src = ctx.find_relation(like.source, like.pos)
        if src.kind not in ("table", "view"):
            raise errors.WrongObjectType(f'"{src.name}" is not a table, view, materialized '
                                         "view, composite type, or foreign table")
        cols = [_LikeColumn(c.name, c, src, like.including, i == 0)
                for i, c in enumerate(src.columns)]
        out[at:at] = cols
    return out


def _like_column(cat, schema, table, lc: _LikeColumn, col_id):
    """Name, type and NOT NULL always; the default with INCLUDING DEFAULTS (a serial's
    nextval of the source's sequence too), identity (with a new sequence) with INCLUDING
    IDENTITY, the comment with INCLUDING COMMENTS."""
    c, inc = lc.column, lc.including
    seq = None
    default, sequence, identity = None, None, None
    if "defaults" in inc:
        default = c.default
        if c.identity is None:
            sequence = c.sequence
    if c.identity is not None and "identity" in inc:
        cat, seq = _owned_sequence(cat, schema, f"{table}_{c.name}_seq", c.type)
        identity, sequence = c.identity, seq.id
    col = Column(col_id, c.name, c.type, c.not_null, default, identity, sequence,
                 c.comment if "comments" in inc else None)
    return col, seq, cat


def _create_table_as(ctx, ct, schema):
    from .select import QueryPlanner
    plan = QueryPlanner(ctx).plan_query(ct.as_query)
    cat, (table_id,) = ctx.catalog.allocate_ids(1)
    cols = tuple(Column(i + 1, c.name, c.type) for i, c in enumerate(plan.columns))
    rel = Relation(table_id, schema, ct.name.last, "table", cols, next_column_id=len(cols) + 1)
    _commit_catalog(ctx, cat.with_relation(rel), [rel])
    writer = TableWriter(ctx, rel)
    n = 0
    for row in plan.rows():
        writer.insert(tuple(row))
        n += 1
    from .session import Result
    return Result(f"SELECT {n}", rowcount=n)


def _column(ctx, cat, schema, table, cd: ast.ColumnDef, col_id):
    tname = cd.type.name
    seq = None
    not_null = False
    default = None
    identity = None
    if tname in SERIALS and not cd.type.array_dims:
        ctype = SERIALS[tname]
        cat, seq = _owned_sequence(cat, schema, f"{table}_{cd.name}_seq", ctype)
        not_null = True
    else:
        ctype = type_from_name(cd.type)
    for con in cd.constraints:
        if con.kind == "not_null" or con.kind == "primary_key":
            not_null = True
        elif con.kind == "default":
            _check_default(ctx, con.expr, ctype)
            default = con.expr
        elif con.kind == "identity":
            identity = "always" if con.always else "by default"
            not_null = True
            cat, seq = _owned_sequence(cat, schema, f"{table}_{cd.name}_seq", ctype,
                                       dict(con.sequence_options))
    col = Column(col_id, cd.name, ctype, not_null, default, identity,
                 seq.id if seq is not None else None)
    return col, seq, cat


def _check_default(ctx, expr, ctype) -> None:
    comp = ExprCompiler(Scope(), ctx, clause="DEFAULT")
    try:
        c = comp.compile(expr)
    except errors.UndefinedColumn as e:
        raise errors.FeatureNotSupported("cannot use column reference in DEFAULT expression"
                                         ) from e
    if c.type != ctype:
        comp.coerce(c, ctype, expr, "assignment")


def _owned_sequence(cat, schema, name, ctype, options=None):
    """The sequence behind a serial or identity column; `options` are an identity's
    sequence options (START WITH, INCREMENT BY, MINVALUE, MAXVALUE, CYCLE)."""
    cat, (seq_id,) = cat.allocate_ids(1)
    base, n = name, 1
    while cat.name_taken(schema, name):
        name = f"{base}{n}"
        n += 1
    o = options or {}
    top = SEQ_MAX.get(ctype.oid, (1 << 63) - 1)
    inc = o.get("increment") or 1
    lo = o["min_value"] if o.get("min_value") is not None else (1 if inc > 0 else -top - 1)
    hi = o["max_value"] if o.get("max_value") is not None else (top if inc > 0 else -1)
    start = o["start"] if o.get("start") is not None else (lo if inc > 0 else hi)
    if lo >= hi:
        raise errors.InvalidParameterValue(f"MINVALUE ({lo}) must be less than MAXVALUE ({hi})")
    seq = Relation(seq_id, schema, name, "sequence",
                   sequence={"start": start, "increment": inc, "min": lo, "max": hi,
                             "cycle": bool(o.get("cycle")), "type": ctype.oid})
    return cat.with_relation(seq), seq


def _col_ids(rel, names) -> tuple[int, ...]:
    ids = []
    for n in names:
        col = rel.column(n)
        if col is None:
            raise errors.UndefinedColumn(f'column "{n}" named in key does not exist')
        ids.append(col.id)
    return tuple(ids)


def _add_primary_key(ctx, cat, rel, con_name, names):
    ids = _col_ids(rel, names)
    cat, (idx_id,) = cat.allocate_ids(1)
    name = _claim_name(cat, rel, con_name) or _free_name(cat, rel.schema, f"{rel.name}_pkey")
    cols = tuple(replace(c, not_null=True) if c.id in ids else c for c in rel.columns)
    idx = Index(idx_id, name, ids, unique=True, primary=True, constraint=True)
    return replace(rel, columns=cols, primary_key=ids, indexes=rel.indexes + (idx,)), cat


def _add_unique(ctx, cat, rel, con_name, names, build: bool = False):
    ids = _col_ids(rel, names)
    cat, (idx_id,) = cat.allocate_ids(1)
    cols = "_".join(rel.column_by_id(i).name for i in ids)
    name = _claim_name(cat, rel, con_name) or \
        _free_name(cat, rel.schema, f"{rel.name}_{cols}_key")
    idx = Index(idx_id, name, ids, unique=True, constraint=True)
    new = replace(rel, indexes=rel.indexes + (idx,))
    if build:
        _build_index(ctx, new, idx)
    return new, cat


def _add_check(ctx, rel, con_name, expr, col_name):
    from .writer import table_scope
    ExprCompiler(table_scope(rel, rel.name), ctx, clause="CHECK").predicate(expr)
    base = f"{rel.name}_{col_name}_check" if col_name else f"{rel.name}_check"
    name = con_name or base
    n = 1
    while name in rel.constraint_names():
        name = f"{base}{n}"
        n += 1
    col_id = rel.column(col_name).id if col_name else None
    return replace(rel, checks=rel.checks + (Check(name, expr, col_id),))


def _add_fk(ctx, cat, rel, con_name, names, ref_table, ref_names, on_delete, on_update):
    ids = _col_ids(rel, names)
    parent = rel if ref_table.last == rel.name and (len(ref_table.parts) == 1 or
                                                    ref_table.parts[0] == rel.schema) \
        else cat.find(ref_table, ctx.search_path, ("table",))
    if parent is None:
        raise errors.UndefinedTable(f'relation "{ref_table}" does not exist')
    if ref_names:
        ref_ids = _col_ids(parent, ref_names)
    else:
        if not parent.primary_key:
            raise errors.InvalidForeignKey(
                f'there is no primary key for referenced table "{parent.name}"')
        ref_ids = parent.primary_key
    if len(ref_ids) != len(ids):
        raise errors.InvalidForeignKey("number of referencing and referenced columns for "
                                     "foreign key disagree")
    if not any(i.unique and i.plain and set(i.columns) == set(ref_ids)
               for i in parent.indexes):
        raise errors.InvalidForeignKey(
            "there is no unique constraint matching given keys for referenced table "
            f'"{parent.name}"')
    cols = "_".join(rel.column_by_id(i).name for i in ids)
    name = con_name or f"{rel.name}_{cols}_fkey"
    fk = ForeignKey(name, ids, parent.id, tuple(ref_ids), on_delete or "no action",
                    on_update or "no action")
    return replace(rel, foreign_keys=rel.foreign_keys + (fk,))


def _claim_name(cat, rel, name):
    """`name` for a new index of `rel` (None stays None); 42P07 if a relation or index of
    the schema has it already: PostgreSQL keeps them in one namespace."""
    if name is not None and (cat.name_taken(rel.schema, name) or name == rel.name or
                             any(i.name == name for i in rel.indexes)):
        raise errors.DuplicateTable(f'relation "{name}" already exists')
    return name


def _free_name(cat, schema, base):
    name, n = base, 1
    while cat.name_taken(schema, name):
        name = f"{base}{n}"
        n += 1
    return name


def _build_index(ctx, rel, idx) -> None:
    from .index_ddl import build_index
    build_index(ctx, rel, idx)


# ------------------------------------------------------------------------ DROP ---------
def drop(ctx, d: ast.Drop):
    tags = {"table": "DROP TABLE", "view": "DROP VIEW", "index": "DROP INDEX",
            "sequence": "DROP SEQUENCE", "schema": "DROP SCHEMA"}
    cat = ctx.catalog
    if d.kind == "type":
        from .enums import drop_types
        return drop_types(ctx, d)
    if d.kind == "schema":
        from .schemas import drop_schema
        return drop_schema(ctx, d)
    if d.kind == "index":
        from .index_ddl import drop_indexes
        return drop_indexes(ctx, d)
    kinds = {"table": ("table",), "view": ("view",), "sequence": ("sequence",)}[d.kind]
    removed, changed = [], []
    for n in d.names:
        rel = cat.find(n, ctx.search_path)
        if rel is None or rel.kind not in kinds:
            if rel is not None:
                raise errors.WrongObjectType(f'"{n.last}" is not a {d.kind}',
                                             hint=f"Use DROP {rel.kind.upper()} to remove a "
                                                  f"{rel.kind}.")
            if len(n.parts) == 2 and not cat.schema_exists(n.parts[0]):
                if d.if_exists:
                    continue
                raise errors.InvalidSchemaName(f'schema "{n.parts[0]}" does not exist')
            if d.if_exists:
                continue
            raise errors.UndefinedTable(f'{d.kind} "{n.last}" does not exist')
        for child, fk in cat.referencing(rel.id):
            if child.id == rel.id or child.id in removed:
                continue
            if not d.cascade:
                raise errors.DependentObjectsStillExist(
                    f"cannot drop table {rel.name} because other objects depend on it",
                    detail=f"constraint {fk.name} on table {child.name} depends on table "
                           f"{rel.name}", hint="Use DROP ... CASCADE to drop the dependent "
                                               "objects too.")
            child = replace(child, foreign_keys=tuple(f for f in child.foreign_keys
                                                      if f.ref_table != rel.id))
            cat = cat.with_relation(child)
            changed.append(child)
        from .views import check_drop  # views reading it: 2BP01, or dropped by CASCADE
        named = {r.id for r in (cat.find(x, ctx.search_path) for x in d.names) if r}
        removed += [v.id for v in check_drop(ctx, cat, rel, d.cascade, named)]
        removed.append(rel.id)
        for col in rel.columns:
            if col.sequence is not None and col.sequence in cat.relations:
                removed.append(col.sequence)
        for rid in removed:
            cat = cat.without_relation(rid)
    changed = [c for c in changed if c.id not in removed]
    _commit_catalog(ctx, cat, changed, removed)
    return _result(tags[d.kind])


# ------------------------------------------------------------------------ INDEX --------
def create_index(ctx, ci: ast.CreateIndex):
    from .index_ddl import create_index
    return create_index(ctx, ci)


def _find_relation_or_index(cat, name, search_path):
    """(relation, index or None) that `name` names in the relation namespace, or None."""
    rel = cat.find(name, search_path)
    if rel is not None:
        return rel, None
    return cat.find_index(name, search_path)


# ------------------------------------------------------------------------ VIEW / SEQ ----
def create_view(ctx, cv: ast.CreateView):
    from .views import create_view as create
    create(ctx, cv, _schema_of(ctx, cv.name), _commit_catalog)
    return _result("CREATE VIEW")


def create_sequence(ctx, cs: ast.CreateSequence):
    cat = ctx.catalog
    schema = _schema_of(ctx, cs.name)
    if cat.name_taken(schema, cs.name.last):
        if cs.if_not_exists:
            return _result("CREATE SEQUENCE")
        raise errors.DuplicateTable(f'relation "{cs.name.last}" already exists')
    inc = cs.increment or 1
    lo = cs.min_value if cs.min_value is not None else (1 if inc > 0 else -(1 << 63))
    hi = cs.max_value if cs.max_value is not None else ((1 << 63) - 1 if inc > 0 else -1)
    start = cs.start if cs.start is not None else (lo if inc > 0 else hi)
    cat, (rel_id,) = cat.allocate_ids(1)
    rel = Relation(rel_id, schema, cs.name.last, "sequence",
                   sequence={"start": start, "increment": inc, "min": lo, "max": hi,
                             "cycle": cs.cycle, "type": INT8.oid})
    _commit_catalog(ctx, cat.with_relation(rel), [rel])
    return _result("CREATE SEQUENCE")


def create_schema(ctx, cs: ast.CreateSchema):
    from .schemas import create_schema as create
    return create(ctx, cs)


def alter_schema(ctx, a: ast.AlterSchema):
    from .schemas import alter_schema as alter
    return alter(ctx, a)


# ------------------------------------------------------------------------ COMMENT ------
_COMMENT_KIND_WORDS = {"table": "a table", "view": "a view", "sequence": "a sequence",
                       "index": "an index", "materialized view": "a materialized view"}


def comment(ctx, c: ast.Comment):
    """COMMENT ON: the description is stored on the catalog object (relation, column,
    index, constraint; schemas in the catalog version entry), so it is transactional
    like other DDL and goes away with its object. '' removes a comment, as NULL does."""
    text = c.text or None
    if c.kind in ("database", "role"):
        return ctx.session.cluster.execute(c, ctx.session)
    if c.kind == "type":
        from .enums import comment_type
        return comment_type(ctx, c, text)
    if c.kind in ("function", "extension"):
        return _result("COMMENT")  # built-in objects only: accepted and ignored
    cat = ctx.catalog
    if c.kind == "schema":
        return _comment_schema(ctx, cat, c.name.last, text)
    if c.kind == "column" and not c.name.parts:
        raise errors.SyntaxError("column name must be qualified")
    hit = _find_relation_or_index(cat, c.name, ctx.search_path)
    if hit is None:
        raise errors.UndefinedTable(f'relation "{c.name}" does not exist')
    rel, idx = hit
    if c.kind == "column":
        if idx is not None or rel.kind == "sequence":
            what = "indexes" if idx is not None else "sequences"
            raise errors.WrongObjectType(
                f'cannot set comment on relation "{c.name.last}"',
                detail=f"This operation is not supported for {what}.")
        col = rel.column(c.column)
        if col is None:
            raise errors.UndefinedColumn(f'column "{c.column}" of relation "{rel.name}" does '
                                         "not exist")
        rel = replace(rel, columns=tuple(replace(x, comment=text) if x.id == col.id else x
                                         for x in rel.columns))
    elif c.kind == "constraint":
        if idx is not None or c.constraint not in rel.constraint_names():
            raise errors.UndefinedObject(f'constraint "{c.constraint}" for table '
                                         f'"{c.name.last}" does not exist')
        name = c.constraint
        rel = replace(
            rel, indexes=tuple(replace(i, constraint_comment=text)
                               if i.constraint and i.name == name else i
                               for i in rel.indexes),
            checks=tuple(replace(x, comment=text) if x.name == name else x
                         for x in rel.checks),
            foreign_keys=tuple(replace(f, comment=text) if f.name == name else f
                               for f in rel.foreign_keys))
    elif c.kind == "index":
        if idx is None:
            raise errors.WrongObjectType(f'"{c.name.last}" is not an index')
        rel = replace(rel, indexes=tuple(replace(i, comment=text) if i.id == idx.id else i
                                         for i in rel.indexes))
    else:  # table, view, sequence, materialized view
        if idx is not None or rel.kind != c.kind:
            raise errors.WrongObjectType(f'"{c.name.last}" is not '
                                         f"{_COMMENT_KIND_WORDS[c.kind]}")
        rel = replace(rel, comment=text)
    _commit_catalog(ctx, cat.with_relation(rel), [rel])
    return _result("COMMENT")


def _comment_schema(ctx, cat, name, text):
    if not cat.schema_exists(name) and name != "pg_toast":
        raise errors.InvalidSchemaName(f'schema "{name}" does not exist')
    comments = dict(cat.schema_comments)
    comments[name] = text
    _commit_catalog(ctx, replace(cat, schema_comments=comments))
    return _result("COMMENT")
