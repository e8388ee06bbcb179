"""The HTML of the hosted pay page: the form, the settle buttons, the closed and missing pages."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from aiohttp import web

from .money import money
from .pay_form import PAYMENT_CHOICES
from .sessions import PAY_PATH, SETTLE_PATH, CheckoutSession

_STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 36rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
.test-mode { background: #fff3cd; border: 1px solid #8a6d00; padding: .25rem .5rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: bold; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ccc; }
td.amount, th.amount { text-align: right; }
fieldset { margin: 1rem 0; }
.field { margin: .5rem 0; }
label { display: block; font-weight: bold; }
input, select { font: inherit; padding: .25rem; width: 100%; box-sizing: border-box; }
button { font: inherit; padding: .5rem 2rem; margin: 1rem 0; }
.error { border: 2px solid #b00020; color: #b00020; padding: .5rem; }
:focus-visible { outline: 3px solid #1a4fd6; outline-offset: 2px; }
"""


def page(title: str, body: str, status: int = 200) -> web.Response:
    document = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        '<p class="test-mode">Test mode: the offline fake Stripe. No real money moves.</p>\n'
        f"{body}\n</main>\n</body>\n</html>\n"
    )
    return web.Response(text=document, content_type="text/html", status=status)


def not_found_page() -> web.Response:
    return page(
        "Checkout session not found",
        "<h1>Checkout session not found</h1><p>There is no checkout session at this address.</p>",
        status=404,
    )


def closed_page(session: CheckoutSession) -> web.Response:
    if session.status == "expired":
        title = "This checkout session has expired"
        text = "It can no longer be paid. Go back to the shop to start again."
        link = session.cancel_url
    else:
        title = "This checkout session is already paid"
        text = "It has been completed and cannot be paid again."
        link = session.success_url
    back = f'<p><a href="{html.escape(link)}">Back to the shop</a></p>' if link else ""
    return page(title, f"<h1>{title}</h1>\n<p>{text}</p>\n{back}", status=409)


SETTLE_BUTTONS = (
    ("succeeded", "Settle the bank transfer now"),
    ("failed", "Let the bank transfer fail"),
)


def settle_page(session: CheckoutSession) -> web.Response:
    """A bank transfer paid on the pay page and not settled yet: settle it, or let it fail,
    as the bank would days later; or go back to the shop and leave it processing."""
    total = money(session.amount_total, session.currency)
    action = html.escape(SETTLE_PATH + session.id)
    forms = "\n".join(
        f'<form method="post" action="{action}">'
        f'<input type="hidden" name="outcome" value="{outcome}">'
        '<input type="hidden" name="then" value="shop">'
        f'<button type="submit">{label}</button></form>'
        for outcome, label in SETTLE_BUTTONS
    )
    back = (
        f'<p><a href="{html.escape(session.success_url)}">Back to the shop '
        "(the order stays processing until the transfer settles)</a></p>"
        if session.success_url
        else ""
    )
    body = (
        "<h1>Bank transfer on its way</h1>\n"
        f"<p>The transfer of {total} has been started. A real bank takes days to settle it; "
        "here you choose what happens, now.</p>\n"
        f"{forms}\n{back}"
    )
    return page("Bank transfer on its way", body)


def _field(name: str, label: str, value: str, kind: str, autocomplete: str) -> str:
    return (
        f'<div class="field"><label for="{name}">{label}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}" '
        f'required value="{html.escape(value)}"></div>'
    )


def _select(
    name: str,
    label: str,
    choices: Iterable[tuple[str, str]],
    chosen: str,
    autocomplete: str = "off",
) -> str:
    options = "".join(
        f'<option value="{html.escape(value)}"{" selected" if value == chosen else ""}>'
        f"{html.escape(text)}</option>"
        for value, text in choices
    )
    return (
        f'<div class="field"><label for="{name}">{label}</label>'
        f'<select id="{name}" name="{name}" autocomplete="{autocomplete}">{options}</select></div>'
    )


def form_page(
    session: CheckoutSession,
    values: Mapping[str, str],
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    rows = "\n".join(
        f"<tr><td>{html.escape(item['description'])}</td>"
        f'<td class="amount">{item["quantity"]}</td>'
        f'<td class="amount">{money(item["amount_total"], item["currency"])}</td></tr>'
        for item in session._line_items
    )
    total = money(session.amount_total, session.currency)
    summary = (
        "<table>\n<caption>Order summary</caption>\n"
        '<thead><tr><th scope="col">Item</th><th scope="col" class="amount">Quantity</th>'
        '<th scope="col" class="amount">Amount</th></tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n"
        f'<tfoot><tr><th scope="row" colspan="2">Total</th>'
        f'<td class="amount" id="total">{total}</td></tr></tfoot>\n</table>'
    )
    alert = (
        f'<div class="error" role="alert" id="error"><p>{html.escape(error)}</p></div>'
        if error
        else ""
    )
    fields = [_field("email", "Email", values["email"], "email", "email")]
    if session.shipping_address_collection:
        allowed = session.shipping_address_collection["allowed_countries"]
        fields += [
            "<fieldset><legend>Shipping address</legend>",
            _field("name", "Full name", values["name"], "text", "shipping name"),
            _field("line1", "Address", values["line1"], "text", "shipping address-line1"),
            _field("city", "City", values["city"], "text", "shipping address-level2"),
            _field("state", "State", values["state"], "text", "shipping address-level1"),
            _field(
                "postal_code", "ZIP code", values["postal_code"], "text", "shipping postal-code"
            ),
            _select(
                "country",
                "Country",
                [(c, c) for c in allowed],
                values["country"],
                "shipping country",
            ),
            "</fieldset>",
        ]
    fields.append(
        _select("payment_method", "Payment method", PAYMENT_CHOICES, values["payment_method"])
    )
    cancel = (
        f'<p><a href="{html.escape(session.cancel_url)}">Cancel and go back</a></p>'
        if session.cancel_url
        else ""
    )
    body = (
        f"<h1>Pay</h1>\n{alert}\n{summary}\n"
        f'<form method="post" action="{PAY_PATH}{html.escape(session.id)}">\n'
        + "\n".join(fields)
        + '\n<button type="submit">Pay</button>\n</form>\n'
        + cancel
    )
    return page("Pay", body, status=status)
