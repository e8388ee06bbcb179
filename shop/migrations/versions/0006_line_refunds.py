"""refunds per order line; what Stripe refunded of an order; what staff must look at

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain string default: with a SQL expression, Alembic's SQLite batch mode copies the
    # table instead of ALTER TABLE ADD COLUMN, and dropping the old shop_order then fails its
    # foreign keys (order_item rows point at it).
    with op.batch_alter_table("order_item") as batch:
        batch.add_column(
            sa.Column("refunded_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("refund_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("shop_order") as batch:
        batch.add_column(
            sa.Column("refunded_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("staff_attention", sa.String(length=2000), nullable=True))
    # Orders refunded before refunds were kept per line were refunded whole: say so per line.
    op.execute(
        "UPDATE order_item SET refunded_cents = unit_price_cents * quantity,"
        " refunded_at ="
        " (SELECT updated_at FROM shop_order WHERE shop_order.id = order_item.order_id)"
        " WHERE order_id IN (SELECT id FROM shop_order WHERE status = 'refunded')"
    )
    op.execute("UPDATE shop_order SET refunded_cents = total_cents WHERE status = 'refunded'")


def downgrade() -> None:
    with op.batch_alter_table("shop_order") as batch:
        batch.drop_column("staff_attention")
        batch.drop_column("refunded_cents")
    with op.batch_alter_table("order_item") as batch:
        batch.drop_column("refund_reason")
        batch.drop_column("refunded_at")
        batch.drop_column("refunded_cents")
