"""SQL cursors: DECLARE, FETCH / MOVE and CLOSE with PostgreSQL 15's semantics.

A session's cursors live in `session.cursors` (name -> Cursor). DECLARE plans the query at
once (so its errors are DECLARE's, and its $n parameters are read from DECLARE's); FETCH
and MOVE then move through the rows the way PostgreSQL's portals do: the position
bookkeeping below (`Cursor._select`, `Cursor.fetch`, `Cursor._rewind`) is a port of
PortalRunSelect, DoPortalRunFetch and DoPortalRewind (src/backend/tcop/pquery.c), so every
direction, count, sign and edge case (FETCH 0 re-reads the current row, MOVE BACKWARD ALL
rewinds, ABSOLUTE counts from the end when negative ...) answers as PostgreSQL does.

Rows are streamed, not materialised at DECLARE. The operators of a plan are pull-based
(ops/base.py), so the cursor keeps `iter(plan.op)` and pulls rows only as FETCH / MOVE
reach them: `FETCH 100` from a million-row cursor reads about 100 rows (plus whatever the
plan itself must see first, e.g. everything under an ORDER BY). Rows already pulled are
kept for backward moves, except by NO SCROLL cursors, which can never go back and so keep
nothing behind their position. Streaming needs the query to keep seeing the transaction
as it was at DECLARE, while the transaction goes on writing: the cursor therefore reads
through its own store transaction with the block's snapshot and a copy of the block's own
writes as of DECLARE (`_frozen_view`), never through the block's transaction itself. Its
reads are not added to the block's read set, so a concurrent write to a row seen only
through a cursor does not fail the block's commit (PostgreSQL's REPEATABLE READ does not
fail on it either). A cursor holds the plan's store iterators (an LMDB read transaction)
until it is exhausted, closed, or its transaction ends.

Lifetime, as PostgreSQL's portals: a cursor closes when its transaction ends, unless it is
WITH HOLD and the transaction commits; then its remaining rows are materialised before the
commit (PostgreSQL's PersistHoldablePortal, and an error there fails the COMMIT) and it
lives until CLOSE or the end of the session. WITH HOLD outside a transaction block is
materialised by DECLARE itself, whose implicit transaction ends with it. ROLLBACK TO
SAVEPOINT closes the cursors declared after the savepoint; movement of the others is not
undone. A FETCH or MOVE that fails leaves its cursor unusable ("portal cannot be run").

Backward movement: NO SCROLL cursors refuse it (55000, as PostgreSQL), SCROLL cursors allow
it. A cursor declared with neither is scrollable here; PostgreSQL decides by the plan,
allowing it for the common plain scans, sorts, VALUES and functions in FROM, and refusing
it for plans that cannot run backward (aggregates, joins, DISTINCT, SELECT without FROM)
and for FOR UPDATE queries. immusql refuses only the FOR UPDATE case: it is lenient where
PostgreSQL depends on the plan, never stricter.

Not done: BINARY cursors are accepted but FETCH returns rows in the format the client asks
for, as any query; WHERE CURRENT OF and the pg_cursors view do not exist.
"""

from __future__ import annotations

import sys

from .. import errors
from ..parser import ast
from .context import StatementContext
from .select import QueryPlanner
from .session import Result

FETCH_ALL = sys.maxsize  # PostgreSQL's FETCH_ALL (LONG_MAX): a count meaning every row


def _not_in_prerequisite_state(message: str, hint: str | None = None) -> errors.Error:
    return errors.ObjectNotInPrerequisiteState(message, hint=hint)


def _forward_only() -> errors.Error:
    return _not_in_prerequisite_state(
        "cursor can only scan forward",
        hint="Declare it with SCROLL option to enable backward scan.")


class _Rows:
    """The query's rows by number, 1 to n, pulled from the plan's iterator on demand, and
    the executor's position among them: `cur` is 0 before the first row, k on row k and
    n + 1 past the last (PostgreSQL's executor direction semantics: a forward step returns
    row cur + 1, a backward step row cur - 1).

    `keep`: keep the rows already pulled, for backward moves and rewinds. Without it (NO
    SCROLL) rows at or behind the position are dropped as soon as they are passed."""

    __slots__ = ("it", "buf", "base", "cur", "keep")

    def __init__(self, it, keep: bool):
        self.it = it  # the plan's iterator; None once exhausted (or closed)
        self.buf: list = []  # rows base + 1 .. base + len(buf)
        self.base = 0
        self.cur = 0
        self.keep = keep

    def _row(self, n: int):
        """Row n, or None past the end."""
        buf = self.buf
        while n > self.base + len(buf):
            it = self.it
            if it is None:
                return None
            try:
                buf.append(next(it))
            except StopIteration:
                self.it = None
                return None
        return buf[n - 1 - self.base]

    def forward(self, count: int, want: bool) -> tuple[int, list]:
        """Step forward `count` rows (0: all); (rows passed, the rows if `want`)."""
        out: list = []
        n = 0
        while count == 0 or n < count:
            row = self._row(self.cur + 1)
            if row is None:
                self.cur = self.base + len(self.buf) + 1  # past the end
                break
            self.cur += 1
            n += 1
            if want:
                out.append(row)
            if not self.keep and self.buf:
                del self.buf[:self.cur - self.base]
                self.base = self.cur
        return n, out

    def backward(self, count: int, want: bool) -> tuple[int, list]:
        """Step backward `count` rows (0: all), the rows in the order met."""
        out: list = []
        n = 0
        while count == 0 or n < count:
            if self.cur <= 1:
                self.cur = 0
                break
            self.cur -= 1
            n += 1
            if want:
                out.append(self._row(self.cur))
        return n, out

    def materialise(self) -> None:
        """Pull every remaining row now: the plan's iterator and the transaction it reads
        are not needed afterwards."""
        it, self.it = self.it, None
        if it is not None:
            self.buf.extend(it)
            if not self.keep and self.cur > self.base:
                del self.buf[:self.cur - self.base]
                self.base = self.cur

    def close(self) -> None:
        self.it = None  # drops the plan's iterators, which ends their store reads
        self.buf = []


class Cursor:
    """One open cursor: its columns, rows and PostgreSQL's portal position (`pos`, the
    number of the current row, 0 before the first; `at_start`, `at_end`)."""

    def __init__(self, name: str, columns: list, rows: _Rows, *, no_scroll: bool,
                 hold: bool, binary: bool, savepoints: tuple, view=None):
        self.name = name
        self.columns = columns
        self.rows = rows
        self.no_scroll = no_scroll
        self.hold = hold
        self.binary = binary
        self.savepoints = savepoints  # the session's savepoints at DECLARE (by identity)
        self.view = view  # the store transaction the plan reads, until materialised
        self.pending = True  # declared in the open transaction: ends with it unless held
        self.failed = False
        self.pos = 0
        self.at_start = True
        self.at_end = False

    # ------------------------------------------------------------------ PostgreSQL ------
    def fetch(self, direction: str, count: int | None, move: bool) -> tuple[int, list]:
        """DoPortalRunFetch: (rows processed, the rows unless `move`)."""
        want = not move
        if direction in ("forward", "backward"):
            if count is None:
                count = FETCH_ALL
            elif count < 0:
                direction = "backward" if direction == "forward" else "forward"
                count = -count
        elif direction == "absolute":
            if count > 0:
                # rewind and go forward, or get there from where we are if that is closer
                if count - 1 <= self.pos // 2:
                    self._rewind()
                    if count > 1:
                        self._select(True, count - 1, False)
                else:
                    pos = self.pos + 1 if self.at_end else self.pos
                    if count <= pos:
                        self._select(False, pos - count + 1, False)
                    elif count > pos + 1:
                        self._select(True, count - pos - 1, False)
                return self._select(True, 1, want)
            if count < 0:  # to the end, then back
                self._select(True, FETCH_ALL, False)
                if count < -1:
                    self._select(False, -count - 1, False)
                return self._select(False, 1, want)
            self._rewind()  # ABSOLUTE 0: before the first row, nothing returned
            return self._select(True, 0, want)
        elif direction == "relative":
            if count > 0:
                if count > 1:
                    self._select(True, count - 1, False)
                return self._select(True, 1, want)
            if count < 0:
                if count < -1:
                    self._select(False, -count - 1, False)
                return self._select(False, 1, want)
            direction = "forward"  # RELATIVE 0 is FORWARD 0
        else:
            raise errors.InternalError(f"bogus fetch direction {direction!r}")
        forward = direction == "forward"
        if count == 0:  # re-fetch the current row, if any
            on_row = not self.at_start and not self.at_end
            if move:
                return (1 if on_row else 0), []
            if on_row:
                self._select(False, 1, False)
                count, forward = 1, True
        if not forward and count == FETCH_ALL and move:  # MOVE BACKWARD ALL: a rewind
            result = self.pos
            if result > 0 and not self.at_end:
                result -= 1
            self._rewind()
            return result, []
        return self._select(forward, count, want)

    def _select(self, forward: bool, count: int, want: bool) -> tuple[int, list]:
        """PortalRunSelect: move `count` rows (FETCH_ALL: all) and keep the position."""
        rows = self.rows
        if forward:
            moving = not (self.at_end or count <= 0)
            if count == FETCH_ALL:
                count = 0
            if not moving:
                return 0, []
            n, out = rows.forward(count, want)
            if n > 0:
                self.at_start = False  # OK to go backward now
            if count == 0 or n < count:
                self.at_end = True  # we retrieved them all
            self.pos += n
            return n, out
        if self.no_scroll:
            raise _forward_only()
        moving = not (self.at_start or count <= 0)
        if count == FETCH_ALL:
            count = 0
        if not moving:
            return 0, []
        n, out = rows.backward(count, want)
        if n > 0 and self.at_end:
            self.at_end = False  # OK to go forward now
            self.pos += 1  # adjust for the endpoint case
        if count == 0 or n < count:
            self.at_start = True  # we retrieved them all
            self.pos = 0
        else:
            self.pos -= n
        return n, out

    def _rewind(self) -> None:
        """DoPortalRewind: back to before the first row."""
        if self.at_start and not self.at_end:
            return  # not moved yet: nothing to do (and no NO SCROLL error)
        if self.no_scroll:
            raise _forward_only()
        self.rows.cur = 0
        self.at_start, self.at_end, self.pos = True, False, 0

    # ------------------------------------------------------------------ lifetime --------
    def persist(self) -> None:
        """WITH HOLD at commit: the rows not yet read, read now (PersistHoldablePortal)."""
        self.rows.materialise()
        self.pending = False
        self._drop_view()

    def close(self) -> None:
        self.rows.close()
        self._drop_view()

    def _drop_view(self) -> None:
        view, self.view = self.view, None
        if view is not None:
            view.rollback()  # it only ever read


# ------------------------------------------------------------------ statements ----------

def declare(ctx, stmt: ast.DeclareCursor) -> Result:
    """DECLARE: plan the query now, on a view of the transaction as it is now."""
    session = ctx.session
    q = stmt.query
    if any(not isinstance(cte.query, ast.Query) for cte in q.with_):
        raise errors.FeatureNotSupported(
            "DECLARE CURSOR must not contain data-modifying statements in WITH")
    if q.for_update and (stmt.hold or stmt.scroll):
        kind = "CURSOR WITH HOLD" if stmt.hold else "SCROLL CURSOR"
        raise errors.FeatureNotSupported(
            f"DECLARE {kind} ... FOR UPDATE is not supported",
            detail=f"{'Holdable' if stmt.hold else 'Scrollable'} cursors must be READ ONLY.")
    if ctx.describing:  # plans the query: that types its parameters
        QueryPlanner(ctx).plan_query(q)
        return Result("DECLARE CURSOR")
    in_block = session.in_block
    if not in_block:  # the statement is the whole transaction: its own is frozen enough
        plan = _plan(ctx, q)
        if not stmt.hold:
            raise errors.NoActiveSqlTransaction(
                "DECLARE CURSOR can only be used in transaction blocks")
        cursor = _new_cursor(session, stmt, plan, None, ())
        cursor.persist()  # WITH HOLD in an implicit transaction, which ends now
    else:
        view = _frozen_view(ctx)
        try:
            plan = _plan(StatementContext(session, view, ctx.params, ctx.param_types), q)
            cursor = _new_cursor(session, stmt, plan, view, tuple(session.savepoints))
        except BaseException:
            view.rollback()
            raise
    session.cursors[stmt.name] = cursor
    return Result("DECLARE CURSOR")


def _plan(ctx, q: ast.Query):
    ctx.track_reads = False  # see the module docstring
    return QueryPlanner(ctx).plan_query(q)


def _new_cursor(session, stmt: ast.DeclareCursor, plan, view, savepoints) -> Cursor:
    if stmt.name in session.cursors:
        raise errors.DuplicateCursor(f'cursor "{stmt.name}" already exists')
    no_scroll = stmt.scroll is False or (stmt.scroll is None and stmt.query.for_update)
    return Cursor(stmt.name, plan.columns, _Rows(iter(plan.op), keep=not no_scroll),
                  no_scroll=no_scroll, hold=stmt.hold, binary=stmt.binary,
                  savepoints=savepoints, view=view)


def fetch(ctx, stmt: ast.FetchCursor) -> Result:
    """FETCH (the rows, tagged FETCH n) or MOVE (no rows, tagged MOVE n)."""
    if ctx.describing:
        # PostgreSQL's UtilityTupleDescriptor: FETCH has its cursor's columns, MOVE none,
        # and describing a FETCH of a cursor that does not exist is not an error (no
        # columns): running it is
        cursor = None if stmt.move else ctx.session.cursors.get(stmt.name)
        return Result("FETCH", cursor.columns if cursor is not None else None)
    cursor = _cursor(ctx.session, stmt.name)
    if cursor.failed:
        raise _not_in_prerequisite_state(f'portal "{cursor.name}" cannot be run')
    try:
        n, rows = cursor.fetch(stmt.direction, stmt.count, stmt.move)
    except BaseException:
        cursor.failed = True  # PostgreSQL's MarkPortalFailed
        raise
    if stmt.move:
        return Result(f"MOVE {n}", rowcount=n)
    return Result(f"FETCH {n}", cursor.columns, rows, n)


def close(ctx, stmt: ast.CloseCursor) -> Result:
    cursors = ctx.session.cursors
    if stmt.name is None:
        close_all(ctx.session)
        return Result("CLOSE CURSOR ALL")
    cursor = _cursor(ctx.session, stmt.name)
    del cursors[stmt.name]
    cursor.close()
    return Result("CLOSE CURSOR")


def _cursor(session, name: str) -> Cursor:
    cursor = session.cursors.get(name)
    if cursor is None:
        raise errors.InvalidCursorName(f'cursor "{name}" does not exist')
    return cursor


def _frozen_view(ctx):
    """A store transaction reading what the block's transaction reads now, for good: the
    same snapshot and a copy of its own writes so far (the block's later writes are not
    seen). Only read through, then rolled back."""
    tx = ctx.tx
    view = ctx.engine.store.transaction()
    view.snapshot = tx.snapshot
    view.rollback_to(tx.savepoint())
    return view


# ------------------------------------------------------------------ transaction hooks ---

def end_of_block(session, commit: bool) -> errors.Error | None:
    """The block ends (Session._end_block calls this first): its cursors close, except WITH
    HOLD ones on commit, which are materialised now. Returns the error that materialising
    raised, if any: the commit must then become a rollback, and the caller raises it."""
    cursors = session.cursors
    if not cursors:
        return None
    error = None
    ending = [name for name, cursor in cursors.items() if cursor.pending]
    if commit:
        session._start_clock()  # statement_timeout and cancel apply to COMMIT's work
        for name in ending:
            cursor = cursors[name]
            if cursor.hold:
                try:
                    cursor.persist()
                except Exception as e:  # made a SQL error, raised later
                    error = errors.as_sql_error(e)
                    break
    for name in ending:  # all of them unless held by a transaction that commits
        cursor = cursors[name]
        if error is not None or not commit or not cursor.hold:
            del cursors[name]
            cursor.close()
    return error


def rollback_to(session, savepoint) -> None:
    """ROLLBACK TO SAVEPOINT: close the cursors declared since `savepoint` (an entry of
    session.savepoints) was set; the others keep their position."""
    cursors = session.cursors
    for name, cursor in list(cursors.items()):
        if cursor.pending and any(s is savepoint for s in cursor.savepoints):
            del cursors[name]
            cursor.close()


def close_all(session) -> None:
    """CLOSE ALL, and the end of the session."""
    cursors = session.cursors
    while cursors:
        _, cursor = cursors.popitem()
        cursor.close()
