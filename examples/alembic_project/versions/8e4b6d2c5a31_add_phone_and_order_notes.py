"""add customers.phone and order_notes; rename orders.status to state

Revision ID: 8e4b6d2c5a31
Revises: 3f1c2a9b7d10
Create Date: 2024-05-20 14:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "8e4b6d2c5a31"
down_revision: Union[str, Sequence[str], None] = "3f1c2a9b7d10"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("customers", sa.Column("phone", sa.String(length=30), nullable=True))
    op.create_table(
        "order_notes",
        sa.Column("id", sa.BigInteger(), nullable=False),  # BIGSERIAL
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name="fk_order_notes_order_id_orders"),
        sa.PrimaryKeyConstraint("id", name="pk_order_notes"),
    )
    op.create_index("ix_order_notes_order_id", "order_notes", ["order_id"])
    # rename, widen, backfill and tighten: the usual "change a column" migration
    op.alter_column("orders", "status", new_column_name="state",
                    existing_type=sa.String(length=20), existing_nullable=True)
    op.alter_column("orders", "state", type_=sa.String(length=40),
                    existing_type=sa.String(length=20))
    op.execute("UPDATE orders SET state = 'new' WHERE state IS NULL")
    op.alter_column("orders", "state", nullable=False, server_default="new",
                    existing_type=sa.String(length=40))


def downgrade() -> None:
    """Downgrade schema."""
    op.alter_column("orders", "state", nullable=True, server_default=None,
                    existing_type=sa.String(length=40))
    op.alter_column("orders", "state", type_=sa.String(length=20),
                    existing_type=sa.String(length=40))
    op.alter_column("orders", "state", new_column_name="status",
                    existing_type=sa.String(length=20))
    op.drop_index("ix_order_notes_order_id", table_name="order_notes")
    op.drop_table("order_notes")
    op.drop_column("customers", "phone")
