"""organisations: members, their sign-in links, API keys, daily lookup counts

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("public_id", name=op.f("uq_organisation_public_id")),
    )
    op.create_table(
        "organisation_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_member_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_member")),
        sa.UniqueConstraint(
            "organisation_id", "email", name=op.f("uq_organisation_member_organisation_id")
        ),
    )
    op.create_index(
        op.f("ix_organisation_member_organisation_id"), "organisation_member", ["organisation_id"]
    )
    op.create_index(op.f("ix_organisation_member_email"), "organisation_member", ["email"])
    op.create_table(
        "organisation_sign_in_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_sign_in_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_organisation_sign_in_token_token_hash")),
    )
    op.create_table(
        "organisation_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_api_key_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_organisation_api_key_key_hash")),
    )
    op.create_index(
        op.f("ix_organisation_api_key_organisation_id"), "organisation_api_key", ["organisation_id"]
    )
    op.create_table(
        "organisation_lookup_count",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("ids", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_lookup_count_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "day", name=op.f("pk_organisation_lookup_count")
        ),
    )


def downgrade() -> None:
    op.drop_table("organisation_lookup_count")
    op.drop_index(op.f("ix_organisation_api_key_organisation_id"), "organisation_api_key")
    op.drop_table("organisation_api_key")
    op.drop_table("organisation_sign_in_token")
    op.drop_index(op.f("ix_organisation_member_email"), "organisation_member")
    op.drop_index(op.f("ix_organisation_member_organisation_id"), "organisation_member")
    op.drop_table("organisation_member")
    op.drop_table("organisation")
