"""Fixtures for the differential SQL tests: a private PostgreSQL, immusql, and `compare`.

One PostgreSQL server is started per session (start-up is the expensive part); each test
gets a fresh database created from template0 (~30 ms), so fixtures can reuse table names
and never see each other's leftovers.

IMMUSQL_DIFF_SELF=1 replaces immusql by a second PostgreSQL database with different
planner settings. That proves the harness, fixtures and generator are sound before the
engine exists: every difference reported in that mode is a bug in the tests, including a
fixture whose ORDER BY leaves ties whose order depends on the plan.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg import PostgresServer  # noqa: E402
from pgvalues import configure_psycopg  # noqa: E402
from runner import Comparator  # noqa: E402

SELF_MODE = os.environ.get("IMMUSQL_DIFF_SELF", "").lower() in ("1", "true", "yes")

# Applied to the stand-in in self mode: other join/aggregate/scan strategies produce rows
# in other orders, which exposes fixtures that rely on an order they did not ask for.
# (enable_seqscan = off would do more, but makes planning 200 times slower.)
SELF_MODE_SETTINGS = ("SET enable_hashagg = off", "SET enable_hashjoin = off")

_names = itertools.count(1)


def _psycopg():
    try:
        import psycopg
    except ImportError:
        pytest.fail("psycopg 3 is needed for the differential tests: "
                    "pip install 'psycopg[binary]' (it is in the [test] extra)", pytrace=False)
    return psycopg


@pytest.fixture(scope="session")
def pg_server():
    """The session's private PostgreSQL 15 (see pg.py)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_admin(pg_server):
    """Connection to the maintenance database, used to create and drop test databases."""
    psycopg = _psycopg()
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def new_pg_database(pg_server, pg_admin):
    """`new_pg_database() -> connection` to a new, empty database (autocommit, immusql's
    value shapes); all are closed and dropped after the test."""
    psycopg = _psycopg()
    made = []

    def _new():
        name = f"t{os.getpid()}_{next(_names)}"
        pg_admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        conn = psycopg.connect(pg_server.conninfo(name), autocommit=True)
        configure_psycopg(conn)
        made.append((name, conn))
        return conn

    yield _new
    for name, conn in made:
        conn.close()
        pg_admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg(new_pg_database):
    """PostgreSQL, the reference: a psycopg 3 connection to a fresh database."""
    return new_pg_database()


def open_immusql(path: Path):
    """immusql.connect(path) in autocommit mode, or a test failure (never a skip) while the
    engine does not exist, so a missing engine cannot pass for a green suite."""
    import immusql
    connect = getattr(immusql, "connect", None)
    if connect is None:
        pytest.fail("immusql.connect(path) does not exist yet; the differential tests need "
                    "the SQL engine (IMMUSQL_DIFF_SELF=1 runs them against a second "
                    "PostgreSQL to validate the harness)", pytrace=False)
    conn = connect(path)
    conn.autocommit = True
    return conn


@pytest.fixture
def immu(tmp_path, new_pg_database):
    """The engine under test: immusql on a fresh directory (or, with IMMUSQL_DIFF_SELF=1,
    a second PostgreSQL database with other planner settings)."""
    if SELF_MODE:
        conn = new_pg_database()
        for setting in SELF_MODE_SETTINGS:
            conn.execute(setting)
        yield conn
        return
    conn = open_immusql(tmp_path / "db")
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def compare(pg, immu):
    """A runner.Comparator over `pg` and `immu`: `compare.query(sql)` asserts one
    statement, `compare.script(path)` / `compare.sql(text)` return a runner.Result."""
    return Comparator(pg, immu, self_mode=SELF_MODE)
