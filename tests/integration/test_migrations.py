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


def test_orders_refunded_before_0006_have_every_line_refunded_after_it(database_url: str) -> None:
    migrate.downgrade(database_url, "0005")
    engine = make_engine(database_url)
    at = "2026-06-01 12:00:00+00:00"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO candidate (id, reference, name, email, is_staff, created_at)"
                " VALUES (1, 'C-1', 'Ana Lopez', 'ana@example.com', false, :at)"
            ),
            {"at": at},
        )
        for order_id, status in ((1, "refunded"), (2, "paid")):
            connection.execute(
                sa.text(
                    "INSERT INTO shop_order (id, public_id, candidate_id, status, currency,"
                    " total_cents, created_at, updated_at)"
                    " VALUES (:id, :public_id, 1, :status, 'usd', 5000, :at, :at)"
                ),
                {"id": order_id, "public_id": f"ord_{order_id}", "status": status, "at": at},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO order_item (order_id, sku, kind, name, unit_price_cents,"
                    " quantity, physical) VALUES (:id, 'print', 'certificate_print', 'Print',"
                    " 2500, 2, true)"
                ),
                {"id": order_id},
            )
    engine.dispose()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        lines = connection.execute(
            sa.text(
                "SELECT order_id, refunded_cents, refunded_at IS NOT NULL FROM order_item"
                " ORDER BY order_id"
            )
        ).all()
        orders = connection.execute(
            sa.text("SELECT id, refunded_cents, staff_attention FROM shop_order ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in lines] == [(1, 5000, True), (2, 0, False)]
    assert [tuple(row) for row in orders] == [(1, 5000, None), (2, 0, None)]
