"""The database: one engine per app, one session per request, SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so migrations can name what they change on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database (SQLite keeps no zone; it would give naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored: give it a time zone")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3, the driver this project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


# Requests that by HTTP's rules change nothing: they read in a deferred transaction.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _begin_sqlite(connection: Connection) -> None:
    """BEGIN IMMEDIATE for anything that may write; a plain, deferred BEGIN for a safe request.

    A transaction that reads and then writes must hold the write lock from its start: in WAL
    mode SQLite refuses to upgrade a read snapshot once another writer has committed, failing
    at once with "database is locked" where BEGIN IMMEDIATE would have queued on the busy
    timeout. So POSTs, the CLI and every `transaction()` block take the lock when they begin.
    A GET only reads (tests hold every GET to that), and under the write lock it would wait
    for every other request in turn: it reads its snapshot beside the writers instead.
    """
    if _reads_only():
        connection.exec_driver_sql("BEGIN")
        g.db_deferred = True  # transaction() ends this snapshot before it writes
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _reads_only() -> bool:
    return has_request_context() and request.method in SAFE_METHODS and not g.get("db_writing")


def _tune_sqlite(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    app.extensions["db.engine"] = engine
    app.extensions["db.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    result: Engine = current_app.extensions["db.engine"]
    return result


def session() -> Session:
    """The session of this request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db.sessionmaker"]()
    result: Session = g.db_session
    return result


def _close_session(error: BaseException | None) -> None:
    opened: Session | None = g.pop("db_session", None)
    if opened is not None:
        if error is not None:
            opened.rollback()
        opened.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back if it raises.

    The block may write, so on SQLite it holds the write lock from its first statement; a
    safe request's read snapshot open before it is ended first (rolling back a transaction
    that wrote nothing), and what was read in it is loaded again inside the block.
    """
    current = session()
    if g.pop("db_deferred", False) and current.in_transaction():
        if current.new or current.dirty or current.deleted:
            raise RuntimeError("a change made outside db.transaction() in a GET request")
        current.rollback()
    writing, g.db_writing = g.get("db_writing", False), True
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        raise
    finally:
        g.db_writing = writing
