"""The extended query protocol: Parse, Bind, Describe, Execute, Close, Sync, Flush.

Prepared statements keep their parsed AST and the parameter types the client declared;
what a statement's parameters and result columns are is worked out by the engine
(`Session.describe`) only when someone needs it: a Describe, or a Bind with binary
parameters the client left untyped. After an error every message up to the next Sync is
skipped, as the protocol requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import errors
from ..parser import ast
from ..planner import types as T
from ..planner.session import Result, parse_cached
from . import codecs, messages
from .messages import Body
from .results import format_codes

_STATEMENT_SPACE = (ast.Prepare, ast.ExecutePrepared, ast.Deallocate)
DESCRIPTION_CACHE = 256


@dataclass
class Prepared:
    sql: str
    stmt: object  # an AST statement, or None for an empty query
    declared: list  # SqlType per declared parameter (T.UNKNOWN where the OID was 0)
    description: object = None  # Session.describe's answer, once asked
    nparams: int = -1

    def param_count(self) -> int:
        if self.nparams < 0:
            self.nparams = max(len(self.declared), _highest_param(self.stmt))
        return self.nparams


@dataclass
class Portal:
    prepared: Prepared
    params: list
    param_types: list
    formats: list  # result format codes as sent (expanded once the columns are known)
    result: Result | None = None
    sent: int = 0
    columns: list | None = field(default=None)


class ExtendedProtocol:
    def __init__(self, conn):
        self.conn = conn
        self.session = conn.session
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.skipping = False  # after an error, until Sync
        self.descriptions: dict = {}  # (sql, declared oids) -> (catalog token, description)
        self.dispatch = {b"P": self.parse, b"B": self.bind, b"D": self.describe,
                         b"E": self.execute, b"C": self.close}
        self.single_execute = False  # the batch runs one statement: plain autocommit

    def process(self, batch: list, start: int = 0):
        """Handle `batch[start:]` (thread pool side). Returns None when done, or the index
        of an Execute that starts a COPY, which needs the event loop to read CopyData."""
        self.single_execute = _one_execute(batch, start) and not self.session.in_block
        for i in range(start, len(batch)):
            kind, body = batch[i]
            if kind == b"S":
                self.sync()
                self.single_execute = _one_execute(batch, i + 1)
                continue
            if kind == b"H" or self.skipping:
                continue
            if kind == b"E" and self._begin_copy(i, body):
                return i
            try:
                self.dispatch[kind](Body(body))
            except errors.Error as e:  # protocol violations inside a message too, as PG
                self.fail(e)
        return None

    def fail(self, e: errors.Error) -> None:
        """An error ends the implicit block at once (an explicit one is now aborted); then
        every message up to Sync is skipped."""
        self.skipping = True
        runner = self.conn.runner
        if runner.implicit.active:
            runner.implicit.abort()
        elif self.session.in_block:
            self.session.failed = True
        self.conn.send(messages.error_response(e))

    def sync(self) -> None:
        self.skipping = False
        try:
            self.conn.runner.implicit.finish()
        except errors.Error as e:
            self.conn.send(messages.error_response(e))
        if not self.session.in_block:
            self.portals.clear()
        self.conn.ready_message()

    def _begin_copy(self, i: int, body: bytes) -> bool:
        """An Execute whose portal holds a not yet run COPY."""
        try:
            b = Body(body)
            portal = self.portals.get(b.cstring())
        except errors.Error:
            return False
        return (portal is not None and portal.result is None
                and isinstance(portal.prepared.stmt, ast.Copy))

    def copy_portal(self, body: bytes):
        b = Body(body)
        return self.portals[b.cstring()]

    def unnamed_portal_closed(self) -> None:
        """A simple Query destroys the unnamed portal and statement (PostgreSQL)."""
        self.portals.pop("", None)
        self.statements.pop("", None)

    # ------------------------------------------------------------------ Parse ----------
    def parse(self, b: Body) -> None:
        name = b.cstring()
        sql = b.cstring()
        n = b.count(4)
        oids = [b.int32() for _ in range(n)]
        b.done()
        if name and name in self.statements:
            raise errors.DuplicatePreparedStatement(
                f'prepared statement "{name}" already exists')
        self.statements[name] = self.prepare(sql, oids)
        self.conn.send(messages.PARSE_COMPLETE)

    def prepare(self, sql: str, oids: list[int]) -> Prepared:
        statements = parse_cached(sql)
        if len(statements) > 1:
            raise errors.SyntaxError("cannot insert multiple commands into a prepared "
                                     "statement")
        declared = [T.UNKNOWN if oid == 0 else _type_of_oid(oid) for oid in oids]
        return Prepared(sql, statements[0] if statements else None, declared)

    # ------------------------------------------------------------------ Bind -----------
    def bind(self, b: Body) -> None:
        portal_name = b.cstring()
        stmt_name = b.cstring()
        prepared = self.statements.get(stmt_name)
        if prepared is None:
            raise errors.InvalidSqlStatementName(
                f'prepared statement "{stmt_name}" does not exist')
        nfmt = b.count(2)
        param_formats = [b.int16() for _ in range(nfmt)]
        nvalues = b.count(4)
        raw = []
        for _ in range(nvalues):
            size = b.int32()
            raw.append(None if size == -1 else b.bytes(size))
        nres = b.count(2)
        result_formats = [b.int16() for _ in range(nres)]
        b.done()
        expected = prepared.param_count()
        if nvalues != expected:
            raise errors.ProtocolViolation(
                f'bind message supplies {nvalues} parameters, but prepared statement '
                f'"{stmt_name}" requires {expected}')
        fmts = format_codes(param_formats, nvalues) if nvalues else []
        if any(f not in (0, 1) for f in fmts + result_formats):
            raise errors.ProtocolViolation("unsupported format code")
        types_ = list(prepared.declared) + [T.UNKNOWN] * (nvalues - len(prepared.declared))
        if any(f == 1 and t == T.UNKNOWN for f, t in zip(fmts, types_)):
            self.ensure_described(prepared)
            types_ = list(prepared.description.param_types)
        settings = self.session.settings
        params = []
        for value, fmt, t in zip(raw, fmts, types_):
            if value is None:
                params.append(None)
            elif t == T.UNKNOWN and fmt == 0:
                params.append(messages.decode_utf8(value))
            else:
                params.append(codecs.param_decoder(t, fmt, settings)(value))
        if portal_name and portal_name in self.portals:
            raise errors.DuplicateCursor(f'cursor "{portal_name}" already exists')
        self.portals[portal_name] = Portal(prepared, params, types_, result_formats)
        self.conn.send(messages.BIND_COMPLETE)

    # ------------------------------------------------------------------ Describe -------
    def ensure_described(self, prepared: Prepared) -> None:
        if prepared.description is None:
            if prepared.stmt is None:
                prepared.description = _EMPTY_DESCRIPTION
            else:
                prepared.description = self._describe(prepared)
                if isinstance(prepared.stmt, ast.FetchCursor):
                    self._describe_portal_fetch(prepared)

    def _describe_portal_fetch(self, prepared: Prepared) -> None:
        """FETCH from a Bind portal has that portal's columns: PostgreSQL's
        UtilityTupleDescriptor looks the name up among all portals, the planner (which
        answered above) only among DECLAREd cursors. Not cached: it depends on the portal."""
        stmt = prepared.stmt
        portal = self.portals.get(stmt.name) if stmt.name else None
        if stmt.move or portal is None or stmt.name in self.session.cursors:
            return
        prepared.description = _Description(prepared.description.param_types,
                                            self._portal_columns(portal))

    def _portal_columns(self, portal: Portal):
        """A portal's row description: from its result once run, else from describing."""
        if portal.result is not None:
            return portal.result.columns
        self.ensure_described(portal.prepared)
        return portal.prepared.description.columns

    def _describe(self, prepared: Prepared):
        """Session.describe, remembered per SQL text and declared types while the catalog
        stays the same: drivers re-Parse the same statement all the time, and planning it
        is the expensive part."""
        session = self.session
        token = None if session.failed else session.catalog_token()
        key = (prepared.sql, tuple(t.oid for t in prepared.declared),
               session.settings.get("search_path"))
        hit = self.descriptions.get(key) if token is not None and prepared.sql else None
        if hit is not None and hit[0] == token:
            return hit[1]
        description = session.describe(prepared.stmt, list(prepared.declared))
        if token is not None and prepared.sql:
            if len(self.descriptions) >= DESCRIPTION_CACHE:
                self.descriptions.pop(next(iter(self.descriptions)))
            self.descriptions[key] = (token, description)
        return description

    def describe(self, b: Body) -> None:
        what = b.byte()
        name = b.cstring()
        b.done()
        conn = self.conn
        if what == b"S":
            prepared = self.statements.get(name)
            if prepared is None:
                raise errors.InvalidSqlStatementName(
                    f'prepared statement "{name}" does not exist')
            self.ensure_described(prepared)
            d = prepared.description
            conn.send(messages.parameter_description([codecs.type_oid(t)
                                                      for t in d.param_types]))
            self._send_columns(d.columns, [])
        elif what == b"P":
            portal = self.portals.get(name)
            if portal is None:
                cursor = self.session.cursors.get(name)  # DECLAREd cursors share the space
                if cursor is None:
                    raise errors.InvalidCursorName(f'portal "{name}" does not exist')
                self._send_columns(cursor.columns, [])
                return
            self._send_columns(self._portal_columns(portal), portal.formats)
        else:
            raise errors.ProtocolViolation(f"invalid DESCRIBE message subtype {what[0]}")

    def _send_columns(self, columns, formats) -> None:
        if columns is None:
            self.conn.send(messages.NO_DATA)
            return
        fmts = format_codes(formats, len(columns))
        self.conn.encoder.check(columns, fmts)
        self.conn.send(self.conn.encoder.describe(columns, fmts))

    # ------------------------------------------------------------------ Execute --------
    def execute(self, b: Body) -> None:
        name = b.cstring()
        max_rows = b.int32()
        b.done()
        portal = self.portals.get(name)
        if portal is None:
            raise errors.InvalidCursorName(f'portal "{name}" does not exist')
        conn = self.conn
        runner = conn.runner
        stmt = portal.prepared.stmt
        if portal.result is None:
            if stmt is None:
                conn.send(messages.EMPTY_QUERY)
                return
            special = self.sql_level(stmt)
            if special is not None:
                portal.result = special
            else:
                result = runner.run(stmt, portal.params, portal.param_types,
                                    alone=self.single_execute)
                _check_result_shape(portal.prepared, result)
                portal.result = result
            runner.notices(portal.result)
        result = portal.result
        if result.columns is None:
            if portal.sent == 0:
                conn.send(messages.command_complete(result.tag))
                portal.sent = -1
            return
        fmts = format_codes(portal.formats, len(result.columns))
        rows = result.rows
        start = max(portal.sent, 0)
        end = len(rows) if max_rows <= 0 else min(len(rows), start + max_rows)
        for m in conn.encoder.data_rows(result.columns, fmts,
                                         rows[start:end] if start or end < len(rows)
                                         else rows):
            conn.send(m)
        portal.sent = end
        if end < len(rows):
            conn.send(messages.PORTAL_SUSPENDED)
        else:
            tag = result.tag
            if tag.startswith("SELECT ") and (start or max_rows > 0):
                tag = f"SELECT {end - start}"
            conn.send(messages.command_complete(tag))

    # ------------------------------------------------------------------ Close ----------
    def close(self, b: Body) -> None:
        what = b.byte()
        name = b.cstring()
        b.done()
        if what == b"S":
            self.statements.pop(name, None)
        elif what == b"P":
            self.portals.pop(name, None)
        else:
            raise errors.ProtocolViolation(f"invalid CLOSE message subtype {what[0]}")
        self.conn.send(messages.CLOSE_COMPLETE)

    # ------------------------------------------------------------------ SQL level ------
    def sql_level(self, stmt) -> Result | None:
        """PREPARE / EXECUTE / DEALLOCATE share the protocol's statement namespace, FETCH /
        MOVE its portal namespace."""
        if isinstance(stmt, ast.FetchCursor):
            return self._fetch_portal(stmt)
        if not isinstance(stmt, _STATEMENT_SPACE):
            return None
        if self.session.failed:
            raise errors.InFailedSqlTransaction(
                "current transaction is aborted, commands ignored until end of "
                "transaction block")
        if isinstance(stmt, ast.Deallocate):
            if stmt.name is None:
                self.statements = {k: v for k, v in self.statements.items() if k == ""}
                return Result("DEALLOCATE ALL")
            if stmt.name not in self.statements or stmt.name == "":
                raise errors.InvalidSqlStatementName(
                    f'prepared statement "{stmt.name}" does not exist')
            del self.statements[stmt.name]
            return Result("DEALLOCATE")
        if isinstance(stmt, ast.Prepare):
            if stmt.name in self.statements:
                raise errors.DuplicatePreparedStatement(
                    f'prepared statement "{stmt.name}" already exists')
            declared = [T.type_from_name(tn) for tn in stmt.param_types]
            prepared = Prepared("", stmt.statement, declared)
            self.ensure_described(prepared)  # PREPARE reports errors at once
            self.statements[stmt.name] = prepared
            return Result("PREPARE")
        prepared = self.statements.get(stmt.name)
        if prepared is None or stmt.name == "":
            raise errors.InvalidSqlStatementName(
                f'prepared statement "{stmt.name}" does not exist')
        self.ensure_described(prepared)
        types_ = list(prepared.description.param_types)
        if len(stmt.params) != len(types_):
            raise errors.SyntaxError(
                f'wrong number of parameters for prepared statement "{stmt.name}"',
                detail=f"Expected {len(types_)} parameters but got {len(stmt.params)}.")
        params = self.session.evaluate(stmt.params, types_)
        return self.conn.runner.run(prepared.stmt, params,
                                            types_)

    def _fetch_portal(self, stmt: ast.FetchCursor) -> Result | None:
        """FETCH / MOVE naming a Bind portal rather than a DECLAREd cursor (PostgreSQL keeps
        both in one namespace; asyncpg's Cursor.forward sends `MOVE FORWARD n <portal>`).
        Such portals are NO SCROLL, as PostgreSQL's CreatePortal makes them: they move
        forward only, sharing their position with Execute. None: not a protocol portal."""
        portal = self.portals.get(stmt.name) if stmt.name else None
        if portal is None or stmt.name in self.session.cursors:
            return None
        if self.session.failed:
            raise errors.InFailedSqlTransaction(
                "current transaction is aborted, commands ignored until end of "
                "transaction block")
        count = stmt.count
        if stmt.direction == "backward" or (stmt.direction == "forward" and count is not None
                                            and count < 0):
            raise errors.ObjectNotInPrerequisiteState(
                "cursor can only scan forward",
                hint="Declare it with SCROLL option to enable backward scan.")
        if stmt.direction != "forward" or count == 0:
            raise errors.FeatureNotSupported(
                "only FETCH / MOVE FORWARD n and ALL are supported on a protocol-level portal")
        if portal.result is None:
            target = portal.prepared.stmt
            if target is None or isinstance(target, (ast.Copy, ast.FetchCursor)
                                             + _STATEMENT_SPACE):
                raise errors.FeatureNotSupported(
                    f'portal "{stmt.name}" cannot be run by FETCH or MOVE')
            portal.result = self.conn.runner.run(target, portal.params, portal.param_types)
            self.conn.runner.notices(portal.result)
        result = portal.result
        verb = "MOVE" if stmt.move else "FETCH"
        if result.columns is None:  # a command without rows: nothing to move over
            return Result(f"{verb} 0", rowcount=0)
        start = max(portal.sent, 0)
        end = len(result.rows) if count is None else min(len(result.rows), start + count)
        portal.sent = end
        n = end - start
        if stmt.move:
            return Result(f"MOVE {n}", rowcount=n)
        return Result(f"FETCH {n}", result.columns, result.rows[start:end], n)


@dataclass
class _Description:
    param_types: list
    columns: list | None


_EMPTY_DESCRIPTION = _Description([], None)


def _check_result_shape(prepared: Prepared, result: Result) -> None:
    """PostgreSQL's RevalidateCachedQuery for a statement whose columns the client was
    told: when DDL since then changed them (ALTER TABLE ... ADD COLUMN under SELECT *, a
    table dropped and made anew), the rows must not go out in a shape the client will
    misread. 0A000 with PostgreSQL's words, which asyncpg catches to re-prepare. Checked
    after the run (PostgreSQL checks before): the error aborts the implicit block or
    fails the explicit one, so nothing the run did is kept."""
    described = prepared.description
    if described is None or described.columns is None or result.columns is None:
        return
    if len(described.columns) != len(result.columns) or any(
            codecs.type_oid(a.type) != codecs.type_oid(b.type)
            for a, b in zip(described.columns, result.columns)):
        e = errors.FeatureNotSupported("cached plan must not change result type")
        e.routine = "RevalidateCachedQuery"  # how asyncpg recognises it (then re-prepares)
        raise e


def _one_execute(batch: list, start: int) -> bool:
    """Exactly one Execute before the next Sync: the implicit transaction PostgreSQL
    puts around the Executes of a Sync holds a single statement, which is just what
    autocommit does, without opening a block for it."""
    n = 0
    for kind, _ in batch[start:]:
        if kind == b"S":
            break
        if kind == b"E":
            n += 1
    return n == 1


def _type_of_oid(oid: int):
    try:
        return T.type_by_oid(oid)
    except (KeyError, errors.Error):
        raise errors.UndefinedObject(f"type with OID {oid} does not exist") from None


_HIGHEST: dict = {}


def _highest_param(stmt) -> int:
    """The largest $n in a statement (its parameter count when none are declared); keyed
    by identity, since parse_cached hands out the same AST for the same text."""
    if stmt is None:
        return 0
    hit = _HIGHEST.get(id(stmt))
    if hit is not None and hit[0] is stmt:
        return hit[1]
    n = _scan_params(stmt)
    if len(_HIGHEST) > 4096:
        _HIGHEST.clear()
    _HIGHEST[id(stmt)] = (stmt, n)
    return n


def _scan_params(stmt) -> int:
    from ..planner.walk import children
    best = 0
    stack = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Param):
            best = max(best, node.index)
        stack.extend(children(node))
    return best
