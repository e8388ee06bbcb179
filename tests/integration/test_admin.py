"""Staff pages at /shop/admin and the staff services behind them: orders, shipping, refunds.

The clock stands on 15 June 2026 (noon in New York). Orders are put straight into the database
as checkout and fulfilment would leave them (a paid order has its shipments and authorizations).
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import factories
import pytest
from factories import add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import db
from shop.models import Authorization, Candidate, Order, OrderItem, OrderStatus, Shipment
from shop.payments.gateway import PaymentError
from shop.services import staff
from shop.staff_cli import orders_cli, staff_cli
from shop.web import admin

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
ADDRESS = {
    "name": "Ana Lopez",
    "address": {
        "line1": "12 Mill Road",
        "line2": None,
        "city": "Dayton",
        "state": "OH",
        "postal_code": "45402",
        "country": "US",
    },
}


# -- wiring, until shop/web/__init__.py and shop/cli.py register them ---------------------------


@pytest.fixture
def app(app: Flask) -> Flask:
    """The conftest app (SQLite, then PostgreSQL) with the staff pages and commands."""
    if "admin" not in app.blueprints:
        app.register_blueprint(admin.blueprint)
    for group in (staff_cli, orders_cli):
        if group.name not in app.cli.commands:
            app.cli.add_command(group)
    return app


# -- orders as fulfilment leaves them ----------------------------------------------------------


class Line(NamedTuple):
    sku: str
    kind: str
    module: str | None
    name: str
    price: int
    physical: bool


FEE = Line(
    "assessment-fee-safety", "assessment_fee", "safety", "Assessment fee: Safety", 6000, False
)
PRINT = Line(
    "certificate-print-safety", "certificate_print", "safety", "Printed certificate: Safety", 2500,
    True,
)  # fmt: skip
PATCH = Line("small-patch", "small_patch", None, "Small arm patch", 1200, True)

_numbers = itertools.count(1)


def add_order(
    session: Session,
    candidate: Candidate,
    lines: Sequence[Line] = (PRINT,),
    *,
    status: OrderStatus = OrderStatus.PAID,
    at: dt.datetime = NOW - dt.timedelta(days=1),
) -> Order:
    """An order of `lines`; when paid, with a Shipment per physical line and an Authorization
    per assessment fee, as shop.payments.fulfilment makes them."""
    number = next(_numbers)
    paid = status in (OrderStatus.PAID, OrderStatus.REFUNDED)
    order = Order(
        public_id=f"ord_test{number:04d}",
        candidate_id=candidate.id,
        status=status,
        total_cents=sum(line.price for line in lines),
        checkout_session_id=f"cs_test_{number}",
        payment_intent_id=f"pi_test_{number}" if paid else None,
        shipping_address=ADDRESS if any(line.physical for line in lines) and paid else None,
        status_note="Refunded in full: an earlier refund."
        if status == OrderStatus.REFUNDED
        else None,
        created_at=at,
        paid_at=at if paid else None,
        updated_at=at,
        items=[
            OrderItem(
                sku=line.sku,
                kind=line.kind,
                module=line.module,
                name=line.name,
                unit_price_cents=line.price,
                quantity=1,
                physical=line.physical,
            )
            for line in lines
        ],
    )
    session.add(order)
    session.flush()
    if status == OrderStatus.PAID:
        for item in order.items:
            if item.physical:
                session.add(Shipment(order_item_id=item.id, queued_at=at))
            elif item.kind == "assessment_fee":
                session.add(
                    Authorization(
                        candidate_id=candidate.id,
                        module=item.module,
                        granted_at=at,
                        source=f"order {order.public_id}",
                        order_item_id=item.id,
                    )
                )
    session.flush()
    return order


class FakeStripe:
    """Stands in for Stripe: these tests run no Stripe server (not even the offline one), so the
    gateway in app.extensions["payments.gateway"] is replaced by this object, which records each
    refund asked of it and, when given an `error`, refuses like Stripe does (PaymentError). The
    real Stripe path (gateway.refund_payment) belongs to the payment tests."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, int | None, str]] = []

    def refund_payment(
        self, payment_intent_id: str, *, amount_cents: int | None = None, idempotency_key: str
    ) -> str:
        self.calls.append((payment_intent_id, amount_cents, idempotency_key))
        if self.error:
            raise PaymentError(self.error)
        return f"re_test_{len(self.calls)}"


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def sign_in_as(client: FlaskClient, candidate: Candidate) -> None:
    # The session cookie lives under /shop/: write it there.
    factories.sign_in_as(client, candidate.id)  # a server-side session, as the link makes


def text(page: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


class People(NamedTuple):
    boss: Candidate  # staff
    ana: Candidate
    ben: Candidate


@pytest.fixture
def people(app: Flask) -> People:
    with database(app) as session:
        boss = add_candidate(session, name="Sam Staff", email="sam@example.com")
        boss.is_staff = True
        ana = add_candidate(session, name="Ana Lopez", email="ana@example.com")
        ben = add_candidate(session, name="Ben Okafor", email="ben@example.com")
    return People(boss, ana, ben)


@pytest.fixture
def staff_client(app: Flask, people: People) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, people.boss)
    return client


def order_now(app: Flask, public_id: str) -> Order:
    with app.app_context():
        found = staff.find_order(db.session(), public_id)
        assert found is not None
        return found


def items_key(app: Flask, public_id: str) -> str:
    """The idempotency key of a refund of every line of the order."""
    ids = "-".join(str(item.id) for item in order_now(app, public_id).items)
    return f"refund-{public_id}-items-{ids}"


def shipment_of(order: Order) -> Shipment:
    shipments = [item.shipment for item in order.items if item.shipment is not None]
    assert len(shipments) == 1
    return shipments[0]


# -- who may see the staff pages ---------------------------------------------------------------


def admin_requests(order: Order, shipment: Shipment) -> list[tuple[str, str]]:
    return [
        ("GET", "/shop/admin/"),
        ("GET", "/shop/admin/orders"),
        ("GET", "/shop/admin/orders?status=paid"),
        ("GET", f"/shop/admin/orders/{order.public_id}"),
        ("GET", "/shop/admin/shipping"),
        ("POST", f"/shop/admin/shipments/{shipment.id}/ship"),
        ("POST", f"/shop/admin/orders/{order.public_id}/refund"),
    ]


def test_a_candidate_who_is_not_staff_gets_404_on_every_staff_page(
    app: Flask, client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [FEE, PRINT])
    stripe = FakeStripe()
    app.extensions["payments.gateway"] = stripe
    sign_in_as(client, people.ana)
    for method, url in admin_requests(order, shipment_of(order_now(app, order.public_id))):
        response = client.open(url, method=method, data={"note": "x", "reason": "x"})
        assert response.status_code == 404, (method, url)
    after = order_now(app, order.public_id)
    assert after.status == OrderStatus.PAID
    assert shipment_of(after).shipped_at is None
    assert stripe.calls == []


def sign_in_next(location: str) -> str:
    """Where the sign-in page at `location` comes back to."""
    parts = urlsplit(location)
    assert parts.path == "/shop/signin", location
    return parse_qs(parts.query)["next"][0]


def test_anonymous_visitors_are_sent_to_sign_in(
    app: Flask, client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [PRINT])
    for method, url in admin_requests(order, shipment_of(order_now(app, order.public_id))):
        response = client.open(url, method=method, data={"note": "x", "reason": "x"})
        assert response.status_code == 302, (method, url)
        assert sign_in_next(response.location).startswith("/shop/admin/"), url
    page = client.get("/shop/admin/orders?status=paid")
    assert sign_in_next(page.location) == "/shop/admin/orders?status=paid"
    assert shipment_of(order_now(app, order.public_id)).shipped_at is None


def test_a_revoked_staff_member_gets_404(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    assert staff_client.get("/shop/admin/orders").status_code == 200
    with database(app) as session:
        staff.revoke_staff(session, "SAM@example.com ")
    assert staff_client.get("/shop/admin/orders").status_code == 404


# -- orders ------------------------------------------------------------------------------------


def test_staff_see_every_order_and_filter_by_status(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        paid = add_order(session, people.ana, [FEE], at=NOW - dt.timedelta(days=3))
        pending = add_order(session, people.ben, [PATCH], status=OrderStatus.PENDING)
        refunded = add_order(session, people.ben, [PRINT], status=OrderStatus.REFUNDED)

    page = staff_client.get("/shop/admin/orders")
    assert page.status_code == 200
    words = text(page.text)
    for order in (paid, pending, refunded):
        assert order.public_id in words
        assert f'href="/shop/admin/orders/{order.public_id}"' in page.text
    assert "Ana Lopez <ana@example.com>" in words and "Ben Okafor <ben@example.com>" in words
    assert "3 orders." in words
    # Newest first.
    assert (
        words.index(refunded.public_id)
        < words.index(pending.public_id)
        < words.index(paid.public_id)
    )
    assert 'href="/shop/admin/orders?status=refunded"' in page.text

    only_paid = text(staff_client.get("/shop/admin/orders?status=paid").text)
    assert paid.public_id in only_paid
    assert pending.public_id not in only_paid and refunded.public_id not in only_paid
    assert "1 order." in only_paid

    none = text(staff_client.get("/shop/admin/orders?status=failed").text)
    assert "No orders with the status failed." in none

    bad = staff_client.get("/shop/admin/orders?status=lost")
    assert bad.status_code == 400
    assert "Unknown order status 'lost'" in text(bad.text)


def test_the_order_page_shows_the_candidate_items_address_and_forms(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [FEE, PRINT])
    shipment = shipment_of(order_now(app, order.public_id))

    page = staff_client.get(f"/shop/admin/orders/{order.public_id}")
    assert page.status_code == 200
    words = text(page.text)
    assert "Ana Lopez <ana@example.com>" in words
    assert "Assessment fee: Safety" in words and "Printed certificate: Safety" in words
    assert "12 Mill Road Dayton OH 45402 US" in words
    assert "In the shipping queue since June 14, 2026" in words
    assert f'action="/shop/admin/shipments/{shipment.id}/ship"' in page.text
    assert f'action="/shop/admin/orders/{order.public_id}/refund"' in page.text
    # Every form carries the CSRF token (the tests switch its checking off, not the field).
    assert page.text.count('name="csrf_token"') == page.text.count('method="post"') >= 3

    assert staff_client.get("/shop/admin/orders/ord_nothing").status_code == 404


def test_a_pending_order_offers_neither_shipping_nor_refund(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [PRINT], status=OrderStatus.PENDING)
    page = staff_client.get(f"/shop/admin/orders/{order.public_id}").text
    assert page.count('method="post"') == 1  # signing out
    assert '/ship"' not in page and '/refund"' not in page


# -- shipping ----------------------------------------------------------------------------------


def test_marking_shipped_shows_the_date_and_note_to_the_candidate(
    app: Flask, staff_client: FlaskClient, client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [FEE, PRINT])
    shipment = shipment_of(order_now(app, order.public_id))

    response = staff_client.post(
        f"/shop/admin/shipments/{shipment.id}/ship", data={"note": "  UPS 1Z999AA10123456784 "}
    )
    assert response.status_code == 302
    assert response.location == f"/shop/admin/orders/{order.public_id}"
    after = shipment_of(order_now(app, order.public_id))
    assert after.shipped_at == NOW
    assert after.tracking_note == "UPS 1Z999AA10123456784"
    staff_page = text(staff_client.get(response.location).text)
    assert "Marked shipped: Printed certificate: Safety" in staff_page
    assert "Shipped June 15, 2026: UPS 1Z999AA10123456784" in staff_page

    sign_in_as(client, people.ana)
    mine = client.get(f"/shop/orders/{order.public_id}")
    assert mine.status_code == 200
    assert "Shipped June 15, 2026: UPS 1Z999AA10123456784" in text(mine.text)


def test_shipping_twice_keeps_the_first_date_and_note(
    app: Flask, staff_client: FlaskClient, people: People, clock: Any
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [PRINT])
    shipment = shipment_of(order_now(app, order.public_id))
    url = f"/shop/admin/shipments/{shipment.id}/ship"
    staff_client.post(url, data={"note": "USPS 9400"})
    clock.advance(days=2)
    sign_in_as(staff_client, people.boss)  # two days later: that session has ended

    again = staff_client.post(url, data={"note": "something else"}, follow_redirects=True)
    assert "was already marked shipped; nothing changed" in text(again.text)
    after = shipment_of(order_now(app, order.public_id))
    assert (after.shipped_at, after.tracking_note) == (NOW, "USPS 9400")

    with database(app) as session:
        result = staff.mark_shipped(session, shipment.id, None, clock())
    assert result.already and result.shipment.shipped_at == NOW


def test_a_note_is_optional_and_at_most_500_characters(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        first = add_order(session, people.ana, [PRINT])
        second = add_order(session, people.ben, [PATCH])
    long_one = shipment_of(order_now(app, first.public_id))
    no_note = shipment_of(order_now(app, second.public_id))

    refused = staff_client.post(
        f"/shop/admin/shipments/{long_one.id}/ship", data={"note": "x" * 501}
    )
    assert refused.status_code == 400
    assert "The tracking note is 501 characters long: at most 500 fit." in text(refused.text)
    assert shipment_of(order_now(app, first.public_id)).shipped_at is None

    staff_client.post(f"/shop/admin/shipments/{no_note.id}/ship", data={"note": "   "})
    after = shipment_of(order_now(app, second.public_id))
    assert after.shipped_at == NOW and after.tracking_note is None

    assert staff_client.post("/shop/admin/shipments/99999/ship").status_code == 404


def test_the_queue_lists_unshipped_items_of_paid_orders_oldest_first(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        newer = add_order(session, people.ana, [PRINT], at=NOW - dt.timedelta(days=1))
        older = add_order(session, people.ben, [PATCH, FEE], at=NOW - dt.timedelta(days=5))
        shipped = add_order(session, people.ben, [PRINT], at=NOW - dt.timedelta(days=9))
        refunded = add_order(session, people.ana, [PATCH], at=NOW - dt.timedelta(days=7))
    staff_client.post(
        f"/shop/admin/shipments/{shipment_of(order_now(app, shipped.public_id)).id}/ship",
        follow_redirects=True,  # and past its flashed message
    )
    with database(app) as session:
        # Refunded after it was queued: its patch is not to be sent.
        staff.refund(session, FakeStripe(), refunded.public_id, "changed their mind", NOW)

    with app.app_context():
        queue = staff.shipping_queue(db.session())
        assert [(s.item.order.public_id, s.item.name) for s in queue] == [
            (older.public_id, "Small arm patch"),
            (newer.public_id, "Printed certificate: Safety"),
        ]
        assert queue[0].item.order.candidate.email == "ben@example.com"

    page = staff_client.get("/shop/admin/shipping")
    assert page.status_code == 200
    words = text(page.text)
    assert "2 items to ship, oldest first." in words
    assert words.index(older.public_id) < words.index(newer.public_id)
    assert shipped.public_id not in words and refunded.public_id not in words
    assert "Ben Okafor <ben@example.com>" in words

    # Shipping from the queue comes back to the queue.
    first = queue[0]
    response = staff_client.post(
        f"/shop/admin/shipments/{first.id}/ship", data={"note": "FedEx 42", "back": "queue"}
    )
    assert response.location == "/shop/admin/shipping"
    assert "1 item to ship" in text(staff_client.get("/shop/admin/shipping").text)


# -- refunds -----------------------------------------------------------------------------------


def authorizations_of(app: Flask, candidate: Candidate) -> list[Authorization]:
    with app.app_context():
        found = db.session().scalars(
            select(Authorization).where(Authorization.candidate_id == candidate.id)
        )
        return list(found)


def test_refund_calls_stripe_once_and_withdraws_the_unused_authorization(
    app: Flask, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [FEE, PRINT])
    assert len(authorizations_of(app, people.ana)) == 1
    # A recording refunder standing for Stripe (gateway.StripeGateway): the service takes any
    # object with refund_payment; the real Stripe call is the payment tests' business.
    refunder = FakeStripe()

    with database(app) as session:
        refunded = staff.refund(
            session, refunder, order.public_id, "  sent twice by mistake. ", NOW
        )
    assert refunded.order.status == OrderStatus.REFUNDED

    assert refunder.calls == [(order.payment_intent_id, 8500, items_key(app, order.public_id))]
    after = order_now(app, order.public_id)
    assert after.status == OrderStatus.REFUNDED
    assert after.status_note == "Refunded in full: sent twice by mistake."
    assert after.updated_at == NOW
    assert authorizations_of(app, people.ana) == []


def test_refund_keeps_an_authorization_already_used(app: Flask, people: People) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [FEE])
        attempt = add_attempt(session, people.ana, "safety", dt.date(2026, 6, 1), passed=False)
        authorization = session.scalars(select(Authorization)).one()
        authorization.used_by_attempt_id = attempt.id
        authorization.used_at = NOW
    with database(app) as session:
        staff.refund(session, FakeStripe(), order.public_id, "goodwill", NOW)
    assert [a.used_by_attempt_id for a in authorizations_of(app, people.ana)] == [attempt.id]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (OrderStatus.PENDING, "is pending, not paid: there is nothing to refund."),
        (OrderStatus.EXPIRED, "is expired, not paid: there is nothing to refund."),
        (OrderStatus.REFUNDED, "was already refunded: nothing more to refund."),
    ],
)
def test_an_order_that_is_not_paid_is_not_refunded(
    app: Flask, staff_client: FlaskClient, people: People, status: OrderStatus, message: str
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [PRINT], status=status)
    stripe = FakeStripe()
    app.extensions["payments.gateway"] = stripe

    with database(app) as session, pytest.raises(staff.StaffError, match=re.escape(message)):
        staff.refund(session, stripe, order.public_id, "why not", NOW)
    response = staff_client.post(
        f"/shop/admin/orders/{order.public_id}/refund", data={"reason": "why not", "confirm": "yes"}
    )
    assert response.status_code == 400
    assert f"Order {order.public_id} {message}" in text(response.text)
    assert stripe.calls == []
    assert order_now(app, order.public_id).status == status


def test_refund_through_the_page(
    app: Flask, staff_client: FlaskClient, client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [FEE])
    stripe = FakeStripe()
    app.extensions["payments.gateway"] = stripe

    empty = staff_client.post(
        f"/shop/admin/orders/{order.public_id}/refund", data={"reason": " ", "confirm": "yes"}
    )
    assert empty.status_code == 400
    assert "Give a reason for the refund" in text(empty.text)

    response = staff_client.post(
        f"/shop/admin/orders/{order.public_id}/refund",
        data={"reason": "duplicate purchase", "confirm": "yes"},
    )
    assert response.status_code == 302
    assert stripe.calls == [(order.payment_intent_id, 6000, items_key(app, order.public_id))]
    words = text(staff_client.get(response.location).text)
    assert f"Order {order.public_id} was refunded in full." in words
    assert "Refunded in full: duplicate purchase." in words
    assert '/refund"' not in staff_client.get(response.location).text  # no second refund form
    assert authorizations_of(app, people.ana) == []

    sign_in_as(client, people.ana)
    mine = text(client.get(f"/shop/orders/{order.public_id}").text)
    assert "Refunded in full: duplicate purchase." in mine

    assert (
        staff_client.post(
            "/shop/admin/orders/ord_nothing/refund", data={"reason": "x", "confirm": "yes"}
        ).status_code
        == 404
    )


def test_a_stripe_failure_says_so_and_the_order_stays_paid(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [FEE, PRINT])
    stripe = FakeStripe(error="This PaymentIntent's charge was already refunded.")
    app.extensions["payments.gateway"] = stripe

    response = staff_client.post(
        f"/shop/admin/orders/{order.public_id}/refund",
        data={"reason": "damaged in transit", "confirm": "yes"},
    )
    assert response.status_code == 502
    words = text(response.text)
    assert (
        "Stripe did not refund the payment, so nothing changed: "
        "This PaymentIntent's charge was already refunded. Try again later" in words
    )
    assert 'value="damaged in transit"' in response.text  # the reason is kept for a retry
    assert len(stripe.calls) == 1
    after = order_now(app, order.public_id)
    assert after.status == OrderStatus.PAID and after.status_note is None
    assert len(authorizations_of(app, people.ana)) == 1
    assert shipment_of(after).shipped_at is None


def test_the_forms_carry_a_working_csrf_token(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    with database(app) as session:
        order = add_order(session, people.ana, [PRINT])
    shipment = shipment_of(order_now(app, order.public_id))
    app.config["WTF_CSRF_ENABLED"] = True  # the other tests switch the check off
    url = f"/shop/admin/shipments/{shipment.id}/ship"

    assert staff_client.post(url, data={"note": "forged"}).status_code == 400
    assert shipment_of(order_now(app, order.public_id)).shipped_at is None

    page = staff_client.get(f"/shop/admin/orders/{order.public_id}").text
    form = re.search(rf'<form method="post" action="{url}".*?</form>', page, re.S)
    assert form is not None
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0))
    assert token is not None
    response = staff_client.post(url, data={"note": "real", "csrf_token": token.group(1)})
    assert response.status_code == 302
    assert shipment_of(order_now(app, order.public_id)).tracking_note == "real"
