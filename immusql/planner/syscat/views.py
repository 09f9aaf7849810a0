"""System views defined as SQL over the base system relations, parsed by our own parser and
planned like any view (`plan_scan`).

pg_catalog's views are PostgreSQL 15's own definitions (pg_get_viewdef of pg_tables & co.).
information_schema's are written here over pg_catalog, giving PostgreSQL's rows for what
immusql has; PostgreSQL's domain types (sql_identifier, character_data, cardinal_number,
yes_or_no, time_stamp) are their base types: name, character varying, integer, character
varying(3), timestamp with time zone. Privilege filters are left out: immusql grants by
database, so every object of the database is visible to its users.
"""

from __future__ import annotations

PG_TABLES = """
SELECT n.nspname AS schemaname, c.relname AS tablename,
       pg_catalog.pg_get_userbyid(c.relowner) AS tableowner, t.spcname AS tablespace,
       c.relhasindex AS hasindexes, c.relhasrules AS hasrules,
       c.relhastriggers AS hastriggers, c.relrowsecurity AS rowsecurity
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace
WHERE c.relkind = ANY (ARRAY['r'::"char", 'p'::"char"])
"""

PG_VIEWS = """
SELECT n.nspname AS schemaname, c.relname AS viewname,
       pg_catalog.pg_get_userbyid(c.relowner) AS viewowner,
       pg_catalog.pg_get_viewdef(c.oid) AS definition
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v'::"char"
"""

PG_MATVIEWS = """
SELECT n.nspname AS schemaname, c.relname AS matviewname,
       pg_catalog.pg_get_userbyid(c.relowner) AS matviewowner, t.spcname AS tablespace,
       c.relhasindex AS hasindexes, c.relispopulated AS ispopulated,
       pg_catalog.pg_get_viewdef(c.oid) AS definition
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace
WHERE c.relkind = 'm'::"char"
"""

PG_INDEXES = """
SELECT n.nspname AS schemaname, c.relname AS tablename, i.relname AS indexname,
       t.spcname AS tablespace, pg_catalog.pg_get_indexdef(i.oid) AS indexdef
FROM pg_catalog.pg_index x
     JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
     JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = i.reltablespace
WHERE (c.relkind = ANY (ARRAY['r'::"char", 'm'::"char", 'p'::"char"]))
  AND (i.relkind = ANY (ARRAY['i'::"char", 'I'::"char"]))
"""

PG_SEQUENCES = """
SELECT n.nspname AS schemaname, c.relname AS sequencename,
       pg_catalog.pg_get_userbyid(c.relowner) AS sequenceowner,
       s.seqtypid::pg_catalog.regtype AS data_type, s.seqstart AS start_value,
       s.seqmin AS min_value, s.seqmax AS max_value, s.seqincrement AS increment_by,
       s.seqcycle AS cycle, s.seqcache AS cache_size,
       pg_catalog.pg_sequence_last_value(c.oid::pg_catalog.regclass) AS last_value
FROM pg_catalog.pg_sequence s
     JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'::"char"
"""

# ---------------------------------------------------------------- information_schema --

IS_SCHEMATA = """
SELECT pg_catalog.current_database() AS catalog_name, n.nspname AS schema_name,
       pg_catalog.pg_get_userbyid(n.nspowner) AS schema_owner,
       NULL::name AS default_character_set_catalog,
       NULL::name AS default_character_set_schema,
       NULL::name AS default_character_set_name, NULL::varchar AS sql_path
FROM pg_catalog.pg_namespace n
"""

IS_TABLES = """
SELECT pg_catalog.current_database() AS table_catalog, nc.nspname AS table_schema,
       c.relname AS table_name,
       CASE WHEN nc.oid = pg_catalog.pg_my_temp_schema() THEN 'LOCAL TEMPORARY'
            WHEN c.relkind IN ('r', 'p') THEN 'BASE TABLE'
            WHEN c.relkind = 'v' THEN 'VIEW'
            WHEN c.relkind = 'f' THEN 'FOREIGN'
            ELSE NULL END::varchar AS table_type,
       NULL::name AS self_referencing_column_name, NULL::varchar AS reference_generation,
       NULL::name AS user_defined_type_catalog, NULL::name AS user_defined_type_schema,
       NULL::name AS user_defined_type_name,
       CASE WHEN c.relkind IN ('r', 'p') THEN 'YES' ELSE 'NO' END::varchar(3)
           AS is_insertable_into,
       'NO'::varchar(3) AS is_typed, NULL::varchar AS commit_action
FROM pg_catalog.pg_namespace nc JOIN pg_catalog.pg_class c ON nc.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'f', 'p')
"""

IS_COLUMNS = """
SELECT pg_catalog.current_database() AS table_catalog, nc.nspname AS table_schema,
       c.relname AS table_name, a.attname AS column_name,
       a.attnum::integer AS ordinal_position,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)::varchar AS column_default,
       CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END::varchar(3) AS is_nullable,
       CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN 'ARRAY'
            WHEN nt.nspname = 'pg_catalog' THEN pg_catalog.format_type(a.atttypid, NULL)
            ELSE 'USER-DEFINED' END::varchar AS data_type,
       CASE WHEN a.atttypid IN (1042, 1043) AND a.atttypmod >= 0 THEN a.atttypmod - 4
            END AS character_maximum_length,
       CASE WHEN a.atttypid IN (25, 1042, 1043) THEN
                 CASE WHEN a.atttypmod >= 0 THEN (a.atttypmod - 4) * 4 ELSE 1073741824 END
            END AS character_octet_length,
       CASE a.atttypid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24
            WHEN 701 THEN 53
            WHEN 1700 THEN CASE WHEN a.atttypmod >= 0 THEN ((a.atttypmod - 4) >> 16) & 65535
                                END
            END AS numeric_precision,
       CASE WHEN a.atttypid IN (21, 23, 20, 700, 701) THEN 2 WHEN a.atttypid = 1700 THEN 10
            END AS numeric_precision_radix,
       CASE WHEN a.atttypid IN (21, 23, 20) THEN 0
            WHEN a.atttypid = 1700 AND a.atttypmod >= 0 THEN (a.atttypmod - 4) & 65535
            END AS numeric_scale,
       CASE WHEN a.atttypid = 1082 THEN 0
            WHEN a.atttypid IN (1083, 1114, 1184, 1266) THEN
                 CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE 6 END
            WHEN a.atttypid = 1186 THEN
                 CASE WHEN a.atttypmod >= 0 THEN a.atttypmod & 65535 ELSE 6 END
            END AS datetime_precision,
       NULL::varchar AS interval_type, NULL::integer AS interval_precision,
       NULL::name AS character_set_catalog, NULL::name AS character_set_schema,
       NULL::name AS character_set_name,
       CASE WHEN nco.nspname IS NOT NULL THEN pg_catalog.current_database() END
           AS collation_catalog,
       nco.nspname AS collation_schema, co.collname AS collation_name,
       NULL::name AS domain_catalog, NULL::name AS domain_schema, NULL::name AS domain_name,
       pg_catalog.current_database() AS udt_catalog, nt.nspname AS udt_schema,
       t.typname AS udt_name,
       NULL::name AS scope_catalog, NULL::name AS scope_schema, NULL::name AS scope_name,
       NULL::integer AS maximum_cardinality, a.attnum::text::name AS dtd_identifier,
       'NO'::varchar(3) AS is_self_referencing,
       CASE WHEN a.attidentity IN ('a', 'd') THEN 'YES' ELSE 'NO' END::varchar(3)
           AS is_identity,
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT'
            END::varchar AS identity_generation,
       CASE WHEN a.attidentity IN ('a', 'd') THEN (SELECT s.seqstart::text
            FROM pg_catalog.pg_sequence s WHERE s.seqrelid = pg_catalog.pg_get_serial_sequence(
                c.oid::regclass::text, a.attname)::regclass::oid) END::varchar
           AS identity_start,
       CASE WHEN a.attidentity IN ('a', 'd') THEN (SELECT s.seqincrement::text
            FROM pg_catalog.pg_sequence s WHERE s.seqrelid = pg_catalog.pg_get_serial_sequence(
                c.oid::regclass::text, a.attname)::regclass::oid) END::varchar
           AS identity_increment,
       CASE WHEN a.attidentity IN ('a', 'd') THEN (SELECT s.seqmax::text
            FROM pg_catalog.pg_sequence s WHERE s.seqrelid = pg_catalog.pg_get_serial_sequence(
                c.oid::regclass::text, a.attname)::regclass::oid) END::varchar
           AS identity_maximum,
       CASE WHEN a.attidentity IN ('a', 'd') THEN (SELECT s.seqmin::text
            FROM pg_catalog.pg_sequence s WHERE s.seqrelid = pg_catalog.pg_get_serial_sequence(
                c.oid::regclass::text, a.attname)::regclass::oid) END::varchar
           AS identity_minimum,
       CASE WHEN a.attidentity IN ('a', 'd') AND (SELECT s.seqcycle
            FROM pg_catalog.pg_sequence s WHERE s.seqrelid = pg_catalog.pg_get_serial_sequence(
                c.oid::regclass::text, a.attname)::regclass::oid) THEN 'YES' ELSE 'NO'
            END::varchar(3) AS identity_cycle,
       'NEVER'::varchar AS is_generated, NULL::varchar AS generation_expression,
       CASE WHEN c.relkind IN ('r', 'p') THEN 'YES' ELSE 'NO' END::varchar(3)
           AS is_updatable
FROM pg_catalog.pg_attribute a
     LEFT JOIN pg_catalog.pg_attrdef ad ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
     JOIN pg_catalog.pg_class c ON a.attrelid = c.oid
     JOIN pg_catalog.pg_namespace nc ON c.relnamespace = nc.oid
     JOIN pg_catalog.pg_type t ON a.atttypid = t.oid
     JOIN pg_catalog.pg_namespace nt ON t.typnamespace = nt.oid
     LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
         AND co.collname <> 'default'
     LEFT JOIN pg_catalog.pg_namespace nco ON co.collnamespace = nco.oid
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'f', 'p')
"""

IS_VIEWS = """
SELECT pg_catalog.current_database() AS table_catalog, nc.nspname AS table_schema,
       c.relname AS table_name, pg_catalog.pg_get_viewdef(c.oid)::varchar AS view_definition,
       'NONE'::varchar AS check_option, 'NO'::varchar(3) AS is_updatable,
       'NO'::varchar(3) AS is_insertable_into, 'NO'::varchar(3) AS is_trigger_updatable,
       'NO'::varchar(3) AS is_trigger_deletable,
       'NO'::varchar(3) AS is_trigger_insertable_into
FROM pg_catalog.pg_namespace nc JOIN pg_catalog.pg_class c ON nc.oid = c.relnamespace
WHERE c.relkind = 'v'
"""

# NOT NULL columns count as CHECK constraints here, named PostgreSQL's way
_NOT_NULL = """
SELECT nr.oid AS nsoid, nr.nspname AS nsname, r.oid AS reloid, r.relname AS relname,
       a.attnum AS attnum, a.attname AS attname,
       (nr.oid::text || '_' || r.oid::text || '_' || a.attnum::text || '_not_null')::name
           AS conname
FROM pg_catalog.pg_namespace nr
     JOIN pg_catalog.pg_class r ON nr.oid = r.relnamespace
     JOIN pg_catalog.pg_attribute a ON r.oid = a.attrelid
WHERE a.attnotnull AND a.attnum > 0 AND NOT a.attisdropped AND r.relkind IN ('r', 'p')
  AND nr.nspname NOT IN ('pg_catalog', 'information_schema')
"""

IS_TABLE_CONSTRAINTS = f"""
SELECT pg_catalog.current_database() AS constraint_catalog, nc.nspname AS constraint_schema,
       c.conname AS constraint_name, pg_catalog.current_database() AS table_catalog,
       nr.nspname AS table_schema, r.relname AS table_name,
       CASE c.contype WHEN 'c' THEN 'CHECK' WHEN 'f' THEN 'FOREIGN KEY'
            WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' END::varchar
           AS constraint_type,
       CASE WHEN c.condeferrable THEN 'YES' ELSE 'NO' END::varchar(3) AS is_deferrable,
       CASE WHEN c.condeferred THEN 'YES' ELSE 'NO' END::varchar(3) AS initially_deferred,
       'YES'::varchar(3) AS enforced,
       CASE WHEN c.contype = 'u' THEN
                 CASE WHEN i.indnullsnotdistinct THEN 'NO' ELSE 'YES' END
            END::varchar(3) AS nulls_distinct
FROM pg_catalog.pg_constraint c
     JOIN pg_catalog.pg_namespace nc ON nc.oid = c.connamespace
     JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
     JOIN pg_catalog.pg_namespace nr ON nr.oid = r.relnamespace
     LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.conindid
WHERE r.relkind IN ('r', 'p')
UNION ALL
SELECT pg_catalog.current_database(), nn.nsname, nn.conname, pg_catalog.current_database(),
       nn.nsname, nn.relname, 'CHECK'::varchar, 'NO'::varchar(3), 'NO'::varchar(3),
       'YES'::varchar(3), NULL::varchar(3)
FROM ({_NOT_NULL}) nn
"""

IS_KEY_COLUMN_USAGE = """
SELECT pg_catalog.current_database() AS constraint_catalog, nc.nspname AS constraint_schema,
       c.conname AS constraint_name, pg_catalog.current_database() AS table_catalog,
       nr.nspname AS table_schema, r.relname AS table_name, a.attname AS column_name,
       k.ord::integer AS ordinal_position,
       CASE WHEN c.contype = 'f' THEN
                 (SELECT pg_catalog.array_position(i.indkey::int2[], c.confkey[k.ord::integer])
                  FROM pg_catalog.pg_index i WHERE i.indexrelid = c.conindid)
            END::integer AS position_in_unique_constraint
FROM pg_catalog.pg_constraint c
     JOIN pg_catalog.pg_namespace nc ON nc.oid = c.connamespace
     JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
     JOIN pg_catalog.pg_namespace nr ON nr.oid = r.relnamespace
     CROSS JOIN LATERAL pg_catalog.unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum
WHERE c.contype IN ('p', 'u', 'f') AND r.relkind IN ('r', 'p')
"""

IS_REFERENTIAL_CONSTRAINTS = """
SELECT pg_catalog.current_database() AS constraint_catalog, ncon.nspname AS constraint_schema,
       con.conname AS constraint_name,
       CASE WHEN npkc.nspname IS NULL THEN NULL ELSE pg_catalog.current_database() END
           AS unique_constraint_catalog,
       npkc.nspname AS unique_constraint_schema, pkc.conname AS unique_constraint_name,
       CASE con.confmatchtype WHEN 'f' THEN 'FULL' WHEN 'p' THEN 'PARTIAL'
            WHEN 's' THEN 'NONE' END::varchar AS match_option,
       CASE con.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
            WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION'
            END::varchar AS update_rule,
       CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
            WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION'
            END::varchar AS delete_rule
FROM pg_catalog.pg_constraint con
     JOIN pg_catalog.pg_namespace ncon ON con.connamespace = ncon.oid
     LEFT JOIN pg_catalog.pg_constraint pkc ON pkc.conindid = con.conindid
         AND pkc.contype IN ('p', 'u') AND pkc.conrelid = con.confrelid
     LEFT JOIN pg_catalog.pg_namespace npkc ON pkc.connamespace = npkc.oid
WHERE con.contype = 'f'
"""

IS_CONSTRAINT_COLUMN_USAGE = """
SELECT pg_catalog.current_database() AS table_catalog, nr.nspname AS table_schema,
       r.relname AS table_name, a.attname AS column_name,
       pg_catalog.current_database() AS constraint_catalog, nc.nspname AS constraint_schema,
       c.conname AS constraint_name
FROM pg_catalog.pg_constraint c
     JOIN pg_catalog.pg_namespace nc ON nc.oid = c.connamespace
     JOIN pg_catalog.pg_class r ON r.oid = CASE WHEN c.contype = 'f' THEN c.confrelid
                                                ELSE c.conrelid END
     JOIN pg_catalog.pg_namespace nr ON nr.oid = r.relnamespace
     JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
         AND a.attnum = ANY (CASE WHEN c.contype = 'f' THEN c.confkey ELSE c.conkey END)
WHERE NOT a.attisdropped AND c.contype IN ('p', 'u', 'f', 'c') AND r.relkind IN ('r', 'p')
"""

IS_CHECK_CONSTRAINTS = f"""
SELECT pg_catalog.current_database() AS constraint_catalog, rs.nspname AS constraint_schema,
       con.conname AS constraint_name,
       pg_catalog.substring(pg_catalog.pg_get_constraintdef(con.oid), 7)::varchar
           AS check_clause
FROM pg_catalog.pg_constraint con
     JOIN pg_catalog.pg_namespace rs ON rs.oid = con.connamespace
     JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
WHERE con.contype = 'c'
UNION ALL
SELECT pg_catalog.current_database(), nn.nsname, nn.conname,
       (nn.attname || ' IS NOT NULL')::varchar
FROM ({_NOT_NULL}) nn
"""

IS_SEQUENCES = """
SELECT pg_catalog.current_database() AS sequence_catalog, nc.nspname AS sequence_schema,
       c.relname AS sequence_name,
       pg_catalog.format_type(s.seqtypid, NULL)::varchar AS data_type,
       CASE s.seqtypid WHEN 21 THEN 16 WHEN 23 THEN 32 ELSE 64 END AS numeric_precision,
       2 AS numeric_precision_radix, 0 AS numeric_scale,
       s.seqstart::text::varchar AS start_value, s.seqmin::text::varchar AS minimum_value,
       s.seqmax::text::varchar AS maximum_value, s.seqincrement::text::varchar AS increment,
       CASE WHEN s.seqcycle THEN 'YES' ELSE 'NO' END::varchar(3) AS cycle_option
FROM pg_catalog.pg_namespace nc
     JOIN pg_catalog.pg_class c ON nc.oid = c.relnamespace
     JOIN pg_catalog.pg_sequence s ON c.oid = s.seqrelid
WHERE c.relkind = 'S'
"""

VIEW_SQL = {
    ("pg_catalog", "pg_tables"): PG_TABLES,
    ("pg_catalog", "pg_views"): PG_VIEWS,
    ("pg_catalog", "pg_matviews"): PG_MATVIEWS,
    ("pg_catalog", "pg_indexes"): PG_INDEXES,
    ("pg_catalog", "pg_sequences"): PG_SEQUENCES,
    ("information_schema", "schemata"): IS_SCHEMATA,
    ("information_schema", "tables"): IS_TABLES,
    ("information_schema", "columns"): IS_COLUMNS,
    ("information_schema", "views"): IS_VIEWS,
    ("information_schema", "table_constraints"): IS_TABLE_CONSTRAINTS,
    ("information_schema", "key_column_usage"): IS_KEY_COLUMN_USAGE,
    ("information_schema", "referential_constraints"): IS_REFERENTIAL_CONSTRAINTS,
    ("information_schema", "constraint_column_usage"): IS_CONSTRAINT_COLUMN_USAGE,
    ("information_schema", "check_constraints"): IS_CHECK_CONSTRAINTS,
    ("information_schema", "sequences"): IS_SEQUENCES,
}
