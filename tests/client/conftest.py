"""Fixtures for the verifying client's tests: the wire-server harness of tests/pgwire.

`server` is one in-process `immusql serve` for the module's tests; `dbname` a database of
the test's own; `state_dir` an empty directory for trusted states. Attack tests use
`harness.ServerProcess` on a data directory of their own, so they can stop the server,
change its files and start it again.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pgwire"))

from harness import ADMIN_PASSWORD, InProcessServer, ServerProcess  # noqa: E402

_names = itertools.count(1)

__all__ = ["ADMIN_PASSWORD", "InProcessServer", "ServerProcess"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with InProcessServer(tmp_path_factory.mktemp("immusql-client")) as s:
        yield s


@pytest.fixture
def dbname(server):
    import psycopg
    name = f"client_{next(_names)}"
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield name
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def dsn(server, dbname):
    return server.dsn(dbname)


@pytest.fixture
def conn(dsn):
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / "state"
