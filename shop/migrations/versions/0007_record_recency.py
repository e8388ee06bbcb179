"""which result record set a candidate's details; the results API requests already recorded

Revision ID: 0007
Revises: 0006

Existing candidates are taken to hold the details of their newest recorded attempt (latest
date, then greatest attempt id): imports have always sent the assessment system's current
details, so that is the newest record they can have come from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidate") as batch:
        batch.add_column(sa.Column("details_from_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("details_from_attempt", sa.String(length=64), nullable=True))
    # Attempt ids compare as the shop compares them, by code point: "C" on PostgreSQL (SQLite's
    # default, BINARY, is the same order for UTF-8 text).
    collate = ' COLLATE "C"' if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(
        "UPDATE candidate SET "
        "details_from_date = (SELECT max(a.taken_on) FROM attempt a "
        "WHERE a.candidate_id = candidate.id), "
        f"details_from_attempt = (SELECT max(a.reference{collate}) FROM attempt a "
        "WHERE a.candidate_id = candidate.id AND a.taken_on = "
        "(SELECT max(b.taken_on) FROM attempt b WHERE b.candidate_id = candidate.id))"
    )

    op.create_table(
        "api_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_request")),
        sa.UniqueConstraint("request_id", name=op.f("uq_api_request_request_id")),
    )
    with op.batch_alter_table("api_request") as batch:
        batch.create_index(batch.f("ix_api_request_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_request") as batch:
        batch.drop_index(batch.f("ix_api_request_received_at"))
    op.drop_table("api_request")
    with op.batch_alter_table("candidate") as batch:
        batch.drop_column("details_from_attempt")
        batch.drop_column("details_from_date")
