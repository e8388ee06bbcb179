"""Staff pages under /shop/admin: orders, the shipping queue, shipping and refunds; credentials
(search, revoke, reinstate, reissue after a name change).

Thin: the work is in shop.services.staff and shop.services.credentials. Every page is
`staff_only`: anonymous visitors are sent to sign in, and a signed-in candidate who is not staff
gets 404, as if nothing were here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, Protocol, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from shop import db
from shop.clock import now
from shop.models import Candidate, Credential, Order, OrderStatus, Shipment
from shop.payments import gateway
from shop.payments.gateway import PaymentError
from shop.services import credentials, program, staff, vouchers
from sitegen.render import money

from .session import current_candidate
from .verify import local_date, verify_url

# Longer searches find nothing more, and SQLite refuses LIKE patterns past 50,000 characters.
MAX_SEARCH = 200

blueprint = Blueprint("admin", __name__, url_prefix="/shop/admin")

P = ParamSpec("P")
R = TypeVar("R")


def staff_only(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Anonymous: sign in first. Signed in but not staff: 404 (the page does not exist for you)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        candidate = current_candidate()
        if candidate is None:
            # After signing in, come back to this page; a form's target cannot be come back to.
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("signin.start", next=back or url_for("admin.orders")))
        if not candidate.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def _staff() -> Candidate:
    candidate = current_candidate()
    assert candidate is not None  # guaranteed by @staff_only
    return candidate


@blueprint.route("/")
@staff_only
def home() -> Response:
    return redirect(url_for("admin.orders"))


@blueprint.route("/orders")
@staff_only
def orders() -> tuple[str, int]:
    status = request.args.get("status") or None
    problem = None
    try:
        found = staff.list_orders(db.session(), status)
    except staff.StaffError as error:
        problem, status, found = str(error), None, []
    html = render_template(
        "shop/admin/orders.html",
        candidate=_staff(),
        orders=found,
        voucher_orders=[] if problem else vouchers.voucher_orders_for_staff(db.session(), status),
        status=status,
        statuses=staff.statuses(),
        problem=problem,
    )
    return html, 400 if problem else 200


@blueprint.route("/orders/<public_id>")
@staff_only
def order(public_id: str) -> tuple[str, int]:
    return _render_order(_order(public_id))


def _order(public_id: str) -> Order:
    found = staff.find_order(db.session(), public_id)
    if found is None:
        abort(404)
    return found


def _render_order(
    order: Order,
    problem: str | None = None,
    status: int = 200,
    *,
    note: str = "",
    note_for: int | None = None,
    reason: str = "",
    reason_for: int | None = None,
) -> tuple[str, int]:
    """The order page; after a refused form, with the problem and what was typed in it."""
    html = render_template(
        "shop/admin/order.html",
        candidate=_staff(),
        order=order,
        problem=problem,
        note=note,
        note_for=note_for,
        reason=reason,
        reason_for=reason_for,
        note_max=staff.NOTE_MAX,
        reason_max=staff.REASON_MAX,
        refundable=order.status in staff.REFUNDABLE,
    )
    return html, status


@blueprint.route("/shipments/<int(max=2147483647):shipment_id>/ship", methods=["POST"])
@staff_only
def ship(shipment_id: int) -> Response | tuple[str, int]:
    note = request.form.get("note", "")
    try:
        with db.transaction() as session:
            shipped = staff.mark_shipped(session, shipment_id, note, now())
            item = shipped.shipment.item
            public_id = item.order.public_id
    except staff.NotFound:
        abort(404)
    except staff.StaffError as error:
        shipment = db.session().get(Shipment, shipment_id)
        if shipment is None:
            abort(404)
        return _render_order(
            _order(shipment.item.order.public_id), str(error), 400, note=note, note_for=shipment_id
        )
    if shipped.already:
        flash(f"{item.name} was already marked shipped; nothing changed.")
    else:
        flash(f"Marked shipped: {item.name} (order {public_id}).")
    if request.form.get("back") == "queue":
        return redirect(url_for("admin.shipping"))
    return redirect(url_for("admin.order", public_id=public_id))


CONFIRM_FIELD = "confirm"  # a checkbox each refund and revocation form has; works without JS


def _confirmed() -> bool:
    return request.form.get(CONFIRM_FIELD) == "yes"


@blueprint.route("/orders/<public_id>/refund", methods=["POST"])
@staff_only
def refund(public_id: str) -> Response | tuple[str, int]:
    """Refund one line (form field `item`: its id) or, without `item`, every line left."""
    order = _order(public_id)
    reason = request.form.get("reason", "")
    raw_item = request.form.get("item", "").strip()
    item_id = int(raw_item) if raw_item.isdecimal() and len(raw_item) < 10 else None

    def refused(found: Order, problem: str, status: int) -> tuple[str, int]:
        return _render_order(found, problem, status, reason=reason, reason_for=item_id)

    if raw_item and item_id is None:
        problem = f"Order {public_id} has no item {raw_item[:40]!r}: nothing was refunded."
        return refused(order, problem, 400)
    if not _confirmed():
        problem = "Tick “I confirm this refund” to refund: nothing was refunded."
        return refused(order, problem, 400)
    try:
        with db.transaction() as session:
            done = staff.refund(session, gateway(), public_id, reason, now(), item_id=item_id)
            in_full = done.order.status == OrderStatus.REFUNDED and len(done.items) == len(
                done.order.items
            )
            names = "; ".join(item.name for item in done.items)
            amount = money(done.amount_cents)
    except staff.NotFound:
        abort(404)
    except staff.StaffError as error:
        return refused(_order(public_id), str(error), 400)
    except PaymentError as error:
        # Rolled back: the order and its lines are as they were, authorizations included.
        message = (
            f"Stripe did not refund the payment, so nothing changed: {str(error).rstrip('.')}. "
            "Try again later, or look at the payment in Stripe's dashboard."
        )
        return refused(_order(public_id), message, 502)
    if in_full:
        flash(f"Order {public_id} was refunded in full.")
    else:
        flash(f"Refunded {names} ({amount}) of order {public_id}.")
    return redirect(url_for("admin.order", public_id=public_id))


@blueprint.route("/orders/<public_id>/attention", methods=["POST"])
@staff_only
def clear_attention(public_id: str) -> Response:
    """Staff have dealt with what the order asked them to look at."""
    try:
        with db.transaction() as session:
            staff.clear_attention(session, public_id, now())
    except staff.NotFound:
        abort(404)
    flash(f"Order {public_id} no longer asks for staff.")
    return redirect(url_for("admin.order", public_id=public_id))


@blueprint.route("/shipping")
@staff_only
def shipping() -> str:
    return render_template(
        "shop/admin/shipping.html",
        candidate=_staff(),
        shipments=staff.shipping_queue(db.session()),
        note_max=staff.NOTE_MAX,
    )


# -- credentials -------------------------------------------------------------------------------


@blueprint.route("/credentials")
@staff_only
def credentials_page() -> str:
    query = request.args.get("q", "")[:MAX_SEARCH]
    return render_template(
        "shop/admin/credentials.html",
        candidate=_staff(),
        query=query,
        found=credentials.search(db.session(), query),
        limit=credentials.SEARCH_LIMIT,
        title=_title,
    )


@blueprint.route("/credentials/<verify_id>")
@staff_only
def credential(verify_id: str) -> tuple[str, int]:
    return _render_credential(_credential(verify_id))


@blueprint.route("/credentials/<verify_id>/revoke", methods=["POST"])
@staff_only
def revoke_credential(verify_id: str) -> Response | tuple[str, int]:
    if not _confirmed():
        return _render_credential(
            _credential(verify_id),
            "Tick “I confirm this revocation” to revoke: nothing changed.",
            400,
            revoke_reason=request.form.get("reason", ""),
        )
    return _change_status(
        verify_id,
        credentials.revoke,
        "revoke_reason",
        "was revoked: its verify page says so from now on.",
    )


@blueprint.route("/credentials/<verify_id>/reinstate", methods=["POST"])
@staff_only
def reinstate_credential(verify_id: str) -> Response | tuple[str, int]:
    return _change_status(
        verify_id, credentials.reinstate, "reinstate_reason", "was reinstated: it is valid again."
    )


class StatusChange(Protocol):
    """credentials.revoke or credentials.reinstate."""

    def __call__(
        self, session: Session, verify_id_text: str, reason: str, now: dt.datetime, *, by: str
    ) -> Credential: ...


def _change_status(
    verify_id: str, change: StatusChange, field: str, outcome: str
) -> Response | tuple[str, int]:
    """Revoke or reinstate with the reason typed in `field`; the credential's page again."""
    reason = request.form.get("reason", "")
    done = _change_credential(
        verify_id,
        lambda session: change(session, verify_id, reason, now(), by=_staff().email),
        **{field: reason},
    )
    if isinstance(done, Refused):
        return done.page
    flash(f"Credential {done.verify_id} {outcome}")
    return redirect(url_for("admin.credential", verify_id=done.verify_id))


@blueprint.route("/credentials/<verify_id>/reissue", methods=["POST"])
@staff_only
def reissue_credential(verify_id: str) -> Response | tuple[str, int]:
    name = request.form.get("name", "")
    reason = request.form.get("reason", "")
    done = _change_credential(
        verify_id,
        lambda session: credentials.reissue(
            session, verify_id, name, reason, now(), by=_staff().email
        ),
        new_name=name,
        reissue_reason=reason,
    )
    if isinstance(done, Refused):
        return done.page
    first = done[0]
    others = len(done) - 1
    also = f" and {others} other credential{'s' if others != 1 else ''}" if others else ""
    flash(
        f"Credential {first.verify_id}{also} reissued in the name {first.holder_name}, "
        f"same id{'s' if others else ''}, edition {first.edition}."
    )
    return redirect(url_for("admin.credential", verify_id=first.verify_id))


@dataclass(frozen=True, slots=True)
class Refused:
    """A change staff asked for that the rules refused: the credential's page, saying why."""

    page: tuple[str, int]


def _change_credential(verify_id: str, change: Callable[[Session], R], **typed: str) -> R | Refused:
    """`change` in one transaction; unknown id: 404; refused: the page again, with what was
    typed (`typed`, the form's fields by the template's names) and the reason."""
    try:
        with db.transaction() as session:
            return change(session)
    except credentials.CredentialNotFound:
        abort(404)
    except credentials.CredentialError as error:
        return Refused(_render_credential(_credential(verify_id), str(error), 400, **typed))


def _credential(verify_id: str) -> Credential:
    found = credentials.find_by_verify_id(db.session(), verify_id)
    if not isinstance(found, Credential):
        abort(404)
    return found


def _title(credential: Credential) -> str:
    return credentials.credential_title(credential, program.current())


def _render_credential(
    credential: Credential,
    problem: str | None = None,
    status: int = 200,
    *,
    revoke_reason: str = "",
    reinstate_reason: str = "",
    new_name: str | None = None,
    reissue_reason: str = "",
) -> tuple[str, int]:
    """The credential's page; after a refused form, with the problem and what was typed."""
    html = render_template(
        "shop/admin/credential.html",
        candidate=_staff(),
        credential=credential,
        title=_title(credential),
        verify_url=verify_url(credential.verify_id),
        revoked_on=local_date(credential.revoked_at),
        events=credentials.history(db.session(), credential.id),
        problem=problem,
        revoke_reason=revoke_reason,
        reinstate_reason=reinstate_reason,
        new_name=credential.candidate.name if new_name is None else new_name,
        reissue_reason=reissue_reason,
        reason_max=credentials.REASON_MAX,
        name_max=credentials.NAME_MAX,
    )
    return html, status
