"""The candidate's PDF downloads: certificates, the wallet card, diagnostic reports, receipts.

Each download is allowed by the shop's own eligibility rules (shop.domain.eligibility, with
the catalogue's free download items) and is only ever the signed-in candidate's own: another
person's attempt or order, a credential not held, a revoked credential, all answer 404, the
same as something that does not exist. Read only: a credential is printed with the verification
id it was issued with when its results were recorded; one earned but not issued yet has no
document (404) until it is. The PDFs come from shop.documents.render.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app
from sqlalchemy import select

from shop import db, hosts
from shop.clock import today
from shop.documents import render
from shop.domain.credentials import CredentialKind
from shop.domain.eligibility import eligibility
from shop.models import Attempt, Candidate, Credential, Order, OrderStatus
from shop.services import program
from shop.services.history import history_of

from .session import current_candidate, signed_in

blueprint = Blueprint("documents", __name__, url_prefix="/shop/account/documents")

# Orders that took money (or are taking it): the ones a receipt exists for.
RECEIPTED = frozenset({OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.REFUNDED})

_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def verify_url(verify_id: str) -> str:
    """The public verify page of a credential: `<SHOP_URL or this host>/shop/verify/<id>`."""
    return hosts.external(f"/shop/verify/{verify_id}")


@blueprint.route("/certificates/<module>.pdf")
@signed_in
def certificate(module: str) -> Response:
    credential = _held_credential(
        f"certificate-download-{module}", CredentialKind.MODULE_CERTIFICATE, module
    )
    pdf = render.certificate_pdf(credential, program.current(), verify_url(credential.verify_id))
    return _pdf(pdf, f"certificate-{module}", credential.verify_id)


@blueprint.route("/full-certification.pdf")
@signed_in
def full_certification() -> Response:
    credential = _held_credential(
        "full-certificate-download", CredentialKind.FULL_CERTIFICATION, ""
    )
    pdf = render.full_certification_pdf(
        credential, program.current(), verify_url(credential.verify_id)
    )
    return _pdf(pdf, "full-certification", credential.verify_id)


@blueprint.route("/wallet-card.pdf")
@signed_in
def wallet_card() -> Response:
    credential = _held_credential("wallet-card", CredentialKind.FULL_CERTIFICATION, "")
    pdf = render.wallet_card_pdf(credential, program.current(), verify_url(credential.verify_id))
    return _pdf(pdf, "wallet-card", credential.verify_id)


# `path`: an attempt id comes from the assessment system and may hold a slash.
@blueprint.route("/reports/<path:reference>.pdf")
@signed_in
def report(reference: str) -> Response:
    candidate = _candidate()
    attempt = db.session().scalar(
        select(Attempt).where(Attempt.reference == reference, Attempt.candidate_id == candidate.id)
    )
    if attempt is None:
        abort(404)  # another person's attempt does not exist, as far as this candidate knows
    the_program = program.current()
    try:
        module = the_program.module(attempt.module)
    except KeyError:
        abort(404)  # a module the program no longer knows has no report to give
    pdf = render.diagnostic_report_pdf(attempt, module, candidate, the_program)
    return _pdf(pdf, "report", attempt.reference)


@blueprint.route("/receipts/<public_id>.pdf")
@signed_in
def receipt(public_id: str) -> Response:
    candidate = _candidate()
    order = db.session().scalar(
        select(Order).where(Order.public_id == public_id, Order.candidate_id == candidate.id)
    )
    if order is None or order.status not in RECEIPTED:
        abort(404)  # not this candidate's, or nothing was paid: no receipt
    pdf = render.receipt_pdf(
        order, candidate, program.current(), time_zone=current_app.config["TIME_ZONE"]
    )
    return _pdf(pdf, "receipt", order.public_id)


def _candidate() -> Candidate:
    candidate = current_candidate()
    assert candidate is not None  # guaranteed by @signed_in
    return candidate


def _held_credential(sku: str, kind: CredentialKind, module: str) -> Credential:
    """The candidate's valid credential that the catalogue item `sku` downloads, or 404.

    The shop's rule decides first (the same `eligibility` as a purchase of the item); then the
    credential's row, issued when the results were recorded, gives the verification id.
    """
    candidate = _candidate()
    the_program = program.current()
    try:
        item = the_program.item(sku)
    except KeyError:
        abort(404)  # no such module
    session = db.session()
    decision = eligibility(history_of(session, candidate.id), item, today(), the_program)
    if not decision.allowed:
        abort(404)
    credential = session.scalar(
        select(Credential).where(
            Credential.candidate_id == candidate.id,
            Credential.kind == kind.value,
            Credential.module == module,
        )
    )
    if credential is None:
        abort(404)  # earned, but not issued yet: no verification id to print
    if credential.revoked_at is not None:
        abort(404)  # a revoked credential has no document
    return credential


def _pdf(pdf: bytes, kind: str, identifier: str) -> Response:
    safe = _UNSAFE_IN_FILENAME.sub("_", identifier).strip("._") or "document"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="cpt-{kind}-{safe}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
