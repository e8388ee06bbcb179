"""The CPT shop: candidates, results, credentials and purchases.

`create_app(config=None)` builds the Flask app; tests pass their own config.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from . import chrome, cli, db, hosts, limits, mail, payments, security, web
    from .clock import system_clock
    from .config import ConfigError, content_paths, defaults, from_environment, production_problems
    from .services import program

    app = Flask(__name__, static_folder=None, instance_path=str(_instance()))
    app.config.update(defaults())
    app.config.update(from_environment())
    app.config.update(config or {})
    app.config.update(content_paths(app.config))
    app.config.setdefault("CLOCK", system_clock)
    if app.config["SHOP_ENV"] == "production" and (problems := production_problems(app.config)):
        raise ConfigError(problems)
    hosts.init_app(app)
    _secure_cookies(app)
    _behind_proxies(app)
    security.init_app(app)

    program.init_app(app)
    db.init_app(app)
    mail.init_app(app)
    payments.init_app(app)
    chrome.init_app(app)
    web.init_app(app)
    limits.init_app(app)
    cli.init_app(app)
    return app


def _instance() -> Any:
    from .config import INSTANCE

    return INSTANCE


def _secure_cookies(app: Flask) -> None:
    import datetime as dt

    from .config import SESSION_LIFETIME_KEYS

    for key in SESSION_LIFETIME_KEYS:
        if not isinstance(app.config[key], int) or app.config[key] < 1:
            raise ValueError(f"{key} must be a whole number of at least 1, not {app.config[key]!r}")
    development = app.config["SHOP_ENV"] == "development" or app.testing
    longest = max(app.config["SESSION_MAX_HOURS"], app.config["STAFF_SESSION_MAX_HOURS"])
    app.config.update(
        # Flask refuses a cookie signed longer ago than this (its default: 31 days); each
        # session is also checked on the server (shop.web.session).
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=longest),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not development,
        SESSION_COOKIE_NAME="cpt_shop",
        SESSION_COOKIE_PATH="/shop/",
    )


def _behind_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address, scheme and host from
    the headers they set: the rate limits count each client (not the proxy as one client for
    everybody), and links in mail and to Stripe name the public https address.

    Only the last TRUSTED_PROXIES entries of each header are believed: a client can put
    anything in front of them, and with 0 (the default) every such header is ignored.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    proxies = app.config["TRUSTED_PROXIES"]
    if not isinstance(proxies, int) or proxies < 0:
        raise ValueError(f"TRUSTED_PROXIES must be 0 or a number of proxies, not {proxies!r}")
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
