"""Behind a reverse proxy (TRUSTED_PROXIES): each client counts as itself and mailed links name
the public address; without it, no forwarded header is believed."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import add_candidate
from flask import Flask
from flask.testing import FlaskClient

from shop import create_app, db
from shop.config import from_environment

SIGNIN = "/shop/signin"
PROXY = "127.0.0.1"  # nginx on the same host: every request reaches gunicorn from here


@pytest.fixture
def proxied(app_config: dict[str, Any]) -> Iterator[Flask]:
    """The shop behind one trusted proxy, with a small sign-in limit."""
    app = create_app({**app_config, "TRUSTED_PROXIES": 1, "SIGNIN_RATE_LIMIT": "2 per hour"})
    yield app
    app.extensions["db.engine"].dispose()


def ask_for_link(app: Flask, **headers: str) -> int:
    client: FlaskClient = app.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    response = client.post(SIGNIN, data={"email": "ana@example.com"}, headers=headers)
    return response.status_code


def test_behind_a_proxy_each_client_has_its_own_limit(proxied: Flask) -> None:
    first, second = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
    assert [ask_for_link(proxied, **first) for _ in range(2)] == [302, 302]
    assert ask_for_link(proxied, **first) == 429
    assert ask_for_link(proxied, **second) == 302


def test_a_client_cannot_pick_its_address_by_sending_the_header_itself(proxied: Flask) -> None:
    # nginx appends the address it saw to what the client sent: only that last one is true.
    sent = ["198.51.100.7, 203.0.113.1", "198.51.100.8, 203.0.113.1", "203.0.113.1"]
    answers = [ask_for_link(proxied, **{"X-Forwarded-For": value}) for value in sent]
    assert answers == [302, 302, 429]


def test_without_trusted_proxies_forwarded_addresses_are_ignored(app: Flask) -> None:
    app.config["SIGNIN_RATE_LIMIT"] = "2 per hour"
    answers = [ask_for_link(app, **{"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(3)]
    assert answers == [302, 302, 429]


FORWARDED = {
    "X-Forwarded-For": "203.0.113.1",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "shop.cpt.example.org",
}


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [(1, "https://shop.cpt.example.org/shop/signin/"), (0, "http://localhost/shop/signin/")],
    ids=["behind one proxy", "no proxy trusted"],
)
def test_the_mailed_link_names_the_address_the_visitor_used(
    app_config: dict[str, Any], trusted: int, expected: str
) -> None:
    app = create_app({**app_config, "TRUSTED_PROXIES": trusted, "SHOP_URL": ""})
    with app.app_context(), db.transaction() as session:
        add_candidate(session, name="Ana Lopez", email="ana@example.com")
    assert ask_for_link(app, **FORWARDED) == 302
    (sent,) = Path(app.config["OUTBOX_DIR"]).glob("*.eml")
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    (link,) = re.findall(r"https?://\S+/shop/signin/\S+", body.get_content())
    assert link.startswith(expected)
    app.extensions["db.engine"].dispose()


def test_trusted_proxies_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    assert from_environment()["TRUSTED_PROXIES"] == 1
    monkeypatch.setenv("TRUSTED_PROXIES", "one")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be a whole number, not 'one'"):
        from_environment()


def test_a_negative_number_of_proxies_is_refused(app_config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be 0 or a number of proxies"):
        create_app({**app_config, "TRUSTED_PROXIES": -1})
