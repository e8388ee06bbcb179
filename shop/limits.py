"""Rate limits per client address (Flask-Limiter): the public verify pages, signing in and the
results API.

Counters live in Redis when `REDIS_URL` is set (every host behind the load balancer shares
them; while Redis is unreachable, each process counts in its memory), else in this process's
memory. `RATELIMIT_STORAGE_URI` is always set explicitly, so
Flask-Limiter never falls back to memory silently. The limits are read from the config on each
request, so a test can lower them on a running app. The defaults are DEFAULTS, in production
and tests, and the generous DEVELOPMENT_DEFAULTS under `make run` (SHOP_ENV=development):

    VERIFY_RATE_LIMIT  the three verify routes together (the form, the page, the JSON-LD);
                       a redirect (the form sending a valid id on, a non-canonical URL) is free
    SIGNIN_RATE_LIMIT  asking for a sign-in link (POST /shop/signin)
    RESULTS_API_RATE_LIMIT
                       posting results (POST /shop/api/results), signed or not: a caller
                       guessing signatures is slowed down as much as one sending too often
    ORG_VERIFY_RATE_LIMIT
                       bulk verifications per organisation (the page's POST and the API
                       together), counted per organisation, not per address; an API request
                       without a valid key counts against its address

Past a limit the answer is 429 with a Retry-After header: a page, or JSON for the JSON-LD route
and the results API.

The key is the client's address (`request.remote_addr`). Behind a reverse proxy, set
TRUSTED_PROXIES (nginx in front: 1) so that it is the client's, from X-Forwarded-For, and not
the proxy's, which would make every visitor share one count (see shop._behind_proxies).
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

DEFAULTS = {
    "VERIFY_RATE_LIMIT": "30 per minute",
    "SIGNIN_RATE_LIMIT": "10 per hour",
    "RESULTS_API_RATE_LIMIT": "60 per minute",
    "ORG_VERIFY_RATE_LIMIT": "30 per hour",
    "RATELIMIT_KEY_PREFIX": "cpt-shop",
}
# `make run` (SHOP_ENV=development, not TESTING): one developer tries every demo account and
# signs in again and again; the limits above would stop them after ten links an hour. Tests
# keep the production values, so that what they check is what production does.
DEVELOPMENT_DEFAULTS = {
    "VERIFY_RATE_LIMIT": "600 per minute",
    "SIGNIN_RATE_LIMIT": "500 per hour",
    "RESULTS_API_RATE_LIMIT": "600 per minute",
}
# Endpoints that answer in JSON, so their 429 does too.
JSON_ENDPOINTS = frozenset({"verify.credential_json", "api.post_results", "org_api.api_verify"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
ORG_VERIFY_ENDPOINTS = frozenset({"org.verify", "org_api.api_verify"})


def init_app(app: Flask) -> None:
    """Give `app` its own limiter (its own storage), with the verify, sign-in and results API
    limits."""
    from .web import api, organisation, signin, verify

    if app.config["SHOP_ENV"] == "development" and not app.testing:
        for key, value in DEVELOPMENT_DEFAULTS.items():
            app.config.setdefault(key, value)
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    # Redis down: count in this process's memory (same limits) rather than fail every lookup.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)

    limiter = Limiter(get_remote_address)
    limiter.shared_limit(
        _verify_limit,
        scope="verify",
        deduct_when=lambda response: response.status_code not in REDIRECTS,
    )(verify.blueprint)
    limiter.limit(
        _signin_limit,
        methods=["POST"],
        exempt_when=lambda: request.endpoint != "signin.start",
    )(signin.blueprint)
    limiter.limit(_results_api_limit)(api.blueprint)
    for blueprint in (organisation.blueprint, organisation.api_blueprint):
        limiter.shared_limit(
            _org_verify_limit,
            scope="org-verify",
            key_func=_org_key,
            exempt_when=lambda: request.endpoint not in ORG_VERIFY_ENDPOINTS,
        )(blueprint)
    limiter.init_app(app)
    app.extensions["shop.limiter"] = limiter
    app.register_error_handler(429, _too_many_requests)


def limiter() -> Limiter:
    """The current app's limiter."""
    found: Limiter = current_app.extensions["shop.limiter"]
    return found


def _verify_limit() -> str:
    return str(current_app.config["VERIFY_RATE_LIMIT"])


def _signin_limit() -> str:
    return str(current_app.config["SIGNIN_RATE_LIMIT"])


def _results_api_limit() -> str:
    return str(current_app.config["RESULTS_API_RATE_LIMIT"])


def _org_key() -> str:
    from .web.organisation import rate_limit_key

    return rate_limit_key()


def _org_verify_limit() -> str:
    return str(current_app.config["ORG_VERIFY_RATE_LIMIT"])


def _too_many_requests(error: TooManyRequests) -> Response:
    wait = _seconds_to_wait()
    # The organisation's count when it was one (a member, or a valid key), else the address's.
    for_organisation = request.endpoint in ORG_VERIFY_ENDPOINTS and _org_key().startswith("org:")
    who = "your organisation" if for_organisation else "your address"
    response: Response
    if request.endpoint in JSON_ENDPOINTS:
        response = jsonify(error=f"Too many requests from {who}: try again in {wait} seconds.")
    else:
        page = render_template("shop/too_many_requests.html", wait=wait, who=who)
        response = Response(page, mimetype="text/html")
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


def _seconds_to_wait() -> int:
    """Seconds until the limit that was hit lets this client in again (at least 1)."""
    current = limiter().current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.window[0] - time.time()))
