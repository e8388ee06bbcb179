"""Refunds as at Stripe: partial ones add up, none beyond the charge, and their events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .money import money
from .upstream import UserError, ls_resources


def _charge_to_refund(data: Mapping[str, Any]) -> Any:
    """The localstripe Charge a refund request names, or None to let localstripe refuse it."""
    charge, intent = data.get("charge"), data.get("payment_intent")
    if isinstance(charge, str) and charge.startswith("ch_"):
        return ls_resources.Charge._api_retrieve(charge)
    if isinstance(intent, str) and intent.startswith("pi_") and charge is None:
        return ls_resources.PaymentIntent._api_retrieve(intent).latest_charge
    return None


def _check_refund_amount(data: dict[str, Any]) -> None:
    """Stripe's rules for a refund's amount, which localstripe does not keep: without an
    amount, what is left of the charge; never more than that; nothing of a refunded charge."""
    charge = _charge_to_refund(data)
    if charge is None or charge.status != "succeeded":
        return
    left = charge.amount - charge.amount_refunded
    if left <= 0:
        raise UserError(
            400,
            f"Charge {charge.id} has already been refunded.",
            {"code": "charge_already_refunded"},
        )
    amount = ls_resources.try_convert_to_int(data.get("amount"))
    if data.get("amount") is None:
        data["amount"] = left
    elif isinstance(amount, int) and amount > left:
        asked, most = money(amount, charge.currency), money(left, charge.currency)
        raise UserError(
            400,
            f"Refund amount ({asked}) is greater than unrefunded amount on charge ({most})",
            {"code": "amount_too_large", "param": "amount"},
        )


def refunds_as_at_stripe() -> None:
    """Partial refunds that add up as at Stripe, and the events Stripe sends for each refund:
    `charge.refunded` (the Charge, with its cumulative `amount_refunded`) and `refund.created`."""
    original = ls_resources.Refund._api_create.__func__

    def create_refund(cls: Any, /, **data: Any) -> Any:
        _check_refund_amount(data)
        refund = original(cls, **data)
        charge = ls_resources.Charge._api_retrieve(refund.charge)
        ls_resources.schedule_webhook(ls_resources.Event("charge.refunded", charge))
        ls_resources.schedule_webhook(ls_resources.Event("refund.created", refund))
        return refund

    ls_resources.Refund._api_create = classmethod(create_refund)
