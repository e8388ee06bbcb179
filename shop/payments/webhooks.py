"""Stripe webhooks: verify, then dispatch by event type to one handler each.

The event id is recorded under a unique key in the same transaction as the handler's
effects: a redelivered event finds its id taken and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.domain.program import Program
from shop.models import StripeEvent
from shop.models_vouchers import VoucherOrderStatus
from shop.services import vouchers

from . import fulfilment
from . import refunds as refunds_module
from .gateway import charge_refunds_from_event, session_from_event


@dataclass(frozen=True)
class Context:
    session: Session
    refunder: fulfilment.Refunder
    now: dt.datetime
    today: dt.date
    program: Program


Handler = Callable[[Context, Mapping[str, Any]], None]


def _paid_or_pending(context: Context, data: Mapping[str, Any]) -> None:
    checkout = session_from_event(data)
    if vouchers.is_voucher_checkout(checkout):
        vouchers.confirm_payment(
            context.session,
            context.refunder,
            checkout,
            context.now,
            context.today,
            context.program,
        )
        return
    fulfilment.confirm_payment(
        context.session,
        context.refunder,
        checkout,
        now=context.now,
        today=context.today,
        program=context.program,
    )


def _failed(context: Context, data: Mapping[str, Any]) -> None:
    checkout = session_from_event(data)
    if vouchers.is_voucher_checkout(checkout):
        vouchers.close_unpaid(context.session, checkout, VoucherOrderStatus.FAILED)
        return
    fulfilment.fail(context.session, checkout, context.now)


def _expired(context: Context, data: Mapping[str, Any]) -> None:
    checkout = session_from_event(data)
    if vouchers.is_voucher_checkout(checkout):
        vouchers.close_unpaid(context.session, checkout, VoucherOrderStatus.EXPIRED)
        return
    fulfilment.expire(context.session, checkout, context.now)


def _declined(context: Context, data: Mapping[str, Any]) -> None:
    """payment_intent.payment_failed: a card refused on the pay page (the Checkout Session
    stays open). The order is named in the intent's metadata, set at checkout."""
    metadata = data.get("metadata")
    order_ref = metadata.get("order") if isinstance(metadata, Mapping) else None
    if not isinstance(order_ref, str) or not order_ref:
        return  # not a payment of ours
    error = data.get("last_payment_error")
    message = error.get("message") if isinstance(error, Mapping) else None
    why = message if isinstance(message, str) and message.strip() else "the card was refused."
    fulfilment.declined(context.session, order_ref, " ".join(why.split()), context.now)


def _charge_refunded(context: Context, data: Mapping[str, Any]) -> None:
    refunds = charge_refunds_from_event(data)
    if refunds is not None and not vouchers.apply_stripe_refunds(
        context.session, refunds, context.now
    ):
        refunds_module.apply_stripe_refunds(context.session, refunds, context.now)


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _paid_or_pending,
    "checkout.session.async_payment_succeeded": _paid_or_pending,
    "checkout.session.async_payment_failed": _failed,
    "checkout.session.expired": _expired,
    "payment_intent.payment_failed": _declined,
    # Sent for every refund, partial or full, with the charge's cumulative amount refunded.
    # `refund.created` is left out on purpose: a single refund's amount, counted beside the
    # cumulative one, would count the same money twice.
    "charge.refunded": _charge_refunded,
}


def handle(context: Context, event: Mapping[str, Any]) -> bool:
    """Apply one verified event; False when it was seen before or is of a type we ignore.

    The caller commits `context.session` afterwards: the event's id and its effects land
    together or not at all.
    """
    handler = HANDLERS.get(str(event.get("type")))
    if handler is None:
        return False
    context.session.add(
        StripeEvent(id=str(event["id"]), type=str(event["type"]), received_at=context.now)
    )
    try:
        context.session.flush()
    except IntegrityError:
        context.session.rollback()
        return False
    handler(context, event["data"]["object"])
    return True
