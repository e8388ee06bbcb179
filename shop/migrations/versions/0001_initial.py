"""candidates, attempts, authorizations, sign-in tokens

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("is_staff", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate")),
        sa.UniqueConstraint("email", name=op.f("uq_candidate_email")),
        sa.UniqueConstraint("reference", name=op.f("uq_candidate_reference")),
    )
    op.create_table(
        "results_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_results_import")),
    )
    op.create_table(
        "attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("kwa_scores", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_attempt_candidate_id_candidate")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt")),
        sa.UniqueConstraint("reference", name=op.f("uq_attempt_reference")),
    )
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attempt_candidate_id"), ["candidate_id"], unique=False)

    op.create_table(
        "sign_in_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_sign_in_token_candidate_id_candidate")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_in_token_token_hash")),
    )
    with op.batch_alter_table("sign_in_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_in_token_candidate_id"), ["candidate_id"], unique=False
        )

    op.create_table(
        "authorization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("used_by_attempt_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_authorization_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(
            ["used_by_attempt_id"],
            ["attempt.id"],
            name=op.f("fk_authorization_used_by_attempt_id_attempt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization")),
        sa.UniqueConstraint("used_by_attempt_id", name=op.f("uq_authorization_used_by_attempt_id")),
    )
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authorization_candidate_id"), ["candidate_id"], unique=False
        )
        batch_op.create_index(
            "uq_authorization_unused_per_module",
            ["candidate_id", "module"],
            unique=True,
            sqlite_where=sa.text("used_by_attempt_id IS NULL"),
            postgresql_where=sa.text("used_by_attempt_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_authorization_unused_per_module",
            sqlite_where=sa.text("used_by_attempt_id IS NULL"),
            postgresql_where=sa.text("used_by_attempt_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_authorization_candidate_id"))

    op.drop_table("authorization")
    with op.batch_alter_table("sign_in_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_token_candidate_id"))

    op.drop_table("sign_in_token")
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_candidate_id"))

    op.drop_table("attempt")
    op.drop_table("results_import")
    op.drop_table("candidate")
