"""The tables of organisations (employers, schools): members, API keys, lookup counts.

A member is a person known by an email address, who signs in with the same one-time link as a
candidate: the address may also be a candidate's (a person can be both), or no candidate's
(an employer's HR officer). Membership is kept by address rather than by candidate row, so an
organisation never makes a candidate record that an assessment import would then collide with.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UtcDateTime


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # In URLs: not guessable, unlike the row id.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    members: Mapped[list[OrganisationMember]] = relationship(
        back_populates="organisation", order_by="OrganisationMember.email"
    )


class OrganisationMember(Base):
    __tablename__ = "organisation_member"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lowercased
    # Who added them: a member's or staff's address, or "cli:<user>".
    added_by: Mapped[str] = mapped_column(String(320))
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="members")


class OrganisationSignInToken(Base):
    """A one-time sign-in link for a member who is not a candidate; only a hash is stored."""

    __tablename__ = "organisation_sign_in_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class OrganisationApiKey(Base):
    """A key for POST /shop/api/org/verify: shown once, only its sha256 is stored."""

    __tablename__ = "organisation_api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # its first characters, to tell keys apart
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(320), default=None)


class OrganisationLookupCount(Base):
    """All that is kept of bulk verifications: how many ids an organisation looked up a day."""

    __tablename__ = "organisation_lookup_count"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
    ids: Mapped[int] = mapped_column(Integer)
