"""SQLite: a safe request reads beside the writers; anything that may write holds the lock.

Each test holds SQLite's write lock, or commits a write, from a second connection of its own
(the standard library's sqlite3, as another gunicorn worker would), while the shop's session
works in a request context of the method under test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import add_candidate
from flask import Flask

from shop import create_app, db, migrate
from shop.models import Candidate


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def app(database_file: Path) -> Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{database_file}", "SECRET_KEY": "test"}
    )
    with app.app_context(), db.transaction() as session:
        add_candidate(session, name="Ana Lopez", email="ana@example.com")
    yield app
    app.extensions["db.engine"].dispose()


@pytest.fixture
def other_connection(database_file: Path) -> Iterator[sqlite3.Connection]:
    """Another writer, which gives up at once instead of waiting on a lock."""
    connection = sqlite3.connect(database_file, timeout=0, isolation_level=None)
    yield connection
    connection.close()


def read_name(app: Flask, method: str) -> str:
    with app.test_request_context("/shop/", method=method):
        return str(db.session().scalar(sa.select(Candidate.name)))


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_safe_request_reads_while_another_connection_holds_the_write_lock(
    app: Flask, other_connection: sqlite3.Connection, method: str
) -> None:
    other_connection.execute("BEGIN IMMEDIATE")
    try:
        with ThreadPoolExecutor(1) as pool:
            # Under BEGIN IMMEDIATE this read would wait the whole busy timeout (30 s).
            assert pool.submit(read_name, app, method).result(timeout=10) == "Ana Lopez"
    finally:
        other_connection.execute("ROLLBACK")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_request_that_may_write_holds_the_write_lock_from_its_first_read(
    app: Flask, other_connection: sqlite3.Connection, method: str
) -> None:
    with app.test_request_context("/shop/checkout", method=method):
        assert db.session().scalar(sa.select(Candidate.name)) == "Ana Lopez"
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other_connection.execute("BEGIN IMMEDIATE")


def test_a_transaction_block_in_a_get_request_holds_the_write_lock(
    app: Flask, other_connection: sqlite3.Connection
) -> None:
    with app.test_request_context("/shop/orders/x", method="GET"):
        with db.transaction() as session:
            session.scalar(sa.select(Candidate.name))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other_connection.execute("BEGIN IMMEDIATE")
        # The block is over: reads go back to deferred snapshots.
        db.session().scalar(sa.select(Candidate.name))
        other_connection.execute("BEGIN IMMEDIATE")
        other_connection.execute("ROLLBACK")


def test_a_get_request_writes_after_another_writer_committed_since_its_snapshot(
    app: Flask, other_connection: sqlite3.Connection
) -> None:
    with app.test_request_context("/shop/orders/x", method="GET"):
        candidate = db.session().scalars(sa.select(Candidate)).one()
        assert candidate.name == "Ana Lopez"
        other_connection.execute("UPDATE candidate SET name = 'Ana María López'")
        # Writing in the old snapshot would fail at once ("database is locked"): the block
        # ends it, and what was read is loaded again inside the block.
        with db.transaction():
            assert candidate.name == "Ana María López"
            candidate.email = "ana.maria@example.com"
    with app.app_context():
        stored = db.session().scalars(sa.select(Candidate)).one()
        assert (stored.name, stored.email) == ("Ana María López", "ana.maria@example.com")


def test_a_change_made_outside_a_transaction_block_in_a_get_request_is_refused(
    app: Flask,
) -> None:
    with app.test_request_context("/shop/", method="GET"):
        candidate = db.session().scalars(sa.select(Candidate)).one()
        candidate.name = "Changed by a GET"
        with pytest.raises(RuntimeError, match=r"outside db\.transaction"), db.transaction():
            pass
    with app.app_context():
        assert db.session().scalar(sa.select(Candidate.name)) == "Ana Lopez"
