"""The candidate's dashboard: results, diagnostic reports, progress and credentials."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from shop import db
from shop.clock import today
from shop.domain.program import Program
from shop.models import Credential
from shop.services import program
from shop.services.credentials import ISSUER_NAME, credential_title
from shop.services.dashboard import dashboard

from .session import current_candidate, signed_in
from .verify import local_date, verify_url

blueprint = Blueprint("account", __name__, url_prefix="/shop")

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential as the dashboard lists it: its row, its name and where to verify it."""

    row: Credential
    title: str
    verify_url: str
    linkedin_url: str
    # Valid in its row, but not held by the rules: full certification while one of the module
    # certificates it rests on is revoked.
    suspended: bool = False
    revoked_on: dt.date | None = None  # the program's calendar date, as the verify page says


@blueprint.route("/account")
@signed_in
def dashboard_page() -> str:
    candidate = current_candidate()
    assert candidate is not None
    time_zone = ZoneInfo(current_app.config["TIME_ZONE"])
    view = dashboard(db.session(), candidate.id, today(), program.current(), time_zone)
    earned = {(c.kind.value, c.module or "") for c in view.credentials}
    issued = []
    for row in _issued(candidate.id):
        title = credential_title(row, program.current())
        url = verify_url(row.verify_id)
        suspended = row.revoked_at is None and (row.kind, row.module) not in earned
        issued.append(
            IssuedCredential(
                row,
                title,
                url,
                linkedin_url(title, row, url),
                suspended,
                local_date(row.revoked_at),
            )
        )
    return render_template("shop/account.html", candidate=candidate, view=view, issued=issued)


def _issued(candidate_id: int) -> list[Credential]:
    return held_credentials(candidate_id, program.current())


def held_credentials(candidate_id: int, the_program: Program) -> list[Credential]:
    """The candidate's issued credentials (module certificates in program order, then full
    certification), read only.

    A GET changes nothing: credentials are issued when results are recorded (import, API,
    demo seed). One the rules say is earned but that has no row yet has no verification id
    to show, and no document, until then.
    """
    rows = db.session().scalars(select(Credential).where(Credential.candidate_id == candidate_id))
    order = {m.id: i for i, m in enumerate(the_program.modules)}
    return sorted(
        rows, key=lambda c: (c.kind != "module_certificate", order.get(c.module, len(order)))
    )


def linkedin_url(title: str, credential: Credential, url: str) -> str:
    """LinkedIn's "Add to profile" form, filled in with the credential."""
    query = urlencode(
        {
            "startTask": "CERTIFICATION_NAME",
            "name": title,
            "organizationName": ISSUER_NAME,
            "issueYear": credential.earned_on.year,
            "issueMonth": credential.earned_on.month,
            "certUrl": url,
            "certId": credential.verify_id,
        },
        quote_via=quote,
    )
    return f"{LINKEDIN_ADD}?{query}"
