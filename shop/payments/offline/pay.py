"""The hosted pay page's routes, without a key like localstripe's other `/_config/` routes.

GET  /_config/checkout/pay/{id}             the hosted pay page: the session's `url`
                                            (after a bank transfer: its settle buttons)
POST /_config/checkout/pay/{id}             pay (form fields: FORM_FIELDS)
POST /_config/checkout/settle/{id}          settle a bank transfer: outcome=succeeded|failed
                                            (then=shop: 303 back to success_url)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .api import json_response, post_data
from .pages import closed_page, form_page, not_found_page, page, settle_page
from .params import invalid
from .pay_form import ADDRESS_FIELDS, BANK_TRANSFER, FORM_FIELDS, default_values, form_problem
from .sessions import PAY_PATH, find_session, get_session
from .upstream import UserError, ls_resources


async def pay_page(request: web.Request) -> web.Response:
    session = find_session(request.match_info["id"])
    if session is None:
        return not_found_page()
    if session._awaiting_settlement:
        return settle_page(session)
    if session.status != "open":
        return closed_page(session)
    return form_page(session, default_values(session))


async def pay(request: web.Request) -> web.Response:
    session = find_session(request.match_info["id"])
    if session is None:
        return not_found_page()
    if session.status != "open":
        return closed_page(session)
    form = await request.post()
    values = {name: str(form.get(name, "")).strip() for name in FORM_FIELDS}
    problem = form_problem(session, values)
    if problem:
        return form_page(session, values, problem, status=400)

    shipping = None
    if session.shipping_address_collection:
        address = {key: values[key] or None for key in ADDRESS_FIELDS if key != "name"}
        address["line2"] = None
        shipping = {"name": values["name"], "address": address}
    intent_params: dict[str, Any] = {
        "amount": session.amount_total,
        "currency": session.currency,
        "customer": session.customer,
        "metadata": dict(session._payment_intent_metadata),
    }
    choice = values["payment_method"]
    if choice == BANK_TRANSFER:
        # Waits, without a payment method, for POST /_config/checkout/settle/{id}.
        intent = ls_resources.PaymentIntent._api_create(**intent_params)
        session._awaiting_settlement = True
        session._complete(intent.id, "unpaid", values["email"], shipping)
    else:
        try:
            intent = ls_resources.PaymentIntent._api_create(
                payment_method=choice, confirm=True, **intent_params
            )
        except UserError as error:
            message = error.body.get("error", {}).get("message") or "The payment failed."
            return form_page(session, values, f"{message} Choose another card.", status=402)
        if intent.status != "succeeded":
            return form_page(
                session, values, f"The payment is {intent.status}. Choose another card.", 402
            )
        session._complete(intent.id, "paid", values["email"], shipping)

    if choice == BANK_TRANSFER:
        # The transfer's own page, with the buttons that settle it (a person trying the shop
        # would otherwise need to know the settle endpoint).
        return web.Response(status=302, headers={"Location": PAY_PATH + session.id})
    if session.success_url:
        return web.Response(status=302, headers={"Location": session.success_url})
    return page(
        "Payment complete",
        "<h1>Payment complete</h1><p>The session has no success_url to go back to.</p>",
    )


async def settle(request: web.Request) -> web.Response:
    """Settle a bank transfer paid on the pay page: outcome=succeeded or outcome=failed."""
    session = get_session(request.match_info["id"])
    data = await post_data(request)
    outcome = data.get("outcome")
    if outcome not in ("succeeded", "failed"):
        raise invalid("outcome must be succeeded or failed.", "outcome")
    if not session._awaiting_settlement:
        raise UserError(409, "This Checkout Session has no bank transfer waiting to settle.")
    intent = ls_resources.PaymentIntent._api_retrieve(session.payment_intent)
    intent.payment_method = (
        "pm_card_visa" if outcome == "succeeded" else "pm_card_chargeCustomerFail"
    )
    # Fires payment_intent.succeeded or payment_intent.payment_failed, without raising.
    intent._confirm(on_failure_now=intent._report_async_failure)
    session._awaiting_settlement = False
    if outcome == "succeeded":
        session.payment_status = "paid"
        session._fire("checkout.session.async_payment_succeeded")
    else:
        session._fire("checkout.session.async_payment_failed")
    if data.get("then") == "shop" and session.success_url:  # a button of the settle page
        return web.Response(status=303, headers={"Location": session.success_url})
    return json_response(session._export())
