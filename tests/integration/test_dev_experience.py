"""Trying the shop as a new developer would (issue 13, item 12): `make run`'s demo accounts are
not stopped by production's sign-in limit, and the test pay page settles a bank transfer with a
button instead of an endpoint one has to know."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from factories import add_attempt, add_candidate, sign_in_as
from fault_helpers import shared_fake_stripe
from flask import Flask
from sqlalchemy import select
from stripe_helpers import WEBHOOK_SECRET, pay, register_webhook, serving, wait_for

from shop import create_app, db
from shop.limits import DEFAULTS, DEVELOPMENT_DEFAULTS
from shop.models import Order, OrderStatus
from shop.payments.offline import FakeStripe

LIMITS = ("VERIFY_RATE_LIMIT", "SIGNIN_RATE_LIMIT", "RESULTS_API_RATE_LIMIT")


@pytest.fixture(autouse=True)
def _limits_from_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (*LIMITS, "SHOP_ENV", "SHOP_URL", "PORT", "REDIS_URL"):
        monkeypatch.delenv(key, raising=False)


def ask_for_links(app: Flask, times: int, base_url: str) -> list[int]:
    client = app.test_client()
    return [
        client.post(
            "/shop/signin", data={"email": "nobody@example.com"}, base_url=base_url
        ).status_code
        for _ in range(times)
    ]


def test_in_development_trying_every_demo_account_is_not_rate_limited(
    app_config: dict[str, Any],
) -> None:
    app = create_app({**app_config, "TESTING": False, "SHOP_URL": ""})
    assert {key: app.config[key] for key in LIMITS} == DEVELOPMENT_DEFAULTS
    # Seven demo accounts, each signed in to twice or thrice: far past production's ten.
    assert set(ask_for_links(app, 25, "http://127.0.0.1:5000")) == {302}
    app.extensions["db.engine"].dispose()


def test_tests_and_production_keep_the_production_limits(app: Flask) -> None:
    assert {key: app.config[key] for key in LIMITS} == {key: DEFAULTS[key] for key in LIMITS}
    assert ask_for_links(app, 11, "http://localhost") == [302] * 10 + [429]


def test_a_limit_set_in_the_environment_wins_in_development(
    app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNIN_RATE_LIMIT", "2 per hour")
    app = create_app({**app_config, "TESTING": False, "SHOP_URL": ""})
    assert ask_for_links(app, 3, "http://127.0.0.1:5000") == [302, 302, 429]
    app.extensions["db.engine"].dispose()


# -- the test pay page settles a bank transfer ----------------------------------------------------


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with shared_fake_stripe() as fake:
        yield fake


@pytest.fixture
def store(fake_stripe: FakeStripe, app_config: dict[str, Any], clock: Any) -> Iterator[Flask]:
    fake_stripe.reset()
    fake_stripe.set_clock(lambda: int(clock().timestamp()))
    app = create_app(
        {
            **app_config,
            "STRIPE_API_BASE": fake_stripe.url,
            "STRIPE_SECRET_KEY": "sk_test_shop",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )
    with serving(app) as base:
        register_webhook(fake_stripe.url, f"{base}/shop/stripe/webhook")
        yield app
    fake_stripe.set_clock(None)
    app.extensions["db.engine"].dispose()


def order_status(app: Flask) -> str:
    with app.app_context():
        return str(db.session().scalars(select(Order.status)).one())


def forms_on(page: str) -> list[tuple[str, str, dict[str, str]]]:
    """(action, button text, hidden fields) of each form of a page."""
    found = []
    for form in re.findall(r"<form [^>]*>.*?</form>", page, re.S):
        action = re.search(r'action="([^"]+)"', form)
        button = re.search(r"<button[^>]*>(.*?)</button>", form, re.S)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
        assert action and button, form
        found.append((html.unescape(action.group(1)), button.group(1), fields))
    return found


@pytest.mark.parametrize(
    ("button", "status"),
    [
        ("Settle the bank transfer now", OrderStatus.PAID),
        ("Let the bank transfer fail", OrderStatus.FAILED),
    ],
)
def test_the_pay_page_settles_a_bank_transfer_with_a_button(
    store: Flask, fake_stripe: FakeStripe, button: str, status: OrderStatus
) -> None:
    with store.app_context(), db.transaction() as session:
        candidate = add_candidate(session)
        add_attempt(session, candidate, "quality", dt.date(2026, 5, 2), passed=True)
    client = store.test_client()
    sign_in_as(client, candidate.id)
    assert client.post("/shop/cart", data={"sku": "small-patch"}).status_code == 302
    pay_page = client.post("/shop/checkout").location

    paid = pay(pay_page, "bank_transfer")
    assert (paid.status_code, urljoin(pay_page, paid.headers["Location"])) == (302, pay_page)
    wait_for(lambda: order_status(store) == OrderStatus.PROCESSING)

    page = requests.get(pay_page, timeout=10)
    assert page.status_code == 200
    assert "Bank transfer on its way" in page.text
    buttons = {text: (action, fields) for action, text, fields in forms_on(page.text)}
    assert set(buttons) == {"Settle the bank transfer now", "Let the bank transfer fail"}
    action, fields = buttons[button]
    pressed = requests.post(
        fake_stripe.url + action, data=fields, allow_redirects=False, timeout=10
    )
    assert pressed.status_code == 303
    assert pressed.headers["Location"].startswith(f"{store.config['SHOP_URL']}/shop/orders/ord_")
    wait_for(lambda: order_status(store) == status)
