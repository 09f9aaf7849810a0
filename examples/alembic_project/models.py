"""The schema the migrations in versions/ build, as SQLAlchemy models.

env.py hands this metadata to Alembic, so `alembic check` (and `alembic revision
--autogenerate`) compare the database with it: after `alembic upgrade head` they must find
nothing to do.
"""

from sqlalchemy import (
                        BigInteger,
                        CheckConstraint,
                        Column,
                        DateTime,
                        ForeignKeyConstraint,
                        Index,
                        Integer,
                        MetaData,
                        Numeric,
                        PrimaryKeyConstraint,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
                        func,
                        text,
)

metadata = MetaData()

customers = Table(
    "customers", metadata,
    Column("id", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("email", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("phone", String(30)),
    PrimaryKeyConstraint("id", name="pk_customers"),
    UniqueConstraint("email", name="uq_customers_email"),
)

orders = Table(
    "orders", metadata,
    Column("id", Integer, nullable=False),
    Column("customer_id", Integer, nullable=False),
    Column("total", Numeric(10, 2), nullable=False),
    Column("state", String(40), nullable=False, server_default="new"),
    Column("quantity", Integer, nullable=False, server_default="0"),
    CheckConstraint("total >= 0", name="ck_orders_total_nonnegative"),
    ForeignKeyConstraint(["customer_id"], ["customers.id"],
                         name="fk_orders_customer_id_customers", ondelete="CASCADE"),
    PrimaryKeyConstraint("id", name="pk_orders"),
    Index("ix_orders_customer_id", "customer_id"),
)

order_notes = Table(
    "order_notes", metadata,
    Column("id", BigInteger, nullable=False),
    Column("order_id", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=text("now()"),
           nullable=False),
    ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_notes_order_id_orders"),
    PrimaryKeyConstraint("id", name="pk_order_notes"),
    Index("ix_order_notes_order_id", "order_id"),
)
