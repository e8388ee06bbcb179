"""who changed a credential: the actor of each credential event

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events recorded before this have no actor: "" (shown as not recorded).
    with op.batch_alter_table("credential_event") as batch:
        batch.add_column(
            sa.Column("actor", sa.String(length=320), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("credential_event") as batch:
        batch.drop_column("actor")
