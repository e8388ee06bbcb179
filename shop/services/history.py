"""A candidate's history, read from the database into the domain's terms."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.domain.credentials import CredentialKind
from shop.domain.history import Attempt, History, Purchase
from shop.domain.program import ItemKind
from shop.models import Attempt as AttemptRow
from shop.models import Authorization, Credential, Order, OrderItem, OrderStatus

# Orders whose items count as bought: paid, or paid by a method that settles later.
BOUGHT = (OrderStatus.PAID, OrderStatus.PROCESSING)


def history_of(
    session: Session,
    candidate_id: int,
    *,
    excluding_order: int | None = None,
    time_zone: dt.tzinfo = dt.UTC,
) -> History:
    """Attempts, purchases, unused authorizations and revoked credentials.

    `excluding_order` leaves one order out: the order being decided on must not count
    against itself. An order still settling counts as bought from the day it was placed.
    A revocation is dated by the calendar of `time_zone` (the program's, for a page that
    shows the date: the verify page dates it so); no rule depends on that date.
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
        select(
            OrderItem.sku,
            OrderItem.kind,
            OrderItem.module,
            Order.status,
            Order.created_at,
            Order.paid_at,
        )
        .join(Order)
        .where(
            Order.candidate_id == candidate_id,
            Order.status.in_(BOUGHT),
            OrderItem.refunded_at.is_(None),  # a refunded line was not bought, in the end
            Order.id != (excluding_order if excluding_order is not None else -1),
        )
    )
    revoked = session.execute(
        select(Credential.kind, Credential.module, Credential.revoked_at).where(
            Credential.candidate_id == candidate_id, Credential.revoked_at.is_not(None)
        )
    ).all()
    return History(
        attempts=tuple(
            Attempt(a.reference, a.module, a.taken_on, a.passed, a.score) for a in attempts
        ),
        purchases=tuple(
            Purchase(
                row.sku,
                ItemKind(row.kind),
                row.module,
                (row.paid_at or row.created_at).date(),
                settling=row.status == OrderStatus.PROCESSING,
            )
            for row in bought
        ),
        unused_authorizations=frozenset(unused),
        revoked_modules={
            row.module: row.revoked_at.astimezone(time_zone).date()
            for row in revoked
            if row.kind == CredentialKind.MODULE_CERTIFICATE
        },
        full_certification_revoked_on=next(
            (
                row.revoked_at.astimezone(time_zone).date()
                for row in revoked
                if row.kind == CredentialKind.FULL_CERTIFICATION
            ),
            None,
        ),
    )
