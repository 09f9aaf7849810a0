"""Statements and what describing them gives, as PostgreSQL 15 answers Parse + Describe.

Shared by tests/planner/test_describe.py (immusql alone) and tests/sql/test_describe_pg.py,
which checks every expectation here against a real PostgreSQL as well, so the table is
PostgreSQL's answer, not ours. Types are format_type spellings; a column is
(name, type with modifier, from a table column: its column number, else 0).
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, a text, b bigint, c numeric(10,2), d varchar(20),
                ts timestamptz, f float8, flag bool, arr int[], j jsonb);
CREATE TABLE u (id serial PRIMARY KEY, name text UNIQUE, n int);
CREATE SEQUENCE s;
"""

_T = [("id", "integer", 1), ("a", "text", 2), ("b", "bigint", 3), ("c", "numeric(10,2)", 4),
      ("d", "character varying(20)", 5), ("ts", "timestamp with time zone", 6),
      ("f", "double precision", 7), ("flag", "boolean", 8), ("arr", "integer[]", 9),
      ("j", "jsonb", 10)]

INT, TEXT, BIGINT, BOOL = "integer", "text", "bigint", "boolean"

# (sql, parameter types, columns or None for "returns no rows")
CASES = [
    ("SELECT $1", [TEXT], [("?column?", TEXT, 0)]),
    ("SELECT * FROM t WHERE id = $1", [INT], _T),
    ("SELECT $1::int", [INT], [("int4", INT, 0)]),
    ("SELECT $1 + 1", [INT], [("?column?", INT, 0)]),
    ("SELECT $1::int, $1", [INT], [("int4", INT, 0), ("?column?", INT, 0)]),
    ("SELECT $2::int, $1::text", [TEXT, INT], [("int4", INT, 0), ("text", TEXT, 0)]),
    ("SELECT $1::text::int", [TEXT], [("int4", INT, 0)]),
    ("SELECT $1::numeric(5,1)", ["numeric"], [("numeric", "numeric(5,1)", 0)]),
    ("SELECT * FROM t LIMIT $1 OFFSET $2", [BIGINT, BIGINT], _T),
    ("SELECT * FROM t WHERE ts > $1", ["timestamp with time zone"], _T),
    ("SELECT * FROM t WHERE flag = $1 AND f < $2", [BOOL, "double precision"], _T),
    ("SELECT * FROM t WHERE id BETWEEN $1 AND $2", [INT, INT], _T),
    ("SELECT * FROM t WHERE id IN ($1, $2)", [INT, INT], _T),
    ("SELECT * FROM t WHERE id = ANY($1)", ["integer[]"], _T),
    ("SELECT $1 = ANY(arr) FROM t", [INT], [("?column?", BOOL, 0)]),
    ("SELECT * FROM t WHERE arr @> $1", ["integer[]"], _T),
    ("SELECT * FROM t WHERE j @> $1", ["jsonb"], _T),
    ("SELECT id FROM t WHERE (id, b) = ($1, $2)", [INT, BIGINT], [("id", INT, 1)]),
    ("SELECT d FROM t WHERE d = $1", [TEXT], [("d", "character varying(20)", 5)]),
    ("SELECT c + $1 FROM t", ["numeric"], [("?column?", "numeric", 0)]),
    ("SELECT id FROM t WHERE a ILIKE $1", [TEXT], [("id", INT, 1)]),
    ("SELECT $1 LIKE 'a%'", [TEXT], [("?column?", BOOL, 0)]),
    ("SELECT * FROM t WHERE a IS DISTINCT FROM $1", [TEXT], _T),
    ("SELECT $1 IN ($2, 3)", [INT, INT], [("?column?", BOOL, 0)]),
    ("SELECT $1 = $2", [TEXT, TEXT], [("?column?", BOOL, 0)]),
    ("SELECT $1 || 'x'", [TEXT], [("?column?", TEXT, 0)]),
    ("SELECT $1 IS TRUE, NOT $2", [BOOL, BOOL], [("?column?", BOOL, 0), ("?column?", BOOL, 0)]),
    ("SELECT CASE WHEN $1 THEN 1 END", [BOOL], [("case", INT, 0)]),
    ("SELECT coalesce($1, b) FROM t", [BIGINT], [("coalesce", BIGINT, 0)]),
    ("SELECT nullif($1, 1)", [INT], [("nullif", INT, 0)]),
    ("SELECT greatest($1, 2, 3.5)", ["numeric"], [("greatest", "numeric", 0)]),
    ("SELECT ARRAY[$1, $2]", [TEXT, TEXT], [("array", "text[]", 0)]),
    ("SELECT j -> $1 FROM t", [TEXT], [("?column?", "jsonb", 0)]),
    ("SELECT $1::jsonb ->> 'k'", ["jsonb"], [("?column?", TEXT, 0)]),
    # function arguments: the chosen overload's parameter types
    ("SELECT length($1)", [TEXT], [("length", INT, 0)]),
    ("SELECT round($1, 2)", ["numeric"], [("round", "numeric", 0)]),
    ("SELECT abs($1)", ["double precision"], [("abs", "double precision", 0)]),
    ("SELECT substring($1 from 2)", [TEXT], [("substring", TEXT, 0)]),
    ("SELECT lower($1), upper(a) FROM t", [TEXT], [("lower", TEXT, 0), ("upper", TEXT, 0)]),
    ("SELECT to_char(ts, $1) FROM t", [TEXT], [("to_char", TEXT, 0)]),
    ("SELECT generate_series($1, 10)", [INT], [("generate_series", INT, 0)]),
    # set operations and VALUES type an untyped output from the other rows
    ("SELECT $1 UNION SELECT 1", [INT], [("?column?", INT, 0)]),
    ("SELECT 1 UNION SELECT $1", [INT], [("?column?", INT, 0)]),
    ("SELECT $1::int4 AS x UNION ALL SELECT $2", [INT, INT], [("x", INT, 0)]),
    ("VALUES ($1, 1), ($2, $3::int8)", [TEXT, TEXT, BIGINT],
     [("column1", TEXT, 0), ("column2", BIGINT, 0)]),
    # subqueries and CTEs (an unreferenced CTE's parameters are typed too)
    ("SELECT * FROM (SELECT $1) s", [TEXT], [("?column?", TEXT, 0)]),
    ("SELECT (SELECT a FROM t WHERE id = $1)", [INT], [("a", TEXT, 0)]),
    ("SELECT EXISTS (SELECT 1 FROM t WHERE id = $1)", [INT], [("exists", BOOL, 0)]),
    ("SELECT id FROM t WHERE id IN (SELECT n FROM u WHERE name = $1)", [TEXT],
     [("id", INT, 1)]),
    ("WITH x AS (SELECT $1::int) SELECT 1", [INT], [("?column?", INT, 0)]),
    ("WITH x AS (SELECT * FROM t WHERE b = $1) SELECT id + 1 AS i FROM x", [BIGINT],
     [("i", INT, 0)]),
    # grouping, aggregates, windows, joins
    ("SELECT count(*) FROM t WHERE b > $1", [BIGINT], [("count", BIGINT, 0)]),
    ("SELECT max(b) FROM t HAVING max(b) > $1", [BIGINT], [("max", BIGINT, 0)]),
    ("SELECT a, count(*) FROM t GROUP BY a HAVING a <> $1", [TEXT],
     [("a", TEXT, 2), ("count", BIGINT, 0)]),
    ("SELECT sum(b) FILTER (WHERE id > $1) FROM t", [INT], [("sum", "numeric", 0)]),
    ("SELECT row_number() OVER (ORDER BY id) FROM t WHERE a = $1", [TEXT],
     [("row_number", BIGINT, 0)]),
    ("SELECT t.*, u.name FROM t JOIN u ON u.n = t.id WHERE u.name = $1", [TEXT],
     _T + [("name", TEXT, 2)]),
    ("SELECT t.id FROM t, u WHERE t.id = u.n AND u.id = $1", [INT], [("id", INT, 1)]),
    ("SELECT $1 FROM t GROUP BY 1", [TEXT], [("?column?", TEXT, 0)]),
    ("SELECT id AS x, a FROM t", [], [("x", INT, 1), ("a", TEXT, 2)]),
    ("SELECT 1::int4, 2::int8, 'x'::varchar(5), 1.5::numeric(4,2), 'abc'", [],
     [("int4", INT, 0), ("int8", BIGINT, 0), ("varchar", "character varying(5)", 0),
      ("numeric", "numeric(4,2)", 0), ("?column?", TEXT, 0)]),
    # INSERT / UPDATE / DELETE, with and without RETURNING
    ("INSERT INTO t (id, c, d) VALUES ($1, $2, $3)", [INT, "numeric", "character varying"],
     None),
    ("INSERT INTO u (name, n) VALUES ($1, $2), ($3, $4)", [TEXT, INT, TEXT, INT], None),
    ("INSERT INTO t (id, j) VALUES ($1, $2)", [INT, "jsonb"], None),
    ("INSERT INTO t (id, a) SELECT $1, $2", [INT, TEXT], None),
    ("INSERT INTO t (id) VALUES ($1) RETURNING *", [INT], _T),
    ("INSERT INTO u (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET n = $2 "
     "RETURNING id, n", [TEXT, INT], [("id", INT, 1), ("n", INT, 3)]),
    ("INSERT INTO u (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET n = excluded.n + $2",
     [TEXT, INT], None),
    ("UPDATE t SET a = $1 WHERE b = $2", [TEXT, BIGINT], None),
    ("UPDATE t SET a = $1 WHERE b = $2 RETURNING id, a", [TEXT, BIGINT],
     [("id", INT, 1), ("a", TEXT, 2)]),
    ("UPDATE t SET c = c + $1, d = $2 WHERE id = $3 RETURNING c * 2 AS twice",
     ["numeric", "character varying", INT], [("twice", "numeric", 0)]),
    ("UPDATE t SET a = u.name FROM u WHERE u.id = t.id AND u.n = $1", [INT], None),
    ("DELETE FROM t WHERE d = $1 RETURNING c, d", [TEXT],
     [("c", "numeric(10,2)", 4), ("d", "character varying(20)", 5)]),
    ("DELETE FROM t WHERE ts < $1 AND flag", ["timestamp with time zone"], None),
    ("INSERT INTO t (id, ts) VALUES ($1, now())", [INT], None),
    ("INSERT INTO u DEFAULT VALUES RETURNING id", [], [("id", INT, 1)]),
    # more shapes drivers send
    ("SELECT * FROM t WHERE a = $1 ORDER BY id LIMIT $2", [TEXT, BIGINT], _T),
    ("SELECT * FROM t WHERE id = $1 UNION ALL SELECT * FROM t WHERE b = $2", [INT, BIGINT],
     [(n, ty, 0) for n, ty, _ in _T]),
    ("SELECT $1 AS a, $2 AS b", [TEXT, TEXT], [("a", TEXT, 0), ("b", TEXT, 0)]),
    ("SELECT nextval('s'), currval('s')", [], [("nextval", BIGINT, 0), ("currval", BIGINT, 0)]),
    ("SELECT $1::timestamptz - ts FROM t", ["timestamp with time zone"],
     [("?column?", "interval", 0)]),
    ("SELECT $1::int[], $2::date + 1", ["integer[]", "date"],
     [("int4", "integer[]", 0), ("?column?", "date", 0)]),
    ("SELECT * FROM t WHERE a LIKE $1 || '%'", [TEXT], _T),
    ("SELECT date_trunc('day', $1::timestamptz)", ["timestamp with time zone"],
     [("date_trunc", "timestamp with time zone", 0)]),
    ("SELECT extract(year FROM $1::date)", ["date"], [("extract", "numeric", 0)]),
    ("SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.n = t.id AND u.name = $1)",
     [TEXT], [("id", INT, 1)]),
    ("SELECT * FROM t WHERE c BETWEEN $1 AND $1 + 10", ["numeric"], _T),
    ("SELECT id FROM t WHERE flag IS NOT DISTINCT FROM $1", [BOOL], [("id", INT, 1)]),
    ("SELECT id FROM t WHERE ts >= $1::date", ["date"], [("id", INT, 1)]),
    ("SELECT id FROM t WHERE $1 < f", ["double precision"], [("id", INT, 1)]),
    ("SELECT coalesce(sum(c), $1) FROM t", ["numeric"], [("coalesce", "numeric", 0)]),
    ("SELECT sum(id) OVER (ORDER BY id ROWS BETWEEN $1 PRECEDING AND CURRENT ROW) FROM t",
     [BIGINT], [("sum", BIGINT, 0)]),
    ("WITH RECURSIVE r(n) AS (SELECT $1::int UNION ALL SELECT n + 1 FROM r WHERE n < $2) "
     "SELECT n FROM r", [INT, INT], [("n", INT, 0)]),
    ("SELECT t.id, upper(x.name) AS name FROM t, LATERAL (SELECT u.name FROM u WHERE u.n = t.id "
     "AND u.id > $1) x", [INT], [("id", INT, 1), ("name", TEXT, 0)]),
    ("SELECT $1::int AS x FROM t UNION SELECT b FROM t", [INT], [("x", BIGINT, 0)]),
    ("SELECT (SELECT max(b) FROM t WHERE id < $1) + 1", [INT], [("?column?", BIGINT, 0)]),
    ("SELECT * FROM t WHERE a = ANY(ARRAY[$1, $2])", [TEXT, TEXT], _T),
    ("INSERT INTO t (id, a) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", [INT, TEXT], None),
    # utility statements
    ("SHOW timezone", [], [("TimeZone", TEXT, 0)]),
    ("SHOW ALL", [], [("name", TEXT, 0), ("setting", TEXT, 0), ("description", TEXT, 0)]),
    ("EXPLAIN SELECT * FROM t WHERE id = $1", [INT], [("QUERY PLAN", TEXT, 0)]),
    ("BEGIN", [], None),
    ("SET search_path = public", [], None),
    ("CREATE TABLE z (a int)", [], None),
]

# Where immusql deliberately answers and PostgreSQL refuses (sql, PostgreSQL's SQLSTATE,
# immusql's parameter types): a parameter no context types is text (PostgreSQL: 42P18
# could not determine data type), two contexts disagreeing keep the first (42P08), and
# unary minus on an unknown is numeric (42725).
LENIENT = [
    ("SELECT 1 WHERE $1 IS NULL", "42P18", [TEXT]),
    ("SELECT pg_typeof($1)", "42P18", [TEXT]),
    ("SELECT $3", "42P18", [TEXT, TEXT, TEXT]),
    ("SELECT $1 FROM t WHERE id = $1", "42P08", [INT]),
    ("SELECT -$1", "42725", ["numeric"]),
]

# Errors describing gives, with PostgreSQL's SQLSTATE (and execution's).
ERRORS = [
    ("SELECT * FROM nosuch WHERE id = $1", "42P01"),
    ("SELECT nosuch FROM t WHERE id = $1", "42703"),
    ("INSERT INTO t (nosuch) VALUES ($1)", "42703"),
    ("UPDATE t SET nosuch = $1", "42703"),
    ("SELECT * FROM t WHERE id = $1::text", "42883"),
    ("SELECT * FROM t WHERE a = $1 OR id = $1", "42883"),
    ("SELECT * FROM t WHERE id IN (SELECT $1)", "42883"),
    ("SELECT $1 + $2", "42725"),
    ("SELECT sum($1)", "42725"),
    ("UPDATE t SET id = $1::date", "42804"),
    ("SELECT * FROM t LIMIT $1::text", "42804"),
    ("INSERT INTO t (id) VALUES ($1, $2)", "42601"),
]
