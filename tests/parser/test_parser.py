"""Parser tests: fixture files of SQL and expected canonical forms, plus the API, positions,
errors, limits, the grammar's conflicts and keyword categories, and speed.

Fixture format (tests/parser/fixtures/*.sql): cases are separated by blank lines; a case is
SQL lines followed by one of
    -- expect: <canonical form>      the parse, printed by canonical.py (fully parenthesised);
                                     parsing that text again must give an equal AST
    -- expect~: <canonical form>     the same, without the round trip (no-ops, printed as
                                     comments, are never read back)
    -- error: <SQLSTATE> @<position> <message>
Lines starting with `## ` are comments. Several statements in one case are printed joined
by "; ". Regenerating an expectation is a review step, not a formality: read the output.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path

import pytest
from canonical import canonical

from immusql import errors
from immusql.parser import GRAMMAR_PATH, MAX_DEPTH, MAX_NESTING, ast, parse, parse_one

FIXTURES = Path(__file__).parent / "fixtures"
_ERROR = re.compile(r"-- error: (\w{5}) @(\d+|None) (.*)\Z")


def _cases():
    for path in sorted(FIXTURES.glob("*.sql")):
        lineno = 1
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            lines = block.strip("\n").split("\n")
            start = lineno + (len(block) - len(block.lstrip("\n")))
            lineno += block.count("\n") + 2
            lines = [ln for ln in lines if not ln.startswith("## ")]
            if not lines or not lines[0].strip():
                continue
            *sql, expect = lines
            assert sql and expect.startswith("-- "), f"{path.name}:{start}: malformed case"
            yield pytest.param("\n".join(sql), expect, id=f"{path.stem}:{start}")


CASES = list(_cases())


@pytest.mark.parametrize("sql,expect", CASES)
def test_fixture(sql, expect):
    if expect.startswith("-- error: "):
        m = _ERROR.match(expect)
        assert m, f"malformed error expectation: {expect}"
        with pytest.raises(errors.Error) as info:
            parse(sql)
        got = info.value
        assert (got.sqlstate, str(got.position), str(got)) == m.groups()
        return
    roundtrip = expect.startswith("-- expect: ")
    assert roundtrip or expect.startswith("-- expect~: "), f"malformed expectation: {expect}"
    statements = parse(sql)
    assert canonical(statements) == expect.split(": ", 1)[1]
    _check_tree(statements)
    if roundtrip and not any(isinstance(s, ast.Noop) for s in statements):
        assert parse(canonical(statements)) == statements, "the canonical form reads back"


def test_fixture_count():
    assert len(CASES) >= 400


# --------------------------------------------------------------------- invariants --------

_INTERNAL = {"Token", "Tree", "Rel", "FuncName", "Tagged", "Ind", "Op", "Quant", "_With",
             "_Set", "_Attr", "_Tail", "_BoolAcc"}


def _check_tree(node) -> None:
    """No parser-internal object leaks into the AST; every expression has a position."""
    stack = [node]
    while stack:
        item = stack.pop()
        assert type(item).__name__ not in _INTERNAL, f"leaked {item!r}"
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item):
            if isinstance(item, ast.Expr):
                assert item.pos >= 0, f"no position: {item!r}"
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        else:
            assert item is None or isinstance(item, (str, int, float, bool, bytes)), item
            assert type(item) in (str, int, float, bool, bytes, type(None)), type(item)


# ---------------------------------------------------------------------------- API --------

def test_parse_splits_statements_and_skips_empty_ones():
    assert parse("") == []
    assert parse("  ;; -- nothing\n ; /* still nothing */ ") == []
    stmts = parse("SELECT 1; ;SELECT 2;")
    assert [canonical(s) for s in stmts] == ["SELECT 1", "SELECT 2"]
    assert parse("SELECT ';'; SELECT $$;$$") == parse("SELECT ';'") + parse("SELECT ';'")


def test_parse_one():
    assert canonical(parse_one("  SELECT 1 ;  ")) == "SELECT 1"
    with pytest.raises(errors.SyntaxError) as info:
        parse_one("SELECT 1; SELECT 2")
    assert str(info.value) == "cannot insert multiple commands into a prepared statement"
    assert info.value.position == 11
    with pytest.raises(errors.SyntaxError) as info:
        parse_one(" -- only a comment")
    assert info.value.sqlstate == "42601"


def test_grammar_path():
    assert GRAMMAR_PATH.name == "sql.lark" and GRAMMAR_PATH.parent.name == "grammar"
    assert GRAMMAR_PATH.is_file()


# ---------------------------------------------------------------------- positions --------

def _at(sql: str, pos: int) -> str:
    return sql[pos:pos + 12]


@pytest.mark.parametrize("sql,path,text", [
    ("  SELECT a FROM t", "", "SELECT"),
    ("/* c */ WITH x AS (SELECT 1) SELECT * FROM x", "", "WITH"),
    ("(SELECT 1) UNION SELECT 2", "", "(SELECT"),
    ("SELECT 1; \n  UPDATE t SET a = 1", "1", "UPDATE"),
    ("SELECT a + b FROM t", "body.items.0.expr", "a + b"),
    ("SELECT x, -y FROM t", "body.items.1.expr", "-y"),
    ("SELECT f(1), s.g(2)", "body.items.1.expr", "s.g(2)"),
    ("SELECT 1, 'x', $3", "body.items.2.expr", "$3"),
    ("SELECT CAST(x AS int), y::int", "body.items.0.expr", "CAST("),
    ("SELECT CAST(x AS int), y::int", "body.items.1.expr", "y::int"),
    ("SELECT DATE '2024-01-01'", "body.items.0.expr", "DATE"),
    ("SELECT DATE '2024-01-01'", "body.items.0.expr.operand", "'2024-01-01'"),
    ("SELECT 1, TIMESTAMP(3) WITH TIME ZONE 'now'", "body.items.1.expr", "TIMESTAMP(3)"),
    ("SELECT 1, double precision '1'", "body.items.1.expr", "double"),
    ("SELECT 1, INTERVAL '1' DAY", "body.items.1.expr", "INTERVAL"),
    ("SELECT CASE WHEN a THEN 1 END", "body.items.0.expr", "CASE"),
    ("SELECT a FROM t WHERE x = 1 AND y IS NULL", "body.where", "x = 1"),
    ("SELECT a FROM t WHERE x = 1 AND y IS NULL", "body.where.operands.1", "y IS NULL"),
    ("SELECT a FROM t WHERE NOT x", "body.where", "NOT x"),
    ("SELECT a FROM t WHERE b IN (SELECT c FROM u)", "body.where.query", "SELECT c"),
    ("SELECT EXISTS (SELECT 1)", "body.items.0.expr", "EXISTS"),
    ("SELECT ARRAY[1, 2], ROW(1)", "body.items.1.expr", "ROW(1)"),
    ("SELECT * FROM s.t AS x JOIN u ON true", "body.from_.0", "s.t AS x"),
    ("SELECT * FROM s.t AS x JOIN u ON true", "body.from_.0.right", "u ON"),
    ("SELECT * FROM HISTORY OF t", "body.from_.0", "HISTORY"),
    ("SELECT * FROM LATERAL f(x) g", "body.from_.0", "LATERAL"),
    ("SELECT * FROM (SELECT 1) s", "body.from_.0", "SELECT 1"),
    ("SELECT a FROM t ORDER BY b LIMIT 10", "limit", "10"),
    ("SELECT CURRENT_DATE, count(*)", "body.items.1.expr", "count(*)"),
    ("INSERT INTO t VALUES (1, DEFAULT)", "source.body.rows.0.1", "DEFAULT"),
])
def test_positions(sql, path, text):
    node = parse(sql)
    if not path or not path[0].isdigit():
        node = node[0]
    for step in path.split(".") if path else ():
        node = node[int(step)] if step.isdigit() else getattr(node, step)
    assert _at(sql, node.pos).startswith(text), (node, _at(sql, node.pos))


# ------------------------------------------------------------------------- errors --------

@pytest.mark.parametrize("sql,hint", [
    ("SELECT * FORM t", "Perhaps you meant FROM."),
    ("SELEC 1", "Perhaps you meant SELECT."),
    ("SELECT * FROM t WHER a = 1", 'Perhaps "WHER" should be WHERE.'),
    ("SELECT select FROM t", 'write it in double quotes ("select") to use it as a name'),
    ("CREATE TABLE t (user text)", 'write it in double quotes ("user")'),
    ("SELECT a, FROM t", 'Is the comma before "FROM" one too many?'),
    ("SELECT f(1, 2", "1 parenthesis is not closed."),
    ("SELECT ((1", "2 parentheses are not closed."),
    ("SELECT 1)", 'This ")" closes no parenthesis.'),
    ("SELECT a BETWEEN 1", "BETWEEN needs AND"),
    ("SELECT 1 FROM t LIMIT 1, 2", "Use separate LIMIT and OFFSET clauses."),
])
def test_hints(sql, hint):
    with pytest.raises(errors.SyntaxError) as info:
        parse(sql)
    assert hint in (info.value.hint or ""), info.value.hint


def test_error_classes_carry_sqlstate_and_position():
    with pytest.raises(errors.ProgrammingError) as info:  # PEP 249 class of 42601
        parse("SELECT 'abc")
    err = info.value
    assert (err.sqlstate, err.pgcode, err.position) == ("42601", "42601", 8)
    assert str(err) == "unterminated quoted string at or near \"'abc\""
    assert errors.lookup("42601") is errors.SyntaxError


def test_error_position_counts_characters_not_bytes():
    with pytest.raises(errors.SyntaxError) as info:
        parse("SELECT 'é€😀' FORM t")  # FORM is an alias of the constant: t is the error
    assert (info.value.position, str(info.value)) == (19, 'syntax error at or near "t"')


def test_long_literal_is_quoted_short_in_messages():
    sql = "SELECT '" + "x" * 10000
    with pytest.raises(errors.SyntaxError) as info:
        parse(sql)
    assert len(str(info.value)) < 200 and info.value.position == 8


# ----------------------------------------------------------- size and nesting limits -----

def _expect_too_complex(sql):
    with pytest.raises(errors.StatementTooComplex) as info:
        parse(sql)
    assert info.value.sqlstate == "54001"
    assert str(info.value) == "stack depth limit exceeded"
    return info.value


def test_deep_parentheses_fail_cleanly():
    err = _expect_too_complex("SELECT " + "(" * 2000 + "1" + ")" * 2000)
    assert err.position == len("SELECT ") + MAX_NESTING + 1  # the first one too many
    _expect_too_complex("SELECT " + "ARRAY[" * 2000 + "1" + "]" * 2000)
    _expect_too_complex("SELECT * FROM t WHERE a IN " + "(SELECT a FROM t WHERE a IN " * 1500
                        + "(1)" + ")" * 1500)


def test_nesting_up_to_the_limit_is_fine():
    depth = MAX_NESTING - 1
    stmt = parse_one("SELECT " + "(" * depth + "1" + ")" * depth)
    assert canonical(stmt) == "SELECT 1"


def test_deep_trees_without_parentheses_fail_cleanly():
    _expect_too_complex("SELECT " + "NOT " * 5000 + "true")
    _expect_too_complex("SELECT " + "- " * 5000 + "x")
    _expect_too_complex("SELECT x" + "::int" * 3000)
    _expect_too_complex("SELECT " + " UNION SELECT ".join(["1"] * 3000))
    _expect_too_complex("SELECT * FROM t0" + "".join(f" JOIN t{i} ON true" for i in range(1, 2000)))
    _expect_too_complex("SELECT " + "CASE WHEN " * 1000 + "a" + " THEN 1 END" * 1000)


def test_depth_limit_boundary():
    ok = "SELECT " + " || ".join(["a"] * (MAX_DEPTH - 5))
    assert parse_one(ok)
    _expect_too_complex("SELECT " + " || ".join(["a"] * (MAX_DEPTH + 5)))


_MEGABYTE_SHAPES = {
    "operator chain": "SELECT " + "+".join(["1"] * 500_000),
    "prefix operators": "SELECT " + "NOT " * 250_000 + "true",
    "casts": "SELECT x" + "::int" * 200_000,
    "parentheses": "SELECT " + "(" * 500_000 + "1" + ")" * 500_000,
    "set operations": "SELECT 1" + " UNION SELECT 1" * 70_000,
    "joins": "SELECT * FROM t" + " JOIN t ON true" * 70_000,
    "subscripts": "SELECT a" + "[1]" * 340_000,
    "garbage": "SELECT " + "1 " * 500_000,
    "unterminated constant": "SELECT '" + "x" * 1_000_000,
}


@pytest.mark.parametrize("shape", list(_MEGABYTE_SHAPES.values()), ids=list(_MEGABYTE_SHAPES))
def test_one_megabyte_statements_fail_cleanly(shape):
    assert len(shape) >= 1_000_000
    with pytest.raises((errors.StatementTooComplex, errors.SyntaxError)) as info:
        parse(shape)
    assert info.value.sqlstate in ("54001", "42601") and info.value.position


def test_long_flat_lists_are_fine():
    values = ", ".join(str(i) for i in range(20_000))
    assert len(parse_one(f"SELECT * FROM t WHERE id IN ({values})").body.where.items) == 20_000
    ors = " OR ".join(f"a = {i}" for i in range(10_000))
    assert len(parse_one(f"SELECT 1 WHERE {ors}").body.where.operands) == 10_000
    rows = ", ".join(f"({i}, 'n{i}')" for i in range(5_000))
    assert len(parse_one(f"INSERT INTO t VALUES {rows}").source.body.rows) == 5_000
    big = "x" * 1_000_000
    assert parse_one(f"SELECT '{big}'").body.items[0].expr.value == big


# -------------------------------------------------------------- grammar and lexer --------

def _grammar_conflicts() -> list[str]:
    """Build the grammar without the cache, collecting Lark's shift/reduce reports."""
    import logging

    from lark import Lark, logger

    from immusql.parser import _TokenFeed

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        Lark(GRAMMAR_PATH.read_text(), parser="lalr", lexer=_TokenFeed, debug=True,
             maybe_placeholders=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    pairs = zip(messages[::2], messages[1::2])
    return sorted(f"{a.split()[4].rstrip(':')} {b.strip(' *')}" for a, b in pairs)


def test_grammar_conflicts_are_the_known_four():
    """Each is resolved as a shift, which is also PostgreSQL's resolution:
    `((SELECT 1))` is a parenthesised query (not a parenthesised scalar subquery),
    `UNBOUNDED PRECEDING` is the frame bound (not a column named unbounded), and
    `SELECT DISTINCT ON` starts DISTINCT ON (...)."""
    assert _grammar_conflicts() == [
        "FOLLOWING <unreserved_label : UNBOUNDED>",
        "ON <distinct_clause : DISTINCT>",
        "PRECEDING <unreserved_label : UNBOUNDED>",
        "RPAR <indirect : select_with_parens>",
    ]


def _parser():
    from immusql.parser import _parser as get
    return get()


def test_every_rule_has_a_callback():
    from immusql.parser.transformer import AstBuilder
    missing = set()
    for rule in _parser().lark.rules:
        name = rule.alias or rule.origin.name
        kept = [s for s in rule.expansion if not (s.is_term and s.filter_out)]
        if name.startswith("_") or (rule.options.expand1 and len(kept) == 1):
            continue
        if not hasattr(AstBuilder, name):
            missing.add(name)
    # rules whose only job is to accept syntax, inlined by `?` when they pass one child
    assert missing <= {"start", "stmt"}, sorted(missing)


def _keyword_categories() -> dict[str, str]:
    groups = {"unreserved_label": "unreserved", "unreserved_nolabel": "unreserved",
              "col_name_label": "col_name", "col_name_nolabel": "col_name",
              "type_func_name_keyword": "type_func_name", "reserved_keyword": "reserved"}
    out: dict[str, str] = {}
    for rule in _parser().lark.rules:
        category = groups.get(rule.origin.name)
        if category:
            (sym,) = rule.expansion
            assert sym.name not in out, f"{sym.name} is in two keyword categories"
            out[sym.name] = category
    return out


def test_every_keyword_has_one_category():
    keywords = set(_parser().tokenizer.keywords.values())
    assert keywords == set(_keyword_categories())


# PostgreSQL 15's categories (kwlist.h) where immusql keeps them; the exceptions are
# BETWEEN (reserved here: PostgreSQL needs operator precedence to let it be a column name)
# and OPERATOR (a col_name keyword here, so OPERATOR(...) is never a function call).
_PG_CATEGORIES = {
    "unreserved": """ABORT ACTION ADD ADMIN ALTER ALWAYS AT BEFORE BEGIN BY CACHE CASCADE
        CASCADED CHAIN CHARACTERISTICS CHECKPOINT COMMENT COMMIT COMMITTED CONFLICT CONTINUE
        CURRENT CYCLE DATA DATABASE DAY DEFERRED DELETE DISCARD DOUBLE DROP ESCAPE EXCLUDE
        EXPLAIN EXTENSION FILTER FIRST FOLLOWING FUNCTION FUNCTIONS GENERATED GLOBAL GROUPS
        HOUR IDENTITY IF IMMEDIATE INCLUDE INCREMENT INDEX INHERIT INSERT ISOLATION KEY LAST
        LEVEL LISTEN LOCAL LOCKED MATCH MATERIALIZED MAXVALUE MINUTE MINVALUE MONTH NAMES NEXT
        NO NOTHING NOTIFY NOWAIT OF OPTION ORDINALITY OTHERS OVER OWNED OWNER PARTIAL PARTITION
        PLANS PRECEDING PRESERVE PRIVILEGES RANGE READ RECURSIVE RELEASE RENAME REPEATABLE
        REPLACE RESET RESTART RESTRICT REVOKE ROLE ROLLBACK ROWS SAVEPOINT SCHEMA SECOND
        SEQUENCE SEQUENCES SERIALIZABLE SESSION SET SHARE SHOW SIMPLE SKIP START STORED TABLES
        TEMP TEMPORARY TIES TRANSACTION TRUNCATE TYPE UNBOUNDED UNCOMMITTED UNKNOWN UNLISTEN
        UNLOGGED UPDATE VACUUM VALID VARYING VIEW WITHIN WITHOUT WORK WRITE YEAR ZONE
        OVERRIDING SYSTEM VALUE
        ACCESS CONNECTION COPY CSV DEALLOCATE DELIMITER ENCODING ENCRYPTED EXCLUSIVE EXECUTE
        FORCE HEADER LOCK MODE PASSWORD PREPARE PROGRAM QUOTE STDIN STDOUT TEMPLATE
        ABSOLUTE ASENSITIVE BACKWARD CLOSE CURSOR DECLARE FORWARD HOLD INSENSITIVE MOVE PRIOR
        RELATIVE SCROLL
        COMMENTS COMPRESSION CONSTRAINTS DEFAULTS EXCLUDING INCLUDING INDEXES STATISTICS
        STORAGE AFTER ENUM""",
    "col_name": """BIGINT BIT BOOLEAN CHAR CHARACTER COALESCE DEC DECIMAL EXISTS EXTRACT FLOAT
        GREATEST INT INTEGER INTERVAL LEAST NONE NULLIF NUMERIC OVERLAY POSITION PRECISION REAL
        ROW SMALLINT SUBSTRING TIME TIMESTAMP TRIM VALUES VARCHAR""",
    "type_func_name": """AUTHORIZATION BINARY CONCURRENTLY CROSS CURRENT_SCHEMA FREEZE FULL ILIKE
        INNER IS ISNULL JOIN LEFT LIKE NATURAL NOTNULL OUTER OVERLAPS RIGHT SIMILAR VERBOSE""",
    "reserved": """ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BOTH CASE CAST CHECK
        COLLATE COLUMN CONSTRAINT CREATE CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE CURRENT_TIME
        CURRENT_TIMESTAMP CURRENT_USER DEFAULT DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT FALSE
        FETCH FOR FOREIGN FROM GRANT GROUP HAVING IN INITIALLY INTERSECT INTO LATERAL LEADING
        LIMIT LOCALTIME LOCALTIMESTAMP NOT NULL OFFSET ON ONLY OR ORDER PLACING PRIMARY
        REFERENCES RETURNING SELECT SESSION_USER SOME SYMMETRIC TABLE THEN TO TRAILING TRUE UNION
        UNIQUE USER USING VARIADIC WHEN WHERE WINDOW WITH""",
}
_IMMUDB_KEYWORDS = {"TX": "unreserved", "HISTORY": "unreserved", "SINCE": "unreserved",
                    "UNTIL": "unreserved", "VERIFY": "unreserved", "BETWEEN": "reserved", "OPERATOR": "col_name"}


def test_keyword_categories_follow_postgresql():
    expected = {kw: cat for cat, words in _PG_CATEGORIES.items() for kw in words.split()}
    expected.update(_IMMUDB_KEYWORDS)
    assert _keyword_categories() == expected


def test_lexer_punctuation_matches_the_grammar():
    from immusql.parser.lexer import PUNCTUATION
    for term in _parser().lark.terminals:
        if term.pattern.type == "str" and not term.pattern.value.replace("_", "").isalpha():
            assert PUNCTUATION[term.pattern.value] == term.name, term


@pytest.mark.parametrize("sql,types", [
    ("a NOT IN b NOT LIKE c NOT x", "IDENT NOT_LA IN IDENT NOT_LA LIKE IDENT NOT IDENT"),
    ("WITH time WITH ordinality WITH x", "WITH_LA TIME WITH_LA ORDINALITY WITH IDENT"),
    ("nulls first nulls x nulls not distinct", "_NULLS_LA FIRST IDENT IDENT _NULLS_LA NOT "
                                               "DISTINCT"),
    ('"nulls" last', "QIDENT LAST"),
    ("a<=-1 a!=b a=>b a:=b a::b a..b", "IDENT LE MINUS ICONST IDENT NE IDENT IDENT "
                                      "EQUALS_GREATER IDENT IDENT COLON_EQUALS IDENT IDENT "
                                      "TYPECAST IDENT IDENT DOT_DOT IDENT"),
])
def test_lexer_lookahead_and_operators(sql, types):
    assert " ".join(t.type for t in _parser().tokenizer.tokenize(sql)) == types


# ------------------------------------------------------------------ threads, speed -------

def test_parsing_is_thread_safe():
    sqls = [sql for sql, expect in (c.values for c in CASES) if "-- expect" in expect]
    expected = [parse(s) for s in sqls]
    failures = []

    def work():
        for _ in range(3):
            if [parse(s) for s in sqls] != expected:
                failures.append(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures

