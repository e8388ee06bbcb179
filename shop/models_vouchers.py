"""The tables of assessment vouchers: an organisation's voucher orders and their vouchers.

A voucher order is an organisation's, not a candidate's, so it has a table of its own rather
than a candidate-less row in shop_order (whose every reader assumes a candidate). It is paid
through the same gateway and webhook as a candidate's order; its metadata says which it is.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UtcDateTime
from .models import ATTENTION_MAX


class VoucherOrderStatus:
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    FAILED = "failed"
    REFUNDED = "refunded"  # paid after it had expired or failed: the payment went back


class VoucherOrder(Base):
    __tablename__ = "voucher_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    module: Mapped[str] = mapped_column(String(32))  # "" for any module
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=VoucherOrderStatus.PENDING)
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), default=None)
    bought_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    # What Stripe has refunded of the payment, in all: a charge.refunded event beyond it is news.
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    status_note: Mapped[str | None] = mapped_column(String(500), default=None)
    # Matters staff must look at (a refund made in Stripe that matches no unassigned vouchers).
    staff_attention: Mapped[str | None] = mapped_column(String(ATTENTION_MAX), default=None)

    vouchers: Mapped[list[Voucher]] = relationship(back_populates="order", order_by="Voucher.id")


class Voucher(Base):
    __tablename__ = "voucher"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("voucher_order.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    module: Mapped[str] = mapped_column(String(32))  # "" for any module
    price_cents: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    assigned_email: Mapped[str | None] = mapped_column(String(254), index=True, default=None)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    # The last refusal at acceptance, in words, for the organisation to read.
    refusal: Mapped[str | None] = mapped_column(String(500), default=None)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    # Unique: one authorization per voucher, so a voucher is accepted once under any race.
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization.id"), unique=True, default=None
    )
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    refund_id: Mapped[str | None] = mapped_column(String(255), default=None)

    order: Mapped[VoucherOrder] = relationship(back_populates="vouchers")
