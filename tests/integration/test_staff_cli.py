"""Staff commands: `flask staff grant|revoke EMAIL` and `flask orders list|queue|ship|refund`.

The clock stands on 15 June 2026 (noon in New York).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import pytest
from click.testing import Result
from factories import add_candidate
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import db
from shop.models import Authorization, Candidate, Order, OrderItem, OrderStatus, Shipment
from shop.payments.gateway import PaymentError
from shop.staff_cli import orders_cli, staff_cli
from shop.web import admin

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(app: Flask) -> Flask:
    """The conftest app (SQLite, then PostgreSQL) with the staff commands and pages, until
    shop/cli.py and shop/web/__init__.py register them."""
    if "admin" not in app.blueprints:
        app.register_blueprint(admin.blueprint)
    for group in (staff_cli, orders_cli):
        if group.name not in app.cli.commands:
            app.cli.add_command(group)
    return app


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


_numbers = itertools.count(1)


def add_paid_order(
    session: Session,
    candidate: Candidate,
    *,
    physical: Sequence[str] = ("Printed certificate: Safety",),
    fee: bool = False,
    at: dt.datetime = NOW - dt.timedelta(days=1),
    status: OrderStatus = OrderStatus.PAID,
) -> Order:
    """An order as fulfilment leaves it: a Shipment per physical item, an Authorization per fee."""
    number = next(_numbers)
    items = [
        OrderItem(
            sku=f"print-{i}", kind="certificate_print", module="safety", name=name,
            unit_price_cents=2500, quantity=1, physical=True,
        )
        for i, name in enumerate(physical)
    ]  # fmt: skip
    if fee:
        items.append(
            OrderItem(
                sku="assessment-fee-safety", kind="assessment_fee", module="safety",
                name="Assessment fee: Safety", unit_price_cents=6000, quantity=1, physical=False,
            )
        )  # fmt: skip
    order = Order(
        public_id=f"ord_cli{number:04d}",
        candidate_id=candidate.id,
        status=status,
        total_cents=sum(item.unit_price_cents for item in items),
        payment_intent_id=f"pi_cli_{number}" if status != OrderStatus.PENDING else None,
        created_at=at,
        paid_at=at if status != OrderStatus.PENDING else None,
        updated_at=at,
        items=items,
    )
    session.add(order)
    session.flush()
    if status == OrderStatus.PAID:
        for item in order.items:
            if item.physical:
                session.add(Shipment(order_item_id=item.id, queued_at=at))
            else:
                session.add(
                    Authorization(
                        candidate_id=candidate.id, module="safety", granted_at=at,
                        source=f"order {order.public_id}", order_item_id=item.id,
                    )
                )  # fmt: skip
    session.flush()
    return order


def shipment_ids(app: Flask, order: Order) -> list[int]:
    with app.app_context():
        query = (
            select(Shipment.id)
            .join(Shipment.item)
            .where(OrderItem.order_id == order.id)
            .order_by(Shipment.id)
        )
        return list(db.session().scalars(query))


M = TypeVar("M", Candidate, Order, Shipment)


def reload(app: Flask, model: type[M], id: int) -> M:
    """The row as the database has it now."""
    with app.app_context():
        found = db.session().get(model, id)
        assert found is not None
        return found


def run(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=list(args))


@pytest.fixture
def ana(app: Flask) -> Candidate:
    with database(app) as session:
        return add_candidate(session, name="Ana Lopez", email="ana@example.com")


# -- staff grant / revoke ----------------------------------------------------------------------


def test_grant_and_revoke_the_staff_role(
    app: Flask, runner: FlaskCliRunner, ana: Candidate
) -> None:
    granted = run(runner, "staff", "grant", "ANA@example.com")
    assert granted.exit_code == 0, granted.output
    assert granted.output == "Ana Lopez <ana@example.com> is staff.\n"
    candidate = reload(app, Candidate, ana.id)
    assert candidate.is_staff

    again = run(runner, "staff", "grant", "ana@example.com")
    assert again.exit_code == 0

    revoked = run(runner, "staff", "revoke", "ana@example.com")
    assert revoked.exit_code == 0
    assert revoked.output == "Ana Lopez <ana@example.com> is no longer staff.\n"
    candidate = reload(app, Candidate, ana.id)
    assert not candidate.is_staff


@pytest.mark.parametrize("command", ["grant", "revoke"])
def test_an_unknown_address_exits_1_with_a_message(
    app: Flask, runner: FlaskCliRunner, ana: Candidate, command: str
) -> None:
    result = run(runner, "staff", command, "nobody@example.com")
    assert result.exit_code == 1
    assert "Error: No candidate has the address 'nobody@example.com'." in result.output
    assert "Traceback" not in result.output


# -- orders list / queue / ship ----------------------------------------------------------------


def test_list_every_order_or_one_status(app: Flask, runner: FlaskCliRunner, ana: Candidate) -> None:
    with database(app) as session:
        paid = add_paid_order(session, ana, at=NOW - dt.timedelta(days=2))
        pending = add_paid_order(session, ana, status=OrderStatus.PENDING)

    result = run(runner, "orders", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ORDER", "DATE", "STATUS", "TOTAL", "CANDIDATE", "ITEMS"]
    assert lines[1].split()[:5] == [pending.public_id, "2026-06-14", "pending", "$25.00", ana.email]
    assert lines[2].split()[:5] == [paid.public_id, "2026-06-13", "paid", "$25.00", ana.email]
    assert lines[-1] == "2 orders."

    only_paid = run(runner, "orders", "list", "--status", "paid")
    assert paid.public_id in only_paid.output and pending.public_id not in only_paid.output
    assert only_paid.output.endswith("1 paid order.\n")

    none = run(runner, "orders", "list", "--status", "refunded")
    assert none.output == "0 refunded orders.\n"

    bad = run(runner, "orders", "list", "--status", "lost")
    assert bad.exit_code == 2  # click's own usage error, naming the choices
    assert "'lost' is not one of" in bad.output


def test_queue_and_ship(app: Flask, runner: FlaskCliRunner, ana: Candidate) -> None:
    with database(app) as session:
        newer = add_paid_order(session, ana, physical=["Small arm patch"])
        older = add_paid_order(
            session, ana, physical=["Printed certificate: Safety"], at=NOW - dt.timedelta(days=4)
        )
    [older_id] = shipment_ids(app, older)
    [newer_id] = shipment_ids(app, newer)

    queue = run(runner, "orders", "queue")
    assert queue.exit_code == 0, queue.output
    lines = queue.output.splitlines()
    assert lines[0].split() == ["SHIPMENT", "QUEUED", "ORDER", "ITEM", "CANDIDATE"]
    assert lines[1].split()[:3] == [str(older_id), "2026-06-11", older.public_id]
    assert lines[2].split()[:3] == [str(newer_id), "2026-06-14", newer.public_id]
    assert lines[-1] == "2 items to ship."

    shipped = run(runner, "orders", "ship", str(older_id), "--note", " UPS 1Z999 ")
    assert shipped.exit_code == 0, shipped.output
    assert shipped.output == (
        f"Shipment {older_id} marked shipped on 2026-06-15: "
        f"Printed certificate: Safety (order {older.public_id}).\n"
    )
    shipment = reload(app, Shipment, older_id)
    assert (shipment.shipped_at, shipment.tracking_note) == (NOW, "UPS 1Z999")

    again = run(runner, "orders", "ship", str(older_id), "--note", "other")
    assert again.exit_code == 0
    assert "already marked shipped on 2026-06-15: nothing changed" in again.output
    shipment = reload(app, Shipment, older_id)
    assert shipment.tracking_note == "UPS 1Z999"

    after = run(runner, "orders", "queue")
    assert older.public_id not in after.output and newer.public_id in after.output
    assert after.output.endswith("1 item to ship.\n")


@pytest.mark.parametrize(
    ("shipment_id", "message"),
    [
        ("99999", "Error: No shipment has the id 99999."),
        ("abc", "Error: 'abc' is not a shipment id"),
    ],
)
def test_ship_a_bad_id_exits_1(
    app: Flask, runner: FlaskCliRunner, shipment_id: str, message: str
) -> None:
    result = run(runner, "orders", "ship", shipment_id)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_ship_a_note_too_long_exits_1(app: Flask, runner: FlaskCliRunner, ana: Candidate) -> None:
    with database(app) as session:
        order = add_paid_order(session, ana)
    [shipment_id] = shipment_ids(app, order)
    result = run(runner, "orders", "ship", str(shipment_id), "--note", "x" * 501)
    assert result.exit_code == 1
    assert "at most 500 fit" in result.output
    shipment = reload(app, Shipment, shipment_id)
    assert shipment.shipped_at is None


# -- orders refund -----------------------------------------------------------------------------


def test_refund(app: Flask, runner: FlaskCliRunner, ana: Candidate) -> None:
    with database(app) as session:
        order = add_paid_order(session, ana, fee=True)
    stripe = FakeStripe()
    app.extensions["payments.gateway"] = stripe

    result = run(runner, "orders", "refund", order.public_id, "--reason", "damaged in transit")
    assert result.exit_code == 0, result.output
    assert result.output == f"Order {order.public_id} refunded in full ($85.00).\n"
    with app.app_context():
        ids = "-".join(str(item.id) for item in db.session().get(Order, order.id).items)  # type: ignore[union-attr]
    key = f"refund-{order.public_id}-items-{ids}"
    assert stripe.calls == [(order.payment_intent_id, 8500, key)]
    after = reload(app, Order, order.id)
    assert after.status == OrderStatus.REFUNDED
    assert after.status_note == "Refunded in full: damaged in transit."
    with app.app_context():
        assert db.session().scalars(select(Authorization)).all() == []

    twice = run(runner, "orders", "refund", order.public_id, "--reason", "again")
    assert twice.exit_code == 1
    assert f"Error: Order {order.public_id} was already refunded" in twice.output
    assert len(stripe.calls) == 1


def test_refund_one_item_then_the_rest_and_show_each_items_state(
    app: Flask, runner: FlaskCliRunner, ana: Candidate
) -> None:
    with database(app) as session:
        order = add_paid_order(session, ana, fee=True)
    stripe = FakeStripe()
    app.extensions["payments.gateway"] = stripe

    shown = run(runner, "orders", "show", order.public_id)
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines() == [
        f"Order {order.public_id}: paid, $85.00, ana@example.com",
        "SKU                    PRICE   STATE",
        "print-0                $25.00  in the shipping queue",
        "assessment-fee-safety  $60.00  paid: assessment authorization given",
    ]

    one = run(runner, "orders", "refund", order.public_id, "--item", "print-0", "--reason", "lost")
    assert one.exit_code == 0, one.output
    assert one.output == (
        f"Order {order.public_id}: refunded Printed certificate: Safety ($25.00).\n"
    )
    assert [amount for _, amount, _ in stripe.calls] == [2500]
    assert reload(app, Order, order.id).status == OrderStatus.PAID
    listed = run(runner, "orders", "list")
    assert "paid, partly refunded" in listed.output

    unknown = run(runner, "orders", "refund", order.public_id, "--item", "patch", "--reason", "x")
    assert unknown.exit_code == 1
    assert (
        f"Error: Order {order.public_id} has no item 'patch': its items are "
        "print-0, assessment-fee-safety." in unknown.output
    )
    twice = run(runner, "orders", "refund", order.public_id, "--item", "print-0", "--reason", "x")
    assert twice.exit_code == 1
    assert "was already refunded on 2026-06-15: nothing more to refund." in twice.output

    rest = run(runner, "orders", "refund", order.public_id, "--reason", "changed their mind")
    assert rest.exit_code == 0, rest.output
    assert rest.output == (f"Order {order.public_id}: refunded Assessment fee: Safety ($60.00).\n")
    assert [amount for _, amount, _ in stripe.calls] == [2500, 6000]
    assert reload(app, Order, order.id).status == OrderStatus.REFUNDED
    shown = run(runner, "orders", "show", order.public_id)
    assert "print-0                $25.00  refunded 2026-06-15: lost" in shown.output
    assert "$60.00  refunded 2026-06-15: changed their mind" in shown.output


def test_refund_refusals_exit_1(app: Flask, runner: FlaskCliRunner, ana: Candidate) -> None:
    with database(app) as session:
        pending = add_paid_order(session, ana, status=OrderStatus.PENDING)
    stripe = FakeStripe()
    app.extensions["payments.gateway"] = stripe

    unknown = run(runner, "orders", "refund", "ord_nothing", "--reason", "x")
    assert unknown.exit_code == 1
    assert "Error: No order has the id 'ord_nothing'." in unknown.output

    not_paid = run(runner, "orders", "refund", pending.public_id, "--reason", "x")
    assert not_paid.exit_code == 1
    assert f"Order {pending.public_id} is pending, not paid: there is nothing to refund." in (
        not_paid.output
    )

    no_reason = run(runner, "orders", "refund", pending.public_id)
    assert no_reason.exit_code == 2  # click: "Missing option '--reason'"
    assert "--reason" in no_reason.output
    assert stripe.calls == []


def test_refund_stripe_refuses_exit_1_and_the_order_stays_paid(
    app: Flask, runner: FlaskCliRunner, ana: Candidate
) -> None:
    with database(app) as session:
        order = add_paid_order(session, ana, fee=True)
    app.extensions["payments.gateway"] = FakeStripe(error="No such payment_intent: 'pi_cli'")

    result = run(runner, "orders", "refund", order.public_id, "--reason", "duplicate")
    assert result.exit_code == 1
    assert (
        f"Error: Stripe did not refund order {order.public_id}, so nothing changed: "
        "No such payment_intent: 'pi_cli'" in result.output
    )
    assert "Traceback" not in result.output
    after = reload(app, Order, order.id)
    assert after.status == OrderStatus.PAID
    with app.app_context():
        assert len(db.session().scalars(select(Authorization)).all()) == 1
