"""The SQL engine's sessions: statements in, results out, with PostgreSQL's transaction
rules. Free of any protocol detail: the DB-API module and the wire server both drive it.

A session is idle or inside a transaction block. Outside a block every statement is its
own store transaction (autocommit). Inside one, the block's store transaction carries all
statements; a failing statement puts the block in the aborted state, where PostgreSQL
answers every statement but ROLLBACK with 25P02. SAVEPOINTs snapshot the block's write set.
"""

from __future__ import annotations

import datetime
import functools
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from .. import errors
from ..kv import ImmuSQLError, Store
from ..parser import ast
from .catalog import CATALOG_VERSION_KEY, Catalog
from .context import StatementContext, load_catalog
from .modifying_cte import first_verb, has_modifying
from .tables import sequence_key

log = logging.getLogger("immusql.sql")

DEFAULT_SETTINGS = {
    "search_path": '"$user", public',
    "timezone": "UTC",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "client_encoding": "UTF8",
    "server_encoding": "UTF8",
    "application_name": "",
    "statement_timeout": "0",
    "extra_float_digits": "1",
    "standard_conforming_strings": "on",
    "integer_datetimes": "on",
    "default_transaction_isolation": "repeatable read",
    "transaction_isolation": "repeatable read",
    "server_version": "15.0",
    "server_version_num": "150000",
    "max_identifier_length": "63",
    "lc_collate": "C",
    "lc_ctype": "C",
    "is_superuser": "on",
    "session_authorization": "immusql",
    "bytea_output": "hex",
    "client_min_messages": "notice",
}

SEQUENCE_BLOCK = 32  # values reserved per durable write, as PostgreSQL's SEQ_LOG_VALS


@functools.lru_cache(maxsize=2048)
def parse_cached(sql: str) -> tuple:
    """Statements of `sql`; the AST is immutable, so repeated statements parse once."""
    from ..parser import parse
    return tuple(parse(sql))


@dataclass
class Result:
    """One statement's outcome."""

    tag: str  # PostgreSQL command tag: "SELECT 3", "INSERT 0 1", "CREATE TABLE", ...
    columns: list | None = None  # OutputColumn list for statements that return rows
    rows: list = field(default_factory=list)
    rowcount: int = -1
    notices: list = field(default_factory=list)


class Engine:
    """One database: a store plus the state its sessions share (catalog cache, sequences)."""

    def __init__(self, store: Store):
        self.store = store
        self._catalog: Catalog | None = None
        self._catalog_lock = threading.Lock()
        self._sequences: dict[int, list[int]] = {}  # rel id -> [next value, reserved upper]
        self._seq_lock = threading.Lock()

    # A SQL transaction may write many rows (each row and index entry is one store entry),
    # so a database created by the SQL layer allows far more than the store's default 1024.
    SQL_MAX_TX_ENTRIES = 1 << 20

    @classmethod
    def open(cls, path, **options) -> "Engine":
        import os

        from ..kv.options import META_FILE
        if not os.path.exists(os.path.join(os.fspath(path), META_FILE)):
            options.setdefault("max_tx_entries", cls.SQL_MAX_TX_ENTRIES)
        return cls(Store.open(path, **options))

    def close(self) -> None:
        self.store.close()

    def session(self, cluster=None, user: str | None = None,
                database: str | None = None) -> "Session":
        """A new session; `cluster` (planner.cluster.Cluster) defaults to the embedded one."""
        return Session(self, cluster, user, database)

    # ------------------------------------------------------------------ catalog --------
    def catalog(self, tx) -> Catalog:
        """The committed catalog as the transaction's snapshot sees it (cached by version)."""
        try:
            raw = tx.get(CATALOG_VERSION_KEY).value
        except KeyError:
            raw = None
        cached = self._catalog
        if cached is not None and raw == (cached.version_value() if cached.version else None):
            return cached
        cat = load_catalog(tx)
        with self._catalog_lock:
            if self._catalog is None or cat.version >= self._catalog.version:
                self._catalog = cat
        return cat

    # ------------------------------------------------------------------ sequences ------
    def nextval(self, rel) -> int:
        """The next value of a sequence; never rolled back, gaps after a crash (as PG)."""
        opts = rel.sequence
        inc = opts.get("increment", 1)
        with self._seq_lock:
            state = self._sequences.get(rel.id)
            if state is None:
                try:
                    stored = int.from_bytes(self.store.get(sequence_key(rel.id)).value, "big",
                                            signed=True)
                    state = [stored + inc, stored]
                except KeyError:
                    start = opts.get("start", 1)
                    state = [start, start - inc]
                self._sequences[rel.id] = state
            value = state[0]
            lo, hi = opts.get("min", 1), opts.get("max", (1 << 63) - 1)
            if (inc > 0 and value > hi) or (inc < 0 and value < lo):
                if not opts.get("cycle"):
                    raise errors.SequenceGeneratorLimitExceeded(
                        f'nextval: reached {"maximum" if inc > 0 else "minimum"} value of '
                        f'sequence "{rel.name}" ({hi if inc > 0 else lo})')
                value = lo if inc > 0 else hi
            if (inc > 0 and value > state[1]) or (inc < 0 and value < state[1]):
                reserve = value + inc * (SEQUENCE_BLOCK - 1)
                self.store.set([(sequence_key(rel.id),
                                 reserve.to_bytes(9, "big", signed=True))])
                state[1] = reserve
            state[0] = value + inc
            return value

    def reset_sequence(self, rel, value: int) -> None:
        with self._seq_lock:
            self.store.set([(sequence_key(rel.id), value.to_bytes(9, "big", signed=True))])
            inc = rel.sequence.get("increment", 1)
            self._sequences[rel.id] = [value + inc, value]


class Session:
    def __init__(self, engine: Engine, cluster=None, user: str | None = None,
                 database: str | None = None):
        from .cluster import Cluster
        self.engine = engine
        self.cluster = cluster if cluster is not None else Cluster()
        self.user = user or self.cluster.user
        self.database = database or self.cluster.database
        self.settings = dict(DEFAULT_SETTINGS)
        self.tx = None  # the store transaction of an explicit block
        self.in_block = False
        self.failed = False
        self.tx_catalog: Catalog | None = None  # the block's catalog after its own DDL
        self.savepoints: list[tuple[str, tuple, Catalog | None]] = []
        self.tx_started_at: datetime.datetime | None = None
        self.read_only = False
        self.sequence_values: dict[int, int] = {}  # currval() per sequence
        self.resolved: dict = {}  # (operator, left type, right type) -> (fn, result type)
        self.plans: dict = {}  # cached query plans (dispatch.cached_plan)
        self.cursors: dict = {}  # DECLAREd cursors by name (planner/cursors.py)
        self.last_sequence_value: int | None = None  # lastval()
        self.interrupted = False  # set by cancel() from another thread
        self.deadline: float | None = None  # statement_timeout, time.monotonic() based
        self.backend_pid = os.getpid()  # the wire server sets its connection's id
        from .functions import FunctionContext
        self.fctx = FunctionContext(user=self.user, database=self.database)
        self.settings["session_authorization"] = self.user
        role = self.cluster.role(self.user)
        self.settings["is_superuser"] = "on" if role is None or role.superuser else "off"

    # ------------------------------------------------------------------ API ------------
    def execute(self, sql: str, params=(), param_types=None) -> list[Result]:
        """Run every statement of `sql`; results in order. Raises at the first error."""
        statements = parse_cached(sql)
        if not statements:
            return [Result("EMPTY")]
        return [self.execute_statement(s, params, param_types) for s in statements]

    def execute_statement(self, stmt, params=(), param_types=None) -> Result:
        """Run one statement. `param_types`: the parameters' types as the client declared
        them (types.SqlType; UNKNOWN where undeclared); a declared parameter's value is
        already the engine's Python value of that type, an undeclared one is typed by its
        value (a str: like an unknown-typed literal, typed by its context)."""
        if isinstance(stmt, ast.Transaction):
            return self._transaction_control(stmt)
        if self.failed:
            raise errors.InFailedSqlTransaction(
                "current transaction is aborted, commands ignored until end of transaction "
                "block")
        if self.in_block:
            try:
                if self.read_only and isinstance(stmt, _WRITES):
                    raise errors.ReadOnlySqlTransaction(
                        f"cannot execute {_verb(stmt)} in a read-only transaction")
                if self.read_only and has_modifying(stmt):
                    raise errors.ReadOnlySqlTransaction(
                        f"cannot execute {first_verb(stmt)} in a read-only transaction")
                return self._run(stmt, self.tx, params, param_types=param_types)
            except BaseException:
                self.failed = True
                raise
        tx = self.engine.store.transaction()
        self.tx_started_at = datetime.datetime.now(datetime.timezone.utc)
        try:
            result = self._run(stmt, tx, params, autocommit=True, param_types=param_types)
            try:
                tx.commit()
            except ImmuSQLError as e:
                raise errors.from_store_error(e) from e
            return result
        except BaseException:
            if not tx._done:
                tx.rollback()
            raise
        finally:
            self.tx_catalog = None
            self.tx_started_at = None

    def describe(self, stmt, param_types=()) -> "Description":
        """What the wire protocol's Parse/Describe report, without running anything: every
        parameter's type and the columns of the rows the statement would return.

        `stmt`: one parsed statement (or SQL text holding at most one). `param_types`:
        as declared by the client, UNKNOWN (or missing) where undeclared. There are as
        many parameters as the highest $n used, or as declared if more.

        How: the statement is planned as execution would plan it, against the same
        catalog (an open block's, with its own DDL), in a StatementContext in describe
        mode (`ctx.inferred` is a dict instead of None). Its undeclared parameters have
        the value None and no type, so each is typed where its context first coerces it,
        as PostgreSQL does (`id = $1` -> id's type, `LIMIT $1` -> bigint, `$1::int` ->
        integer, a function argument -> the chosen overload's parameter type, a bare
        select-list output -> text); later references see that type. The planner's
        run-time steps check `ctx.describing` and skip: no rows are read, no VALUES or
        defaults evaluated, no nextval, nothing written, and the store transaction of an
        autocommit describe is rolled back. A flag rather than stand-in values because
        planning already evaluates some expressions (INSERT's VALUES, LIMIT), and only
        a flag keeps those from running. Errors are execution's errors (42P01, 42703,
        42883 ...), raised from the same planning code.

        Differences from PostgreSQL, deliberately lenient: a parameter no context types
        (`$1 IS NULL`, pg_typeof($1), an unused $n) is text where PostgreSQL fails with
        42P18; of two contexts wanting different types the first planned wins (FROM and
        WHERE are planned before the select list, PostgreSQL analyses the select list
        first) where PostgreSQL fails with 42P08 or, rarely, picks the other.
        Transactions follow PostgreSQL's Parse: in a failed block only COMMIT / ROLLBACK
        (TO SAVEPOINT) describe, anything else raises 25P02, and an error describing
        inside a block fails the block, as any error there does.
        """
        from .dispatch import max_param
        from .types import TEXT, UNKNOWN
        if isinstance(stmt, str):
            statements = parse_cached(stmt)
            if len(statements) > 1:
                raise errors.SyntaxError("cannot insert multiple commands into a prepared "
                                         "statement")
            if not statements:  # parses even in a failed block, as in PostgreSQL
                return Description([TEXT if t is None or t.oid == UNKNOWN.oid else t
                                    for t in param_types or ()], None)
            stmt = statements[0]
        declared = [UNKNOWN if t is None else t for t in param_types or ()]
        n = max(max_param(stmt), len(declared))
        declared += [UNKNOWN] * (n - len(declared))
        if self.failed and not (isinstance(stmt, ast.Transaction) and stmt.kind in (
                "commit", "rollback", "rollback_to")):
            raise errors.InFailedSqlTransaction(
                "current transaction is aborted, commands ignored until end of transaction "
                "block")
        if not isinstance(stmt, _DESCRIBED):
            return Description([t if t.oid != UNKNOWN.oid else TEXT for t in declared], None)
        inferred: dict = {}
        tx = self.tx if self.in_block else self.engine.store.transaction()
        try:
            result = self._run(stmt, tx, [None] * n, param_types=declared, describe=inferred)
        except BaseException:
            if self.in_block:
                self.failed = True
            raise
        finally:
            if not self.in_block and not tx._done:
                tx.rollback()
        types_ = [d if d.oid != UNKNOWN.oid else inferred.get(i, TEXT)
                  for i, d in enumerate(declared)]
        return Description(types_, result.columns)

    def evaluate(self, exprs, types_) -> list:
        """SQL EXECUTE's arguments: each expression's value, coerced to its parameter's
        type as an assignment would be."""
        query = ast.Query(ast.Select(tuple(ast.SelectItem(e) for e in exprs)))
        result = self.execute_statement(query)
        tx = self.tx if self.tx is not None else self.engine.store.transaction()
        try:
            ctx = StatementContext(self, tx, ())
            return [ctx.cast(v, col.type, t, explicit=False)
                    for v, col, t in zip(result.rows[0], result.columns, types_)]
        finally:
            if tx is not self.tx:
                tx.rollback()

    # ------------------------------------------------------------------ interrupts -----
    def cancel(self) -> None:
        """Ask the running statement to stop (a CancelRequest; any thread may call it)."""
        self.interrupted = True

    def _start_clock(self) -> None:
        from .interrupts import running
        running(self)
        self.interrupted = False
        ms = _timeout_ms(self.settings.get("statement_timeout", "0"))
        self.deadline = time.monotonic() + ms / 1000 if ms > 0 else None

    def check_interrupt(self) -> None:
        """Raise 57014 if the statement was cancelled or ran past statement_timeout."""
        if self.interrupted:
            self.interrupted = False
            raise errors.QueryCanceled("canceling statement due to user request")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise errors.QueryCanceled("canceling statement due to statement timeout")

    def close(self) -> None:
        from .cursors import close_all
        close_all(self)
        if self.tx is not None:
            self.tx.rollback()
        self.tx = None
        self.in_block = False

    @property
    def transaction_status(self) -> str:
        """ReadyForQuery status: I idle, T in a block, E in a failed block."""
        if not self.in_block:
            return "I"
        return "E" if self.failed else "T"

    def search_path(self, catalog=None) -> tuple[str, ...]:
        """The schemas of the search_path setting; given the catalog, as PostgreSQL
        uses them: "$user" is the user's schema and schemas that do not exist are left
        out (so the first one is where CREATE puts an unqualified object)."""
        out = []
        for part in self.settings["search_path"].split(","):
            p = part.strip().strip('"')
            if p == "$user" and catalog is not None:
                p = self.user
            if p and p != "$user" and (catalog is None or catalog.schema_exists(p)):
                out.append(p)
        if catalog is not None:
            return tuple(out)
        return tuple(out) or ("public",)

    def catalog_token(self):
        """Changes whenever the catalog this session sees may have changed: lets callers
        cache what they derived from it (descriptions of prepared statements). None means
        "do not cache" (the session's own uncommitted DDL is in play)."""
        if self.tx_catalog is not None:
            return None
        try:
            return self.engine.store.get(CATALOG_VERSION_KEY).value
        except KeyError:
            return b""

    def catalog_for(self, tx) -> Catalog:
        if self.tx_catalog is not None:
            return self.tx_catalog
        return self.engine.catalog(tx)

    def copy_in(self, stmt: ast.Copy, binary_codec=None):
        """Start COPY ... FROM STDIN: a planner.copy.CopyIn to feed the data to."""
        from .copy import copy_in
        return copy_in(self, stmt, binary_codec)

    def copy_out(self, stmt: ast.Copy, binary_codec=None):
        """Start COPY ... TO STDOUT: a planner.copy.CopyOut whose chunks() are the data."""
        from .copy import copy_out
        return copy_out(self, stmt, binary_codec)

    # ------------------------------------------------------------------ internals ------
    def _run(self, stmt, tx, params, autocommit: bool = False, param_types=None,
             describe: dict | None = None) -> Result:
        from .dispatch import run_statement
        self._start_clock()
        ctx = StatementContext(self, tx, params, param_types)
        if autocommit and isinstance(stmt, (ast.Query, ast.Explain)) \
                and not has_modifying(stmt):
            ctx.track_reads = False  # a lone query commits no writes: nothing to conflict
        if describe is not None:
            ctx.inferred, ctx.track_reads = describe, False
        try:
            return run_statement(ctx, stmt)
        except errors.Error:
            raise
        except Exception as e:  # the store's errors, and our bugs: still a SQLSTATE
            raise errors.as_sql_error(e) from e

    def _transaction_control(self, stmt: ast.Transaction) -> Result:
        kind = stmt.kind
        if kind == "begin":
            if self.in_block:
                return Result("BEGIN", notices=["there is already a transaction in progress"])
            self.tx = self.engine.store.transaction()
            self.in_block, self.failed = True, False
            self.read_only = "read only" in " ".join(stmt.modes).lower()
            self.tx_started_at = datetime.datetime.now(datetime.timezone.utc)
            self.savepoints = []
            return Result("BEGIN")
        if kind == "commit":
            if not self.in_block:
                return Result("COMMIT", notices=["there is no transaction in progress"])
            if self.failed:
                self._end_block(commit=False)
                return Result("ROLLBACK")
            self._end_block(commit=True)
            return Result("COMMIT")
        if kind == "rollback":
            if not self.in_block:
                return Result("ROLLBACK", notices=["there is no transaction in progress"])
            self._end_block(commit=False)
            return Result("ROLLBACK")
        if not self.in_block:
            raise errors.NoActiveSqlTransaction(
                f"{kind.upper().replace('_', ' ')} can only be used in transaction blocks")
        if kind == "savepoint":
            if self.failed:
                raise errors.InFailedSqlTransaction(
                    "current transaction is aborted, commands ignored until end of "
                    "transaction block")
            self.savepoints.append((stmt.savepoint, self.tx.savepoint(), self.tx_catalog))
            return Result("SAVEPOINT")
        names = [s[0] for s in self.savepoints]
        if stmt.savepoint not in names:
            self.failed = True
            raise errors.InvalidSavepointSpecification(
                f'savepoint "{stmt.savepoint}" does not exist')
        i = len(names) - 1 - names[::-1].index(stmt.savepoint)
        if kind == "release":
            del self.savepoints[i:]
            return Result("RELEASE")
        _, token, cat = self.savepoints[i]
        del self.savepoints[i + 1:]
        self.tx.rollback_to(token)
        if self.cursors:
            from .cursors import rollback_to
            rollback_to(self, self.savepoints[i])  # closes the cursors declared since
        self.tx_catalog = cat
        self.failed = False
        return Result("ROLLBACK")

    def _end_block(self, commit: bool) -> None:
        held_error = None
        if self.cursors:  # they close; WITH HOLD ones are materialised before a commit
            from .cursors import end_of_block
            held_error = end_of_block(self, commit)
            commit = commit and held_error is None
        tx = self.tx
        self.tx, self.in_block, self.failed, self.read_only = None, False, False, False
        self.tx_catalog, self.savepoints, self.tx_started_at = None, [], None
        if commit:
            try:
                tx.commit()
            except ImmuSQLError as e:
                raise errors.from_store_error(e) from e
        else:
            tx.rollback()
            self.plans.clear()  # they may have been planned against the rolled-back DDL
            if held_error is not None:
                raise held_error  # COMMIT failed materialising a WITH HOLD cursor


@dataclass
class Description:
    """Session.describe's answer: ParameterDescription and RowDescription."""

    param_types: list  # types.SqlType per parameter $1..$n
    columns: list | None  # select.OutputColumn list; None: the statement returns no rows


# statements planned to describe them; any other describes as returning no rows
_DESCRIBED = (ast.Query, ast.Explain, ast.Insert, ast.Update, ast.Delete, ast.ShowVar,
              ast.DeclareCursor, ast.FetchCursor, ast.VerifyRow, ast.VerifyTx)

def _timeout_ms(value) -> float:
    """statement_timeout in milliseconds: '0', '150', '2s', '1min' (PostgreSQL's units)."""
    text = str(value).strip().lower()
    units = (("ms", 1), ("min", 60_000), ("s", 1000), ("h", 3_600_000), ("d", 86_400_000))
    for suffix, factor in units:
        if text.endswith(suffix):
            try:
                return float(text[:-len(suffix)].strip()) * factor
            except ValueError:
                return 0
    try:
        return float(text)
    except ValueError:
        return 0


_WRITES = (ast.Insert, ast.Update, ast.Delete, ast.Truncate, ast.CreateTable, ast.Drop,
           ast.CreateIndex, ast.AlterTable, ast.CreateView, ast.CreateSequence,
           ast.CreateSchema, ast.AlterSchema, ast.Comment)


def _verb(stmt) -> str:
    return {ast.Insert: "INSERT", ast.Update: "UPDATE", ast.Delete: "DELETE",
            ast.Truncate: "TRUNCATE TABLE", ast.Comment: "COMMENT"}.get(type(stmt), "CREATE")
