"""Checkout when Stripe fails: 500s, lost answers and timeouts on session creation.

Stripe is the offline fake behind a small HTTP proxy on 127.0.0.1 (fault_helpers.StripeProxy)
that fails the next session creations on purpose; nothing in the shop is patched. The stripe
library retries twice (gateway.make_client), with the same Idempotency-Key each time, all within
one deadline for the call (STRIPE_TIMEOUT_SECONDS), and the
shop's key is the order's own ("checkout-<order>"), so however a request fails, one order never
gets two sessions. (The success page with Stripe down is in test_storefront.py.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from factories import add_attempt, add_candidate, shop_config, sign_in_as
from fault_helpers import LOSE, REJECT, SLOW, StripeProxy, sessions_of, shared_fake_stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shop import create_app, db
from shop.models import Order, OrderStatus
from shop.payments.offline import FakeStripe

# Seconds for a whole call to Stripe in these tests (STRIPE_TIMEOUT_SECONDS): room for three
# quick failures and the library's back-off between them (0.5 s, then up to 1 s).
TIMEOUT = 3.0


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with shared_fake_stripe() as fake:
        yield fake


@pytest.fixture
def proxy(fake_stripe: FakeStripe, clock: Callable[[], dt.datetime]) -> Iterator[StripeProxy]:
    fake_stripe.reset()
    fake_stripe.set_clock(lambda: int(clock().timestamp()))
    with StripeProxy(fake_stripe.url, delay=TIMEOUT + 1.0) as running:
        yield running
    fake_stripe.set_clock(None)


@pytest.fixture
def shop_app(
    proxy: StripeProxy, database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path
) -> Iterator[Flask]:
    app = create_app(
        shop_config(
            database_url,
            clock,
            tmp_path,
            STRIPE_API_BASE=proxy.url,
            STRIPE_SECRET_KEY="sk_test_shop",
            STRIPE_TIMEOUT_SECONDS=TIMEOUT,
        )
    )
    yield app
    app.extensions["db.engine"].dispose()


def buyer(app: Flask) -> FlaskClient:
    """A signed-in candidate with a pass in quality (so a small patch is theirs to buy), with a
    small patch in the cart."""
    with app.app_context():
        session = db.session()
        candidate = add_candidate(session, email=f"{uuid.uuid4().hex[:8]}@example.com")
        add_attempt(session, candidate, "quality", dt.date(2026, 5, 2), passed=True)
        session.commit()
        candidate_id = candidate.id
    client = app.test_client()
    sign_in_as(client, candidate_id)
    assert client.post("/shop/cart", data={"sku": "small-patch"}).status_code == 302
    return client


def the_order(app: Flask) -> Order:
    with app.app_context():
        return db.session().scalars(select(Order)).one()


@pytest.mark.parametrize("fault", [REJECT, LOSE])
def test_checkout_gets_its_one_session_through_two_500s(
    shop_app: Flask, proxy: StripeProxy, fake_stripe: FakeStripe, fault: str
) -> None:
    """reject: Stripe never saw the failed tries; lose: it made the session and the answer was
    lost, so the retries are answered from the idempotency key."""
    client = buyer(shop_app)
    proxy.fail_next(fault, fault)

    response = client.post("/shop/checkout")

    assert response.status_code == 303, response.get_data(as_text=True)
    order = the_order(shop_app)
    [session] = sessions_of(fake_stripe, order.public_id)
    assert response.location == session["url"]
    assert order.checkout_session_id == session["id"]
    tries = proxy.session_posts()
    assert [t.fault for t in tries] == [fault, fault, None]
    assert {t.idempotency_key for t in tries} == {f"checkout-{order.public_id}"}


@pytest.mark.parametrize(("fault", "tries"), [(LOSE, 3), (SLOW, 1)])
def test_checkout_when_stripe_keeps_failing_says_so_and_paying_later_opens_the_same_session(
    shop_app: Flask, proxy: StripeProxy, fake_stripe: FakeStripe, fault: str, tries: int
) -> None:
    """Three lost answers use up the library's retries, and one answer slower than the
    deadline uses up the call's time: the shop shows "payment is not available" (503), keeps
    the order pending, and "Try the payment again" later reuses the order's idempotency key:
    Stripe, which did make a session, hands back that one."""
    client = buyer(shop_app)
    proxy.fail_next(*[fault] * tries)

    response = client.post("/shop/checkout")

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Payment is not available right now" in page and "nothing was charged" in page
    order = the_order(shop_app)
    assert order.status == OrderStatus.PENDING and order.checkout_session_id is None
    assert len(sessions_of(fake_stripe, order.public_id)) == 1  # made; its answers were lost

    again = client.post(f"/shop/orders/{order.public_id}/pay")

    assert again.status_code == 303
    [session] = sessions_of(fake_stripe, order.public_id)
    assert again.location == session["url"]
    assert the_order(shop_app).checkout_session_id == session["id"]
    made = proxy.session_posts()
    assert [t.fault for t in made] == [*[fault] * tries, None]
    assert {t.idempotency_key for t in made} == {f"checkout-{order.public_id}"}
