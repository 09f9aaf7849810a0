"""The system relations: what exists in pg_catalog and information_schema, with which
columns, and PostgreSQL's name resolution for them.

Each system relation is a `SystemRelation` (a catalog `Relation` the planner can name) with
PostgreSQL 15's OID, relkind and columns from pgdata.py. Its rows come either from a row
builder (a Python function over the catalog snapshot and the session; `builders.py`) or from
SQL text over other system relations (`views.py`), parsed and planned like any view.

Name resolution follows PostgreSQL: pg_catalog is searched first unless the search path
names it, information_schema only when qualified or listed in the search path, so a user
table called pg_class never shadows the catalog and `relation "x" does not exist` stays
the error for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...parser import ast
from .. import types as T
from ..catalog import Column, Relation
from . import oids, pgdata

SYSTEM_SCHEMAS = {"pg_catalog": oids.PG_CATALOG_NS, "information_schema":
                  oids.INFORMATION_SCHEMA_NS}
SYSTEM_TABLE, SYSTEM_VIEW = "system table", "system view"


@dataclass(frozen=True)
class SystemRelation(Relation):
    """A relation of pg_catalog or information_schema (kind 'system table' / 'system
    view'): rows from `builder` (a builders.py name) or from `view_sql`."""

    relkind: str = "r"
    namespace: int = oids.PG_CATALOG_NS
    reltype: int = 0
    rowtype_array: int = 0
    shared: bool = False  # pg_database & co. live cluster-wide (pg_global tablespace)
    view_sql: str | None = None

    @property
    def column_types(self) -> list[T.SqlType]:
        return [c.type for c in self.columns]


# catalogs PostgreSQL shares between databases (relisshared, tablespace pg_global)
_SHARED = {"pg_database", "pg_auth_members", "pg_tablespace", "pg_shdescription",
           "pg_shdepend", "pg_authid", "pg_db_role_setting"}


def column_type(oid: int, typmod: int) -> T.SqlType:
    if oid == 2277:
        from ..overload import ANYARRAY
        return ANYARRAY
    t = T.type_by_oid(oid)
    return t if typmod == -1 else t.with_typmod(typmod)


_REGISTRY: dict[tuple[str, str], SystemRelation] | None = None
_BY_OID: dict[int, SystemRelation] = {}


def _build() -> dict[tuple[str, str], SystemRelation]:
    from .views import VIEW_SQL
    out = {}
    for schema, name, oid, relkind, reltype, rowarr, cols in pgdata.RELATIONS:
        columns = tuple(Column(i + 1, cname, column_type(toid, typmod), notnull)
                        for i, (cname, toid, typmod, notnull, _coll) in enumerate(cols))
        sql = VIEW_SQL.get((schema, name))
        rel = SystemRelation(
            id=oid, schema=schema, name=name,
            kind=SYSTEM_VIEW if relkind == "v" else SYSTEM_TABLE, columns=columns,
            next_column_id=len(columns) + 1, relkind=relkind,
            namespace=SYSTEM_SCHEMAS[schema], reltype=reltype, rowtype_array=rowarr,
            shared=name in _SHARED, view_sql=sql)
        out[(schema, name)] = rel
        _BY_OID[oid] = rel
    return out


def registry() -> dict[tuple[str, str], SystemRelation]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _build()
    return _REGISTRY


def all_relations() -> list[SystemRelation]:
    return list(registry().values())


def by_oid(oid: int) -> SystemRelation | None:
    registry()
    return _BY_OID.get(oid)


def lookup(schema: str, name: str) -> SystemRelation | None:
    return registry().get((schema, name))


def effective_path(search_path) -> tuple[str, ...]:
    """The schemas an unqualified name is looked up in: pg_catalog first unless the
    path lists it somewhere."""
    path = tuple(search_path)
    return path if "pg_catalog" in path else ("pg_catalog",) + path


def find(catalog, name: ast.Name, search_path, kinds=None, database: str | None = None):
    """The relation `name` denotes (system or user), or None; PostgreSQL's rules."""
    parts = name.parts
    if len(parts) == 3 and parts[0] in (database, "immusql") and parts[1] in SYSTEM_SCHEMAS:
        parts = parts[1:]
    if len(parts) == 2 and parts[0] in SYSTEM_SCHEMAS:
        rel = lookup(parts[0], parts[1])
        return rel if rel is not None and (kinds is None or rel.kind in kinds) else None
    if len(parts) != 1:
        return catalog.find(name, search_path, kinds)
    for schema in effective_path(search_path):
        if schema in SYSTEM_SCHEMAS:
            rel = lookup(schema, parts[0])
            if rel is not None and (kinds is None or rel.kind in kinds):
                return rel
        else:
            rel = catalog.find(ast.Name((schema, parts[0])), (schema,), kinds)
            if rel is not None:
                return rel
    return None
