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
import threading
from dataclasses import dataclass, field

from .. import errors
from ..kv import ImmuSQLError, Store
from ..parser import ast
from .catalog import CATALOG_VERSION_KEY, Catalog
from .context import StatementContext, load_catalog
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
        self.last_sequence_value: int | None = None  # lastval()
        from .functions import FunctionContext
        self.fctx = FunctionContext(user=self.user, database=self.database)
        self.settings["session_authorization"] = self.user
        role = self.cluster.role(self.user)
        self.settings["is_superuser"] = "on" if role is None or role.superuser else "off"

    # ------------------------------------------------------------------ API ------------
    def execute(self, sql: str, params=()) -> list[Result]:
        """Run every statement of `sql`; results in order. Raises at the first error."""
        statements = parse_cached(sql)
        if not statements:
            return [Result("EMPTY")]
        return [self.execute_statement(s, params) for s in statements]

    def execute_statement(self, stmt, params=()) -> Result:
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
                return self._run(stmt, self.tx, params)
            except BaseException:
                self.failed = True
                raise
        tx = self.engine.store.transaction()
        self.tx_started_at = datetime.datetime.now(datetime.timezone.utc)
        try:
            result = self._run(stmt, tx, params, autocommit=True)
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

    def close(self) -> None:
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

    def search_path(self) -> tuple[str, ...]:
        out = []
        for part in self.settings["search_path"].split(","):
            p = part.strip().strip('"')
            if p and p != "$user":
                out.append(p)
        return tuple(out) or ("public",)

    def catalog_for(self, tx) -> Catalog:
        if self.tx_catalog is not None:
            return self.tx_catalog
        return self.engine.catalog(tx)

    # ------------------------------------------------------------------ internals ------
    def _run(self, stmt, tx, params, autocommit: bool = False) -> Result:
        from .dispatch import run_statement
        ctx = StatementContext(self, tx, params)
        if autocommit and isinstance(stmt, (ast.Query, ast.Explain)):
            ctx.track_reads = False  # a lone query commits no writes: nothing to conflict
        try:
            return run_statement(ctx, stmt)
        except errors.Error:
            raise
        except ImmuSQLError as e:
            raise errors.from_store_error(e) from e
        except RecursionError as e:
            raise errors.StatementTooComplex("statement is too deeply nested") from e
        except Exception as e:  # a bug of ours: the client still gets a SQLSTATE (XX000)
            log.exception("internal error running %s", type(stmt).__name__)
            raise errors.InternalError(f"internal error: {type(e).__name__}: {e}") from e

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
        self.tx_catalog = cat
        self.failed = False
        return Result("ROLLBACK")

    def _end_block(self, commit: bool) -> None:
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


_WRITES = (ast.Insert, ast.Update, ast.Delete, ast.Truncate, ast.CreateTable, ast.Drop,
           ast.CreateIndex, ast.AlterTable, ast.CreateView, ast.CreateSequence,
           ast.CreateSchema)


def _verb(stmt) -> str:
    return {ast.Insert: "INSERT", ast.Update: "UPDATE", ast.Delete: "DELETE",
            ast.Truncate: "TRUNCATE TABLE"}.get(type(stmt), "CREATE")
