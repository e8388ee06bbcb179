"""`flask --app shop credentials did`, `... dev-key` (the issuer's keys) and `... verify FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .app import signing_key
from .keys import (
    SigningKeyError,
    did_document,
    issuer_did,
    retired_public_keys,
    write_development_key,
)


def did_json() -> str:
    """The app's DID document, as the site serves it at /.well-known/did.json."""
    from shop.services import program

    try:
        key = signing_key(current_app)
        retired = retired_public_keys(current_app.config)
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from None
    document = did_document(issuer_did(program.current().site_url), key.public_multikey, retired)
    return json.dumps(document, indent=2) + "\n"


def add_commands(group: AppGroup) -> None:
    @group.command("did")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
    def did(out: Path | None) -> None:
        """Print the issuer's DID document (current and retired public keys), or write it to OUT."""
        text = did_json()
        if out is None:
            click.echo(text, nl=False)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(f"DID document written to {out}")

    @group.command("verify")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    def verify(file: Path) -> None:
        """Check the OB 3.0 credential in FILE (JSON) offline: signature, issuer, status, dates.

        Exits 0 when it is valid and ours, 1 otherwise.
        """
        from shop import db
        from shop.clock import now
        from shop.services import program
        from shop.services.open_badges import our_issuer

        from .contexts import pinned_loader
        from .verifier import NotACredential, Verdict, check

        name = click.format_filename(file)
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except OSError as error:
            raise click.ClickException(f"{name}: cannot read it ({error.strerror})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise click.ClickException(f"{name}: not JSON ({error})") from None
        try:
            key = signing_key(current_app)
            retired = retired_public_keys(current_app.config)
        except SigningKeyError as error:
            raise click.ClickException(str(error)) from None
        ours = our_issuer(db.session(), program.current(), key, retired)
        try:
            report = check(document, ours, now=now(), loader=pinned_loader())
        except NotACredential as error:
            raise click.ClickException(f"{name}: not a credential: {error}") from None
        for item in report.items:
            click.echo(f"{item.name:<10} {'ok' if item.ok else 'NO':<3} {item.says}")
        click.echo(f"verdict: {report.verdict}")
        if report.verdict is not Verdict.VALID:
            raise SystemExit(1)

    @group.command("dev-key")
    def dev_key() -> None:
        """Make a development signing key at OB_SIGNING_KEY_FILE, unless a key is configured."""
        if current_app.config.get("OB_SIGNING_KEY"):
            click.echo("OB_SIGNING_KEY is set: no development key needed")
            return
        path = Path(str(current_app.config["OB_SIGNING_KEY_FILE"]))
        if write_development_key(path):
            click.echo(f"development signing key written to {path} (refused in production)")
        else:
            click.echo(f"signing key at {path} kept")
