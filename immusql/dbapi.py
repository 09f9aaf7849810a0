"""PEP 249 (DB-API 2.0) over an embedded database: `immusql.connect(path)`.

Like psycopg, a connection starts a transaction block at the first statement and keeps it
until `commit()` / `rollback()` (unless `autocommit` is set); parameters are `%s` or
`%(name)s`, rewritten to PostgreSQL's `$n` outside literals, comments and identifiers.
"""

from __future__ import annotations

import datetime
import threading
import time

from . import errors
from .errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from .parser import ast

apilevel = "2.0"
threadsafety = 2  # connections may be shared between threads (serialised per connection)
paramstyle = "pyformat"

# ---------------------------------------------------------- PEP 249 types and constructors
Date, Time, Timestamp = datetime.date, datetime.time, datetime.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802 - PEP 249's names
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802
    return Timestamp(*time.localtime(ticks)[:6])


class DBAPITypeObject:
    """Equal to every `description` type code (a PostgreSQL type OID) of its group."""

    def __init__(self, name: str, *oids: int):
        self.name, self.oids = name, frozenset(oids)

    def __eq__(self, other) -> bool:
        return other in self.oids if isinstance(other, int) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.oids)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


STRING = DBAPITypeObject("STRING", 18, 19, 25, 114, 1042, 1043, 3802)
BINARY = DBAPITypeObject("BINARY", 17)
NUMBER = DBAPITypeObject("NUMBER", 20, 21, 23, 26, 700, 701, 1700)
DATETIME = DBAPITypeObject("DATETIME", 1082, 1083, 1114, 1184, 1186, 1266)
ROWID = DBAPITypeObject("ROWID", 26)

__all__ = ["connect", "Connection", "Cursor", "apilevel", "threadsafety", "paramstyle",
           "Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
           "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
           "NotSupportedError"]

_ENGINES: dict = {}
_ENGINES_LOCK = threading.Lock()


def connect(path, autocommit: bool = False, **options) -> "Connection":
    """Open (or create) the database at `path`. Connections to the same path in one
    process share one engine (the store allows one opener per directory)."""
    import os

    from .planner.session import Engine
    key = os.path.realpath(os.fspath(path))
    with _ENGINES_LOCK:
        entry = _ENGINES.get(key)
        if entry is None:
            try:
                engine = Engine.open(key, **options)
            except errors.ImmuSQLError as e:
                raise errors.from_store_error(e) from e
            entry = _ENGINES[key] = [engine, 0]
        entry[1] += 1
    return Connection(entry[0], key, autocommit)


def _release(key: str) -> None:
    with _ENGINES_LOCK:
        entry = _ENGINES.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del _ENGINES[key]
            entry[0].close()


class Connection:
    Error, Warning, InterfaceError, DatabaseError = Error, Warning, InterfaceError, DatabaseError
    DataError, OperationalError, IntegrityError = DataError, OperationalError, IntegrityError
    InternalError, ProgrammingError = InternalError, ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, engine, key: str, autocommit: bool):
        self._engine = engine
        self._key = key
        self._session = engine.session()
        self.autocommit = autocommit
        self._lock = threading.RLock()
        self.closed = False

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.closed:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        self.close()

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed")

    def cursor(self) -> "Cursor":
        self._check()
        return Cursor(self)

    def commit(self) -> None:
        self._check()
        with self._lock:
            if self._session.in_block:
                self._session.execute("COMMIT")

    def rollback(self) -> None:
        self._check()
        with self._lock:
            if self._session.in_block:
                self._session.execute("ROLLBACK")

    def close(self) -> None:
        if self.closed:
            return
        with self._lock:
            self._session.close()
            self.closed = True
        _release(self._key)

    def execute(self, sql: str, params=None) -> "Cursor":
        """psycopg 3's shortcut: a new cursor, executed."""
        cur = self.cursor()
        cur.execute(sql, params)
        return cur

    @property
    def info(self):
        return self._session

    def _run(self, sql: str, params):
        with self._lock:
            text, values = convert_params(sql, params)
            from .planner.session import parse_cached
            statements = parse_cached(text)
            session = self._session
            results = []
            for stmt in statements:
                if not self.autocommit and not session.in_block and \
                        not isinstance(stmt, ast.Transaction):
                    session.execute_statement(ast.Transaction("begin"))
                results.append(session.execute_statement(stmt, values))
            return results


class Cursor:
    arraysize = 1

    def __init__(self, conn: Connection):
        self.connection = conn
        self.description = None
        self.rowcount = -1
        self.statusmessage = None
        self._rows: list = []
        self._pos = 0
        self.closed = False

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self):
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def close(self) -> None:
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("the cursor is closed")
        self.connection._check()

    def execute(self, sql: str, params=None) -> "Cursor":
        self._check()
        results = self.connection._run(sql, params)
        last = results[-1] if results else None
        self._rows, self._pos = [], 0
        self.description = None
        if last is None:
            self.rowcount = -1
            return self
        self.statusmessage = last.tag
        self.rowcount = last.rowcount
        if last.columns is not None:
            self.description = [Column(c.name, c.type.oid, None, None, None, None, None)
                                for c in last.columns]
            self._rows = _client_values(last.columns, last.rows)
        return self

    def executemany(self, sql: str, seq_of_params) -> "Cursor":
        self._check()
        total = 0
        for params in seq_of_params:
            self.execute(sql, params)
            if self.rowcount > 0:
                total += self.rowcount
        self.rowcount = total
        return self

    def fetchone(self):
        self._need_result()
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: int | None = None) -> list:
        self._need_result()
        n = self.arraysize if size is None else size
        rows = self._rows[self._pos:self._pos + n]
        self._pos += len(rows)
        return rows

    def fetchall(self) -> list:
        self._need_result()
        rows = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rows

    def _need_result(self) -> None:
        self._check()
        if self.description is None:
            raise ProgrammingError("the last operation didn't produce a result")

    def setinputsizes(self, sizes) -> None:
        pass

    def setoutputsize(self, size, column=None) -> None:
        pass


_FLOAT4_OIDS = (700, 1021)  # real, real[]


def _client_values(columns, rows) -> list:
    """Rows as a PostgreSQL client would decode them. A real is held as the double
    nearest to it, but PostgreSQL prints it with the shortest digits that round-trip
    (0.1, not 0.10000000149011612) and drivers parse that text, so we do the same."""
    rows = [tuple(r) for r in rows]
    reals = [i for i, c in enumerate(columns) if c.type.oid in _FLOAT4_OIDS]
    if not reals or not rows:
        return rows
    from .planner.numerics import format_float4

    def shortest(v):
        if v is None:
            return None
        if isinstance(v, list):
            return [shortest(x) for x in v]
        return float(format_float4(v))
    out = []
    for r in rows:
        r = list(r)
        for i in reals:
            r[i] = shortest(r[i])
        out.append(tuple(r))
    return out


class Column(tuple):
    """A description entry: (name, type_code, display_size, internal_size, precision,
    scale, null_ok), with the names as attributes (as psycopg)."""

    def __new__(cls, *fields):
        return super().__new__(cls, fields)

    name = property(lambda self: self[0])
    type_code = property(lambda self: self[1])


def convert_params(sql: str, params):
    """(sql with $n placeholders, list of values) from %s / %(name)s style."""
    if params is None:
        return sql, []
    named = isinstance(params, dict)
    if not named and not isinstance(params, (list, tuple)):
        raise InterfaceError("parameters must be a sequence or a mapping")
    out, values, names = [], [], {}
    i, n = 0, len(sql)
    positional = 0
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                if ch == "'" and sql[j] == "\\" and i > 0 and sql[i - 1] in "eE":
                    j += 2
                    continue
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif ch == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
        elif ch == "$" and i + 1 < n and (sql[i + 1] == "$" or sql[i + 1].isalpha()):
            end = sql.find("$", i + 1)
            tag = sql[i:end + 1] if end > 0 else ""
            close = sql.find(tag, end + 1) if tag and (tag == "$$" or tag[1:-1].isidentifier()) \
                else -1
            if close < 0:
                out.append(ch)
                i += 1
            else:
                out.append(sql[i:close + len(tag)])
                i = close + len(tag)
        elif ch == "%":
            nxt = sql[i + 1] if i + 1 < n else ""
            if nxt == "%":
                out.append("%")
                i += 2
            elif nxt == "s" and not named:
                if positional >= len(params):
                    raise ProgrammingError("the query has more placeholders than parameters")
                values.append(params[positional])
                positional += 1
                out.append(f"${positional}")
                i += 2
            elif nxt == "(" and named:
                j = sql.find(")s", i)
                if j < 0:
                    raise ProgrammingError("incomplete placeholder: '%('")
                name = sql[i + 2:j]
                if name not in params:
                    raise ProgrammingError(f"query parameter missing: {name}")
                if name not in names:
                    values.append(params[name])
                    names[name] = len(values)
                out.append(f"${names[name]}")
                i = j + 2
            else:
                raise ProgrammingError(
                    f"only '%s', '%(name)s' and '%%' placeholders allowed, got '%{nxt}'")
        else:
            out.append(ch)
            i += 1
    if not named and positional != len(params):
        raise ProgrammingError(f"the query has {positional} placeholders but "
                               f"{len(params)} parameters were passed")
    return "".join(out), values
