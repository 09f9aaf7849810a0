"""What one statement runs against: its transaction, catalog snapshot, settings and time.

Reads go through the session's store transaction (snapshot isolation, own writes
visible), or straight to the store for time travel (`AS OF TX n`, `HISTORY OF t`).
"""

from __future__ import annotations

import datetime

from .. import errors
from ..kv import hashing as kvhash
from ..parser import ast
from . import casts, syscat
from . import types as T
from .catalog import CATALOG_VERSION_KEY, RELATION_PREFIX, Catalog
from .tables import TableCodec, row_prefix


class StatementContext:
    def __init__(self, session, tx, params=(), param_types=None):
        self.session = session
        self.engine = session.engine
        self.tx = tx
        self.params = list(params)
        # types the client declared per parameter (UNKNOWN: undeclared, typed by its value)
        self.param_types = [T.UNKNOWN if t is None else t for t in param_types or ()]
        # describe mode (Session.describe): parameter index -> type inferred from context;
        # None while executing. `soft`: indexes typed text only by an untyped select-list
        # output, which a UNION or INSERT ... SELECT around it may still type otherwise.
        self.inferred: dict[int, T.SqlType] | None = None
        self.soft: set[int] = set()
        self.ctes: dict = {}
        # reads of a statement with data-modifying CTEs: the transaction as the statement
        # began (planner/modifying_cte.py); None reads `tx` itself
        self.snapshot_tx = None
        # the query whose WITH may hold INSERT/UPDATE/DELETE (only a top-level one may)
        self.modifying_with = None
        now = datetime.datetime.now(datetime.timezone.utc)
        self.now = session.tx_started_at or now
        self.statement_now = now
        self.timezone = session.settings.get("timezone", "UTC")
        self.track_reads = True
        fctx = session.fctx
        fctx.now = self.statement_now
        fctx.transaction_now = self.now
        fctx.timezone = self.timezone
        self.fctx = fctx
        self._codecs: dict[int, TableCodec] = {}
        self.catalog = session.catalog_for(tx)
        path = self.search_path
        fctx.schema = path[0] if path else None  # current_schema(): NULL without one
        syscat.attach(self)  # reg* casts and catalog functions follow this statement
        from .enumtypes import UserTypes
        T.USER_TYPES.set(UserTypes(self))  # enum type names and OIDs of this catalog

    def rebind(self, other: "StatementContext") -> None:
        """Point this (cached plan's) context at a new execution's transaction, parameters
        and time; the plan's closures read them from here."""
        self.tx = other.tx
        self.params[:] = other.params
        self.param_types[:] = other.param_types
        self.now, self.statement_now = other.now, other.statement_now
        self.timezone, self.track_reads = other.timezone, other.track_reads
        self.fctx = other.fctx

    # ------------------------------------------------------------------ parameters -----
    @property
    def describing(self) -> bool:
        """True while Session.describe plans the statement: nothing may run or write."""
        return self.inferred is not None

    def param_type(self, i: int) -> T.SqlType:
        """The type parameter $i+1 has: as the client declared it, else (describing) as
        inferred so far, else as its Python value binds (a str is an unknown literal)."""
        if i < len(self.param_types) and self.param_types[i].oid != T.UNKNOWN.oid:
            return self.param_types[i]
        if self.inferred is not None:
            return self.inferred.get(i, T.UNKNOWN)
        from .expr import param_type
        return param_type(self.params[i])

    def infer_param(self, i: int, t: T.SqlType, soft: bool = False) -> None:
        """Describe: an undeclared parameter takes the type the first context coercing it
        gives (PostgreSQL's variable_coerce_param_hook); later references see that type.
        A soft (text) inference gives way to the next firm one."""
        if self.inferred is None or t.oid == T.UNKNOWN.oid or t.category == "P":
            return
        if i in self.inferred and i not in self.soft:
            return
        if i < len(self.param_types) and self.param_types[i].oid != T.UNKNOWN.oid:
            return
        self.inferred[i] = t.base
        if soft:
            self.soft.add(i)
        else:
            self.soft.discard(i)

    # ------------------------------------------------------------------ catalog --------
    @property
    def search_path(self) -> tuple[str, ...]:
        return self.session.search_path(self.catalog)

    def find_relation(self, name: ast.Name, pos: int = -1, kinds=None):
        rel = syscat.find_relation(self, name, kinds)  # pg_catalog first, as PostgreSQL
        if rel is None:
            raise errors.UndefinedTable(f'relation "{name}" does not exist',
                                        position=pos + 1 if pos is not None and pos >= 0
                                        else None)
        return rel

    def codec(self, rel) -> TableCodec:
        c = self._codecs.get(rel.id)
        if c is None or c.rel is not rel:
            c = self._codecs[rel.id] = TableCodec(rel)
            if not all(i.plain for i in rel.indexes):
                from .index_exprs import IndexEval
                c.make_eval = lambda idx, rel=rel: IndexEval(self, rel, idx)
        return c

    # ------------------------------------------------------------------ reads ----------
    def table_rows(self, rel, as_of=None, history: bool = False, desc: bool = False):
        """Rows as tuples: columns in order, then _tx, _rev, _deleted, _key; in primary-key
        order (`desc`: backwards; current rows only)."""
        codec = self.codec(rel)
        decode = codec.decode
        prefix = row_prefix(rel.id)
        store = self.engine.store
        if history or as_of is not None:
            at = self._resolve_as_of(as_of)
            lo = hi = None
            if as_of is not None and as_of[0] in ("since_tx", "until_tx"):
                lo, hi, at = self._tx_range(as_of)
            if history or lo is not None:
                for e in store.history_scan(prefix, at_tx=at):
                    if lo is not None and not lo <= e.tx_id <= hi:
                        continue
                    deleted = kvhash.is_deleted(e.md)
                    if not e.value:
                        continue  # a tombstone without the row (not written by SQL)
                    yield decode(e.value) + (e.tx_id, e.revision, deleted, e.key)
                return
            for e in store.scan(prefix, at_tx=at):
                yield decode(e.value) + (e.tx_id, e.revision, False, e.key)
            return
        check = self.session.check_interrupt
        tx = self.snapshot_tx or self.tx
        for n, e in enumerate(tx.scan(prefix, desc=desc, track=self.track_reads)):
            if not n & 1023:
                check()  # a cancel request or statement_timeout ends a long scan
            yield decode(e.value) + (e.tx_id or None, e.revision or None, False, e.key)

    def _resolve_as_of(self, as_of) -> int | None:
        if as_of is None:
            return None
        kind, value, _ = as_of
        store = self.engine.store
        if value is None:
            raise errors.InvalidParameterValue("AS OF needs a value")
        if kind == "timestamp":
            ts = value
            if isinstance(ts, datetime.datetime) and ts.tzinfo is None:
                ts = ts.replace(tzinfo=datetime.timezone.utc)
            us = int(ts.timestamp() * 1_000_000)
            return store.tx_at_time(us)
        if kind == "tx":
            return self._check_tx(value)
        if kind == "before_tx":
            return self._check_tx(value - 1)
        return None

    def _tx_range(self, as_of):
        kind, value, until = as_of
        last = self.engine.store.last_committed
        if kind == "since_tx":
            lo, hi = value, (until if until is not None else last)
        else:
            lo, hi = 1, value
        return lo, hi, self._check_tx(min(hi, last))

    def _check_tx(self, n: int) -> int:
        last = self.engine.store.last_committed
        if n < 0 or n > last:
            raise errors.InvalidParameterValue(
                f"transaction {n} does not exist (last committed transaction is {last})")
        return n

    # ------------------------------------------------------------------ helpers --------
    def plan_subquery(self, query: ast.Query, scope):
        from .select import QueryPlanner
        plan = QueryPlanner(self).plan_query(query, scope)
        return plan, plan.types

    def cast(self, value, source, target, explicit=True):
        return casts.cast(value, source, target, explicit)


def load_catalog(tx) -> Catalog:
    entries = []
    try:
        v = tx.get(CATALOG_VERSION_KEY)
        entries.append((CATALOG_VERSION_KEY, v.value))
    except KeyError:
        pass
    for e in tx.scan(RELATION_PREFIX, track=False):
        entries.append((e.key, e.value))
    return Catalog.load(entries)
