"""Staff commands for organisations: `flask --app shop orgs list|create|add-member|remove-member`.

ORG is an organisation's id as `orgs list` shows it (the one in its pages' addresses). A bad
address, an unknown organisation or removing the last member prints one line saying why and
exits with status 1.
"""

from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from . import db
from .clock import now
from .models_organisations import Organisation
from .services import organisations

orgs_cli = AppGroup("orgs", help="Organisations (employers, schools) and their members.")


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


def _find(session: Session, public_id: str) -> Organisation:
    found = organisations.by_public_id(session, public_id)
    if found is None:
        raise click.ClickException(f"no organisation has the id {public_id!r} (see orgs list)")
    return found


@orgs_cli.command("list")
def list_organisations() -> None:
    """Every organisation, with its id and members."""
    found = organisations.all_organisations(db.session())
    if not found:
        click.echo("no organisations")
    for organisation in found:
        members = ", ".join(m.email for m in organisation.members)
        click.echo(f"{organisation.public_id}  {organisation.name} <{organisation.contact_email}>")
        click.echo(f"    members: {members}")


@orgs_cli.command("create")
@click.argument("name")
@click.argument("contact_email")
@click.option("--member", "member", required=True, help="The first member's email address.")
def create(name: str, contact_email: str, member: str) -> None:
    """Create the organisation NAME with its contact address and first member."""
    try:
        with db.transaction() as session:
            organisation = organisations.create(
                session, name, contact_email, member, by=_operator(), now=now()
            )
            public_id = organisation.public_id
    except organisations.OrganisationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{public_id}  {name.strip()}: first member {member.strip().lower()}")


@orgs_cli.command("add-member")
@click.argument("org")
@click.argument("email")
def add_member(org: str, email: str) -> None:
    """Make EMAIL a member of ORG: they sign in with a one-time link."""
    try:
        with db.transaction() as session:
            member = organisations.add_member(
                session, _find(session, org), email, by=_operator(), now=now()
            )
            address = member.email
    except organisations.OrganisationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{address} is a member of {org}")


@orgs_cli.command("remove-member")
@click.argument("org")
@click.argument("email")
def remove_member(org: str, email: str) -> None:
    """Remove EMAIL from ORG (never its last member)."""
    try:
        with db.transaction() as session:
            organisations.remove_member(session, _find(session, org), email)
    except organisations.OrganisationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{email.strip().lower()} is no longer a member of {org}")
