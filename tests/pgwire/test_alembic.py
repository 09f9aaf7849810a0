"""Alembic against `immusql serve`: the migration scripts our users run.

examples/alembic_project is an ordinary Alembic project (stock env.py shape, the stock
postgresql+psycopg dialect, transactional DDL) with two revisions: the first creates
tables with named constraints, a SERIAL key, an index, `ADD COLUMN .. DEFAULT '0'` and
seed rows; the second adds a column and a table and renames, widens, backfills and
tightens a column. Here they run through Alembic's command API (what the `alembic` CLI
calls) up, down and up again; the result is checked through SQLAlchemy's Inspector,
`alembic check` (autogenerate finds nothing to do) and against PostgreSQL 15 running the
same migrations.

What Alembic sends is in ../shared/research/sql-pgwire.md section 3.5: the whole upgrade
in one transaction, then `UPDATE alembic_version SET version_num=..` (a primary key update)
for every later revision.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sa_support import immusql_url, postgres_database, postgres_reference, reflect_schema
from sqlalchemy import inspect, text

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "alembic_project"
REV1, REV2 = "3f1c2a9b7d10", "8e4b6d2c5a31"


def alembic_config(url: str, project: Path = PROJECT) -> Config:
    buf = io.StringIO()  # what commands print, and the SQL of --sql
    cfg = Config(str(project / "alembic.ini"), stdout=buf, output_buffer=buf)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False  # keep pytest's logging set-up
    return cfg


def output(cfg: Config) -> str:
    out = cfg.stdout.getvalue()
    cfg.stdout.seek(0)
    cfg.stdout.truncate()
    return out


@pytest.fixture
def url(server, dbname):
    return immusql_url(server, dbname)


@pytest.fixture
def engine(url):
    eng = sa.create_engine(url)
    yield eng
    eng.dispose()


def version(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()


def columns(engine, table) -> dict:
    return {c["name"]: c for c in inspect(engine).get_columns(table)}


def assert_head_schema(engine) -> None:
    insp = inspect(engine)
    assert sorted(insp.get_table_names()) == [
        "alembic_version", "customers", "order_notes", "orders"]
    assert insp.get_pk_constraint("alembic_version")["name"] == "alembic_version_pkc"
    assert version(engine) == [REV2]

    cust = columns(engine, "customers")
    assert list(cust) == ["id", "name", "email", "created_at", "phone"]
    assert cust["id"]["default"] == "nextval('customers_id_seq'::regclass)"
    assert cust["id"]["autoincrement"] is True
    assert repr(cust["phone"]["type"]) == "VARCHAR(length=30)" and cust["phone"]["nullable"]
    assert insp.get_pk_constraint("customers")["name"] == "pk_customers"
    assert [(u["name"], u["column_names"]) for u in insp.get_unique_constraints("customers")
            ] == [("uq_customers_email", ["email"])]

    orders = columns(engine, "orders")
    assert list(orders) == ["id", "customer_id", "total", "state", "quantity"]
    assert repr(orders["state"]["type"]) == "VARCHAR(length=40)"
    assert orders["state"]["nullable"] is False
    assert orders["state"]["default"] == "'new'::character varying"
    assert repr(orders["total"]["type"]) == "NUMERIC(precision=10, scale=2)"
    assert (orders["quantity"]["default"], orders["quantity"]["nullable"]) == ("0", False)
    assert [(c["name"], c["sqltext"]) for c in insp.get_check_constraints("orders")] == [
        ("ck_orders_total_nonnegative", "total >= 0::numeric")]
    (fk,) = insp.get_foreign_keys("orders")
    assert (fk["name"], fk["constrained_columns"], fk["referred_table"],
            fk["referred_columns"], fk["options"]) == (
        "fk_orders_customer_id_customers", ["customer_id"], "customers", ["id"],
        {"ondelete": "CASCADE"})
    assert [(i["name"], i["column_names"]) for i in insp.get_indexes("orders")] == [
        ("ix_orders_customer_id", ["customer_id"])]

    notes = columns(engine, "order_notes")
    assert repr(notes["id"]["type"]) == "BIGINT()"
    assert notes["id"]["default"] == "nextval('order_notes_id_seq'::regclass)"
    assert repr(notes["created_at"]["type"]) == "TIMESTAMP(timezone=True)"
    assert [(f["name"], f["referred_table"]) for f in insp.get_foreign_keys("order_notes")
            ] == [("fk_order_notes_order_id_orders", "orders")]
    assert [i["name"] for i in insp.get_indexes("order_notes")] == ["ix_order_notes_order_id"]


def test_upgrade_downgrade_upgrade(url, engine):
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    assert_head_schema(engine)
    command.current(cfg)
    assert output(cfg).strip() == f"{REV2} (head)"
    command.check(cfg)  # autogenerate against models.py: nothing to do

    with engine.begin() as conn:
        # the seed rows of the first revision, defaults of both
        assert conn.execute(text("SELECT id, name, created_at IS NOT NULL FROM customers "
                                 "ORDER BY id")).all() == [(1, "Ada", True), (2, "Grace", True)]
        conn.execute(text("INSERT INTO orders (customer_id, total) VALUES (2, 12.5)"))
        assert conn.execute(text("SELECT id, state, quantity FROM orders")).all() == [
            (1, "new", 0)]
        conn.execute(text("INSERT INTO order_notes (order_id, body) VALUES (1, 'gift wrap')"))

    command.downgrade(cfg, "-1")
    assert version(engine) == [REV1]
    insp = inspect(engine)
    assert sorted(insp.get_table_names()) == ["alembic_version", "customers", "orders"]
    assert "phone" not in columns(engine, "customers")
    status = columns(engine, "orders")["status"]
    assert (repr(status["type"]), status["nullable"], status["default"]) == (
        "VARCHAR(length=20)", True, None)
    with engine.connect() as conn:  # the data survived the column's round trip
        assert conn.execute(text("SELECT customer_id, total, status FROM orders")).all() == [
            (2, Decimal("12.50"), "new")]

    command.downgrade(cfg, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    assert version(engine) == []
    assert inspect(engine).get_sequence_names() == []

    command.upgrade(cfg, "head")
    assert_head_schema(engine)
    with engine.connect() as conn:  # sequences started over with their new tables
        assert conn.execute(text("SELECT id FROM customers ORDER BY id")).scalars().all() == [
            1, 2]


def test_one_revision_at_a_time(url, engine):
    """A later `upgrade` runs UPDATE alembic_version SET version_num = .. WHERE
    version_num = .. : a primary key update, in the migration's transaction."""
    cfg = alembic_config(url)
    command.upgrade(cfg, REV1)
    assert version(engine) == [REV1]
    assert "state" not in columns(engine, "orders")
    command.upgrade(cfg, "+1")
    assert version(engine) == [REV2]
    assert_head_schema(engine)
    command.history(cfg)
    hist = output(cfg)
    assert f"{REV1} -> {REV2} (head)" in hist and f"<base> -> {REV1}" in hist
    command.stamp(cfg, REV1)  # stamp is another primary key update
    assert version(engine) == [REV1]


def test_failed_upgrade_rolls_back_everything(url, engine, tmp_path):
    """All revisions of one `upgrade` share a transaction: when the third fails, the tables,
    seed rows and alembic_version of the first two are gone as well."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "versions" / "c0ffee000003_broken.py").write_text(f'''
from alembic import op
import sqlalchemy as sa

revision = "c0ffee000003"
down_revision = "{REV2}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("audit", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO audit (id) VALUES (1)")
    op.execute("UPDATE customers SET name = name || 1 / 0")


def downgrade():
    op.drop_table("audit")
''')
    cfg = alembic_config(url, project)
    with pytest.raises(sa.exc.DataError, match="division by zero"):
        command.upgrade(cfg, "head")
    assert inspect(engine).get_table_names() == []

    command.upgrade(cfg, REV2)  # the good revisions, committed
    with pytest.raises(sa.exc.DataError):
        command.upgrade(cfg, "head")
    assert version(engine) == [REV2]
    assert "audit" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customers ORDER BY id")).scalars().all() \
            == ["Ada", "Grace"]


def test_native_enum_migration(url, engine, tmp_path):
    """A revision with sa.Enum columns: op.create_table emits CREATE TYPE ... AS ENUM
    first, a later ALTER TYPE ... ADD VALUE extends it inside the migration's transaction,
    and the downgrade drops the table and then the type; up, down and up again."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "versions" / "c0ffee000004_shipments.py").write_text(f'''
from alembic import op
import sqlalchemy as sa

revision = "c0ffee000004"
down_revision = "{REV2}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shipments", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.Enum("new", "sent", "delivered", name="ship_status"),
                  nullable=False, server_default="new"))
    op.execute("ALTER TYPE ship_status ADD VALUE 'lost' BEFORE 'delivered'")
    op.execute("INSERT INTO shipments (id, status) VALUES (1, 'delivered'), (2, 'lost')")
    op.execute("INSERT INTO shipments (id) VALUES (3)")


def downgrade():
    op.drop_table("shipments")
    sa.Enum(name="ship_status").drop(op.get_bind())
''')
    cfg = alembic_config(url, project)
    for _ in range(2):
        command.upgrade(cfg, "head")
        assert version(engine) == ["c0ffee000004"]
        assert inspect(engine).get_enums() == [{
            "name": "ship_status", "schema": "public", "visible": True,
            "labels": ["new", "sent", "lost", "delivered"]}]
        assert columns(engine, "shipments")["status"]["type"].enums == \
            ["new", "sent", "lost", "delivered"]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, status FROM shipments ORDER BY status")
                                ).all() == [(3, "new"), (2, "lost"), (1, "delivered")]
        command.downgrade(cfg, REV2)
        assert inspect(engine).get_enums() == []
        assert "shipments" not in inspect(engine).get_table_names()


def test_offline_sql_generation(url):
    """`alembic upgrade head --sql` (no database): the script a DBA would review."""
    cfg = alembic_config(url)
    command.upgrade(cfg, "head", sql=True)
    script = output(cfg)
    assert "CREATE TABLE customers (" in script
    assert "ALTER TABLE orders ADD COLUMN quantity INTEGER DEFAULT '0' NOT NULL;" in script
    assert "ALTER TABLE orders RENAME status TO state;" in script
    assert f"UPDATE alembic_version SET version_num='{REV2}'" in script


def test_cli_as_documented(server, dbname, engine):
    """examples/alembic_project/README.md: `IMMUSQL_URL=.. alembic upgrade head`."""
    env = dict(os.environ, IMMUSQL_URL=immusql_url(server, dbname))
    run = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=PROJECT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"Running upgrade {REV1} -> {REV2}" in run.stderr
    assert version(engine) == [REV2]


# ------------------------------------------------------- differential: PostgreSQL 15 --

@pytest.fixture(scope="module")
def postgres():
    with postgres_reference() as pg_server:
        yield pg_server


def test_migrated_schema_matches_postgresql(url, engine, postgres):
    pg_url = postgres_database(postgres)
    pg_cfg = alembic_config(pg_url)
    command.upgrade(pg_cfg, "head")
    pg_engine = sa.create_engine(pg_url)
    try:
        expected = reflect_schema(pg_engine)
        command.downgrade(pg_cfg, "-1")
        expected_rev1 = reflect_schema(pg_engine)
    finally:
        pg_engine.dispose()

    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    assert reflect_schema(engine) == expected
    command.downgrade(cfg, "-1")
    assert reflect_schema(engine) == expected_rev1
