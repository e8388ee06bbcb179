"""One-time sign-in links: ask for one by address, redeem it once within its lifetime."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shop.mail import compose
from shop.models import Candidate, SignInToken


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_email(session: Session, email: str) -> Candidate | None:
    address = email.strip().lower()
    return session.scalars(select(Candidate).where(func.lower(Candidate.email) == address)).first()


def issue_link(
    session: Session,
    email: str,
    now: dt.datetime,
    *,
    link_for: Callable[[str], str],
    lifetime: dt.timedelta,
    sender: str,
    program_name: str,
) -> EmailMessage | None:
    """A sign-in link for the address if it is on file: its token added to `session`, and
    the message to mail once the token is committed (None for an unknown address).

    Mailed after the commit, a link always works when it arrives; a mail server that is down
    leaves an unused token behind, which expires. The caller shows the same page either way,
    so the answer never tells a visitor whether an address is known.
    """
    candidate = find_by_email(session, email)
    if candidate is None:
        return None
    token = secrets.token_urlsafe(32)
    session.add(
        SignInToken(
            candidate_id=candidate.id,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    minutes = int(lifetime.total_seconds() // 60)
    body = (
        f"Hello {candidate.name},\n\n"
        f"Use this link to sign in to your {program_name} account. It works once, "
        f"within {minutes} minutes:\n\n{link_for(token)}\n\n"
        "If you did not ask to sign in, ignore this message: nothing happens without the link.\n"
    )
    return compose(sender, candidate.email, f"Your {program_name} sign-in link", body)


def redeem(session: Session, token: str, now: dt.datetime) -> Candidate | None:
    """The candidate a valid, unused, unexpired token belongs to; the token is used up.

    One conditional UPDATE both checks and spends the token, so two requests racing with the
    same link cannot both succeed.
    """
    spent = session.execute(
        update(SignInToken)
        .where(
            SignInToken.token_hash == _hash(token),
            SignInToken.used_at.is_(None),
            SignInToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInToken.candidate_id)
    ).first()
    if spent is None:
        return None
    return session.get(Candidate, spent.candidate_id)
