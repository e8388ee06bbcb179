"""sessions kept on the server (sign-out ends them), candidates' and organisation members';
sign-in tokens for unknown addresses

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("member_email", sa.String(length=254), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_account_session_candidate_id_candidate"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_session")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_account_session_key_hash")),
    )
    with op.batch_alter_table("account_session") as batch:
        batch.create_index(batch.f("ix_account_session_candidate_id"), ["candidate_id"])
        batch.create_index(batch.f("ix_account_session_member_email"), ["member_email"])
    # A sign-in asked for with an address that is not on file stores a token of nobody's, so
    # that both answers do the same work (and take the same time).
    with op.batch_alter_table("sign_in_token") as batch:
        batch.alter_column("candidate_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM sign_in_token WHERE candidate_id IS NULL")
    with op.batch_alter_table("sign_in_token") as batch:
        batch.alter_column("candidate_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("account_session") as batch:
        batch.drop_index(batch.f("ix_account_session_member_email"))
        batch.drop_index(batch.f("ix_account_session_candidate_id"))
    op.drop_table("account_session")
