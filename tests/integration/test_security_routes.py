"""Security, issue #6, route by route: every route of the app is listed here, by its endpoint.

- CSRF: every POST route refuses a form without its token (400, nothing changed) and accepts it
  with the token taken from the page's own form; only the Stripe webhook and the HMAC-signed
  results API take no token.
- No state change on GET: every GET route, as a certified candidate, as staff and anonymously,
  leaves every table exactly as it was; and no page has inline code the CSP would block.
- Access: pages behind sign-in send anonymous visitors to sign in, another candidate's things
  are 404, staff pages are 404 to candidates who are not staff.

A route added to the app and not to the tables here fails these tests until it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import factories
import pytest
import sqlalchemy as sa
from factories import TEST_SIGNING_KEY, add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from stripe_helpers import pay, signed
from werkzeug.test import TestResponse

from shop import create_app, db, payments
from shop.models import (
    Candidate,
    Credential,
    Order,
    OrderItem,
    OrderStatus,
    Shipment,
    SignInToken,
)
from shop.models_organisations import Organisation, OrganisationApiKey, OrganisationMember
from shop.models_vouchers import Voucher, VoucherOrder
from shop.payments.offline import FakeStripe
from shop.services import organisations, program, vouchers
from shop.services.credentials import issue_credentials
from shop.web.session import KEY as SESSION_KEY

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
D = dt.date
PASSES = {
    "safety": D(2025, 9, 1),
    "quality": D(2025, 11, 10),
    "processes": D(2026, 2, 3),
    "maintenance": D(2026, 5, 20),
}
RESULTS_SECRET = "test-results-secret"
WEBHOOK_SECRET = "whsec_test_security"
# Machine-to-machine, authenticated by their own signatures instead of a session.
CSRF_EXEMPT = frozenset({"api.post_results", "stripe.webhook", "org_api.api_verify"})
REFUSED_PAGE = "This form was not accepted"


@pytest.fixture(autouse=True)
def _memory_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def sign_in_as(client: FlaskClient, candidate_id: int) -> None:
    factories.sign_in_as(client, candidate_id)  # a server-side session, as the link makes


def routes(app: Flask, method: str) -> set[str]:
    """The endpoints of the app that answer `method` (the site's build-only rules answer none)."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not rule.build_only and method in (rule.methods or set())
    }


def endpoint_of(app: Flask, path: str, method: str) -> str:
    endpoint, _ = app.url_map.bind("localhost").match(urlsplit(path).path, method=method)
    return str(endpoint)


def dump(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database (reflected: tables the models do not know too)."""
    engine = app.extensions["db.engine"]
    tables = sa.MetaData()
    tables.reflect(bind=engine)
    with engine.connect() as connection:
        found = {}
        for table in tables.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(sa.select(table).order_by(*order))
            found[table.name] = [tuple(row) for row in rows]
    assert "candidate" in found and "alembic_version" in found
    return found


def session_of(client: FlaskClient) -> dict[str, Any]:
    with client.session_transaction("/shop/") as session:
        return dict(session)


# -- forms as a browser reads them --------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(attributes.get("action", ""), attributes.get("method", "get"))
            self.forms.append(self._open)
        elif tag in ("input", "textarea") and self._open is not None and attributes.get("name"):
            self._open.fields[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def form_on(page: TestResponse, action: str, **having: str) -> Form:
    """The one POST form of `page` sent to `action` ("" for the page itself) with `having`."""
    assert page.status_code == 200, page.request.path
    parser = _Forms()
    parser.feed(page.text)
    found = [
        form
        for form in parser.forms
        if form.method.lower() == "post"
        and form.action == action
        and all(form.fields.get(name) == value for name, value in having.items())
    ]
    assert len(found) == 1, (action, having, parser.forms)
    return found[0]


# -- CSRF ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    """The offline Stripe; one may run per process, so share one another module left running."""
    running = FakeStripe.running()
    if running is not None:
        yield running
        return
    with FakeStripe.start() as fake:
        yield fake


@pytest.fixture
def csrf_app(
    fake_stripe: FakeStripe, database_url: str, clock: Any, tmp_path: Path
) -> Iterator[Flask]:
    """The shop as it runs: CSRF on, paying through the offline Stripe."""
    fake_stripe.reset()
    fake_stripe.set_clock(lambda: int(clock().timestamp()))
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "CLOCK": clock,
            "OUTBOX_DIR": tmp_path / "outbox",
            "WTF_CSRF_ENABLED": True,
            "RESULTS_API_SECRET": RESULTS_SECRET,
            "STRIPE_API_BASE": fake_stripe.url,
            "STRIPE_SECRET_KEY": "sk_test_security",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "OB_SIGNING_KEY": TEST_SIGNING_KEY,
        }
    )
    yield app
    fake_stripe.set_clock(None)
    app.extensions["db.engine"].dispose()


class Forms:
    """Sends forms as a browser would, first without their token (and with someone else's)."""

    def __init__(self, app: Flask, foreign_token: str) -> None:
        self.app = app
        self.foreign_token = foreign_token
        self.refused: set[str] = set()
        self.accepted: set[str] = set()

    def send(
        self,
        client: FlaskClient,
        page_url: str,
        action: str,
        *,
        having: dict[str, str] | None = None,
        fill: dict[str, str] | None = None,
        answered: tuple[int, ...] = (302, 303),
    ) -> TestResponse:
        form = form_on(client.get(page_url), action, **(having or {}))
        target = form.action or urlsplit(page_url).path
        endpoint = endpoint_of(self.app, target, "POST")
        fields = {**form.fields, **(fill or {})}
        assert fields.get("csrf_token"), f"the form to {target} has no CSRF token"
        without = {name: value for name, value in fields.items() if name != "csrf_token"}

        tables, cookie = dump(self.app), session_of(client)
        for attempt in (without, {**without, "csrf_token": self.foreign_token}):
            refused = client.post(target, data=attempt)
            assert refused.status_code == 400, (endpoint, refused.status_code)
            assert REFUSED_PAGE in refused.text
            assert dump(self.app) == tables, f"{endpoint} changed the database without a token"
            assert session_of(client) == cookie, f"{endpoint} changed the session without a token"
        self.refused.add(endpoint)

        accepted = client.post(target, data=fields)
        assert accepted.status_code in answered, (endpoint, accepted.status_code)
        self.accepted.add(endpoint)
        return accepted


def add_certified(session: Session, name: str, email: str) -> Candidate:
    candidate = add_candidate(session, name=name, email=email)
    for module, day in PASSES.items():
        add_attempt(session, candidate, module, day, passed=True)
    issue_credentials(session, candidate.id, now=NOW, program=program.current())
    return candidate


def add_token(app: Flask, candidate_id: int) -> str:
    token = secrets.token_urlsafe(32)
    with database(app) as session:
        session.add(
            SignInToken(
                candidate_id=candidate_id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                created_at=NOW,
                expires_at=NOW + dt.timedelta(minutes=15),
            )
        )
    return token


def rows(app: Flask, model: Any, *where: Any) -> list[Any]:
    with app.app_context():
        found = list(db.session().scalars(select(model).where(*where)))
        db.session().close()
        return found


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_every_post_route_needs_the_token_of_its_own_form(
    csrf_app: Flask, fake_stripe: FakeStripe
) -> None:
    app = csrf_app
    with database(app) as session:
        ana = add_certified(session, "Ana Lopez", "ana@example.com")
        sam = add_candidate(session, name="Sam Staff", email="sam@example.com")
        sam.is_staff = True
        safety = next(c.verify_id for c in rows_of(session, ana.id) if c.module == "safety")
    stranger = app.test_client()
    foreign_token = form_on(stranger.get("/shop/signin"), "/shop/signin").fields["csrf_token"]
    forms = Forms(app, foreign_token)
    browser = app.test_client()

    # Asking for a sign-in link, then following it.
    sent = forms.send(browser, "/shop/signin", "/shop/signin", fill={"email": "ana@example.com"})
    assert sent.location == "/shop/signin/sent"
    assert len(rows(app, SignInToken)) == 1
    token = add_token(app, ana.id)
    signed_in = forms.send(browser, f"/shop/signin/{token}", "")
    assert signed_in.location == "/shop/account"
    assert "Signed in as <strong>Ana Lopez</strong>" in browser.get("/shop/account").text

    # The cart: add two items, remove one.
    forms.send(browser, "/shop/", "/shop/cart", having={"sku": "certificate-print-safety"})
    forms.send(browser, "/shop/", "/shop/cart", having={"sku": "small-patch"})
    assert session_of(browser)["cart"] == {"certificate-print-safety": 1, "small-patch": 1}
    forms.send(browser, "/shop/cart", "/shop/cart/remove", having={"sku": "small-patch"})
    assert session_of(browser)["cart"] == {"certificate-print-safety": 1}

    # Checkout goes to the offline Stripe's pay page, which the CSP's form-action allows.
    to_stripe = forms.send(browser, "/shop/cart", "/shop/checkout")
    assert to_stripe.status_code == 303
    stripe_origin = "{0.scheme}://{0.netloc}".format(urlsplit(to_stripe.location))
    assert stripe_origin == fake_stripe.url
    form_action = to_stripe.headers["Content-Security-Policy"].split("form-action ")[1].split()
    assert form_action == ["'self'", stripe_origin]
    (paid,) = rows(app, Order)
    back = pay(to_stripe.location)
    assert browser.get(local_path(back.headers["Location"])).status_code == 200
    assert rows(app, Order, Order.id == paid.id)[0].status == OrderStatus.PAID

    # An order left unpaid: "Go to payment" on its page.
    forms.send(browser, "/shop/", "/shop/cart", having={"sku": "small-patch"})
    forms.send(browser, "/shop/cart", "/shop/checkout")
    (pending,) = rows(app, Order, Order.status == OrderStatus.PENDING)
    order_page = f"/shop/orders/{pending.public_id}"
    again = forms.send(browser, order_page, f"{order_page}/pay")
    assert again.status_code == 303
    assert urlsplit(again.location).netloc == urlsplit(fake_stripe.url).netloc

    # Staff: ship, refund, revoke, reinstate, reissue.
    staff = app.test_client()
    sign_in_as(staff, sam.id)
    admin_order = f"/shop/admin/orders/{paid.public_id}"
    (shipment,) = rows(app, Shipment)
    forms.send(staff, admin_order, f"/shop/admin/shipments/{shipment.id}/ship")
    assert rows(app, Shipment)[0].shipped_at is not None
    refund = f"{admin_order}/refund"
    forms.send(staff, admin_order, refund, fill={"reason": "Sent twice"})
    assert rows(app, Order, Order.id == paid.id)[0].status == OrderStatus.REFUNDED
    # Refunded after it was shipped: the order asks for staff until they say it was dealt with.
    assert rows(app, Order, Order.id == paid.id)[0].staff_attention
    forms.send(staff, admin_order, f"{admin_order}/attention")
    assert rows(app, Order, Order.id == paid.id)[0].staff_attention is None
    credential_page = f"/shop/admin/credentials/{safety}"
    forms.send(staff, credential_page, f"{credential_page}/revoke", fill={"reason": "Review"})
    assert rows(app, Credential, Credential.verify_id == safety)[0].revoked_at is not None
    forms.send(staff, credential_page, f"{credential_page}/reinstate", fill={"reason": "Cleared"})
    assert rows(app, Credential, Credential.verify_id == safety)[0].revoked_at is None
    forms.send(
        staff,
        credential_page,
        f"{credential_page}/reissue",
        fill={"name": "Ana Lopez-Ortiz", "reason": "Married"},
    )
    assert rows(app, Credential, Credential.verify_id == safety)[0].holder_name == (
        "Ana Lopez-Ortiz"
    )

    # Checking a pasted credential: a report, not a redirect.
    pasted = forms.send(
        browser,
        "/shop/verify/credential",
        "/shop/verify/credential",
        fill={"credential": "{}"},
        answered=(422,),
    )
    assert "not a credential" in pasted.text

    # Signing out, from the form on every signed-in page.
    # Organisations: staff make one with Ana as its member, add and remove another; Ana adds
    # and removes a member, makes a key (shown on the page it answers) and revokes it, and
    # verifies a list of ids (the table is the answer).
    admin_orgs = "/shop/admin/organisations/"
    forms.send(
        staff,
        admin_orgs,
        admin_orgs,
        fill={"name": "Acme", "contact_email": "hr@acme.example", "member": "ana@example.com"},
    )
    (acme,) = rows(app, Organisation)
    staff_org = f"{admin_orgs}{acme.public_id}"
    forms.send(staff, staff_org, f"{staff_org}/members", fill={"email": "carl@acme.example"})
    carl = {"email": "carl@acme.example"}
    forms.send(staff, staff_org, f"{staff_org}/members/remove", having=carl)
    org = f"/shop/org/{acme.public_id}/"
    forms.send(browser, org, f"{org}members", fill={"email": "dee@acme.example"})
    (dee,) = rows(app, OrganisationMember, OrganisationMember.email == "dee@acme.example")
    forms.send(browser, org, f"{org}members/{dee.id}/remove")
    forms.send(browser, org, f"{org}keys", answered=(200,))
    (key,) = rows(app, OrganisationApiKey)
    forms.send(browser, org, f"{org}keys/{key.id}/revoke")
    assert rows(app, OrganisationApiKey)[0].revoked_at is not None
    forms.send(browser, org, f"{org}verify", fill={"ids": safety}, answered=(200,))

    # Vouchers: Ana buys two for Green through Checkout (made here from the paid session, as
    # the webhook would), assigns one to herself and accepts it, and refunds the other.
    voucher_page = f"{org}vouchers"
    bought = forms.send(
        browser, voucher_page, f"{voucher_page}/buy", fill={"module": "green", "quantity": "2"}
    )
    assert bought.status_code == 303 and pay(bought.location).status_code in (302, 303)
    (voucher_order,) = rows(app, VoucherOrder)
    with database(app) as session:
        assert voucher_order.checkout_session_id
        paid_session = payments.gateway().retrieve_checkout_session(
            voucher_order.checkout_session_id
        )
        vouchers.confirm_payment(
            session, payments.gateway(), paid_session, NOW, NOW.date(), program.current()
        )
    first, second = rows(app, Voucher)
    assign = f"{voucher_page}/{first.id}/assign"
    forms.send(browser, voucher_page, assign, fill={"email": "ana@example.com"})
    forms.send(browser, "/shop/vouchers", "/shop/vouchers", fill={"code": first.code})
    assert rows(app, Voucher, Voucher.id == first.id)[0].authorization_id is not None
    forms.send(browser, voucher_page, f"{voucher_page}/{second.id}/refund")
    assert rows(app, Voucher, Voucher.id == second.id)[0].refunded_at is not None

    # Signing out everywhere, from the account page; then out, from every signed-in page.
    everywhere = forms.send(staff, "/shop/account", "/shop/signout/everywhere")
    assert everywhere.location == "/shop/signin"
    assert staff.get("/shop/account").status_code == 302
    out = forms.send(browser, "/shop/account", "/shop/signout")
    assert out.location == "/shop/signin"
    assert SESSION_KEY not in session_of(browser)

    protected = routes(app, "POST") - CSRF_EXEMPT
    assert forms.refused == protected, "a POST route is missing from this test"
    assert forms.accepted == protected


TEMPLATES = Path(__file__).resolve().parents[2] / "shop" / "templates"
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


def test_every_post_form_in_the_templates_carries_a_token() -> None:
    """Also the forms the test above does not send (the payment retry, the shipping queue)."""
    posts = 0
    for path in sorted(TEMPLATES.rglob("*.html")):
        for attributes, body in FORM.findall(path.read_text(encoding="utf-8")):
            method = re.search(r'method="(\w+)"', attributes, re.I)
            assert method is not None, f"{path.name}: a form without a method"
            if method.group(1).lower() == "get":
                assert "csrf_token" not in body, f"{path.name}: a GET form would leak its token"
                continue
            posts += 1
            assert 'name="csrf_token" value="{{ csrf_token() }}"' in body or (
                "form.hidden_tag()" in body
            ), f"{path.name}: a POST form without a CSRF token"
    assert posts >= 13


def rows_of(session: Session, candidate_id: int) -> list[Credential]:
    return list(session.scalars(select(Credential).where(Credential.candidate_id == candidate_id)))


def test_only_the_webhook_and_the_results_api_take_no_token(csrf_app: Flask) -> None:
    app = csrf_app
    assert routes(app, "POST") >= CSRF_EXEMPT
    machine = app.test_client()  # no session, no cookie, no token: a server calling

    body = json.dumps({"results": []}).encode()
    timestamp = str(int(app.config["CLOCK"]().timestamp()))
    digest = hmac.new(RESULTS_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    results = machine.post(
        "/shop/api/results",
        data=body,
        content_type="application/json",
        headers={"X-CPT-Timestamp": timestamp, "X-CPT-Signature": f"sha256={digest.hexdigest()}"},
    )
    assert results.status_code == 200, results.text
    assert results.get_json()["records"] == 0

    event = {"id": "evt_security_1", "object": "event", "type": "customer.created"}
    payload, signature = signed({**event, "data": {"object": {}}}, WEBHOOK_SECRET)
    webhook = machine.post(
        "/shop/stripe/webhook",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )
    assert webhook.status_code == 200, webhook.text
    assert webhook.get_json() == {"received": True, "handled": False}

    # They are exempt from the token, not from their signatures.
    assert machine.post("/shop/api/results", data=body).status_code == 401
    assert machine.post("/shop/stripe/webhook", data=payload).status_code == 400


# -- the world the GET tests look at ------------------------------------------------------------


@dataclass(frozen=True)
class World:
    ana: int  # certified, with credentials, a diagnostic report and orders
    ben: int  # another candidate: nothing passed, nothing bought
    sam: int  # staff
    verify_ids: tuple[str, ...]  # Ana's
    report: str  # Ana's attempt with a report
    paid: str  # Ana's orders
    refunded: str
    pending: str
    token: str  # an unused sign-in link of Ana's
    org: str = ""  # one of the two organisations Ana is a member of


def add_order(session: Session, candidate_id: int, public_id: str, status: OrderStatus) -> Order:
    at = NOW - dt.timedelta(days=3)
    paid = status in (OrderStatus.PAID, OrderStatus.REFUNDED)
    order = Order(
        public_id=public_id,
        candidate_id=candidate_id,
        status=status,
        total_cents=2500,
        # No checkout session: the order page of a pending one would ask Stripe about it.
        checkout_session_id=None,
        payment_intent_id=f"pi_{public_id}" if paid else None,
        shipping_address={"name": "Ana Lopez", "address": {"line1": "1 Main St"}} if paid else None,
        created_at=at,
        paid_at=at if paid else None,
        updated_at=at,
        items=[
            OrderItem(
                sku="certificate-print-safety",
                kind="certificate_print",
                module="safety",
                name="Safety certificate, printed",
                unit_price_cents=2500,
                quantity=1,
                physical=True,
            )
        ],
    )
    session.add(order)
    session.flush()
    if status == OrderStatus.PAID:
        session.add(Shipment(order_item_id=order.items[0].id, queued_at=at))
        session.flush()
    return order


@pytest.fixture
def world(app: Flask) -> World:
    with database(app) as session:
        ana = add_certified(session, "Ana Lopez", "ana@example.com")
        attempt = add_attempt(
            session,
            ana,
            "green",
            D(2026, 4, 1),
            passed=False,
            kwa_scores={"waste-reduction": 50},
            reference="A-SEC-0001",
        )
        # A pass recorded without issuing its credential (as data from before credentials
        # were issued on import would be): no GET may issue it.
        add_attempt(session, ana, "green", D(2026, 5, 1), passed=True, reference="A-SEC-0002")
        ben = add_candidate(session, name="Ben Okafor", email="ben@example.com")
        sam = add_candidate(session, name="Sam Staff", email="sam@example.com")
        sam.is_staff = True
        paid = add_order(session, ana.id, "ord_security_paid", OrderStatus.PAID)
        refunded = add_order(session, ana.id, "ord_security_refunded", OrderStatus.REFUNDED)
        pending = add_order(session, ana.id, "ord_security_pending", OrderStatus.PENDING)
        verify_ids = tuple(c.verify_id for c in rows_of(session, ana.id))
        ids = (ana.id, ben.id, sam.id)
        acme, _ = (
            organisations.create(session, name, "hr@example.com", ana.email, by="sam", now=NOW)
            for name in ("Acme", "Bolt")
        )
    return World(
        *ids,
        verify_ids=verify_ids,
        report=attempt.reference,
        paid=paid.public_id,
        refunded=refunded.public_id,
        pending=pending.public_id,
        token=add_token(app, ids[0]),
        org=acme.public_id,
    )


DOCS = "/shop/account/documents"


def get_urls(world: World) -> dict[str, list[str]]:
    """Every GET endpoint of the app, with the URLs that exercise it."""
    safety = world.verify_ids[0]
    return {
        "signin.start": ["/shop/signin", "/shop/signin?next=/shop/orders"],
        "signin.confirm": [f"/shop/signin/{world.token}", f"/shop/signin/{world.token}?next=/x"],
        "signin.sent": ["/shop/signin/sent"],
        "account.dashboard_page": ["/shop/account"],
        "documents.certificate": [f"{DOCS}/certificates/safety.pdf"],
        "documents.full_certification": [f"{DOCS}/full-certification.pdf"],
        "documents.wallet_card": [f"{DOCS}/wallet-card.pdf"],
        "documents.report": [f"{DOCS}/reports/{world.report}.pdf"],
        "documents.receipt": [f"{DOCS}/receipts/{world.paid}.pdf"],
        "store.catalogue": ["/shop/"],
        "store.cart": ["/shop/cart"],
        "store.orders": ["/shop/orders"],
        "store.order": [f"/shop/orders/{o}" for o in (world.paid, world.refunded, world.pending)],
        "admin.home": ["/shop/admin/"],
        "admin.orders": ["/shop/admin/orders", "/shop/admin/orders?status=paid"],
        "admin.order": [f"/shop/admin/orders/{world.paid}", f"/shop/admin/orders/{world.pending}"],
        "admin.shipping": ["/shop/admin/shipping"],
        "admin.credentials_page": ["/shop/admin/credentials", "/shop/admin/credentials?q=ana"],
        "admin.credential": [f"/shop/admin/credentials/{safety}"],
        "verify.form": ["/shop/verify", f"/shop/verify?id={safety.lower()}"],
        "verify.credential": [f"/shop/verify/{safety}"],
        "verify.credential_json": [f"/shop/verify/{safety}.json"],
        "verify.paste_form": ["/shop/verify/credential"],
        "verify.baked": [f"/shop/verify/{safety}.png"],
        "badges.svg": ["/shop/badges/safety.svg", "/shop/badges/full-certification.svg"],
        "badges.png": ["/shop/badges/safety.png", "/shop/badges/full-certification.png"],
        "status_list.status_list": ["/shop/credentials/status/1"],
        "static": ["/static/css/site.css"],
        "org.home": ["/shop/org/"],
        "org.organisation": [f"/shop/org/{world.org}/"],
        "org_admin.list_page": ["/shop/admin/organisations/"],
        "org_admin.organisation": [f"/shop/admin/organisations/{world.org}"],
        "vouchers.vouchers_page": [f"/shop/org/{world.org}/vouchers"],
        "vouchers.accept_page": ["/shop/vouchers"],
    }


def test_the_get_tables_name_every_get_route(app: Flask, world: World) -> None:
    urls = get_urls(world)
    assert set(urls) == routes(app, "GET"), "a GET route is missing from get_urls()"
    for endpoint, listed in urls.items():
        for url in listed:
            assert endpoint_of(app, url, "GET") == endpoint, url
    assert set(ACCESS) == routes(app, "GET"), "a GET route is missing from ACCESS"


def test_no_get_changes_anything(app: Flask, world: World) -> None:
    ana, sam, anonymous = app.test_client(), app.test_client(), app.test_client()
    sign_in_as(ana, world.ana)
    sign_in_as(sam, world.sam)
    before = dump(app)
    answered = []
    for listed in get_urls(world).values():
        for url in listed:
            for who, client in (("ana", ana), ("staff", sam), ("anonymous", anonymous)):
                response = client.get(url)
                assert response.status_code in (200, 301, 302, 404), (who, url)
                answered.append((who, url, response.status_code))
                response.close()
    assert dump(app) == before
    # The requests did reach the pages (not only sign-in redirects).
    assert ("ana", f"{DOCS}/certificates/safety.pdf", 200) in answered
    assert ("staff", f"/shop/admin/orders/{world.paid}", 200) in answered
    assert ("anonymous", f"/shop/signin/{world.token}", 200) in answered


class _InlineCode(HTMLParser):
    """What `default-src 'self'` blocks in a page: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        if "style" in names:
            self.found.append(f"style attribute on <{tag}>")
        self.found += [f"{name} handler on <{tag}>" for name in names if name.startswith("on")]
        self.found += [
            f"javascript: URL in {name} of <{tag}>"
            for name, value in attrs
            if (value or "").strip().lower().startswith("javascript:")
        ]


def test_no_page_has_inline_code_the_csp_would_block(app: Flask, world: World) -> None:
    ana, sam, anonymous = app.test_client(), app.test_client(), app.test_client()
    sign_in_as(ana, world.ana)
    sign_in_as(sam, world.sam)
    pages = 0
    for listed in get_urls(world).values():
        for url in listed:
            for client in (ana, sam, anonymous):
                response = client.get(url)
                if response.mimetype == "text/html":
                    parser = _InlineCode()
                    parser.feed(response.text)
                    assert parser.found == [], url
                    pages += 1
                response.close()
    assert pages > 40


def test_a_credential_not_issued_yet_shows_no_id_and_no_document(
    app: Flask, client: FlaskClient
) -> None:
    """Credentials are issued when results are recorded; the pages only read them."""
    with database(app) as session:
        cy = add_candidate(session, name="Cy Park", email="cy@example.com")
        for module, day in PASSES.items():
            add_attempt(session, cy, module, day, passed=True)
    sign_in_as(client, cy.id)
    before = dump(app)
    page = client.get("/shop/account")
    assert page.status_code == 200
    assert "Full CPT certification" in page.text  # what the results earn is shown
    assert "/shop/verify/" not in page.text and "Verification id" not in page.text
    for document in ("certificates/safety.pdf", "full-certification.pdf", "wallet-card.pdf"):
        assert client.get(f"{DOCS}/{document}").status_code == 404, document
    assert dump(app) == before

    with database(app) as session:
        issue_credentials(session, cy.id, now=NOW, program=program.current())
    assert "/shop/verify/" in client.get("/shop/account").text
    assert client.get(f"{DOCS}/certificates/safety.pdf").status_code == 200


# -- access ------------------------------------------------------------------------------------

OWN = "own"  # one candidate's thing: the owner only
PERSONAL = "personal"  # behind sign-in, each sees their own
STAFF = "staff"  # staff only
PUBLIC = "public"  # anyone
ACCESS = {
    "documents.certificate": OWN,
    "documents.full_certification": OWN,
    "documents.wallet_card": OWN,
    "documents.report": OWN,
    "documents.receipt": OWN,
    "store.order": OWN,
    "account.dashboard_page": PERSONAL,
    "store.catalogue": PERSONAL,
    "store.cart": PERSONAL,
    "store.orders": PERSONAL,
    "admin.home": STAFF,
    "admin.orders": STAFF,
    "admin.order": STAFF,
    "admin.shipping": STAFF,
    "admin.credentials_page": STAFF,
    "admin.credential": STAFF,
    "signin.start": PUBLIC,
    "signin.confirm": PUBLIC,
    "signin.sent": PUBLIC,
    "verify.form": PUBLIC,
    "verify.credential": PUBLIC,
    "verify.credential_json": PUBLIC,
    "verify.paste_form": PUBLIC,
    "verify.baked": PUBLIC,
    "badges.svg": PUBLIC,
    "badges.png": PUBLIC,
    "status_list.status_list": PUBLIC,
    "static": PUBLIC,
    "org.home": PERSONAL,  # the organisations one is a member of: none, for most
    "org.organisation": OWN,  # its members only (Ana, here)
    "org_admin.list_page": STAFF,
    "org_admin.organisation": STAFF,
    "vouchers.vouchers_page": OWN,  # its members only (Ana, here)
    "vouchers.accept_page": PERSONAL,
}
# role -> kind -> the status expected; "sign in" is a 302 to the sign-in page coming back here.
EXPECTED = {
    "anonymous": {OWN: "sign in", PERSONAL: "sign in", STAFF: "sign in", PUBLIC: 200},
    "owner": {OWN: 200, PERSONAL: 200, STAFF: 404, PUBLIC: 200},
    "another candidate": {OWN: 404, PERSONAL: 200, STAFF: 404, PUBLIC: 200},
    "staff": {OWN: 404, PERSONAL: 200, STAFF: 200, PUBLIC: 200},
}


def ana_traces(world: World) -> list[str]:
    """What only Ana's own pages (and staff pages) may show."""
    return ["Ana Lopez", "ana@example.com", *world.verify_ids, world.paid, world.pending]


def test_access_matrix(app: Flask, world: World) -> None:
    clients = {role: app.test_client() for role in EXPECTED}
    sign_in_as(clients["owner"], world.ana)
    sign_in_as(clients["another candidate"], world.ben)
    sign_in_as(clients["staff"], world.sam)
    checked = 0
    for endpoint, listed in get_urls(world).items():
        kind = ACCESS[endpoint]
        for url in listed:
            if "?" in url and kind != PUBLIC:
                continue  # the same route with a query: once is enough here
            for role, client in clients.items():
                expected = EXPECTED[role][kind]
                response = client.get(url)
                where = (role, url)
                if expected == "sign in":
                    assert response.status_code == 302, where
                    parts = urlsplit(response.location)
                    assert parts.path == "/shop/signin", where
                    assert parse_qs(parts.query)["next"] == [url], where
                elif endpoint == "admin.home" and expected == 200:
                    assert (response.status_code, response.location) == (
                        302,
                        "/shop/admin/orders",
                    ), where
                elif endpoint == "verify.form" and "?id=" in url:
                    assert response.status_code == 302, where  # on to the credential's page
                else:
                    assert response.status_code == expected, (where, response.status_code)
                if kind == PERSONAL and role in ("another candidate", "staff"):
                    for trace in ana_traces(world):
                        assert trace not in response.text, (where, trace)
                response.close()
                checked += 1
    assert checked >= 4 * len(ACCESS)


def test_another_candidates_order_cannot_be_paid_either(app: Flask, world: World) -> None:
    ben = app.test_client()
    sign_in_as(ben, world.ben)
    assert ben.post(f"/shop/orders/{world.pending}/pay").status_code == 404
    anonymous = app.test_client().post(f"/shop/orders/{world.pending}/pay")
    assert anonymous.status_code == 302
    assert urlsplit(anonymous.location).path == "/shop/signin"


def test_every_route_answers_only_get_or_post(app: Flask) -> None:
    """So the GET and POST tables above are every way in (Flask adds HEAD and OPTIONS)."""
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if not rule.build_only
        for method in rule.methods or set()
    }
    assert methods == {"GET", "HEAD", "OPTIONS", "POST"}
