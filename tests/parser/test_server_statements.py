"""Parser tests for the statements the server and its clients send: COPY (both option
syntaxes), roles, databases, GRANT/REVOKE ON DATABASE, PREPARE/EXECUTE/DEALLOCATE, LOCK and
immusql's VERIFY. The exact strings pgbench, psql and psycopg send are here verbatim."""

from __future__ import annotations

import pytest

from immusql import errors
from immusql.parser import ast, parse, parse_one
from immusql.parser.ast import (
    BinaryOp,
    ColumnRef,
    Copy,
    DatabaseGrant,
    DatabaseStmt,
    Deallocate,
    ExecutePrepared,
    Literal,
    Name,
    Noop,
    Param,
    Prepare,
    RoleStmt,
    TypeName,
    VerifyRow,
    VerifyTx,
)


def _int(n: int) -> Literal:
    return Literal(n, "integer")


def _eq(column: str, value) -> BinaryOp:
    return BinaryOp("=", ColumnRef((column,)), value)


def _error(sql: str) -> errors.Error:
    with pytest.raises(errors.Error) as info:
        parse(sql)
    return info.value


# ------------------------------------------------------------------------ COPY -----------

@pytest.mark.parametrize("sql,expected", [
    # pgbench's load
    ("copy pgbench_accounts from stdin with (freeze on)",
     Copy("from", Name(("pgbench_accounts",)), options=(("freeze", True),))),
    ("COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER true)",
     Copy("from", Name(("t",)), ("a", "b"), options=(("format", "csv"), ("header", True)))),
    ("copy t from stdin csv header",
     Copy("from", Name(("t",)), options=(("format", "csv"), ("header", True)))),
    # psql's \copy t (a, b) from 'f' csv header
    ("COPY  t ( a, b ) FROM STDIN CSV HEADER",
     Copy("from", Name(("t",)), ("a", "b"), options=(("format", "csv"), ("header", True)))),
    # psycopg's cursor.copy()
    ("COPY t FROM STDIN (FORMAT BINARY)",
     Copy("from", Name(("t",)), options=(("format", "binary"),))),
    ("COPY s.t TO STDOUT", Copy("to", Name(("s", "t")))),
    ("COPY t FROM STDIN WITH", Copy("from", Name(("t",)))),
    ("COPY t FROM STDOUT", Copy("from", Name(("t",)))),  # PostgreSQL takes either word
])
def test_copy_client_forms(sql, expected):
    assert parse(sql) == [expected]


def test_copy_old_option_syntax():
    stmt = parse_one("copy t to stdout with csv header delimiter ',' null '' quote '\"' "
                     "escape E'\\\\' force quote *")
    assert stmt.direction == "to"
    assert stmt.options == (("format", "csv"), ("header", True), ("delimiter", ","),
                            ("null", ""), ("quote", '"'), ("escape", "\\"),
                            ("force_quote", "*"))
    stmt = parse_one("COPY t FROM STDIN WITH CSV FORCE NOT NULL a, b FORCE NULL c "
                     "ENCODING 'UTF8' FREEZE")
    assert stmt.options == (("format", "csv"), ("force_not_null", ("a", "b")),
                            ("force_null", ("c",)), ("encoding", "UTF8"), ("freeze", True))
    assert parse_one("COPY t TO STDOUT CSV FORCE QUOTE a, \"B\"").options == (
        ("format", "csv"), ("force_quote", ("a", "B")))
    assert parse_one("COPY t FROM STDIN DELIMITER AS '|' NULL AS 'x' BINARY").options == (
        ("delimiter", "|"), ("null", "x"), ("format", "binary"))
    assert parse_one("COPY BINARY t TO STDOUT").options == (("format", "binary"),)


def test_copy_new_option_syntax():
    stmt = parse_one("COPY t (a) TO STDOUT (FORMAT csv, HEADER, DELIMITER ';', NULL 'N', "
                     "QUOTE '''', ESCAPE 'e', FORCE_QUOTE (a, \"B\"), FORCE_NOT_NULL (x), "
                     "FORCE_NULL (y, z), ENCODING 'UTF8', FREEZE off)")
    assert stmt.options == (
        ("format", "csv"), ("header", True), ("delimiter", ";"), ("null", "N"),
        ("quote", "'"), ("escape", "e"), ("force_quote", ("a", "B")),
        ("force_not_null", ("x",)), ("force_null", ("y", "z")), ("encoding", "UTF8"),
        ("freeze", False))
    assert parse_one("COPY t TO STDOUT (FORCE_QUOTE *, FORMAT text)").options == (
        ("force_quote", "*"), ("format", "text"))
    assert parse_one("COPY t FROM STDIN (DELIMITER E'\\t', NULL 5)").options == (
        ("delimiter", "\t"), ("null", "5"))


@pytest.mark.parametrize("value,expected", [
    ("", True), ("on", True), ("off", False), ("true", True), ("false", False),
    ("TRUE", True), ("1", True), ("0", False), ("'on'", True), ("'Off'", False),
])
def test_copy_boolean_options(value, expected):
    assert parse_one(f"COPY t FROM STDIN (FREEZE {value})").options == (("freeze", expected),)
    assert parse_one(f"COPY t FROM STDIN (HEADER {value})").options == (("header", expected),)


def test_copy_header_match():
    assert parse_one("COPY t FROM STDIN (HEADER match)").options == (("header", "match"),)
    assert parse_one("COPY t FROM STDIN (HEADER 'MATCH')").options == (("header", "match"),)
    err = _error("COPY t TO STDOUT (HEADER match)")
    assert (err.sqlstate, str(err)) == ("22023", 'cannot use "match" with HEADER in COPY TO')


def test_copy_files_programs_queries_and_where():
    assert parse_one("COPY t FROM '/tmp/t.csv' CSV") == Copy(
        "from", Name(("t",)), filename="/tmp/t.csv", options=(("format", "csv"),))
    assert parse_one("COPY t TO PROGRAM 'gzip > x.gz'") == Copy(
        "to", Name(("t",)), program="gzip > x.gz")
    stmt = parse_one("COPY t FROM STDIN WITH (FORMAT csv) WHERE a > 1")
    assert stmt.where == BinaryOp(">", ColumnRef(("a",)), _int(1))
    assert parse_one("COPY t FROM STDIN WHERE a = 1").where == _eq("a", _int(1))
    stmt = parse_one("COPY (SELECT a FROM t WHERE b) TO STDOUT WITH (FORMAT csv)")
    assert stmt.table is None and stmt.direction == "to"
    assert isinstance(stmt.query, ast.Query) and stmt.options == (("format", "csv"),)
    stmt = parse_one("COPY (INSERT INTO t VALUES (1) RETURNING a) TO STDOUT")
    assert isinstance(stmt.query, ast.Insert)
    assert isinstance(parse_one("COPY ((SELECT 1) UNION (SELECT 2)) TO STDOUT").query,
                      ast.Query)
    assert parse_one("  COPY t TO STDOUT").pos == 2


@pytest.mark.parametrize("sql,sqlstate,position,message", [
    ("COPY t FROM STDIN (bogus 1)", "42601", 20, 'option "bogus" not recognized'),
    ("COPY t FROM STDIN (FORMAT csv, oids)", "42601", 32, 'option "oids" not recognized'),
    ("COPY t FROM STDIN (FORMAT 'CSV')", "22023", 20, 'COPY format "CSV" not recognized'),
    ("COPY t FROM STDIN (FORMAT xml)", "22023", 20, 'COPY format "xml" not recognized'),
    ("COPY t FROM STDIN (FREEZE maybe)", "42601", 20, "freeze requires a Boolean value"),
    ("COPY t FROM STDIN (HEADER 2)", "42601", 20,
     'header requires a Boolean value or "match"'),
    ("COPY t FROM STDIN (DELIMITER)", "42601", 20, "delimiter requires a parameter"),
    ("COPY t FROM STDIN (FORCE_NOT_NULL *)", "42601", 20,
     'argument to option "force_not_null" must be a list of column names'),
    ("COPY t FROM STDIN (FORCE_QUOTE a)", "42601", 20,
     'argument to option "force_quote" must be a list of column names'),
    ("COPY t FROM STDIN (FORMAT text, FORMAT csv)", "42601", 33,
     "conflicting or redundant options"),
    ("COPY t FROM STDIN CSV BINARY", "42601", 23, "conflicting or redundant options"),
    ("COPY t FROM PROGRAM STDIN", "42601", 21, "STDIN/STDOUT not allowed with PROGRAM"),
    ("COPY t TO STDOUT WHERE a = 1", "0A000", 24, "WHERE clause not allowed with COPY TO"),
    ("COPY (DELETE FROM t) TO STDOUT", "0A000", 7, "COPY query must have a RETURNING clause"),
    ("COPY (SELECT 1) FROM STDIN", "42601", 17, 'syntax error at or near "FROM"'),
    ("COPY t FORM STDIN", "42601", 8, 'syntax error at or near "FORM"'),
    ("COPY t FROM STDIN (FORMAT csv", "42601", 30, "syntax error at end of input"),
    ("COPY t FROM STDIN CSV HEADER MATCH", "42601", 30, 'syntax error at or near "MATCH"'),
])
def test_copy_errors(sql, sqlstate, position, message):
    err = _error(sql)
    assert (err.sqlstate, err.position, str(err)) == (sqlstate, position, message)


# ----------------------------------------------------------------------- roles -----------

def test_create_role_and_user():
    assert parse_one("CREATE USER alice WITH PASSWORD 'secret'") == RoleStmt(
        "create", ("alice",), "user", (("password", "secret"), ("login", True)))
    assert parse_one("CREATE USER u NOLOGIN") == RoleStmt(
        "create", ("u",), "user", (("login", False),))
    assert parse_one("CREATE ROLE r") == RoleStmt("create", ("r",))
    stmt = parse_one("CREATE ROLE r WITH SUPERUSER NOCREATEDB CREATEROLE LOGIN NOINHERIT "
                     "REPLICATION NOBYPASSRLS CONNECTION LIMIT -1 ENCRYPTED PASSWORD 'x' "
                     "VALID UNTIL '2030-01-01' IN ROLE a, b ROLE c ADMIN d, e")
    assert stmt == RoleStmt("create", ("r",), "role", (
        ("superuser", True), ("createdb", False), ("createrole", True), ("login", True),
        ("inherit", False), ("replication", True), ("bypassrls", False),
        ("connection_limit", -1), ("password", "x"), ("valid_until", "2030-01-01"),
        ("in_role", ("a", "b")), ("role", ("c",)), ("admin", ("d", "e"))))
    assert parse_one("CREATE GROUP g IN GROUP h USER u1, u2") == RoleStmt(
        "create", ("g",), "group", (("in_role", ("h",)), ("role", ("u1", "u2"))))
    assert parse_one("CREATE ROLE r INHERIT NOSUPERUSER NOCREATEROLE NOREPLICATION "
                     "BYPASSRLS CREATEDB PASSWORD NULL").options == (
        ("inherit", True), ("superuser", False), ("createrole", False),
        ("replication", False), ("bypassrls", True), ("createdb", True), ("password", None))
    assert parse_one('CREATE ROLE "Mixed"').names == ("Mixed",)


def test_alter_and_drop_role():
    assert parse_one("ALTER ROLE alice WITH PASSWORD NULL") == RoleStmt(
        "alter", ("alice",), "role", (("password", None),))
    assert parse_one("ALTER USER bob PASSWORD 'md5abc' VALID UNTIL 'infinity'") == RoleStmt(
        "alter", ("bob",), "user", (("password", "md5abc"), ("valid_until", "infinity")))
    assert parse_one("ALTER ROLE CURRENT_USER NOLOGIN CONNECTION LIMIT 3") == RoleStmt(
        "alter", ("current_user",), "role", (("login", False), ("connection_limit", 3)))
    assert parse_one("ALTER ROLE x") == RoleStmt("alter", ("x",))
    assert parse_one("ALTER ROLE x RENAME TO y") == RoleStmt("alter", ("x",), new_name="y")
    assert parse_one("ALTER GROUP x RENAME TO y") == RoleStmt(
        "alter", ("x",), "group", new_name="y")
    assert parse_one("DROP ROLE IF EXISTS a, b") == RoleStmt(
        "drop", ("a", "b"), "role", if_exists=True)
    assert parse_one("DROP USER a") == RoleStmt("drop", ("a",), "user")
    assert parse_one("DROP GROUP g") == RoleStmt("drop", ("g",), "group")


@pytest.mark.parametrize("sql,sqlstate,position,message", [
    ("CREATE ROLE r FOO", "42601", 15, 'unrecognized role option "foo"'),
    ("CREATE ROLE r LOGIN NOLOGIN", "42601", 21, "conflicting or redundant options"),
    ("CREATE ROLE r PASSWORD 'a' PASSWORD NULL", "42601", 28,
     "conflicting or redundant options"),
    ("CREATE ROLE r CONNECTION LIMIT 'x'", "42601", 32, "syntax error at or near \"'x'\""),
    ("CREATE ROLE select", "42601", 13, 'syntax error at or near "select"'),
    ("ALTER ROLE x IN ROLE y", "42601", 17, 'syntax error at or near "ROLE"'),
    ("ALTER ROLE x ADMIN y", "42601", 14, 'syntax error at or near "ADMIN"'),
    ("ALTER GROUP x WITH LOGIN", "42601", 15, 'syntax error at or near "WITH"'),
    ("DROP ROLE", "42601", 10, "syntax error at end of input"),
    ("ALTER ROLE x SET search_path = a", "0A000", 14, "ALTER ROLE ... SET is not supported"),
    ("ALTER USER x IN DATABASE d RESET ALL", "0A000", 28,
     "ALTER USER ... RESET is not supported"),
])
def test_role_errors(sql, sqlstate, position, message):
    err = _error(sql)
    assert (err.sqlstate, err.position, str(err)) == (sqlstate, position, message)


# ------------------------------------------------------------------- databases -----------

def test_database_statements():
    assert parse_one("CREATE DATABASE app OWNER alice") == DatabaseStmt(
        "create", "app", (("owner", "alice"),))
    stmt = parse_one("CREATE DATABASE app WITH OWNER = alice TEMPLATE = template0 "
                     "ENCODING = 'UTF8' LC_COLLATE = 'C' LC_CTYPE 'C' LOCALE 'en_US' "
                     "CONNECTION LIMIT = 10 ALLOW_CONNECTIONS = false IS_TEMPLATE true")
    assert stmt == DatabaseStmt("create", "app", (
        ("owner", "alice"), ("template", "template0"), ("encoding", "UTF8"),
        ("lc_collate", "C"), ("lc_ctype", "C"), ("locale", "en_US"),
        ("connection_limit", 10), ("allow_connections", False), ("is_template", True)))
    assert parse_one("CREATE DATABASE d OWNER DEFAULT ENCODING 6").options == (
        ("encoding", 6),)
    assert parse_one("CREATE DATABASE database") == DatabaseStmt("create", "database")
    assert parse_one("DROP DATABASE IF EXISTS app WITH (FORCE)") == DatabaseStmt(
        "drop", "app", if_exists=True, force=True)
    assert parse_one("DROP DATABASE app (FORCE)") == DatabaseStmt("drop", "app", force=True)
    assert parse_one("DROP DATABASE app") == DatabaseStmt("drop", "app")
    assert parse_one("ALTER DATABASE app RENAME TO app2") == DatabaseStmt(
        "alter", "app", new_name="app2")
    assert parse_one("ALTER DATABASE app OWNER TO bob") == DatabaseStmt(
        "alter", "app", (("owner", "bob"),))
    assert parse_one("ALTER DATABASE app WITH CONNECTION LIMIT 5") == DatabaseStmt(
        "alter", "app", (("connection_limit", 5),))
    assert parse_one("ALTER DATABASE app ALLOW_CONNECTIONS false IS_TEMPLATE on") == (
        DatabaseStmt("alter", "app", (("allow_connections", False), ("is_template", True))))


@pytest.mark.parametrize("sql,sqlstate,position,message", [
    ("CREATE DATABASE d FOO 1", "42601", 19, 'option "foo" not recognized'),
    ("CREATE DATABASE d CONNECTION LIMIT 'x'", "42601", 19,
     "connection_limit requires an integer value"),
    ("CREATE DATABASE d IS_TEMPLATE maybe", "42601", 19, "is_template requires a Boolean value"),
    ("CREATE DATABASE d OWNER a OWNER b", "42601", 27, "conflicting or redundant options"),
    ("CREATE DATABASE d OWNER", "42601", 24, "syntax error at end of input"),
    ("ALTER DATABASE app OWNER bob", "42601", 20, 'option "owner" not recognized'),
    ("ALTER DATABASE app SET work_mem = '1MB'", "0A000", 20,
     "ALTER DATABASE ... SET is not supported"),
    ("DROP DATABASE app WITH (CASCADE)", "42601", 25, 'syntax error at or near "CASCADE"'),
    ("DROP DATABASE a, b", "42601", 16, 'syntax error at or near ","'),
])
def test_database_errors(sql, sqlstate, position, message):
    err = _error(sql)
    assert (err.sqlstate, err.position, str(err)) == (sqlstate, position, message)


# ------------------------------------------------------------ GRANT ON DATABASE ----------

def test_database_grants():
    assert parse_one("GRANT CONNECT ON DATABASE app TO alice") == DatabaseGrant(
        "grant", ("connect",), ("app",), ("alice",))
    assert parse_one("REVOKE CONNECT ON DATABASE app FROM PUBLIC") == DatabaseGrant(
        "revoke", ("connect",), ("app",), ("public",))
    assert parse_one("GRANT CONNECT, CREATE, TEMP, TEMPORARY ON DATABASE a, b "
                     "TO alice, GROUP bob, PUBLIC") == DatabaseGrant(
        "grant", ("connect", "create", "temporary", "temporary"), ("a", "b"),
        ("alice", "bob", "public"))
    assert parse_one("GRANT ALL PRIVILEGES ON DATABASE a TO x").privileges == ("all",)
    assert parse_one("REVOKE ALL ON DATABASE a FROM x CASCADE") == DatabaseGrant(
        "revoke", ("all",), ("a",), ("x",))


@pytest.mark.parametrize("sql,tag", [
    ("GRANT SELECT ON t TO alice", "GRANT"),
    ("GRANT SELECT ON database TO alice", "GRANT"),  # a table named database
    ("GRANT USAGE ON SCHEMA s TO bob", "GRANT"),
    ("GRANT admin TO alice WITH ADMIN OPTION", "GRANT"),
    ("REVOKE GRANT OPTION FOR SELECT ON t FROM alice CASCADE", "REVOKE"),
    ("REVOKE admin FROM alice", "REVOKE"),
])
def test_other_grants_stay_noops(sql, tag):
    assert parse(sql) == [Noop(tag)]


@pytest.mark.parametrize("sql,sqlstate,position,message", [
    ("GRANT SELECT ON DATABASE a TO x", "0LP01", 7, "invalid privilege type SELECT for database"),
    ("GRANT CONNECT (c) ON DATABASE a TO x", "0LP01", 7,
     "column privileges are only valid for relations"),
    ("GRANT CONNECT ON DATABASE a TO x WITH GRANT OPTION", "0A000", 34,
     "WITH GRANT OPTION on databases is not supported"),
    ("REVOKE GRANT OPTION FOR CONNECT ON DATABASE a FROM x", "0A000", 8,
     "REVOKE GRANT OPTION FOR on databases is not supported"),
    ("GRANT CONNECT ON DATABASE a FROM x", "42601", 29, 'syntax error at or near "FROM"'),
    ("REVOKE CONNECT ON DATABASE a TO x", "42601", 30, 'syntax error at or near "TO"'),
])
def test_database_grant_errors(sql, sqlstate, position, message):
    err = _error(sql)
    assert (err.sqlstate, err.position, str(err)) == (sqlstate, position, message)


# ------------------------------------------------------------ prepared statements --------

def test_prepare_execute_deallocate():
    stmt = parse_one("PREPARE p (int, text[], varchar(3)) AS INSERT INTO t VALUES ($1, $2)")
    assert stmt.name == "p" and isinstance(stmt.statement, ast.Insert)
    assert stmt.param_types == (TypeName("integer"), TypeName("text", array_dims=1),
                                TypeName("character varying", (3,)))
    assert parse_one("PREPARE q AS SELECT 1") == Prepare("q", parse_one("SELECT 1"))
    for body in ("UPDATE t SET a = 1", "DELETE FROM t", "VALUES (1)",
                 "WITH x AS (SELECT 1) SELECT * FROM x", "(SELECT 1)"):
        assert parse_one(f"PREPARE q AS {body}").statement == parse_one(body)
    assert parse_one("EXECUTE p") == ExecutePrepared("p")
    assert parse_one("EXECUTE p (1, 'a', $1 + 2)") == ExecutePrepared("p", (
        _int(1), Literal("a", "string"), BinaryOp("+", Param(1), _int(2))))
    assert parse_one("DEALLOCATE ALL") == Deallocate(None)
    assert parse_one("DEALLOCATE PREPARE ALL") == Deallocate(None)
    assert parse_one('DEALLOCATE "_pg3_0"') == Deallocate("_pg3_0")
    assert parse_one("DEALLOCATE PREPARE p") == Deallocate("p")
    assert parse_one("DEALLOCATE prepare") == Deallocate("prepare")


@pytest.mark.parametrize("sql,position,message", [
    ("PREPARE q AS CREATE TABLE x (a int)", 14, 'syntax error at or near "CREATE"'),
    ("PREPARE q SELECT 1", 11, 'syntax error at or near "SELECT"'),
    ("EXECUTE", 8, "syntax error at end of input"),
    ("EXECUTE p ()", 12, 'syntax error at or near ")"'),
    ("DEALLOCATE", 11, "syntax error at end of input"),
])
def test_prepared_statement_errors(sql, position, message):
    err = _error(sql)
    assert (err.sqlstate, err.position, str(err)) == ("42601", position, message)


# ------------------------------------------------------------------------ LOCK -----------

@pytest.mark.parametrize("sql", [
    "LOCK t", "LOCK TABLE a, ONLY b IN ACCESS EXCLUSIVE MODE NOWAIT",
    "LOCK t IN SHARE ROW EXCLUSIVE MODE", "LOCK t IN SHARE MODE", "LOCK t IN ROW SHARE MODE",
    "LOCK t IN ROW EXCLUSIVE MODE", "LOCK t IN SHARE UPDATE EXCLUSIVE MODE",
    "LOCK t IN EXCLUSIVE MODE", "LOCK t IN ACCESS SHARE MODE",
])
def test_lock_is_a_noop(sql):
    assert parse(sql) == [Noop("LOCK TABLE")]


def test_lock_errors():
    err = _error("LOCK t IN FOO MODE")
    assert (err.sqlstate, err.position, str(err)) == ("42601", 11,
                                                      'syntax error at or near "FOO"')


# ---------------------------------------------------------------------- VERIFY -----------

def test_verify():
    assert parse_one("VERIFY ROW FROM accounts WHERE id = 1 SINCE TX 3") == VerifyRow(
        Name(("accounts",)), _eq("id", _int(1)), since_tx=_int(3))
    assert parse_one("VERIFY TX 5 SINCE TX 2") == VerifyTx(_int(5), _int(2))
    assert parse_one("VERIFY TX $1") == VerifyTx(Param(1))
    assert parse_one("VERIFY ROW FROM HISTORY OF s.accounts WHERE id = 1 AS OF TX 7 "
                     "SINCE TX $1") == VerifyRow(
        Name(("s", "accounts")), _eq("id", _int(1)), Param(1), _int(7), history=True)
    assert parse_one("VERIFY ROW FROM t WHERE a = 1 AND b = 'x' AS OF TX 4").as_of_tx == (
        _int(4))
    assert parse_one("VERIFY ROW FROM history WHERE id = 1") == VerifyRow(
        Name(("history",)), _eq("id", _int(1)))
    assert parse_one("  VERIFY TX 1").pos == 2


@pytest.mark.parametrize("sql,position,message", [
    ("VERIFY ROW FROM t WHERE a = 1 SINCE TX 1 SINCE TX 2", 42, 'syntax error at or near "SINCE"'),
    ("VERIFY ROW FROM t WHERE a = 1 AS OF TX 1 AS OF TX 2", 42, 'syntax error at or near "AS"'),
    ("VERIFY ROW FROM t", 18, "syntax error at end of input"),
    ("VERIFY ROW t WHERE a = 1", 12, 'syntax error at or near "t"'),
    ("VERIFY x", 8, 'syntax error at or near "x"'),
    ("VERIFY TX 1 AS OF TX 2", 13, 'syntax error at or near "AS"'),
])
def test_verify_errors(sql, position, message):
    err = _error(sql)
    assert (err.sqlstate, err.position, str(err)) == ("42601", position, message)


@pytest.mark.parametrize("sql", [
    "SELECT verify, copy, header, mode, lock, password, stdin, csv, quote, force FROM verify",
    "SELECT 1 verify, 2 header, 3 template",
    "CREATE TABLE verify (verify int, copy text, prepare int, execute int, deallocate int)",
    "SELECT verify(1), verify.x FROM t verify",
    "UPDATE t SET verify = 1, execute = 2 WHERE lock",
])
def test_new_keywords_still_name_things(sql):
    assert parse(sql)


def test_binary_is_a_type_func_name_keyword_like_postgresql():
    err = _error("CREATE TABLE b (binary int)")
    assert (err.sqlstate, err.position) == ("42601", 17)
    assert parse('CREATE TABLE b ("binary" int)')
