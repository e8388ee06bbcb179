"""After payment: check eligibility once more, then fulfil the order, or refund it and say why.

Money that arrives for an order that can no longer take it (expired, failed, or paid or refunded
already by another payment) is refunded at once, and the order says why.

Every path here is idempotent per order: the webhook, its redeliveries and the success page
may all arrive, in any order and at the same time; the order's status moves forward once.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.domain.eligibility import eligibility
from shop.domain.program import ItemKind, Program
from shop.models import Authorization, Candidate, Order, OrderStatus, Shipment
from shop.services.history import history_of
from sitegen.render import money

from .checkout import describe_refusal
from .gateway import CheckoutSession
from .order_state import FORWARD, locked_order, move
from .refunds import Refunder, attend, refund_whole_payment

__all__ = ["FORWARD", "Refunder", "confirm_payment", "expire", "fail", "locked_order", "move"]

log = logging.getLogger(__name__)

# Why a payment that arrives for an order in this status cannot be kept.
TOO_LATE = {
    OrderStatus.EXPIRED: "the payment arrived after the checkout had expired",
    OrderStatus.FAILED: "the payment arrived after the order's payment had failed",
}


def order_for_session(session: Session, checkout: CheckoutSession) -> Order | None:
    order = locked_order(session, checkout_session_id=checkout.id)
    if order is None and checkout.metadata.get("order"):
        order = locked_order(session, public_id=checkout.metadata["order"])
    return order


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
    undecided = order.status in (OrderStatus.PENDING, OrderStatus.PROCESSING)
    if checkout.payment_intent_id and undecided:
        order.payment_intent_id = checkout.payment_intent_id
    if checkout.status == "complete" and order.status == OrderStatus.PENDING:
        order.status_note = None  # a declined card before this payment is past
    if checkout.payment_status != "paid":
        if checkout.status == "complete":
            move(order, OrderStatus.PROCESSING, now)
        return order
    if not undecided:
        _paid_when_decided(session, refunder, order, checkout, now)
        return order
    paid = checkout.amount_total_cents
    if paid is not None and paid != order.total_cents:
        # Never fulfil what was not paid for in full; this should not happen with server prices.
        why = "the amount paid did not match the order"
        refund_whole_payment(session, refunder, order, now, why, paid_cents=paid)
        return order
    if checkout.shipping:
        order.shipping_address = dict(checkout.shipping)
    refusal = _still_eligible(session, order, today, program)
    if refusal:
        refund_whole_payment(session, refunder, order, now, refusal, paid_cents=order.total_cents)
    else:
        _fulfil(session, order, now)
    return order


def _paid_when_decided(
    session: Session,
    refunder: Refunder,
    order: Order,
    checkout: CheckoutSession,
    now: dt.datetime,
) -> None:
    """A paid session for an order already decided: the same payment again changes nothing;
    any other payment (after the order expired or failed, or a second one for an order paid or
    refunded already) cannot be fulfilled, so it is refunded at once and the order says why."""
    intent = checkout.payment_intent_id
    decided_on_this_payment = order.status in (OrderStatus.PAID, OrderStatus.REFUNDED) and (
        intent == order.payment_intent_id
    )
    if intent is None or decided_on_this_payment:
        return  # a repeated or late message about the payment already decided on
    paid = checkout.amount_total_cents
    amount = money(paid) if paid is not None else "a payment"
    why = TOO_LATE.get(OrderStatus(order.status))
    if why is not None:
        # The order took no money before: this payment becomes its payment, refunded whole.
        order.payment_intent_id = intent
        refund_whole_payment(
            session, refunder, order, now, why, paid_cents=paid if paid is not None else 0
        )
        return
    refunder.refund_payment(intent, idempotency_key=f"refund-{checkout.id}")
    status = "paid" if order.status == OrderStatus.PAID else "refunded"
    note = (
        f"A second payment ({amount}) arrived for this order, already {status}: "
        "it was refunded in full."
    )
    if note not in (order.status_note or ""):
        order.status_note = " ".join(filter(None, [order.status_note, note]))[-500:]
        attend(order, f"{note} Stripe payment {intent}.")
    order.updated_at = now
    session.flush()


def _still_eligible(session: Session, order: Order, today: dt.date, program: Program) -> str:
    """Why the order may no longer be fulfilled, or "" when it may."""
    # Lock the candidate too: two orders of one person are decided one after the other.
    session.scalars(select(Candidate).where(Candidate.id == order.candidate_id).with_for_update())
    history = history_of(session, order.candidate_id, excluding_order=order.id)
    problems = []
    for line in order.unrefunded_items:
        decision = eligibility(history, program.item(line.sku), today, program)
        if not decision.allowed:
            problems.append(f"{line.name}: {describe_refusal(decision.reasons)}")
    return "; ".join(problems)


def _fulfil(session: Session, order: Order, now: dt.datetime) -> None:
    move(order, OrderStatus.PAID, now)
    order.paid_at = now
    for line in order.unrefunded_items:  # staff may refund a line while a payment settles
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
