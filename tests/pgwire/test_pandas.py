"""pandas against `immusql serve`: read_sql, to_sql and read_sql_table round trips.

pandas talks to databases through SQLAlchemy (an engine on the stock postgresql+psycopg
dialect) or, with a warning, through a DB-API connection. What it sends is in
../shared/research/sql-pgwire.md section 3.7: read_sql first asks pg_class whether the
SQL text is a table name; to_sql probes for the table, creates it from the frame's dtypes
and inserts with executemany or, with method="multi", multi-row VALUES; read_sql_table
reflects the table the way Table(autoload_with=) does. The final test compares the frames
immusql returns with PostgreSQL 15's.
"""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal
from sa_support import immusql_url, postgres_database, postgres_reference
from sqlalchemy import event, inspect, text
from sqlalchemy.dialects import postgresql as pg


def sample_frame(n: int = 7, start: int = 0) -> "pd.DataFrame":
    """int64, float64 (with NaN), object strings (with None and quotes), datetime64 and
    bool columns."""
    i = np.arange(start, start + n, dtype="int64")
    return pd.DataFrame({
        "id": i,
        "qty": i * 1_000_000_007,
        "price": np.where(i % 3 == 0, np.nan, i / 4 - 1),
        "name": pd.Series([None if k == 2 else f"it's #{k} é" for k in i], dtype=object),
        "at": pd.Series(pd.Timestamp("2024-02-28 23:59:59.123456") + pd.to_timedelta(i, "h"),
                        dtype="datetime64[us]"),
        "ok": i % 2 == 0,
    })


def as_read_back(df: "pd.DataFrame") -> "pd.DataFrame":
    """The frame pandas hands back: strings as its str dtype (None -> NaN)."""
    return df.astype({"name": "str"})


@pytest.fixture
def engine(server, dbname):
    eng = sa.create_engine(immusql_url(server, dbname))
    yield eng
    eng.dispose()


@pytest.fixture
def inserts(engine):
    sent: list[tuple[str, bool]] = []

    def record(conn, cursor, stmt, params, context, executemany):
        if stmt.startswith("INSERT"):
            sent.append((stmt, executemany))
    event.listen(engine, "before_cursor_execute", record)
    return sent


def test_to_sql_replace_append_and_read_sql_table(engine, inserts):
    df = sample_frame()
    df.to_sql("items", engine, if_exists="replace", index=False)
    cols = {c["name"]: c for c in inspect(engine).get_columns("items")}
    assert {n: repr(c["type"]) for n, c in cols.items()} == {
        "id": "BIGINT()", "qty": "BIGINT()", "price": "DOUBLE_PRECISION(precision=53)",
        "name": "TEXT()", "at": "TIMESTAMP()", "ok": "BOOLEAN()"}
    assert_frame_equal(pd.read_sql_table("items", engine), as_read_back(df))

    # replace drops and re-creates the table; append adds rows in multi-row INSERTs
    df.to_sql("items", engine, if_exists="replace", index=False)
    inserts.clear()
    more = sample_frame(5, start=100)
    more.to_sql("items", engine, if_exists="append", index=False, chunksize=2, method="multi")
    assert len(inserts) == 3  # 2 + 2 + 1 rows
    assert all(not many and stmt.count("), (") == (1 if k < 2 else 0)
               for k, (stmt, many) in enumerate(inserts))
    back = pd.read_sql_table("items", engine)
    assert_frame_equal(back, as_read_back(pd.concat([df, more], ignore_index=True)))

    # full reflection with the read_sql_table options
    back = pd.read_sql_table("items", engine, index_col="id", columns=["name", "at"],
                             schema="public")
    assert list(back.columns) == ["name", "at"] and back.index.name == "id"
    assert back.loc[103, "at"] == pd.Timestamp("2024-03-04 06:59:59.123456")

    with pytest.raises(ValueError, match="already exists"):
        df.to_sql("items", engine, index=False)


def test_read_sql_with_params(engine, server, dbname):
    sample_frame().to_sql("items", engine, index=False)
    expected = as_read_back(sample_frame().iloc[4:]).reset_index(drop=True)

    # a SQL string with pyformat params through the engine (pandas first checks pg_class
    # for a table of that name: the probe must find none and not fail)
    got = pd.read_sql("SELECT * FROM items WHERE id > %(min)s ORDER BY id", engine,
                      params={"min": 3})
    assert_frame_equal(got, expected)
    got = pd.read_sql(text("SELECT * FROM items WHERE id > :min AND ok IN (:a, :b) "
                           "ORDER BY id"), engine, params={"min": 3, "a": True, "b": False})
    assert_frame_equal(got, expected)
    # a table name
    assert_frame_equal(pd.read_sql("items", engine), as_read_back(sample_frame()))
    # chunks, parse_dates, index_col
    chunks = list(pd.read_sql("SELECT id, at::text AS at_text FROM items ORDER BY id", engine,
                              chunksize=3, parse_dates=["at_text"], index_col="id"))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert chunks[2].loc[6, "at_text"] == pd.Timestamp("2024-02-29 05:59:59.123456")

    # a raw psycopg connection (pandas warns that only SQLAlchemy and sqlite3 are tested)
    with psycopg.connect(server.dsn(dbname)) as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = pd.read_sql("SELECT * FROM items WHERE id > %s ORDER BY id", conn, params=(3,))
        assert_frame_equal(got, expected)
        got = pd.read_sql("SELECT count(*) AS n, sum(qty) AS total FROM items", conn)
        assert got.to_dict("records") == [{"n": 7, "total": 21 * 1_000_000_007}]


def test_to_sql_with_index_dtypes_and_timezones(engine):
    df = pd.DataFrame({
        "amount": [Decimal("1.10"), Decimal("-2.25"), None],
        "code": ["a", "bb", "ccc"],
        "seen": pd.to_datetime(["2024-01-01T00:00:00Z", "2024-06-01T12:00:00+02:00", None],
                               utc=True, format="ISO8601").astype("datetime64[us, UTC]"),
        "n32": np.array([1, -2, 2**31 - 1], dtype="int32"),
        "f32": np.array([0.5, 1.5, -2.5], dtype="float32"),
    }, index=pd.Index([10, 20, 30], name="row"))
    df.to_sql("typed", engine, dtype={"amount": pg.NUMERIC(10, 2), "code": sa.String(3)})
    insp = inspect(engine)
    assert {c["name"]: repr(c["type"]) for c in insp.get_columns("typed")} == {
        "row": "BIGINT()", "amount": "NUMERIC(precision=10, scale=2)",
        "code": "VARCHAR(length=3)", "seen": "TIMESTAMP(timezone=True)",
        "n32": "INTEGER()", "f32": "REAL()"}
    assert [(i["name"], i["column_names"]) for i in insp.get_indexes("typed")] == [
        ("ix_typed_row", ["row"])]

    back = pd.read_sql_table("typed", engine, index_col="row")
    assert back["amount"].tolist()[:2] == [1.1, -2.25]  # NUMERIC columns become float64
    assert pd.isna(back["amount"].iloc[2])
    exact = pd.read_sql("SELECT amount FROM typed ORDER BY row", engine, coerce_float=False)
    assert exact["amount"].tolist() == [Decimal("1.10"), Decimal("-2.25"), None]
    assert str(back["seen"].dtype) == "datetime64[us, UTC]"
    assert back["seen"].iloc[1] == pd.Timestamp("2024-06-01 10:00:00", tz="UTC")
    assert_frame_equal(back[["code", "seen"]], df[["code", "seen"]].astype({"code": "str"}))
    assert back["n32"].tolist() == [1, -2, 2**31 - 1] and back["f32"].tolist() == [
        0.5, 1.5, -2.5]


def test_to_sql_through_copy(engine):
    """The COPY-based `method=` recipe from pandas' documentation, with psycopg 3."""
    def copy_rows(table, conn, keys, data_iter):
        columns = ", ".join(f'"{k}"' for k in keys)
        with conn.connection.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                for row in data_iter:
                    copy.write_row(row)
        return None

    df = sample_frame(50)
    df.to_sql("copied", engine, index=False, method=copy_rows)
    assert_frame_equal(pd.read_sql("SELECT * FROM copied ORDER BY id", engine),
                       as_read_back(df))


# ------------------------------------------------------- differential: PostgreSQL 15 --

@pytest.fixture(scope="module")
def postgres():
    with postgres_reference() as pg_server:
        yield pg_server


def test_frames_match_postgresql(engine, postgres):
    pg_engine = sa.create_engine(postgres_database(postgres))
    frames = {}
    try:
        for name, eng in (("immusql", engine), ("postgresql", pg_engine)):
            sample_frame().to_sql("items", eng, index=True, index_label="row")
            frames[name] = (
                pd.read_sql_table("items", eng),
                pd.read_sql("SELECT ok, count(*) AS n, avg(price) AS mean, min(at) AS first, "
                            "string_agg(name, '|' ORDER BY id) AS names FROM items "
                            "GROUP BY ok ORDER BY ok", eng),
                pd.read_sql("SELECT at, at + interval '1 day' AS later, "
                            "date_trunc('day', at) AS day, extract(hour FROM at) AS hour "
                            "FROM items ORDER BY row", eng),
            )
    finally:
        pg_engine.dispose()
    for got, expected in zip(frames["immusql"], frames["postgresql"]):
        assert_frame_equal(got, expected)
    assert frames["immusql"][2]["day"].iloc[0] == dt.datetime(2024, 2, 28)
