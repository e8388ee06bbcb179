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
    so the answer never tells a visitor whether an address is known; nor does the time it
    takes: an unknown address gets the same work (a token, of nobody's, stored; a message
    composed, and dropped), so both answers cost the same statements and about the same time.
    """
    candidate = find_by_email(session, email)
    token = secrets.token_urlsafe(32)
    session.add(
        SignInToken(
            candidate_id=candidate.id if candidate is not None else None,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    minutes = int(lifetime.total_seconds() // 60)
    name = candidate.name if candidate is not None else "there"
    body = (
        f"Hello {name},\n\n"
        f"Use this link to sign in to your {program_name} account. It works once, "
        f"within {minutes} minutes:\n\n{link_for(token)}\n\n"
        "If you did not ask to sign in, ignore this message: nothing happens without the link.\n"
    )
    to = candidate.email if candidate is not None else email.strip()
    message = compose(sender, to, f"Your {program_name} sign-in link", body)
    return message if candidate is not None else None


def redeem(session: Session, token: str, now: dt.datetime) -> Candidate | None:
    """The candidate a valid, unused, unexpired token belongs to; the token is used up.

    One conditional UPDATE both checks and spends the token, so two requests racing with the
    same link cannot both succeed.
    """
    spent = session.execute(
        update(SignInToken)
        .where(
            SignInToken.token_hash == _hash(token),
            SignInToken.candidate_id.is_not(None),  # an unknown address's token: nobody's
            SignInToken.used_at.is_(None),
            SignInToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInToken.candidate_id)
    ).first()
    if spent is None:
        return None
    return session.get(Candidate, spent.candidate_id)
