#!/usr/bin/env python3
"""Write immusql/planner/syscat/pgdata.py from a running PostgreSQL 15.

The catalog emulation (immusql/planner/syscat) must give every system relation exactly
PostgreSQL 15's columns, and pg_type / pg_proc / pg_opclass rows with PostgreSQL's OIDs.
Those facts are taken from a real server rather than written from memory:

    python tests/sql/pg.py &                  # a private PostgreSQL 15; prints its conninfo
    python tools/syscat_dump.py "host=127.0.0.1 port=NNNN user=postgres dbname=postgres"

The differential tests (tests/sql/test_syscat_pg.py) compare the result with a live server,
so a stale or hand-edited pgdata.py fails them.
"""

from __future__ import annotations

import pprint
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "immusql" / "planner" / "syscat" / "pgdata.py"

# Every relation the emulation provides, in the order pg_class lists them.
RELATIONS = """
pg_catalog.pg_class pg_catalog.pg_namespace pg_catalog.pg_attribute pg_catalog.pg_attrdef
pg_catalog.pg_type pg_catalog.pg_index pg_catalog.pg_constraint pg_catalog.pg_am
pg_catalog.pg_opclass pg_catalog.pg_description pg_catalog.pg_database pg_catalog.pg_roles
pg_catalog.pg_user pg_catalog.pg_auth_members pg_catalog.pg_collation pg_catalog.pg_inherits
pg_catalog.pg_sequence pg_catalog.pg_tablespace pg_catalog.pg_settings pg_catalog.pg_proc
pg_catalog.pg_range pg_catalog.pg_enum pg_catalog.pg_extension pg_catalog.pg_language
pg_catalog.pg_policy pg_catalog.pg_statistic_ext pg_catalog.pg_publication
pg_catalog.pg_publication_namespace pg_catalog.pg_publication_rel
pg_catalog.pg_partitioned_table pg_catalog.pg_trigger pg_catalog.pg_rewrite
pg_catalog.pg_depend pg_catalog.pg_shdepend pg_catalog.pg_foreign_table
pg_catalog.pg_foreign_server pg_catalog.pg_foreign_data_wrapper pg_catalog.pg_user_mapping
pg_catalog.pg_event_trigger pg_catalog.pg_init_privs pg_catalog.pg_seclabel
pg_catalog.pg_shdescription pg_catalog.pg_default_acl pg_catalog.pg_matviews
pg_catalog.pg_tables pg_catalog.pg_views pg_catalog.pg_indexes pg_catalog.pg_sequences
pg_catalog.pg_stat_activity pg_catalog.pg_conversion pg_catalog.pg_db_role_setting
pg_catalog.pg_largeobject_metadata pg_catalog.pg_user_mappings
information_schema.schemata information_schema.tables information_schema.columns
information_schema.views information_schema.table_constraints
information_schema.key_column_usage information_schema.referential_constraints
information_schema.constraint_column_usage information_schema.check_constraints
information_schema.sequences information_schema.routines
""".split()

# pg_type rows: the engine's types, their arrays, the catalog column types, pseudo-types.
TYPE_OIDS = """16 17 18 19 20 21 22 23 24 25 26 28 30 114 194 199 700 701 705 1000 1001 1002
1003 1005 1006 1007 1008 1009 1011 1013 1014 1015 1016 1021 1022 1028 1033 1034 1042 1043
1082 1083 1114 1115 1182 1183 1184 1185 1186 1187 1231 1266 1270 1700 2202 2203 2204 2205
2206 2207 2208 2209 2210 2211 2249 2276 2277 2278 2283 2287 2776 2950 2951 3802 3807 4089
4090 4096 4097 5077 5078 869 1041""".split()

# functions the engine has besides its registries (syntax-like calls and catalog helpers)
EXTRA_FUNCTIONS = """nextval currval setval lastval current_setting set_config
pg_table_is_visible pg_type_is_visible pg_function_is_visible pg_get_userbyid format_type
pg_get_expr pg_get_indexdef pg_get_constraintdef pg_get_serial_sequence pg_get_viewdef
pg_encoding_to_char pg_char_to_encoding to_regtype to_regclass to_regnamespace to_regproc
to_regrole pg_collation_is_visible pg_relation_is_publishable
pg_get_statisticsobjdef_columns obj_description col_description shobj_description
has_table_privilege has_schema_privilege has_database_privilege has_column_privilege
has_sequence_privilege has_function_privilege has_any_column_privilege
pg_get_partkeydef pg_relation_size pg_total_relation_size pg_table_size pg_indexes_size
pg_backend_pid pg_postmaster_start_time pg_is_in_recovery pg_get_function_identity_arguments
pg_get_function_result pg_get_function_arguments current_schemas inet_server_addr
inet_server_port inet_client_addr inet_client_port pg_typeof pg_get_triggerdef
pg_partition_ancestors pg_conf_load_time pg_get_keywords pg_size_pretty
pg_database_size txid_current pg_current_xact_id version current_database current_schema
current_user session_user pg_trigger_depth pg_jit_available pg_tablespace_location
array_to_string array_upper array_lower""".split()


def engine_function_names() -> set[str]:
    from immusql.planner import aggregates, callinfo, functions
    functions._ensure_loaded()
    return (set(functions._FUNCS) | set(functions._SRFS) | set(aggregates._SIGS)
            | set(callinfo.WINDOW_ONLY) | set(EXTRA_FUNCTIONS))


def _py(v):
    """psycopg values -> plain literals for the generated module."""
    if isinstance(v, (list, tuple)):
        return tuple(_py(x) for x in v)
    if isinstance(v, memoryview):
        return bytes(v)
    return v


def main(conninfo: str) -> None:
    conn = psycopg.connect(conninfo, autocommit=True)
    version = conn.execute("SHOW server_version").fetchone()[0]
    out = {}
    out["NAMESPACES"] = conn.execute(
        "SELECT oid::int8, nspname::text, nspowner::int8 FROM pg_namespace "
        "WHERE nspname IN ('pg_catalog', 'pg_toast', 'public', 'information_schema') "
        "ORDER BY oid").fetchall()
    rels = []
    for qualified in RELATIONS:
        schema, name = qualified.split(".")
        row = conn.execute(
            "SELECT c.oid::int8, c.relkind::text, c.reltype::int8, "
            "coalesce(t.typarray, 0)::int8 FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace LEFT JOIN pg_type t ON t.oid = c.reltype "
            "WHERE n.nspname = %s AND c.relname = %s", (schema, name)).fetchone()
        if row is None:
            raise SystemExit(f"{qualified} does not exist in this server")
        cols = conn.execute(
            # domains (information_schema's sql_identifier, cardinal_number ...) are given
            # as their base type: the emulation has no domains
            "SELECT a.attname::text, "
            "CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END::int8, "
            "CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, "
            "a.attnotnull, a.attcollation::int8 "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (row[0],)).fetchall()
        rels.append((schema, name, *row, tuple(tuple(c) for c in cols)))
    out["RELATIONS"] = rels
    type_cols = [r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'pg_type'::regclass AND attnum > 0 "
        "ORDER BY attnum").fetchall()]
    select = ", ".join(f"{c}::oid::int8" if c.startswith(("typsub", "typin", "typout",
                                                            "typrec", "typsend", "typmod",
                                                            "typanal"))
                       else f"{c}::int8" if c in ("oid", "typnamespace", "typowner",
                                                  "typrelid", "typelem", "typarray",
                                                  "typbasetype", "typcollation")
                       else "NULL" if c in ("typdefaultbin", "typacl")
                       else c for c in type_cols)
    out["TYPES"] = [_py(tuple(r)) for r in conn.execute(
        f"SELECT {select} FROM pg_type WHERE oid = ANY(%s::oid[]) ORDER BY oid",
        ([int(o) for o in TYPE_OIDS],)).fetchall()]
    # a table's row type and its array type, the pattern for every relation's row type
    out["ROWTYPE_TEMPLATES"] = [_py(tuple(r)) for r in conn.execute(
        f"SELECT {select} FROM pg_type WHERE oid IN ('pg_class'::regtype, "
        "'pg_class[]'::regtype) ORDER BY typelem").fetchall()]
    regprocs = {v for row in out["TYPES"] + out["ROWTYPE_TEMPLATES"]
                for i, v in enumerate(row) if type_cols[i].startswith(
                    ("typsub", "typin", "typout", "typrec", "typsend", "typmod", "typanal"))}
    proc_cols = [r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'pg_proc'::regclass AND attnum > 0 "
        "ORDER BY attnum").fetchall()]
    oids = ("oid", "pronamespace", "proowner", "prolang", "provariadic", "prorettype")
    select = ", ".join(
        f"{c}::int8" if c in oids else "prosupport::text" if c == "prosupport"
        else "proargtypes::oid[]::int8[]" if c == "proargtypes"
        else "proallargtypes::int8[]" if c == "proallargtypes"
        else "proargmodes::text[]" if c == "proargmodes"
        else "protrftypes::int8[]" if c == "protrftypes"
        else "NULL" if c in ("proargdefaults", "prosqlbody", "proacl", "proconfig")
        else c for c in proc_cols)
    names = sorted(engine_function_names() | {"_pg_expandarray"})
    out["PROCS"] = [_py(tuple(r)) for r in conn.execute(
        f"SELECT {select} FROM pg_proc WHERE proname = ANY(%s) AND pronamespace IN "
        "('pg_catalog'::regnamespace, 'information_schema'::regnamespace) ORDER BY oid",
        (names,)).fetchall()]
    referenced = {t for row in out["PROCS"] for t in (row[proc_cols.index("prorettype")],)
                  + tuple(row[proc_cols.index("proargtypes")] or ())
                  + tuple(row[proc_cols.index("proallargtypes")] or ())}
    # format_type of every type a listed function takes or returns (pseudo-types too)
    out["TYPE_NAMES"] = dict(tuple(r) for r in conn.execute(
        "SELECT oid::int8, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s::oid[]) "
        "ORDER BY 1", (sorted(referenced),)).fetchall())
    out["OPCLASSES"] = [_py(r) for r in conn.execute(
        "SELECT oid::int8, opcmethod::int8, opcname::text, opcnamespace::int8, opcowner::int8,"
        " opcfamily::int8, opcintype::int8, opcdefault, opckeytype::int8 FROM pg_opclass "
        "WHERE opcmethod IN (403, 405) ORDER BY oid").fetchall()]
    out["AMS"] = [tuple(r) for r in conn.execute(
        "SELECT oid::int8, amname::text, amhandler::oid::int8, amtype::text FROM pg_am "
        "WHERE amname IN ('heap', 'btree', 'hash') ORDER BY oid").fetchall()]
    regprocs |= {r[2] for r in out["AMS"]}
    # names of the functions regproc columns point at (type I/O, access method handlers)
    out["REGPROC_NAMES"] = dict(tuple(r) for r in conn.execute(
        "SELECT oid::int8, proname::text FROM pg_proc WHERE oid = ANY(%s::oid[]) ORDER BY 1",
        (sorted(v for v in regprocs if v),)).fetchall())
    out["COLLATIONS"] = [tuple(r) for r in conn.execute(
        "SELECT oid::int8, collname::text, collnamespace::int8, collowner::int8, "
        "collprovider::text, collisdeterministic, collencoding, collcollate, collctype, "
        "colliculocale, collversion FROM pg_collation WHERE oid IN (100, 950, 951) "
        "ORDER BY oid").fetchall()]
    out["TABLESPACES"] = [tuple(r) for r in conn.execute(
        "SELECT oid::int8, spcname::text, spcowner::int8 FROM pg_tablespace ORDER BY oid"
    ).fetchall()]
    out["LANGUAGES"] = [tuple(r) for r in conn.execute(
        "SELECT oid::int8, lanname::text, lanowner::int8, lanispl, lanpltrusted, "
        "lanplcallfoid::int8, laninline::int8, lanvalidator::int8 FROM pg_language "
        "ORDER BY oid").fetchall()]
    out["EXTENSIONS"] = [tuple(r) for r in conn.execute(
        "SELECT oid::int8, extname::text, extowner::int8, extnamespace::int8, "
        "extrelocatable, extversion FROM pg_extension ORDER BY oid").fetchall()]
    out["PREDEFINED_ROLES"] = [tuple(r) for r in conn.execute(
        "SELECT oid::int8, rolname::text FROM pg_roles WHERE rolname ~ '^pg_' ORDER BY oid"
    ).fetchall()]
    out["PREDEFINED_MEMBERS"] = [tuple(r) for r in conn.execute(
        "SELECT m.roleid::int8, m.member::int8, m.admin_option FROM pg_auth_members m "
        "WHERE m.roleid IN (SELECT oid FROM pg_roles WHERE rolname ~ '^pg_') "
        "AND m.member IN (SELECT oid FROM pg_roles WHERE rolname ~ '^pg_') "
        "ORDER BY 1, 2").fetchall()]
    out["SETTINGS"] = [_py(tuple(r)) for r in conn.execute(
        "SELECT name, unit, category, short_desc, context, vartype, min_val, max_val, "
        "enumvals, boot_val FROM pg_settings ORDER BY name").fetchall()]
    out["EQ_OPERATORS"] = dict(tuple(r) for r in conn.execute(
        "SELECT oprleft::int8, oid::int8 FROM pg_operator WHERE oprname = '=' "
        "AND oprleft = oprright AND oprleft = ANY(%s::oid[]) ORDER BY 1",
        ([int(o) for o in TYPE_OIDS],)).fetchall())
    out["ENCODINGS"] = [tuple(r) for r in conn.execute(
        "SELECT i, pg_encoding_to_char(i)::text FROM generate_series(0, 41) i "
        "WHERE pg_encoding_to_char(i) <> ''").fetchall()]
    conn.close()

    lines = [
        '"""PostgreSQL 15 catalog facts for the catalog emulation: system relations and',
        "their columns, pg_type / pg_proc / pg_opclass rows, settings.",
        "",
        f"Generated by tools/syscat_dump.py from PostgreSQL {version}; do not edit by hand.",
        "Domain-typed columns (information_schema) are given as their base type and typmod.",
        '"""',
        "",
        "# flake8: noqa",
        "# fmt: off",
        f"PG_VERSION = {version!r}",
        "",
    ]
    docs = {
        "RELATIONS": "(schema, name, oid, relkind, reltype, rowtype array oid, "
                     "((attname, type oid, typmod, attnotnull, attcollation), ...))",
        "TYPES": "pg_type rows, its columns in order (regproc columns as OIDs)",
        "PROCS": "pg_proc rows of the functions the engine has (node trees and ACLs NULL)",
        "SETTINGS": "pg_settings: (name, unit, category, short_desc, context, vartype, "
                    "min_val, max_val, enumvals, boot_val)",
    }
    for key, value in out.items():
        if key in docs:
            lines.append(f"# {docs[key]}")
        lines.append(f"{key} = " + pprint.pformat(value, width=100, compact=True))
        lines.append("")
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
