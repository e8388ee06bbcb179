"""Voucher pages: an organisation's vouchers (buy, assign, refund) under /shop/org/<id>/vouchers,
and a candidate's form to accept one by its code at /shop/vouchers.

The organisation's pages answer 404 to anyone who is not its member, as organisation.py's do;
a voucher of another organisation is 404 through them too.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shop import db
from shop.clock import now, today
from shop.domain import vouchers as rules
from shop.models import Candidate
from shop.models_organisations import Organisation
from shop.models_vouchers import VoucherOrder
from shop.payments import gateway
from shop.payments.gateway import PaymentError
from shop.services import organisations, program, vouchers

from .organisation import _render, member_only
from .session import current_candidate, signed_in

blueprint = Blueprint("vouchers", __name__, url_prefix="/shop")
MAX_ID = "int(max=2147483647)"


def _organisation() -> Organisation:
    found: Organisation = g.organisation
    return found


def _page(problem: str | None = None, status: int = 200) -> tuple[str, int]:
    organisation = _organisation()
    return _render(
        "shop/org/vouchers.html",
        status,
        views=vouchers.organisation_vouchers(db.session(), organisation, today()),
        modules=program.current().modules,
        price_cents=rules.voucher_price_cents(rules.ANY_MODULE, program.current()),
        max_quantity=vouchers.MAX_QUANTITY,
        months=program.current().policy.voucher_months,
        problem=problem,
    )


@blueprint.get("/org/<public_id>/vouchers")
@member_only
def vouchers_page(public_id: str) -> tuple[str, int]:
    return _page()


def _urls(order: VoucherOrder) -> tuple[str, str]:
    page = url_for("vouchers.vouchers_page", public_id=_organisation().public_id, _external=True)
    return page, page


@blueprint.post("/org/<public_id>/vouchers/buy")
@member_only
def buy(public_id: str) -> ResponseReturnValue:
    module = request.form.get("module", "")
    try:
        quantity = int(request.form.get("quantity", ""))
    except ValueError:
        return _page(f"Give a number of vouchers from 1 to {vouchers.MAX_QUANTITY}.", 400)
    try:
        with db.transaction() as session_:
            organisation = session_.merge(_organisation())
            _, checkout = vouchers.start_purchase(
                session_,
                gateway(),
                organisation,
                g.member_email,
                module,
                quantity,
                now(),
                program.current(),
                urls=_urls,
            )
    except vouchers.VoucherError as error:
        return _page(f"{str(error).capitalize()}.", 400)
    except PaymentError:
        return _page("Payments are unavailable just now: nothing was charged. Try again.", 503)
    assert checkout.url
    return redirect(checkout.url, code=303)


@blueprint.post(f"/org/<public_id>/vouchers/<{MAX_ID}:voucher_id>/assign")
@member_only
def assign(public_id: str, voucher_id: int) -> ResponseReturnValue:
    try:
        email = organisations.clean_email(request.form.get("email", ""))
        with db.transaction() as session_:
            organisation = session_.merge(_organisation())
            voucher = vouchers.assign(session_, organisation, voucher_id, email, now(), today())
            code = voucher.code
    except LookupError:
        abort(404)
    except ValueError as error:
        return _page(str(error), 400)
    flash(f"Voucher {code} is assigned to {email}: give them the code to accept it in the shop.")
    return redirect(url_for("vouchers.vouchers_page", public_id=public_id))


@blueprint.post(f"/org/<public_id>/vouchers/<{MAX_ID}:voucher_id>/refund")
@member_only
def refund(public_id: str, voucher_id: int) -> ResponseReturnValue:
    try:
        with db.transaction() as session_:
            organisation = session_.merge(_organisation())
            voucher = vouchers.refund(session_, gateway(), organisation, voucher_id, now(), today())
            code = voucher.code
    except LookupError:
        abort(404)
    except vouchers.VoucherError as error:
        return _page(f"{str(error).capitalize()}.", 400)
    except PaymentError:
        return _page("Stripe did not answer: the voucher was not refunded. Try again.", 503)
    flash(f"Voucher {code} was refunded.")
    return redirect(url_for("vouchers.vouchers_page", public_id=public_id))


# -- the candidate's side -----------------------------------------------------------------------


def _candidate() -> Candidate:
    candidate = current_candidate()
    assert candidate is not None  # @signed_in
    return candidate


def _accept_page(problem: str | None = None, status: int = 200, **typed: str) -> tuple[str, int]:
    html = render_template(
        "shop/org/accept_voucher.html",
        candidate=_candidate(),
        modules=program.current().modules,
        problem=problem,
        typed=typed,
    )
    return html, status


@blueprint.get("/vouchers")
@signed_in
def accept_page() -> tuple[str, int]:
    return _accept_page()


@blueprint.post("/vouchers")
@signed_in
def accept() -> ResponseReturnValue:
    code, module = request.form.get("code", ""), request.form.get("module", "") or None
    with db.transaction() as session_:
        candidate = session_.merge(_candidate())
        result = vouchers.accept(
            session_, candidate, code, module, now(), today(), program.current()
        )
        if isinstance(result, vouchers.Accepted):
            name = program.current().module(result.authorization.module).name
    if isinstance(result, rules.Acceptance):
        why = vouchers.refusal_text(result)
        return _accept_page(f"This voucher cannot be accepted: {why}.", 400, code=code)
    flash(f"Voucher accepted: you hold an authorization for the {name} assessment.")
    return redirect(url_for("account.dashboard_page"))
