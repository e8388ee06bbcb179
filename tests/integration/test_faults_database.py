"""The database under fault: 20 concurrent writers, and PostgreSQL restarting under the shop.

The shop is served on a real socket by a threaded server, so requests really run at once: on
SQLite every transaction that may write starts with BEGIN IMMEDIATE and waits on the busy
timeout (shop.db);
on PostgreSQL the pool checks each connection before use (pool_pre_ping), so connections that
died with the server are replaced instead of failing a request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from factories import add_candidate, shop_config
from flask import Flask
from stripe_helpers import serving

from shop import create_app, db, migrate
from shop.db import normalise_url
from shop.domain.program import load_program
from shop.models import Attempt, Candidate, Credential, SignInToken

PROGRAM = load_program(Path(__file__).parents[2] / "content" / "program.toml")
RESULTS_SECRET = "test-results-secret"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
WRITERS = 20


def make_app(database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path) -> Flask:
    return create_app(
        shop_config(
            database_url,
            clock,
            tmp_path,
            SIGNIN_RATE_LIMIT="10000 per hour",  # every request here comes from 127.0.0.1
            RESULTS_API_RATE_LIMIT="10000 per hour",
        )
    )


def results_batch(number: int, clock: Callable[[], dt.datetime]) -> tuple[bytes, dict[str, str]]:
    """A signed results batch: a new candidate with a pass in two modules (so credentials are
    issued too: more rows, more tables, in one transaction)."""
    records = [
        {
            "attempt_id": f"W-{number}-{module}",
            "candidate_id": f"CW-{number}",
            "name": f"Writer {number}",
            "email": f"writer{number}@example.com",
            "module": module,
            "date": "2026-05-01",
            "score": 88.0,
            "passed": True,
            "kwa_scores": {k.slug: 80.0 for k in PROGRAM.module(module).kwas},
        }
        for module in ("maintenance", "green")
    ]
    body = json.dumps({"results": records}).encode()
    timestamp = str(int(clock().timestamp()))
    digest = hmac.new(RESULTS_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return body, {
        "Content-Type": "application/json",
        "X-CPT-Timestamp": timestamp,
        "X-CPT-Signature": f"sha256={digest.hexdigest()}",
    }


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session().scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_20_concurrent_writers_all_succeed_and_every_row_is_there(
    database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path
) -> None:
    app = make_app(database_url, clock, tmp_path)
    with app.app_context():
        session = db.session()
        known = [add_candidate(session, email=f"known{i}@example.com").email for i in range(60)]
        session.commit()
    # 120 writes from 20 threads: 60 results batches (each: a candidate, 2 attempts, their
    # credentials) and 60 sign-in requests (each: a token row, and a mail), interleaved.
    jobs = [("results", n) for n in range(60)] + [("signin", n) for n in range(60)]
    jobs = [job for pair in zip(jobs[:60], jobs[60:], strict=True) for job in pair]

    with serving(app) as base:

        def write(job: tuple[str, int]) -> tuple[int, str]:
            kind, number = job
            if kind == "results":
                body, headers = results_batch(number, clock)
                answer = requests.post(
                    f"{base}/shop/api/results", data=body, headers=headers, timeout=120
                )
            else:
                answer = requests.post(
                    f"{base}/shop/signin",
                    data={"email": known[number]},
                    allow_redirects=False,
                    timeout=120,
                )
            return answer.status_code, answer.text

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            answers = list(pool.map(write, jobs))
        elapsed = time.monotonic() - started

    kinds = Counter(status for status, _ in answers)
    print(
        f"\n{WRITERS} writers ({database_url.split(':')[0]}): {len(jobs)} writes "
        f"in {elapsed:.1f} s, answers {dict(kinds)}"
    )
    assert all(200 <= status < 400 for status, _ in answers), kinds
    assert not any("locked" in text.lower() for _, text in answers)
    assert count(app, Attempt) == 120
    assert count(app, Candidate) == 60 + 60
    assert count(app, SignInToken) == 60
    assert count(app, Credential) == 120  # a certificate per passed module
    assert len(list((tmp_path / "outbox").iterdir())) == 60
    app.extensions["db.engine"].dispose()


# -- PostgreSQL restarts --------------------------------------------------------------------------


def _restart_problem() -> str | None:
    """Why this machine cannot restart the test PostgreSQL, or None."""
    host = sa.engine.make_url(normalise_url(POSTGRES_URL)).host
    if host not in ("127.0.0.1", "localhost"):
        return f"PostgreSQL at {host} is not local"
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return "no pg_ctlcluster here"
    if os.geteuid() != 0:
        return "restarting the cluster needs root"
    try:
        engine = sa.create_engine(normalise_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means: not reachable here
        return f"PostgreSQL not reachable at {POSTGRES_URL} ({type(error).__name__})"
    return None


def wait_until_ready(seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-t", "2"], capture_output=True, check=False
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"PostgreSQL still not ready {seconds} s after the restart")


def restart_postgres() -> None:
    versions = sorted(os.listdir("/etc/postgresql"))
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    wait_until_ready()


@pytest.fixture
def own_postgres_schema() -> Iterator[str]:
    """A migrated schema of its own, with an engine that survives the restart (the shared
    `database_url` fixture keeps a pooled connection that would die with the server)."""
    problem = _restart_problem()
    if problem:
        pytest.skip(problem)
    schema = f"test_restart_{secrets.token_hex(4)}"
    admin = sa.create_engine(normalise_url(POSTGRES_URL), pool_pre_ping=True)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        wait_until_ready()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# Keep this the last test of the file: it restarts the PostgreSQL server.
def test_the_shop_keeps_answering_after_postgresql_restarts(
    own_postgres_schema: str, clock: Callable[[], dt.datetime], tmp_path: Path
) -> None:
    app = make_app(own_postgres_schema, clock, tmp_path)
    numbers = iter(range(1000))

    with serving(app) as base:

        def post_batch(_: object = None) -> int:
            body, headers = results_batch(next(numbers), clock)
            return requests.post(
                f"{base}/shop/api/results", data=body, headers=headers, timeout=60
            ).status_code

        # Several requests at once, so that several pooled connections are open...
        with ThreadPoolExecutor(max_workers=5) as pool:
            assert list(pool.map(post_batch, range(5))) == [200] * 5
        # ...and all of them die with the server.
        started = time.monotonic()
        restart_postgres()
        downtime = time.monotonic() - started

        assert post_batch() == 200  # the very first request after the restart
        with ThreadPoolExecutor(max_workers=5) as pool:
            assert list(pool.map(post_batch, range(5))) == [200] * 5
        assert requests.get(f"{base}/shop/verify", timeout=30).status_code == 200

    print(f"\nPostgreSQL restart took {downtime:.1f} s; every request after it answered 200")
    assert count(app, Attempt) == 2 * 11
    app.extensions["db.engine"].dispose()
