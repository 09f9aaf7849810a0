"""Running statements for a connection: the simple query protocol, COPY, the implicit
transaction PostgreSQL wraps around several statements, and SQL-level PREPARE.

PostgreSQL runs all statements of one Query message (and all Executes before a Sync) as
one transaction unless they manage transactions themselves: an error in the third
statement undoes the first two. `ImplicitBlock` gives the session that behaviour with
its ordinary BEGIN/COMMIT, turning into a real block when the client says BEGIN.
"""

from __future__ import annotations

from .. import errors
from ..parser import ast
from ..planner.session import Result, parse_cached
from . import codecs, messages

_TX = ast.Transaction

# Session notices that PostgreSQL sends as WARNINGs with a SQLSTATE.
_WARNINGS = {
    "there is already a transaction in progress": "25001",
    "there is no transaction in progress": "25P01",
}

COPY_BATCH = 1 << 18  # bytes of CopyData gathered before one trip to the thread pool


class ImplicitBlock:
    """The implicit transaction around statements outside any explicit block."""

    def __init__(self, session):
        self.session = session
        self.active = False
        # what a statement sees to tell this block from a client's BEGIN (kv_set & co.
        # commit on their own outside explicit blocks: planner/fn_verify.py)
        session.implicit_block = self

    def enter(self) -> None:
        """Before a statement: open the implicit block if nothing is open."""
        s = self.session
        if not self.active and not s.in_block:
            s.execute_statement(_TX("begin"))
            self.active = True

    def intercept(self, stmt) -> Result | None:
        """Transaction control inside the implicit block; None: run `stmt` normally."""
        if not self.active or not isinstance(stmt, _TX):
            return None
        if stmt.kind == "begin":  # the implicit block becomes the client's own
            self.active = False
            return Result("BEGIN")
        if stmt.kind in ("commit", "rollback"):
            self.active = False
        return None

    def finish(self) -> None:
        """End of the message (or Sync): commit, or roll back after an error."""
        if not self.active:
            return
        self.active = False
        s = self.session
        if s.in_block:
            s.execute_statement(_TX("rollback" if s.failed else "commit"))

    def abort(self) -> None:
        if self.active:
            self.active = False
            if self.session.in_block:
                self.session.execute_statement(_TX("rollback"))


class StatementRunner:
    def __init__(self, conn):
        self.conn = conn
        self.session = conn.session
        self.implicit = ImplicitBlock(conn.session)

    # ------------------------------------------------------------------ helpers --------
    def notices(self, result: Result) -> None:
        for text in result.notices:
            if isinstance(text, tuple):
                severity, sqlstate, text = text
            else:
                sqlstate = _WARNINGS.get(text, "00000")
                severity = "WARNING" if sqlstate != "00000" else "NOTICE"
            self.conn.send(messages.notice_response(text, sqlstate, severity))

    def run(self, stmt, params=(), param_types=None, alone: bool = False) -> Result:
        """One statement, inside the implicit block unless it is `alone` in its message
        or Sync: then autocommit does the same, without a block (thread pool side)."""
        session = self.session
        if alone and not self.implicit.active and not session.in_block:
            return session.execute_statement(stmt, params, param_types=param_types)
        hit = self.implicit.intercept(stmt)
        if hit is not None:
            return hit
        if not isinstance(stmt, _TX) and not isinstance(stmt, _NO_IMPLICIT):
            self.implicit.enter()
        return session.execute_statement(stmt, params, param_types=param_types)

    def encode(self, result: Result, formats=None, describe: bool = True) -> None:
        """The messages for a finished statement: rows (described or not) and its tag."""
        conn = self.conn
        self.notices(result)
        if result.columns is not None:
            fmts = formats if formats is not None else [0] * len(result.columns)
            if describe:
                conn.send(conn.encoder.describe(result.columns, fmts))
            for m in conn.encoder.data_rows(result.columns, fmts, result.rows):
                conn.send(m)
        conn.send(messages.EMPTY_QUERY if result.tag == "EMPTY"
                  else messages.command_complete(result.tag))

    # ------------------------------------------------------------------ simple query ---
    async def simple_query(self, body: bytes) -> None:
        """A Query message: one trip to the thread pool runs all its statements, unless a
        COPY among them needs the event loop to read or write its data."""
        conn = self.conn
        step = await conn.run_blocking(self._simple_start, body)
        while step is not None:  # (statements, index of a COPY)
            statements, i = step
            try:
                await self.copy(statements[i])
            except errors.Error as e:
                await conn.run_blocking(self._simple_failed, e)
                break
            step = await conn.run_blocking(self._simple_run, statements, i + 1)
        await conn.flush()

    def _simple_start(self, body: bytes):
        conn = self.conn
        conn.extended.unnamed_portal_closed()
        try:
            b = messages.Body(body)
            sql = b.cstring()
            b.done()
            statements = parse_cached(sql)
        except errors.Error as e:
            conn.send(messages.error_response(e))
            conn.ready_message()
            return None
        if not statements:
            conn.send(messages.EMPTY_QUERY)
            conn.ready_message()
            return None
        return self._simple_run(statements, 0)

    def _simple_run(self, statements, start: int):
        alone = len(statements) == 1
        try:
            for i in range(start, len(statements)):
                stmt = statements[i]
                if isinstance(stmt, ast.Copy):
                    return statements, i
                special = self.conn.extended.sql_level(stmt)
                self.encode(special if special is not None else self.run(stmt, alone=alone))
            self.implicit.finish()
        except errors.Error as e:
            self._simple_failed(e)
            return None
        self.conn.ready_message()
        return None

    def _simple_failed(self, e: errors.Error) -> None:
        self.implicit.abort()
        self.conn.send(messages.error_response(e))
        self.conn.ready_message()

    # ------------------------------------------------------------------ COPY -----------
    async def copy(self, stmt: ast.Copy) -> None:
        if stmt.direction == "from":
            await self.copy_in(stmt)
        else:
            await self.copy_out(stmt)

    async def copy_in(self, stmt: ast.Copy) -> None:
        conn = self.conn
        copy = await conn.run_blocking(self._start_copy_in, stmt)
        fmt = 1 if copy.format == "binary" else 0
        conn.send(messages.copy_response(b"G", fmt, [fmt] * len(copy.columns)))
        try:
            await self._copy_in_data(copy)
        except messages.ConnectionLost:
            await conn.run_blocking(copy.abort, "client went away")  # nothing is kept
            raise

    async def _copy_in_data(self, copy) -> None:
        conn = self.conn
        await conn.flush()
        pending: list[bytes] = []
        size = 0
        failure = None
        while True:
            kind, body = await messages.read_message(conn.reader, conn.config.max_message_size)
            if kind == b"d":
                if failure is None:
                    pending.append(body)
                    size += len(body)
                    if size >= COPY_BATCH:
                        failure = await self._feed(copy, pending)
                        pending, size = [], 0
                continue
            if kind == b"c":
                if failure is None and pending:
                    failure = await self._feed(copy, pending)
                if failure is not None:
                    raise failure
                result = await conn.run_blocking(copy.finish)
                self.encode(result)
                return
            if kind == b"f":
                message = messages.Body(body).cstring()
                await conn.run_blocking(copy.abort, message)
                raise errors.QueryCanceled(f"COPY from stdin failed: {message}")
            if kind in (b"H", b"S"):
                continue  # PostgreSQL ignores Flush and Sync during COPY IN
            await conn.run_blocking(copy.abort, "protocol violation")
            raise errors.ProtocolViolation(
                f"unexpected message type 0x{kind[0]:02X} during COPY from stdin")

    def _start_copy_in(self, stmt):
        self.implicit.enter()
        return self.session.copy_in(stmt, BinaryCopyCodec(self.session.settings))

    async def _feed(self, copy, chunks: list[bytes]):
        """Hand buffered CopyData to the engine; an error is kept until CopyDone/Fail."""
        try:
            await self.conn.run_blocking(_feed_all, copy, chunks)
            return None
        except errors.Error as e:
            try:
                await self.conn.run_blocking(copy.abort, str(e))
            except errors.Error:
                pass
            return e

    async def copy_out(self, stmt: ast.Copy) -> None:
        conn = self.conn
        copy = await conn.run_blocking(self._start_copy_out, stmt)
        fmt = 1 if copy.format == "binary" else 0
        conn.send(messages.copy_response(b"H", fmt, [fmt] * len(copy.columns)))
        chunks = copy.chunks()
        while True:
            batch = await conn.run_blocking(_next_batch, chunks)
            for payload in batch:
                conn.send(messages.copy_data(payload))
            await conn.maybe_flush()
            if len(batch) < _OUT_BATCH:
                break
        conn.send(messages.COPY_DONE)
        self.encode(copy.result())

    def _start_copy_out(self, stmt):
        self.implicit.enter()
        return self.session.copy_out(stmt, BinaryCopyCodec(self.session.settings))


class BinaryCopyCodec:
    """COPY BINARY's field encodings are the protocol's binary formats: the planner gets
    them injected, so it never imports the wire layer."""

    def __init__(self, settings):
        self.settings = settings

    def decoder(self, t):
        return codecs.param_decoder(t, 1, self.settings)

    def encoder(self, t):
        return codecs.column_encoder(t, 1, self.settings)


_OUT_BATCH = 512
_NO_IMPLICIT = (ast.DatabaseStmt,)  # CREATE/DROP DATABASE refuse to run inside a block


def _feed_all(copy, chunks) -> None:
    for c in chunks:
        copy.feed(c)


def _next_batch(iterator) -> list[bytes]:
    out = []
    for payload in iterator:
        out.append(payload)
        if len(out) >= _OUT_BATCH:
            break
    return out
