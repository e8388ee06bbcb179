"""The candidate's dashboard: results, diagnostic reports, progress and credentials."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask import Blueprint, render_template
from sqlalchemy.exc import IntegrityError

from shop import db
from shop.clock import now, today
from shop.models import Credential
from shop.services import program
from shop.services.credentials import ISSUER_NAME, credential_title, issue_credentials
from shop.services.dashboard import dashboard

from .session import current_candidate, signed_in
from .verify import verify_url

blueprint = Blueprint("account", __name__, url_prefix="/shop")

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential as the dashboard lists it: its row, its name and where to verify it."""

    row: Credential
    title: str
    verify_url: str
    linkedin_url: str


@blueprint.route("/account")
@signed_in
def dashboard_page() -> str:
    candidate = current_candidate()
    assert candidate is not None
    issued = []
    for row in _issued(candidate.id):
        title = credential_title(row, program.current())
        url = verify_url(row.verify_id)
        issued.append(IssuedCredential(row, title, url, linkedin_url(title, row, url)))
    view = dashboard(db.session(), candidate.id, today(), program.current())
    return render_template("shop/account.html", candidate=candidate, view=view, issued=issued)


def _issued(candidate_id: int) -> list[Credential]:
    """Every credential the candidate holds has its row and verify id once this returns.

    Results normally issue them; this catches anything earlier. Two first visits racing meet
    the unique key: the loser's transaction rolls back and the second try finds the rows.
    """
    for attempt in (1, 2):
        try:
            with db.transaction() as session:
                return issue_credentials(
                    session, candidate_id, now=now(), program=program.current()
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


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
