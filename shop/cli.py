"""Staff commands: `flask --app shop db upgrade`, `... results import FILE.csv`, `... demo seed`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import migrate

db_cli = AppGroup("db", help="The shop's database.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}: {_safe_url(current_app.config['DATABASE_URL'])}")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ("base" undoes all)."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


# -- results (staff) ---------------------------------------------------------------------------

results_cli = AppGroup("results", help="Assessment results.")


@results_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
def import_results(file: str) -> None:
    """Record the results in FILE (CSV, UTF-8; see docs/results-import.md).

    All or nothing: if any row is wrong, every problem is listed with its line and nothing is
    recorded. Importing the same file again changes nothing.
    """
    from . import db
    from .clock import now, today
    from .services import program, results

    name = click.format_filename(file)
    current = program.current()
    try:
        # surrogateescape: bytes that are not UTF-8 reach the parser, which names their line.
        with open(file, encoding="utf-8", errors="surrogateescape", newline="") as stream:
            records, problems = results.parse_csv(stream, current, today())
    except OSError as error:
        raise click.ClickException(f"{name}: cannot read the file ({error.strerror})") from None
    session = db.session()
    if problems:
        # The conflicts of the valid rows with the database too: every problem in one run.
        problems = [*problems, *results.find_conflicts(session, records)]
        session.rollback()
        raise _not_imported(name, [str(p) for p in results.in_order(problems)])
    try:
        summary = results.import_records(
            session,
            records,
            now=now(),
            program=current,
            source=name,
            time_zone=current_app.config["TIME_ZONE"],
        )
    except results.ResultsRejected as rejected:
        raise _not_imported(name, [str(p) for p in rejected.problems]) from None
    authorizations = "authorization" if summary.authorizations_used == 1 else "authorizations"
    click.echo(
        f"{_count(summary.records, 'record')}: {summary.created} new, "
        f"{summary.already_recorded} already recorded, "
        f"{summary.authorizations_used} assessment {authorizations} used"
    )
    if summary.details_changed:
        click.echo(
            f"name or email changed for {_count(len(summary.details_changed), 'candidate')}: "
            + ", ".join(summary.details_changed)
        )
    if summary.older_details_ignored:
        click.echo(
            f"name or email kept for {_count(len(summary.older_details_ignored), 'candidate')}, "
            "sent in records older than the one they came from: "
            + ", ".join(summary.older_details_ignored)
        )
    if summary.names_kept:
        click.echo(
            f"{_count(summary.names_kept, 'candidate')} sent with another name than the one "
            "staff set on a reissue: the name staff set was kept"
        )


def _not_imported(name: str, problems: list[str]) -> click.exceptions.Exit:
    """Print the problems to stderr; the exception to raise to exit with status 1."""
    for problem in problems:
        click.echo(f"{name} {problem}", err=True)
    click.echo("nothing was imported", err=True)
    return click.exceptions.Exit(1)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


# -- demo data ---------------------------------------------------------------------------------

demo_cli = AppGroup("demo", help="Demo candidates for development and `make run`.")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Add the demo candidates, one per interesting state (running it again adds nothing)."""
    from . import db
    from .clock import now, today
    from .demo import seed
    from .services import program

    with db.transaction() as session:
        candidates = seed(session, today(), now(), program.current())
    rows = [("EMAIL", "STATE", "WHAT THE DASHBOARD SHOWS")] + [
        (c.email, c.state, c.description) for c in candidates
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for email, state, description in rows:
        click.echo(f"{email:<{widths[0]}}  {state:<{widths[1]}}  {description}")
    created = sum(c.created for c in candidates)
    click.echo(
        f"\n{len(candidates)} demo candidates: {created} created now, "
        f"{len(candidates) - created} already there."
    )
    shop_url = current_app.config["SHOP_URL"]
    if current_app.config["SMTP_HOST"]:
        delivery = f"the link is mailed through {current_app.config['SMTP_HOST']}"
    else:
        outbox = _shown_path(current_app.config["OUTBOX_DIR"])
        delivery = f"the link is written to {outbox} (no SMTP server is configured)"
    click.echo(f"Sign in at {shop_url.rstrip('/')}/shop/signin with the address; {delivery}.")


def _shown_path(folder: object) -> str:
    """A folder for people to read: relative to the working directory when it is inside it."""
    from pathlib import Path

    path = Path(str(folder))
    try:
        return f"{path.resolve().relative_to(Path.cwd().resolve())}/"
    except ValueError:
        return f"{path}/"


# ----------------------------------------------------------------------------------------------


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(results_cli)
    app.cli.add_command(demo_cli)

    from .openbadges.cli import add_commands
    from .staff_cli import credentials_cli, orders_cli, staff_cli

    add_commands(credentials_cli)
    for group in (staff_cli, orders_cli, credentials_cli):
        app.cli.add_command(group)

    from .organisation_cli import orgs_cli

    app.cli.add_command(orgs_cli)
