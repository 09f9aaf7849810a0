"""Session.describe against PostgreSQL 15's Parse + Describe, statement by statement.

PostgreSQL's answer comes from libpq's PQprepare / PQdescribePrepared (psycopg's pgconn):
the parameter types it infers and the RowDescription. Each case of
tests/planner/describe_cases.py is asserted on both servers, so the table there is
PostgreSQL's behaviour and immusql matches it.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "planner"))

from describe_cases import CASES, ERRORS, LENIENT, SCHEMA  # noqa: E402

from immusql import errors  # noqa: E402
from immusql.planner import types as T  # noqa: E402
from immusql.planner.session import Engine  # noqa: E402

_names = itertools.count()
COMMAND_OK = 1


@pytest.fixture(scope="module")
def both(pg_server, pg_admin, tmp_path_factory):
    """(libpq connection of a fresh PostgreSQL database, immusql session), same schema."""
    import psycopg
    name = f"describe_{next(_names)}"
    pg_admin.execute(f"DROP DATABASE IF EXISTS {name}")
    pg_admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    conn = psycopg.connect(pg_server.conninfo(name), autocommit=True)
    conn.execute(SCHEMA)
    engine = Engine.open(tmp_path_factory.mktemp("describe") / "db")
    session = engine.session()
    session.execute(SCHEMA)
    yield conn, session
    session.close()
    engine.close()
    conn.close()
    pg_admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_FORMATTED: dict = {}


def _format(conn, oid: int, mod: int = -1) -> str:
    key = (oid, mod)
    if key not in _FORMATTED:
        _FORMATTED[key] = conn.execute("SELECT format_type(%s, %s)",
                                       (oid, None if mod < 0 else mod)).fetchone()[0]
    return _FORMATTED[key]


def pg_describe(conn, sql: str):
    """(parameter types, columns or None) as PostgreSQL describes `sql`, or its SQLSTATE."""
    pgc = conn.pgconn
    name = f"d{next(_names)}".encode()
    r = pgc.prepare(name, sql.encode())
    if r.status != COMMAND_OK:
        return r.error_field(ord("C")).decode()
    d = pgc.describe_prepared(name)
    params = [_format(conn, d.param_type(i)) for i in range(d.nparams)]
    if d.nfields == 0:
        return params, None
    cols = [(d.fname(i).decode(), _format(conn, d.ftype(i), d.fmod(i)),
             d.ftablecol(i) if d.ftable(i) else 0) for i in range(d.nfields)]
    return params, cols


def immusql_describe(session, sql: str):
    try:
        desc = session.describe(sql)
    except errors.Error as e:
        return e.sqlstate
    params = [T.format_type(t) for t in desc.param_types]
    if desc.columns is None:
        return params, None
    return params, [(c.name, T.format_type(c.type), c.column_id if c.table_id else 0)
                    for c in desc.columns]


@pytest.mark.parametrize("sql,params,columns", CASES, ids=[c[0] for c in CASES])
def test_describe_matches_postgresql(both, sql, params, columns):
    conn, session = both
    expected = (params, columns)
    assert pg_describe(conn, sql) == expected, "the table disagrees with PostgreSQL"
    assert immusql_describe(session, sql) == expected


@pytest.mark.parametrize("sql,sqlstate", ERRORS, ids=[e[0] for e in ERRORS])
def test_describe_errors_match_postgresql(both, sql, sqlstate):
    conn, session = both
    assert pg_describe(conn, sql) == sqlstate
    assert immusql_describe(session, sql) == sqlstate


@pytest.mark.parametrize("sql,sqlstate,params", LENIENT, ids=[c[0] for c in LENIENT])
def test_lenient_where_postgresql_refuses(both, sql, sqlstate, params):
    conn, session = both
    assert pg_describe(conn, sql) == sqlstate
    assert immusql_describe(session, sql)[0] == params


def test_transaction_blocks_match_postgresql(pg, tmp_path):
    """In a failed block only transaction exit parses (25P02 otherwise); an error parsing
    in a block fails it; a table created earlier in the block is visible."""
    import psycopg.pq
    engine = Engine.open(tmp_path / "db")
    session = engine.session()
    pgc = pg.pgconn

    def both(sql):
        return pg_describe(pg, sql), immusql_describe(session, sql)

    def run(sql):
        pg.execute(sql)
        session.execute(sql)

    run("BEGIN")
    run("CREATE TABLE w (x int8)")
    got_pg, got_immu = both("SELECT * FROM w WHERE x = $1")
    assert got_pg == got_immu == (["bigint"], [("x", "bigint", 1)])
    assert both("SELECT * FROM nosuch") == ("42P01", "42P01")
    assert pgc.transaction_status == psycopg.pq.TransactionStatus.INERROR
    assert session.transaction_status == "E"
    assert both("SELECT 1") == ("25P02", "25P02")
    assert both("ROLLBACK") == (([], None), ([], None))
    run("ROLLBACK")
    assert both("SELECT * FROM w") == ("42P01", "42P01")
    session.close()
    engine.close()
