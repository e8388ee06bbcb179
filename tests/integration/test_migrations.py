"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner

from shop import migrate
from shop.db import Base, make_engine


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_migrations_go_down_to_nothing_and_up_again(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    engine = make_engine(database_url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    assert {"candidate", "attempt", "authorization"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_the_db_upgrade_command_reports_the_database(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_upgrading_takes_each_candidates_details_to_be_from_their_newest_attempt(
    database_url: str,
) -> None:
    migrate.downgrade(database_url, "0005")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO candidate (id, reference, name, email, is_staff, created_at) VALUES "
                "(1, 'C-1', 'Ana', 'ana@example.com', false, '2026-01-01 00:00:00'), "
                "(2, 'C-2', 'Ben', 'ben@example.com', false, '2026-01-01 00:00:00')"
            )
        )
        # Ana's newest day has two attempts: "a-1" is after "A-9" (code points, not a locale).
        for number, (reference, day) in enumerate(
            [("Z-1", "2026-04-01"), ("A-9", "2026-05-01"), ("a-1", "2026-05-01")], start=1
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO attempt (id, reference, candidate_id, module, taken_on, score, "
                    "passed, kwa_scores, recorded_at) VALUES (:id, :reference, 1, 'safety', "
                    ":day, 80, true, '{}', '2026-06-01 00:00:00')"
                ),
                {"id": number, "reference": reference, "day": dt.date.fromisoformat(day)},
            )
    engine.dispose()

    migrate.upgrade(database_url)

    engine = make_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT reference, details_from_date, details_from_attempt FROM candidate "
                "ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert [(r, str(d) if d else None, a) for r, d, a in rows] == [
        ("C-1", "2026-05-01", "a-1"),
        ("C-2", None, None),  # no attempt: no record set them
    ]
