"""Assessment vouchers: an organisation buys them, assigns them, refunds them; a candidate
accepts one, which makes it their assessment authorization.

Buying goes through the same gateway and Checkout as a candidate's order; the order's public
id starts with VOUCHER_ORDER_PREFIX, which is how the webhook tells the two apart.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.domain import vouchers as rules
from shop.domain.program import Program
from shop.models import Attempt, Authorization, Candidate
from shop.models_organisations import Organisation
from shop.models_vouchers import Voucher, VoucherOrder, VoucherOrderStatus
from shop.payments.checkout import CURRENCY, SESSION_LIFETIME, describe_refusal
from shop.payments.gateway import ChargeRefunds, CheckoutSession, LineItem
from shop.payments.refunds import Refunder, with_matter
from shop.services.history import history_of
from sitegen.render import money

log = logging.getLogger(__name__)

VOUCHER_ORDER_PREFIX = "vor_"
MAX_QUANTITY = 200  # vouchers in one purchase


class Gateway(Protocol):
    def create_checkout_session(self, **kwargs: object) -> CheckoutSession: ...

    def refund_payment(
        self, payment_intent_id: str, *, amount_cents: int | None = None, idempotency_key: str
    ) -> str: ...


class VoucherError(ValueError):
    """A request about vouchers that cannot be met; the message says why, for the page."""


# -- buying ------------------------------------------------------------------------------------


def start_purchase(
    session: Session,
    gateway: Gateway,
    organisation: Organisation,
    member_email: str,
    module: str,
    quantity: int,
    now: dt.datetime,
    program: Program,
    *,
    urls: Callable[[VoucherOrder], tuple[str, str]],
) -> tuple[VoucherOrder, CheckoutSession]:
    """Record a voucher order at the catalogue's full price and open its Checkout Session."""
    if module != rules.ANY_MODULE and module not in {m.id for m in program.modules}:
        raise VoucherError(f"{module!r} is not a module of the program")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise VoucherError(f"a quantity from 1 to {MAX_QUANTITY}")
    unit = rules.voucher_price_cents(module, program)
    what = program.module(module).name if module else "any module"
    order = VoucherOrder(
        public_id=f"{VOUCHER_ORDER_PREFIX}{secrets.token_hex(8)}",
        organisation_id=organisation.id,
        module=module,
        name=f"Assessment voucher ({what})",
        quantity=quantity,
        unit_price_cents=unit,
        total_cents=unit * quantity,
        status=VoucherOrderStatus.PENDING,
        bought_by=member_email,
        created_at=now,
    )
    session.add(order)
    session.flush()
    success_url, cancel_url = urls(order)
    checkout = gateway.create_checkout_session(
        lines=[LineItem(order.name, unit, quantity)],
        currency=CURRENCY,
        order_ref=order.public_id,
        candidate_ref=f"org:{organisation.public_id}",
        customer_email=member_email,
        success_url=success_url,
        cancel_url=cancel_url,
        collect_shipping=False,
        expires_at=now + SESSION_LIFETIME,
        idempotency_key=f"checkout-{order.public_id}",
    )
    order.checkout_session_id = checkout.id
    session.flush()
    return order, checkout


def is_voucher_checkout(checkout: CheckoutSession) -> bool:
    return checkout.metadata.get("order", "").startswith(VOUCHER_ORDER_PREFIX)


def _locked_order(session: Session, checkout: CheckoutSession) -> VoucherOrder | None:
    return session.scalars(
        select(VoucherOrder)
        .where(VoucherOrder.public_id == checkout.metadata.get("order", ""))
        .with_for_update()
    ).one_or_none()


def confirm_payment(
    session: Session,
    refunder: Refunder,
    checkout: CheckoutSession,
    now: dt.datetime,
    today: dt.date,
    program: Program,
    *,
    random_bits: Callable[[int], int] = secrets.randbits,
) -> VoucherOrder | None:
    """A paid Checkout Session makes the order's vouchers, once, however often it is told.

    A payment for an order that expired or failed first makes none and is refunded whole.
    """
    order = _locked_order(session, checkout)
    if order is None:
        log.warning("checkout session %s names no voucher order of ours", checkout.id)
        return None
    if checkout.payment_intent_id and order.payment_intent_id is None:
        order.payment_intent_id = checkout.payment_intent_id
    if checkout.payment_status != "paid":
        return order
    if order.status in (VoucherOrderStatus.EXPIRED, VoucherOrderStatus.FAILED):
        if checkout.payment_intent_id:
            _refund_whole(refunder, order, checkout, f"the order had {order.status} first")
        return order
    if order.status != VoucherOrderStatus.PENDING:
        return order
    if checkout.amount_total_cents not in (None, order.total_cents):
        # Server prices make this impossible; never make vouchers for money not paid, nor keep it.
        log.error("voucher order %s: paid %s, not its total", order.public_id, checkout)
        if checkout.payment_intent_id:
            _refund_whole(refunder, order, checkout, "the amount paid did not match the order")
        else:
            order.status = VoucherOrderStatus.FAILED
        return order
    order.status = VoucherOrderStatus.PAID
    order.paid_at = now
    expiry = rules.expires_on(today, program)
    for _ in range(order.quantity):
        session.add(
            Voucher(
                code=rules.make_code(random_bits(rules.CODE_BITS)),
                order_id=order.id,
                organisation_id=order.organisation_id,
                module=order.module,
                price_cents=order.unit_price_cents,
                expires_on=expiry,
            )
        )
    session.flush()
    return order


def _refund_whole(
    refunder: Refunder, order: VoucherOrder, checkout: CheckoutSession, why: str
) -> None:
    """Give the whole payment back at once: the order makes no vouchers and says why."""
    assert checkout.payment_intent_id is not None
    refunder.refund_payment(checkout.payment_intent_id, idempotency_key=f"refund-{checkout.id}")
    paid = checkout.amount_total_cents
    order.refunded_cents = max(order.refunded_cents, order.total_cents if paid is None else paid)
    order.status = VoucherOrderStatus.REFUNDED
    order.status_note = f"Refunded in full: {why}."[:500]


def close_unpaid(session: Session, checkout: CheckoutSession, status: str) -> None:
    """An expired or failed Checkout: its pending voucher order makes no vouchers."""
    order = _locked_order(session, checkout)
    if order is not None and order.status == VoucherOrderStatus.PENDING:
        order.status = status


@dataclass(frozen=True, slots=True)
class StaffVoucherOrder:
    """One row of staff's list of voucher orders."""

    order: VoucherOrder
    organisation_name: str


def voucher_orders_for_staff(
    session: Session, status: str | None = None
) -> list[StaffVoucherOrder]:
    """Every voucher order, newest first, with its organisation's name; only `status` when given."""
    query = (
        select(VoucherOrder, Organisation.name)
        .join(Organisation, Organisation.id == VoucherOrder.organisation_id)
        .order_by(VoucherOrder.created_at.desc(), VoucherOrder.id.desc())
    )
    if status is not None:
        query = query.where(VoucherOrder.status == status)
    return [StaffVoucherOrder(order, name) for order, name in session.execute(query)]


# -- the organisation's vouchers ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoucherView:
    """One row of the organisation's voucher table."""

    voucher: Voucher
    state: rules.VoucherState
    used_on: dt.date | None = None
    passed: bool | None = None  # the attempt's result: only for a voucher accepted from us

    @property
    def refundable(self) -> bool:
        return self.state is rules.VoucherState.UNASSIGNED


def facts(voucher: Voucher, used: bool = False) -> rules.VoucherFacts:
    return rules.VoucherFacts(
        module=voucher.module,
        expires_on=voucher.expires_on,
        assigned_email=voucher.assigned_email,
        accepted=voucher.authorization_id is not None,
        used=used,
        refunded=voucher.refunded_at is not None,
    )


def organisation_vouchers(
    session: Session, organisation: Organisation, today: dt.date
) -> list[VoucherView]:
    """Every voucher of the organisation with its state; a used one with its attempt's date
    and result (the candidate accepted this organisation's voucher, so it may see that)."""
    rows = session.execute(
        select(Voucher, Attempt.taken_on, Attempt.passed)
        .outerjoin(Authorization, Authorization.id == Voucher.authorization_id)
        .outerjoin(Attempt, Attempt.id == Authorization.used_by_attempt_id)
        .where(Voucher.organisation_id == organisation.id)
        .order_by(Voucher.id)
    ).all()
    views = []
    for voucher, taken_on, passed in rows:
        state = rules.state_of(facts(voucher, used=taken_on is not None), today)
        views.append(VoucherView(voucher, state, taken_on, passed))
    return views


def _locked_voucher(session: Session, organisation: Organisation, voucher_id: int) -> Voucher:
    """The organisation's voucher, locked; another organisation's is as if it did not exist."""
    voucher = session.scalars(
        select(Voucher)
        .where(Voucher.id == voucher_id, Voucher.organisation_id == organisation.id)
        .with_for_update()
    ).one_or_none()
    if voucher is None:
        raise LookupError(voucher_id)
    return voucher


def assign(
    session: Session,
    organisation: Organisation,
    voucher_id: int,
    email: str,
    now: dt.datetime,
    today: dt.date,
) -> Voucher:
    """Give a voucher to an employee's address (or to another instead, before acceptance)."""
    voucher = _locked_voucher(session, organisation, voucher_id)
    if not rules.may_assign(facts(voucher), today):
        state = rules.state_of(facts(voucher), today)
        raise VoucherError(f"a voucher {state.value} cannot be assigned")
    voucher.assigned_email = email
    voucher.assigned_at = now
    voucher.refusal = None
    session.flush()
    return voucher


def refund(
    session: Session,
    gateway: Gateway,
    organisation: Organisation,
    voucher_id: int,
    now: dt.datetime,
    today: dt.date,
) -> Voucher:
    """Refund one unassigned, unexpired voucher: a partial refund of its price."""
    voucher = _locked_voucher(session, organisation, voucher_id)
    if not rules.may_refund(facts(voucher), today):
        state = rules.state_of(facts(voucher), today)
        raise VoucherError(f"only an unassigned voucher is refunded; this one is {state.value}")
    # Locked, so that the echo of this refund (charge.refunded) waits to see it counted.
    order = session.scalars(
        select(VoucherOrder).where(VoucherOrder.id == voucher.order_id).with_for_update()
    ).one()
    intent = order.payment_intent_id
    if intent is None:
        raise VoucherError("the voucher's payment is not known yet")
    voucher.refund_id = gateway.refund_payment(
        intent, amount_cents=voucher.price_cents, idempotency_key=f"voucher-refund-{voucher.code}"
    )
    voucher.refunded_at = now
    order.refunded_cents += voucher.price_cents
    session.flush()
    return voucher


def apply_stripe_refunds(session: Session, refunds: ChargeRefunds, now: dt.datetime) -> bool:
    """A `charge.refunded` event for a voucher order's payment (False when it is not one).

    What the shop did not refund itself (a refund made in Stripe's dashboard) is matched to
    the order's unassigned vouchers, newest first, when it is a whole number of their price;
    otherwise (it would take an assigned or accepted voucher, or matches no number of them)
    the order is flagged for staff and no voucher changes. The amount is cumulative, so a
    redelivered event, or the echo of the shop's own refund, changes nothing.
    """
    order = session.scalars(
        select(VoucherOrder)
        .where(VoucherOrder.payment_intent_id == refunds.payment_intent_id)
        .with_for_update()
    ).first()
    if order is None:
        return False
    unexplained = refunds.amount_refunded_cents - order.refunded_cents
    if unexplained <= 0:
        return True
    order.refunded_cents = refunds.amount_refunded_cents
    matched = dashboard_refunded_vouchers(order, unexplained)
    if matched is None:
        order.staff_attention = with_matter(
            order.staff_attention,
            f"Stripe has refunded {money(order.refunded_cents)} of this payment in all: "
            f"{money(unexplained)} of it is not a number of unassigned vouchers at "
            f"{money(order.unit_price_cents)}. No voucher was marked refunded: decide which "
            "it was for.",
        )
        return True
    for voucher in matched:
        voucher.refunded_at = now
        voucher.refund_id = None  # refunded in Stripe's dashboard, not through the shop
    if order.vouchers and all(v.refunded_at is not None for v in order.vouchers):
        order.status = VoucherOrderStatus.REFUNDED
        order.status_note = "Refunded in full in Stripe."
    session.flush()
    return True


def dashboard_refunded_vouchers(order: VoucherOrder, amount_cents: int) -> list[Voucher] | None:
    """The unassigned vouchers an amount refunded in Stripe stands for, newest first; None
    when it is not a whole number of them (more than there are, or not a multiple)."""
    unassigned = [
        v
        for v in order.vouchers
        if v.assigned_email is None and v.authorization_id is None and v.refunded_at is None
    ]
    price = order.unit_price_cents
    if price <= 0 or amount_cents % price or amount_cents // price > len(unassigned):
        return None
    return sorted(unassigned, key=lambda v: v.id, reverse=True)[: amount_cents // price]


# -- accepting ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    voucher: Voucher
    authorization: Authorization


def refusal_text(acceptance: rules.Acceptance) -> str:
    """The reason in words, with the first day it lifts when there is one."""
    if acceptance.problem is not None:
        return acceptance.problem.message
    assert acceptance.decision is not None
    text = describe_refusal(acceptance.decision.reasons)
    if acceptance.decision.available_on is not None:
        text += f" (available from {acceptance.decision.available_on.isoformat()})"
    return text


def accept(
    session: Session,
    candidate: Candidate,
    typed_code: str,
    module: str | None,
    now: dt.datetime,
    today: dt.date,
    program: Program,
) -> Accepted | rules.Acceptance:
    """Accept a voucher by its code: the fee's eligibility decides, today. Accepted, it is the
    candidate's authorization; refused, it stays with the organisation, which sees why.

    One voucher is accepted once: its row is locked, the candidate's too (the same lock as
    a paid order's), and the update that takes it only applies while it is not taken.
    """
    code = rules.normalise_code(typed_code)
    if isinstance(code, rules.CodeProblem):
        return rules.Acceptance(rules.VoucherProblem(code.value))
    voucher = session.scalars(
        select(Voucher).where(Voucher.code == code).with_for_update()
    ).one_or_none()
    session.scalars(select(Candidate).where(Candidate.id == candidate.id).with_for_update())
    history = history_of(session, candidate.id)
    decision = rules.acceptance(
        None if voucher is None else facts(voucher),
        candidate.email,
        module,
        history,
        today,
        program,
    )
    if voucher is None or decision.problem is rules.VoucherProblem.UNKNOWN:
        return decision
    if not decision.allowed:
        voucher.refusal = f"{today.isoformat()}: {refusal_text(decision)}"[:500]
        session.flush()
        return decision
    assert decision.module is not None
    return _take(session, voucher, candidate, decision, now) or rules.Acceptance(
        rules.VoucherProblem.ALREADY_ACCEPTED
    )


def _take(
    session: Session,
    voucher: Voucher,
    candidate: Candidate,
    decision: rules.Acceptance,
    now: dt.datetime,
) -> Accepted | None:
    """The authorization, and the voucher marked as taken by it; None when another took it."""
    authorization = Authorization(
        candidate_id=candidate.id,
        module=decision.module,
        granted_at=now,
        source=f"voucher {voucher.code}",
    )
    try:
        with session.begin_nested():
            session.add(authorization)
            session.flush()
            taken = session.execute(
                update(Voucher)
                .where(Voucher.id == voucher.id, Voucher.authorization_id.is_(None))
                .values(authorization_id=authorization.id, accepted_at=now, refusal=None)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise _Taken
    except (_Taken, IntegrityError):
        return None
    session.refresh(voucher)
    return Accepted(voucher, authorization)


class _Taken(Exception):
    """The voucher was accepted by another request first."""
