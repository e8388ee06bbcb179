"""PDFs of a candidate's documents, from our own Jinja templates, through WeasyPrint.

Each document is HTML from shop/documents/templates, rendered by a Jinja environment of its
own (not Flask's: no request globals, no site templates) that escapes everything and refuses
undefined names, then turned into a PDF by `sitegen.pdf.html_to_pdf` in strict mode: the only
URLs it ever reads are our static files (site/static), resolved against the site's public
address, and any WeasyPrint warning is an error. A name holding HTML, CSS or a URL is escaped
text: it prints as typed and fetches nothing.

The functions take the rows as they are and the verify URL ready made, so they need no app,
no request and no database: the blueprint (shop.web.documents) decides who may have what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from shop.domain.program import Module, Program
from shop.models import Attempt, Candidate, Credential, Order, OrderItem
from shop.services.dashboard import diagnostic_report
from sitegen.app import STATIC
from sitegen.pdf import html_to_pdf
from sitegen.render import money

from .qr import qr_markup

DEFAULT_TIME_ZONE = "America/New_York"  # the shop's default TIME_ZONE
TEMPLATES = Path(__file__).resolve().parent / "templates"

ORDER_STATUS = {
    "pending": "Waiting for payment",
    "processing": "Paid; the payment has not settled yet",
    "paid": "Paid",
    "refunded": "Refunded",
    "expired": "Expired: not paid in time",
    "failed": "Payment failed",
}


def long_date(value: dt.date) -> str:
    """The date as every document prints it: June 15, 2026 (the site's format too)."""
    return f"{value:%B} {value.day}, {value.year}"


def percent(value: float) -> str:
    """A score: 82 -> "82%", 82.5 -> "82.5%"."""
    return f"{value:.1f}".removesuffix(".0") + "%"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = long_date
    env.filters["money"] = money
    env.filters["percent"] = percent
    env.globals["qr"] = qr_markup
    return env


_ENV = _environment()
STYLESHEETS = ("css/credentials.css",)  # under the site's static/: every document's style


def render_html(template: str, **context: Any) -> str:
    """The HTML of one of our document templates."""
    return _ENV.get_template(template).render(**context)


def to_pdf(html: str, program: Program, *, archival: bool = False) -> bytes:
    """The tagged PDF of our HTML (PDF/A too when `archival`: a credential); relative URLs
    resolve against the site's public address."""
    pdf: bytes = html_to_pdf(
        html, STATIC, program.site_url, stylesheets=STYLESHEETS, archival=archival
    )
    return pdf


def _name_size(name: str) -> str:
    """A class that keeps a long name on the page: its length decides the type size."""
    length = len(name)
    if length <= 28:
        return "name-short"
    if length <= 48:
        return "name-medium"
    if length <= 90:
        return "name-long"
    return "name-very-long"


def _credential_context(
    credential: Credential, program: Program, verify_url: str
) -> dict[str, Any]:
    return {
        "program": program,
        "credential": credential,
        "holder": credential.holder_name,
        "name_size": _name_size(credential.holder_name),
        "earned_on": credential.earned_on,
        "verify_id": credential.verify_id,
        "verify_url": verify_url,
        # Where people can type the id in by hand: the verify URL without the id.
        "verify_page": verify_url.rsplit("/", 1)[0],
    }


def certificate_html(credential: Credential, program: Program, verify_url: str) -> str:
    if credential.kind != "module_certificate":
        raise ValueError(f"not a module certificate: {credential.kind}")
    return render_html(
        "certificate.html",
        module=program.module(credential.module),
        **_credential_context(credential, program, verify_url),
    )


def certificate_pdf(credential: Credential, program: Program, verify_url: str) -> bytes:
    """A module certificate: Letter landscape, one page, with the verify id and its QR code."""
    return to_pdf(certificate_html(credential, program, verify_url), program, archival=True)


def full_certification_html(credential: Credential, program: Program, verify_url: str) -> str:
    if credential.kind != "full_certification":
        raise ValueError(f"not full certification: {credential.kind}")
    return render_html(
        "full_certification.html",
        required_modules=program.required_modules,
        **_credential_context(credential, program, verify_url),
    )


def full_certification_pdf(credential: Credential, program: Program, verify_url: str) -> bytes:
    """The full certification document: Letter landscape, one page, endorsement and
    accreditation stated in words (our own marks only), verify id and QR code."""
    return to_pdf(full_certification_html(credential, program, verify_url), program, archival=True)


def wallet_card_html(credential: Credential, program: Program, verify_url: str) -> str:
    if credential.kind != "full_certification":
        raise ValueError(f"a wallet card is for full certification, not {credential.kind}")
    context = _credential_context(credential, program, verify_url)
    context["name_size"] = _card_name_size(credential.holder_name)
    return render_html("wallet_card.html", **context)


def _card_name_size(name: str) -> str:
    length = len(name)
    if length <= 24:
        return "name-short"
    if length <= 40:
        return "name-medium"
    if length <= 80:
        return "name-long"
    return "name-very-long"


def wallet_card_pdf(credential: Credential, program: Program, verify_url: str) -> bytes:
    """The wallet card: one Letter page with the card's front and back at ID-1 size
    (85.6 x 53.98 mm) and crop marks, to print at actual size and cut out."""
    return to_pdf(wallet_card_html(credential, program, verify_url), program, archival=True)


def diagnostic_report_html(
    attempt: Attempt, module: Module, candidate: Candidate, program: Program
) -> str:
    if attempt.module != module.id:
        raise ValueError(f"attempt {attempt.reference} is of {attempt.module}, not {module.id}")
    scores: Mapping[str, float] = attempt.kwa_scores
    return render_html(
        "diagnostic_report.html",
        program=program,
        attempt=attempt,
        module=module,
        holder=candidate.name,
        name_size=_name_size(candidate.name),
        report=diagnostic_report(module, dict(scores)),
    )


def diagnostic_report_pdf(
    attempt: Attempt, module: Module, candidate: Candidate, program: Program
) -> bytes:
    """The diagnostic report of an attempt: its result and each KWA's score, weakest first."""
    return to_pdf(diagnostic_report_html(attempt, module, candidate, program), program)


def receipt_html(
    order: Order, candidate: Candidate, program: Program, *, time_zone: str = DEFAULT_TIME_ZONE
) -> str:
    zone = ZoneInfo(time_zone)
    # Rows not yet flushed (a sample document) have None where the database puts 0.
    refunded = max(order.refunded_cents or 0, sum(item.refunded_cents or 0 for item in order.items))
    status = ORDER_STATUS.get(order.status, order.status)
    if refunded and order.status != "refunded":
        status = f"{status}; partly refunded"
    return render_html(
        "receipt.html",
        program=program,
        order=order,
        ordered_on=order.created_at.astimezone(zone).date(),
        paid_on=order.paid_at.astimezone(zone).date() if order.paid_at else None,
        holder=candidate.name,
        email=candidate.email,
        status=status,
        lines=[(item, _line_state(item, zone)) for item in order.items],
        refunded_cents=refunded,
        kept_cents=max(order.total_cents - refunded, 0),
        address=_address_lines(order.shipping_address),
    )


def _line_state(item: OrderItem, zone: ZoneInfo) -> str:
    """What became of one line of a receipt: paid, or refunded (how much, when and why)."""
    if item.refunded_at is None:
        return "Paid"
    when = long_date(item.refunded_at.astimezone(zone).date())
    why = f": {item.refund_reason}" if item.refund_reason else ""
    return f"Refunded {money(item.refunded_cents or 0)} on {when}{why}"


def receipt_pdf(
    order: Order, candidate: Candidate, program: Program, *, time_zone: str = DEFAULT_TIME_ZONE
) -> bytes:
    """A receipt of an order: its items, quantities, prices and total in dollars, each line's
    state (paid, or refunded with the amount and date) and, once any is refunded, the amount
    refunded and the amount kept.

    Its dates are calendar days in `time_zone`, the program's (the shop's TIME_ZONE).
    """
    return to_pdf(receipt_html(order, candidate, program, time_zone=time_zone), program)


def _address_lines(value: Mapping[str, Any] | None) -> list[str]:
    """A shipping address as Stripe gives it ({name, address: {line1, ...}}), line by line."""
    if not value:
        return []
    where = value.get("address") or {}
    if not isinstance(where, Mapping):
        where = {}

    def field(table: Mapping[str, Any], key: str) -> str:
        found = table.get(key)
        return str(found).strip() if found not in (None, "") else ""

    town = " ".join(
        part
        for part in (field(where, "city"), field(where, "state"), field(where, "postal_code"))
        if part
    )
    lines = [
        field(value, "name"),
        field(where, "line1"),
        field(where, "line2"),
        town,
        field(where, "country"),
    ]
    return [line for line in lines if line]
