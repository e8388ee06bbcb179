"""An order's status and how it moves: forward only, once, under a row lock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.models import Order, OrderStatus

# Where an order may go from each status; anything else is a late or repeated message. An
# order that took no money (expired, failed) is refunded when a payment for it arrives late.
FORWARD: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PROCESSING, OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.EXPIRED,
         OrderStatus.FAILED}
    ),
    OrderStatus.PROCESSING: frozenset({OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.FAILED}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.REFUNDED: frozenset(),
    OrderStatus.EXPIRED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.FAILED: frozenset({OrderStatus.REFUNDED}),
}  # fmt: skip


def locked_order(session: Session, **where: Any) -> Order | None:
    """The order, locked for this transaction (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE
    already serialises writers), so concurrent deliveries decide one after the other."""
    query = select(Order).filter_by(**where).with_for_update()
    return session.scalars(query).first()


def move(order: Order, status: OrderStatus, now: dt.datetime, note: str | None = None) -> bool:
    """Move the order to `status` if that is forward from where it is; False if not."""
    if status not in FORWARD[order.status]:
        return False
    order.status = status
    order.updated_at = now
    if note is not None:
        order.status_note = note
    return True
