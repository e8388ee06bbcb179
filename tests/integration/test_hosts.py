"""The shop's one public address (SHOP_URL): every absolute link it sends out is built from it,
and a request naming another host, in Host or (behind a trusted proxy) X-Forwarded-Host, is
refused before anything is done (issue 13, item 1)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from factories import add_attempt, add_candidate, sign_in_as
from fault_helpers import shared_fake_stripe
from flask import Flask
from sqlalchemy import func, select

from shop import create_app, db
from shop.hosts import ShopUrlError
from shop.models import SignInToken
from shop.payments.offline import FakeStripe

SIGNIN = "/shop/signin"
PUBLIC = "https://shop.cpt.example.org"
LINK = re.compile(r"https?://\S+/shop/signin/\S+")
REFUSED = "This address is not the shop's"


@pytest.fixture(autouse=True)
def _no_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("SHOP_URL", "PORT", "SHOP_ENV"):
        monkeypatch.delenv(key, raising=False)


def made(config: dict[str, Any], **changes: Any) -> Flask:
    return create_app({**config, **changes})


def mailed_links(app: Flask) -> list[str]:
    links = []
    for path in sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        assert body is not None
        links += LINK.findall(body.get_content())
    return links


def tokens(app: Flask) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(SignInToken)) or 0)


def add_ana(app: Flask) -> None:
    with app.app_context(), db.transaction() as session:
        add_candidate(session, name="Ana Lopez", email="ana@example.com")


def ask_for_link(app: Flask, host: str, **headers: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    return client.post(SIGNIN, data={"email": "ana@example.com"}, headers={"Host": host, **headers})


# -- the development default --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "host", "status"),
    [
        (None, "127.0.0.1:5000", 200),
        (None, "localhost:5000", 200),
        (None, "LOCALHOST:5000", 200),
        (None, "127.0.0.1:5001", 400),
        (None, "localhost", 400),
        (None, "127.0.0.1", 400),
        (None, "evil.test", 400),
        (None, "evil.test:5000", 400),
        (None, "127.0.0.1.evil.test:5000", 400),
        ("8000", "127.0.0.1:8000", 200),
        ("8000", "localhost:8000", 200),
        ("8000", "127.0.0.1:5000", 400),
    ],
)
def test_in_development_the_shop_answers_only_loopback_on_its_port(
    app_config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    port: str | None,
    host: str,
    status: int,
) -> None:
    if port is not None:
        monkeypatch.setenv("PORT", port)
    app = made(app_config, TESTING=False, SHOP_URL="")
    assert app.config["SHOP_URL"] == f"http://127.0.0.1:{port or 5000}"
    response = app.test_client().get(SIGNIN, headers={"Host": host})
    assert response.status_code == status
    if status == 400:
        assert response.mimetype == "text/plain"
        assert f"{REFUSED}: it answers at http://127.0.0.1:{port or 5000} only" in response.text
    app.extensions["db.engine"].dispose()


def test_under_testing_the_default_is_the_test_clients_address(app_config: dict[str, Any]) -> None:
    app = made(app_config, SHOP_URL="")
    assert app.config["SHOP_URL"] == "http://localhost"
    assert app.test_client().get(SIGNIN).status_code == 200
    app.extensions["db.engine"].dispose()


# -- a forged host gets no link -----------------------------------------------------------------


@pytest.mark.parametrize("shop_url", ["", PUBLIC], ids=["SHOP_URL unset", "SHOP_URL set"])
def test_a_sign_in_asked_for_with_a_forged_host_is_refused_and_mails_nothing(
    app_config: dict[str, Any], shop_url: str
) -> None:
    app = made(app_config, SHOP_URL=shop_url)
    add_ana(app)
    response = ask_for_link(app, "evil.test")
    assert response.status_code == 400
    assert REFUSED in response.text
    assert mailed_links(app) == []
    assert tokens(app) == 0
    app.extensions["db.engine"].dispose()


FORGED_FORWARD = {"X-Forwarded-For": "203.0.113.1", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize(
    ("trusted", "host", "forwarded_host", "status"),
    [
        # No proxy trusted: X-Forwarded-Host is ignored, whatever it says; Host decides.
        (0, "shop.cpt.example.org", "evil.test", 302),
        (0, "evil.test", "shop.cpt.example.org", 400),
        # Behind one proxy: the host the proxy forwards decides (nginx sets it from $host).
        (1, "127.0.0.1:8000", "shop.cpt.example.org", 302),
        (1, "127.0.0.1:8000", "evil.test", 400),
        (1, "shop.cpt.example.org", "evil.test", 400),
    ],
)
def test_the_mailed_link_is_always_on_shop_url(
    app_config: dict[str, Any], trusted: int, host: str, forwarded_host: str, status: int
) -> None:
    app = made(app_config, SHOP_URL=PUBLIC, TRUSTED_PROXIES=trusted)
    add_ana(app)
    response = ask_for_link(app, host, **FORGED_FORWARD, **{"X-Forwarded-Host": forwarded_host})
    assert response.status_code == status
    links = mailed_links(app)
    if status == 302:
        (link,) = links
        assert link.startswith(f"{PUBLIC}/shop/signin/")
    else:
        assert links == [] and tokens(app) == 0
    app.extensions["db.engine"].dispose()


# -- Stripe's return addresses ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with shared_fake_stripe() as fake:
        yield fake


def test_checkouts_return_addresses_are_on_shop_url(
    app_config: dict[str, Any], fake_stripe: FakeStripe, clock: Any
) -> None:
    """TLS ends at a proxy the shop does not trust: the request arrives as plain http (the
    test client's http://localhost), yet Stripe must send the buyer back to the public https
    address."""
    fake_stripe.reset()
    fake_stripe.set_clock(lambda: int(clock().timestamp()))
    app = made(
        app_config,
        SHOP_URL="https://localhost",
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_SECRET_KEY="sk_test_shop",
    )
    with app.app_context(), db.transaction() as session:
        candidate = add_candidate(session)
        add_attempt(session, candidate, "quality", dt.date(2026, 5, 2), passed=True)
    client = app.test_client()
    sign_in_as(client, candidate.id)
    assert client.post("/shop/cart", data={"sku": "small-patch"}).status_code == 302
    response = client.post("/shop/checkout")
    assert response.status_code == 303
    session_id = response.location.rsplit("/", 1)[1]
    found = requests.get(
        f"{fake_stripe.url}/v1/checkout/sessions/{session_id}",
        auth=("sk_test_shop", ""),
        timeout=10,
    ).json()
    assert found["success_url"].startswith("https://localhost/shop/orders/ord_")
    assert found["success_url"].endswith(f"?session_id={session_id}")  # filled in by Stripe
    assert found["cancel_url"] == "https://localhost/shop/cart"
    fake_stripe.set_clock(None)
    app.extensions["db.engine"].dispose()


# -- a malformed address stops the start --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://shop.example", "SHOP_URL must be an http:// or https:// address"),
        ("shop.example", "SHOP_URL must be an http:// or https:// address"),
        ("https://shop.example/shop", "SHOP_URL is the shop's origin only"),
        ("https://shop.example:port", "SHOP_URL has a port that is not a number"),
    ],
)
def test_a_malformed_shop_url_stops_the_start_with_its_reason(
    app_config: dict[str, Any], url: str, problem: str
) -> None:
    with pytest.raises(ShopUrlError, match=problem):
        made(app_config, SHOP_URL=url)
