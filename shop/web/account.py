"""The candidate's dashboard: results, diagnostic reports, progress and credentials."""

from __future__ import annotations

from flask import Blueprint, render_template

from shop import db
from shop.clock import today
from shop.services import program
from shop.services.dashboard import dashboard

from .session import current_candidate, signed_in

blueprint = Blueprint("account", __name__, url_prefix="/shop")


@blueprint.route("/account")
@signed_in
def dashboard_page() -> str:
    candidate = current_candidate()
    assert candidate is not None
    view = dashboard(db.session(), candidate.id, today(), program.current())
    return render_template("shop/account.html", candidate=candidate, view=view)
