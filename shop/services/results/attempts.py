"""Inserting a batch's new attempts, each using an unused assessment authorization."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from shop.models import Attempt, Authorization

from .record import ResultRecord, chunks

_ATTEMPT_TABLE = cast(Table, Attempt.__table__)  # a declarative model's table


def record_attempts(
    session: Session,
    new: Sequence[ResultRecord],
    candidate_ids: Mapping[str, int],
    now: dt.datetime,
    zone: ZoneInfo,
) -> int:
    """Insert the new attempts, oldest first, a chunk at a time; returns authorizations used.

    Each new attempt uses its candidate's oldest unused authorization for its module that was
    granted by the day it was taken (in `zone`). Rows go in with bulk INSERTs and no ORM object
    is kept for them, so a file of 200,000 rows costs the records it was read into and one
    chunk, not 200,000 tracked objects.
    """
    unused = _unused_authorizations(session, sorted({candidate_ids[r.candidate_id] for r in new}))
    used = 0
    for chunk in chunks(new):
        session.execute(
            insert(_ATTEMPT_TABLE),  # Core: no ORM bookkeeping per row
            [
                {
                    "reference": r.attempt_id,
                    "candidate_id": candidate_ids[r.candidate_id],
                    "module": r.module,
                    "taken_on": r.taken_on,
                    "score": r.score,
                    "passed": r.passed,
                    "kwa_scores": dict(r.kwa_scores),
                    "recorded_at": now,
                }
                for r in chunk
            ],
        )
        waiting = [r for r in chunk if unused.get((candidate_ids[r.candidate_id], r.module))]
        if not waiting:
            continue
        ids: dict[str, int] = {
            reference: attempt_id
            for reference, attempt_id in session.execute(
                select(Attempt.reference, Attempt.id).where(
                    Attempt.reference.in_([r.attempt_id for r in waiting])
                )
            )
        }
        for record in waiting:  # still oldest first
            queue = unused[(candidate_ids[record.candidate_id], record.module)]
            authorization = next(
                (a for a in queue if a.granted_at.astimezone(zone).date() <= record.taken_on),
                None,
            )
            if authorization is not None:
                queue.remove(authorization)
                authorization.used_by_attempt_id = ids[record.attempt_id]
                authorization.used_at = now
                used += 1
    return used


def _unused_authorizations(
    session: Session, candidate_ids: Sequence[int]
) -> dict[tuple[int, str], list[Authorization]]:
    """{(candidate id, module): unused authorizations, oldest first}, locked for this import."""
    unused: dict[tuple[int, str], list[Authorization]] = {}
    for chunk in chunks(candidate_ids):
        for authorization in session.scalars(
            select(Authorization)
            .where(
                Authorization.candidate_id.in_(chunk),
                Authorization.used_by_attempt_id.is_(None),
            )
            .order_by(Authorization.granted_at, Authorization.id)
            .with_for_update()
        ):
            unused.setdefault((authorization.candidate_id, authorization.module), []).append(
                authorization
            )
    return unused
