"""Signed-in sessions kept on the server: started by a sign-in link, checked on every request,
ended by signing out (this session) or "sign out everywhere" (every session of the account).

The cookie carries the session's key, signed by Flask; the database keeps only its hash, when
it started and whether it ended. A copy of a cookie is therefore as good as the session it
names, and no better: once that session ends, every copy is worthless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shop.models import AccountSession, Candidate


@dataclass(frozen=True, slots=True)
class Lifetime:
    """How long a session lasts: `idle` since its last request, `absolute` since sign-in."""

    idle: dt.timedelta
    absolute: dt.timedelta


@dataclass(frozen=True, slots=True)
class Lifetimes:
    candidate: Lifetime
    staff: Lifetime  # shorter: a staff session can refund, revoke and read everybody's orders

    def of(self, candidate: Candidate | None) -> Lifetime:
        """A staff member's, or anyone else's (an organisation member's is a candidate's)."""
        return self.staff if candidate is not None and candidate.is_staff else self.candidate


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(session: Session, candidate_id: int, now: dt.datetime) -> str:
    """A new session of the candidate, added to `session`; returns the key for the cookie."""
    return _start(session, AccountSession(candidate_id=candidate_id, started_at=now))


def start_member(session: Session, email: str, now: dt.datetime) -> str:
    """A new session of an organisation member who is no candidate, known by address."""
    return _start(session, AccountSession(member_email=email, started_at=now))


def _start(session: Session, account_session: AccountSession) -> str:
    key = secrets.token_urlsafe(32)
    account_session.key_hash = _hash(key)
    session.add(account_session)
    session.flush()
    return key


def find(session: Session, key: str) -> tuple[AccountSession, Candidate | None] | None:
    """The session a key names and its candidate (None for a member's), while not ended."""
    found = session.execute(
        select(AccountSession, Candidate)
        .outerjoin(Candidate, Candidate.id == AccountSession.candidate_id)
        .where(AccountSession.key_hash == _hash(key), AccountSession.ended_at.is_(None))
    ).first()
    return None if found is None else (found[0], found[1])


def is_current(
    started_at: dt.datetime, last_seen: dt.datetime, now: dt.datetime, lifetime: Lifetime
) -> bool:
    """Whether a session may still be used at `now`: it ends when it has been idle for
    `lifetime.idle`, and `lifetime.absolute` after it started, however busy."""
    return now - last_seen < lifetime.idle and now - started_at < lifetime.absolute


def end(session: Session, key: str, now: dt.datetime) -> None:
    """End the session the key names (every copy of its cookie with it)."""
    session.execute(
        update(AccountSession)
        .where(AccountSession.key_hash == _hash(key), AccountSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_all(
    session: Session, now: dt.datetime, *, candidate_id: int | None = None, member_email: str = ""
) -> int:
    """End every session of the candidate, or of the member's address, on every device;
    returns how many were open."""
    whose = (
        AccountSession.candidate_id == candidate_id
        if candidate_id is not None
        else AccountSession.member_email == member_email
    )
    result = session.execute(
        update(AccountSession).where(whose, AccountSession.ended_at.is_(None)).values(ended_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
