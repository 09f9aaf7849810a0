"""What PostgreSQL's catalogs would hold for one catalog snapshot, before it becomes rows.

`CatalogModel(catalog)` walks the user relations once and derives what PostgreSQL keeps
but our catalog does not name: namespaces with OIDs, each table's row type, constraints
(primary key, unique, check, foreign key) with OIDs and attribute numbers, and column
defaults (a serial column's is `nextval('t_id_seq'::regclass)`). A catalog snapshot is
immutable, so the model (and the rows built from it, `rows_cache`) is computed once per
snapshot and shared by every statement that sees it (`model_of`).

Attribute numbers are column ids: stable across ALTER TABLE, with gaps where columns were
dropped, like PostgreSQL's attnum.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .. import types as T
from ..catalog import DEFAULT_SCHEMA
from . import oids, pgdata

BUILTIN_NAMESPACES = {name: oid for oid, name, _owner in pgdata.NAMESPACES}


@dataclass
class ConInfo:
    """One pg_constraint row's worth of facts."""

    oid: int
    name: str
    contype: str  # p u f c
    rel: object  # the Relation it is on
    keys: tuple[int, ...]  # conkey: attnums (for a check: the columns it mentions)
    index: object = None  # the Index of a p/u constraint
    fk: object = None  # catalog.ForeignKey
    ref_rel: object = None
    ref_keys: tuple[int, ...] = ()
    ref_index_oid: int = 0  # the referenced table's unique index (conindid of a FK)
    check: object = None  # catalog.Check


@dataclass
class AttrDef:
    oid: int
    rel: object
    column: object
    bin: str  # adbin: the expression as pg_get_expr prints it without pretty


@dataclass
class CatalogModel:
    catalog: object
    namespaces: list = field(default_factory=list)  # (oid, name, owner-or-None)
    ns_oid: dict = field(default_factory=dict)
    relations: list = field(default_factory=list)  # user relations by id
    by_oid: dict = field(default_factory=dict)  # relation id -> Relation
    index_by_oid: dict = field(default_factory=dict)  # index id -> (Relation, Index)
    rowtype: dict = field(default_factory=dict)  # relation id -> (type oid, array oid)
    rowtype_rel: dict = field(default_factory=dict)  # type oid -> Relation (arrays too)
    constraints: list = field(default_factory=list)
    con_by_oid: dict = field(default_factory=dict)
    attrdefs: list = field(default_factory=list)
    attrdef_of: dict = field(default_factory=dict)  # (rel id, col id) -> AttrDef
    has_triggers: set = field(default_factory=set)  # FK on either side: relhastriggers
    # (relation id, stored expression text) -> its pretty form; stored texts (adbin,
    # conbin) are the non-pretty print, pg_get_expr(..., true) looks the pretty one up
    pretty_of: dict = field(default_factory=dict)
    rows_cache: dict = field(default_factory=dict)
    lock: object = field(default_factory=threading.Lock)

    def namespace_of(self, rel) -> int:
        return self.ns_oid.get(rel.schema, oids.PUBLIC_NS)

    def relation(self, oid: int):
        """A user relation or index by OID: (Relation, Index-or-None) or None."""
        rel = self.by_oid.get(oid)
        if rel is not None:
            return rel, None
        return self.index_by_oid.get(oid)


def _build(catalog) -> CatalogModel:
    from .deparse import Deparser, default_text
    m = CatalogModel(catalog)
    counter = iter(range(oids.SYNTHETIC_BASE, 1 << 31))
    rels = sorted(catalog.relations.values(), key=lambda r: r.id)
    m.relations = rels
    schemas = getattr(catalog, "schemas", {})  # CREATE SCHEMA: (oid, owner) by name
    user_schemas = sorted({r.schema for r in rels} - set(BUILTIN_NAMESPACES) - set(schemas))
    for oid, name, owner in pgdata.NAMESPACES:
        m.namespaces.append((oid, name, owner))
    for name, (oid, owner) in sorted(schemas.items(), key=lambda kv: kv[1][0]):
        m.namespaces.append((oid, name, owner))
    for name in user_schemas:
        m.namespaces.append((next(counter), name, None))
    m.ns_oid = {name: oid for oid, name, _ in m.namespaces}
    m.ns_oid.setdefault(DEFAULT_SCHEMA, oids.PUBLIC_NS)
    for rel in rels:
        m.by_oid[rel.id] = rel
        for idx in rel.indexes:
            m.index_by_oid[idx.id] = (rel, idx)
            if idx.predicate is not None:  # pg_get_expr(indpred, indrelid, true)
                from ..index_exprs import predicate_sql
                try:
                    m.pretty_of[(rel.id, predicate_sql(rel, idx))] = \
                        predicate_sql(rel, idx, True)
                except Exception:  # printing never breaks the catalog
                    pass
    for rel in rels:
        if rel.kind in ("table", "view"):
            pair = (next(counter), next(counter))
            m.rowtype[rel.id] = pair
            m.rowtype_rel[pair[0]] = rel
            m.rowtype_rel[pair[1]] = rel
        if rel.kind != "table":
            continue
        for idx in rel.indexes:  # primary key and unique constraints, in creation order
            if idx.constraint:
                con = ConInfo(next(counter), idx.name, "p" if idx.primary else "u", rel,
                              tuple(idx.columns), index=idx)
                m.constraints.append(con)
        for chk in rel.checks:
            m.constraints.append(ConInfo(next(counter), chk.name, "c", rel,
                                         _check_columns(rel, chk), check=chk))
            try:
                m.pretty_of[(rel.id, Deparser(rel, False).sql(chk.expr))] = \
                    Deparser(rel, True).sql(chk.expr)
            except Exception:  # printing never breaks the catalog
                pass
        for fk in rel.foreign_keys:
            ref = catalog.relations.get(fk.ref_table)
            ref_index = 0
            if ref is not None:
                for idx in ref.indexes:
                    if idx.unique and set(idx.columns) == set(fk.ref_columns):
                        ref_index = idx.id
                        break
                m.has_triggers.add(ref.id)
            m.has_triggers.add(rel.id)
            m.constraints.append(ConInfo(next(counter), fk.name, "f", rel, tuple(fk.columns),
                                         fk=fk, ref_rel=ref, ref_keys=tuple(fk.ref_columns),
                                         ref_index_oid=ref_index))
        for col in rel.columns:
            text = default_text(catalog, rel, col, pretty=False)
            if text is not None:
                d = AttrDef(next(counter), rel, col, text)
                m.attrdefs.append(d)
                m.attrdef_of[(rel.id, col.id)] = d
                m.pretty_of[(rel.id, text)] = default_text(catalog, rel, col, pretty=True)
    m.con_by_oid = {c.oid: c for c in m.constraints}
    return m


def _check_columns(rel, chk) -> tuple[int, ...]:
    """conkey of a check constraint: the columns its expression mentions, in column
    order (PostgreSQL collects them from the expression)."""
    from ...parser import ast
    from ..walk import children
    names = set()

    def walk(node):
        if isinstance(node, ast.ColumnRef):
            names.add(node.parts[-1])
        for c in children(node):
            walk(c)
    walk(chk.expr)
    return tuple(c.id for c in rel.columns if c.name in names)


_CACHE: list = []  # [(catalog, model)], most recent first
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def model_of(catalog) -> CatalogModel:
    """The model of a catalog snapshot (computed once per snapshot)."""
    with _CACHE_LOCK:
        for cat, model in _CACHE:
            if cat is catalog:
                return model
    model = _build(catalog)
    with _CACHE_LOCK:
        _CACHE.insert(0, (catalog, model))
        del _CACHE[_CACHE_SIZE:]
    return model


# ---------------------------------------------------------------------- type facts --

_TYPE_ROWS = {row[0]: row for row in pgdata.TYPES}


def type_row(oid: int):
    """pg_type's row (pgdata.TYPES layout) of a built-in type, or None."""
    return _TYPE_ROWS.get(oid)


def storage_of(t: T.SqlType) -> tuple[int, bool, str, str]:
    """(typlen, typbyval, typalign, typstorage) of a column type."""
    row = _TYPE_ROWS.get(t.oid)
    if row is None and t.category == "E":  # an enum: a 4-byte pass-by-value OID
        return (4, True, "i", "p")
    if row is None:
        return (-1, False, "d", "x")
    return (row[4], row[5], row[22], row[23])


def collation_of(t: T.SqlType) -> int:
    """attcollation / indcollation of a column of type t."""
    if t.element is not None and t.oid not in T.VECTOR_OIDS:
        return oids.COLLATABLE.get(t.element.oid, 0)
    return oids.COLLATABLE.get(t.oid, 0)


_DEFAULT_BTREE = {}
for _row in pgdata.OPCLASSES:
    if _row[1] == oids.BTREE_AM and _row[7]:
        _DEFAULT_BTREE.setdefault(_row[6], _row[0])


def default_opclass(t: T.SqlType) -> int:
    """The default btree operator class PostgreSQL picks for an index column of type t."""
    if t.element is not None and t.oid not in T.VECTOR_OIDS:
        return _DEFAULT_BTREE.get(2277, 0)  # array_ops
    got = _DEFAULT_BTREE.get(t.oid)
    if got is None and t.oid in (T.VARCHAR.oid, T.NAME.oid):
        got = _DEFAULT_BTREE.get(T.TEXT.oid)  # varchar columns use text_ops
    return got or 0
