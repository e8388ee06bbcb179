"""The revocation status list, for wallets and verifiers: /shop/credentials/status/1.

Public, readable from any origin (a verifier in a browser fetches it), and answered 304 to a
client that holds the current copy. Not rate limited like the verify pages: one verifier
checking many of our credentials fetches it for each; it is signed once per change.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.wrappers import Response

from shop import db, hosts
from shop.clock import now
from shop.openbadges import app as signing
from shop.openbadges.keys import SigningKeyError
from shop.services import program
from shop.services.open_badges import signed_status_list

blueprint = Blueprint("status_list", __name__, url_prefix="/shop/credentials/status")
LIST_NUMBER = 1  # one list of 131,072 entries holds every credential for now
UNSIGNED = "The status list cannot be signed just now (the signing key is not configured)."


def status_list_url() -> str:
    """The list's public address (config SHOP_URL when set, else the request's host)."""
    return hosts.external(url_for("status_list.status_list", number=LIST_NUMBER))


@blueprint.get("/<int:number>")
def status_list(number: int) -> Response | tuple[Response, int]:
    if number != LIST_NUMBER:
        return _anyone(jsonify(error=f"No status list {number}: the list is {LIST_NUMBER}.")), 404
    try:
        key = signing.signing_key(current_app)
    except SigningKeyError as error:
        current_app.logger.error("cannot sign the status list: %s", error)
        return _anyone(jsonify(error=UNSIGNED)), 503
    document = signed_status_list(
        db.session(),
        program.current(),
        key=key,
        loader=signing.loader(),
        list_url=status_list_url(),
        now=now(),
    )
    response = Response(json.dumps(document), mimetype="application/ld+json")
    response.headers["Cache-Control"] = "no-cache"  # revocations show at once; ETag saves bytes
    response.add_etag()
    return _anyone(response.make_conditional(request))


def _anyone(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
