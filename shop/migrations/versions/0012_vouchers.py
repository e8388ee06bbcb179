"""vouchers: organisations' voucher orders and their assessment vouchers

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voucher_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("bought_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_voucher_order_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_order")),
        sa.UniqueConstraint("public_id", name=op.f("uq_voucher_order_public_id")),
        sa.UniqueConstraint(
            "checkout_session_id", name=op.f("uq_voucher_order_checkout_session_id")
        ),
    )
    op.create_index(op.f("ix_voucher_order_organisation_id"), "voucher_order", ["organisation_id"])
    op.create_table(
        "voucher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("assigned_email", sa.String(length=254), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal", sa.String(length=500), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("authorization_id", sa.Integer(), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorization.id"],
            name=op.f("fk_voucher_authorization_id_authorization"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["voucher_order.id"], name=op.f("fk_voucher_order_id_voucher_order")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_voucher_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher")),
        sa.UniqueConstraint("authorization_id", name=op.f("uq_voucher_authorization_id")),
        sa.UniqueConstraint("code", name=op.f("uq_voucher_code")),
    )
    op.create_index(op.f("ix_voucher_assigned_email"), "voucher", ["assigned_email"])
    op.create_index(op.f("ix_voucher_order_id"), "voucher", ["order_id"])
    op.create_index(op.f("ix_voucher_organisation_id"), "voucher", ["organisation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_voucher_organisation_id"), "voucher")
    op.drop_index(op.f("ix_voucher_order_id"), "voucher")
    op.drop_index(op.f("ix_voucher_assigned_email"), "voucher")
    op.drop_table("voucher")
    op.drop_index(op.f("ix_voucher_order_organisation_id"), "voucher_order")
    op.drop_table("voucher_order")
