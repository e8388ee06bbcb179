"""The shop's pages and APIs, as thin blueprints over shop.services and shop.domain."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from . import account, admin, api, documents, signin, store, stripe_webhook, verify

    csrf.init_app(app)
    app.register_blueprint(signin.blueprint)
    app.register_blueprint(account.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(store.blueprint)
    app.register_blueprint(stripe_webhook.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(verify.blueprint)
    app.register_blueprint(documents.blueprint)
    # Machine-to-machine, authenticated by signatures (HMAC, Stripe's) instead of a session.
    csrf.exempt(api.blueprint)
    csrf.exempt(stripe_webhook.blueprint)
