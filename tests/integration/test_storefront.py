"""The storefront against the offline Stripe: checkout, payment, webhooks, fulfilment, refunds.

Stripe here is localstripe with the project's Checkout add-on, on 127.0.0.1, driven by the
real `stripe` library; webhooks travel over HTTP to the shop served on a real socket.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import factories
import pytest
import requests
from factories import add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from stripe_helpers import (
    WEBHOOK_SECRET,
    offline_stripe,
    pay,
    register_webhook,
    shop_on_offline_stripe,
    signed,
    wait_for,
)

from shop import create_app, db
from shop.models import (
    Authorization,
    Candidate,
    Order,
    OrderItem,
    OrderStatus,
    Shipment,
    StripeEvent,
)
from shop.payments.offline import FakeStripe
from shop.payments.offline.sessions import all_sessions

FakeClock = Callable[[], dt.datetime]


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with offline_stripe() as fake:
        yield fake


@pytest.fixture
def store(
    fake_stripe: FakeStripe, database_url: str, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[Flask, str]]:
    """The shop wired to the fake Stripe and served on 127.0.0.1, with the webhook registered."""
    with shop_on_offline_stripe(fake_stripe, database_url, clock, tmp_path) as served:
        yield served


@pytest.fixture
def shop_app(store: tuple[Flask, str]) -> Flask:
    return store[0]


def candidate_with(app: Flask, *attempts: tuple[str, str, bool]) -> int:
    """A candidate with attempts given as (module, ISO date, passed); returns the id."""
    with app.app_context():
        session = db.session()
        candidate = add_candidate(session, email=f"{uuid.uuid4().hex[:8]}@example.com")
        for module, day, passed in attempts:
            add_attempt(session, candidate, module, dt.date.fromisoformat(day), passed=passed)
        session.commit()
        return candidate.id


def signed_in(app: Flask, candidate_id: int) -> FlaskClient:
    client = app.test_client()
    factories.sign_in_as(client, candidate_id)  # a server-side session, as the link makes
    return client


def checkout(client: FlaskClient, *skus: str) -> str:
    """Put items in the cart and start checkout; returns the hosted pay page's address."""
    for sku in skus:
        assert client.post("/shop/cart", data={"sku": sku, "quantity": "1"}).status_code == 302
    response = client.post("/shop/checkout")
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.location)


def orders_of(app: Flask, candidate_id: int) -> list[Order]:
    with app.app_context():
        return list(
            db.session().scalars(
                select(Order).where(Order.candidate_id == candidate_id).order_by(Order.id)
            )
        )


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(model)) or 0)


def test_a_retake_fee_and_a_patch_are_paid_and_fulfilled(shop_app: Flask) -> None:
    candidate = candidate_with(
        shop_app, ("safety", "2026-05-01", False), ("quality", "2026-05-02", True)
    )
    client = signed_in(shop_app, candidate)
    pay_page = checkout(client, "assessment-fee-safety", "small-patch")
    assert "/_config/checkout/pay/" in pay_page
    assert pay(pay_page).status_code == 302
    wait_for(lambda: orders_of(shop_app, candidate)[0].status == OrderStatus.PAID)
    order = orders_of(shop_app, candidate)[0]
    assert order.total_cents == 6000 + 800
    assert order.shipping_address and order.shipping_address["address"]["postal_code"] == "94080"
    with shop_app.app_context():
        session = db.session()
        authorization = session.scalars(select(Authorization)).one()
        assert (authorization.candidate_id, authorization.module) == (candidate, "safety")
        assert session.scalars(select(Shipment)).one().shipped_at is None
    page = client.get(f"/shop/orders/{order.public_id}").get_data(as_text=True)
    assert "Paid" in page and "In the shipping queue" in page


def test_the_session_holds_server_prices_and_collects_shipping_only_for_physical_items(
    shop_app: Flask, fake_stripe: FakeStripe
) -> None:
    candidate = candidate_with(shop_app, ("quality", "2026-05-02", True))
    client = signed_in(shop_app, candidate)
    client.post("/shop/cart", data={"sku": "assessment-fee-safety", "quantity": "1", "price": "1"})
    checkout_id = checkout(client).rsplit("/", 1)[1]
    session = requests.get(
        f"{fake_stripe.url}/v1/checkout/sessions/{checkout_id}",
        auth=("sk_test_shop", ""),
        timeout=5,
    ).json()
    order = orders_of(shop_app, candidate)[0]
    assert session["amount_total"] == 6000
    assert session["client_reference_id"] == order.public_id
    assert session["metadata"]["order"] == order.public_id
    assert not session.get("shipping_address_collection")
    assert order.checkout_session_id == checkout_id


@pytest.mark.parametrize(
    ("sku", "quantity"),
    [
        ("assessment-fee-safety", "1"),  # in a retake wait
        ("assessment-fee-quality", "1"),  # passed, and the pass counts
        ("large-patch", "1"),  # no full certification
        ("certificate-print-maintenance", "1"),  # module not passed
        ("wallet-card", "1"),  # a free download, not sold
        ("no-such-item", "1"),
        ("certificate-print-quality", "6"),  # more than five copies
        ("certificate-print-quality", "0"),
        ("certificate-print-quality", "-1"),
        ("certificate-print-quality", "two"),
        ("small-patch", "2"),  # one patch per candidate
    ],
)
def test_crafted_posts_for_ineligible_items_or_tampered_quantities_are_refused(
    shop_app: Flask, sku: str, quantity: str
) -> None:
    candidate = candidate_with(
        shop_app, ("safety", "2026-06-10", False), ("quality", "2026-05-02", True)
    )
    client = signed_in(shop_app, candidate)
    response = client.post("/shop/cart", data={"sku": sku, "quantity": quantity})
    assert response.status_code == 400
    with client.session_transaction("/shop/") as session:
        assert not session.get("cart")
    assert client.post("/shop/checkout").status_code == 400
    assert orders_of(shop_app, candidate) == []


def test_a_cart_tampered_in_the_cookie_is_checked_again_at_checkout(shop_app: Flask) -> None:
    candidate = candidate_with(shop_app, ("safety", "2026-06-10", False))
    client = signed_in(shop_app, candidate)
    with client.session_transaction("/shop/") as session:
        session["cart"] = {"assessment-fee-safety": 1, "small-patch": 3}
    response = client.post("/shop/checkout")
    assert response.status_code == 400
    assert "retake wait" in response.get_data(as_text=True)
    assert orders_of(shop_app, candidate) == []


def test_the_same_completed_event_delivered_50_times_at_once_fulfils_once(
    store: tuple[Flask, str],
) -> None:
    app, base = store
    candidate = candidate_with(app, ("safety", "2026-05-01", False))
    client = signed_in(app, candidate)
    pay_page = checkout(client, "assessment-fee-safety")
    order = orders_of(app, candidate)[0]
    event = {
        "id": "evt_duplicate_delivery",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": order.checkout_session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "payment_intent": "pi_from_the_test",
                "amount_total": order.total_cents,
                "metadata": {"order": order.public_id},
            }
        },
    }
    body, signature = signed(event)

    def deliver(_: int) -> int:
        return requests.post(
            f"{base}/shop/stripe/webhook",
            data=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(deliver, range(50)))
    assert set(statuses) == {200}
    assert count(app, Authorization) == 1
    assert count(app, StripeEvent) == 1
    assert orders_of(app, candidate)[0].status == OrderStatus.PAID
    del pay_page


def test_an_expired_session_releases_the_order(
    store: tuple[Flask, str], fake_stripe: FakeStripe
) -> None:
    app, _ = store
    candidate = candidate_with(app, ("safety", "2026-05-01", False))
    client = signed_in(app, candidate)
    checkout_id = checkout(client, "assessment-fee-safety").rsplit("/", 1)[1]
    expired = requests.post(
        f"{fake_stripe.url}/v1/checkout/sessions/{checkout_id}/expire",
        auth=("sk_test_shop", ""),
        timeout=5,
    )
    assert expired.status_code == 200
    wait_for(lambda: orders_of(app, candidate)[0].status == OrderStatus.EXPIRED)
    # Released: the same fee can be bought again.
    assert client.post("/shop/cart", data={"sku": "assessment-fee-safety"}).status_code == 302


def test_two_checkouts_for_the_same_retake_fulfil_one_and_refund_the_other(
    shop_app: Flask,
) -> None:
    candidate = candidate_with(shop_app, ("safety", "2026-05-01", False))
    first, second = signed_in(shop_app, candidate), signed_in(shop_app, candidate)
    pages = [checkout(first, "assessment-fee-safety"), checkout(second, "assessment-fee-safety")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert [r.status_code for r in pool.map(pay, pages)] == [302, 302]
    wait_for(
        lambda: (
            {o.status for o in orders_of(shop_app, candidate)}
            == {OrderStatus.PAID, OrderStatus.REFUNDED}
        )
    )
    refunded = next(o for o in orders_of(shop_app, candidate) if o.status == OrderStatus.REFUNDED)
    assert refunded.status_note and "authorization" in refunded.status_note
    assert count(shop_app, Authorization) == 1
    page = first.get(f"/shop/orders/{refunded.public_id}").get_data(as_text=True)
    assert "Refunded in full" in page


def test_a_declined_card_leaves_the_order_waiting_for_payment(shop_app: Flask) -> None:
    candidate = candidate_with(shop_app, ("quality", "2026-05-02", True))
    client = signed_in(shop_app, candidate)
    pay_page = checkout(client, "small-patch")
    assert pay(pay_page, "pm_card_chargeCustomerFail").status_code == 402
    assert orders_of(shop_app, candidate)[0].status == OrderStatus.PENDING


def words(page: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def test_a_declined_card_says_so_on_the_order_page_and_paying_again_clears_it(
    shop_app: Flask,
) -> None:
    candidate = candidate_with(shop_app, ("quality", "2026-05-02", True))
    client = signed_in(shop_app, candidate)
    pay_page = checkout(client, "small-patch")
    assert pay(pay_page, "pm_card_chargeCustomerFail").status_code == 402
    wait_for(lambda: orders_of(shop_app, candidate)[0].status_note is not None)
    order = orders_of(shop_app, candidate)[0]
    page = client.get(f"/shop/orders/{order.public_id}").get_data(as_text=True)
    assert "The payment was declined: Your card was declined. Nothing was charged." in words(page)
    assert ">Try again</button>" in page
    assert "waiting for the payment to be confirmed" not in page
    # Trying again opens the same pay page; a good card pays, and the decline is past.
    again = client.post(f"/shop/orders/{order.public_id}/pay")
    assert (again.status_code, again.location) == (303, pay_page)
    assert pay(pay_page).status_code == 302
    wait_for(lambda: orders_of(shop_app, candidate)[0].status == OrderStatus.PAID)
    page = client.get(f"/shop/orders/{order.public_id}").get_data(as_text=True)
    assert "declined" not in page and "Try again" not in page


@pytest.mark.parametrize("first_try", ["declined card", "stripe never reached"])
def test_resuming_an_order_after_its_fee_was_bought_in_another_is_refused_and_not_sent_to_stripe(
    shop_app: Flask, clock: FakeClock, first_try: str
) -> None:
    candidate = candidate_with(shop_app, ("safety", "2026-01-05", False))
    client = signed_in(shop_app, candidate)
    if first_try == "declined card":
        assert (
            pay(checkout(client, "assessment-fee-safety"), "pm_card_chargeCustomerFail").status_code
            == 402
        )
    else:
        with shop_app.app_context():
            session = db.session()
            session.add(
                Order(
                    public_id="ord_never_sent",
                    candidate_id=candidate,
                    status=OrderStatus.PENDING,
                    total_cents=6000,
                    created_at=clock(),
                    updated_at=clock(),
                    items=[
                        OrderItem(
                            sku="assessment-fee-safety",
                            kind="assessment_fee",
                            module="safety",
                            name="Safety assessment fee",
                            unit_price_cents=6000,
                            quantity=1,
                            physical=False,
                        )
                    ],
                )
            )
            session.commit()
    assert pay(checkout(client, "assessment-fee-safety")).status_code == 302
    wait_for(lambda: OrderStatus.PAID in {o.status for o in orders_of(shop_app, candidate)})
    stale = next(o for o in orders_of(shop_app, candidate) if o.status == OrderStatus.PENDING)
    sessions_before = {s.id for s in all_sessions()}

    response = client.post(f"/shop/orders/{stale.public_id}/pay")
    assert response.status_code == 409
    page = words(response.get_data(as_text=True))
    assert "This order can no longer be paid" in page
    assert (
        "Safety assessment fee: an unused assessment authorization for this module is held." in page
    )
    assert "Go to payment" not in page and "Try again" not in page
    assert {s.id for s in all_sessions()} == sessions_before
    after = next(o for o in orders_of(shop_app, candidate) if o.id == stale.id)
    assert (after.status, after.checkout_session_id) == (
        OrderStatus.PENDING,
        stale.checkout_session_id,
    )
    # The order page says the same without being asked to pay.
    shown = words(client.get(f"/shop/orders/{stale.public_id}").get_data(as_text=True))
    assert "an unused assessment authorization for this module is held" in shown


@pytest.mark.parametrize(
    ("sku", "reason"),
    [
        ("assessment-fee-safety", "already bought in an order whose payment has not settled yet"),
        ("small-patch", "the small patch was already bought (one per candidate)"),
    ],
)
def test_an_order_still_settling_counts_as_bought_so_a_card_cannot_buy_it_again(
    shop_app: Flask, sku: str, reason: str
) -> None:
    candidate = candidate_with(
        shop_app, ("safety", "2026-01-05", False), ("quality", "2026-05-02", True)
    )
    client = signed_in(shop_app, candidate)
    assert pay(checkout(client, sku), "bank_transfer").status_code == 302
    wait_for(lambda: orders_of(shop_app, candidate)[0].status == OrderStatus.PROCESSING)
    response = client.post("/shop/cart", data={"sku": sku, "quantity": "1"})
    assert response.status_code == 400
    assert reason in words(response.get_data(as_text=True))
    with client.session_transaction("/shop/") as session:
        session["cart"] = {sku: 1}
    assert client.post("/shop/checkout").status_code == 400
    assert len(orders_of(shop_app, candidate)) == 1


def test_the_success_page_fulfils_even_before_the_webhook(
    shop_app: Flask, fake_stripe: FakeStripe
) -> None:
    candidate = candidate_with(shop_app, ("quality", "2026-05-02", True))
    client = signed_in(shop_app, candidate)
    # Webhooks now go nowhere: only the success page can fulfil this order.
    register_webhook(fake_stripe.url, "http://127.0.0.1:9/nowhere")
    landing = pay(checkout(client, "small-patch"))
    success = landing.headers["Location"]
    path = success.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path).get_data(as_text=True)
    assert "Paid" in page
    assert count(shop_app, Shipment) == 1


@pytest.fixture
def stripe_down_app(clock: FakeClock, database_url: str) -> Iterator[Flask]:
    """The shop with Stripe unreachable: nothing listens on port 9 here."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "CLOCK": clock,
            "WTF_CSRF_ENABLED": False,
            "STRIPE_API_BASE": "http://127.0.0.1:9",
        }
    )
    yield app
    app.extensions["db.engine"].dispose()


def test_the_success_page_says_processing_when_stripe_is_down(
    stripe_down_app: Flask, clock: FakeClock
) -> None:
    app = stripe_down_app
    candidate = candidate_with(app, ("quality", "2026-05-02", True))
    with app.app_context():
        session = db.session()
        session.add(
            Order(
                public_id="ord_stripe_down",
                candidate_id=candidate,
                status=OrderStatus.PENDING,
                total_cents=800,
                checkout_session_id="cs_test_unreachable",
                created_at=clock(),
                updated_at=clock(),
            )
        )
        session.commit()
    response = signed_in(app, candidate).get("/shop/orders/ord_stripe_down")
    assert response.status_code == 200
    assert "Waiting for payment" in response.get_data(as_text=True)


def test_checkout_when_stripe_is_down_keeps_the_order_and_says_so(stripe_down_app: Flask) -> None:
    app = stripe_down_app
    candidate = candidate_with(app, ("quality", "2026-05-02", True))
    client = signed_in(app, candidate)
    client.post("/shop/cart", data={"sku": "small-patch"})
    response = client.post("/shop/checkout")
    assert response.status_code == 503
    assert "nothing was charged" in response.get_data(as_text=True)
    [order] = orders_of(app, candidate)
    assert order.status == OrderStatus.PENDING and order.checkout_session_id is None


@pytest.mark.parametrize(
    "tamper",
    ["no-signature", "wrong-secret", "stale", "changed-body"],
)
def test_a_bad_webhook_gets_400_and_writes_nothing(store: tuple[Flask, str], tamper: str) -> None:
    app, base = store
    event = {"id": "evt_bad", "object": "event", "type": "checkout.session.expired",
             "data": {"object": {"id": "cs_x", "object": "checkout.session"}}}  # fmt: skip
    body, signature = signed(
        event,
        secret="whsec_wrong" if tamper == "wrong-secret" else WEBHOOK_SECRET,
        at=int(dt.datetime.now(dt.UTC).timestamp()) - 3600 if tamper == "stale" else None,
    )
    if tamper == "changed-body":
        body = body.replace(b"expired", b"complete")
    headers = {} if tamper == "no-signature" else {"Stripe-Signature": signature}
    response = requests.post(f"{base}/shop/stripe/webhook", data=body, headers=headers, timeout=5)
    assert response.status_code == 400
    assert count(app, StripeEvent) == 0


def test_an_unknown_event_type_gets_200_and_does_nothing(store: tuple[Flask, str]) -> None:
    app, base = store
    body, signature = signed({"id": "evt_other", "object": "event", "type": "customer.created",
                              "data": {"object": {"id": "cus_1"}}})  # fmt: skip
    response = requests.post(
        f"{base}/shop/stripe/webhook", data=body, headers={"Stripe-Signature": signature}, timeout=5
    )
    assert response.status_code == 200
    assert count(app, StripeEvent) == 0


def test_another_candidates_order_is_not_found(shop_app: Flask) -> None:
    owner = candidate_with(shop_app, ("quality", "2026-05-02", True))
    checkout(signed_in(shop_app, owner), "small-patch")
    order = orders_of(shop_app, owner)[0]
    stranger = signed_in(shop_app, candidate_with(shop_app))
    assert stranger.get(f"/shop/orders/{order.public_id}").status_code == 404
    assert order.public_id not in stranger.get("/shop/orders").get_data(as_text=True)
    with shop_app.app_context():
        assert db.session().get(Candidate, owner) is not None
