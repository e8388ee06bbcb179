"""Measurement only (`make shop-bench`): the shop with SQLite transactions begun DEFERRED.

`shop.db` begins every SQLite transaction with BEGIN IMMEDIATE, reads included, so that a
transaction that reads and then writes queues for the write lock instead of failing with
"database is locked". A request's session begins at its first query and ends at teardown, so
every request holds the write lock for most of its life. The bench serves this app beside the
real one, on the same database, for pages that only read, to measure what that lock costs
them. It is not the shop's code and must never serve: a request that reads, then writes, can
fail under it when another writer commits in between.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine


def create_app() -> Flask:
    from shop import create_app as create_shop
    from shop import db

    original = db.make_engine

    def make_engine(url: str) -> Engine:
        url = db.normalise_url(url)
        if not url.startswith("sqlite"):
            return original(url)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", db._tune_sqlite)
        event.listen(engine, "begin", _begin_deferred)
        return engine

    db.make_engine = make_engine
    return create_shop()


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
