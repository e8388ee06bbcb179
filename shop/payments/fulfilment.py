"""After payment: check eligibility once more, then fulfil the order, or refund it and say why.

Every path here is idempotent per order: the webhook, its redeliveries and the success page
may all arrive, in any order and at the same time; the order's status moves forward once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.domain.eligibility import eligibility
from shop.domain.program import ItemKind, Program
from shop.models import Authorization, Candidate, Order, OrderStatus, Shipment
from shop.services.history import history_of

from .checkout import describe_refusal
from .gateway import CheckoutSession, PaymentError

log = logging.getLogger(__name__)

# Where an order may go from each status; anything else is a late or repeated message.
FORWARD: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PROCESSING, OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.EXPIRED,
         OrderStatus.FAILED}
    ),
    OrderStatus.PROCESSING: frozenset({OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.FAILED}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.REFUNDED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.FAILED: frozenset(),
}  # fmt: skip


class Refunder(Protocol):
    def refund_payment(self, payment_intent_id: str, *, idempotency_key: str) -> str: ...


def locked_order(session: Session, **where: Any) -> Order | None:
    """The order, locked for this transaction (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE
    already serialises writers), so concurrent deliveries decide one after the other."""
    query = select(Order).filter_by(**where).with_for_update()
    return session.scalars(query).first()


def order_for_session(session: Session, checkout: CheckoutSession) -> Order | None:
    order = locked_order(session, checkout_session_id=checkout.id)
    if order is None and checkout.metadata.get("order"):
        order = locked_order(session, public_id=checkout.metadata["order"])
    return order


def move(order: Order, status: OrderStatus, now: dt.datetime, note: str | None = None) -> bool:
    if status not in FORWARD[order.status]:
        return False
    order.status = status
    order.updated_at = now
    if note is not None:
        order.status_note = note
    return True


def confirm_payment(
    session: Session,
    refunder: Refunder,
    checkout: CheckoutSession,
    *,
    now: dt.datetime,
    today: dt.date,
    program: Program,
) -> Order | None:
    """Record a Checkout Session's outcome on its order; fulfil or refund when it is paid."""
    order = order_for_session(session, checkout)
    if order is None:
        log.warning("checkout session %s names no order of ours", checkout.id)
        return None
    if checkout.payment_intent_id:
        order.payment_intent_id = checkout.payment_intent_id
    if checkout.status == "complete" and order.status == OrderStatus.PENDING:
        order.status_note = None  # a declined card before this payment is past
    if checkout.payment_status != "paid":
        if checkout.status == "complete":
            move(order, OrderStatus.PROCESSING, now)
        return order
    if order.status not in (OrderStatus.PENDING, OrderStatus.PROCESSING):
        return order  # already decided: a repeated or late message
    if checkout.amount_total_cents is not None and checkout.amount_total_cents != order.total_cents:
        # Never fulfil what was not paid for in full; this should not happen with server prices.
        _refund(session, refunder, order, now, "the amount paid did not match the order")
        return order
    if checkout.shipping:
        order.shipping_address = dict(checkout.shipping)
    refusal = _still_eligible(session, order, today, program)
    if refusal:
        _refund(session, refunder, order, now, refusal)
    else:
        _fulfil(session, order, now)
    return order


def _still_eligible(session: Session, order: Order, today: dt.date, program: Program) -> str:
    """Why the order may no longer be fulfilled, or "" when it may."""
    # Lock the candidate too: two orders of one person are decided one after the other.
    session.scalars(select(Candidate).where(Candidate.id == order.candidate_id).with_for_update())
    history = history_of(session, order.candidate_id, excluding_order=order.id)
    problems = []
    for line in order.items:
        decision = eligibility(history, program.item(line.sku), today, program)
        if not decision.allowed:
            problems.append(f"{line.name}: {describe_refusal(decision.reasons)}")
    return "; ".join(problems)


def _fulfil(session: Session, order: Order, now: dt.datetime) -> None:
    move(order, OrderStatus.PAID, now)
    order.paid_at = now
    for line in order.items:
        if line.kind == ItemKind.ASSESSMENT_FEE:
            session.add(
                Authorization(
                    candidate_id=order.candidate_id,
                    module=line.module,
                    granted_at=now,
                    source=f"order {order.public_id}",
                    order_item_id=line.id,
                )
            )
        elif line.physical:
            session.add(Shipment(order_item_id=line.id, queued_at=now))
    session.flush()


def _refund(session: Session, refunder: Refunder, order: Order, now: dt.datetime, why: str) -> None:
    if not order.payment_intent_id:
        raise PaymentError(f"order {order.public_id} was paid but names no payment to refund")
    refunder.refund_payment(order.payment_intent_id, idempotency_key=f"refund-{order.public_id}")
    move(order, OrderStatus.REFUNDED, now, f"Refunded in full: {why}.")
    session.flush()


def refund_order(
    session: Session, refunder: Refunder, order: Order, now: dt.datetime, why: str
) -> None:
    """Staff refund of a paid order: the money goes back and what it gave is withdrawn."""
    if order.status not in (OrderStatus.PAID, OrderStatus.PROCESSING):
        raise ValueError(f"order {order.public_id} is {order.status}: there is nothing to refund")
    for line in order.items:
        authorization = session.scalars(
            select(Authorization).where(Authorization.order_item_id == line.id)
        ).first()
        if authorization is not None and authorization.used_by_attempt_id is None:
            session.delete(authorization)
    _refund(session, refunder, order, now, why)


def expire(session: Session, checkout: CheckoutSession, now: dt.datetime) -> Order | None:
    """An unpaid session expired: release its order."""
    order = order_for_session(session, checkout)
    if order is not None:
        move(order, OrderStatus.EXPIRED, now, "The checkout expired before payment.")
    return order


def declined(session: Session, order_ref: str, why: str, now: dt.datetime) -> Order | None:
    """A card was declined on the pay page: the session stays open and the order waiting for
    payment; its note says so (the only note a pending order has), until a payment succeeds."""
    order = locked_order(session, public_id=order_ref)
    if order is not None and order.status == OrderStatus.PENDING:
        order.status_note = f"The payment was declined: {why}"[:500]
        order.updated_at = now
    return order


def fail(session: Session, checkout: CheckoutSession, now: dt.datetime) -> Order | None:
    """A delayed payment failed: nothing was bought."""
    order = order_for_session(session, checkout)
    if order is not None:
        move(order, OrderStatus.FAILED, now, "The payment did not go through.")
    return order


def refunded_elsewhere(session: Session, payment_intent_id: str, now: dt.datetime) -> None:
    """A refund made in Stripe's dashboard: mark the order refunded too."""
    order = locked_order(session, payment_intent_id=payment_intent_id)
    if order is not None:
        move(order, OrderStatus.REFUNDED, now, "Refunded by the program.")
