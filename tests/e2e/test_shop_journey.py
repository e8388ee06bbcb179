"""The shop as a candidate sees it in the browser, paying through the offline Stripe.

The site and the shop are served together as `make run` serves them (shop.devserver.combined),
on a real socket, with CSRF on, a fresh SQLite database seeded with the demo candidates, sign-in
mail written to an outbox folder and the offline Stripe (FakeStripe) sending its webhooks to
the served shop.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect
from werkzeug.serving import WSGIRequestHandler, make_server

from shop import create_app as create_shop
from shop import db, migrate
from shop.clock import system_clock
from shop.demo import seed
from shop.devserver import combined
from shop.payments.offline import FakeStripe
from shop.services import program
from sitegen.app import create_app as create_site

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots" / "shop"
BLOCKING_IMPACTS = {"serious", "critical"}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

TIME_ZONE = "America/New_York"
WEBHOOK_SECRET = "whsec_test_e2e_shop_journey"

ONE_PASS = "one-pass@example.com"  # Bao Tran: passed Safety 10 days ago
RETAKE_WAIT = "retake-wait@example.com"  # Carmen Ortiz: failed Quality 5 days ago
NEW = "new@example.com"  # Noor Haddad: no attempts

SAFETY_FEE = "Safety assessment fee"
QUALITY_FEE = "Quality Practices & Measurement assessment fee"
SMALL_PATCH = "Small CPT arm patch"
PAID_WITHIN_SECONDS = 10.0
WINDOW_YEARS = 2  # content/program.toml: window_years
RETAKE_WAIT_DAYS = 15  # content/program.toml: retake_waits_days, after a first failure


@dataclass(frozen=True)
class Shop:
    url: str  # the served base URL, no trailing slash
    app: Flask
    outbox: Path
    seeded_on: dt.date  # the demo's "today": its attempts are dated relative to it


class _QuietHandler(WSGIRequestHandler):
    """No line per request in the test output: the browser makes dozens."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    """This module's offline Stripe, stopped when the module ends.

    One FakeStripe may run per process and tests/integration/test_storefront.py starts its own
    (module-scoped) in the same pytest session: this one is gone before that module starts.
    """
    fake = FakeStripe.start()
    try:
        fake.reset()  # forget webhooks a FakeStripe of an earlier module registered
        yield fake
    finally:
        fake.reset()
        fake.stop()


@pytest.fixture(scope="module")
def shop(fake_stripe: FakeStripe, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The site and the shop on 127.0.0.1, as `make run` combines them, with the demo seeded."""
    folder = tmp_path_factory.mktemp("shop-journey")
    database_url = f"sqlite:///{folder / 'shop.sqlite3'}"
    migrate.upgrade(database_url)
    outbox = folder / "outbox"
    shop_app = create_shop(
        {
            "TESTING": True,
            "SHOP_ENV": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e-test-secret-key",
            "CLOCK": system_clock,
            "TIME_ZONE": TIME_ZONE,
            "WTF_CSRF_ENABLED": True,  # the real thing: every form carries its token
            "OUTBOX_DIR": outbox,
            "SMTP_HOST": "",  # mail goes to the outbox, whatever the environment says
            "SITE_URL": "",
            "STRIPE_SECRET_KEY": "sk_test_e2e",
            "STRIPE_API_BASE": fake_stripe.url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )
    site_app = create_site()
    server = make_server(
        "127.0.0.1", 0, combined(site_app, shop_app), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="shop-journey", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        shop_app.config["SHOP_URL"] = base
        _register_webhook(fake_stripe.url, f"{base}/shop/stripe/webhook")
        now = system_clock()
        seeded_on = now.astimezone(ZoneInfo(TIME_ZONE)).date()
        with shop_app.app_context(), db.transaction() as session:
            seed(session, seeded_on, now, program.current())
        yield Shop(base, shop_app, outbox, seeded_on)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        shop_app.extensions["db.engine"].dispose()


def _register_webhook(fake_url: str, target: str) -> None:
    data = urllib.parse.urlencode({"url": target, "secret": WEBHOOK_SECRET, "events[0]": "*"})
    request = urllib.request.Request(
        f"{fake_url}/_config/webhooks/shop", data=data.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture
def visitor(browser: Browser, shop: Shop) -> Iterator[BrowserContext]:
    """A fresh browser (no cookies) pointed at the served shop, on a desktop screen."""
    context = browser.new_context(base_url=shop.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


# --- helpers ---------------------------------------------------------------------------------


def anniversary(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; 28 February for a 29 February with no match."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def long_date(day: dt.date) -> str:
    """A date as the shop writes it: "March 4, 2026"."""
    return f"{day:%B} {day.day}, {day.year}"


def screenshot(page: Page, name: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    target = SCREENSHOTS / str(width) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=target, full_page=True)


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 1, f"{page.url} scrolls sideways at {width}px: {scroll_width}px"


def on_a_phone(page: Page, name: str) -> None:
    """At 390 px: a screenshot, and no sideways scrolling; then back to the desktop width."""
    page.set_viewport_size(PHONE)
    try:
        screenshot(page, name)
        assert_no_sideways_scroll(page)
    finally:
        page.set_viewport_size(DESKTOP)


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text())  # not a <script> tag: the shop's CSP forbids inline scripts
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def assert_accessible(page: Page) -> None:
    violations = serious_axe_violations(page)
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:3]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(targets)}")
    assert not violations, f"axe on {page.url}:\n" + "\n".join(lines)


def sign_in_link(outbox: Path, address: str) -> str:
    """The link in the newest sign-in mail to `address` in the outbox."""
    for path in sorted(outbox.glob("*.eml"), reverse=True):  # names sort in sending order
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None, f"{path.name} has no text part"
            found = re.search(r"https?://\S+/shop/signin/\S+", body.get_content())
            assert found, f"no sign-in link in {path.name}:\n{body.get_content()}"
            return found.group(0)
    raise AssertionError(f"no mail to {address} in {outbox}")


def sign_in(page: Page, shop: Shop, address: str, name: str, shot: str | None = None) -> None:
    """Ask for a link on the sign-in page, open it from the outbox, press "Sign in"."""
    page.goto("/shop/signin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    if shot:
        assert_accessible(page)
    page.get_by_label("Email address").fill(address)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    page.goto(sign_in_link(shop.outbox, address))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{shop.url}/shop/account")
    expect(page.locator(".account-bar")).to_contain_text(f"Signed in as {name}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text(f"Hello {name}.")).to_be_visible()


def offer(page: Page, item: str) -> Locator:
    """The catalogue entry of an item, found by its heading."""
    return page.locator("li.offer").filter(
        has=page.get_by_role("heading", level=2, name=item, exact=True)
    )


def add_to_cart(page: Page, item: str) -> None:
    page.goto("/shop/")
    offer(page, item).get_by_role("button", name=f"Add to cart ({item})").click()
    expect(page).to_have_url(re.compile(r"/shop/cart$"))
    expect(page.locator(".flash")).to_contain_text(f"Added to your cart: {item}.")


def wait_until_paid(page: Page) -> None:
    """Reload the order page until it says "Paid" (the webhook may come a moment later)."""
    status = page.locator(".order-status")
    deadline = time.monotonic() + PAID_WITHIN_SECONDS
    while status.inner_text() != "Paid":
        assert time.monotonic() < deadline, (
            f"the order still says {status.inner_text()!r} after {PAID_WITHIN_SECONDS} s"
        )
        time.sleep(0.5)
        page.reload()


# --- tests -----------------------------------------------------------------------------------


def test_a_candidate_signs_in_sees_why_an_item_is_refused_and_pays_for_a_fee_and_a_patch(
    visitor: BrowserContext, browser: Browser, shop: Shop
) -> None:
    page = visitor.new_page()

    # Sign in through the link mailed to the outbox.
    sign_in(page, shop, ONE_PASS, "Bao Tran", shot="signin")
    assert_accessible(page)  # the account page

    # The catalogue: Safety, passed 10 days ago, may not be bought while the pass counts.
    page.goto("/shop/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shop")
    safety = offer(page, SAFETY_FEE)
    expect(safety).to_have_class(re.compile(r"\bunavailable\b"))
    expect(safety.get_by_role("button")).to_have_count(0)
    passed_on = shop.seeded_on - dt.timedelta(days=10)
    # The pass counts through its 2nd anniversary (the window); the fee is for sale the day after.
    buyable_on = anniversary(passed_on, WINDOW_YEARS) + dt.timedelta(days=1)
    expect(safety.locator(".refusal")).to_contain_text(
        "Not available to you now: already passed, and the pass still counts."
    )
    expect(safety.locator(".refusal")).to_contain_text(
        f"You can buy it from {long_date(buyable_on)}."
    )
    expect(offer(page, QUALITY_FEE).locator(".refusal")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "catalogue-ineligible")
    on_a_phone(page, "catalogue")

    # Another candidate, in another browser: Quality failed 5 days ago, a 15-day retake wait.
    other = browser.new_context(base_url=shop.url, viewport=DESKTOP)
    try:
        waiting = other.new_page()
        sign_in(waiting, shop, RETAKE_WAIT, "Carmen Ortiz")
        waiting.goto("/shop/")
        refusal = offer(waiting, QUALITY_FEE).locator(".refusal")
        expect(refusal).to_contain_text(
            "Not available to you now: in a retake wait after a failed attempt."
        )
        retake_on = shop.seeded_on - dt.timedelta(days=5) + dt.timedelta(days=RETAKE_WAIT_DAYS)
        expect(refusal).to_contain_text(f"You can buy it from {long_date(retake_on)}.")
        expect(refusal.locator("time")).to_have_attribute("datetime", retake_on.isoformat())
        screenshot(waiting, "catalogue-retake-wait")
    finally:
        other.close()

    # Buy the Quality fee and the small patch.
    add_to_cart(page, QUALITY_FEE)
    add_to_cart(page, SMALL_PATCH)
    cart = page.locator("table.cart tbody")
    expect(cart.locator("tr")).to_have_count(2)
    expect(cart).to_contain_text(QUALITY_FEE)
    expect(cart).to_contain_text(SMALL_PATCH)
    assert_accessible(page)
    screenshot(page, "cart")
    on_a_phone(page, "cart")
    page.get_by_role("button", name=re.compile(r"^Pay \$")).click()

    # The hosted test pay page of the offline Stripe.
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay")
    assert "/_config/checkout/pay/" in page.url
    expect(page.locator("table")).to_contain_text(QUALITY_FEE)
    expect(page.locator("table")).to_contain_text(SMALL_PATCH)
    page.get_by_label("Payment method").select_option(label="Visa 4242 (succeeds)")
    screenshot(page, "pay-page")
    page.get_by_role("button", name="Pay", exact=True).click()

    # Back on the order page, until the payment is confirmed.
    expect(page).to_have_url(re.compile(rf"^{re.escape(shop.url)}/shop/orders/[^/?]+\?session_id="))
    order_path = urllib.parse.urlsplit(page.url).path
    wait_until_paid(page)
    rows = page.locator("table.cart tbody tr")
    expect(rows.filter(has_text=QUALITY_FEE)).to_contain_text(
        "Assessment authorization added to your account"
    )
    expect(rows.filter(has_text=SMALL_PATCH)).to_contain_text("In the shipping queue")
    assert_accessible(page)
    screenshot(page, "order-paid")
    on_a_phone(page, "order")

    # The order list and the account.
    page.goto("/shop/orders")
    listed = page.locator("table.cart tbody tr").filter(has=page.locator(f'a[href="{order_path}"]'))
    expect(listed).to_have_count(1)
    expect(listed.locator(".order-status")).to_have_text("Paid")
    expect(listed).to_contain_text(f"{QUALITY_FEE}; {SMALL_PATCH}")
    assert_accessible(page)
    on_a_phone(page, "orders")

    page.goto("/shop/account")
    quality = page.locator("article.module-result").filter(
        has=page.get_by_role("heading", level=3, name=QUALITY_FEE.removesuffix(" assessment fee"))
    )
    expect(quality.locator(".note")).to_have_text(
        "You hold an assessment authorization for this module: your next sitting is paid for."
    )
    assert_accessible(page)

    # With the authorization held, the Quality fee is no longer for sale, nor a second patch.
    page.goto("/shop/")
    expect(offer(page, QUALITY_FEE).locator(".refusal")).to_contain_text(
        "an unused assessment authorization for this module is held"
    )
    expect(offer(page, SMALL_PATCH).locator(".refusal")).to_contain_text(
        "the small patch was already bought"
    )


def test_a_declined_card_leaves_the_order_waiting_for_payment_and_says_so(
    visitor: BrowserContext, shop: Shop
) -> None:
    page = visitor.new_page()
    sign_in(page, shop, NEW, "Noor Haddad")
    add_to_cart(page, SAFETY_FEE)
    page.get_by_role("button", name=re.compile(r"^Pay \$")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pay")
    pay_page = page.url
    page.get_by_label("Payment method").select_option(label="Declined card")
    page.get_by_role("button", name="Pay", exact=True).click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("declined")
    expect(alert).to_contain_text("Choose another card.")
    assert page.url == pay_page  # still on the pay page, nothing paid
    screenshot(page, "pay-page-declined")

    page.goto("/shop/orders")
    rows = page.locator("table.cart tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator(".order-status")).to_have_text("Waiting for payment")
    rows.get_by_role("link").click()
    expect(page.locator(".order-status")).to_have_text("Waiting for payment")
    # Stripe's webhooks come about a second after an event: the decline's is noted on the
    # order, which still waits for payment and offers to try again.
    page.wait_for_timeout(1500)
    page.reload()
    expect(page.locator(".order-status")).to_have_text("Waiting for payment")
    expect(page.get_by_role("alert")).to_contain_text("The payment was declined")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    expect(page.get_by_text("waiting for the payment to be confirmed")).to_have_count(0)


SHOP_PAGES = [
    ("dashboard", "/shop/account", "Your account"),
    ("catalogue", "/shop/", "Shop"),
    ("verify", "/shop/verify", "Verify a credential"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_shop_pages_wear_the_sites_look_at_both_widths_in_both_schemes(
    browser: Browser, shop: Shop, scheme: Literal["light", "dark"]
) -> None:
    context = browser.new_context(base_url=shop.url, viewport=DESKTOP, color_scheme=scheme)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, shop, ONE_PASS, "Bao Tran")
        for name, path, heading in SHOP_PAGES:
            for viewport in (PHONE, DESKTOP):
                page.set_viewport_size(viewport)
                page.goto(path)
                expect(page.get_by_role("heading", level=1)).to_have_text(heading)
                # The site's header and footer, with the same menu button on a phone.
                expect(page.locator(".site-header .brand")).to_be_visible()
                expect(page.locator(".site-footer")).to_be_visible()
                menu_button = page.locator(".site-nav summary")
                if viewport is PHONE:
                    expect(menu_button).to_be_visible()
                else:
                    expect(menu_button).to_be_hidden()
                target = SCREENSHOTS / scheme / str(viewport["width"]) / f"{name}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=target, full_page=True)
                scroll_width = page.evaluate("document.documentElement.scrollWidth")
                assert scroll_width == viewport["width"], f"{path} ({scheme}): {scroll_width}px"
                assert_accessible(page)
    finally:
        context.close()


def test_a_member_buys_three_vouchers_assigns_one_and_sees_it_accepted_then_used(
    visitor: BrowserContext, shop: Shop
) -> None:
    """Noor Haddad (no attempts) is both a member of Acme and, by the same address, its
    employee: she buys three Green vouchers, assigns one to herself, accepts it, and Acme sees
    it used once the attempt is recorded."""
    from shop.services import organisations
    from shop.services.results.attempts import record_attempts
    from shop.services.results.record import ResultRecord

    with shop.app.app_context(), db.transaction() as session:
        acme = organisations.create(
            session, "Acme Tools", "hr@acme.example", NEW, by="e2e", now=system_clock()
        )
        acme_id = acme.public_id
    page = visitor.new_page()
    sign_in(page, shop, NEW, "Noor Haddad")
    page.goto(f"/shop/org/{acme_id}/")
    page.get_by_role("link", name="Assessment vouchers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessment vouchers")
    page.get_by_label("Module").select_option(label="Green Production")
    page.get_by_label("How many (1 to 200)").fill("3")
    assert_accessible(page)
    screenshot(page, "org-vouchers-buy")
    page.get_by_role("button", name="Pay with Stripe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay")
    page.get_by_label("Payment method").select_option(label="Visa 4242 (succeeds)")
    page.get_by_role("button", name="Pay", exact=True).click()

    rows = page.locator("table.cart tbody tr")
    deadline = time.monotonic() + PAID_WITHIN_SECONDS
    while rows.count() < 3:
        assert time.monotonic() < deadline, "no vouchers after the payment"
        time.sleep(0.5)
        page.reload()
    expect(rows).to_have_count(3)
    first = rows.first
    code = first.locator("code").inner_text()
    first.get_by_label("Employee's email").fill(NEW)
    first.get_by_role("button", name="Assign").click()
    expect(page.locator(".flash")).to_contain_text(f"Voucher {code} is assigned to {NEW}")

    page.goto("/shop/vouchers")
    page.get_by_label("Voucher code").fill(code.lower().replace("-", " "))
    assert_accessible(page)
    page.get_by_role("button", name="Accept the voucher").click()
    expect(page).to_have_url(f"{shop.url}/shop/account")
    expect(page.locator(".flash")).to_contain_text("Voucher accepted")

    with shop.app.app_context(), db.transaction() as session:
        from sqlalchemy import select

        from shop.models import Candidate

        noor = session.scalars(select(Candidate).where(Candidate.email == NEW)).one()
        record = ResultRecord(
            attempt_id="A-E2E-VOUCHER",
            candidate_id=noor.reference,
            name=noor.name,
            email=NEW,
            module="green",
            taken_on=shop.seeded_on,
            score=84.0,
            passed=True,
            kwa_scores={},
        )
        taken = {noor.reference: noor.id}
        assert record_attempts(session, [record], taken, system_clock(), ZoneInfo(TIME_ZONE)) == 1
    page.goto(f"/shop/org/{acme_id}/vouchers")
    used = page.locator("table.cart tbody tr").filter(has_text=code)
    expect(used).to_contain_text(f"used to {NEW}: attempt of")
    expect(used).to_contain_text("passed")
    assert_accessible(page)
    screenshot(page, "org-vouchers")
    on_a_phone(page, "org-vouchers")
