"""Issuing credentials: each one the rules say a candidate holds gets a row and a verify id."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.domain import verify_id
from shop.domain.credentials import credentials
from shop.domain.program import Program
from shop.models import Candidate, Credential, CredentialEvent

from .history import history_of

RandomBits = Callable[[int], int]


def issue_credentials(
    session: Session,
    candidate_id: int,
    *,
    now: dt.datetime,
    program: Program,
    random_bits: RandomBits = secrets.randbits,
) -> list[Credential]:
    """Create the rows of credentials newly earned; return all of the candidate's, in order.

    Idempotent: a credential already issued keeps its row, its verify id and its status.
    Runs in the caller's transaction; two racing calls meet the unique key on
    (candidate, kind, module), and the loser's transaction fails and can simply be retried.
    """
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise LookupError(f"no candidate {candidate_id}")
    existing = {
        (c.kind, c.module): c
        for c in session.scalars(select(Credential).where(Credential.candidate_id == candidate_id))
    }
    for held in credentials(history_of(session, candidate_id), program):
        key = (held.kind.value, held.module or "")
        if key in existing:
            continue
        credential = Credential(
            verify_id=verify_id.make(random_bits(80)),
            candidate_id=candidate_id,
            kind=held.kind.value,
            module=held.module or "",
            earned_on=held.earned_on,
            holder_name=candidate.name,
            issued_at=now,
            edition=1,
        )
        session.add(credential)
        session.flush()
        session.add(CredentialEvent(credential_id=credential.id, action="issued", at=now))
        existing[key] = credential
    session.flush()
    order = {m.id: i for i, m in enumerate(program.modules)}
    return sorted(
        existing.values(),
        key=lambda c: (c.kind != "module_certificate", order.get(c.module, len(order))),
    )
