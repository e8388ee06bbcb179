"""Staff work: the staff role, the orders, the shipping queue and refunds.

Each function takes the session, the time and the refunder it needs; none commits. The caller
(a page or a command) owns the transaction, so a refund Stripe refuses leaves nothing behind.
Problems a person can fix are raised as `StaffError`, with a message to show as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from shop.models import Candidate, Order, OrderItem, OrderStatus, Shipment
from shop.payments.order_state import locked_order
from shop.payments.refunds import Refunder, refund_items
from shop.services.signin import find_by_email

NOTE_MAX = 500  # Shipment.tracking_note's column
REASON_MAX = 400  # fits in Order.status_note with the words a full refund puts around it
# Orders whose lines may be refunded: money was taken, or is being taken.
REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.PROCESSING})


class StaffError(Exception):
    """A staff action that cannot be done; the message says why, in words to show."""


class NotFound(StaffError):
    """The candidate, order or shipment named does not exist."""


# -- the staff role ----------------------------------------------------------------------------


def grant_staff(session: Session, email: str) -> Candidate:
    """Make the candidate with this address staff (again: no change)."""
    candidate = _candidate(session, email)
    candidate.is_staff = True
    session.flush()
    return candidate


def revoke_staff(session: Session, email: str) -> Candidate:
    """Take the staff role from the candidate with this address (if not staff: no change)."""
    candidate = _candidate(session, email)
    candidate.is_staff = False
    session.flush()
    return candidate


def _candidate(session: Session, email: str) -> Candidate:
    candidate = find_by_email(session, email)
    if candidate is None:
        raise NotFound(f"No candidate has the address {email.strip()!r}.")
    return candidate


# -- orders ------------------------------------------------------------------------------------


def statuses() -> list[str]:
    return [status.value for status in OrderStatus]


def list_orders(session: Session, status: str | None = None) -> list[Order]:
    """Every order, newest first, with its candidate and items; only `status` when given."""
    if status is not None and status not in statuses():
        raise StaffError(f"Unknown order status {status!r}: use one of {', '.join(statuses())}.")
    query = (
        select(Order)
        .options(joinedload(Order.candidate), selectinload(Order.items))
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    if status is not None:
        query = query.where(Order.status == status)
    return list(session.scalars(query))


def find_order(session: Session, public_id: str) -> Order | None:
    """One order with its candidate, items and their shipments."""
    query = (
        select(Order)
        .where(Order.public_id == public_id)
        .options(
            joinedload(Order.candidate),
            selectinload(Order.items).joinedload(OrderItem.shipment),
        )
    )
    return session.scalars(query).first()


def line_state(item: OrderItem) -> str:
    """The line's state in words, for a terminal."""
    shipment = item.shipment
    shipped = shipment.shipped_at.date().isoformat() if shipment and shipment.shipped_at else ""
    match item.state:
        case "refunded":
            assert item.refunded_at is not None
            after = f", after it was shipped on {shipped}" if shipped else ""
            return f"refunded {item.refunded_at.date().isoformat()}{after}: {item.refund_reason}"
        case "shipped":
            note = shipment.tracking_note if shipment else None
            return f"shipped {shipped}: {note}" if note else f"shipped {shipped}"
        case "queued":
            return "in the shipping queue"
        case "not-queued":
            return "paid, not queued"
        case "authorization":
            return "paid: assessment authorization given"
        case "paid":
            return "paid"
    return f"order {item.order.status}"


# -- shipping ----------------------------------------------------------------------------------


def shipping_queue(session: Session) -> list[Shipment]:
    """Physical items of paid orders still to ship, oldest first, with their order and candidate.

    A refunded line leaves the queue (and a refunded order's every line): it is not to be sent.
    """
    query = (
        select(Shipment)
        .join(Shipment.item)
        .join(OrderItem.order)
        .where(
            Shipment.shipped_at.is_(None),
            Order.status == OrderStatus.PAID,
            OrderItem.refunded_at.is_(None),
        )
        .options(joinedload(Shipment.item).joinedload(OrderItem.order).joinedload(Order.candidate))
        .order_by(Shipment.queued_at, Shipment.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class Shipped:
    shipment: Shipment
    already: bool  # it had been marked shipped before: nothing changed


def mark_shipped(session: Session, shipment_id: int, note: str | None, now: dt.datetime) -> Shipped:
    """Mark a physical item shipped, with an optional tracking note the candidate sees.

    Idempotent: a shipment marked shipped keeps its first date and note.
    """
    text = (note or "").strip()
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise StaffError("The tracking note has a control character in it.")
    if len(text) > NOTE_MAX:
        raise StaffError(
            f"The tracking note is {len(text)} characters long: at most {NOTE_MAX} fit."
        )
    shipment = session.scalars(
        select(Shipment).where(Shipment.id == shipment_id).with_for_update()
    ).first()
    if shipment is None:
        raise NotFound(f"No shipment has the id {shipment_id}.")
    if shipment.shipped_at is not None:
        return Shipped(shipment, already=True)
    order = shipment.item.order
    if order.status != OrderStatus.PAID:
        raise StaffError(
            f"Order {order.public_id} is {order.status}, not paid: do not ship its items."
        )
    if shipment.item.refunded_at is not None:
        raise StaffError(
            f"{shipment.item.name} of order {order.public_id} was refunded on "
            f"{shipment.item.refunded_at.date().isoformat()}: do not ship it."
        )
    shipment.shipped_at = now
    shipment.tracking_note = text or None
    session.flush()
    return Shipped(shipment, already=False)


# -- refunds -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refunded:
    order: Order
    items: list[OrderItem]  # the lines refunded now

    @property
    def amount_cents(self) -> int:
        return sum(item.total_cents for item in self.items)


def refund(
    session: Session,
    refunder: Refunder,
    order_public_id: str,
    reason: str,
    now: dt.datetime,
    *,
    item_id: int | None = None,
) -> Refunded:
    """Refund one line of a paid order (`item_id`), or every line not refunded yet, through the
    refunder (Stripe), withdrawing what they gave; the order keeps its other lines.

    The order is locked first, so two staff refunding at once refund once. Raises
    `gateway.PaymentError` when Stripe refuses or cannot be reached: the caller rolls back and
    the order stays as it was.
    """
    why = reason.strip().rstrip(".").strip()
    if any(ord(c) < 32 and c not in "\t\n\r" for c in why):
        raise StaffError("The reason has a control character in it.")
    if not why:
        raise StaffError("Give a reason for the refund: the candidate reads it on the order.")
    if len(why) > REASON_MAX:
        raise StaffError(f"The reason is {len(why)} characters long: at most {REASON_MAX} fit.")
    order = locked_order(session, public_id=order_public_id)
    if order is None:
        raise NotFound(f"No order has the id {order_public_id!r}.")
    if order.status == OrderStatus.REFUNDED:
        raise StaffError(f"Order {order.public_id} was already refunded: nothing more to refund.")
    if order.status not in REFUNDABLE:
        raise StaffError(
            f"Order {order.public_id} is {order.status}, not paid: there is nothing to refund."
        )
    items = order.unrefunded_items if item_id is None else [_line(order, item_id)]
    refund_items(session, refunder, order, items, now, why)
    return Refunded(order, items)


def clear_attention(session: Session, order_public_id: str, now: dt.datetime) -> Order:
    """Staff have dealt with what the order asked them to look at: the flag goes."""
    order = locked_order(session, public_id=order_public_id)
    if order is None:
        raise NotFound(f"No order has the id {order_public_id!r}.")
    if order.staff_attention is not None:
        order.staff_attention = None
        order.updated_at = now
        session.flush()
    return order


def _line(order: Order, item_id: int) -> OrderItem:
    """The order's line `item_id`, not refunded yet."""
    item = next((item for item in order.items if item.id == item_id), None)
    if item is None:
        raise StaffError(f"Order {order.public_id} has no item {item_id}: nothing was refunded.")
    if item.refunded_at is not None:
        raise StaffError(
            f"{item.name} of order {order.public_id} was already refunded on "
            f"{item.refunded_at.date().isoformat()}: nothing more to refund."
        )
    return item
