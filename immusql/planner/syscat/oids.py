"""OIDs the catalog emulation hands out: PostgreSQL's fixed ones and our synthetic ones.

Fixed: namespaces, the system catalogs' own OIDs (pg_class is 1259, as clients that write
`classoid = 1259` expect), access methods, collations, tablespaces. User tables, views,
sequences and indexes keep their catalog ids (from 16384, PostgreSQL's FirstNormalObjectId).

Synthetic: objects PostgreSQL gives an OID but our catalog does not: constraints, column
defaults, each table's row type and its array type, user schemas other than public. They
are numbered from SYNTHETIC_BASE in a walk over the relations in id order, so they are
fixed for one catalog version (and do not move when a newer table is added).
"""

from __future__ import annotations

PG_CATALOG_NS = 11
PG_TOAST_NS = 99
PUBLIC_NS = 2200
INFORMATION_SCHEMA_NS = 13207

BOOTSTRAP_SUPERUSER = 10
PG_DATABASE_OWNER = 6171  # the predefined role that owns schema public

HEAP_AM, BTREE_AM, HASH_AM = 2, 403, 405
DEFAULT_COLLATION, C_COLLATION, POSIX_COLLATION = 100, 950, 951
DEFAULT_TABLESPACE, GLOBAL_TABLESPACE = 1663, 1664
INTERNAL_LANGUAGE, SQL_LANGUAGE = 12, 14
UTF8_ENCODING = 6

# pg_class OIDs of catalogs that classoid columns name (pg_description, pg_depend ...)
PG_CLASS = 1259
PG_CONSTRAINT = 2606
PG_TYPE = 1247
PG_PROC = 1255
PG_NAMESPACE = 2615
PG_ATTRDEF = 2604

SYNTHETIC_BASE = 1_000_000_000  # far above any relation id the catalog will reach

# types whose values sort by collation (pg_type.typcollation 100, name uses "C")
COLLATABLE = {25: DEFAULT_COLLATION, 1043: DEFAULT_COLLATION, 1042: DEFAULT_COLLATION,
              19: C_COLLATION, 1009: DEFAULT_COLLATION, 1015: DEFAULT_COLLATION,
              1014: DEFAULT_COLLATION, 1003: C_COLLATION}
