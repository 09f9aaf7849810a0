"""COPY ... FROM STDIN and COPY ... TO STDOUT: the engine side of PostgreSQL's bulk path.

The wire server owns the protocol messages (CopyInResponse, CopyData, CopyDone, CopyFail);
this module owns what happens to the data. `Session.copy_in(stmt)` returns a `CopyIn`:
the server hands it every CopyData payload (`feed`), then `finish()` (CopyDone) or
`abort(message)` (CopyFail). `Session.copy_out(stmt)` returns a `CopyOut` whose
`chunks()` are the CopyData payloads (one per row, as PostgreSQL sends them).

Transactions follow PostgreSQL: outside a block the whole COPY is one store transaction,
committed by `finish` and by nothing else, so an error anywhere (or a CopyFail) leaves no
trace. Inside a block the rows go into the block's transaction, and an error puts the
block in the aborted state like any failing statement.

Rows are inserted as INSERT inserts them (TableWriter: defaults, serial / identity,
NOT NULL, CHECK, UNIQUE / PRIMARY KEY, foreign keys, indexes), with PostgreSQL's error
CONTEXT (`COPY t, line 3, column b: "x"`). Speed comes from batches: the parser splits a
chunk's rows with str.split, values are converted column by column (int() over a whole
column), and a table empty when the COPY starts checks uniqueness in memory instead of
reading the store for every row. Whenever a batch has an error, it is processed again
row by row, so the error reported is the one PostgreSQL reports first.

Binary format: the framing is copyformat's; the values' binary encodings belong to the
wire layer (pgwire/codecs.py), which the planner must not import. The server passes a
`BinaryCodec` (`decoder(type)` / `encoder(type)`) to copy_in / copy_out; without one,
FORMAT binary is refused with 0A000.
"""

from __future__ import annotations

import datetime
from typing import Callable, Iterator, Protocol

from .. import errors
from ..kv import ImmuSQLError
from ..parser import ast
from . import copyformat as cf
from . import types as T
from .select import OutputColumn
from .tables import HIDDEN_COLUMNS, row_prefix, unique_probe

_FILE_REFUSED = ("COPY {} a server-side file is not supported; use COPY {} (psql's "
                 "\\copy)")


class BinaryCodec(Protocol):
    """Binary values of the wire protocol (PostgreSQL's typsend / typreceive)."""

    def decoder(self, t: T.SqlType) -> Callable[[bytes], object]:
        """bytes -> the engine's value of `t`; raises errors.Error (22P03 ...) if bad."""

    def encoder(self, t: T.SqlType) -> Callable[[object], bytes]:
        """The engine's value of `t` -> its binary form."""


# ------------------------------------------------------------------------ shared -------

class _Statement:
    """The transaction around one COPY, with execute_statement's rules."""

    def __init__(self, session, verb: str | None):
        self.session = session
        if session.failed:
            raise errors.InFailedSqlTransaction(
                "current transaction is aborted, commands ignored until end of "
                "transaction block")
        self.in_block = session.in_block
        if self.in_block:
            if verb is not None and session.read_only:
                session.failed = True
                raise errors.ReadOnlySqlTransaction(
                    f"cannot execute {verb} in a read-only transaction")
            self.tx = session.tx
        else:
            self.tx = session.engine.store.transaction()
            session.tx_started_at = datetime.datetime.now(datetime.timezone.utc)
        self.state = "active"  # 'active' | 'done' | 'failed'
        self.error: errors.Error | None = None

    def context(self, track_reads: bool = True):
        from .context import StatementContext
        ctx = StatementContext(self.session, self.tx)
        ctx.track_reads = track_reads
        return ctx

    def fail(self, exc: BaseException) -> errors.Error:
        """End the statement after an error: roll back (autocommit) or abort the block.
        Returns the error to raise (a store or internal error made a SQL one)."""
        err = errors.as_sql_error(exc) if isinstance(exc, Exception) else \
            errors.QueryCanceled("canceling statement due to user request")
        if self.state == "active":
            self.state = "failed"
            self.error = err
            if self.in_block:
                self.session.failed = True
            else:
                if not self.tx._done:
                    self.tx.rollback()
                self._end_autocommit()
        return err

    def commit(self) -> None:
        self.state = "done"
        if not self.in_block:
            try:
                self.tx.commit()
            except ImmuSQLError as e:
                self.state = "failed"
                raise errors.from_store_error(e) from e
            finally:
                if not self.tx._done:
                    self.tx.rollback()
                self._end_autocommit()

    def _end_autocommit(self) -> None:
        self.session.tx_catalog = None
        self.session.tx_started_at = None


def _reraise(st: _Statement, e: BaseException):
    """End the statement after `e` and raise its SQL error (KeyboardInterrupt and the
    like end it too, and go on as they are)."""
    err = st.fail(e)
    if not isinstance(e, Exception):
        raise e
    raise err from (None if err is e else e)


def _check_source(stmt: ast.Copy) -> None:
    if stmt.filename is not None or stmt.program is not None:
        if stmt.direction == "from":
            raise errors.FeatureNotSupported(_FILE_REFUSED.format("from", "FROM STDIN"))
        raise errors.FeatureNotSupported(_FILE_REFUSED.format("to", "TO STDOUT"))


def _column_positions(rel, names) -> list[int]:
    """CopyGetAttnums: positions of the named columns (all columns if none)."""
    if not names:
        return list(range(len(rel.columns)))
    out = []
    for name in names:
        col = rel.column(name)
        if col is None:
            raise errors.UndefinedColumn(
                f'column "{name}" of relation "{rel.name}" does not exist')
        pos = rel.columns.index(col)
        if pos in out:
            raise errors.DuplicateColumn(f'column "{name}" specified more than once')
        out.append(pos)
    return out


def _forced(rel, names, targets: list[int], option: str) -> list[int]:
    """FORCE_NOT_NULL / FORCE_NULL columns as positions in COPY's column list."""
    out = []
    for pos in _column_positions(rel, names) if names else ():
        if pos not in targets:
            raise errors.InvalidColumnReference(
                f'{option} column "{rel.columns[pos].name}" not referenced by COPY')
        out.append(targets.index(pos))
    return out


# ------------------------------------------------------------------------ input --------

class _Fallback(Exception):
    """A column-wise conversion cannot decide: convert value by value instead."""


def _input_function(t: T.SqlType, ctx) -> Callable[[str], object]:
    """The column type's input function (text -> value) as COPY calls it: with the
    column's typmod, as an assignment (varchar(3) overflow fails, 22001)."""
    from . import numerics as nums
    from . import textio
    oid = t.oid
    if t.element is None and t.typmod < 0:
        if oid in (T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.UNKNOWN.oid):
            return _identity
        if oid in T.INTEGER_TYPES:
            return lambda s, oid=oid: nums.parse_int(s, oid)
        if oid == T.NUMERIC.oid:
            return nums.parse_numeric
        if oid == T.BOOL.oid:
            return textio.parse_bool
    tz, now, resolver = ctx.timezone, ctx.now, ctx.fctx.resolver
    return lambda s: textio.parse_text(s, t, tz=tz, now=now, resolver=resolver,
                                       explicit=False)


def _binary_input(codec: BinaryCodec, t: T.SqlType):
    """The codec's decoder, then the column's typmod (numeric(8,2) rounds, varchar(3)
    overflow fails), as PostgreSQL's typreceive functions take the typmod."""
    from .textio import apply_typmod
    dec = codec.decoder(t)
    if t.typmod < 0 and (t.element is None or t.element.typmod < 0):
        return dec
    return lambda b: apply_typmod(dec(b), t, explicit=False)


def _identity(s):
    return s


def _int_column(lo: int, hi: int):
    """A whole column of integer text at once: int() over the column (C speed), after
    checking the text holds only what PostgreSQL's int input accepts too."""

    def convert(values):
        nn = values if None not in values else [v for v in values if v is not None]
        text = "".join(nn)
        if not (text.isascii() and text.isprintable()) or "_" in text:
            raise _Fallback  # int() accepts more than PostgreSQL (1_000, other digits)
        try:
            ints = list(map(int, nn))
        except ValueError:
            raise _Fallback from None
        if ints and (min(ints) < lo or max(ints) > hi):
            raise _Fallback
        if nn is values:
            return ints
        it = iter(ints)
        return [None if v is None else next(it) for v in values]
    return convert


def _column_function(t: T.SqlType, fn):
    if t.element is None and t.typmod < 0:
        if fn is _identity:
            return _identity
        if t.oid in T.INTEGER_TYPES:
            return _int_column(*T.INT_RANGES[t.oid])

    def convert(values):
        return [None if v is None else fn(v) for v in values]
    return convert


class CopyIn:
    """A COPY FROM STDIN in progress. `columns`: the target columns (OutputColumn: name,
    type); `format`: 'text' | 'csv' | 'binary'."""

    def __init__(self, session, stmt: ast.Copy, binary_codec: BinaryCodec | None = None):
        self._st = st = _Statement(session, "COPY FROM")
        try:
            _check_source(stmt)
            opts = cf.parse_options(stmt.options, is_from=True)
            if opts.binary and binary_codec is None:
                raise errors.FeatureNotSupported("COPY BINARY is not supported")
            self._setup(stmt, opts, binary_codec)
        except BaseException as e:
            _reraise(st, e)

    def _setup(self, stmt, opts, binary_codec) -> None:
        from .writer import TableWriter, table_scope
        self.format = opts.format
        self.ctx = ctx = self._st.context()
        rel = ctx.find_relation(stmt.table, stmt.pos)
        if rel.kind != "table":
            if rel.kind == "view":
                raise errors.WrongObjectType(
                    f'cannot copy to view "{rel.name}"',
                    hint="To enable copying to a view, provide an INSTEAD OF INSERT "
                         "trigger.")
            if rel.kind == "sequence":
                raise errors.WrongObjectType(f'cannot copy to sequence "{rel.name}"')
            raise errors.WrongObjectType(f'cannot copy to non-table relation "{rel.name}"')
        self.rel = rel
        targets = _column_positions(rel, stmt.columns)
        self.targets = targets
        cols = rel.columns
        self.columns = [OutputColumn(cols[p].name, cols[p].type, rel.id, cols[p].id)
                        for p in targets]
        names = [cols[p].name for p in targets]
        fnn = _forced(rel, opts.force_not_null, targets, "FORCE_NOT_NULL")
        fn = _forced(rel, opts.force_null, targets, "FORCE_NULL")
        self.writer = writer = TableWriter(ctx, rel)
        self.where = None
        if stmt.where is not None:
            self.where = _where_predicate(ctx, stmt.where, table_scope(rel, rel.name))
        if opts.binary:
            self.parser = cf.BinaryParser(names, rel.name)
            self.inputs = [_binary_input(binary_codec, cols[p].type) for p in targets]
            self.column_inputs = None
        else:
            self.parser = cf.CopyParser(opts, names, rel.name, fnn, fn, allow_short=True)
            self.inputs = [_input_function(cols[p].type, ctx) for p in targets]
            self.column_inputs = [_column_function(cols[p].type, f)
                                  for p, f in zip(targets, self.inputs)]
        self.names = names
        self.relname = rel.name
        self.binary = opts.binary
        width = len(cols)
        defaults = writer.defaults()
        # per column of the table: ('target', j) or ('default', fn) or ('null',)
        self.fill = []
        for p, col in enumerate(cols):
            if p in targets:
                self.fill.append(("target", targets.index(p)))
            elif col.default is None and col.sequence is None:
                self.fill.append(("null", None))
            else:
                self.fill.append(("default", defaults[p]))
        self.in_order = targets == list(range(width))
        self.hidden = (None,) * len(HIDDEN_COLUMNS)
        # TableWriter.check's work, hoisted: only NOT NULL columns -> test just those
        self.full_check = bool(rel.checks or rel.foreign_keys)
        self.not_null = [p for p, c in enumerate(cols) if c.not_null]
        # a table empty when COPY starts: uniqueness is decided by what COPY wrote
        empty = next(iter(ctx.tx.scan(row_prefix(rel.id), limit=1, track=False)), None) \
            is None
        self.seen = None
        if empty:
            self.seen = {None: set()}  # None: the primary key; else unique index name
            for idx in writer.unique:
                self.seen[idx.name] = set()
        self.count = 0

    # ---------------------------------------------------------------- API ------------
    def feed(self, chunk: bytes) -> None:
        """Parse `chunk` (any piece of the data) and insert the rows it completes."""
        self._active()
        try:
            for batch in self.parser.feed(bytes(chunk)):
                self._insert_batch(batch)
        except BaseException as e:
            _reraise(self._st, e)

    def finish(self):
        """End of the data (CopyDone): the last rows, then commit outside a block.
        Returns the session Result with tag `COPY n`."""
        from .session import Result
        self._active()
        try:
            for batch in self.parser.finish():
                self._insert_batch(batch)
        except BaseException as e:
            _reraise(self._st, e)
        self._st.commit()
        return Result(f"COPY {self.count}", rowcount=self.count)

    def abort(self, message: str = "") -> errors.Error:
        """The client gave up (CopyFail): nothing is written; the block, if any, is
        aborted. Returns (does not raise) PostgreSQL's error for it, 57014
        `COPY from stdin failed: <message>`; after an earlier error, that error."""
        err = errors.QueryCanceled(f"COPY from stdin failed: {message}")
        if self._st.state != "active":
            return self._st.error or err
        return self._st.fail(err)

    @property
    def state(self) -> str:
        """'active', 'done' (finished and committed) or 'failed'."""
        return self._st.state

    def _active(self) -> None:
        if self._st.state != "active":
            raise errors.ObjectNotInPrerequisiteState("COPY FROM is no longer in progress")

    # ---------------------------------------------------------------- rows -----------
    def _insert_batch(self, batch: cf.Batch) -> None:
        if self.column_inputs is None or batch.short:
            return self._insert_rows(batch)
        rows = batch.rows
        n = len(rows)
        try:
            if self.names:
                values = [conv(col) for conv, col in zip(self.column_inputs, zip(*rows))]
            else:
                values = []
        except (errors.Error, _Fallback):
            return self._insert_rows(batch)  # find the first error in PostgreSQL's order
        full = self._assemble(values, n)
        insert = self._insert
        linenos = batch.linenos
        where = self.where
        hidden = self.hidden
        for i, row in enumerate(full):
            if where is not None and where(row + hidden) is not True:
                continue
            insert(row, linenos[i], batch.lines, i)

    def _assemble(self, values: list, n: int) -> list:
        """Rows in table column order from converted target columns plus defaults."""
        if self.in_order:
            return list(zip(*values)) if values else [()] * n
        cols = []
        for kind, x in self.fill:
            if kind == "target":
                cols.append(values[x])
            elif kind == "null":
                cols.append((None,) * n)
            else:
                cols.append([x() for _ in range(n)])
        return list(zip(*cols)) if cols else [()] * n

    def _insert_rows(self, batch: cf.Batch) -> None:
        """Row by row, column by column: PostgreSQL's order of errors."""
        inputs = self.inputs
        names = self.names
        binary = self.binary
        where = self.where
        hidden = self.hidden
        ncols = len(names)
        for i, raw in enumerate(batch.rows):
            lineno = batch.linenos[i]
            vals = []
            if len(raw) < ncols:  # convert what is there, then complain (PostgreSQL)
                for j, text in enumerate(raw):
                    try:
                        None if text is None else inputs[j](text)
                    except errors.Error as e:
                        _add_context(e, cf.column_context(self.relname, lineno, names[j],
                                                          text))
                        raise
                raise self.parser.missing_data(raw, batch.lines[i], lineno)
            for j, text in enumerate(raw):
                if text is None:
                    vals.append(None)
                    continue
                try:
                    vals.append(inputs[j](text))
                except errors.Error as e:
                    _add_context(e, cf.column_context(self.relname, lineno, names[j],
                                                      None if binary else text, binary))
                    raise
            row = self._assemble([[v] for v in vals], 1)[0]
            if where is not None and where(row + hidden) is not True:
                continue
            self._insert(row, lineno, batch.lines, i)

    def _insert(self, row: tuple, lineno: int, lines, i: int) -> None:
        w = self.writer
        try:
            seen = self.seen
            if seen is None:
                w.insert(row)
            else:
                if self.full_check:
                    w.check(row)
                else:
                    for p in self.not_null:
                        if row[p] is None:
                            w.check(row)  # raises PostgreSQL's not-null error
                key = w.key_for(row)
                if w.codec.pk_slots is not None:
                    pk = seen[None]
                    if key in pk:
                        raise w.unique_error(
                            w.pk_index.name if w.pk_index else f"{self.relname}_pkey", row)
                    pk.add(key)
                for idx in w.unique:
                    probe = unique_probe(idx, w.codec, row)
                    if probe is not None:
                        s = seen[idx.name]
                        if probe in s:
                            raise w.unique_error(idx.name, row)
                        s.add(probe)
                w._write(row, key)
        except errors.Error as e:
            if isinstance(e, errors.UniqueViolation):
                e.context = cf.line_context(self.relname, lineno)
            elif not isinstance(e, errors.ForeignKeyViolation) and e.context is None:
                e.context = cf.line_context(self.relname, lineno,
                                            lines[i] if lines else None)
            raise
        self.count += 1


def _add_context(e: errors.Error, line: str) -> None:
    """COPY's CONTEXT line below any the input function gave (PostgreSQL stacks them)."""
    e.context = f"{e.context}\n{line}" if e.context else line


def _where_predicate(ctx, where: ast.Expr, scope):
    """COPY FROM ... WHERE: an expression over the table's columns, without subqueries,
    aggregates, window or set-returning functions (PostgreSQL's messages)."""
    from .callinfo import is_aggregate, is_set_returning
    from .expr import ExprCompiler
    from .walk import children

    def visit(node):
        if isinstance(node, (ast.SubqueryExpr, ast.Exists, ast.InSubquery,
                             ast.ArraySubquery, ast.Query)):
            raise errors.FeatureNotSupported(
                "cannot use subquery in COPY FROM WHERE condition")
        if isinstance(node, ast.FuncCall):
            name = node.name.last
            if node.over is not None:
                raise errors.WindowingError(
                    "window functions are not allowed in COPY FROM WHERE conditions")
            if is_aggregate(name):
                raise errors.GroupingError(
                    "aggregate functions are not allowed in COPY FROM WHERE conditions")
            if is_set_returning(name):
                raise errors.FeatureNotSupported(
                    "set-returning functions are not allowed in COPY FROM WHERE "
                    "conditions")
        for c in children(node):
            visit(c)

    visit(where)
    return ExprCompiler(scope, ctx, clause="WHERE").predicate(where)


# ------------------------------------------------------------------------ output -------

def _output_function(t: T.SqlType, ctx) -> Callable[[object], str]:
    from . import textio
    oid = t.oid
    if t.element is None:
        if oid in (T.TEXT.oid, T.VARCHAR.oid, T.BPCHAR.oid, T.NAME.oid, T.UNKNOWN.oid,
                   T.JSON.oid, T.JSONB.oid, T.CHAR.oid):
            return _identity
        if oid in T.INTEGER_TYPES:
            return str
        if oid == T.BOOL.oid:
            return lambda v: "t" if v else "f"
    tz, resolver = ctx.timezone, ctx.fctx.resolver
    return lambda v: textio.format_text(v, t, tz=tz, resolver=resolver)


class CopyOut:
    """A COPY TO STDOUT in progress: `columns` (OutputColumn), `format`, the payloads
    from `chunks()` (iterate once), then `result()`."""

    def __init__(self, session, stmt: ast.Copy, binary_codec: BinaryCodec | None = None):
        verb = {ast.Insert: "INSERT", ast.Update: "UPDATE", ast.Delete: "DELETE"}.get(
            type(stmt.query))
        self._st = st = _Statement(session, verb)
        self.count = 0
        self._result = None
        try:
            _check_source(stmt)
            opts = cf.parse_options(stmt.options, is_from=False)
            if opts.binary and binary_codec is None:
                raise errors.FeatureNotSupported("COPY BINARY is not supported")
            if stmt.where is not None:
                raise errors.SyntaxError("WHERE clause not allowed with COPY TO")
            self._setup(stmt, opts, binary_codec)
        except BaseException as e:
            _reraise(st, e)

    def _setup(self, stmt, opts, binary_codec) -> None:
        self.format = opts.format
        st = self._st
        query = stmt.query
        ctx = st.context(track_reads=query is not None and not isinstance(query, ast.Query)
                         or st.in_block)
        self.ctx = ctx
        if query is None:
            rel = ctx.find_relation(stmt.table, stmt.pos)
            if rel.kind != "table":
                if rel.kind == "view":
                    raise errors.WrongObjectType(
                        f'cannot copy from view "{rel.name}"',
                        hint="Try the COPY (SELECT ...) TO variant.")
                if rel.kind == "sequence":
                    raise errors.WrongObjectType(f'cannot copy from sequence "{rel.name}"')
                raise errors.WrongObjectType(
                    f'cannot copy from non-table relation "{rel.name}"')
            positions = _column_positions(rel, stmt.columns)
            cols = rel.columns
            self.columns = [OutputColumn(cols[p].name, cols[p].type, rel.id, cols[p].id)
                            for p in positions]
            width = len(cols)
            if positions == list(range(width)):
                self._rows = (r[:width] for r in ctx.table_rows(rel))
            else:
                self._rows = (tuple(r[p] for p in positions) for r in ctx.table_rows(rel))
        elif isinstance(query, ast.Query):
            from .select import QueryPlanner
            plan = QueryPlanner(ctx).plan_query(query)
            self.columns = [OutputColumn(c.name, c.type, c.table_id, c.column_id)
                            for c in plan.columns]
            self._rows = iter(plan.op)
        elif isinstance(query, (ast.Insert, ast.Update, ast.Delete)):
            if not query.returning:
                raise errors.FeatureNotSupported("COPY query must have a RETURNING clause")
            from .dispatch import run_statement
            res = run_statement(ctx, query)
            self.columns = list(res.columns)
            self._rows = iter(res.rows)
        else:
            raise errors.FeatureNotSupported(
                f"COPY ({type(query).__name__}) TO is not supported")
        names = [c.name for c in self.columns]
        self.binary = opts.binary
        if opts.binary:
            self.outputs = [binary_codec.encoder(c.type) for c in self.columns]
            self.formatter = None
        else:
            self.outputs = [_output_function(c.type, ctx) for c in self.columns]
            force = opts.force_quote
            if force and force != "*":
                force = self._force_positions(stmt, force, names)
            self.formatter = cf.CopyFormatter(opts, len(self.columns), force)
        self.header = self.formatter.header(names) if opts.header and self.formatter \
            else None

    def _force_positions(self, stmt, force, names) -> list[int]:
        """FORCE_QUOTE columns: names of the table (or the query's output columns) that
        COPY outputs."""
        out = []
        for name in force:
            if stmt.query is None:
                rel = self.ctx.find_relation(stmt.table, stmt.pos)
                col = rel.column(name)
                if col is None:
                    raise errors.UndefinedColumn(
                        f'column "{name}" of relation "{rel.name}" does not exist')
            elif name not in names:
                raise errors.UndefinedColumn(f'column "{name}" does not exist')
            if name not in names:
                raise errors.InvalidColumnReference(
                    f'FORCE_QUOTE column "{name}" not referenced by COPY')
            pos = names.index(name)
            if pos in out:
                raise errors.DuplicateColumn(f'column "{name}" specified more than once')
            out.append(pos)
        return out

    def chunks(self) -> Iterator[bytes]:
        """The CopyData payloads: the header line (CSV/text HEADER) or binary header
        with the first row, then one per row (the binary trailer last). Rows stream from
        the plan as the iteration goes; the statement ends (commits outside a block)
        when the iteration does."""
        if self._st.state != "active":
            raise errors.ObjectNotInPrerequisiteState("COPY TO is no longer in progress")
        finished = False
        try:
            yield from (self._binary_chunks() if self.binary else self._text_chunks())
            finished = True
        except GeneratorExit:
            raise
        except BaseException as e:
            _reraise(self._st, e)
        finally:
            if not finished and self._st.state == "active":
                self._st.fail(errors.QueryCanceled("COPY TO was not read to its end"))
        from .session import Result
        self._st.commit()
        self._result = Result(f"COPY {self.count}", rowcount=self.count)

    def _text_chunks(self) -> Iterator[bytes]:
        if self.header is not None:
            yield self.header
        outputs = self.outputs
        fmt = self.formatter.row
        n = 0
        try:
            if len(outputs) == 1:
                out = outputs[0]
                for (v,) in self._rows:
                    n += 1
                    yield fmt([None if v is None else out(v)])
            else:
                pairs = list(enumerate(outputs))
                ident = all(o is _identity for o in outputs)
                for row in self._rows:
                    n += 1
                    if ident:
                        yield fmt(list(row))
                    else:
                        yield fmt([None if row[i] is None else o(row[i]) for i, o in pairs])
        finally:
            self.count = n

    def _binary_chunks(self) -> Iterator[bytes]:
        outputs = self.outputs
        prefix = cf.BINARY_HEADER
        n = 0
        try:
            for row in self._rows:
                n += 1
                data = cf.binary_row([None if v is None else o(v)
                                      for v, o in zip(row, outputs)])
                if prefix:
                    data, prefix = prefix + data, b""
                yield data
        finally:
            self.count = n
        yield prefix + cf.BINARY_TRAILER

    def close(self) -> None:
        """Give up on an unfinished COPY TO (the client went away): roll back."""
        if self._st.state == "active":
            self._st.fail(errors.QueryCanceled("COPY TO was not read to its end"))

    def result(self):
        """The session Result (tag `COPY n`) once chunks() has been read to its end."""
        if self._result is None:
            raise errors.ObjectNotInPrerequisiteState("COPY TO has not been read to its end")
        return self._result


def copy_in(session, stmt: ast.Copy, binary_codec: BinaryCodec | None = None) -> CopyIn:
    if stmt.direction != "from":
        raise errors.InternalError("copy_in needs COPY ... FROM")
    return CopyIn(session, stmt, binary_codec)


def copy_out(session, stmt: ast.Copy, binary_codec: BinaryCodec | None = None) -> CopyOut:
    if stmt.direction != "to":
        raise errors.InternalError("copy_out needs COPY ... TO")
    return CopyOut(session, stmt, binary_codec)
