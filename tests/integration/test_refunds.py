"""Refunds per line, and payments that arrive too late, against the offline Stripe.

Stripe here is localstripe with the project's add-on, on 127.0.0.1, driven by the real `stripe`
library; its webhooks travel over HTTP to the shop served on a real socket, on SQLite and
PostgreSQL. The order under test holds two lines: the Safety assessment fee ($60.00, a retake
after a failure) and the small arm patch ($8.00, a physical item).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests
import stripe
from factories import add_attempt, add_candidate, sign_in_as
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from stripe_helpers import (
    offline_stripe,
    pay,
    shop_on_offline_stripe,
    signed,
    wait_for,
)

from shop import db
from shop.models import Authorization, Order, OrderItem, OrderStatus, Shipment, StripeEvent
from shop.payments.offline import FakeStripe
from shop.services import staff

FEE, PATCH = "assessment-fee-safety", "small-patch"
FEE_CENTS, PATCH_CENTS = 6000, 800


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with offline_stripe() as fake:
        yield fake


@pytest.fixture
def shop(
    fake_stripe: FakeStripe, database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path
) -> Iterator[Flask]:
    """The shop wired to the offline Stripe, served on 127.0.0.1, its webhook registered."""
    with shop_on_offline_stripe(fake_stripe, database_url, clock, tmp_path) as (app, _):
        yield app


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe) -> stripe.StripeClient:
    """The stripe library as staff would use Stripe's dashboard: straight to Stripe."""
    return stripe.StripeClient("sk_test_shop", base_addresses={"api": fake_stripe.url})


class People(NamedTuple):
    candidate: FlaskClient
    staff: FlaskClient


def signed_in(app: Flask, candidate_id: int) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, candidate_id)
    return client


@pytest.fixture
def people(shop: Flask) -> People:
    with shop.app_context():
        session = db.session()
        ana = add_candidate(session, email=f"{uuid.uuid4().hex[:8]}@example.com")
        add_attempt(session, ana, "safety", dt.date(2026, 5, 1), passed=False)
        add_attempt(session, ana, "quality", dt.date(2026, 5, 2), passed=True)
        sam = add_candidate(session, name="Sam Staff", email=f"staff-{uuid.uuid4().hex[:8]}@x.org")
        sam.is_staff = True
        session.commit()
        return People(signed_in(shop, ana.id), signed_in(shop, sam.id))


def order_of(app: Flask) -> Order:
    """The one order, with its lines and their shipments, as the database has it now."""
    with app.app_context():
        (order,) = db.session().scalars(select(Order)).all()
        found = staff.find_order(db.session(), order.public_id)
        assert found is not None
        for item in found.items:
            _ = item.shipment, item.order.status  # loaded while the session is open
        return found


def line(order: Order, sku: str) -> OrderItem:
    return next(item for item in order.items if item.sku == sku)


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model).where(*where)
        return int(db.session().scalar(query) or 0)


def text(page: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def buy_fee_and_patch(app: Flask, people: People) -> Order:
    """The candidate buys the fee and the patch and pays by card; returns the paid order."""
    for sku in (FEE, PATCH):
        added = people.candidate.post("/shop/cart", data={"sku": sku, "quantity": "1"})
        assert added.status_code == 302
    started = people.candidate.post("/shop/checkout")
    assert started.status_code == 303, started.text
    assert pay(str(started.location)).status_code == 302
    wait_for(lambda: order_of(app).status == OrderStatus.PAID)
    order = order_of(app)
    assert order.total_cents == FEE_CENTS + PATCH_CENTS
    return order


def refunds_in_stripe(client: stripe.StripeClient, order: Order) -> list[int]:
    """The amounts Stripe refunded of the order's payment, smallest first."""
    listed = client.v1.refunds.list(params={"payment_intent": str(order.payment_intent_id)})
    return sorted(refund.amount for refund in listed.data)


def charge_refunded_events(app: Flask) -> int:
    return count(app, StripeEvent, StripeEvent.type == "charge.refunded")


def staff_refund(people: People, order: Order, sku: str | None, reason: str) -> Any:
    data = {"reason": reason, "confirm": "yes"}
    if sku is not None:
        data["item"] = str(line(order, sku).id)
    return people.staff.post(f"/shop/admin/orders/{order.public_id}/refund", data=data)


def candidate_page(people: People, order: Order) -> str:
    return text(people.candidate.get(f"/shop/orders/{order.public_id}").text)


def staff_page(people: People, order: Order) -> str:
    return text(people.staff.get(f"/shop/admin/orders/{order.public_id}").text)


# -- by staff ---------------------------------------------------------------------------------


def test_staff_refund_a_two_line_order_one_line_at_a_time(
    shop: Flask, people: People, stripe_client: stripe.StripeClient
) -> None:
    order = buy_fee_and_patch(shop, people)
    assert "In the shipping queue" in candidate_page(people, order)

    first = staff_refund(people, order, PATCH, "arrived damaged")
    assert first.status_code == 302, text(first.text)
    assert refunds_in_stripe(stripe_client, order) == [PATCH_CENTS]
    after = order_of(shop)
    assert after.status == OrderStatus.PAID  # still paid for the fee
    assert line(after, PATCH).refunded_at is not None and line(after, FEE).refunded_at is None
    assert after.refunded_cents == PATCH_CENTS
    assert count(shop, Authorization) == 1  # the fee's authorization stays
    with shop.app_context():
        assert staff.shipping_queue(db.session()) == []  # the patch left the queue
    mine = candidate_page(people, order)
    assert "Paid; partly refunded ($8.00)" in mine
    assert "Refunded June 15, 2026: arrived damaged" in mine
    assert "In the shipping queue" not in mine
    assert "Assessment authorization added to your account" in mine
    words = staff_page(people, order)
    assert "Refunded June 15, 2026: arrived damaged" in words, words[-3000:]

    second = staff_refund(people, order, FEE, "changed their mind")
    assert second.status_code == 302, text(second.text)
    assert refunds_in_stripe(stripe_client, order) == [PATCH_CENTS, FEE_CENTS]
    # Stripe's own events about these refunds (the echo) arrive and change nothing.
    wait_for(lambda: charge_refunded_events(shop) == 2)
    after = order_of(shop)
    assert after.status == OrderStatus.REFUNDED
    assert after.status_note == "Refunded in full: changed their mind."
    assert after.refunded_cents == FEE_CENTS + PATCH_CENTS
    assert after.staff_attention is None
    assert count(shop, Authorization) == 0  # the unused authorization is withdrawn
    mine = candidate_page(people, order)
    assert "Refunded June 15, 2026: changed their mind" in mine
    assert "Assessment authorization added" not in mine

    again = staff_refund(people, order, FEE, "once more")
    assert again.status_code == 400
    assert "was already refunded: nothing more to refund." in text(again.text)
    assert refunds_in_stripe(stripe_client, order) == [PATCH_CENTS, FEE_CENTS]


def test_a_refunded_patch_can_be_bought_again(shop: Flask, people: People) -> None:
    order = buy_fee_and_patch(shop, people)
    refused = people.candidate.post("/shop/cart", data={"sku": PATCH, "quantity": "1"})
    assert refused.status_code == 400  # one small patch per candidate
    assert staff_refund(people, order, PATCH, "lost in the post").status_code == 302
    assert order_of(shop).status == OrderStatus.PAID  # for the fee, which still counts
    again = people.candidate.post("/shop/cart", data={"sku": PATCH, "quantity": "1"})
    assert again.status_code == 302
    fee_again = people.candidate.post("/shop/cart", data={"sku": FEE, "quantity": "1"})
    assert fee_again.status_code == 400  # its authorization is still unused


def test_a_staff_refund_without_the_confirmation_is_refused_and_changes_nothing(
    shop: Flask, people: People, stripe_client: stripe.StripeClient
) -> None:
    order = buy_fee_and_patch(shop, people)
    url = f"/shop/admin/orders/{order.public_id}/refund"
    item = str(line(order, PATCH).id)
    for data in ({"reason": "oops"}, {"reason": "oops", "item": item, "confirm": "no"}):
        response = people.staff.post(url, data=data)
        assert response.status_code == 400
        words = text(response.text)
        assert "Tick “I confirm this refund” to refund: nothing was refunded." in words
        assert 'value="oops"' in response.text  # what was typed is kept
    bad_item = people.staff.post(url, data={"reason": "x", "item": "12abc", "confirm": "yes"})
    assert bad_item.status_code == 400
    assert "has no item '12abc': nothing was refunded." in text(bad_item.text)
    other = people.staff.post(url, data={"reason": "x", "item": "999999", "confirm": "yes"})
    assert other.status_code == 400
    assert "has no item 999999: nothing was refunded." in text(other.text)
    assert refunds_in_stripe(stripe_client, order) == []
    assert order_of(shop).refunded_cents == 0


def test_the_staff_order_page_has_a_confirmed_refund_form_per_line_and_one_for_the_rest(
    shop: Flask, people: People
) -> None:
    order = buy_fee_and_patch(shop, people)
    page = people.staff.get(f"/shop/admin/orders/{order.public_id}").text
    forms = re.findall(r'<form method="post" action="[^"]*/refund".*?</form>', page, re.S)
    assert len(forms) == 3
    assert all('name="confirm" value="yes" required' in form for form in forms)
    buttons = [text(re.search(r"<button.*?</button>", f, re.S).group(0)) for f in forms]  # type: ignore[union-attr]
    assert buttons == [
        "Refund Safety assessment fee ($60.00)",
        "Refund Small CPT arm patch ($8.00)",
        "Refund the whole order ($68.00)",
    ]


# -- from Stripe ------------------------------------------------------------------------------


def test_refunds_made_in_stripe_are_matched_to_lines_one_at_a_time(
    shop: Flask, people: People, stripe_client: stripe.StripeClient
) -> None:
    order = buy_fee_and_patch(shop, people)
    intent = str(order.payment_intent_id)

    stripe_client.v1.refunds.create(params={"payment_intent": intent, "amount": PATCH_CENTS})
    wait_for(lambda: line(order_of(shop), PATCH).refunded_at is not None)
    after = order_of(shop)
    assert after.status == OrderStatus.PAID
    assert line(after, FEE).refunded_at is None
    assert after.staff_attention is None
    assert count(shop, Authorization) == 1
    with shop.app_context():
        assert staff.shipping_queue(db.session()) == []
    assert "In the shipping queue" not in candidate_page(people, order)

    stripe_client.v1.refunds.create(params={"payment_intent": intent})  # what is left: the fee
    wait_for(lambda: order_of(shop).status == OrderStatus.REFUNDED)
    after = order_of(shop)
    assert after.refunded_cents == FEE_CENTS + PATCH_CENTS
    assert line(after, FEE).refund_reason == "refunded by the program"
    assert after.status_note == "Refunded in full by the program."
    assert count(shop, Authorization) == 0
    assert after.staff_attention is None


def test_a_refund_in_stripe_that_matches_no_line_flags_the_order_and_changes_no_line(
    shop: Flask, people: People, stripe_client: stripe.StripeClient
) -> None:
    order = buy_fee_and_patch(shop, people)
    stripe_client.v1.refunds.create(
        params={"payment_intent": str(order.payment_intent_id), "amount": 500}
    )
    wait_for(lambda: order_of(shop).staff_attention is not None)
    after = order_of(shop)
    assert after.status == OrderStatus.PAID
    assert after.refunded_cents == 500
    assert [item.refunded_at for item in after.items] == [None, None]
    assert count(shop, Authorization) == 1
    with shop.app_context():
        assert len(staff.shipping_queue(db.session())) == 1
    words = staff_page(people, order)
    assert (
        "Needs staff Stripe has refunded $5.00 of this payment in all: $5.00 of it matches no "
        "set of whole items (Safety assessment fee $60.00; Small CPT arm patch $8.00). No item was "
        "marked refunded: decide which it was for." in words
    )
    listed = people.staff.get("/shop/admin/orders").text
    assert f'href="/shop/admin/orders/{order.public_id}#attention">Needs staff</a>' in listed

    # Staff deal with it, and say so: the flag goes.
    cleared = people.staff.post(f"/shop/admin/orders/{order.public_id}/attention")
    assert cleared.status_code == 302
    assert order_of(shop).staff_attention is None


def test_a_refunded_fee_whose_authorization_was_used_tells_staff(
    shop: Flask, people: People, stripe_client: stripe.StripeClient
) -> None:
    order = buy_fee_and_patch(shop, people)
    with shop.app_context():
        session = db.session()
        authorization = session.scalars(select(Authorization)).one()
        attempt = add_attempt(
            session,
            authorization.candidate,
            "safety",
            dt.date(2026, 6, 14),
            passed=False,
            reference="A-USED-1",
        )
        authorization.used_by_attempt_id, authorization.used_at = attempt.id, attempt.recorded_at
        session.commit()
    stripe_client.v1.refunds.create(
        params={"payment_intent": str(order.payment_intent_id), "amount": FEE_CENTS}
    )
    wait_for(lambda: line(order_of(shop), FEE).refunded_at is not None)
    assert count(shop, Authorization) == 1  # an assessment sat cannot be withdrawn
    assert (
        "Safety assessment fee was refunded, but its assessment authorization was already used "
        "(attempt A-USED-1 on 2026-06-14): the assessment was sat, so nothing was withdrawn."
        in staff_page(people, order)
    )


def test_a_line_refunded_after_it_was_shipped_tells_staff(
    shop: Flask, people: People, stripe_client: stripe.StripeClient
) -> None:
    order = buy_fee_and_patch(shop, people)
    (shipment_id,) = [line(order, PATCH).shipment.id]  # type: ignore[union-attr]
    shipped = people.staff.post(f"/shop/admin/shipments/{shipment_id}/ship", data={"note": "USPS"})
    assert shipped.status_code == 302
    stripe_client.v1.refunds.create(
        params={"payment_intent": str(order.payment_intent_id), "amount": PATCH_CENTS}
    )
    wait_for(lambda: line(order_of(shop), PATCH).refunded_at is not None)
    words = staff_page(people, order)
    assert "Small CPT arm patch was refunded after it was shipped on 2026-06-15" in words
    assert "Refunded June 15, 2026, after it was shipped June 15, 2026" in words


def test_a_refunded_line_still_in_the_queue_cannot_be_marked_shipped(
    shop: Flask, people: People
) -> None:
    order = buy_fee_and_patch(shop, people)
    shipment = line(order, PATCH).shipment
    assert shipment is not None
    assert staff_refund(people, order, PATCH, "wrong size").status_code == 302
    response = people.staff.post(f"/shop/admin/shipments/{shipment.id}/ship", data={"note": "x"})
    assert response.status_code == 400
    assert "Small CPT arm patch of order" in text(response.text)
    assert "was refunded on 2026-06-15: do not ship it." in text(response.text)
    assert count(shop, Shipment, Shipment.shipped_at.is_not(None)) == 0


def test_a_charge_refunded_event_with_a_bad_amount_gets_400_and_writes_nothing(
    shop: Flask, people: People
) -> None:
    order = buy_fee_and_patch(shop, people)
    event = {
        "id": "evt_bad_refund",
        "object": "event",
        "type": "charge.refunded",
        "data": {
            "object": {
                "object": "charge",
                "payment_intent": order.payment_intent_id,
                "amount_refunded": "800",
            }
        },
    }
    body, signature = signed(event)
    response = requests.post(
        f"{shop.config['SHOP_URL']}/shop/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "amount_refunded is not a whole number of cents" in response.json()["error"]
    assert count(shop, StripeEvent, StripeEvent.id == "evt_bad_refund") == 0
    assert order_of(shop).refunded_cents == 0


# -- a payment that arrives for an order that can no longer take it ---------------------------


def session_event(order: Order, event_id: str, event_type: str) -> dict[str, Any]:
    """A webhook event about the order's Checkout Session, as Stripe would send it now."""
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "data": {
            "object": {
                "id": order.checkout_session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "payment_intent": order.payment_intent_id,
                "amount_total": order.total_cents,
                "metadata": {"order": order.public_id},
            }
        },
    }


def deliver(app: Flask, event: dict[str, Any]) -> int:
    body, signature = signed(event)
    return requests.post(
        f"{app.config['SHOP_URL']}/shop/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        timeout=10,
    ).status_code


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (OrderStatus.EXPIRED, "the payment arrived after the checkout had expired"),
        (OrderStatus.FAILED, "the payment arrived after the order's payment had failed"),
    ],
)
def test_a_payment_for_an_order_marked_expired_or_failed_is_refunded_at_once_saying_why(
    shop: Flask,
    people: People,
    stripe_client: stripe.StripeClient,
    status: OrderStatus,
    why: str,
) -> None:
    assert people.candidate.post("/shop/cart", data={"sku": FEE}).status_code == 302
    started = people.candidate.post("/shop/checkout")
    assert started.status_code == 303
    with shop.app_context(), db.transaction() as session:
        # The shop gave up on the order (its checkout expired, or a payment failed) while the
        # pay page was still open in the candidate's browser.
        session.scalars(select(Order)).one().status = status
    assert pay(str(started.location)).status_code == 302

    wait_for(lambda: order_of(shop).status == OrderStatus.REFUNDED)
    order = order_of(shop)
    assert order.status_note == f"Refunded in full: {why}."
    assert refunds_in_stripe(stripe_client, order) == [FEE_CENTS]
    assert count(shop, Authorization) == 0
    assert f"Refunded in full: {why}." in candidate_page(people, order)

    # The same payment told again (a redelivery, the other event type): refunded once.
    assert deliver(shop, session_event(order, "evt_again_1", "checkout.session.completed")) == 200
    kind = "checkout.session.async_payment_succeeded"
    assert deliver(shop, session_event(order, "evt_again_2", kind)) == 200
    assert refunds_in_stripe(stripe_client, order) == [FEE_CENTS]
    assert order_of(shop).status_note == f"Refunded in full: {why}."


def test_a_second_payment_for_a_paid_order_is_refunded_and_the_first_kept(
    shop: Flask, people: People, stripe_client: stripe.StripeClient
) -> None:
    order = buy_fee_and_patch(shop, people)
    # The same order paid a second time, through another Checkout Session of the same order.
    second = stripe_client.v1.payment_intents.create(
        params={
            "amount": order.total_cents,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    event = session_event(order, "evt_second_payment", "checkout.session.completed")
    event["data"]["object"]["id"] = "cs_test_another_session"
    event["data"]["object"]["payment_intent"] = second.id
    assert deliver(shop, event) == 200
    assert deliver(shop, {**event, "id": "evt_second_payment_again"}) == 200

    listed = stripe_client.v1.refunds.list(params={"payment_intent": second.id}).data
    assert [r.amount for r in listed] == [order.total_cents]
    after = order_of(shop)
    assert after.status == OrderStatus.PAID
    assert after.payment_intent_id == order.payment_intent_id
    assert refunds_in_stripe(stripe_client, after) == []
    assert after.status_note == (
        "A second payment ($68.00) arrived for this order, already paid: it was refunded in full."
    )
    assert after.staff_attention is not None and second.id in after.staff_attention
