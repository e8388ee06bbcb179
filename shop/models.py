"""The shop's tables (SQLAlchemy 2). Rules do not live here: see shop/domain/."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UtcDateTime


class Candidate(Base):
    """A person known to the assessment system; staff are candidates with `is_staff`."""

    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The assessment system's id for this person: results name candidates by it.
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # When staff last reissued this person's credentials in a new name (a name change seen on
    # papers). From then on the name is the shop's: results imports keep it, whatever name
    # the assessment system still sends, so no credential goes back to the old name.
    name_set_by_staff_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The result record the name and email were last taken from: its date and attempt id. An
    # import takes them only from a newer record (a later date, or the same date and a greater
    # attempt id), so results sent again, or an older file, never roll them back. NULL: no
    # record has set them (a candidate added by hand).
    details_from_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True, default=None)
    details_from_attempt: Mapped[str | None] = mapped_column(
        String(64), nullable=True, default=None
    )

    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="candidate", order_by="(Attempt.taken_on, Attempt.reference)"
    )
    authorizations: Mapped[list[Authorization]] = relationship(back_populates="candidate")


class Attempt(Base):
    """One assessment result, as the assessment system reported it."""

    __tablename__ = "attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)  # the attempt id
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    module: Mapped[str] = mapped_column(String(32))
    taken_on: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    kwa_scores: Mapped[dict[str, Any]] = mapped_column(JSON)  # {kwa slug: percent}
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    candidate: Mapped[Candidate] = relationship(back_populates="attempts")


class Authorization(Base):
    """The right to sit one assessment of a module, given by a paid assessment fee."""

    __tablename__ = "authorization"
    __table_args__ = (
        # A candidate holds at most one unused authorization per module.
        Index(
            "uq_authorization_unused_per_module",
            "candidate_id",
            "module",
            unique=True,
            sqlite_where=text("used_by_attempt_id IS NULL"),
            postgresql_where=text("used_by_attempt_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    module: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Where it came from, in words (an order, or a note by staff).
    source: Mapped[str] = mapped_column(String(200))
    order_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_item.id"), unique=True, default=None
    )
    used_by_attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("attempt.id"), unique=True, default=None
    )
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)

    candidate: Mapped[Candidate] = relationship(back_populates="authorizations")


class SignInToken(Base):
    """A one-time sign-in link; only a hash of its secret is stored.

    A token of nobody's (no candidate) is stored when an address that is not on file asks for
    a link: the same work as for a known one, and it can sign nobody in.
    """

    __tablename__ = "sign_in_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class AccountSession(Base):
    """A signed-in session, kept on the server: the cookie holds its key (only a hash is
    stored), and signing out ends it, so a copy of the cookie stops working too."""

    __tablename__ = "account_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A candidate's session, or an organisation member's who is no candidate (by address).
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidate.id"), index=True, default=None
    )
    member_email: Mapped[str | None] = mapped_column(String(254), index=True, default=None)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class ResultsImport(Base):
    """A batch of results that recorded something new (CSV or API), kept for audit."""

    __tablename__ = "results_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(300))  # a file name or "api"
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the records, for idempotence
    records: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ApiRequest(Base):
    """A results API request that was recorded, known by its signature: the same request again,
    while its timestamp would still be accepted, is a replay and is refused."""

    __tablename__ = "api_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The hex HMAC signature: it covers the timestamp and the body, so it names one request.
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


ATTENTION_MAX = 2000  # Order.staff_attention's column


class OrderStatus(enum.StrEnum):
    PENDING = "pending"  # checkout started, not paid yet
    PROCESSING = "processing"  # paid by a method that settles later
    PAID = "paid"  # paid and fulfilled (some lines may have been refunded since)
    REFUNDED = "refunded"  # paid, then every line refunded (by staff, in Stripe, or by the rules)
    EXPIRED = "expired"  # the checkout session expired unpaid: the order is released
    FAILED = "failed"  # a delayed payment failed


class Order(Base):
    """A candidate's purchase; its lines are priced by the server from the catalogue."""

    __tablename__ = "shop_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Shown to people and sent to Stripe; not guessable, unlike the row id.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    total_cents: Mapped[int] = mapped_column(Integer)
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), default=None)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Why it was refunded or failed, in words the candidate can read.
    status_note: Mapped[str | None] = mapped_column(String(500), default=None)
    # How much of its payment Stripe has refunded, as far as the shop knows (Stripe's
    # cumulative amount_refunded); more than its refunded lines add up to when a refund made in
    # Stripe's dashboard matched no set of whole lines.
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # What staff must look at, one matter a line (a refund that matched no line, a refunded
    # fee whose authorization was used, a refunded item already shipped); None: nothing.
    staff_attention: Mapped[str | None] = mapped_column(String(ATTENTION_MAX), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    candidate: Mapped[Candidate] = relationship()

    @property
    def needs_shipping(self) -> bool:
        return any(item.physical for item in self.items)

    @property
    def unrefunded_items(self) -> list[OrderItem]:
        return [item for item in self.items if item.refunded_at is None]

    @property
    def partly_refunded(self) -> bool:
        """Paid, with some of its lines refunded and some not."""
        return any(item.refunded_at is not None for item in self.items) and bool(
            self.unrefunded_items
        )


class OrderItem(Base):
    __tablename__ = "order_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    module: Mapped[str | None] = mapped_column(String(32), default=None)
    name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    physical: Mapped[bool] = mapped_column(Boolean)
    # A line is refunded whole or not at all; refunded_at says when.
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    # Why, in words the candidate reads beside the line.
    refund_reason: Mapped[str | None] = mapped_column(String(500), default=None)

    order: Mapped[Order] = relationship(back_populates="items")
    shipment: Mapped[Shipment | None] = relationship(back_populates="item")

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def state(self) -> str:
        """Where this line stands: refunded, shipped, queued, not-queued, authorization or paid
        once its order is paid; "" while the order is not (its status says it all)."""
        if self.refunded_at is not None:
            return "refunded"
        if self.order.status != OrderStatus.PAID:
            return ""
        if self.shipment is not None:
            return "shipped" if self.shipment.shipped_at is not None else "queued"
        if self.physical:
            return "not-queued"
        return "authorization" if self.kind == "assessment_fee" else "paid"


class Shipment(Base):
    """A physical item in the shipping queue; staff mark it shipped with a tracking note."""

    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_item.id"), unique=True)
    queued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    tracking_note: Mapped[str | None] = mapped_column(String(500), default=None)

    item: Mapped[OrderItem] = relationship(back_populates="shipment")


class StripeEvent(Base):
    """Each webhook event handled, recorded in the same transaction as its effects."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Stripe's event id
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Credential(Base):
    """A credential as issued: its verification id stays for life, its document may be reissued.

    Which credentials a candidate holds is decided by the rules (shop.domain.credentials);
    this row gives each one its verification id, the name printed on it, and its status.
    """

    __tablename__ = "credential"
    __table_args__ = (UniqueConstraint("candidate_id", "kind", "module"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verify_id: Mapped[str] = mapped_column(String(32), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # CredentialKind
    # The module of a module certificate; "" for full certification (so the unique key works
    # on every database: NULLs never collide).
    module: Mapped[str] = mapped_column(String(32), default="")
    earned_on: Mapped[dt.date] = mapped_column(Date)
    holder_name: Mapped[str] = mapped_column(String(200))  # as printed on the current document
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    edition: Mapped[int] = mapped_column(Integer, default=1)  # 2 after the first reissue, ...
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    # Its bit in the revocation status list, allocated once when issued (signed into it).
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    # The salt of the holder's email hash in its Open Badges credential (signed into it too).
    identity_salt: Mapped[str] = mapped_column(String(32))

    candidate: Mapped[Candidate] = relationship()

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None


class CredentialEvent(Base):
    """The history of a credential: issued, revoked, reinstated, reissued, with who and why."""

    __tablename__ = "credential_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Who: the staff member's email address, or the command line's user; "" when the rules
    # issued it as results were recorded (and for events from before actors were kept).
    actor: Mapped[str] = mapped_column(String(320), default="", server_default="")


# Organisations live in a module of their own; importing it here registers their tables.
from . import models_organisations, models_vouchers  # noqa: E402, F401
