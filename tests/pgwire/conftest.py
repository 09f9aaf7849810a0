"""Fixtures for the wire-server tests.

`server` is one in-process `immusql serve` per test session (on a port picked at run time);
`dbname` gives each test a database of its own, created over the wire and dropped after
it, so tests share the server but never each other's tables. `dsn` is a libpq connection
string to that database as the superuser.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ADMIN_PASSWORD, InProcessServer  # noqa: E402

_names = itertools.count(1)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with InProcessServer(tmp_path_factory.mktemp("immusql-server")) as s:
        yield s


@pytest.fixture(scope="session")
def admin(server):
    import psycopg
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def dbname(server, admin):
    name = f"test_{next(_names)}"
    admin.execute(f"CREATE DATABASE {name}")
    yield name
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def dsn(server, dbname):
    return server.dsn(dbname)


@pytest.fixture
def conn(dsn):
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


__all__ = ["ADMIN_PASSWORD"]
