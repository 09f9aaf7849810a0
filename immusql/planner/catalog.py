"""The SQL catalog: tables, columns, indexes, constraints, views and sequences.

The catalog lives in the verifiable store like the rows do: one KV entry per relation, so
every schema change is a transaction in the log and can be proven. A `Catalog` is an
immutable snapshot built from those entries; DDL makes a changed copy and writes the
relations it touched, plus the catalog version entry that tells other sessions their
cached snapshot is stale.

Key layout (inside the store's plain key space; see docs/sql-format.md)::

    b"V"                      -> msgpack {"version": int, "next_id": int}
    b"C" + u32(relation id)   -> msgpack relation descriptor (see Relation.to_msgpack)
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field, replace

import msgpack

from .. import errors
from ..parser import ast
from .astcodec import decode_node, encode_node
from .types import SqlType, type_by_oid

CATALOG_VERSION_KEY = b"V"
RELATION_PREFIX = b"C"
_U32 = struct.Struct(">I")

FIRST_RELATION_ID = 16384  # PostgreSQL's FirstNormalObjectId: user OIDs start here
DEFAULT_SCHEMA = "public"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


def relation_key(rel_id: int) -> bytes:
    return RELATION_PREFIX + _U32.pack(rel_id)


@dataclass(frozen=True)
class Column:
    id: int  # stable: rows store values by column id, so renames and drops are cheap
    name: str
    type: SqlType
    not_null: bool = False
    default: ast.Expr | None = None
    identity: str | None = None  # 'always' | 'by default'
    sequence: int | None = None  # owned sequence (serial / identity)
    comment: str | None = None  # COMMENT ON COLUMN


@dataclass(frozen=True)
class Index:
    id: int  # relation id of the index (its own OID)
    name: str
    columns: tuple[int, ...]  # column ids
    unique: bool = False
    primary: bool = False
    descending: tuple[bool, ...] = ()
    constraint: bool = False  # created by a UNIQUE / PRIMARY KEY constraint
    comment: str | None = None  # COMMENT ON INDEX
    constraint_comment: str | None = None  # COMMENT ON CONSTRAINT (PK / UNIQUE)
    # expression indexes: per key, None (the column in `columns`) or the expression (its
    # `columns` entry is 0, as PostgreSQL's indkey); () when every key is a column
    exprs: tuple = ()
    predicate: ast.Expr | None = None  # partial index: CREATE INDEX ... WHERE predicate

    @property
    def plain(self) -> bool:
        """Keys are columns and every row is indexed (foreign keys, ON CONFLICT use it)."""
        return self.predicate is None and not any(e is not None for e in self.exprs)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[int, ...]
    ref_table: int
    ref_columns: tuple[int, ...]
    on_delete: str = "no action"
    on_update: str = "no action"
    comment: str | None = None  # COMMENT ON CONSTRAINT


@dataclass(frozen=True)
class Check:
    name: str
    expr: ast.Expr
    column: int | None = None  # a column constraint names its column
    comment: str | None = None  # COMMENT ON CONSTRAINT


@dataclass(frozen=True)
class Relation:
    """A table, view or sequence (PostgreSQL's pg_class row, roughly)."""

    id: int
    schema: str
    name: str
    kind: str  # 'table' (r), 'view' (v), 'sequence' (S)
    columns: tuple[Column, ...] = ()
    primary_key: tuple[int, ...] = ()  # column ids; () -> hidden row id
    indexes: tuple[Index, ...] = ()
    checks: tuple[Check, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    next_column_id: int = 1
    view_query: ast.Query | None = None
    sequence: dict = field(default_factory=dict)  # start, increment, min, max, cycle, owner
    comment: str | None = None  # COMMENT ON TABLE / VIEW / SEQUENCE
    check_option: str | None = None  # a view's WITH 'local' | 'cascaded' CHECK OPTION

    # -- lookups ------------------------------------------------------------------------
    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def column_by_id(self, col_id: int) -> Column:
        for c in self.columns:
            if c.id == col_id:
                return c
        raise KeyError(col_id)

    @property
    def qualified(self) -> str:
        return self.name if self.schema == DEFAULT_SCHEMA else f"{self.schema}.{self.name}"

    def constraint_names(self) -> set[str]:
        names = {i.name for i in self.indexes if i.constraint}
        names |= {c.name for c in self.checks} | {f.name for f in self.foreign_keys}
        return names

    # -- persistence --------------------------------------------------------------------
    def to_msgpack(self) -> bytes:
        d = {
            "id": self.id, "schema": self.schema, "name": self.name, "kind": self.kind,
            "columns": [[c.id, c.name, c.type.oid, c.type.typmod, c.not_null,
                         encode_node(c.default), c.identity, c.sequence] for c in self.columns],
            "pk": list(self.primary_key),
            "indexes": [[i.id, i.name, list(i.columns), i.unique, i.primary,
                         list(i.descending), i.constraint] for i in self.indexes],
            "checks": [[c.name, encode_node(c.expr), c.column] for c in self.checks],
            "fks": [[f.name, list(f.columns), f.ref_table, list(f.ref_columns), f.on_delete,
                     f.on_update] for f in self.foreign_keys],
            "next_col": self.next_column_id,
            "view": encode_node(self.view_query),
            "seq": self.sequence,
        }
        # COMMENT ON ...: optional keys, written only when there is a comment, so a
        # relation without any encodes as it did before comments existed
        if self.comment is not None:
            d["comment"] = self.comment
        if self.check_option is not None:  # optional, like the comments
            d["check_option"] = self.check_option
        cols = {c.id: c.comment for c in self.columns if c.comment is not None}
        if cols:
            d["col_comments"] = cols
        idx = {i.id: i.comment for i in self.indexes if i.comment is not None}
        if idx:
            d["idx_comments"] = idx
        cons = {i.name: i.constraint_comment for i in self.indexes
                if i.constraint_comment is not None}
        cons.update({c.name: c.comment for c in self.checks if c.comment is not None})
        cons.update({f.name: f.comment for f in self.foreign_keys if f.comment is not None})
        if cons:
            d["con_comments"] = cons
        # expression and partial indexes: optional too, keyed by index id
        exprs = {i.id: [encode_node(e) for e in i.exprs] for i in self.indexes if i.exprs}
        if exprs:
            d["idx_exprs"] = exprs
        preds = {i.id: encode_node(i.predicate) for i in self.indexes
                 if i.predicate is not None}
        if preds:
            d["idx_preds"] = preds
        return msgpack.packb(d, use_bin_type=True)

    @classmethod
    def from_msgpack(cls, data: bytes, enums=None) -> "Relation":
        d = msgpack.unpackb(data, raw=False, strict_map_key=False)
        col_c, idx_c = d.get("col_comments") or {}, d.get("idx_comments") or {}
        con_c = d.get("con_comments") or {}
        ix_e, ix_p = d.get("idx_exprs") or {}, d.get("idx_preds") or {}
        return cls(
            id=d["id"], schema=d["schema"], name=d["name"], kind=d["kind"],
            columns=tuple(Column(cid, name, type_from_oid(oid, typmod, enums), nn, decode_node(df),
                                 ident, seq, col_c.get(cid))
                          for cid, name, oid, typmod, nn, df, ident, seq in d["columns"]),
            primary_key=tuple(d["pk"]),
            indexes=tuple(Index(i, n, tuple(cols), u, p, tuple(desc), con, idx_c.get(i),
                                con_c.get(n) if con else None,
                                tuple(decode_node(e) for e in ix_e.get(i, ())),
                                decode_node(ix_p.get(i)))
                          for i, n, cols, u, p, desc, con in d["indexes"]),
            checks=tuple(Check(n, decode_node(e), c, con_c.get(n)) for n, e, c in d["checks"]),
            foreign_keys=tuple(ForeignKey(n, tuple(c), r, tuple(rc), od, ou, con_c.get(n))
                               for n, c, r, rc, od, ou in d["fks"]),
            next_column_id=d["next_col"], view_query=decode_node(d["view"]),
            sequence=d["seq"] or {}, comment=d.get("comment"),
            check_option=d.get("check_option"))


@dataclass(frozen=True)
class Catalog:
    """An immutable snapshot of every relation, with name lookups."""

    version: int = 0
    next_id: int = FIRST_RELATION_ID
    relations: dict[int, Relation] = field(default_factory=dict)
    # COMMENT ON SCHEMA: schema name -> description, None where the comment was removed
    # (a built-in schema then loses its built-in description); absent: the built-in one
    schema_comments: dict[str, str | None] = field(default_factory=dict)
    # CREATE SCHEMA: user schema name -> (namespace OID, owner role OID); the built-in
    # schemas (public, pg_catalog, information_schema) are not listed
    schemas: dict[str, tuple[int, int]] = field(default_factory=dict)
    # CREATE TYPE ... AS ENUM: type OID -> EnumType (planner/enumtypes.py, label table)
    enums: dict = field(default_factory=dict)

    @classmethod
    def load(cls, entries) -> "Catalog":
        """Build from (key, value) pairs of the catalog key space."""
        version, next_id, rels, schema_comments = 0, FIRST_RELATION_ID, {}, {}
        schemas, enums, rel_values = {}, {}, []
        for key, value in entries:
            if key == CATALOG_VERSION_KEY:
                d = msgpack.unpackb(value)
                version, next_id = d["version"], d["next_id"]
                schema_comments = dict(d.get("schema_comments") or {})
                schemas = {n: (oid, owner) for n, (oid, owner)
                           in (d.get("schemas") or {}).items()}
                enums = load_enums(d.get("enums"))
            elif key.startswith(RELATION_PREFIX):
                rel_values.append(value)
        for value in rel_values:  # after the version entry: columns may use its enums
            rel = Relation.from_msgpack(value, enums)
            rels[rel.id] = rel
        return cls(version, next_id, rels, schema_comments, schemas, enums=enums)

    def version_value(self) -> bytes:
        d = {"version": self.version, "next_id": self.next_id}
        if self.schema_comments:  # optional: absent in catalogs without schema comments
            d["schema_comments"] = self.schema_comments
        if self.schemas:  # optional too: absent while only the built-in schemas exist
            d["schemas"] = {n: list(v) for n, v in self.schemas.items()}
        if self.enums:  # optional: absent in catalogs without enum types
            d["enums"] = dump_enums(self.enums)
        return msgpack.packb(d)

    def schema_exists(self, name: str) -> bool:
        return name in self.schemas or name == DEFAULT_SCHEMA or name in SYSTEM_SCHEMAS \
            or name in self._relation_schemas

    @functools.cached_property
    def _relation_schemas(self) -> frozenset:
        """Schemas relations name: catalogs written before CREATE SCHEMA existed may
        hold tables in a schema they never created; those schemas still exist."""
        return frozenset(r.schema for r in self.relations.values())

    # -- lookups ------------------------------------------------------------------------
    def find(self, name: ast.Name, search_path=(DEFAULT_SCHEMA,), kinds=None) -> Relation | None:
        parts = name.parts
        if len(parts) > 2:
            if len(parts) == 3 and parts[0] not in ("immusql",):
                raise errors.FeatureNotSupported(
                    f"cross-database references are not implemented: {name}")
            parts = parts[1:]
        schemas = (parts[0],) if len(parts) == 2 else tuple(search_path)
        relname = parts[-1]
        for schema in schemas:
            for rel in self.relations.values():
                if rel.schema == schema and rel.name == relname and (
                        kinds is None or rel.kind in kinds):
                    return rel
        return None

    def find_index(self, name: ast.Name, search_path=(DEFAULT_SCHEMA,)):
        """(table, index) of an index by name."""
        schemas = (name.parts[0],) if len(name.parts) == 2 else tuple(search_path)
        for rel in self.relations.values():
            if rel.schema in schemas:
                for idx in rel.indexes:
                    if idx.name == name.last:
                        return rel, idx
        return None

    def name_taken(self, schema: str, name: str) -> bool:
        """PostgreSQL keeps tables, views, sequences and indexes in one namespace."""
        for rel in self.relations.values():
            if rel.schema == schema and (rel.name == name or
                                         any(i.name == name for i in rel.indexes)):
                return True
        return False

    def referencing(self, table_id: int) -> list[tuple[Relation, ForeignKey]]:
        """Every foreign key that points at `table_id` (self-references included)."""
        return [(rel, fk) for rel in self.relations.values() for fk in rel.foreign_keys
                if fk.ref_table == table_id]

    # -- changes (return new snapshots) ----------------------------------------------------
    def allocate_ids(self, n: int = 1) -> tuple["Catalog", list[int]]:
        ids = list(range(self.next_id, self.next_id + n))
        return replace(self, next_id=self.next_id + n), ids

    def with_relation(self, rel: Relation) -> "Catalog":
        rels = dict(self.relations)
        rels[rel.id] = rel
        return replace(self, relations=rels)

    def without_relation(self, rel_id: int) -> "Catalog":
        rels = dict(self.relations)
        rels.pop(rel_id, None)
        return replace(self, relations=rels)

    def with_enum(self, enum) -> "Catalog":
        """The enum type added or changed; columns using it get the new EnumType (their
        stored form, the type OID, does not change)."""
        enums = dict(self.enums)
        enums[enum.oid] = enum
        rels = {rid: _retyped(rel, enum) for rid, rel in self.relations.items()}
        return replace(self, enums=enums, relations=rels)

    def without_enum(self, oid: int) -> "Catalog":
        enums = dict(self.enums)
        enums.pop(oid, None)
        return replace(self, enums=enums)


def _retyped(rel: Relation, enum) -> Relation:
    def fix(t):
        if t.element is not None and t.element.oid == enum.oid:
            from .types import array_of
            return array_of(enum)
        return enum if t.oid == enum.oid else t
    if not any(fix(c.type) is not c.type for c in rel.columns):
        return rel
    return replace(rel, columns=tuple(replace(c, type=fix(c.type)) for c in rel.columns))


def load_enums(doc) -> dict:
    """The version entry's optional "enums": [[type oid, schema, name, array oid,
    [[label oid, label, sortorder], ...] (, comment)], ...] (docs/sql-format.md)."""
    from .enumtypes import make_enum
    return {e[0]: make_enum(*e[:5], comment=e[5] if len(e) > 5 else None)
            for e in doc or ()}


def dump_enums(enums: dict) -> list:
    return [[e.oid, e.schema, e.name, e.typarray, [list(x) for x in e.labels]]
            + ([e.comment] if e.comment is not None else [])
            for e in sorted(enums.values(), key=lambda e: e.oid)]


def type_from_oid(oid: int, typmod: int, enums=None) -> SqlType:
    if enums and oid >= FIRST_RELATION_ID:  # a user-defined enum (or its array type)
        for e in enums.values():
            if oid == e.oid:
                return e
            if oid == e.typarray:
                from .types import array_of
                return array_of(e)
    t = type_by_oid(oid)
    return t if typmod == -1 else t.with_typmod(typmod)
