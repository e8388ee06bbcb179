"""Security, issue #6: headers, production secrets, redirects, rate limits, escaping.

The routes themselves (CSRF on every POST, nothing written by a GET, who may open what) are in
test_security_routes.py. The clock stands on 15 June 2026 (noon in New York).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import gzip
import hashlib
import hmac
import html
import io
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import factories
import pytest
from factories import TEST_SIGNING_KEY, add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from shop import config, create_app, db, payments
from shop.config import ConfigError
from shop.models import Candidate, Order, OrderItem, OrderStatus, Shipment, SignInToken
from shop.services import program
from shop.services.credentials import issue_credentials
from sitegen.build import BuildResult

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
D = dt.date
REQUIRED_PASSES = {
    "safety": D(2025, 9, 1),
    "quality": D(2025, 11, 10),
    "processes": D(2026, 2, 3),
    "maintenance": D(2026, 5, 20),
}
RESULTS_SECRET = "test-results-secret"  # what the conftest `app` configures


@pytest.fixture(autouse=True)
def _memory_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counters in memory, fresh for each app: a REDIS_URL in the environment would share them
    between tests."""
    monkeypatch.delenv("REDIS_URL", raising=False)


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def sign_in_as(client: FlaskClient, candidate_id: int) -> None:
    factories.sign_in_as(client, candidate_id)  # a server-side session, as the link makes


def add_certified(session: Session, name: str, email: str | None = None) -> Candidate:
    """A candidate holding full certification, with the credentials an import issues."""
    candidate = add_candidate(session, name=name, email=email)
    for module, day in REQUIRED_PASSES.items():
        add_attempt(session, candidate, module, day, passed=True)
    issue_credentials(session, candidate.id, now=NOW, program=program.current())
    return candidate


def add_paid_order(session: Session, candidate: Candidate, public_id: str) -> Order:
    at = NOW - dt.timedelta(days=2)
    order = Order(
        public_id=public_id,
        candidate_id=candidate.id,
        status=OrderStatus.PAID,
        total_cents=2500,
        payment_intent_id=f"pi_{public_id}",
        shipping_address={"name": candidate.name, "address": {"line1": "1 Main St"}},
        created_at=at,
        paid_at=at,
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
    session.add(Shipment(order_item_id=order.items[0].id, queued_at=at))
    session.flush()
    return order


# -- security headers ---------------------------------------------------------------------------

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{response.request.path}: no Content-Security-Policy"
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} given twice: {policy}"
        directives[name] = sources
    return directives


def assert_page_policy(response: TestResponse, checkout_origin: str) -> None:
    assert csp_directives(response) == {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", checkout_origin],
    }, response.request.path


def test_every_kind_of_response_carries_the_security_headers(
    app: Flask, client: FlaskClient
) -> None:
    with database(app) as session:
        ana = add_certified(session, "Ana Lopez")
        (safety_id,) = [c.verify_id for c in ana_credentials(session, ana) if c.module == "safety"]
    anonymous = app.test_client()
    sign_in_as(client, ana.id)
    responses = {
        "page": anonymous.get("/shop/signin"),
        "redirect to sign in": anonymous.get("/shop/account"),
        "not found": client.get("/shop/orders/ord_nobody"),
        "method not allowed": anonymous.get("/shop/signout"),
        "JSON-LD": anonymous.get(f"/shop/verify/{safety_id}.json"),
        "JSON error": anonymous.post("/shop/api/results", data=b"{}"),
        "static file": anonymous.get("/static/css/site.css"),
        "signed-in page": client.get("/shop/account"),
        "PDF": client.get("/shop/account/documents/certificates/safety.pdf"),
    }
    expected_status = {
        "page": 200,
        "redirect to sign in": 302,
        "not found": 404,
        "method not allowed": 405,
        "JSON-LD": 200,
        "JSON error": 401,
        "static file": 200,
        "signed-in page": 200,
        "PDF": 200,
    }
    for kind, response in responses.items():
        assert response.status_code == expected_status[kind], kind
        for name, value in COMMON_HEADERS.items():
            assert response.headers.get(name) == value, (kind, name)
        assert "camera=()" in response.headers["Permissions-Policy"], kind
        # Development and tests run on plain HTTP: no HSTS, which would stick in the browser.
        assert "Strict-Transport-Security" not in response.headers, kind
        if kind == "PDF":
            # Chrome's PDF viewer is an <embed> with inline styles: object-src 'none' or
            # default-src 'self' on the PDF would blank it (crbug.com/271452).
            assert response.mimetype == "application/pdf"
            assert csp_directives(response) == {"frame-ancestors": ["'none'"]}
        else:
            assert_page_policy(response, "https://checkout.stripe.com")
        response.close()


def ana_credentials(session: Session, candidate: Candidate) -> list[Any]:
    return issue_credentials(session, candidate.id, now=NOW, program=program.current())


def bare_app(tmp_path: Path, **settings: Any) -> Flask:
    """An app on a fresh SQLite file for requests that read no table."""
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bare.sqlite3'}",
            "SECRET_KEY": "test-secret-key",
            **settings,
        }
    )


@contextmanager
def made(app: Flask) -> Iterator[Flask]:
    try:
        yield app
    finally:
        app.extensions["db.engine"].dispose()


@pytest.mark.parametrize(
    ("api_base", "origin"),
    [
        ("", "https://checkout.stripe.com"),
        ("http://127.0.0.1:8420", "http://127.0.0.1:8420"),
        ("http://127.0.0.1:8420/", "http://127.0.0.1:8420"),
        ("https://stripe-fake.internal:9000/v1", "https://stripe-fake.internal:9000"),
    ],
)
def test_forms_may_go_to_the_configured_stripe_checkout(
    tmp_path: Path, api_base: str, origin: str
) -> None:
    """The checkout form's POST answers 303 to Stripe's pay page (or the offline Stripe's), and
    Chrome applies form-action to that redirect: its origin, and only it, is allowed."""
    with made(bare_app(tmp_path, STRIPE_API_BASE=api_base)) as app:
        response = app.test_client().get("/shop/verify")
        assert response.status_code == 200
        assert_page_policy(response, origin)


PRODUCTION = {
    "SHOP_ENV": "production",
    "SECRET_KEY": "a-production-secret-key-of-forty-eight-characters",
    "STRIPE_SECRET_KEY": "sk_test_production_like",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_like",
    "RESULTS_API_SECRET": "results-api-secret-for-production",
    "STRIPE_API_BASE": "",
    "OB_SIGNING_KEY": TEST_SIGNING_KEY,  # made for this run: not a development key
    "SHOP_URL": "https://localhost",  # the test client's host, over https
}


@pytest.mark.parametrize(
    ("shop_env", "testing", "https_only"),
    [
        ("development", False, False),
        ("development", True, False),
        ("production", True, False),
        ("production", False, True),
        ("staging", False, True),
    ],
)
def test_hsts_and_secure_cookies_outside_development_and_tests(
    tmp_path: Path, shop_env: str, testing: bool, https_only: bool
) -> None:
    settings = {**PRODUCTION, "SHOP_ENV": shop_env, "TESTING": testing}
    with made(bare_app(tmp_path, **settings)) as app:
        response = app.test_client().get("/shop/verify")
        assert response.status_code == 200
        hsts = response.headers.get("Strict-Transport-Security")
        assert hsts == ("max-age=31536000; includeSubDomains" if https_only else None)
        for name, value in COMMON_HEADERS.items():
            assert response.headers.get(name) == value
        assert app.config["SESSION_COOKIE_SECURE"] is https_only
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# -- production refuses development secrets -----------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting from the environment: the app gets only what the test gives it."""
    for key in config.ENVIRONMENT_KEYS:
        monkeypatch.delenv(key, raising=False)


def production_app(tmp_path: Path, **changes: Any) -> Flask:
    settings = {**PRODUCTION, **changes}
    settings = {key: value for key, value in settings.items() if value is not None}
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}", **settings})


@pytest.mark.usefixtures("clean_environment")
def test_production_starts_with_real_secrets(tmp_path: Path) -> None:
    with made(production_app(tmp_path)) as app:
        assert app.config["SHOP_ENV"] == "production"


DEFAULTS = config.defaults()


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is the development default"),  # unset: the default
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": DEFAULTS["SECRET_KEY"]}, "SECRET_KEY is the development default"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY is shorter than 32 characters"),
        ({"STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY is not set"),
        ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY is the offline Stripe's default"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is not set"),
        ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET is the offline Stripe's default"),
        ({"RESULTS_API_SECRET": ""}, "RESULTS_API_SECRET is not set"),
        ({"RESULTS_API_SECRET": None}, "RESULTS_API_SECRET is the development default"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:8420"}, "STRIPE_API_BASE is set"),
        ({"SHOP_URL": None}, "SHOP_URL is not set"),
        ({"SHOP_URL": "http://cpt.example.org"}, "SHOP_URL must be an https:// address"),
        ({"SHOP_URL": "https://cpt.example.org/shop/"}, "SHOP_URL is the shop's origin only"),
    ],
)
@pytest.mark.usefixtures("clean_environment")
def test_production_refuses_each_missing_or_development_secret(
    tmp_path: Path, changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        production_app(tmp_path, **changes)
    assert len(refused.value.problems) == 1, refused.value.problems
    assert refused.value.problems[0].startswith(problem)
    assert problem in str(refused.value)


@pytest.mark.usefixtures("clean_environment")
def test_a_secret_key_of_32_characters_is_enough(tmp_path: Path) -> None:
    with made(production_app(tmp_path, SECRET_KEY="k" * 32)):
        pass


@pytest.mark.usefixtures("clean_environment")
def test_production_lists_every_problem_at_once_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`gunicorn 'shop:create_app()'` with SHOP_ENV=production and nothing else set."""
    monkeypatch.setenv("SHOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "too-short-secret")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-created.sqlite3'}")
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert message.startswith("the shop cannot start in production:")
    assert [p.split(" ")[0] for p in refused.value.problems] == [
        "SECRET_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "RESULTS_API_SECRET",
        "SHOP_URL",
        "STRIPE_API_BASE",
        "OB_SIGNING_KEY_FILE",
    ]
    assert len(message.splitlines()) == 1 + 7
    assert "too-short-secret" not in message  # a secret is never printed, not even a bad one
    assert not (tmp_path / "never-created.sqlite3").exists()  # refused before touching anything


@pytest.mark.usefixtures("clean_environment")
def test_development_starts_with_the_development_defaults(tmp_path: Path) -> None:
    with made(create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}"})) as app:
        assert app.config["SECRET_KEY"] == config.DEVELOPMENT_SECRET_KEY


@pytest.mark.parametrize(
    ("value", "timeout"), [("2.5", 2.5), (None, payments.TIMEOUT_SECONDS)], ids=["set", "unset"]
)
@pytest.mark.usefixtures("clean_environment")
def test_stripe_timeout_seconds_from_the_environment_reaches_the_stripe_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None, timeout: float
) -> None:
    if value is not None:
        monkeypatch.setenv("STRIPE_TIMEOUT_SECONDS", value)
    given: list[float] = []
    make_client = payments.make_client

    def recorded(*args: Any, timeout: float, **kwargs: Any) -> Any:
        given.append(timeout)
        return make_client(*args, timeout=timeout, **kwargs)

    monkeypatch.setattr(payments, "make_client", recorded)
    with made(create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}"})):
        pass
    assert given == [timeout]


# -- no secret in the frozen site ---------------------------------------------------------------

SECRET_MARKERS = (
    "sk_test",
    "sk_live",
    "rk_live",
    "whsec_",
    config.DEVELOPMENT_SECRET_KEY,
    config.DEVELOPMENT_RESULTS_API_SECRET,
    config.OFFLINE_STRIPE_SECRET_KEY,
    config.OFFLINE_STRIPE_WEBHOOK_SECRET,
)


def readable_forms(path: Path) -> Iterator[bytes]:
    """The file's bytes, and what a reader gets out of it: a gzip member decompressed (the
    search index's fragments), a PDF's text (its streams are compressed)."""
    data = path.read_bytes()
    yield data
    if data.startswith(b"\x1f\x8b"):
        yield gzip.decompress(data)
    if data.startswith(b"%PDF-"):
        reader = PdfReader(io.BytesIO(data))
        yield "\n".join(page.extract_text() or "" for page in reader.pages).encode()
        yield json.dumps(reader.metadata or {}, default=str).encode()


def test_no_secret_appears_anywhere_in_the_frozen_site(built_site: BuildResult) -> None:
    files = sorted(p for p in built_site.out_dir.rglob("*") if p.is_file())
    assert len(files) > 50
    assert any(p.suffix == ".pdf" for p in files) and any("pagefind" in p.parts for p in files)
    found = []
    for path in files:
        for data in readable_forms(path):
            lowered = data.lower()
            found += [
                (str(path.relative_to(built_site.out_dir)), marker)
                for marker in SECRET_MARKERS
                if marker.lower().encode() in lowered
            ]
    assert found == []


# -- templates never mark untrusted text safe ---------------------------------------------------

TEMPLATE_DIRS = ("shop/templates", "shop/documents/templates", "site/templates")
# `prefix_ids` (sitegen.render) returns Markup: a filter that marks its input safe.
MARKS_SAFE = re.compile(r"\|\s*safe\b|\|\s*prefix_ids\b|\bMarkup\s*\(|autoescape\s+false", re.I)
# (file, the line stripped) -> why the text it marks safe is safe.
TEMPLATE_ALLOWLIST = {
    (
        "site/templates/documents/kwa.html",
        '<div class="body">{{ body | prefix_ids(kwa_page.kwa.slug) }}</div>',
    ): "the KWA body is Markdown already sanitised by nh3 (sitegen.render); only its id "
    "attributes get the slug of our own content as a prefix",
}
PYTHON_ALLOWLIST = {
    (
        "shop/documents/qr.py",
        "return Markup(qr_svg(url))",
    ): "segno's SVG of our own verify URL; the URL in its label is escaped (qr_svg)",
}


def occurrences(folder: str, pattern: str) -> list[tuple[str, int, str]]:
    found = []
    for path in sorted((ROOT / folder).rglob(pattern)):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if MARKS_SAFE.search(line):
                found.append((str(path.relative_to(ROOT)), number, line.strip()))
    return found


def test_no_template_marks_text_safe_outside_the_allowlist() -> None:
    found = [hit for folder in TEMPLATE_DIRS for hit in occurrences(folder, "*")]
    unexplained = [hit for hit in found if (hit[0], hit[2]) not in TEMPLATE_ALLOWLIST]
    assert unexplained == [], (
        "a template marks text safe: escape it, or add it to TEMPLATE_ALLOWLIST with the "
        "reason it cannot hold a visitor's or candidate's text"
    )
    assert len(found) == len(TEMPLATE_ALLOWLIST)  # every allowance is still in use


def test_no_shop_code_marks_text_safe_outside_the_allowlist() -> None:
    found = occurrences("shop", "*.py")
    unexplained = [hit for hit in found if (hit[0], hit[2]) not in PYTHON_ALLOWLIST]
    assert unexplained == [], "shop code builds Markup: escape it, or allowlist it with a reason"
    assert len(found) == len(PYTHON_ALLOWLIST)


def test_the_jinja_environments_escape_by_default(app: Flask) -> None:
    from shop.documents import render

    with app.test_request_context("/shop/"):
        for name in ("shop/account.html", "base.html", "feed.xml"):
            assert app.select_jinja_autoescape(name), name
        assert app.jinja_env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert render._environment().from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_a_hostile_name_is_shown_as_text_on_every_page(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        eve = add_certified(session, SCRIPT, email="eve@example.com")
        order = add_paid_order(session, eve, "ord_hostile0001")
        credentials = ana_credentials(session, eve)
        sam = add_candidate(session, name="Sam Staff", email="sam@example.com")
        sam.is_staff = True
    sign_in_as(client, eve.id)
    staff = app.test_client()
    sign_in_as(staff, sam.id)
    anonymous = app.test_client()
    safety = credentials[0].verify_id
    pages = {
        "dashboard": client.get("/shop/account"),
        "verify page": anonymous.get(f"/shop/verify/{safety}"),
        "staff order page": staff.get(f"/shop/admin/orders/{order.public_id}"),
        "staff orders": staff.get("/shop/admin/orders"),
        "staff shipping queue": staff.get("/shop/admin/shipping"),
        "staff credential": staff.get(f"/shop/admin/credentials/{safety}"),
        "staff credential search": staff.get("/shop/admin/credentials", query_string={"q": "eve"}),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        assert SCRIPT not in response.text, where
        assert ESCAPED in response.text, where
    # In JSON-LD the name is data, never read as markup (its type, and nosniff, say so).
    badge = anonymous.get(f"/shop/verify/{safety}.json")
    assert badge.mimetype == "application/ld+json"
    assert badge.headers["X-Content-Type-Options"] == "nosniff"
    assert SCRIPT in json.dumps(badge.get_json())


def test_a_hostile_search_is_shown_as_text(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        sam = add_candidate(session, name="Sam Staff", email="sam@example.com")
        sam.is_staff = True
    sign_in_as(client, sam.id)
    page = client.get("/shop/admin/credentials", query_string={"q": SCRIPT})
    assert SCRIPT not in page.text and ESCAPED in page.text
    verify = client.get("/shop/verify", query_string={"id": SCRIPT})
    assert verify.status_code == 400
    assert SCRIPT not in verify.text and ESCAPED in verify.text


# -- redirects only to our own paths ------------------------------------------------------------

UNSAFE_NEXT = [
    "//evil.example",
    "https:evil",
    "\\\\evil",
    "%2F%2F",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/\\evil",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "http://127.0.0.1.evil.example/",
    "https://evil.example/shop/account",
    "/shop/../evil",
    "/shop/%2e%2e/evil",
    "/shop/%252e%252e/evil",
    "/shop/%2F%2Fevil.example",
    "/shop/%252F%252Fevil.example",
    "/shop/%5Cevil",
    "/shop//evil.example",
    "/shop/\\evil",
    "/shop/\t/evil.example",
    "/shop/%0d%0aLocation:%20https://evil.example",
    " /shop/orders",
    "/shop",
    "shop/orders",
    "data:text/html,<script>alert(1)</script>",
]
SAFE_NEXT = [
    "/shop/orders",
    "/shop/",
    "/shop/verify?id=7KQ2-9XDM-4HTV-PA3R-W",
    "/shop/admin/credentials?q=Ana%20Lopez",
    "/shop/account/documents/reports/A%2F1.pdf",
]
FALLBACK = "/shop/account"


def add_sign_in_token(app: Flask, candidate_id: int) -> str:
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


def hidden_next(page: str) -> str:
    found = re.search(r'<input id="next" name="next" type="hidden" value="([^"]*)">', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def assert_stays_in_shop(location: str) -> None:
    """Wherever a browser goes with this Location, it is a path under /shop/ on this host."""
    assert "\\" not in location and not any(ord(c) < 32 for c in location), location
    resolved = urlsplit(urljoin("http://shop.test/shop/signin/token", location))
    assert (resolved.scheme, resolved.netloc) == ("http", "shop.test"), location
    path = resolved.path
    for _ in range(4):
        path = unquote(path)
    assert path.startswith("/shop/"), location
    assert "//" not in path and "/../" not in path and not path.endswith("/.."), location


@pytest.mark.parametrize("target", UNSAFE_NEXT + SAFE_NEXT)
def test_signing_in_only_ever_lands_on_a_shop_path(
    app: Flask, client: FlaskClient, target: str
) -> None:
    with database(app) as session:
        ana = add_candidate(session, name="Ana Lopez", email="ana@example.com")
    expected = target if target in SAFE_NEXT else FALLBACK

    # The next= of the link, put into the confirmation page by hand, then sent by its form.
    token = add_sign_in_token(app, ana.id)
    page = client.get(f"/shop/signin/{token}", query_string={"next": target})
    assert page.status_code == 200
    response = client.post(f"/shop/signin/{token}", data={"next": hidden_next(page.text)})
    assert response.status_code == 302
    assert response.location == expected
    assert_stays_in_shop(response.location)

    # Given straight to the confirmation form.
    token = add_sign_in_token(app, ana.id)
    response = app.test_client().post(f"/shop/signin/{token}", data={"next": target})
    assert response.status_code == 302
    assert response.location == expected
    assert_stays_in_shop(response.location)


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_the_mailed_link_carries_no_unsafe_next(
    app: Flask, client: FlaskClient, target: str
) -> None:
    with database(app) as session:
        add_candidate(session, name="Ana Lopez", email="ana@example.com")
    response = client.post("/shop/signin", data={"email": "ana@example.com", "next": target})
    assert response.status_code == 302
    (message_file,) = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    message = email.message_from_bytes(message_file.read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    (link,) = re.findall(r"https?://\S+/shop/signin/\S+", body.get_content())
    assert "next" not in parse_qs(urlsplit(link).query)


# -- rate limits --------------------------------------------------------------------------------


def signed_results(
    app: Flask, body: bytes, secret: str = RESULTS_SECRET, seconds_ago: int = 0
) -> dict[str, str]:
    """Headers of a signed request; `seconds_ago` makes another request of the same body (the
    API refuses a request it has recorded, so a repeated one must be signed anew)."""
    timestamp = str(int(app.config["CLOCK"]().timestamp()) - seconds_ago)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"X-CPT-Timestamp": timestamp, "X-CPT-Signature": f"sha256={digest.hexdigest()}"}


def assert_too_many(response: TestResponse) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_default_limits(app: Flask) -> None:
    assert app.config["SIGNIN_RATE_LIMIT"] == "10 per hour"
    assert app.config["VERIFY_RATE_LIMIT"] == "30 per minute"
    assert app.config["RESULTS_API_RATE_LIMIT"] == "60 per minute"


def test_asking_for_sign_in_links_is_limited(app: Flask, client: FlaskClient) -> None:
    app.config["SIGNIN_RATE_LIMIT"] = "2 per hour"
    answers = [
        client.post("/shop/signin", data={"email": f"n{n}@example.com"}).status_code
        for n in range(2)
    ]
    assert answers == [302, 302]
    refused = client.post("/shop/signin", data={"email": "n3@example.com"})
    assert_too_many(refused)
    assert "<h1>Too many requests</h1>" in refused.text
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.21"
    assert elsewhere.post("/shop/signin", data={"email": "x@example.com"}).status_code == 302


def test_verification_lookups_are_limited(app: Flask, client: FlaskClient) -> None:
    app.config["VERIFY_RATE_LIMIT"] = "2 per minute"
    with database(app) as session:
        ana = add_certified(session, "Ana Lopez")
        safety = ana_credentials(session, ana)[0].verify_id
    assert client.get(f"/shop/verify/{safety}").status_code == 200
    assert client.get(f"/shop/verify/{safety}.json").status_code == 200
    assert_too_many(client.get(f"/shop/verify/{safety}"))
    refused = client.get(f"/shop/verify/{safety}.json")
    assert_too_many(refused)
    assert "Too many requests" in refused.get_json()["error"]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.22"
    assert elsewhere.get(f"/shop/verify/{safety}").status_code == 200


def test_the_results_api_is_limited_signed_or_not(app: Flask, client: FlaskClient) -> None:
    app.config["RESULTS_API_RATE_LIMIT"] = "3 per minute"
    body = json.dumps({"results": []}).encode()

    def post(who: FlaskClient, headers: dict[str, str]) -> TestResponse:
        return who.post(
            "/shop/api/results", data=body, headers=headers, content_type="application/json"
        )

    signed = [signed_results(app, body, seconds_ago=n) for n in range(4)]
    assert [post(client, headers).status_code for headers in signed[:3]] == [200] * 3
    refused = post(client, signed[3])
    assert_too_many(refused)
    assert "Too many requests" in refused.get_json()["error"]

    # Guessing signatures counts too: a caller without the secret is slowed down as much.
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    wrong = signed_results(app, body, secret="a guess")
    assert [post(guesser, wrong).status_code for _ in range(3)] == [401] * 3
    assert_too_many(post(guesser, signed_results(app, body)))

    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.24"
    assert post(other, signed_results(app, body, seconds_ago=10)).status_code == 200
