"""Sign in with a one-time link mailed to the address on file; sign out."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField
from wtforms.validators import DataRequired, Email, Length

from shop import db, hosts, mail
from shop.clock import now
from shop.services import organisations, program, signin

from .session import safe_next, sign_in, sign_in_member, sign_out

blueprint = Blueprint("signin", __name__, url_prefix="/shop")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class EmailForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no type hints
    email = EmailField(
        "Email address",
        filters=[_strip],
        validators=[
            DataRequired("Enter the email address you registered with."),
            Email("Enter an email address like name@example.com.", check_deliverability=False),
            Length(max=254),
        ],
    )
    next = HiddenField()


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    next = HiddenField()


@blueprint.route("/signin", methods=["GET", "POST"])
def start() -> Response | tuple[str, int]:
    form = EmailForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        assert form.email.data is not None
        next_path = safe_next(form.next.data, "")
        with db.transaction() as session:
            candidates = signin.issue_link(
                session,
                form.email.data,
                now(),
                link_for=lambda token: _link(token, next_path),
                lifetime=dt.timedelta(minutes=current_app.config["SIGN_IN_LINK_MINUTES"]),
                sender=current_app.config["MAIL_FROM"],
                program_name=program.current().short_name,
            )
            # Asked for every address, a candidate's too: the same statements for all.
            members = _member_link(session, form.email.data, next_path)
        message = candidates or members
        if message is not None:
            # After the commit, so a link that arrives always works; never waits on SMTP.
            mail.deliver(message)
        return redirect(url_for("signin.sent"))
    return render_template("shop/signin.html", form=form), 400 if form.errors else 200


def _member_link(session: Session, email: str, next_path: str) -> EmailMessage | None:
    """The link of an organisation member who is not a candidate (None: nobody's address)."""
    return organisations.issue_member_link(
        session,
        email,
        now(),
        link_for=lambda token: _link(token, next_path),
        lifetime=dt.timedelta(minutes=current_app.config["SIGN_IN_LINK_MINUTES"]),
        sender=current_app.config["MAIL_FROM"],
        program_name=program.current().short_name,
    )


def _link(token: str, next_path: str) -> str:
    # From SHOP_URL, never the request's Host: the link carries a sign-in token.
    return hosts.external(url_for("signin.confirm", token=token, next=next_path or None))


@blueprint.route("/signin/sent")
def sent() -> str:
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
    return render_template("shop/signin_sent.html", minutes=minutes)


@blueprint.route("/signin/<token>", methods=["GET", "POST"])
def confirm(token: str) -> str | Response | tuple[str, int]:
    # The link only shows a button: mail scanners that fetch links must not spend the token.
    form = ConfirmForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("shop/signin_confirm.html", form=form)
    if not form.validate_on_submit():
        return render_template("shop/signin_confirm.html", form=form), 400
    with db.transaction() as session:
        candidate = signin.redeem(session, token, now())
        if candidate is not None:
            sign_in(session, candidate, now())
        else:
            member = organisations.redeem_member_link(session, token, now())
            if member is not None:
                sign_in_member(session, member, now())
                return redirect(safe_next(form.next.data, url_for("org.home")))
    if candidate is None:
        return render_template("shop/signin_expired.html"), 400
    home = url_for("admin.orders") if candidate.is_staff else url_for("account.dashboard_page")
    return redirect(safe_next(form.next.data, home))


@blueprint.route("/signout", methods=["POST"])
def signout() -> Response:
    """End this session: this cookie, and any copy of it, no longer signs anyone in."""
    with db.transaction() as session:
        sign_out(session, now())
    return redirect(url_for("signin.start"))


@blueprint.route("/signout/everywhere", methods=["POST"])
def signout_everywhere() -> Response:
    """End every session of this account, on every device."""
    with db.transaction() as session:
        sign_out(session, now(), everywhere=True)
    return redirect(url_for("signin.start"))
