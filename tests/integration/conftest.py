"""The shop against a real database: SQLite always, PostgreSQL when it is reachable.

Every test that takes `app` runs once per database. PostgreSQL is found through
TEST_DATABASE_URL (CI sets it; default postgresql://postgres@127.0.0.1:5432/test); when it
cannot be reached those runs are skipped with a reason naming the address, so the summary says
plainly which database was not tested.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from factories import shop_config
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop import create_app, migrate
from shop.db import normalise_url

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        engine = sa.create_engine(normalise_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means: not reachable here
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return None


_POSTGRES_PROBLEM = _postgres_problem()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    # Noon in New York on a fixed day: far from midnight in the program's time zone.
    return FakeClock(dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated to the head revision, for each test to copy: copying it
    takes a millisecond, running the migrations again about seventy."""
    path = tmp_path_factory.mktemp("migrated") / "shop.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if request.param == "sqlite":
        target = tmp_path / "shop.sqlite3"
        template: Path = request.getfixturevalue("migrated_sqlite")
        # SQLite's backup API: a consistent copy, whatever state the template's WAL is in.
        with (
            contextlib.closing(sqlite3.connect(template)) as source,
            contextlib.closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
        yield f"sqlite:///{target}"
        return
    if _POSTGRES_PROBLEM:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({_POSTGRES_PROBLEM})")
    schema = f"test_{secrets.token_hex(6)}"
    admin = sa.create_engine(normalise_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def app_config(database_url: str, clock: FakeClock, tmp_path: Path) -> dict[str, Any]:
    """The configuration the `app` fixture is made with, for a test that needs a variant."""
    return shop_config(database_url, clock, tmp_path)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(dict(app_config))
    yield app
    app.extensions["db.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
