"""The shop's pages and APIs, as thin blueprints over shop.services and shop.domain."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def refuse_nul_characters() -> None:
    """400 for a NUL character in the path or the query: no database stores one (PostgreSQL
    refuses it in text). Form fields are checked by the services that take them, with a
    message next to the field."""
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        abort(400)


def init_app(app: Flask) -> None:
    from . import (
        account,
        admin,
        api,
        badges,
        documents,
        organisation,
        organisation_admin,
        policies,
        signin,
        status_list,
        store,
        stripe_webhook,
        verify,
        verify_pasted,  # noqa: F401  (its route is on the verify blueprint)
        vouchers,
    )

    csrf.init_app(app)
    policies.init_app(app)
    app.before_request(refuse_nul_characters)
    app.register_blueprint(signin.blueprint)
    app.register_blueprint(account.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(store.blueprint)
    app.register_blueprint(stripe_webhook.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(verify.blueprint)
    app.register_blueprint(status_list.blueprint)
    app.register_blueprint(documents.blueprint)
    app.register_blueprint(organisation.blueprint)
    app.register_blueprint(organisation.api_blueprint)
    app.register_blueprint(organisation_admin.blueprint)
    app.register_blueprint(badges.blueprint)
    app.register_blueprint(vouchers.blueprint)
    # Machine-to-machine, authenticated by signatures (HMAC, Stripe's) instead of a session.
    csrf.exempt(api.blueprint)
    csrf.exempt(stripe_webhook.blueprint)
    csrf.exempt(organisation.api_blueprint)  # a bearer key, never a cookie
