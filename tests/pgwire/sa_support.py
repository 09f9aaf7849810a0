"""What the SQLAlchemy, Alembic and pandas tests share: URLs for immusql and for a private
PostgreSQL 15, and a comparable snapshot of everything SQLAlchemy reflects from a database.

`reflect_schema` is how the differential tests compare immusql with PostgreSQL: the same
schema is created on both, and SQLAlchemy's Inspector must report the same tables, views,
columns (types, nullability, defaults, autoincrement, identity, comments), primary keys,
foreign keys, indexes, unique and check constraints and sequences.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
from pathlib import Path

import pytest
from harness import ADMIN_PASSWORD

_pg_names = itertools.count(1)


def immusql_url(server, dbname: str) -> str:
    """SQLAlchemy URL of an immusql database, with the stock PostgreSQL dialect."""
    return f"postgresql+psycopg://immusql:{ADMIN_PASSWORD}@127.0.0.1:{server.port}/{dbname}"


@contextlib.contextmanager
def postgres_reference():
    """A private PostgreSQL 15 (tests/sql/pg.py); the test module is skipped without one."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sql"))
    from pg import PostgresError, PostgresServer
    try:
        server = PostgresServer().start()
    except PostgresError as e:
        pytest.skip(f"no PostgreSQL 15 for the differential check: {e}")
    try:
        yield server
    finally:
        server.stop()


def postgres_database(pg_server) -> str:
    """A fresh database on the reference PostgreSQL; returns its SQLAlchemy URL."""
    import psycopg
    name = f"sa_{next(_pg_names)}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/{name}"


def reflect_schema(engine, schema: str | None = None) -> dict:
    """Everything the Inspector reports about one schema (public by default), as plain
    comparable data (types as their repr, e.g. "VARCHAR(length=200)")."""
    from sqlalchemy import inspect
    insp = inspect(engine)
    tables = sorted(insp.get_table_names(schema=schema))
    out = {"tables": tables, "views": sorted(insp.get_view_names(schema=schema)),
           "sequences": sorted(insp.get_sequence_names(schema=schema))}
    for t in tables:
        columns = []
        for col in insp.get_columns(t, schema=schema):
            col = dict(col, type=repr(col["type"]))
            columns.append(col)
        out[t] = {
            "columns": columns,
            "pk": insp.get_pk_constraint(t, schema=schema),
            "fks": sorted(insp.get_foreign_keys(t, schema=schema), key=lambda f: f["name"]),
            "indexes": sorted(insp.get_indexes(t, schema=schema), key=lambda i: i["name"]),
            "uniques": sorted(insp.get_unique_constraints(t, schema=schema),
                              key=lambda u: u["name"]),
            "checks": sorted(insp.get_check_constraints(t, schema=schema),
                             key=lambda c: c["name"]),
            "comment": insp.get_table_comment(t, schema=schema),
        }
    for v in out["views"]:
        out[v] = {"columns": [dict(c, type=repr(c["type"]))
                              for c in insp.get_columns(v, schema=schema)]}
    return out
