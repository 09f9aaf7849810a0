"""pg_type and pg_enum rows of the catalog's enum types (CREATE TYPE ... AS ENUM).

Why: psql's \\dT, SQLAlchemy's enum reflection and asyncpg's type introspection read an
enum's labels from pg_enum and its kind from pg_type (typtype 'e', typcategory 'E'); the
rows here are PostgreSQL 15's for an enum type and its array type.
"""

from __future__ import annotations

# typinput, typoutput, typreceive, typsend of an enum (PostgreSQL's pg_proc OIDs)
_ENUM_IN, _ENUM_OUT, _ENUM_RECV, _ENUM_SEND = 3504, 3505, 3532, 3533
_ARRAY_SUBSCRIPT, _ARRAY_IN, _ARRAY_OUT, _ARRAY_RECV, _ARRAY_SEND = 6179, 750, 751, 2400, 2401
_ARRAY_ANALYZE = 3816


def _enums(m):
    return sorted((getattr(m.catalog, "enums", None) or {}).values(), key=lambda e: e.oid)


def enum_type_rows(m, owner) -> list[tuple]:
    """pg_type rows (pgdata.TYPES layout) of every enum type and its array type."""
    rows = []
    for e in _enums(m):
        ns = m.ns_oid.get(e.schema, 2200)
        rows.append((e.oid, e.name, ns, owner, 4, True, "e", "E", False, True, ",", 0, 0, 0,
                     e.typarray, _ENUM_IN, _ENUM_OUT, _ENUM_RECV, _ENUM_SEND, 0, 0, 0, "i",
                     "p", False, 0, -1, 0, 0, None, None, None))
        rows.append((e.typarray, "_" + e.name, ns, owner, -1, False, "b", "A", False, True,
                     ",", 0, _ARRAY_SUBSCRIPT, e.oid, 0, _ARRAY_IN, _ARRAY_OUT, _ARRAY_RECV,
                     _ARRAY_SEND, 0, 0, _ARRAY_ANALYZE, "i", "x", False, 0, -1, 0, 0, None,
                     None, None))
    return rows


def pg_enum(sc) -> list[tuple]:
    """(oid, enumtypid, enumsortorder, enumlabel) per label, in sort order."""
    return [(lid, e.oid, order, label) for e in _enums(sc.model)
            for lid, label, order in e.labels]
