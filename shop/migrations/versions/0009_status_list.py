"""each credential's index in the revocation status list, and the salt of its email hash

Revision ID: 0009
Revises: 0008

Credentials issued before get a random free index and a random salt here, once: both are
signed into the credential, so they never change afterwards.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LIST_SIZE = 131_072  # entries in the status list (as in shop.openbadges.status_list then)


def upgrade() -> None:
    with op.batch_alter_table("credential") as batch:
        batch.add_column(sa.Column("status_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("identity_salt", sa.String(length=32), nullable=True))
    credential = sa.table(
        "credential",
        sa.column("id", sa.Integer()),
        sa.column("status_index", sa.Integer()),
        sa.column("identity_salt", sa.String()),
    )
    connection = op.get_bind()
    ids = connection.execute(sa.select(credential.c.id).order_by(credential.c.id)).scalars()
    taken: set[int] = set()
    for row_id in list(ids):
        index = secrets.randbelow(LIST_SIZE)
        while index in taken:
            index = secrets.randbelow(LIST_SIZE)
        taken.add(index)
        connection.execute(
            credential.update()
            .where(credential.c.id == row_id)
            .values(status_index=index, identity_salt=secrets.token_hex(16))
        )
    with op.batch_alter_table("credential") as batch:
        batch.alter_column("status_index", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("identity_salt", existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint(batch.f("uq_credential_status_index"), ["status_index"])


def downgrade() -> None:
    with op.batch_alter_table("credential") as batch:
        batch.drop_constraint(batch.f("uq_credential_status_index"), type_="unique")
        batch.drop_column("identity_salt")
        batch.drop_column("status_index")
