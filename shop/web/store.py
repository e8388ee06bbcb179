"""The storefront: catalogue, cart, checkout, orders. Thin: rules live in shop.domain,
money in shop.payments."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from shop import db, hosts
from shop.clock import now, today
from shop.domain.eligibility import advice_before_assessment
from shop.models import Candidate, Order, OrderStatus
from shop.payments import gateway
from shop.payments.checkout import (
    CartError,
    check_order_again,
    create_order,
    open_checkout_session,
    price_cart,
)
from shop.payments.fulfilment import confirm_payment
from shop.payments.gateway import PaymentError
from shop.services import program
from shop.services.catalogue import for_sale, offer, offers
from shop.services.history import history_of

from .session import current_candidate, signed_in

blueprint = Blueprint("store", __name__, url_prefix="/shop")


def _candidate() -> Candidate:
    candidate = current_candidate()
    assert candidate is not None  # guaranteed by @signed_in
    return candidate


def _cart() -> dict[str, int]:
    raw = session.get("cart")
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int)}


@blueprint.route("/")
@signed_in
def catalogue() -> str:
    candidate = _candidate()
    history = history_of(db.session(), candidate.id)
    return render_template(
        "shop/catalogue.html",
        candidate=candidate,
        offers=offers(history, today(), program.current()),
        advice=advice_before_assessment(program.current()),
        cart=_cart(),
    )


@blueprint.route("/cart", methods=["GET"])
@signed_in
def cart() -> tuple[str, int]:
    return _render_cart(_candidate(), {})


def _render_cart(
    candidate: Candidate, problems: dict[str, str], status: int = 200
) -> tuple[str, int]:
    history = history_of(db.session(), candidate.id)
    items = {item.sku: item for item in for_sale(program.current())}
    lines = [
        (offer(items[sku], history, today(), program.current()), quantity)
        for sku, quantity in sorted(_cart().items())
        if sku in items
    ]
    total = sum(o.price_cents * q for o, q in lines)
    named = {items[sku].name if sku in items else sku: why for sku, why in problems.items()}
    html = render_template(
        "shop/cart.html", candidate=candidate, lines=lines, total=total, problems=named
    )
    return html, status


@blueprint.route("/cart", methods=["POST"])
@signed_in
def add_to_cart() -> Response | tuple[str, int]:
    candidate = _candidate()
    sku = request.form.get("sku", "")
    quantity = _quantity(request.form.get("quantity", "1"))
    items = {item.sku: item for item in for_sale(program.current())}
    if sku not in items:
        return _render_cart(candidate, {sku or "item": "not something the shop sells"}, 400)
    current = offer(items[sku], history_of(db.session(), candidate.id), today(), program.current())
    if quantity is None or not 1 <= quantity <= current.max_quantity:
        return _render_cart(
            candidate, {sku: f"choose a quantity from 1 to {current.max_quantity}"}, 400
        )
    if not current.decision.allowed:
        return _render_cart(
            candidate, {sku: "; ".join(r.message for r in current.decision.reasons)}, 400
        )
    cart = _cart()
    cart[sku] = quantity
    session["cart"] = cart
    flash(f"Added to your cart: {items[sku].name}.")
    return redirect(url_for("store.cart"))


@blueprint.route("/cart/remove", methods=["POST"])
@signed_in
def remove_from_cart() -> Response:
    cart = _cart()
    cart.pop(request.form.get("sku", ""), None)
    session["cart"] = cart
    return redirect(url_for("store.cart"))


def _quantity(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        return None


@blueprint.route("/checkout", methods=["POST"])
@signed_in
def checkout() -> Response | tuple[str, int]:
    candidate = _candidate()
    with db.transaction() as tx:
        try:
            lines = price_cart(tx, candidate, _cart(), today(), program.current())
        except CartError as error:
            tx.rollback()
            return _render_cart(candidate, error.problems, 400)
        order = create_order(tx, candidate, lines, now())
    session.pop("cart", None)
    return _pay(order, candidate)


@blueprint.route("/orders/<public_id>/pay", methods=["POST"])
@signed_in
def pay(public_id: str) -> Response | tuple[str, int]:
    candidate = _candidate()
    order = _own_order(public_id, candidate)
    if order.status != OrderStatus.PENDING:
        return redirect(url_for("store.order", public_id=public_id))
    problems = _refusals(order, candidate)
    if problems:
        # Checked again as a new checkout would be: not sent to Stripe.
        return _render_order(candidate, order, problems), 409
    return _pay(order, candidate)


def _refusals(order: Order, candidate: Candidate) -> dict[str, str]:
    """Why the pending order may not be paid now, by item name; empty when it may."""
    try:
        check_order_again(db.session(), candidate, order, today(), program.current())
    except CartError as error:
        names = {line.sku: line.name for line in order.items}
        return {names.get(sku, sku): why for sku, why in error.problems.items()}
    return {}


def _pay(order: Order, candidate: Candidate) -> Response | tuple[str, int]:
    try:
        checkout_session = open_checkout_session(gateway(), order, candidate, now(), urls=_urls)
    except PaymentError:
        html = render_template("shop/payment_unavailable.html", candidate=candidate, order=order)
        return html, 503
    with db.transaction():
        order.checkout_session_id = checkout_session.id
    assert checkout_session.url
    return redirect(checkout_session.url, code=303)


def _urls(order: Order) -> tuple[str, str]:
    """Where Stripe sends the buyer back: addresses on SHOP_URL, whatever the request's Host."""
    success = hosts.external(url_for("store.order", public_id=order.public_id))
    return success + "?session_id={CHECKOUT_SESSION_ID}", hosts.external(url_for("store.cart"))


def _own_order(public_id: str, candidate: Candidate) -> Order:
    if "\x00" in public_id or len(public_id) > 64:
        abort(404)  # no order has such an id, and PostgreSQL refuses NUL in a query (a 500)
    order = db.session().scalars(select(Order).where(Order.public_id == public_id)).first()
    if order is None or order.candidate_id != candidate.id:
        abort(404)  # another person's order does not exist, as far as this candidate knows
    return order


@blueprint.route("/orders/<public_id>")
@signed_in
def order(public_id: str) -> str:
    candidate = _candidate()
    found = _own_order(public_id, candidate)
    if found.status in (OrderStatus.PENDING, OrderStatus.PROCESSING) and found.checkout_session_id:
        _try_to_confirm(found)
    problems = _refusals(found, candidate) if found.status == OrderStatus.PENDING else {}
    return _render_order(candidate, found, problems)


def _render_order(candidate: Candidate, order: Order, problems: dict[str, str]) -> str:
    return render_template("shop/order.html", candidate=candidate, order=order, problems=problems)


def _try_to_confirm(order: Order) -> None:
    """The success page may fulfil too, through the same idempotent path as the webhook.

    When Stripe is slow or down the page shows the order as processing: the webhook will
    finish the work.
    """
    try:
        checkout_session = gateway().retrieve_checkout_session(str(order.checkout_session_id))
        with db.transaction() as tx:
            confirm_payment(
                tx, gateway(), checkout_session, now=now(), today=today(), program=program.current()
            )
    except PaymentError:
        db.session().rollback()
    db.session().refresh(order)


@blueprint.route("/orders")
@signed_in
def orders() -> str:
    candidate = _candidate()
    found = db.session().scalars(
        select(Order).where(Order.candidate_id == candidate.id).order_by(Order.created_at.desc())
    )
    return render_template("shop/orders.html", candidate=candidate, orders=list(found))
