"""Organisations and their members: staff create them and add the first member; a member adds
and removes others (never the last one); members sign in with a one-time link, like candidates.

Every function takes the session and the time; none commits (the caller's transaction does).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from email.message import EmailMessage

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shop.mail import compose
from shop.models import Candidate
from shop.models_organisations import (
    Organisation,
    OrganisationApiKey,
    OrganisationMember,
    OrganisationSignInToken,
)

MAX_NAME = 200
API_KEY_PREFIX = "cptorg_"


class OrganisationError(ValueError):
    """A request about an organisation that cannot be done, in words for the person asking."""


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_email(value: str) -> str:
    """The address lowercased, or OrganisationError saying why it is not one."""
    address = value.strip().lower()
    if len(address) > 254:
        raise OrganisationError("An email address has at most 254 characters.")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise OrganisationError(
            f"{value.strip()!r} is not an email address like name@example.com."
        ) from None
    return address


def create(
    session: Session, name: str, contact_email: str, first_member: str, *, by: str, now: dt.datetime
) -> Organisation:
    """A new organisation with its first member."""
    name = " ".join(name.split())
    if not name:
        raise OrganisationError("Give the organisation a name.")
    if len(name) > MAX_NAME or "\x00" in name:
        raise OrganisationError(f"A name has at most {MAX_NAME} printable characters.")
    contact = clean_email(contact_email)
    member = clean_email(first_member)
    organisation = Organisation(
        public_id=secrets.token_hex(8), name=name, contact_email=contact, created_at=now
    )
    session.add(organisation)
    session.flush()
    session.add(
        OrganisationMember(organisation_id=organisation.id, email=member, added_by=by, added_at=now)
    )
    session.flush()
    return organisation


def by_public_id(session: Session, public_id: str) -> Organisation | None:
    return session.scalars(select(Organisation).where(Organisation.public_id == public_id)).first()


def all_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def memberships(session: Session, email: str) -> list[Organisation]:
    """The organisations the address is a member of, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .join(OrganisationMember)
            .where(OrganisationMember.email == email.strip().lower())
            .order_by(Organisation.name)
        )
    )


def is_member(session: Session, organisation: Organisation, email: str) -> bool:
    found = session.scalars(
        select(OrganisationMember.id).where(
            OrganisationMember.organisation_id == organisation.id,
            OrganisationMember.email == email.strip().lower(),
        )
    ).first()
    return found is not None


def add_member(
    session: Session, organisation: Organisation, email: str, *, by: str, now: dt.datetime
) -> OrganisationMember:
    address = clean_email(email)
    if is_member(session, organisation, address):
        raise OrganisationError(f"{address} is already a member of {organisation.name}.")
    member = OrganisationMember(
        organisation_id=organisation.id, email=address, added_by=by, added_at=now
    )
    session.add(member)
    session.flush()
    return member


def remove_member(session: Session, organisation: Organisation, email: str) -> None:
    """Remove a member; the last one stays, so an organisation is never left without one."""
    address = email.strip().lower()
    # Locked, so two members removing each other at once cannot both succeed (PostgreSQL;
    # SQLite's write lock serialises the transactions already).
    members = list(
        session.scalars(
            select(OrganisationMember)
            .where(OrganisationMember.organisation_id == organisation.id)
            .with_for_update()
        )
    )
    target = next((m for m in members if m.email == address), None)
    if target is None:
        raise OrganisationError(f"{address} is not a member of {organisation.name}.")
    if len(members) == 1:
        raise OrganisationError(
            f"{address} is the last member of {organisation.name}: add another member first."
        )
    session.delete(target)
    session.flush()


def member_by_id(
    session: Session, organisation: Organisation, member_id: int
) -> OrganisationMember | None:
    """The member of this organisation with the id; None for another organisation's."""
    return session.scalars(
        select(OrganisationMember).where(
            OrganisationMember.id == member_id,
            OrganisationMember.organisation_id == organisation.id,
        )
    ).first()


# -- API keys ----------------------------------------------------------------------------------


def create_api_key(
    session: Session, organisation: Organisation, *, by: str, now: dt.datetime
) -> tuple[OrganisationApiKey, str]:
    """A new key and its secret, which is never stored: show it once."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = OrganisationApiKey(
        organisation_id=organisation.id,
        key_hash=_sha256(secret),
        prefix=secret[: len(API_KEY_PREFIX) + 6],
        created_by=by,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, secret


def api_keys(session: Session, organisation: Organisation) -> list[OrganisationApiKey]:
    return list(
        session.scalars(
            select(OrganisationApiKey)
            .where(OrganisationApiKey.organisation_id == organisation.id)
            .order_by(OrganisationApiKey.created_at, OrganisationApiKey.id)
        )
    )


def revoke_api_key(
    session: Session, organisation: Organisation, key_id: int, *, by: str, now: dt.datetime
) -> OrganisationApiKey | None:
    """Revoke this organisation's key; None if it has no key with that id."""
    key = session.scalars(
        select(OrganisationApiKey).where(
            OrganisationApiKey.id == key_id,
            OrganisationApiKey.organisation_id == organisation.id,
        )
    ).first()
    if key is not None and key.revoked_at is None:
        key.revoked_at, key.revoked_by = now, by
        session.flush()
    return key


def organisation_of_key(session: Session, secret: str) -> Organisation | None:
    """The organisation a presented, unrevoked key belongs to."""
    if not secret.startswith(API_KEY_PREFIX):
        return None
    return session.scalars(
        select(Organisation)
        .join(OrganisationApiKey)
        .where(
            OrganisationApiKey.key_hash == _sha256(secret),
            OrganisationApiKey.revoked_at.is_(None),
        )
    ).first()


# -- signing in --------------------------------------------------------------------------------


def is_any_member(session: Session, email: str) -> bool:
    found = session.scalars(
        select(OrganisationMember.id).where(OrganisationMember.email == email.strip().lower())
    ).first()
    return found is not None


def issue_member_link(
    session: Session,
    email: str,
    now: dt.datetime,
    *,
    link_for: Callable[[str], str],
    lifetime: dt.timedelta,
    sender: str,
    program_name: str,
) -> EmailMessage | None:
    """A sign-in link for a member who is not a candidate (a candidate's link serves both);
    None when the address is no member's. Like shop.services.signin.issue_link otherwise."""
    address = email.strip().lower()
    is_candidate = session.scalars(
        select(Candidate.id).where(func.lower(Candidate.email) == address)
    ).first()
    # Both questions asked whatever the answers, so that an address on file as a candidate and
    # one on file nowhere cost the same statements (see shop.services.signin.issue_link).
    is_member = is_any_member(session, address)
    if is_candidate is not None or not is_member:
        return None
    token = secrets.token_urlsafe(32)
    session.add(
        OrganisationSignInToken(
            email=address, token_hash=_sha256(token), created_at=now, expires_at=now + lifetime
        )
    )
    session.flush()
    minutes = int(lifetime.total_seconds() // 60)
    body = (
        "Hello,\n\n"
        f"Use this link to sign in to your organisation's {program_name} account. It works "
        f"once, within {minutes} minutes:\n\n{link_for(token)}\n\n"
        "If you did not ask to sign in, ignore this message: nothing happens without the link.\n"
    )
    return compose(sender, address, f"Your {program_name} sign-in link", body)


def redeem_member_link(session: Session, token: str, now: dt.datetime) -> str | None:
    """The member address a valid, unused, unexpired member token was for; the token is used
    up by one conditional UPDATE, so two racing requests cannot both succeed."""
    spent = session.execute(
        update(OrganisationSignInToken)
        .where(
            OrganisationSignInToken.token_hash == _sha256(token),
            OrganisationSignInToken.used_at.is_(None),
            OrganisationSignInToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(OrganisationSignInToken.email)
    ).first()
    return None if spent is None else str(spent.email)
