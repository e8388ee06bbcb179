"""Assessment vouchers against real databases (SQLite and PostgreSQL) and the offline Stripe
(localstripe and the project's Checkout add-on, driven by the real `stripe` library).

An organisation buys vouchers through Checkout and its webhook, assigns one to an employee's
address, and the employee accepts it by its code: the assessment fee's eligibility decides on
the day, and an accepted voucher is the employee's authorization, used by the next recorded
attempt. Unassigned vouchers are refunded one by one, as partial refunds of the payment.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import stripe
from factories import (
    add_attempt,
    add_authorization,
    add_candidate,
    sign_in_as,
    sign_in_member_as,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stripe_helpers import (
    offline_stripe,
    pay,
    shop_on_offline_stripe,
    wait_for,
)

from shop import db, payments
from shop.domain import vouchers as rules
from shop.domain.eligibility import Reason
from shop.models import Authorization, Candidate
from shop.models_organisations import Organisation
from shop.models_vouchers import Voucher, VoucherOrder, VoucherOrderStatus
from shop.payments.gateway import ChargeRefunds
from shop.payments.offline import FakeStripe
from shop.services import organisations, vouchers
from shop.services.program import current as current_program
from shop.services.results.attempts import record_attempts
from shop.services.results.record import ResultRecord

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
STAFF = "registrar@cpt.example.org"
EMPLOYEE = "ana@example.com"


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with offline_stripe() as fake:
        yield fake


@pytest.fixture
def shop(
    fake_stripe: FakeStripe, database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path
) -> Iterator[Flask]:
    """The shop wired to the offline Stripe, served on 127.0.0.1, its webhook registered."""
    with shop_on_offline_stripe(fake_stripe, database_url, clock, tmp_path) as (app, _):
        yield app


def new_organisation(app: Flask, name: str = "Acme Tools") -> int:
    tag = uuid.uuid4().hex[:6]
    with app.app_context(), db.transaction() as session:
        organisation = organisations.create(
            session, name, f"hr@{tag}.example", f"alice@{tag}.example", by=STAFF, now=NOW
        )
        return organisation.id


def add_vouchers(
    session: Session, organisation_id: int, count: int, module: str = "safety", **fields: object
) -> list[Voucher]:
    """Paid vouchers put straight into the database (the purchase is tested through Stripe)."""
    order = VoucherOrder(
        public_id=f"vor_{secrets.token_hex(8)}",
        organisation_id=organisation_id,
        module=module,
        name="Assessment voucher",
        quantity=count,
        unit_price_cents=6000,
        total_cents=6000 * count,
        status=VoucherOrderStatus.PAID,
        bought_by="alice@acme.example",
        created_at=NOW,
        paid_at=NOW,
    )
    session.add(order)
    session.flush()
    made = [
        Voucher(
            code=rules.make_code(secrets.randbits(rules.CODE_BITS)),
            order_id=order.id,
            organisation_id=organisation_id,
            module=module,
            price_cents=6000,
            **{"expires_on": dt.date(2027, 6, 15), **fields},
        )
        for _ in range(count)
    ]
    session.add_all(made)
    session.flush()
    return made


def urls(order: VoucherOrder) -> tuple[str, str]:
    return (f"http://shop.test/paid/{order.public_id}", "http://shop.test/cancelled")


def buy(app: Flask, organisation_id: int, quantity: int, module: str = "safety") -> str:
    """Start a purchase, pay on the hosted page and wait for the webhook; the order's id."""
    with app.app_context(), db.transaction() as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        order, checkout = vouchers.start_purchase(
            session,
            payments.gateway(),
            organisation,
            "alice@acme.example",
            module,
            quantity,
            app.config["CLOCK"](),
            current_program(),
            urls=urls,
        )
        public_id, checkout_url = order.public_id, checkout.url
    assert checkout_url is not None
    assert pay(checkout_url).status_code in (302, 303)

    def paid() -> bool:
        with app.app_context():
            status = db.session().scalars(
                select(VoucherOrder.status).where(VoucherOrder.public_id == public_id)
            )
            return status.one() == VoucherOrderStatus.PAID

    wait_for(paid)
    return public_id


def codes_of(app: Flask, public_id: str) -> list[str]:
    with app.app_context():
        return list(
            db.session().scalars(
                select(Voucher.code)
                .join(VoucherOrder, VoucherOrder.id == Voucher.order_id)
                .where(VoucherOrder.public_id == public_id)
                .order_by(Voucher.id)
            )
        )


# -- buying ------------------------------------------------------------------------------------


def test_a_paid_checkout_makes_n_voucher_codes_at_full_price_expiring_in_twelve_months(
    shop: Flask,
) -> None:
    organisation_id = new_organisation(shop)
    public_id = buy(shop, organisation_id, 3)
    codes = codes_of(shop, public_id)
    assert len(set(codes)) == 3
    assert all(rules.normalise_code(code) == code for code in codes)
    with shop.app_context():
        order = (
            db.session()
            .scalars(select(VoucherOrder).where(VoucherOrder.public_id == public_id))
            .one()
        )
        assert (order.unit_price_cents, order.total_cents) == (6000, 18000)
        assert order.payment_intent_id is not None
        purchased_on = shop.config["CLOCK"]().date()
        expected = rules.expires_on(purchased_on, current_program())
        assert {v.expires_on for v in order.vouchers} == {expected}
        assert {v.organisation_id for v in order.vouchers} == {organisation_id}


def test_the_same_paid_session_told_again_makes_no_more_vouchers(shop: Flask) -> None:
    organisation_id = new_organisation(shop)
    public_id = buy(shop, organisation_id, 2)
    with shop.app_context(), db.transaction() as session:
        order = session.scalars(
            select(VoucherOrder).where(VoucherOrder.public_id == public_id)
        ).one()
        assert order.checkout_session_id is not None
        paid = payments.gateway().retrieve_checkout_session(order.checkout_session_id)
        for _ in range(2):  # the success page, a redelivered webhook
            vouchers.confirm_payment(
                session, payments.gateway(), paid, NOW, TODAY, current_program()
            )
    assert len(codes_of(shop, public_id)) == 2


def test_a_payment_for_a_voucher_order_closed_before_it_arrived_is_refunded_whole(
    shop: Flask, fake_stripe: FakeStripe
) -> None:
    organisation_id = new_organisation(shop)
    with shop.app_context(), db.transaction() as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        order, checkout = vouchers.start_purchase(
            session,
            payments.gateway(),
            organisation,
            "alice@acme.example",
            "safety",
            2,
            shop.config["CLOCK"](),
            current_program(),
            urls=urls,
        )
        order.status = VoucherOrderStatus.EXPIRED  # as an expiry event would, just before
        public_id = order.public_id
    assert checkout.url is not None
    assert pay(checkout.url).status_code in (302, 303)

    def refunded() -> bool:
        with shop.app_context():
            status = db.session().scalars(
                select(VoucherOrder.status).where(VoucherOrder.public_id == public_id)
            )
            return status.one() == VoucherOrderStatus.REFUNDED

    wait_for(refunded)
    assert codes_of(shop, public_id) == []
    with shop.app_context():
        intent = (
            db.session()
            .scalars(
                select(VoucherOrder.payment_intent_id).where(VoucherOrder.public_id == public_id)
            )
            .one()
        )
    client = stripe.StripeClient("sk_test_shop", base_addresses={"api": fake_stripe.url})
    refunds = client.v1.refunds.list(params={"payment_intent": intent})
    assert [r.amount for r in refunds.data] == [12000]


@pytest.mark.parametrize(("module", "quantity"), [("woodwork", 1), ("safety", 0), ("", 201)])
def test_a_purchase_of_no_module_or_a_bad_quantity_is_refused_and_stores_nothing(
    shop: Flask, module: str, quantity: int
) -> None:
    organisation_id = new_organisation(shop)
    with shop.app_context(), db.transaction() as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        with pytest.raises(vouchers.VoucherError):
            vouchers.start_purchase(
                session,
                payments.gateway(),
                organisation,
                "alice@acme.example",
                module,
                quantity,
                NOW,
                current_program(),
                urls=urls,
            )
    with shop.app_context():
        assert db.session().scalars(select(func.count()).select_from(VoucherOrder)).one() == 0


# -- refunds -----------------------------------------------------------------------------------


def test_one_unassigned_voucher_is_refunded_as_a_partial_refund_of_its_price(
    shop: Flask, fake_stripe: FakeStripe
) -> None:
    organisation_id = new_organisation(shop)
    public_id = buy(shop, organisation_id, 3)
    with shop.app_context(), db.transaction() as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        first, second, _ = session.scalars(
            select(Voucher).where(Voucher.organisation_id == organisation_id).order_by(Voucher.id)
        ).all()
        today = shop.config["CLOCK"]().date()
        vouchers.assign(session, organisation, second.id, EMPLOYEE, NOW, today)
        vouchers.refund(session, payments.gateway(), organisation, first.id, NOW, today)
        with pytest.raises(vouchers.VoucherError, match="unassigned"):
            vouchers.refund(session, payments.gateway(), organisation, second.id, NOW, today)
        intent = first.order.payment_intent_id
        assert intent is not None
        states = [v.state for v in vouchers.organisation_vouchers(session, organisation, today)]
    client = stripe.StripeClient("sk_test_shop", base_addresses={"api": fake_stripe.url})
    refunds = client.v1.refunds.list(params={"payment_intent": intent})
    assert [r.amount for r in refunds.data] == [6000]
    assert states == [
        rules.VoucherState.REFUNDED,
        rules.VoucherState.ASSIGNED,
        rules.VoucherState.UNASSIGNED,
    ]
    assert public_id


def test_a_payment_that_does_not_match_its_voucher_order_is_refunded_whole_with_the_reason(
    shop: Flask, fake_stripe: FakeStripe
) -> None:
    organisation_id = new_organisation(shop)
    with shop.app_context(), db.transaction() as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        order, checkout = vouchers.start_purchase(
            session,
            payments.gateway(),
            organisation,
            "alice@acme.example",
            "safety",
            2,
            shop.config["CLOCK"](),
            current_program(),
            urls=urls,
        )
        order.total_cents = 6000  # the record disagrees with the 12000 Checkout will take
        public_id = order.public_id
    assert checkout.url is not None
    assert pay(checkout.url).status_code in (302, 303)

    def decided() -> bool:
        with shop.app_context():
            status = db.session().scalars(
                select(VoucherOrder.status).where(VoucherOrder.public_id == public_id)
            )
            return status.one() != VoucherOrderStatus.PENDING

    wait_for(decided)
    assert codes_of(shop, public_id) == []
    with shop.app_context():
        order = (
            db.session()
            .scalars(select(VoucherOrder).where(VoucherOrder.public_id == public_id))
            .one()
        )
        assert order.status == VoucherOrderStatus.REFUNDED
        assert order.status_note == "Refunded in full: the amount paid did not match the order."
        assert order.refunded_cents == 12000
        intent = order.payment_intent_id
    client = stripe.StripeClient("sk_test_shop", base_addresses={"api": fake_stripe.url})
    refunds = client.v1.refunds.list(params={"payment_intent": intent})
    assert [r.amount for r in refunds.data] == [12000]


# Three vouchers of 6000 bought, the second assigned; (cents refunded in Stripe's dashboard,
# the vouchers marked refunded by their place in the order, whether staff are asked to look).
DASHBOARD_REFUNDS = [
    (6000, [3], False),
    (12000, [1, 3], False),
    (18000, [], True),  # would take the assigned voucher
    (5000, [], True),  # not a whole number of vouchers
]


@pytest.mark.parametrize(("amount", "refunded", "flagged"), DASHBOARD_REFUNDS)
def test_a_refund_made_in_stripe_marks_that_many_unassigned_vouchers_or_flags_the_order(
    shop: Flask, fake_stripe: FakeStripe, amount: int, refunded: list[int], flagged: bool
) -> None:
    organisation_id = new_organisation(shop)
    public_id = buy(shop, organisation_id, 3)
    with shop.app_context(), db.transaction() as session:
        organisation = session.get(Organisation, organisation_id)
        order = session.scalars(
            select(VoucherOrder).where(VoucherOrder.public_id == public_id)
        ).one()
        assert organisation is not None and order.payment_intent_id is not None
        today = shop.config["CLOCK"]().date()
        vouchers.assign(session, organisation, order.vouchers[1].id, EMPLOYEE, NOW, today)
        intent = order.payment_intent_id
    client = stripe.StripeClient("sk_test_shop", base_addresses={"api": fake_stripe.url})
    client.v1.refunds.create(params={"payment_intent": intent, "amount": amount})

    def seen() -> bool:
        with shop.app_context():
            cents = db.session().scalars(
                select(VoucherOrder.refunded_cents).where(VoucherOrder.public_id == public_id)
            )
            return cents.one() == amount

    wait_for(seen)

    def outcome() -> tuple[list[int], str | None, str, bool]:
        with shop.app_context():
            order = (
                db.session()
                .scalars(select(VoucherOrder).where(VoucherOrder.public_id == public_id))
                .one()
            )
            marked = [n for n, v in enumerate(order.vouchers, 1) if v.refunded_at is not None]
            assigned_kept = order.vouchers[1].assigned_email == EMPLOYEE
            return marked, order.staff_attention, order.status, assigned_kept

    marked, attention, status, assigned_kept = outcome()
    assert marked == refunded
    assert (attention is not None) == flagged
    assert status == VoucherOrderStatus.PAID and assigned_kept
    if flagged:
        assert attention is not None and "No voucher was marked refunded" in attention
    with shop.app_context(), db.transaction() as session:  # the same event, delivered again
        refunds = ChargeRefunds(intent, amount)
        assert vouchers.apply_stripe_refunds(session, refunds, NOW)
    assert outcome() == (marked, attention, status, assigned_kept)


def test_another_organisations_voucher_cannot_be_assigned_or_refunded(shop: Flask) -> None:
    a, b = new_organisation(shop, "Acme Tools"), new_organisation(shop, "Bolt Works")
    with shop.app_context(), db.transaction() as session:
        (b_voucher,) = add_vouchers(session, b, 1)
        organisation_a = session.get(Organisation, a)
        assert organisation_a is not None
        with pytest.raises(LookupError):
            vouchers.assign(session, organisation_a, b_voucher.id, EMPLOYEE, NOW, TODAY)
        with pytest.raises(LookupError):
            vouchers.refund(session, payments.gateway(), organisation_a, b_voucher.id, NOW, TODAY)
        assert vouchers.organisation_vouchers(session, organisation_a, TODAY) == []
    with shop.app_context():
        fresh = db.session().get(Voucher, b_voucher.id)
        assert fresh is not None and fresh.assigned_email is None and fresh.refunded_at is None


# -- accepting ---------------------------------------------------------------------------------


def _setup_history(session: Session, candidate: Candidate, setup: str) -> None:
    if setup == "failed":
        add_attempt(session, candidate, "safety", dt.date(2026, 6, 1), passed=False)
    elif setup == "passed":
        add_attempt(session, candidate, "safety", dt.date(2026, 3, 1), passed=True)
    elif setup == "authorization":
        add_authorization(session, candidate, "safety")


ACCEPTANCE = [
    # (history, days after 1 June, how the code is typed, whose voucher, expected refusal)
    pytest.param("failed", 14, "code", "ours", Reason.RETAKE_WAIT, id="day 14 of a wait"),
    pytest.param("failed", 15, "code", "ours", None, id="day 15 of a wait"),
    pytest.param("failed", 16, "code", "ours", None, id="day 16 of a wait"),
    pytest.param("passed", 14, "code", "ours", Reason.MODULE_PASSED, id="a counting pass"),
    pytest.param(
        "authorization", 14, "code", "ours", Reason.AUTHORIZATION_HELD, id="authorization held"
    ),
    pytest.param("", 14, "code", "expired", rules.VoucherProblem.EXPIRED, id="expired voucher"),
    pytest.param(
        "", 14, "code", "theirs", rules.VoucherProblem.UNKNOWN, id="another organisation's code"
    ),
    pytest.param("", 14, "typo", "ours", rules.VoucherProblem.MISTYPED, id="a typo"),
    pytest.param("", 14, "lower", "ours", None, id="typed in lower case without dashes"),
]


def typed(code: str, how: str) -> str:
    if how == "typo":
        return code[:-1] + ("A" if code[-1] != "A" else "B")
    if how == "lower":
        return code.replace("-", "").lower()
    return code


@pytest.mark.parametrize(("setup", "days", "how", "whose", "refusal"), ACCEPTANCE)
def test_acceptance_runs_the_fee_eligibility_on_the_day(
    app: Flask, setup: str, days: int, how: str, whose: str, refusal: object
) -> None:
    today = dt.date(2026, 6, 1) + dt.timedelta(days=days)
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    ours, theirs = new_organisation(app, "Acme Tools"), new_organisation(app, "Bolt Works")
    with app.app_context(), db.transaction() as session:
        ana = add_candidate(session, email=EMPLOYEE)
        _setup_history(session, ana, setup)
        expiry = {"expires_on": today} if whose == "expired" else {}
        (voucher,) = add_vouchers(session, ours, 1, assigned_email=EMPLOYEE, **expiry)
        # Bolt's voucher went to someone else: its code is not Ana's to take.
        (other,) = add_vouchers(session, theirs, 1, assigned_email="sam@bolt.example")
        code = (other if whose == "theirs" else voucher).code
        result = vouchers.accept(
            session, ana, typed(code, how), None, now, today, current_program()
        )
        ana_id, voucher_id = ana.id, voucher.id
    with app.app_context():
        session = db.session()
        held = session.scalars(
            select(Authorization).where(Authorization.candidate_id == ana_id)
        ).all()
        fresh = session.get(Voucher, voucher_id)
        assert fresh is not None
        if refusal is None:
            assert isinstance(result, vouchers.Accepted)
            (authorization,) = [a for a in held if a.source != "test"]
            assert authorization.source == f"voucher {voucher.code}"
            assert fresh.authorization_id == authorization.id and fresh.accepted_at == now
            return
        assert isinstance(result, rules.Acceptance) and not result.allowed
        assert fresh.authorization_id is None  # it stays with the organisation
        if isinstance(refusal, Reason):
            assert result.decision is not None and refusal in result.decision.reasons
            # The organisation sees why, the first date included when there is one.
            assert fresh.refusal is not None and refusal.message in fresh.refusal
            if refusal is Reason.RETAKE_WAIT:
                assert "available from 2026-06-16" in fresh.refusal
        else:
            assert result.problem is refusal


def test_an_accepted_voucher_is_used_by_the_next_recorded_attempt_and_shown_used(
    app: Flask,
) -> None:
    organisation_id = new_organisation(app)
    with app.app_context(), db.transaction() as session:
        ana = add_candidate(session, email=EMPLOYEE)
        (voucher,) = add_vouchers(session, organisation_id, 1, assigned_email=EMPLOYEE)
        accepted = vouchers.accept(session, ana, voucher.code, None, NOW, TODAY, current_program())
        assert isinstance(accepted, vouchers.Accepted)
        reference = ana.reference
    record = ResultRecord(
        attempt_id=f"A-{uuid.uuid4().hex[:8]}",
        candidate_id=reference,
        name="Ana Lopez",
        email=EMPLOYEE,
        module="safety",
        taken_on=dt.date(2026, 6, 20),
        score=81.0,
        passed=True,
        kwa_scores={},
    )
    with app.app_context(), db.transaction() as session:
        candidate_id = session.scalars(
            select(Candidate.id).where(Candidate.reference == reference)
        ).one()
        used = record_attempts(
            session, [record], {reference: candidate_id}, NOW, ZoneInfo("America/New_York")
        )
        assert used == 1
    with app.app_context():
        session = db.session()
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        (view,) = vouchers.organisation_vouchers(session, organisation, dt.date(2026, 6, 21))
        assert view.state is rules.VoucherState.USED
        assert (view.used_on, view.passed) == (dt.date(2026, 6, 20), True)


MODULES = ("safety", "quality", "processes", "maintenance", "green")


def test_twenty_concurrent_accepts_of_one_code_give_exactly_one_authorization(
    app: Flask,
) -> None:
    """An any-module voucher, accepted for five modules four times each at once: the rule of
    one unused authorization per module cannot save it, only the voucher's own guard."""
    organisation_id = new_organisation(app)
    with app.app_context(), db.transaction() as session:
        ana = add_candidate(session, email=EMPLOYEE)
        (voucher,) = add_vouchers(
            session, organisation_id, 1, rules.ANY_MODULE, assigned_email=EMPLOYEE
        )
        ana_id, code = ana.id, voucher.code
    start = threading.Barrier(20)
    outcomes: list[object] = []
    lock = threading.Lock()

    def accept(module: str) -> None:
        with app.app_context():
            start.wait()
            try:
                with db.transaction() as session:
                    candidate = session.get(Candidate, ana_id)
                    assert candidate is not None
                    outcome: object = vouchers.accept(
                        session, candidate, code, module, NOW, TODAY, current_program()
                    )
            except Exception as error:  # a serialisation failure counts as a loss, not a win
                outcome = error
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=accept, args=(MODULES[i % 5],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 20
    assert sum(isinstance(o, vouchers.Accepted) for o in outcomes) == 1
    with app.app_context():
        session = db.session()
        held = session.scalars(
            select(func.count())
            .select_from(Authorization)
            .where(Authorization.candidate_id == ana_id)
        ).one()
        assert held == 1
        fresh = session.scalars(select(Voucher).where(Voucher.code == code)).one()
        assert fresh.authorization_id is not None


# -- the pages ---------------------------------------------------------------------------------


def member_client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in_member_as(client, email)
    return client


def candidate_client(app: Flask, candidate_id: int) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, candidate_id)
    return client


def org_of(app: Flask, organisation_id: int) -> tuple[str, str]:
    """An organisation's public id and its first member's address."""
    with app.app_context():
        organisation = db.session().get(Organisation, organisation_id)
        assert organisation is not None
        return organisation.public_id, organisation.members[0].email


# (method, URL, form) aimed at B's things; {a}, {b}: the organisations, {v}: B's voucher.
B_REQUESTS = [
    ("GET", "/shop/org/{b}/vouchers", {}),
    ("POST", "/shop/org/{b}/vouchers/buy", {"module": "safety", "quantity": "1"}),
    ("POST", "/shop/org/{b}/vouchers/{v}/assign", {"email": "mallory@example.com"}),
    ("POST", "/shop/org/{b}/vouchers/{v}/refund", {}),
    ("POST", "/shop/org/{a}/vouchers/{v}/assign", {"email": "mallory@example.com"}),
    ("POST", "/shop/org/{a}/vouchers/{v}/refund", {}),
]


@pytest.mark.parametrize(("method", "url", "form"), B_REQUESTS, ids=[u for _, u, _ in B_REQUESTS])
def test_a_member_of_a_gets_404_on_the_vouchers_of_b(
    app: Flask, method: str, url: str, form: dict[str, str]
) -> None:
    a, b = new_organisation(app, "Acme Tools"), new_organisation(app, "Bolt Works")
    with app.app_context(), db.transaction() as session:
        (voucher,) = add_vouchers(session, b, 1)
        voucher_id = voucher.id
    (a_public, a_member), (b_public, _) = org_of(app, a), org_of(app, b)
    client = member_client(app, a_member)
    target = url.format(a=a_public, b=b_public, v=voucher_id)
    assert client.open(target, method=method, data=form).status_code == 404
    with app.app_context():
        fresh = db.session().get(Voucher, voucher_id)
        assert fresh is not None and fresh.assigned_email is None and fresh.refunded_at is None
        assert db.session().scalars(select(func.count()).select_from(VoucherOrder)).one() == 1


def test_a_refused_acceptance_shows_the_reason_to_the_candidate_and_the_organisation(
    app: Flask,
) -> None:
    organisation_id = new_organisation(app)
    public_id, member = org_of(app, organisation_id)
    with app.app_context(), db.transaction() as session:
        ana = add_candidate(session, email=EMPLOYEE)
        add_attempt(session, ana, "safety", dt.date(2026, 6, 10), passed=False)
        (voucher,) = add_vouchers(session, organisation_id, 1)
        ana_id, voucher_id, code = ana.id, voucher.id, voucher.code
    organisation_page = member_client(app, member)
    assigned = organisation_page.post(
        f"/shop/org/{public_id}/vouchers/{voucher_id}/assign", data={"email": "Ana@Example.com"}
    )
    assert assigned.status_code == 302
    ana_client = candidate_client(app, ana_id)
    refused = ana_client.post("/shop/vouchers", data={"code": code})
    assert refused.status_code == 400
    assert "in a retake wait" in refused.text and "2026-06-25" in refused.text
    listing = organisation_page.get(f"/shop/org/{public_id}/vouchers").text
    assert "assigned" in listing and "in a retake wait" in listing and "2026-06-25" in listing
    typo = ana_client.post("/shop/vouchers", data={"code": code[:-1] + "0"})
    assert typo.status_code == 400 and "typing mistake" in typo.text


def test_an_employee_accepts_an_assigned_voucher_in_the_shop(app: Flask) -> None:
    organisation_id = new_organisation(app)
    public_id, member = org_of(app, organisation_id)
    with app.app_context(), db.transaction() as session:
        ana = add_candidate(session, email=EMPLOYEE)
        (voucher,) = add_vouchers(session, organisation_id, 1, assigned_email=EMPLOYEE)
        ana_id, code = ana.id, voucher.code
    accepted = candidate_client(app, ana_id).post("/shop/vouchers", data={"code": code.lower()})
    assert accepted.status_code == 302
    with app.app_context():
        (authorization,) = db.session().scalars(
            select(Authorization).where(Authorization.candidate_id == ana_id)
        )
        assert (authorization.module, authorization.source) == ("safety", f"voucher {code}")
    listing = member_client(app, member).get(f"/shop/org/{public_id}/vouchers").text
    assert "accepted" in listing


def test_a_bad_quantity_on_the_buy_form_is_a_400_with_a_message(app: Flask) -> None:
    public_id, member = org_of(app, new_organisation(app))
    answer = member_client(app, member).post(
        f"/shop/org/{public_id}/vouchers/buy", data={"module": "safety", "quantity": "lots"}
    )
    assert answer.status_code == 400 and "number of vouchers from 1 to 200" in answer.text


def test_the_organisation_page_links_to_its_vouchers(app: Flask) -> None:
    public_id, member = org_of(app, new_organisation(app))
    page = member_client(app, member).get(f"/shop/org/{public_id}/").text
    assert f'href="/shop/org/{public_id}/vouchers"' in page


def test_staff_see_voucher_orders_on_the_orders_page_with_their_state_and_flags(
    app: Flask,
) -> None:
    acme, bolt = new_organisation(app, "Acme Tools"), new_organisation(app, "Bolt Works")
    with app.app_context(), db.transaction() as session:
        quiet = add_vouchers(session, acme, 2)[0].order
        flagged = add_vouchers(session, bolt, 1)[0].order
        flagged.status = VoucherOrderStatus.REFUNDED
        flagged.status_note = "Refunded in full: the amount paid did not match the order."
        flagged.staff_attention = "Stripe has refunded €10.00 of this payment in all."
        quiet_id, flagged_id = quiet.public_id, flagged.public_id
        boss = add_candidate(session, email="sam@example.com")
        boss.is_staff = True
        boss_id = boss.id
    staff_page = candidate_client(app, boss_id)
    rows = {
        row.split("</tr>")[0].count("Needs staff"): row
        for row in staff_page.get("/shop/admin/orders").text.split('<tr class="voucher-order">')[1:]
    }
    assert quiet_id in rows[0] and "Acme Tools" in rows[0] and "paid" in rows[0]
    assert flagged_id in rows[1] and "Bolt Works" in rows[1] and "refunded" in rows[1]
    assert "did not match the order" in rows[1] and "€10.00 of this payment" in rows[1]
    only_paid = staff_page.get("/shop/admin/orders?status=paid").text
    assert quiet_id in only_paid and flagged_id not in only_paid


def test_the_account_page_links_to_accepting_a_voucher(app: Flask) -> None:
    with app.app_context(), db.transaction() as session:
        ana_id = add_candidate(session, email=EMPLOYEE).id
    page = candidate_client(app, ana_id).get("/shop/account").text
    assert '<a href="/shop/vouchers">Accept a voucher from your employer</a>' in page
