"""The candidate's PDF downloads under /shop/account/documents/.

The clock stands on 15 June 2026 (noon in New York). Each document is fetched through the
blueprint as a signed-in candidate, then read back: pypdf for the page count and the text,
pypdfium2 to render page 1 at 200 dpi (saved to build/documents/<name>.png), zxing-cpp to
decode the QR code from those pixels.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import factories
import pypdfium2 as pdfium
import pytest
import zxingcpp
from factories import add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageChops
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import sitegen.pdf
from shop import db
from shop.documents.qr import qr_svg
from shop.models import Candidate, Credential, Order, OrderItem
from shop.services import program
from shop.services.credentials import issue_credentials
from shop.web import documents
from sitegen.app import STATIC

D = dt.date
PREFIX = "/shop/account/documents"
SITE_STATIC = "https://cpt.example.org/static/"  # program.site_url + /static/
DPI = 200
PNG_DIR = Path(__file__).resolve().parents[2] / "build" / "documents"
MM_PER_INCH = 25.4

# Full certification: the four required modules pass within two years; it is held from the
# last of them, 20 May 2026.
PASSES = {
    "safety": D(2025, 9, 1),
    "quality": D(2025, 11, 10),
    "processes": D(2026, 2, 3),
    "maintenance": D(2026, 5, 20),
}
SAFETY_SCORES = {
    "safe-productive-workplace": 91,
    "safety-environmental-inspections": 48,
    "emergency-drills-teams": 77.5,
    "unsafe-conditions": 62,
    "safety-orientation": 85,
    "equipment-safety-training": 70,
    "safety-improvements": 55,
    "maintenance-safety-requirements": 80,
    "monitor-equipment-operators": 66,
}

HOSTILE_NAMES = [
    "<b>Bold</b> <script>x</script>",
    '<link rel=attachment href="file:///etc/passwd">',
    "@import url(https://evil.example/x.css);",
    "https://evil.example/x.png",
    '<img src="file:///etc/passwd">',
]


@pytest.fixture
def app(app: Flask) -> Flask:
    """The shop with the documents blueprint, registered here if shop.web does not yet."""
    if "documents" not in app.blueprints:
        app.register_blueprint(documents.blueprint)
    return app


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def sign_in_as(client: FlaskClient, candidate: Candidate) -> None:
    factories.sign_in_as(client, candidate.id)  # a server-side session, as the link makes


def issue(session: Session, candidate: Candidate) -> None:
    """Issue the candidate's credentials, as recording results does (the pages only read them)."""
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    issue_credentials(session, candidate.id, now=now, program=program.current())


def add_certified(session: Session, name: str = "Ana Lopez", email: str | None = None) -> Candidate:
    candidate = add_candidate(session, name=name, email=email)
    for module, day in PASSES.items():
        add_attempt(session, candidate, module, day, passed=True)
    issue(session, candidate)
    return candidate


def add_order(
    session: Session, candidate: Candidate, *, status: str = "paid", public_id: str | None = None
) -> Order:
    at = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
    order = Order(
        public_id=public_id or f"ord_{candidate.id:016x}",
        candidate_id=candidate.id,
        status=status,
        currency="usd",
        total_cents=6000 + 2 * 2000,
        created_at=at,
        paid_at=at if status in ("paid", "refunded") else None,
        updated_at=at,
        shipping_address={
            "name": candidate.name,
            "address": {
                "line1": "12 Mill Road",
                "city": "Dayton",
                "state": "OH",
                "postal_code": "45402",
                "country": "US",
            },
        },
        items=[
            OrderItem(
                sku="assessment-fee-green",
                kind="assessment_fee",
                module="green",
                name="Green Production assessment fee",
                unit_price_cents=6000,
                quantity=1,
                physical=False,
            ),
            OrderItem(
                sku="certificate-print-safety",
                kind="certificate_print",
                module="safety",
                name="Safety certificate, printed",
                unit_price_cents=2000,
                quantity=2,
                physical=True,
            ),
        ],
    )
    session.add(order)
    session.flush()
    return order


def credential_of(app: Flask, candidate: Candidate, kind: str, module: str = "") -> Credential:
    with database(app) as session:
        found = session.scalar(
            select(Credential).where(
                Credential.candidate_id == candidate.id,
                Credential.kind == kind,
                Credential.module == module,
            )
        )
        assert found is not None
        return found


def expected_verify_url(app: Flask, verify_id: str) -> str:
    base = app.config["SHOP_URL"] or "http://localhost"
    return f"{base.rstrip('/')}/shop/verify/{verify_id}"


# ---- reading a PDF back ----


def pdf_text(pdf: bytes) -> str:
    """All the text of the PDF, white space collapsed to single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def squeezed(text: str) -> str:
    """Text without any white space: a long name may wrap anywhere on the page."""
    return re.sub(r"\s+", "", text)


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def page_size_pt(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def first_page_png(pdf: bytes, name: str | None = None) -> Image.Image:
    """Page 1 at 200 dpi; saved as build/documents/<name>.png when named."""
    document = pdfium.PdfDocument(pdf)
    try:
        image: Image.Image = document[0].render(scale=DPI / 72).to_pil()
    finally:
        document.close()
    if name is not None:
        PNG_DIR.mkdir(parents=True, exist_ok=True)
        image.save(PNG_DIR / f"{name}.png")
    return image


def qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    found = zxingcpp.read_barcodes(image)
    return [code for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]


def assert_pdf_response(response: TestResponse, filename: str) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="{filename}"'
    assert response.headers["Cache-Control"] == "private, no-store"
    pdf: bytes = response.data
    assert pdf.startswith(b"%PDF-")
    return pdf


# ---- the spy on the URL fetcher ----


@dataclass
class FetchLog:
    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> FetchLog:
    """Every URL WeasyPrint asks the documents' fetcher for, and every one it refused.

    The spy wraps the real fetcher, it does not replace it: html_to_pdf builds its fetcher
    by looking up `sitegen.pdf.StaticOnlyFetcher` when it runs, and this subclass of the real
    class records each URL, then hands it to the real `fetch`, which serves our static file
    or refuses exactly as in production (a refusal is recorded and re-raised).
    """
    log = FetchLog()
    real = sitegen.pdf.StaticOnlyFetcher

    class SpyFetcher(real):  # type: ignore[misc, valid-type]
        def fetch(self, url: str, headers: object = None) -> object:
            log.requested.append(url)
            try:
                return super().fetch(url, headers)
            except Exception:
                log.refused.append(url)
                raise

    monkeypatch.setattr(sitegen.pdf, "StaticOnlyFetcher", SpyFetcher)
    monkeypatch.setattr(sitegen.pdf, "_SHEETS", {})  # so the style sheet is fetched again
    return log


# ---- the documents ----


def test_module_certificate(app: Flask, client: FlaskClient, fetches: FetchLog) -> None:
    with database(app) as session:
        ana = add_certified(session)
    sign_in_as(client, ana)

    response = client.get(f"{PREFIX}/certificates/safety.pdf")

    credential = credential_of(app, ana, "module_certificate", "safety")
    pdf = assert_pdf_response(response, f"cpt-certificate-safety-{credential.verify_id}.pdf")
    assert page_count(pdf) == 1
    assert page_size_pt(pdf) == pytest.approx((792, 612), abs=0.5)  # Letter landscape
    text = pdf_text(pdf)
    for expected in (
        "Ana Lopez",
        "Certificate",
        "has passed the Safety assessment on September 1, 2025.",
        credential.verify_id,
        f"Verify at {expected_verify_url(app, '')[:-1]}",
    ):
        assert expected in text
    assert credential.holder_name == "Ana Lopez"
    codes = qr_codes(first_page_png(pdf, "certificate"))
    assert [c.text for c in codes] == [expected_verify_url(app, credential.verify_id)]
    assert codes[0].ec_level == "M"
    assert fetches.refused == []
    assert set(fetches.requested) == {
        SITE_STATIC + "css/credentials.css",
        SITE_STATIC + "img/mark.svg",
    }


def test_full_certification_document(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        ana = add_certified(session)
    sign_in_as(client, ana)

    response = client.get(f"{PREFIX}/full-certification.pdf")

    credential = credential_of(app, ana, "full_certification")
    pdf = assert_pdf_response(response, f"cpt-full-certification-{credential.verify_id}.pdf")
    assert page_count(pdf) == 1
    assert page_size_pt(pdf) == pytest.approx((792, 612), abs=0.5)
    text = pdf_text(pdf)
    for expected in (
        "Certified Production Technician",
        "Ana Lopez",
        "May 20, 2026",
        credential.verify_id,
        "National Association of Manufacturers (NAM)",
        "skills certification",
        "accredited by ANSI",
        "ISO/IEC 17024",
        "bodies that certify persons",
    ):
        assert expected in text
    codes = qr_codes(first_page_png(pdf, "full-certification"))
    assert [c.text for c in codes] == [expected_verify_url(app, credential.verify_id)]


def color_box(image: Image.Image, rgb: tuple[int, int, int]) -> tuple[float, float]:
    """Width and height in mm of the smallest box holding every pixel of exactly `rgb`."""
    bands = image.convert("RGB").split()
    masks = [
        band.point(lambda v, want=want: 255 if v == want else 0)
        for band, want in zip(bands, rgb, strict=True)
    ]
    mask = ImageChops.multiply(ImageChops.multiply(masks[0], masks[1]), masks[2])
    box = mask.getbbox()
    assert box is not None, f"no pixel of {rgb}"
    left, top, right, bottom = box
    return (right - left) * MM_PER_INCH / DPI, (bottom - top) * MM_PER_INCH / DPI


def test_wallet_card(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        ana = add_certified(session)
    sign_in_as(client, ana)

    response = client.get(f"{PREFIX}/wallet-card.pdf")

    credential = credential_of(app, ana, "full_certification")
    pdf = assert_pdf_response(response, f"cpt-wallet-card-{credential.verify_id}.pdf")
    assert page_count(pdf) == 1
    assert page_size_pt(pdf) == pytest.approx((612, 792), abs=0.5)  # one Letter page, portrait
    text = pdf_text(pdf)
    for expected in (
        "Ana Lopez",
        "Certified Production Technician",
        "May 20, 2026",
        credential.verify_id,
    ):
        assert expected in text
    image = first_page_png(pdf, "wallet-card")
    codes = qr_codes(image)
    assert [c.text for c in codes] == [expected_verify_url(app, credential.verify_id)]
    # The card's size is in the style sheet, and on paper: the front (dark blue) and the back
    # (pale blue) are each painted edge to edge over exactly 85.6 x 53.98 mm (within a pixel
    # or two of rendering at 200 dpi, 0.13 mm each).
    css = (STATIC / "css" / "credentials.css").read_text()
    assert "width: 85.6mm; height: 53.98mm" in css
    for colour in ((0x06, 0x36, 0x4B), (0xEE, 0xF3, 0xF6)):
        assert color_box(image, colour) == pytest.approx((85.6, 53.98), abs=0.3)


def test_diagnostic_report(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        ana = add_candidate(session, name="Ana Lopez")
        add_attempt(
            session,
            ana,
            "safety",
            D(2026, 3, 2),
            passed=False,
            score=68.5,
            kwa_scores=SAFETY_SCORES,
            reference="A-2026-0302",
        )
    sign_in_as(client, ana)

    response = client.get(f"{PREFIX}/reports/A-2026-0302.pdf")

    pdf = assert_pdf_response(response, "cpt-report-A-2026-0302.pdf")
    assert page_count(pdf) >= 1
    text = pdf_text(pdf)
    for expected in (
        "Diagnostic report",
        "Ana Lopez",
        "Safety",
        "March 2, 2026",
        "A-2026-0302",
        "68.5%",
        "Not passed",
        "77.5%",
    ):
        assert expected in text
    # Weakest first: each KWA's title appears in the order of its score.
    titles = {
        "safety-environmental-inspections": "Perform safety and environmental inspections",
        "safety-improvements": "Suggest processes and procedures",
        "unsafe-conditions": "Identify unsafe conditions",
        "safe-productive-workplace": "Work in a safe and productive",
    }
    positions = [text.index(titles[slug]) for slug in titles]
    assert positions == sorted(positions)
    assert qr_codes(first_page_png(pdf, "diagnostic-report")) == []


def test_receipt(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        ana = add_candidate(session, name="Ana Lopez", email="ana@example.com")
        order = add_order(session, ana, public_id="ord_00aa11bb22cc33dd")
    sign_in_as(client, ana)

    response = client.get(f"{PREFIX}/receipts/{order.public_id}.pdf")

    pdf = assert_pdf_response(response, "cpt-receipt-ord_00aa11bb22cc33dd.pdf")
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    for expected in (
        "Receipt",
        "ord_00aa11bb22cc33dd",
        "Ana Lopez",
        "June 10, 2026",
        "Paid",
        "Green Production assessment fee 1 $60.00 $60.00",
        "Safety certificate, printed 2 $20.00 $40.00",
        "Total (USD) $100.00",
        "12 Mill Road",
        "Dayton OH 45402",
    ):
        assert expected in text
    first_page_png(pdf, "receipt")


REFUNDED_AT = dt.datetime(2026, 6, 12, 3, 0, tzinfo=dt.UTC)  # June 11 in New York


def refund_lines(order: Order, names: tuple[str, ...], *, stripe_cents: int = 0) -> None:
    """Refund these lines as shop.payments.refunds does, and add what Stripe refunded besides."""
    lines = 0
    for item in order.items:
        if item.name in names:
            item.refunded_cents = item.total_cents
            item.refunded_at = REFUNDED_AT
            item.refund_reason = "asked for by the candidate"
            lines += item.total_cents
    order.refunded_cents = lines + stripe_cents
    if order.items and all(item.refunded_at for item in order.items):
        order.status = "refunded"


FEE = "Green Production assessment fee"
PRINTS = "Safety certificate, printed"


@pytest.mark.parametrize(
    ("refunded", "stripe_cents", "expected", "absent"),
    [
        pytest.param(
            (PRINTS,),
            0,
            [
                "Status Paid; partly refunded",
                f"{FEE} 1 $60.00 $60.00 Paid",
                f"{PRINTS} 2 $20.00 $40.00 Refunded $40.00 on June 11, 2026: asked for by the",
                "Total (USD) $100.00 Refunded $40.00 Kept $60.00",
            ],
            [],
            id="one line refunded",
        ),
        pytest.param(
            (FEE, PRINTS),
            0,
            [
                "Status Refunded",
                f"{FEE} 1 $60.00 $60.00 Refunded $60.00 on June 11, 2026",
                f"{PRINTS} 2 $20.00 $40.00 Refunded $40.00 on June 11, 2026",
                "Total (USD) $100.00 Refunded $100.00 Kept $0.00",
            ],
            ["partly"],
            id="every line refunded",
        ),
        pytest.param(
            (),
            1500,
            [
                "Status Paid; partly refunded",
                f"{FEE} 1 $60.00 $60.00 Paid",
                f"{PRINTS} 2 $20.00 $40.00 Paid",
                "Total (USD) $100.00 Refunded $15.00 Kept $85.00",
            ],
            [],
            id="a refund in Stripe that matched no line",
        ),
        pytest.param(
            (),
            0,
            ["Status Paid Billed", f"{FEE} 1 $60.00 $60.00 Paid", "Total (USD) $100.00"],
            ["Refunded", "Kept", "partly"],
            id="nothing refunded",
        ),
    ],
)
def test_the_receipt_shows_each_lines_refund_and_the_amounts_refunded_and_kept(
    app: Flask,
    client: FlaskClient,
    refunded: tuple[str, ...],
    stripe_cents: int,
    expected: list[str],
    absent: list[str],
) -> None:
    with database(app) as session:
        ana = add_candidate(session, name="Ana Lopez", email="ana@example.com")
        order = add_order(session, ana)
        refund_lines(order, refunded, stripe_cents=stripe_cents)
    sign_in_as(client, ana)

    response = client.get(f"{PREFIX}/receipts/{order.public_id}.pdf")

    text = squeezed(pdf_text(assert_pdf_response(response, f"cpt-receipt-{order.public_id}.pdf")))
    for line in expected:
        assert squeezed(line) in text, line
    for word in absent:
        assert word not in text, word


# ---- who may download what ----


def test_another_candidates_documents_are_not_found(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        ana = add_certified(session)
        report = add_attempt(
            session, ana, "green", D(2026, 4, 1), passed=False, kwa_scores={"waste-reduction": 50}
        )
        order = add_order(session, ana)
        ben = add_candidate(session, name="Ben Ode")
    sign_in_as(client, ana)
    assert client.get(f"{PREFIX}/reports/{report.reference}.pdf").status_code == 200
    assert client.get(f"{PREFIX}/receipts/{order.public_id}.pdf").status_code == 200

    sign_in_as(client, ben)
    for path in (
        f"{PREFIX}/certificates/safety.pdf",  # Ben's own: he has passed nothing
        f"{PREFIX}/full-certification.pdf",
        f"{PREFIX}/wallet-card.pdf",
        f"{PREFIX}/reports/{report.reference}.pdf",
        f"{PREFIX}/receipts/{order.public_id}.pdf",
    ):
        assert client.get(path).status_code == 404, path


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    response = client.get(f"{PREFIX}/certificates/safety.pdf")
    assert response.status_code == 302
    assert response.location.startswith("/shop/signin?next=")


def test_full_certification_not_yet_earned(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        cy = add_candidate(session, name="Cy Park")
        for module in ("safety", "quality", "processes"):
            add_attempt(session, cy, module, PASSES[module], passed=True)
        add_attempt(session, cy, "maintenance", D(2026, 5, 20), passed=False)
        issue(session, cy)
    sign_in_as(client, cy)

    assert client.get(f"{PREFIX}/full-certification.pdf").status_code == 404
    assert client.get(f"{PREFIX}/wallet-card.pdf").status_code == 404
    assert client.get(f"{PREFIX}/certificates/maintenance.pdf").status_code == 404  # failed
    assert client.get(f"{PREFIX}/certificates/no-such-module.pdf").status_code == 404
    assert client.get(f"{PREFIX}/reports/no-such-attempt.pdf").status_code == 404
    assert client.get(f"{PREFIX}/certificates/quality.pdf").status_code == 200


def test_revoked_credentials_are_not_downloadable(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        ana = add_certified(session)
    sign_in_as(client, ana)
    assert client.get(f"{PREFIX}/certificates/safety.pdf").status_code == 200
    assert client.get(f"{PREFIX}/full-certification.pdf").status_code == 200

    with database(app) as session:
        for credential in session.scalars(
            select(Credential).where(
                Credential.candidate_id == ana.id, Credential.module.in_(["safety", ""])
            )
        ):
            credential.revoked_at = dt.datetime(2026, 6, 14, tzinfo=dt.UTC)

    assert client.get(f"{PREFIX}/certificates/safety.pdf").status_code == 404
    assert client.get(f"{PREFIX}/full-certification.pdf").status_code == 404
    assert client.get(f"{PREFIX}/wallet-card.pdf").status_code == 404
    assert client.get(f"{PREFIX}/certificates/quality.pdf").status_code == 200


def test_no_receipt_for_an_order_never_paid(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        ana = add_candidate(session)
        pending = add_order(session, ana, status="pending", public_id="ord_pending000001")
        expired = add_order(session, ana, status="expired", public_id="ord_expired000001")
        refunded = add_order(session, ana, status="refunded", public_id="ord_refunded00001")
    sign_in_as(client, ana)
    assert client.get(f"{PREFIX}/receipts/{pending.public_id}.pdf").status_code == 404
    assert client.get(f"{PREFIX}/receipts/{expired.public_id}.pdf").status_code == 404
    response = client.get(f"{PREFIX}/receipts/{refunded.public_id}.pdf")
    assert "Refunded" in pdf_text(
        assert_pdf_response(response, f"cpt-receipt-{refunded.public_id}.pdf")
    )


# ---- untrusted names ----


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_print_as_text_and_fetch_nothing(
    app: Flask, client: FlaskClient, fetches: FetchLog, name: str
) -> None:
    with database(app) as session:
        eve = add_certified(session, name=name)
        attempt = add_attempt(
            session, eve, "green", D(2026, 4, 1), passed=False, kwa_scores={"waste-reduction": 50}
        )
        order = add_order(session, eve)
    sign_in_as(client, eve)

    for path in (
        f"{PREFIX}/certificates/safety.pdf",
        f"{PREFIX}/full-certification.pdf",
        f"{PREFIX}/wallet-card.pdf",
        f"{PREFIX}/reports/{attempt.reference}.pdf",
        f"{PREFIX}/receipts/{order.public_id}.pdf",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        pdf = response.data
        assert pdf.startswith(b"%PDF-")
        assert page_count(pdf) == 1, path
        # Printed as typed (a long name may wrap, so white space is not compared).
        assert squeezed(name) in squeezed(pdf_text(pdf)), path

    assert fetches.refused == []
    assert fetches.requested, "the documents load our style sheet and mark"
    assert all(url.startswith(SITE_STATIC) for url in fetches.requested), fetches.requested
    assert set(fetches.requested) == {
        SITE_STATIC + "css/credentials.css",
        SITE_STATIC + "img/mark.svg",
    }


def test_a_style_sheet_is_parsed_once_and_again_after_it_changes(
    fetches: FetchLog, tmp_path: Path
) -> None:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    sheet = static / "css" / "doc.css"
    sheet.write_text("p { color: rgb(0, 0, 0); }", encoding="utf-8")
    html = '<html lang="en"><p>Styled</p></html>'  # tagged PDF needs the language
    base = "https://cpt.example.org"
    black = sitegen.pdf.html_to_pdf(html, static, base, stylesheets=["css/doc.css"])
    assert sitegen.pdf.html_to_pdf(html, static, base, stylesheets=["css/doc.css"]) == black
    assert fetches.requested == [base + "/static/css/doc.css"]

    sheet.write_text("p { color: rgb(200, 0, 0); }", encoding="utf-8")
    red = sitegen.pdf.html_to_pdf(html, static, base, stylesheets=["css/doc.css"])
    assert red != black
    assert fetches.requested == [base + "/static/css/doc.css"] * 2
    assert len(sitegen.pdf._SHEETS) == 1  # the old parse is dropped


def test_the_spy_sees_what_the_real_fetcher_refuses(fetches: FetchLog) -> None:
    """The spy above is only worth something if it sees refusals: markup in our own
    template (never a name) that points outside static is refused, and strict mode fails."""
    html = '<img src="file:///etc/passwd"><link rel="stylesheet" href="https://evil.example/x.css">'
    with pytest.raises(sitegen.pdf.DocumentError):
        sitegen.pdf.html_to_pdf(html, STATIC, "https://cpt.example.org")
    assert set(fetches.refused) == {"file:///etc/passwd", "https://evil.example/x.css"}


def test_very_long_names_stay_on_one_page(app: Flask, client: FlaskClient) -> None:
    name = "Maximiliana " * 16 + "Wolfeschlegelsteinhausenbergerdorff" * 1
    with database(app) as session:
        long = add_certified(session, name=name[:200])
    sign_in_as(client, long)
    for path in ("certificates/safety.pdf", "full-certification.pdf", "wallet-card.pdf"):
        response = client.get(f"{PREFIX}/{path}")
        assert response.status_code == 200
        assert page_count(response.data) == 1, path


# ---- the parts ----


def test_qr_svg_is_inline_markup_sized_by_css() -> None:
    svg = qr_svg("https://cpt.example.org/shop/verify/7KQ2-9XDM-4HTV-PA3R-W")
    assert svg.startswith("<svg ")
    assert "<?xml" not in svg
    assert 'class="qr"' in svg and "viewBox=" in svg
    assert "width=" not in svg.split(">", 1)[0]  # the CSS sizes it, in mm


def test_the_style_sheet_fetches_nothing() -> None:
    css = (STATIC / "css" / "credentials.css").read_text()
    assert "@import" not in css
    assert "url(" not in css
    assert "DejaVu Sans" in css


def test_every_document_link_on_the_dashboard_downloads(app: Flask, client: FlaskClient) -> None:
    with database(app) as session:
        candidate = add_certified(session)
    sign_in_as(client, candidate)
    page = client.get("/shop/account").get_data(as_text=True)
    links = sorted(set(re.findall(r'href="(/shop/account/documents/[^"]+\.pdf)"', page)))
    modules = ("safety", "quality", "processes", "maintenance")
    expected = {f"/shop/account/documents/certificates/{m}.pdf" for m in modules}
    expected |= {
        "/shop/account/documents/full-certification.pdf",
        "/shop/account/documents/wallet-card.pdf",
    }
    assert expected <= set(links)
    assert any("/reports/" in link for link in links)
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.data.startswith(b"%PDF-")
