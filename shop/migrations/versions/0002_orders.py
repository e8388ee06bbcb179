"""orders, shipments, stripe events

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_event")),
    )
    op.create_table(
        "shop_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("status_note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_shop_order_candidate_id_candidate")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_order")),
        sa.UniqueConstraint("checkout_session_id", name=op.f("uq_shop_order_checkout_session_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_shop_order_public_id")),
    )
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shop_order_candidate_id"), ["candidate_id"], unique=False
        )

    op.create_table(
        "order_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("physical", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_order_item_order_id_shop_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_item")),
    )
    with op.batch_alter_table("order_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_item_order_id"), ["order_id"], unique=False)

    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_item_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tracking_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_item_id"], ["order_item.id"], name=op.f("fk_shipment_order_item_id_order_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
        sa.UniqueConstraint("order_item_id", name=op.f("uq_shipment_order_item_id")),
    )
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_item_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_authorization_order_item_id"), ["order_item_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_authorization_order_item_id_order_item"),
            "order_item",
            ["order_item_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_authorization_order_item_id_order_item"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_authorization_order_item_id"), type_="unique")
        batch_op.drop_column("order_item_id")

    op.drop_table("shipment")
    with op.batch_alter_table("order_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_item_order_id"))

    op.drop_table("order_item")
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_order_candidate_id"))

    op.drop_table("shop_order")
    op.drop_table("stripe_event")
