"""AST of utility statements: DDL, session and transaction commands, and the server's
and verification statements (COPY, roles, databases, PREPARE, cursors, VERIFY).

Part of immusql.parser.ast, which re-exports every class here: use them as `ast.X`, and
import this module only through it (it needs ast's expression classes first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .ast import Expr, Name, Query, TypeName

if TYPE_CHECKING:
    from .ast import Statement

# ----------------------------------------------------------------------- DDL ------------


@dataclass(frozen=True)
class ColumnConstraint:
    """kind: 'not_null', 'null', 'default' (expr), 'primary_key', 'unique', 'check'
    (expr), 'references' (ref_table, ref_columns, on_delete, on_update), 'identity'
    (always: bool), 'generated' (expr, stored). name: CONSTRAINT name, if given."""

    kind: str
    name: str | None = None
    expr: Expr | None = None
    ref_table: Name | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None  # 'cascade', 'restrict', 'set null', 'set default', 'no action'
    on_update: str | None = None
    always: bool = False
    deferrable: bool = False  # DEFERRABLE [INITIALLY DEFERRED] after the constraint
    initially_deferred: bool = False
    nulls_not_distinct: bool = False  # UNIQUE NULLS NOT DISTINCT (PostgreSQL 15)
    # identity columns' (option, value): 'start', 'increment', 'min_value', 'max_value'
    # (None: NO MINVALUE/MAXVALUE), 'cycle' (bool), 'cache', 'as' (TypeName), 'owned_by'
    sequence_options: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: TypeName
    constraints: tuple[ColumnConstraint, ...] = ()
    collation: Name | None = None


@dataclass(frozen=True)
class TableLike:
    """LIKE source [INCLUDING|EXCLUDING what ...] in CREATE TABLE: `including` holds the
    options left on after the list is applied in order ('defaults', 'constraints',
    'indexes', 'identity', 'generated', 'comments', 'statistics', 'storage',
    'compression')."""

    source: Name
    including: tuple[str, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class TableConstraint:
    """kind: 'primary_key', 'unique' (columns), 'check' (expr), 'foreign_key' (columns,
    ref_table, ref_columns, on_delete, on_update)."""

    kind: str
    name: str | None = None
    columns: tuple[str, ...] = ()
    expr: Expr | None = None
    ref_table: Name | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None
    deferrable: bool = False
    initially_deferred: bool = False
    nulls_not_distinct: bool = False  # UNIQUE NULLS NOT DISTINCT (PostgreSQL 15)


@dataclass(frozen=True)
class CreateTable:
    name: Name
    columns: tuple[ColumnDef, ...]
    constraints: tuple[TableConstraint, ...] = ()
    if_not_exists: bool = False
    temporary: bool = False
    as_query: Query | None = None  # CREATE TABLE t AS SELECT ...
    options: tuple[tuple[str, Expr], ...] = ()  # WITH (fillfactor=...): accepted
    pos: int = field(default=-1, compare=False, repr=False)
    as_columns: tuple[str, ...] = ()  # CREATE TABLE t (a, b) AS query
    with_data: bool = True  # False for CREATE TABLE ... AS ... WITH NO DATA
    likes: tuple[tuple[int, TableLike], ...] = ()  # (columns before it, LIKE clause)


@dataclass(frozen=True)
class Drop:
    """DROP TABLE|VIEW|INDEX|SEQUENCE|SCHEMA [IF EXISTS] names [CASCADE|RESTRICT]."""

    kind: str  # 'table', 'view', 'index', 'sequence', 'schema'
    names: tuple[Name, ...]
    if_exists: bool = False
    cascade: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class CreateEnum:
    """CREATE TYPE name AS ENUM ('label', ...)."""

    name: Name
    labels: tuple[str, ...]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class AlterType:
    """ALTER TYPE name: action 'add_value' (value, if_not_exists, neighbor = ('before' |
    'after', label) or None), 'rename_value' (value -> new_value), 'rename' (new_value is
    the new type name) or 'owner' (accepted, no effect)."""

    name: Name
    action: str
    value: str | None = None
    new_value: str | None = None
    if_not_exists: bool = False
    neighbor: tuple | None = None
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class IndexColumn:
    expr: Expr  # a ColumnRef for plain columns
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class CreateIndex:
    name: str | None
    table: Name
    columns: tuple[IndexColumn, ...]
    unique: bool = False
    if_not_exists: bool = False
    method: str | None = None  # USING btree|hash ...
    where: Expr | None = None  # partial index
    include: tuple[str, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)
    nulls_not_distinct: bool = False  # UNIQUE INDEX ... NULLS NOT DISTINCT


@dataclass(frozen=True)
class AlterAction:
    """kind: 'add_column' (column), 'drop_column' (name, if_exists, cascade),
    'rename_column' (name, new_name), 'rename_table' (new_name), 'add_constraint'
    (constraint), 'drop_constraint' (name, if_exists), 'alter_column_type' (name,
    type), 'set_default' (name, expr), 'drop_default' (name), 'set_not_null' (name),
    'drop_not_null' (name), 'rename_constraint' (name, new_name), 'owner' (accepted,
    ignored)."""

    kind: str
    column: ColumnDef | None = None
    constraint: TableConstraint | None = None
    name: str | None = None
    new_name: str | None = None
    type: TypeName | None = None
    expr: Expr | None = None
    if_exists: bool = False
    cascade: bool = False
    if_not_exists: bool = False  # ADD COLUMN IF NOT EXISTS


@dataclass(frozen=True)
class AlterTable:
    """ALTER TABLE; also ALTER INDEX|SEQUENCE|VIEW name RENAME TO x (kind says which
    word was written; their only action is 'rename_table')."""

    name: Name
    actions: tuple[AlterAction, ...]
    if_exists: bool = False
    pos: int = field(default=-1, compare=False, repr=False)
    kind: str = "table"  # 'table' | 'index' | 'sequence' | 'view'


@dataclass(frozen=True)
class Comment:
    """COMMENT ON <kind> name IS 'text' | NULL. kind: 'table', 'view', 'sequence',
    'index', 'column' (name: the relation, column: the column), 'constraint' (name: the
    table, constraint: its name), 'schema', 'database', 'role', 'function', 'type',
    'extension', 'materialized view'. text None: remove the comment."""

    kind: str
    name: Name
    text: str | None
    column: str | None = None
    constraint: str | None = None
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class CreateView:
    name: Name
    query: Query
    column_aliases: tuple[str, ...] = ()
    or_replace: bool = False
    pos: int = field(default=-1, compare=False, repr=False)
    temporary: bool = False  # CREATE TEMP VIEW
    check_option: str | None = None  # WITH [CASCADED | LOCAL] CHECK OPTION


@dataclass(frozen=True)
class CreateSequence:
    name: Name
    if_not_exists: bool = False
    start: int | None = None
    increment: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    cycle: bool = False
    pos: int = field(default=-1, compare=False, repr=False)
    data_type: TypeName | None = None  # AS smallint|integer|bigint: the default bounds
    owned_by: Name | None = None  # OWNED BY t.col (None also for OWNED BY NONE)


@dataclass(frozen=True)
class CreateSchema:
    """CREATE SCHEMA [IF NOT EXISTS] name [AUTHORIZATION role]; name '' for CREATE
    SCHEMA AUTHORIZATION role (the schema is named after the role). A role written as
    CURRENT_USER / CURRENT_ROLE / SESSION_USER is kept as that keyword, upper case."""

    name: str
    if_not_exists: bool = False
    pos: int = field(default=-1, compare=False, repr=False)
    authorization: str | None = None


@dataclass(frozen=True)
class AlterSchema:
    """ALTER SCHEMA name RENAME TO new_name | OWNER TO owner (one of the two is set)."""

    name: str
    new_name: str | None = None
    owner: str | None = None
    pos: int = field(default=-1, compare=False, repr=False)


# ------------------------------------------------------------------ session / misc ------


@dataclass(frozen=True)
class Transaction:
    """BEGIN/START TRANSACTION, COMMIT/END, ROLLBACK/ABORT, SAVEPOINT s, RELEASE s,
    ROLLBACK TO s. kind in {'begin', 'commit', 'rollback', 'savepoint', 'release',
    'rollback_to'}; modes keeps ISOLATION LEVEL / READ ONLY words, lower case."""

    kind: str
    savepoint: str | None = None
    modes: tuple[str, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class SetVar:
    """SET [SESSION|LOCAL] name {TO|=} value[, ...] | SET TIME ZONE x; value () = DEFAULT."""

    name: str
    values: tuple[Expr, ...] = ()
    local: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ShowVar:
    name: str  # 'all' for SHOW ALL
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ResetVar:
    name: str  # 'all' for RESET ALL
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Explain:
    statement: "Statement"
    analyze: bool = False
    verbose: bool = False
    pos: int = field(default=-1, compare=False, repr=False)
    options: tuple[tuple[str, Expr | None], ...] = ()  # EXPLAIN (FORMAT JSON, ...)


@dataclass(frozen=True)
class Noop:
    """Statements accepted and ignored with PostgreSQL's command tag, e.g. VACUUM,
    ANALYZE, CHECKPOINT, DISCARD, LISTEN, COMMENT ON, GRANT/REVOKE: tag is the tag."""

    tag: str
    pos: int = field(default=-1, compare=False, repr=False)


# ------------------------------------------------------------ server / verification -----


@dataclass(frozen=True)
class Copy:
    """COPY table [(cols)] FROM STDIN | TO STDOUT, or COPY (query) TO STDOUT.

    Both option syntaxes (`WITH (FORMAT csv, HEADER)` and the old `CSV HEADER DELIMITER ','`)
    become `options`: lower-case name -> value, one of
    format ('text'|'csv'|'binary'), header (bool or 'match'), delimiter, null, quote,
    escape, encoding (str), freeze (bool), force_quote ('*' or tuple of column names),
    force_not_null, force_null (tuple of column names). `filename` is set for a server-side
    file (FROM 'path'), which the server refuses; `program` for FROM PROGRAM."""

    direction: str  # 'from' | 'to'
    table: Name | None = None
    columns: tuple[str, ...] = ()
    query: "Statement | None" = None  # COPY (query) TO
    filename: str | None = None
    program: str | None = None
    options: tuple[tuple[str, object], ...] = ()
    where: Expr | None = None
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class RoleStmt:
    """CREATE/ALTER/DROP ROLE|USER|GROUP. options: lower-case name -> value:
    password (str or None for PASSWORD NULL), superuser, createdb, createrole, login,
    inherit, replication, bypassrls (bool), connection_limit (int), valid_until (str),
    in_role, role, admin (tuple of role names). CREATE USER implies login unless NOLOGIN."""

    action: str  # 'create' | 'alter' | 'drop'
    names: tuple[str, ...]  # DROP ROLE a, b
    kind: str = "role"  # 'role' | 'user' | 'group', as written
    options: tuple[tuple[str, object], ...] = ()
    if_exists: bool = False
    new_name: str | None = None  # ALTER ROLE a RENAME TO b
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class DatabaseStmt:
    """CREATE DATABASE name [WITH] [OWNER x] [TEMPLATE x] [ENCODING x] ...,
    DROP DATABASE [IF EXISTS] name [WITH (FORCE)], ALTER DATABASE name RENAME TO x |
    OWNER TO x. options: lower-case name -> str/int value."""

    action: str  # 'create' | 'drop' | 'alter'
    name: str
    options: tuple[tuple[str, object], ...] = ()
    if_exists: bool = False
    new_name: str | None = None
    force: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class DatabaseGrant:
    """GRANT|REVOKE {CONNECT | CREATE | TEMPORARY | ALL [PRIVILEGES]} ON DATABASE d[, ...]
    TO|FROM role[, ...] (PUBLIC included, as 'public'). Grants on other objects stay Noop."""

    action: str  # 'grant' | 'revoke'
    privileges: tuple[str, ...]  # lower case: 'connect', 'create', 'temporary', 'all'
    databases: tuple[str, ...]
    grantees: tuple[str, ...]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Prepare:
    """PREPARE name [(types)] AS statement."""

    name: str
    statement: "Statement"
    param_types: tuple[TypeName, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ExecutePrepared:
    """EXECUTE name [(args)]."""

    name: str
    params: tuple[Expr, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Deallocate:
    """DEALLOCATE [PREPARE] name | ALL (name None)."""

    name: str | None = None
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class VerifyRow:
    """VERIFY ROW FROM [HISTORY OF] table WHERE <pk equality> [SINCE TX n] [AS OF TX m]:
    the row plus the proof that lets a client check it (docs/verify.md)."""

    table: Name
    where: Expr
    since_tx: Expr | None = None
    as_of_tx: Expr | None = None
    history: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class VerifyTx:
    """VERIFY TX n [SINCE TX m]: the transaction, all its entries and the dual proof."""

    tx: Expr
    since_tx: Expr | None = None
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class DeclareCursor:
    """DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR
    [{WITH | WITHOUT} HOLD] FOR query. `scroll`: True for SCROLL, False for NO SCROLL,
    None when neither is written. ASENSITIVE/INSENSITIVE are accepted and not kept: every
    cursor here sees the snapshot of its DECLARE (PostgreSQL's are insensitive too)."""

    name: str
    query: "Query"
    scroll: bool | None = None
    hold: bool = False
    binary: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class FetchCursor:
    """FETCH or MOVE (`move`) [direction] [FROM | IN] name, as PostgreSQL's FetchStmt:
    direction 'forward' | 'backward' | 'absolute' | 'relative' and a count, None for ALL.
    NEXT is forward 1, PRIOR backward 1, FIRST absolute 1, LAST absolute -1, a bare n
    forward n, ALL forward None; no direction is forward 1."""

    name: str
    direction: str = "forward"
    count: int | None = 1
    move: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class CloseCursor:
    """CLOSE name | CLOSE ALL (name None)."""

    name: str | None = None
    pos: int = field(default=-1, compare=False, repr=False)
