"""Public verification of a credential, for employers: /shop/verify and /shop/verify/<id>.

Anyone may look an id up, without signing in. The page shows the holder's name as printed on
the current document, the credential, the date it was earned and its status, and nothing else
about the person. The same facts come as a signed Open Badges 3.0 credential (JSON-LD) at
/shop/verify/<id>.json (shop.services.open_badges); the page says whether its signature checks.
POST /shop/verify/credential checks any Open Badges 3.0 credential pasted or uploaded, item by
item (shop.web.pasted). Every route here is rate limited per client (shop.limits).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from shop import db, hosts
from shop.clock import now
from shop.domain.verify_id import IdProblem, example, normalise
from shop.models import Credential
from shop.openbadges import app as signing
from shop.openbadges.keys import SigningKeyError, retired_public_keys
from shop.openbadges.verifier import Item, check
from shop.services import program
from shop.services.credentials import (
    credential_title,
    find_by_verify_id,
    rests_on_a_revoked_module,
)
from shop.services.open_badges import badge_slug, our_issuer, signed_open_badge

from .policies import public_cors
from .status_list import status_list_url

blueprint = Blueprint("verify", __name__, url_prefix="/shop/verify")

MESSAGES = {
    IdProblem.MALFORMED: (
        "That is not a verification id: it has 16 letters and digits and a check character, "
        f"like {example()}."
    ),
    IdProblem.MISTYPED: "The check character does not match: one character was mistyped.",
}
NOT_FOUND = "No credential has this id"
JSON_LD = "application/ld+json"
UNSIGNED = (
    "The signed credential cannot be made just now (the signing key is not configured); "
    "the verify page shows the credential's status."
)


def verify_url(verify_id: str) -> str:
    """The public address of a credential's verify page (for documents, mail and LinkedIn).

    Config SHOP_URL when set, else the host of the current request.
    """
    if has_request_context():
        return hosts.external(url_for("verify.credential", verify_id=verify_id))
    return hosts.external(f"{blueprint.url_prefix}/{verify_id}")


@blueprint.get("")
def form() -> Response | tuple[str, int]:
    """The form; with ?id=, the typed id is checked and sent on to its page."""
    typed = request.args.get("id")
    if typed is None:
        return _form_page("", None, 200)
    canonical = normalise(typed)
    if isinstance(canonical, IdProblem):
        return _form_page(typed, MESSAGES[canonical], 400)
    return redirect(url_for("verify.credential", verify_id=canonical))


@blueprint.get("/<verify_id>")
def credential(verify_id: str) -> Response | tuple[str, int]:
    found = lookup(verify_id, "verify.credential")
    if isinstance(found, Response):
        return found
    if isinstance(found, IdProblem):
        status = 400 if found is IdProblem.MISTYPED else 404
        return _form_page(verify_id, MESSAGES[found], status)
    if found is None:
        html = render_template("shop/verify_unknown.html", verify_id=verify_id)
        return html, 404
    html = render_template(
        "shop/verify_credential.html",
        credential=found,
        title=credential_title(found, program.current()),
        revoked_on=local_date(found.revoked_at),
        rests_on_revoked=rests_on_a_revoked_module(db.session(), found, program.current()),
        signature=_signature(found),
        json_url=url_for("verify.credential_json", verify_id=found.verify_id),
    )
    return _no_cache(Response(html, mimetype="text/html"))


@blueprint.get("/<verify_id>.json")
@public_cors
def credential_json(verify_id: str) -> Response | tuple[Response, int]:
    found = lookup(verify_id, "verify.credential_json")
    if isinstance(found, Response):
        return found
    if isinstance(found, IdProblem):
        status = 400 if found is IdProblem.MISTYPED else 404
        return jsonify(error=MESSAGES[found]), status
    if found is None:
        return jsonify(error=f"{NOT_FOUND}."), 404
    badge = open_badge(found)
    if badge is None:
        return jsonify(error=UNSIGNED), 503
    response = jsonify(badge)
    response.mimetype = JSON_LD
    return _no_cache(response)


def open_badge(found: Credential) -> dict[str, Any] | None:
    """The credential as the signed Open Badge served; None (logged) without a signing key."""
    try:
        key = signing.signing_key(current_app)
    except SigningKeyError as error:
        current_app.logger.error("cannot sign Open Badges credentials: %s", error)
        return None
    return signed_open_badge(
        db.session(),
        found,
        program.current(),
        key=key,
        loader=signing.loader(),
        verify_url=verify_url(found.verify_id),
        site_url=current_app.config["SITE_URL"] or program.current().site_url,
        status_list_url=status_list_url(),
        badge_url=hosts.external(url_for("badges.png", slug=badge_slug(found))),
    )


def _signature(found: Credential) -> Item:
    """Whether the signed credential served for `found` checks, by the public verifier."""
    badge = open_badge(found)
    if badge is None:
        return Item("signature", False, "cannot be checked just now: the signing key is missing")
    try:
        key = signing.signing_key(current_app)
        retired = retired_public_keys(current_app.config)
    except SigningKeyError as error:
        current_app.logger.error("cannot check Open Badges signatures: %s", error)
        return Item("signature", False, "cannot be checked just now: the signing key is missing")
    ours = our_issuer(db.session(), program.current(), key, retired)
    report = check(badge, ours, now=now(), loader=signing.loader())
    return next(item for item in report.items if item.name == "signature")


def lookup(typed: str, endpoint: str) -> Credential | IdProblem | Response | None:
    """The credential, what is wrong with the id, None, or a redirect to the canonical URL."""
    canonical = normalise(typed)
    if not isinstance(canonical, IdProblem) and canonical != typed:
        return redirect(url_for(endpoint, verify_id=canonical), 301)
    return find_by_verify_id(db.session(), typed)


def local_date(moment: dt.datetime | None) -> dt.date | None:
    """The program's calendar date of `moment` (the day staff revoked it, where they work)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(current_app.config["TIME_ZONE"])).date()


def _form_page(typed: str, problem: str | None, status: int) -> tuple[str, int]:
    page = render_template("shop/verify.html", typed=typed, problem=problem, example=example())
    return page, status


def _no_cache(response: Response) -> Response:
    # The status may change (a revocation): caches must ask again every time.
    response.headers["Cache-Control"] = "no-cache"
    return response
