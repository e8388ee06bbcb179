"""A revoked credential gives nothing it gave while valid, on every path through the shop.

Staff revoke and reinstate with `flask credentials revoke|reinstate` (the staff service behind
it); then the catalogue, the cart, checkout, the downloads, the dashboard and payment (through
the offline Stripe) follow. The clock stands on 15 June 2026 (noon in New York).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from factories import add_attempt, add_candidate, sign_in_as
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from stripe_helpers import (
    offline_stripe,
    pay,
    shop_on_offline_stripe,
    wait_for,
)

from shop import db
from shop.domain.program import ItemKind
from shop.models import Credential, Order, OrderStatus, Shipment
from shop.payments.offline import FakeStripe
from shop.services.credentials import issue_credentials
from shop.services.program import current

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
FakeClock = Any  # the conftest's clock: called for the time, `current` set by hand
ONLY_SAFETY = (("safety", "2023-01-10"),)  # aged out of its window: the fee is on sale
CERTIFIED = (
    ("safety", "2025-01-10"),
    ("quality", "2025-02-10"),
    ("processes", "2025-03-10"),
    ("maintenance", "2025-04-10"),
)
MODULE_REVOKED = "your module certificate was revoked (contact the program)"
FULL_REVOKED = "your full certification was revoked (contact the program)"
NOT_HELD = "full certification is not held"


def text(page: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def candidate_with(app: Flask, passes: tuple[tuple[str, str], ...]) -> int:
    """A candidate with these passes and their credentials issued; returns the id."""
    with app.app_context(), db.transaction() as session:
        candidate = add_candidate(session, email=f"{uuid.uuid4().hex[:8]}@example.com")
        for module, day in passes:
            add_attempt(session, candidate, module, dt.date.fromisoformat(day), passed=True)
        issue_credentials(session, candidate.id, now=NOW, program=current())
        return candidate.id


def verify_id_of(app: Flask, candidate_id: int, which: str) -> str:
    """The verify id of the candidate's Safety certificate ("safety") or full certification."""
    kind, module = ("full_certification", "") if which == "full" else ("module_certificate", which)
    with app.app_context():
        return (
            db.session()
            .scalars(
                select(Credential.verify_id).where(
                    Credential.candidate_id == candidate_id,
                    Credential.kind == kind,
                    Credential.module == module,
                )
            )
            .one()
        )


def staff(app: Flask, action: str, verify_id: str) -> None:
    """`flask credentials revoke|reinstate VERIFY_ID`, as staff type it."""
    result = app.test_cli_runner().invoke(
        args=["credentials", action, verify_id, "--reason", "test", "--by", "boss@example.org"]
    )
    assert result.exit_code == 0, result.output


def signed_in(app: Flask, candidate_id: int) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, candidate_id)
    return client


class Seen(NamedTuple):
    """What one path says: allowed, or the refusal in its words."""

    allowed: bool
    words: str


def through_the_shop(client: FlaskClient, sku: str) -> list[Seen]:
    """The catalogue, the cart and checkout (with the item put in the cart cookie directly)."""
    catalogue = client.get("/shop/").get_data(as_text=True)
    offer = re.search(
        rf'<li class="offer[^"]*" id="offer-{re.escape(sku)}">(.*?)</li>', catalogue, re.S
    )
    assert offer is not None, sku
    shown = Seen('name="sku"' in offer.group(1), text(offer.group(1)))
    added = client.post("/shop/cart", data={"sku": sku, "quantity": "1"})
    cart = Seen(added.status_code == 302, text(added.get_data(as_text=True)))
    with client.session_transaction("/shop/") as session:
        session["cart"] = {sku: 1}
    checkout = client.post("/shop/checkout")  # allowed: 303 to the offline Stripe's pay page
    checked = Seen(checkout.status_code == 303, text(checkout.get_data(as_text=True)))
    client.post("/shop/cart/remove", data={"sku": sku})
    return [shown, cart, checked]


def through_a_download(client: FlaskClient, url: str) -> list[Seen]:
    response = client.get(url)
    return [Seen(response.status_code == 200, str(response.status_code))]


class Row(NamedTuple):
    kind: ItemKind
    where: str  # a sku (sold) or a download's address
    passes: tuple[tuple[str, str], ...]
    revoke: str  # "safety" or "full"
    refusal: str  # the words said while revoked (a download: its status, 404)


SOLD = [
    Row(ItemKind.ASSESSMENT_FEE, "assessment-fee-safety", ONLY_SAFETY, "safety", MODULE_REVOKED),
    Row(
        ItemKind.CERTIFICATE_PRINT,
        "certificate-print-safety",
        ONLY_SAFETY,
        "safety",
        MODULE_REVOKED,
    ),
    Row(ItemKind.SMALL_PATCH, "small-patch", ONLY_SAFETY, "safety", MODULE_REVOKED),
    Row(ItemKind.FULL_CERTIFICATE_PRINT, "full-certificate-print", CERTIFIED, "full", FULL_REVOKED),
    Row(ItemKind.FULL_CERTIFICATE_PRINT, "full-certificate-print", CERTIFIED, "safety", NOT_HELD),
    Row(ItemKind.LARGE_PATCH, "large-patch", CERTIFIED, "full", FULL_REVOKED),
    Row(ItemKind.LARGE_PATCH, "large-patch", CERTIFIED, "safety", NOT_HELD),
]
DOCUMENTS = "/shop/account/documents"
DOWNLOADED = [
    Row(
        ItemKind.CERTIFICATE_DOWNLOAD,
        f"{DOCUMENTS}/certificates/safety.pdf",
        ONLY_SAFETY,
        "safety",
        "404",
    ),
    Row(
        ItemKind.FULL_CERTIFICATE_DOWNLOAD,
        f"{DOCUMENTS}/full-certification.pdf",
        CERTIFIED,
        "full",
        "404",
    ),
    Row(
        ItemKind.FULL_CERTIFICATE_DOWNLOAD,
        f"{DOCUMENTS}/full-certification.pdf",
        CERTIFIED,
        "safety",
        "404",
    ),
    Row(ItemKind.WALLET_CARD, f"{DOCUMENTS}/wallet-card.pdf", CERTIFIED, "full", "404"),
    Row(ItemKind.WALLET_CARD, f"{DOCUMENTS}/wallet-card.pdf", CERTIFIED, "safety", "404"),
]


def test_the_web_table_covers_every_kind_the_shop_sells_or_serves() -> None:
    # KWA documents are public files of the static site, for anyone: the shop neither sells
    # nor serves them, and revocation does not touch them (tests/unit/test_revoked_credentials.py).
    assert {row.kind for row in SOLD + DOWNLOADED} == set(ItemKind) - {ItemKind.KWA_DOCUMENT}


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(r, id=f"{r.where.rsplit('/', 1)[-1]}, {r.revoke} revoked")
        for r in SOLD + DOWNLOADED
    ],
)
def test_each_item_is_refused_on_every_path_while_revoked_and_allowed_once_reinstated(
    store: Flask, row: Row
) -> None:
    app = store
    candidate = candidate_with(app, row.passes)
    client = signed_in(app, candidate)
    walk = through_a_download if row.where.startswith("/") else through_the_shop
    assert all(path.allowed for path in walk(client, row.where)), "valid"

    verify_id = verify_id_of(app, candidate, row.revoke)
    staff(app, "revoke", verify_id)
    refused = walk(client, row.where)
    assert not any(path.allowed for path in refused)
    assert all(row.refusal in path.words for path in refused), refused

    staff(app, "reinstate", verify_id)
    assert all(path.allowed for path in walk(client, row.where)), "reinstated"


# The dashboard.


def test_the_dashboard_shows_a_revoked_module_certificate_with_its_date_and_no_full_certification(
    app: Flask,
) -> None:  # the conftest app: no payment here
    candidate = candidate_with(app, CERTIFIED)
    client = signed_in(app, candidate)
    assert "You earned full CPT certification on April 10, 2025" in text(
        client.get("/shop/account").get_data(as_text=True)
    )
    staff(app, "revoke", verify_id_of(app, candidate, "safety"))
    page = text(client.get("/shop/account").get_data(as_text=True))
    assert "Safety module certificate, earned January 10, 2025: revoked on June 15, 2026" in page
    assert "the certificate was revoked on June 15, 2026" in page
    assert "You earned full" not in page
    assert "Full CPT certification, earned" not in page
    assert "Not held while a module certificate it rests on is revoked" in page


def test_the_dashboard_shows_a_revoked_full_certification_with_its_date(app: Flask) -> None:
    candidate = candidate_with(app, CERTIFIED)
    client = signed_in(app, candidate)
    verify_id = verify_id_of(app, candidate, "full")
    staff(app, "revoke", verify_id)
    page = text(client.get("/shop/account").get_data(as_text=True))
    assert "You earned full" not in page
    assert (
        "Your full CPT certification, earned on April 10, 2025, was revoked on June 15, 2026"
        in page
    )
    assert "Full CPT certification, earned April 10, 2025: revoked on June 15, 2026" in page
    staff(app, "reinstate", verify_id)
    page = text(client.get("/shop/account").get_data(as_text=True))
    assert "You earned full CPT certification on April 10, 2025" in page
    assert "revoked on" not in page


def test_a_revocation_late_in_the_evening_is_dated_by_the_programs_calendar_as_on_its_verify_page(
    app: Flask, clock: FakeClock
) -> None:
    candidate = candidate_with(app, ONLY_SAFETY)
    verify_id = verify_id_of(app, candidate, "safety")
    clock.current = dt.datetime(2026, 6, 16, 2, 0, tzinfo=dt.UTC)  # 22:00 on 15 June in New York
    staff(app, "revoke", verify_id)
    client = signed_in(app, candidate)  # now: a session idle since the morning would have ended
    page = text(client.get("/shop/account").get_data(as_text=True))
    assert "earned January 10, 2023: revoked on June 15, 2026" in page
    assert "the certificate was revoked on June 15, 2026" in page
    assert "Revoked June 15, 2026" in page
    assert "June 16" not in page
    assert "June 15, 2026" in text(client.get(f"/shop/verify/{verify_id}").get_data(as_text=True))


# Payment: a revocation between checkout and payment refunds the order and says why.


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with offline_stripe() as fake:
        yield fake


@pytest.fixture
def store(
    fake_stripe: FakeStripe,
    database_url: str,
    clock: Callable[[], dt.datetime],
    tmp_path: Path,
) -> Iterator[Flask]:
    """The shop wired to the offline Stripe and served on 127.0.0.1, the webhook registered."""
    with shop_on_offline_stripe(fake_stripe, database_url, clock, tmp_path) as (shop, _):
        yield shop


def order_of(app: Flask, candidate_id: int) -> Order:
    with app.app_context():
        return db.session().scalars(select(Order).where(Order.candidate_id == candidate_id)).one()


def open_checkout(client: FlaskClient, sku: str) -> str:
    assert client.post("/shop/cart", data={"sku": sku, "quantity": "1"}).status_code == 302
    response = client.post("/shop/checkout")
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.location)


@pytest.mark.parametrize(
    ("sku", "passes", "revoke", "reason"),
    [
        pytest.param(
            "certificate-print-safety",
            ONLY_SAFETY,
            "safety",
            MODULE_REVOKED,
            id="printed certificate",
        ),
        pytest.param("assessment-fee-safety", ONLY_SAFETY, "safety", MODULE_REVOKED, id="fee"),
        pytest.param("large-patch", CERTIFIED, "full", FULL_REVOKED, id="large patch"),
        pytest.param("full-certificate-print", CERTIFIED, "safety", NOT_HELD, id="full print"),
    ],
)
def test_a_revocation_between_checkout_and_payment_refunds_the_order_with_the_reason(
    store: Flask, sku: str, passes: tuple[tuple[str, str], ...], revoke: str, reason: str
) -> None:
    candidate = candidate_with(store, passes)
    client = signed_in(store, candidate)
    pay_page = open_checkout(client, sku)
    staff(store, "revoke", verify_id_of(store, candidate, revoke))
    assert pay(pay_page).status_code == 302
    wait_for(lambda: order_of(store, candidate).status == OrderStatus.REFUNDED)
    order = order_of(store, candidate)
    assert order.status_note is not None and reason in order.status_note
    with store.app_context():
        assert db.session().scalars(select(Shipment)).all() == []
    page = text(client.get(f"/shop/orders/{order.public_id}").get_data(as_text=True))
    assert "Refunded in full" in page and reason in page


def test_once_reinstated_the_same_order_can_be_bought_and_ships(store: Flask) -> None:
    candidate = candidate_with(store, ONLY_SAFETY)
    client = signed_in(store, candidate)
    verify_id = verify_id_of(store, candidate, "safety")
    staff(store, "revoke", verify_id)
    staff(store, "reinstate", verify_id)
    assert pay(open_checkout(client, "certificate-print-safety")).status_code == 302
    wait_for(lambda: order_of(store, candidate).status == OrderStatus.PAID)
    with store.app_context():
        assert len(db.session().scalars(select(Shipment)).all()) == 1
