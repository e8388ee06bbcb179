"""Staff commands: `flask --app shop staff grant EMAIL`, `... orders list|show|queue|ship|refund`,
`... credentials show|revoke|reinstate|reissue VERIFY_ID`.

The same work as the staff pages (shop.services.staff, shop.services.credentials), for a
terminal. A bad address or id, a refused action, or a refund Stripe refuses, prints one line
saying why and exits with status 1.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from typing import TypeVar

import click
from flask.cli import AppGroup

from sitegen.render import money

from . import db
from .clock import now
from .models import Order, OrderStatus
from .payments import gateway
from .payments.gateway import PaymentError
from .services import credentials, program, staff

T = TypeVar("T")

staff_cli = AppGroup("staff", help="Staff accounts: who may use the staff pages.")


@staff_cli.command("grant")
@click.argument("email")
def grant(email: str) -> None:
    """Give the candidate with address EMAIL the staff role."""
    candidate = _run(lambda: staff.grant_staff(db.session(), email))
    click.echo(f"{candidate.name} <{candidate.email}> is staff.")


@staff_cli.command("revoke")
@click.argument("email")
def revoke(email: str) -> None:
    """Take the staff role from the candidate with address EMAIL."""
    candidate = _run(lambda: staff.revoke_staff(db.session(), email))
    click.echo(f"{candidate.name} <{candidate.email}> is no longer staff.")


orders_cli = AppGroup("orders", help="Orders: list them, ship physical items, refund.")


@orders_cli.command("list")
@click.option(
    "--status",
    type=click.Choice([status.value for status in OrderStatus]),
    default=None,
    help="Only the orders with this status.",
)
def list_orders(status: str | None) -> None:
    """Every order, newest first."""
    found = staff.list_orders(db.session(), status)
    rows = [
        (
            order.public_id,
            order.created_at.date().isoformat(),
            _status_words(order),
            money(order.total_cents),
            order.candidate.email,
            "; ".join(_item(item.name, item.quantity) for item in order.items),
        )
        for order in found
    ]
    _table(("ORDER", "DATE", "STATUS", "TOTAL", "CANDIDATE", "ITEMS"), rows)
    click.echo(f"{_count(len(rows), f'{status} order' if status else 'order')}.")


@orders_cli.command("queue")
def queue() -> None:
    """Physical items of paid orders still to ship, oldest first."""
    shipments = staff.shipping_queue(db.session())
    rows = [
        (
            str(shipment.id),
            shipment.queued_at.date().isoformat(),
            shipment.item.order.public_id,
            _item(shipment.item.name, shipment.item.quantity),
            shipment.item.order.candidate.email,
        )
        for shipment in shipments
    ]
    _table(("SHIPMENT", "QUEUED", "ORDER", "ITEM", "CANDIDATE"), rows)
    click.echo(f"{_count(len(rows), 'item')} to ship.")


@orders_cli.command("ship")
@click.argument("shipment_id")
@click.option("--note", default="", help="Tracking note the candidate sees (optional).")
def ship(shipment_id: str, note: str) -> None:
    """Mark shipment SHIPMENT_ID (see `orders queue`) shipped."""
    number = _shipment_number(shipment_id)
    shipped = _run(lambda: staff.mark_shipped(db.session(), number, note, now()))
    shipment = shipped.shipment
    assert shipment.shipped_at is not None
    day = shipment.shipped_at.date().isoformat()
    what = f"{shipment.item.name} (order {shipment.item.order.public_id})"
    if shipped.already:
        click.echo(f"Shipment {number} was already marked shipped on {day}: nothing changed.")
    else:
        click.echo(f"Shipment {number} marked shipped on {day}: {what}.")


@orders_cli.command("refund")
@click.argument("order_id")
@click.option("--reason", required=True, help="Why; the candidate reads it on the order.")
@click.option(
    "--item",
    "sku",
    default=None,
    metavar="SKU",
    help="Refund only this item of the order (its SKU, as `orders show` lists them).",
)
def refund(order_id: str, reason: str, sku: str | None) -> None:
    """Refund order ORDER_ID through Stripe: every item not refunded yet, or only --item."""
    try:
        done = _run(
            lambda: staff.refund(
                db.session(),
                gateway(),
                order_id,
                reason,
                now(),
                item_id=None if sku is None else _item_id(order_id, sku),
            )
        )
    except PaymentError as error:
        raise click.ClickException(
            f"Stripe did not refund order {order_id}, so nothing changed: {error}"
        ) from None
    order = done.order
    if order.status == OrderStatus.REFUNDED and len(done.items) == len(order.items):
        click.echo(f"Order {order.public_id} refunded in full ({money(done.amount_cents)}).")
    else:
        names = "; ".join(item.name for item in done.items)
        click.echo(f"Order {order.public_id}: refunded {names} ({money(done.amount_cents)}).")
    for matter in (order.staff_attention or "").splitlines():
        click.echo(f"Look at this: {matter}")


def _status_words(order: Order) -> str:
    words = [order.status]
    if order.partly_refunded:
        words.append("partly refunded")
    if order.staff_attention:
        words.append("needs staff")
    return ", ".join(words)


def _item_id(order_id: str, sku: str) -> int:
    """The id of the line with this SKU in the order (one line per SKU: the cart keeps one)."""
    order = staff.find_order(db.session(), order_id)
    if order is None:
        raise staff.NotFound(f"No order has the id {order_id!r}.")
    for item in order.items:
        if item.sku == sku.strip():
            return item.id
    skus = ", ".join(item.sku for item in order.items)
    raise staff.StaffError(f"Order {order.public_id} has no item {sku!r}: its items are {skus}.")


@orders_cli.command("show")
@click.argument("order_id")
def show_order(order_id: str) -> None:
    """Order ORDER_ID: its status and each item's state (paid, refunded, queued, shipped)."""
    order = staff.find_order(db.session(), order_id)
    if order is None:
        raise click.ClickException(f"No order has the id {order_id!r}.")
    click.echo(
        f"Order {order.public_id}: {order.status}, {money(order.total_cents)}, "
        f"{order.candidate.email}"
    )
    _table(
        ("SKU", "PRICE", "STATE"),
        [(item.sku, money(item.total_cents), staff.line_state(item)) for item in order.items],
    )
    for matter in (order.staff_attention or "").splitlines():
        click.echo(f"Look at this: {matter}")


# -- credentials -------------------------------------------------------------------------------

credentials_cli = AppGroup(
    "credentials", help="Credentials: show, revoke, reinstate, reissue after a name change."
)


@credentials_cli.command("show")
@click.argument("verify_id")
def show_credential(verify_id: str) -> None:
    """Credential VERIFY_ID (case and dashes do not matter) and its history."""
    found = _run(lambda: credentials.get(db.session(), verify_id))
    status = "valid"
    if found.revoked_at is not None:
        status = f"revoked {found.revoked_at:%Y-%m-%d %H:%M} UTC: {found.revoked_reason}"
    candidate = found.candidate
    rows = [
        ("id", found.verify_id),
        ("credential", credentials.credential_title(found, program.current())),
        ("holder", found.holder_name),
        ("candidate", f"{candidate.name} <{candidate.email}> ({candidate.reference})"),
        ("earned", found.earned_on.isoformat()),
        ("edition", str(found.edition)),
        ("status", status),
        ("verify page", _verify_url(found.verify_id)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label:<{width}}  {value}")
    click.echo("")
    events = credentials.history(db.session(), found.id)
    _table(
        ("WHEN", "WHAT", "BY", "REASON"),
        [(e.at.strftime("%Y-%m-%d %H:%M UTC"), e.action, e.actor or "-", e.reason) for e in events],
    )


def _operator() -> str:
    """Who runs this command, as the system knows them."""
    return f"{getpass.getuser()} (command line)"


BY = click.option(
    "--by",
    default=_operator,
    show_default="your user name (command line)",
    help="Who makes the change; kept in the credential's history.",
)


@credentials_cli.command("revoke")
@click.argument("verify_id")
@click.option("--reason", required=True, help="Why; kept in the credential's history.")
@BY
def revoke_credential(verify_id: str, reason: str, by: str) -> None:
    """Revoke credential VERIFY_ID: its verify page says so from now on."""
    done = _run(lambda: credentials.revoke(db.session(), verify_id, reason, now(), by=by))
    click.echo(f"Credential {done.verify_id} revoked ({done.holder_name}).")


@credentials_cli.command("reinstate")
@click.argument("verify_id")
@click.option("--reason", required=True, help="Why; kept in the credential's history.")
@BY
def reinstate_credential(verify_id: str, reason: str, by: str) -> None:
    """Make revoked credential VERIFY_ID valid again, with the same id."""
    done = _run(lambda: credentials.reinstate(db.session(), verify_id, reason, now(), by=by))
    click.echo(f"Credential {done.verify_id} reinstated: valid again ({done.holder_name}).")


@credentials_cli.command("reissue")
@click.argument("verify_id")
@click.option("--name", "new_name", required=True, help="The new name, as it is to be printed.")
@click.option("--reason", required=True, help="Why; kept in each credential's history.")
@BY
def reissue_credential(verify_id: str, new_name: str, reason: str, by: str) -> None:
    """After a name change: reissue every credential of VERIFY_ID's holder in the new name.

    The ids stay; each credential gets a new edition of its document.
    """
    done = _run(
        lambda: credentials.reissue(db.session(), verify_id, new_name, reason, now(), by=by)
    )
    for credential in done:
        click.echo(
            f"Credential {credential.verify_id} reissued in the name {credential.holder_name} "
            f"(edition {credential.edition})."
        )


def _verify_url(verify_id: str) -> str:
    from .web.verify import verify_url

    return verify_url(verify_id)


def _run(work: Callable[[], T]) -> T:
    """`work` in one transaction: committed if it succeeds; a refused action exits with status 1."""
    try:
        with db.transaction():
            return work()
    except (staff.StaffError, credentials.CredentialError) as error:
        raise click.ClickException(str(error)) from None


def _shipment_number(raw: str) -> int:
    try:
        return int(raw.strip().lstrip("#"))
    except ValueError:
        raise click.ClickException(
            f"{raw!r} is not a shipment id: use the number `orders queue` shows."
        ) from None


def _item(name: str, quantity: int) -> str:
    return f"{name} x {quantity}" if quantity > 1 else name


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the last one is left as it is."""
    if not rows:
        return
    every = [header, *rows]
    widths = [max(len(row[i]) for row in every) for i in range(len(header) - 1)]
    for row in every:
        cells = [f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))
