"""A candidate's history, read from the database into the domain's terms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.domain.history import Attempt, History, Purchase
from shop.domain.program import ItemKind
from shop.models import Attempt as AttemptRow
from shop.models import Authorization, Order, OrderItem, OrderStatus

# Orders whose items count as bought: paid, or paid by a method that settles later.
BOUGHT = (OrderStatus.PAID, OrderStatus.PROCESSING)


def history_of(
    session: Session, candidate_id: int, *, excluding_order: int | None = None
) -> History:
    """Attempts, purchases and unused authorizations.

    `excluding_order` leaves one order out: the order being decided on must not count
    against itself.
    """
    # Columns, not entities: a page reads this on every request, and building ORM objects
    # (with each attempt's KWA scores) costs more than the query.
    attempts = session.execute(
        select(
            AttemptRow.reference,
            AttemptRow.module,
            AttemptRow.taken_on,
            AttemptRow.passed,
            AttemptRow.score,
        ).where(AttemptRow.candidate_id == candidate_id)
    )
    unused = session.scalars(
        select(Authorization.module).where(
            Authorization.candidate_id == candidate_id,
            Authorization.used_by_attempt_id.is_(None),
        )
    )
    bought = session.execute(
        select(OrderItem.sku, OrderItem.kind, OrderItem.module, Order.paid_at)
        .join(Order)
        .where(
            Order.candidate_id == candidate_id,
            Order.status.in_(BOUGHT),
            OrderItem.refunded_at.is_(None),  # a refunded line was not bought, in the end
            Order.id != (excluding_order if excluding_order is not None else -1),
        )
    )
    return History(
        attempts=tuple(
            Attempt(a.reference, a.module, a.taken_on, a.passed, a.score) for a in attempts
        ),
        purchases=tuple(
            Purchase(row.sku, ItemKind(row.kind), row.module, row.paid_at.date())
            for row in bought
            if row.paid_at is not None
        ),
        unused_authorizations=frozenset(unused),
    )
