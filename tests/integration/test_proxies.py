"""Behind a reverse proxy (TRUSTED_PROXIES): each client counts as itself; without it, no
forwarded header is believed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop import create_app
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


# What mailed links name behind a proxy, and a forged X-Forwarded-Host: test_hosts.py (every
# link is on SHOP_URL, and a request for another host is refused).


def test_trusted_proxies_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    assert from_environment()["TRUSTED_PROXIES"] == 1
    monkeypatch.setenv("TRUSTED_PROXIES", "one")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be a whole number, not 'one'"):
        from_environment()


def test_a_negative_number_of_proxies_is_refused(app_config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be 0 or a number of proxies"):
        create_app({**app_config, "TRUSTED_PROXIES": -1})
