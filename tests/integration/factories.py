"""Small helpers for the integration tests: the shop's test configuration, and candidates and
their history put straight into the database."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shop import db
from shop.models import Attempt, Authorization, Candidate
from shop.openbadges.multibase import private_multikey
from shop.services import sessions
from shop.web.session import cookie_for

RECORDED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
RESULTS_SECRET = "test-results-secret"


# A signing key made afresh for each test run (no key lives in the repository).
TEST_SIGNING_KEY = private_multikey(Ed25519PrivateKey.generate().private_bytes_raw())


def shop_config(
    database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path, **extra: Any
) -> dict[str, Any]:
    """The configuration of the conftest `app` fixture, with `extra` on top."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "CLOCK": clock,
        "OUTBOX_DIR": tmp_path / "outbox",
        "WTF_CSRF_ENABLED": False,
        "RESULTS_API_SECRET": RESULTS_SECRET,
        "OB_SIGNING_KEY": TEST_SIGNING_KEY,
        **extra,
    }


_numbers = itertools.count(1)


def add_candidate(
    session: Session,
    *,
    name: str = "Ana Lopez",
    email: str | None = None,
    reference: str | None = None,
) -> Candidate:
    number = next(_numbers)
    candidate = Candidate(
        reference=reference or f"C-{number:05d}",
        name=name,
        email=email or f"candidate{number}@example.com",
        created_at=RECORDED_AT,
    )
    session.add(candidate)
    session.flush()
    return candidate


def add_attempt(
    session: Session,
    candidate: Candidate,
    module: str,
    taken_on: dt.date,
    *,
    passed: bool,
    score: float | None = None,
    kwa_scores: dict[str, Any] | None = None,
    reference: str | None = None,
) -> Attempt:
    attempt = Attempt(
        reference=reference or f"A-{next(_numbers):05d}",
        candidate_id=candidate.id,
        module=module,
        taken_on=taken_on,
        score=score if score is not None else (82.0 if passed else 61.0),
        passed=passed,
        kwa_scores=kwa_scores or {},
        recorded_at=RECORDED_AT,
    )
    session.add(attempt)
    session.flush()
    return attempt


def add_authorization(session: Session, candidate: Candidate, module: str) -> Authorization:
    authorization = Authorization(
        candidate_id=candidate.id, module=module, granted_at=RECORDED_AT, source="test"
    )
    session.add(authorization)
    session.flush()
    return authorization


def sign_in_member_as(client: FlaskClient, email: str) -> None:
    """Give `client` the session cookie of an organisation member who is no candidate, signed
    in now, as the member's sign-in link does."""
    app = client.application
    with app.app_context(), db.transaction() as session:
        at = app.config["CLOCK"]()
        key = sessions.start_member(session, email, at)
    with client.session_transaction("/shop/") as values:
        values.update(cookie_for(key, at))


def sign_in_as(client: FlaskClient, candidate_id: int, **cookie: Any) -> None:
    """Give `client` the session cookie of a candidate signed in now (by the app's clock), as
    the sign-in link does: a server-side session and its key; `cookie` adds to it (a cart)."""
    app = client.application
    with app.app_context(), db.transaction() as session:
        at = app.config["CLOCK"]()
        key = sessions.start(session, candidate_id, at)
    with client.session_transaction("/shop/") as values:
        values.update(cookie_for(key, at), **cookie)
