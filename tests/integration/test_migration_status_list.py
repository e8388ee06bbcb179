"""Migration 0009: credentials issued before it get a status-list index and a salt, once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from shop import migrate
from shop.db import make_engine

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_credentials_from_before_get_distinct_indexes_and_salts(database_url: str) -> None:
    migrate.downgrade(database_url, "0005")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO candidate (id, reference, name, email, created_at) "
                "VALUES (1, 'C-1', 'Ana', 'ana@example.com', :at)"
            ),
            {"at": AT},
        )
        for number, module in enumerate(("safety", "quality", "processes"), start=1):
            connection.execute(
                sa.text(
                    "INSERT INTO credential (id, verify_id, candidate_id, kind, module, "
                    "earned_on, holder_name, issued_at, edition) VALUES "
                    "(:id, :verify_id, 1, 'module_certificate', :module, :on, 'Ana', :at, 1)"
                ),
                {"id": number, "verify_id": f"ID-{number}", "module": module, "on": AT.date(),
                 "at": AT},
            )  # fmt: skip
    engine.dispose()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        rows = connection.execute(
            sa.text("SELECT status_index, identity_salt FROM credential ORDER BY id")
        ).all()
    assert len({index for index, _ in rows}) == 3
    assert all(0 <= index < 131_072 for index, _ in rows)
    assert len({salt for _, salt in rows}) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", salt) for _, salt in rows)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE credential SET status_index = :taken WHERE id = 2"),
            {"taken": rows[0][0]},
        )
    engine.dispose()
