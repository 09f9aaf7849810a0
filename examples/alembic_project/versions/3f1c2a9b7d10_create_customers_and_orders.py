"""create customers and orders

Revision ID: 3f1c2a9b7d10
Revises:
Create Date: 2024-05-01 09:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3f1c2a9b7d10"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    customers = op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),  # SERIAL
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.func.now(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("email", name="uq_customers_email"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.CheckConstraint("total >= 0", name="ck_orders_total_nonnegative"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_orders_customer_id_customers", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    # ALTER TABLE orders ADD COLUMN quantity INTEGER DEFAULT '0' NOT NULL
    op.add_column("orders", sa.Column("quantity", sa.Integer(), server_default="0",
                                      nullable=False))
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    # seed data, in the same transaction as the DDL
    op.bulk_insert(customers, [
        {"name": "Ada", "email": "ada@example.com"},
        {"name": "Grace", "email": "grace@example.com"},
    ])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_orders_customer_id", table_name="orders")
    op.drop_table("orders")
    op.drop_table("customers")
