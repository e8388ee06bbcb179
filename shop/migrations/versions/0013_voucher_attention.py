"""voucher attention: what Stripe refunded of a voucher order, its note, and staff's matters

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voucher_order") as batch:
        batch.add_column(
            sa.Column("refunded_cents", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("status_note", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("staff_attention", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voucher_order") as batch:
        batch.drop_column("staff_attention")
        batch.drop_column("status_note")
        batch.drop_column("refunded_cents")
