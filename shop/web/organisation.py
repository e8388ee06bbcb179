"""Organisation pages under /shop/org/<id>/ and the bulk verification API.

A member signs in with the same one-time link as a candidate (the address of a candidate who is
also a member signs them in as both). Every page of an organisation answers 404 to anyone
signed in who is not its member, and so does every object in it (a member, an API key) that is
not that organisation's: a member of A learns nothing of B, not even that it exists.

POST /shop/api/org/verify takes `Authorization: Bearer <key>` and JSON
`{"rows": [{"id": "...", "name": "...", "email": "..."}]}` (name and email optional) and answers
`{"rows": [...]}`, one row each, as the table and CSV of the page do. Both are rate limited per
organisation (shop.limits, ORG_VERIFY_RATE_LIMIT).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from shop import db
from shop.clock import now, today
from shop.models_organisations import Organisation
from shop.services import bulk_verify, organisations, program

from .session import current_candidate, current_member_email

blueprint = Blueprint("org", __name__, url_prefix="/shop/org")
api_blueprint = Blueprint("org_api", __name__, url_prefix="/shop/api/org")

P = ParamSpec("P")
R = TypeVar("R")
MAX_PASTED = 400_000  # characters: 5,000 ids with room for spaces


# -- who is signed in --------------------------------------------------------------------------


def current_person_email() -> str | None:
    """The address of whoever is signed in: a candidate's, or a member's."""
    candidate = current_candidate()
    if candidate is not None:
        return candidate.email.lower()
    return current_member_email()


def _is_staff() -> bool:
    candidate = current_candidate()
    return candidate is not None and candidate.is_staff


def member_only(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Anonymous: sign in first. Not a member of the organisation in the URL: 404."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        email = current_person_email()
        if email is None:
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("signin.start", next=back or url_for("org.home")))
        public_id = kwargs.get("public_id")
        found = organisations.by_public_id(db.session(), str(public_id))
        if found is None or not organisations.is_member(db.session(), found, email):
            abort(404)
        g.organisation, g.member_email = found, email
        return view(*args, **kwargs)

    return wrapper


def _organisation() -> Organisation:
    found: Organisation = g.organisation
    return found


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    html = render_template(
        template,
        organisation=g.get("organisation"),
        member_email=g.get("member_email") or current_person_email(),
        candidate=current_candidate(),
        **context,
    )
    return html, status


# -- pages -------------------------------------------------------------------------------------


@blueprint.get("/")
def home() -> ResponseReturnValue:
    """The organisations of whoever is signed in (straight to it when there is one)."""
    email = current_person_email()
    if email is None:
        return redirect(url_for("signin.start", next=url_for("org.home")))
    found = organisations.memberships(db.session(), email)
    if len(found) == 1:
        return redirect(url_for("org.organisation", public_id=found[0].public_id))
    return _render("shop/org/choose.html", organisations=found)


@blueprint.get("/<public_id>/")
@member_only
def organisation(public_id: str) -> tuple[str, int]:
    return _organisation_page()


def _organisation_page(
    problem: str | None = None, status: int = 200, **typed: str
) -> tuple[str, int]:
    found = _organisation()
    return _render(
        "shop/org/organisation.html",
        status,
        members=found.members,
        keys=organisations.api_keys(db.session(), found),
        problem=problem,
        typed=typed,
        max_rows=bulk_verify.MAX_ROWS,
    )


@blueprint.post("/<public_id>/members")
@member_only
def add_member(public_id: str) -> ResponseReturnValue:
    email = request.form.get("email", "")
    try:
        with db.transaction() as session_:
            organisation_ = organisations.by_public_id(session_, public_id)
            assert organisation_ is not None  # checked by @member_only
            member = organisations.add_member(
                session_, organisation_, email, by=g.member_email, now=now()
            )
            added = member.email
    except organisations.OrganisationError as error:
        return _organisation_page(str(error), 400, email=email)
    flash(f"{added} is a member now: they sign in at {url_for('signin.start', _external=True)}.")
    return redirect(url_for("org.organisation", public_id=public_id))


@blueprint.post("/<public_id>/members/<int(max=2147483647):member_id>/remove")
@member_only
def remove_member(public_id: str, member_id: int) -> ResponseReturnValue:
    try:
        with db.transaction() as session_:
            organisation_ = organisations.by_public_id(session_, public_id)
            assert organisation_ is not None
            member = organisations.member_by_id(session_, organisation_, member_id)
            if member is None:
                abort(404)
            removed = member.email
            organisations.remove_member(session_, organisation_, removed)
    except organisations.OrganisationError as error:
        return _organisation_page(str(error), 409)
    flash(f"{removed} is no longer a member.")
    if removed == g.member_email:
        return redirect(url_for("org.home"))
    return redirect(url_for("org.organisation", public_id=public_id))


@blueprint.post("/<public_id>/keys")
@member_only
def create_key(public_id: str) -> tuple[str, int]:
    with db.transaction() as session_:
        organisation_ = organisations.by_public_id(session_, public_id)
        assert organisation_ is not None
        key, secret = organisations.create_api_key(
            session_, organisation_, by=g.member_email, now=now()
        )
        prefix = key.prefix
    html, status = _render("shop/org/key_created.html", secret=secret, prefix=prefix)
    return html, status


@blueprint.post("/<public_id>/keys/<int(max=2147483647):key_id>/revoke")
@member_only
def revoke_key(public_id: str, key_id: int) -> Response:
    with db.transaction() as session_:
        organisation_ = organisations.by_public_id(session_, public_id)
        assert organisation_ is not None
        key = organisations.revoke_api_key(
            session_, organisation_, key_id, by=g.member_email, now=now()
        )
        if key is None:
            abort(404)
        prefix = key.prefix
    flash(f"The key {prefix}… is revoked: requests with it get 401 from now on.")
    return redirect(url_for("org.organisation", public_id=public_id))


@blueprint.post("/<public_id>/verify")
@member_only
def verify(public_id: str) -> ResponseReturnValue:
    """Bulk verification of an uploaded CSV or a pasted list: a table, or (format=csv) a file."""
    pasted = request.form.get("ids", "")
    upload = request.files.get("file")
    try:
        if upload is not None and upload.filename:
            queries = bulk_verify.parse_csv(upload.read())
        elif len(pasted) > MAX_PASTED:
            raise bulk_verify.BadInput(f"the list is longer than {MAX_PASTED:,} characters")
        else:
            queries = bulk_verify.parse_pasted(pasted)
    except bulk_verify.BadInput as error:
        return _organisation_page(f"Nothing was looked up: {error}.", 400, ids=pasted[:MAX_PASTED])
    rows = _look_up(queries)
    if request.form.get("format") == "csv":
        response = Response(bulk_verify.as_csv(rows), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="verification.csv"'
        response.headers["Cache-Control"] = "no-store"
        return response
    again = (
        "\n".join(q.typed for q in queries) if not any(q.name or q.email for q in queries) else ""
    )
    html, status = _render("shop/org/verify_result.html", rows=rows, again=again)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _look_up(queries: list[bulk_verify.Query]) -> list[bulk_verify.Row]:
    """Look the queries up and count them (the count is all that is kept)."""
    organisation_ = _organisation()
    with db.transaction() as session_:
        rows = bulk_verify.verify(
            session_,
            queries,
            program=program.current(),
            time_zone=current_app.config["TIME_ZONE"],
        )
        bulk_verify.record_lookup(session_, organisation_.id, today(), len(queries))
    return rows


# -- rate limits (shop.limits) -----------------------------------------------------------------


def rate_limit_key() -> str:
    """Whose count a bulk verification adds to: its organisation's (the one in the URL, or the
    one whose key the API request bears); anybody else's (no valid key, not a member of the
    organisation in the URL), their address's: nobody can spend another organisation's count,
    nor learn from a 429 that it exists."""
    if request.blueprint == api_blueprint.name:
        found = organisation_of_request()
    else:
        found = organisations.by_public_id(
            db.session(), str((request.view_args or {}).get("public_id", ""))
        )
        email = current_person_email()
        if found is not None and (
            email is None or not organisations.is_member(db.session(), found, email)
        ):
            found = None
    return f"org:{found.public_id}" if found else f"address:{request.remote_addr}"


# -- the API -----------------------------------------------------------------------------------


def organisation_of_request() -> Organisation | None:
    """The organisation whose unrevoked key the request bears, once per request."""
    if "api_organisation" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        found = None
        if scheme.lower() == "bearer" and secret.strip():
            found = organisations.organisation_of_key(db.session(), secret.strip())
        g.api_organisation = found
    result: Organisation | None = g.api_organisation
    return result


@api_blueprint.post("/verify")
def api_verify() -> ResponseReturnValue:
    found = organisation_of_request()
    if found is None:
        return jsonify(
            error="a valid organisation API key is needed: Authorization: Bearer <key>"
        ), 401
    payload = request.get_json(silent=True)
    try:
        queries = _api_queries(payload)
    except bulk_verify.BadInput as error:
        return jsonify(error=str(error)), 400
    g.organisation = found
    rows = _look_up(queries)
    return jsonify(rows=[bulk_verify.as_json(row) for row in rows])


def _api_queries(payload: object) -> list[bulk_verify.Query]:
    """The queries of a JSON body; BadInput naming the row (as "line", counted from 1)."""
    rows = payload.get("rows") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise bulk_verify.BadInput(
            'the body is JSON {"rows": [{"id": "...", "name": "...", "email": "..."}]}'
        )
    if not rows:
        raise bulk_verify.BadInput("rows is empty")
    queries = []
    for number, row in enumerate(rows, start=1):
        if number > bulk_verify.MAX_ROWS:
            raise bulk_verify.BadInput(
                f"more than {bulk_verify.MAX_ROWS:,} rows: send at most {bulk_verify.MAX_ROWS:,}",
                number,
            )
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise bulk_verify.BadInput('each row is an object with an "id" string', number)
        unknown = set(row) - {"id", "name", "email"}
        if unknown:
            raise bulk_verify.BadInput(f"unknown field {sorted(unknown)[0]!r}", number)
        name, email = row.get("name", ""), row.get("email", "")
        if not isinstance(name, str) or not isinstance(email, str):
            raise bulk_verify.BadInput("name and email are strings", number)
        queries.append(bulk_verify.Query(number, row["id"], name.strip(), email.strip()))
    return queries
