"""The typed AST of immusql's SQL dialect (PostgreSQL's, plus immudb's time travel).

Frozen dataclasses, named after the grammar rules that build them. Lists are tuples so
nodes are hashable and safe to share between cached plans. Identifiers are already
case-folded by the parser (unquoted -> lower case, "Quoted" kept as written).

Positions: statements carry `pos`, the 0-based character offset of their first token, so
errors raised later (unknown column, type mismatch) can point into the SQL text. `pos` is
left out of equality and hashing: `GROUP BY a` and `SELECT a` name the same expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# --------------------------------------------------------------------------- names ------


@dataclass(frozen=True)
class Name:
    """A possibly qualified name: ('public', 't') or ('t',)."""

    parts: tuple[str, ...]

    @property
    def last(self) -> str:
        return self.parts[-1]

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class TypeName:
    """A type as written: name ('integer', 'character varying', 'numeric', 'timestamp with
    time zone' ... normalised to PostgreSQL's canonical spelling), modifiers (e.g. (10, 2))
    and array dimensions (`int[]` -> 1)."""

    name: str
    modifiers: tuple[int, ...] = ()
    array_dims: int = 0
    fields: str | None = None  # interval qualifier: 'day', 'year to month', 'day to second'


# ---------------------------------------------------------------------- expressions -----


class Expr:
    """Base class of expressions."""

    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Literal(Expr):
    """A constant. kind: 'integer' (value int), 'numeric' (value str, e.g. '1.50'),
    'float' (value str with exponent), 'string' (value str; its type comes from
    context, like PostgreSQL's unknown-typed literal), 'boolean', 'null',
    'bitstring'/'bytes' (value bytes, for X'..' literals)."""

    value: object
    kind: str
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Param(Expr):
    """A parameter: $n (1-based). %s / %(name)s are rewritten to $n before parsing."""

    index: int
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ColumnRef(Expr):
    """A column, maybe qualified: ('t', 'a') or ('a',) or ('s', 't', 'a')."""

    parts: tuple[str, ...]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Star(Expr):
    """`*` or `t.*` in a select list (table is None for bare *)."""

    table: tuple[str, ...] | None = None
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class UnaryOp(Expr):
    op: str  # '-', '+', '~' (bitwise not), '@' (abs)
    operand: Expr
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class BinaryOp(Expr):
    """Arithmetic, comparison, string and other binary operators.

    op is the operator text: '+', '-', '*', '/', '%', '^', '||', '=', '<>' ('!=' is
    normalised to '<>'), '<', '<=', '>', '>=', '&', '|', '#', '<<', '>>', '->', '->>',
    '#>', '#>>', '@>', '<@', '?', '~', '!~', '~*', '!~*'. `OPERATOR(pg_catalog.~)` gives
    op '~'.
    """

    op: str
    left: Expr
    right: Expr
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class BoolOp(Expr):
    """AND / OR over two or more operands (flattened)."""

    op: str  # 'and' | 'or'
    operands: tuple[Expr, ...]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class IsNull(Expr):
    operand: Expr
    negated: bool = False  # IS NOT NULL
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class IsBool(Expr):
    """x IS [NOT] TRUE | FALSE | UNKNOWN (value None for UNKNOWN)."""

    operand: Expr
    value: bool | None
    negated: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class IsDistinctFrom(Expr):
    left: Expr
    right: Expr
    negated: bool = False  # IS NOT DISTINCT FROM
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Between(Expr):
    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False
    symmetric: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class InList(Expr):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class InSubquery(Expr):
    operand: Expr
    query: "Query"
    negated: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Exists(Expr):
    query: "Query"
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class SubqueryExpr(Expr):
    """A scalar subquery `(SELECT ...)` used as a value."""

    query: "Query"
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Quantified(Expr):
    """left op ANY|ALL (array expression or subquery); SOME is ANY."""

    op: str
    quantifier: str  # 'any' | 'all'
    left: Expr
    right: Union[Expr, "Query"]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Like(Expr):
    operand: Expr
    pattern: Expr
    escape: Expr | None = None
    negated: bool = False
    case_insensitive: bool = False  # ILIKE
    similar: bool = False  # SIMILAR TO
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class NamedArg(Expr):
    """`name => value` (or the older `name := value`) in a function call's arguments;
    the planner puts them in parameter order (planner/named_args.py)."""

    name: str
    value: Expr
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class SimilarEscape(Expr):
    """`x SIMILAR p ESCAPE e` (no TO): only the argument of substring(x SIMILAR p ESCAPE
    e) may be one, which the parser turns into substring(x, p, e); the planner rejects
    any other as a syntax error."""

    operand: Expr
    pattern: Expr
    escape: Expr
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Case(Expr):
    """CASE [operand] WHEN .. THEN .. [ELSE ..] END."""

    operand: Expr | None
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None = None
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Cast(Expr):
    """CAST(x AS t), x::t, and typed literals like DATE '2024-01-01' / INTERVAL '1 day'."""

    operand: Expr
    type: TypeName
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Collate(Expr):
    operand: Expr
    collation: Name
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class OrderItem:
    expr: Expr
    descending: bool = False
    nulls_first: bool | None = None  # None: PostgreSQL's default (last for ASC)


@dataclass(frozen=True)
class FrameBound:
    kind: str  # 'unbounded_preceding', 'preceding', 'current_row', 'following',
    #            'unbounded_following'
    offset: Expr | None = None


@dataclass(frozen=True)
class WindowSpec:
    name: str | None = None  # a reference to a WINDOW clause entry
    partition_by: tuple[Expr, ...] = ()
    order_by: tuple[OrderItem, ...] = ()
    frame_mode: str | None = None  # 'rows' | 'range' | 'groups'
    frame_start: FrameBound | None = None
    frame_end: FrameBound | None = None
    frame_exclusion: str | None = None  # 'current_row', 'group', 'ties', 'no_others'


@dataclass(frozen=True)
class FuncCall(Expr):
    """f(args), aggregates and window functions.

    count(*) has star=True and no args. `EXTRACT(f FROM x)` is extract('f', x), as in
    PostgreSQL 15 (numeric, where date_part gives double precision); `COALESCE`, `NULLIF`,
    `GREATEST`, `LEAST` are plain calls; `position(a IN b)`, `substring(x FROM a FOR b)`,
    `trim(both x FROM y)`, `overlay(...)` become calls with positional arguments in
    PostgreSQL's function order. CURRENT_DATE, CURRENT_TIMESTAMP,
    LOCALTIMESTAMP, CURRENT_USER, SESSION_USER, CURRENT_SCHEMA... are calls without
    arguments (name lower case), as are now() and friends.
    """

    name: Name
    args: tuple[Expr, ...] = ()
    star: bool = False
    distinct: bool = False
    order_by: tuple[OrderItem, ...] = ()  # array_agg(x ORDER BY y), string_agg(...)
    filter: Expr | None = None  # agg(x) FILTER (WHERE ...)
    over: WindowSpec | None = None
    within_group: tuple[OrderItem, ...] = ()  # percentile_cont(0.5) WITHIN GROUP (...)
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ArrayLiteral(Expr):
    """ARRAY[a, b] (items) ."""

    items: tuple[Expr, ...]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ArraySubquery(Expr):
    """ARRAY(SELECT ...)."""

    query: "Query"
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ArrayAssign(Expr):
    """UPDATE ... SET col[index] = value: `array` with that element replaced."""

    array: Expr
    index: Expr
    value: Expr
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Subscript(Expr):
    """x[i] or x[lo:hi] (upper is None for a single index; slice True for a:b)."""

    operand: Expr
    lower: Expr | None
    upper: Expr | None = None
    slice: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class FieldAccess(Expr):
    """(expr).field, (expr).* (field '*')."""

    operand: Expr
    field: str
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class RowExpr(Expr):
    """ROW(a, b) or (a, b)."""

    items: tuple[Expr, ...]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Default(Expr):
    """DEFAULT in VALUES lists and UPDATE SET."""

    pos: int = field(default=-1, compare=False, repr=False)


# ----------------------------------------------------------------------- queries --------


@dataclass(frozen=True)
class SelectItem:
    expr: Expr
    alias: str | None = None


@dataclass(frozen=True)
class AsOf:
    """Time travel on a table reference (immudb's features, Postgres-looking syntax).

    kind: 'tx' (AS OF TX n), 'timestamp' (AS OF TIMESTAMP '...'), 'before_tx'
    (BEFORE TX n), 'since_tx' / 'until_tx' (ranges, may be combined in `until`).
    """

    kind: str
    value: Expr
    until: Expr | None = None  # SINCE TX a UNTIL TX b


@dataclass(frozen=True)
class TableRef:
    name: Name
    alias: str | None = None
    column_aliases: tuple[str, ...] = ()
    as_of: AsOf | None = None
    history: bool = False  # HISTORY OF t: every version of every row
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class SubqueryRef:
    query: "Query"
    alias: str | None = None
    column_aliases: tuple[str, ...] = ()
    lateral: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class FunctionRef:
    """A set-returning function in FROM: generate_series(1, 3) AS g(x), unnest(...)."""

    call: FuncCall
    alias: str | None = None
    column_aliases: tuple[str, ...] = ()
    lateral: bool = False
    with_ordinality: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class ValuesRef:
    """(VALUES (1, 'a'), (2, 'b')) AS v(x, y) in FROM."""

    values: "Values"
    alias: str | None = None
    column_aliases: tuple[str, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Join:
    kind: str  # 'inner', 'left', 'right', 'full', 'cross'
    left: "FromItem"
    right: "FromItem"
    on: Expr | None = None
    using: tuple[str, ...] = ()
    natural: bool = False
    pos: int = field(default=-1, compare=False, repr=False)
    alias: str | None = None  # (a JOIN b) AS j (x, y)
    column_aliases: tuple[str, ...] = ()


FromItem = Union[TableRef, SubqueryRef, FunctionRef, ValuesRef, Join]


@dataclass(frozen=True)
class Select:
    """One SELECT core (no ORDER BY / LIMIT: those belong to the enclosing Query)."""

    items: tuple[SelectItem, ...]
    from_: tuple[FromItem, ...] = ()
    where: Expr | None = None
    group_by: tuple[Expr, ...] = ()
    having: Expr | None = None
    distinct: bool = False
    distinct_on: tuple[Expr, ...] = ()
    windows: tuple[tuple[str, WindowSpec], ...] = ()  # WINDOW w AS (...)
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Values:
    rows: tuple[tuple[Expr, ...], ...]
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class SetOp:
    op: str  # 'union', 'intersect', 'except'
    all: bool
    left: "QueryBody"
    right: "QueryBody"
    pos: int = field(default=-1, compare=False, repr=False)


QueryBody = Union[Select, Values, SetOp, "Query"]


@dataclass(frozen=True)
class CTE:
    name: str
    query: "Statement"  # a Query, or INSERT/UPDATE/DELETE ... RETURNING
    column_aliases: tuple[str, ...] = ()
    materialized: bool | None = None


@dataclass(frozen=True)
class Query:
    """A full query: [WITH ...] body [ORDER BY ...] [LIMIT ...] [OFFSET ...]."""

    body: QueryBody
    order_by: tuple[OrderItem, ...] = ()
    limit: Expr | None = None  # LIMIT n / FETCH FIRST n ROWS ONLY; LIMIT ALL -> None
    offset: Expr | None = None
    with_: tuple[CTE, ...] = ()
    recursive: bool = False
    for_update: bool = False  # FOR UPDATE/SHARE: accepted (snapshot isolation)
    pos: int = field(default=-1, compare=False, repr=False)
    with_ties: bool = False  # FETCH FIRST n ROWS WITH TIES (limit holds n)


# ----------------------------------------------------------------------- DML ------------


@dataclass(frozen=True)
class OnConflict:
    target: tuple[str, ...] = ()  # conflict columns; () with constraint None = any
    constraint: str | None = None  # ON CONFLICT ON CONSTRAINT name
    action: str = "nothing"  # 'nothing' | 'update'
    assignments: tuple[tuple[str, Expr], ...] = ()
    where: Expr | None = None
    target_where: Expr | None = None  # ON CONFLICT (cols) WHERE ...: partial index inference


@dataclass(frozen=True)
class Insert:
    table: Name
    columns: tuple[str, ...] = ()
    source: Query | None = None  # VALUES are a Query whose body is Values
    default_values: bool = False
    on_conflict: OnConflict | None = None
    returning: tuple[SelectItem, ...] = ()
    alias: str | None = None
    with_: tuple[CTE, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)
    recursive: bool = False  # WITH RECURSIVE
    overriding: str | None = None  # OVERRIDING 'system' | 'user' VALUE


@dataclass(frozen=True)
class Update:
    table: Name
    assignments: tuple[tuple[tuple[str, ...], Expr], ...]  # ((col,), expr); (a, b) = (x, y)
    alias: str | None = None
    from_: tuple[FromItem, ...] = ()
    where: Expr | None = None
    returning: tuple[SelectItem, ...] = ()
    with_: tuple[CTE, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)
    recursive: bool = False  # WITH RECURSIVE


@dataclass(frozen=True)
class Delete:
    table: Name
    alias: str | None = None
    using: tuple[FromItem, ...] = ()
    where: Expr | None = None
    returning: tuple[SelectItem, ...] = ()
    with_: tuple[CTE, ...] = ()
    pos: int = field(default=-1, compare=False, repr=False)
    recursive: bool = False  # WITH RECURSIVE


@dataclass(frozen=True)
class Truncate:
    tables: tuple[Name, ...]
    restart_identity: bool = False
    cascade: bool = False
    pos: int = field(default=-1, compare=False, repr=False)


# DDL, session and server statements live in ast_utility.py; `ast.X` names them all.
from .ast_utility import (  # noqa: E402, F401 - re-exported
    AlterAction,
    AlterSchema,
    AlterTable,
    AlterType,
    CloseCursor,
    ColumnConstraint,
    ColumnDef,
    Comment,
    Copy,
    CreateEnum,
    CreateIndex,
    CreateSchema,
    CreateSequence,
    CreateTable,
    CreateView,
    DatabaseGrant,
    DatabaseStmt,
    Deallocate,
    DeclareCursor,
    Drop,
    ExecutePrepared,
    Explain,
    FetchCursor,
    IndexColumn,
    Noop,
    Prepare,
    ResetVar,
    RoleStmt,
    SetVar,
    ShowVar,
    TableConstraint,
    TableLike,
    Transaction,
    VerifyRow,
    VerifyTx,
)

Statement = Union[Query, Insert, Update, Delete, Truncate, CreateTable, Drop, CreateIndex,
                  AlterTable, Comment, CreateView, CreateSequence, CreateSchema, AlterSchema,
                  Transaction,
                  SetVar,
                  ShowVar, ResetVar, Explain, Noop, Copy, RoleStmt, DatabaseStmt, DatabaseGrant,
                  Prepare,
                  ExecutePrepared, Deallocate, VerifyRow, VerifyTx, DeclareCursor,
                  FetchCursor, CloseCursor]

__all__ = [name for name, value in list(globals().items())
           if name[:1].isupper() and isinstance(value, type)]
