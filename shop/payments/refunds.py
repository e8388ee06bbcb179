"""Refunds per order line: by staff, made in Stripe's dashboard, or by the rules (a whole order).

A line is refunded whole or not at all, and refunding it withdraws what it gave: an unused
assessment authorization is deleted, a physical item leaves the shipping queue. What cannot be
taken back (an authorization an attempt has used, an item already shipped) is written on the
order for staff. An order is refunded once every line is; until then it stays paid for the rest.
Amounts are integer cents; the money moves through the refunder (shop.payments.gateway).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.models import ATTENTION_MAX, Attempt, Authorization, Order, OrderItem, OrderStatus
from sitegen.render import money

from .gateway import ChargeRefunds, PaymentError
from .order_state import locked_order, move

# Past this many unrefunded lines, a Stripe refund is matched only to all of them: looking
# through every subset takes 2**n sums (no order of ours is that long, one line per item).
SUBSET_SEARCH_MAX_LINES = 12


class Refunder(Protocol):
    def refund_payment(
        self, payment_intent_id: str, *, amount_cents: int | None = None, idempotency_key: str
    ) -> str: ...


def match_lines(amount_cents: int, lines: Mapping[int, int]) -> frozenset[int] | None:
    """The one set of lines (id: total in cents) whose totals add up to `amount_cents`; None
    when no set does, or when several do (two lines of the same price: which was it?)."""
    if amount_cents <= 0 or not lines:
        return None
    if len(lines) > SUBSET_SEARCH_MAX_LINES:
        everything = frozenset(lines)
        unambiguous = amount_cents == sum(lines.values()) and all(lines.values())
        return everything if unambiguous else None
    found = [
        frozenset(subset)
        for size in range(1, len(lines) + 1)
        for subset in itertools.combinations(lines, size)
        if sum(lines[i] for i in subset) == amount_cents
    ]
    return found[0] if len(found) == 1 else None


def refund_items(
    session: Session,
    refunder: Refunder,
    order: Order,
    items: Sequence[OrderItem],
    now: dt.datetime,
    why: str,
) -> None:
    """Refund these lines of a paid order through Stripe, and withdraw what they gave.

    The caller has locked the order (order_state.locked_order) and checked that the lines are
    the order's and not refunded yet. The idempotency key names the lines: a retry after a
    failure refunds them once.
    """
    if not order.payment_intent_id:
        raise PaymentError(f"order {order.public_id} names no payment to refund")
    amount = sum(item.total_cents for item in items)
    ids = "-".join(str(item.id) for item in sorted(items, key=lambda item: item.id))
    refunder.refund_payment(
        order.payment_intent_id,
        amount_cents=amount,
        idempotency_key=f"refund-{order.public_id}-items-{ids}",
    )
    order.refunded_cents += amount
    for item in items:
        _withdraw(session, order, item, now, why)
    _refunded_when_nothing_is_left(order, now, f"Refunded in full: {why}.")
    session.flush()


def refund_whole_payment(
    session: Session,
    refunder: Refunder,
    order: Order,
    now: dt.datetime,
    why: str,
    *,
    paid_cents: int,
) -> None:
    """Give back all of the order's payment (`paid_cents`, whatever it was) because the rules
    say it cannot be fulfilled; every line is refunded and the order says why."""
    if not order.payment_intent_id:
        raise PaymentError(f"order {order.public_id} was paid but names no payment to refund")
    refunder.refund_payment(order.payment_intent_id, idempotency_key=f"refund-{order.public_id}")
    order.refunded_cents = max(order.refunded_cents, paid_cents)
    for item in order.unrefunded_items:
        _withdraw(session, order, item, now, why)
    move(order, OrderStatus.REFUNDED, now, f"Refunded in full: {why}.")
    session.flush()


def apply_stripe_refunds(session: Session, refunds: ChargeRefunds, now: dt.datetime) -> None:
    """A `charge.refunded` event: Stripe has refunded `amount_refunded_cents` of the payment,
    in all, so far. What the shop did not refund itself (a refund made in Stripe's dashboard)
    is matched to whole lines when exactly one set of them adds up to it; otherwise the order
    is flagged for staff and no line changes. The amount is cumulative, so a redelivered or
    late event, or the echo of the shop's own refund, changes nothing.
    """
    order = locked_order(session, payment_intent_id=refunds.payment_intent_id)
    if order is None or refunds.amount_refunded_cents <= order.refunded_cents:
        return
    order.refunded_cents = refunds.amount_refunded_cents
    order.updated_at = now
    unexplained = order.refunded_cents - sum(item.refunded_cents for item in order.items)
    remaining = order.unrefunded_items
    if unexplained <= 0 or not remaining:
        return
    matched = match_lines(unexplained, {item.id: item.total_cents for item in remaining})
    if matched is None:
        left = "; ".join(f"{item.name} {money(item.total_cents)}" for item in remaining)
        attend(
            order,
            f"Stripe has refunded {money(order.refunded_cents)} of this payment in all: "
            f"{money(unexplained)} of it matches no set of whole items ({left}). "
            "No item was marked refunded: decide which it was for.",
        )
        return
    for item in remaining:
        if item.id in matched:
            _withdraw(session, order, item, now, "refunded by the program")
    _refunded_when_nothing_is_left(order, now, "Refunded in full by the program.")
    session.flush()


def attend(order: Order, matter: str) -> None:
    """Add a matter, one line, to what staff must look at on this order (newest kept)."""
    order.staff_attention = with_matter(order.staff_attention, matter)


def with_matter(attention: str | None, matter: str) -> str:
    """Staff's matters with one more line added, the oldest dropped past ATTENTION_MAX."""
    lines = [*(attention or "").splitlines(), " ".join(matter.split())]
    while len(lines) > 1 and len("\n".join(lines)) > ATTENTION_MAX:
        lines.pop(0)
    return "\n".join(lines)[-ATTENTION_MAX:]


def _withdraw(session: Session, order: Order, item: OrderItem, now: dt.datetime, why: str) -> None:
    """Mark the line refunded and take back what it gave, or tell staff why that cannot be."""
    item.refunded_cents = item.total_cents
    item.refunded_at = now
    item.refund_reason = why
    authorization = session.scalars(
        select(Authorization).where(Authorization.order_item_id == item.id)
    ).first()
    if authorization is not None and authorization.used_by_attempt_id is None:
        session.delete(authorization)
    elif authorization is not None:
        attempt = session.get(Attempt, authorization.used_by_attempt_id)
        sat = f" (attempt {attempt.reference} on {attempt.taken_on.isoformat()})" if attempt else ""
        attend(
            order,
            f"{item.name} was refunded, but its assessment authorization was already used"
            f"{sat}: the assessment was sat, so nothing was withdrawn.",
        )
    shipment = item.shipment
    if shipment is not None and shipment.shipped_at is not None:
        attend(
            order,
            f"{item.name} was refunded after it was shipped on "
            f"{shipment.shipped_at.date().isoformat()}: the candidate has it; ask for it back "
            "if it is to be returned.",
        )


def _refunded_when_nothing_is_left(order: Order, now: dt.datetime, note: str) -> None:
    if not order.unrefunded_items:
        move(order, OrderStatus.REFUNDED, now, note)
    else:
        order.updated_at = now
