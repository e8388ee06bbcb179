"""Badge images and baked credentials.

/shop/badges/<slug>.svg and .png: the badge we draw for a module (its id) or for the full
certification (shop.openbadges.badge), public and cacheable: each credential's achievement
image points to its PNG. /shop/verify/<id>.png: the credential's badge with its signed
Open Badges 3.0 credential baked in (the same JSON as /shop/verify/<id>.json), on the verify
blueprint so rate limited with it.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from shop.domain.program import Program
from shop.domain.verify_id import IdProblem
from shop.openbadges.badge import UnknownBadge, badge, png_of
from shop.openbadges.baking import bake
from shop.services import program
from shop.services.open_badges import badge_slug

from . import verify

blueprint = Blueprint("badges", __name__, url_prefix="/shop/badges")
CACHE = "public, max-age=86400"  # a badge changes only with program.toml's names


def svg_of(the_program: Program, slug: str) -> str:
    return render_template("shop/badges/badge.svg", badge=badge(the_program, slug))


@blueprint.get("/<slug>.svg")
def svg(slug: str) -> Response:
    try:
        drawn = svg_of(program.current(), slug)
    except UnknownBadge as error:
        abort(404, str(error))
    return _cached(Response(drawn, mimetype="image/svg+xml"))


@blueprint.get("/<slug>.png")
def png(slug: str) -> Response:
    try:
        drawn = svg_of(program.current(), slug)
    except UnknownBadge as error:
        abort(404, str(error))
    return _cached(Response(png_of(drawn), mimetype="image/png"))


@verify.blueprint.get("/<verify_id>.png")
def baked(verify_id: str) -> Response:
    """The badge PNG with the signed credential in its `openbadgecredential` iTXt chunk."""
    found = verify.lookup(verify_id, "verify.baked")
    if isinstance(found, Response):
        return found
    if isinstance(found, IdProblem):
        abort(400 if found is IdProblem.MISTYPED else 404, verify.MESSAGES[found])
    if found is None:
        abort(404, f"{verify.NOT_FOUND}.")
    signed = verify.open_badge(found)
    if signed is None:
        abort(503, verify.UNSIGNED)
    image = bake(png_of(svg_of(program.current(), badge_slug(found))), signed)
    response = Response(image, mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="cpt-{found.verify_id}.png"'
    response.headers["Cache-Control"] = "no-cache"  # its status may change
    return response


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE
    return response
