"""Staff pages for organisations: /shop/admin/organisations (list, create) and one
organisation's page (add and remove members). staff_only, like the other staff pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shop import db
from shop.clock import now
from shop.services import organisations

from .admin import staff_only
from .session import current_candidate

blueprint = Blueprint("org_admin", __name__, url_prefix="/shop/admin/organisations")


def _staff_email() -> str:
    candidate = current_candidate()
    assert candidate is not None  # guaranteed by @staff_only
    return candidate.email


def _list_page(problem: str | None = None, status: int = 200, **typed: str) -> tuple[str, int]:
    html = render_template(
        "shop/admin/organisations.html",
        candidate=current_candidate(),
        organisations=organisations.all_organisations(db.session()),
        problem=problem,
        typed=typed,
    )
    return html, status


@blueprint.get("/")
@staff_only
def list_page() -> tuple[str, int]:
    return _list_page()


@blueprint.post("/")
@staff_only
def create() -> ResponseReturnValue:
    form = {k: request.form.get(k, "") for k in ("name", "contact_email", "member")}
    try:
        with db.transaction() as session:
            organisation = organisations.create(
                session,
                form["name"],
                form["contact_email"],
                form["member"],
                by=_staff_email(),
                now=now(),
            )
            public_id = organisation.public_id
    except organisations.OrganisationError as error:
        return _list_page(str(error), 400, **form)
    flash(f"{form['name'].strip()} is created, with its first member.")
    return redirect(url_for("org_admin.organisation", public_id=public_id))


def _page(public_id: str, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    found = organisations.by_public_id(db.session(), public_id)
    if found is None:
        abort(404)
    html = render_template(
        "shop/admin/organisation.html",
        candidate=current_candidate(),
        organisation=found,
        problem=problem,
    )
    return html, status


@blueprint.get("/<public_id>")
@staff_only
def organisation(public_id: str) -> tuple[str, int]:
    return _page(public_id)


@blueprint.post("/<public_id>/members")
@staff_only
def add_member(public_id: str) -> ResponseReturnValue:
    try:
        with db.transaction() as session:
            found = organisations.by_public_id(session, public_id)
            if found is None:
                abort(404)
            organisations.add_member(
                session, found, request.form.get("email", ""), by=_staff_email(), now=now()
            )
    except organisations.OrganisationError as error:
        return _page(public_id, str(error), 400)
    return redirect(url_for("org_admin.organisation", public_id=public_id))


@blueprint.post("/<public_id>/members/remove")
@staff_only
def remove_member(public_id: str) -> ResponseReturnValue:
    try:
        with db.transaction() as session:
            found = organisations.by_public_id(session, public_id)
            if found is None:
                abort(404)
            organisations.remove_member(session, found, request.form.get("email", ""))
    except organisations.OrganisationError as error:
        return _page(public_id, str(error), 409)
    return redirect(url_for("org_admin.organisation", public_id=public_id))
