"""Starting a checkout: the server prices the cart from the catalogue, checks eligibility,
records the order, then opens a Stripe Checkout Session for exactly that order."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from shop.domain.eligibility import Reason
from shop.domain.program import CatalogueItem, Program
from shop.models import Candidate, Order, OrderItem, OrderStatus
from shop.services.catalogue import for_sale, offer
from shop.services.history import history_of

from .gateway import CheckoutSession, LineItem

# Stripe keeps an unpaid Checkout Session open for at least 30 minutes; ours lasts an hour.
SESSION_LIFETIME = dt.timedelta(hours=1)
CURRENCY = "usd"


class Gateway(Protocol):
    def create_checkout_session(self, **kwargs: object) -> CheckoutSession: ...


class CartError(Exception):
    """The cart cannot be bought as it is; `problems` says why, item by item."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{sku}: {why}" for sku, why in self.problems.items()))


@dataclass(frozen=True, slots=True)
class PricedLine:
    item: CatalogueItem
    quantity: int
    unit_price_cents: int


def price_cart(
    session: Session,
    candidate: Candidate,
    cart: Mapping[str, int],
    today: dt.date,
    program: Program,
    *,
    excluding_order: int | None = None,
) -> list[PricedLine]:
    """Each line priced from the catalogue and checked against the rules; never the form's.

    `excluding_order`: the order whose lines these are, when it is resumed; it must not count
    against itself.
    """
    if not cart:
        raise CartError({"cart": "the cart is empty"})
    sellable = {item.sku: item for item in for_sale(program)}
    history = history_of(session, candidate.id, excluding_order=excluding_order)
    problems: dict[str, str] = {}
    lines: list[PricedLine] = []
    for sku, quantity in sorted(cart.items()):
        item = sellable.get(sku)
        if item is None:
            problems[sku] = "not something the shop sells"
            continue
        current = offer(item, history, today, program)
        if not isinstance(quantity, int) or not 1 <= quantity <= current.max_quantity:
            problems[sku] = f"a quantity from 1 to {current.max_quantity}"
            continue
        if not current.decision.allowed:
            problems[sku] = describe_refusal(current.decision.reasons)
            continue
        lines.append(PricedLine(item, quantity, current.price_cents))
    if problems:
        raise CartError(problems)
    return lines


def check_order_again(
    session: Session, candidate: Candidate, order: Order, today: dt.date, program: Program
) -> None:
    """Before an order is sent to Stripe again: its lines pass the same checks as a new cart
    would (the order itself left out of the history). Raises CartError, item by item."""
    cart = {line.sku: line.quantity for line in order.items}
    price_cart(session, candidate, cart, today, program, excluding_order=order.id)


def describe_refusal(reasons: tuple[Reason, ...]) -> str:
    return "; ".join(reason.message for reason in reasons)


def create_order(
    session: Session, candidate: Candidate, lines: list[PricedLine], now: dt.datetime
) -> Order:
    order = Order(
        public_id=f"ord_{secrets.token_hex(8)}",
        candidate_id=candidate.id,
        status=OrderStatus.PENDING,
        currency=CURRENCY,
        total_cents=sum(line.unit_price_cents * line.quantity for line in lines),
        created_at=now,
        updated_at=now,
        items=[
            OrderItem(
                sku=line.item.sku,
                kind=line.item.kind.value,
                module=line.item.module,
                name=line.item.name,
                unit_price_cents=line.unit_price_cents,
                quantity=line.quantity,
                physical=line.item.physical,
            )
            for line in lines
        ],
    )
    session.add(order)
    session.flush()
    return order


def open_checkout_session(
    gateway: Gateway,
    order: Order,
    candidate: Candidate,
    now: dt.datetime,
    *,
    urls: Callable[[Order], tuple[str, str]],
) -> CheckoutSession:
    """The Stripe Checkout Session of an order; asking again gives the same session.

    The idempotency key is the order's own id, so a retry after a timeout or a 500 from
    Stripe can never open a second session (and a second charge) for one order.
    """
    success_url, cancel_url = urls(order)
    return gateway.create_checkout_session(
        lines=[LineItem(i.name, i.unit_price_cents, i.quantity) for i in order.items],
        currency=order.currency,
        order_ref=order.public_id,
        candidate_ref=candidate.reference,
        customer_email=candidate.email,
        success_url=success_url,
        cancel_url=cancel_url,
        collect_shipping=order.needs_shipping,
        expires_at=order.created_at + SESSION_LIFETIME,
        idempotency_key=f"checkout-{order.public_id}",
    )
