"""The shop's one public address (SHOP_URL), and the Host header every request must name.

Links that leave the shop (sign-in mail, Stripe's success and cancel addresses, verify links)
are built from SHOP_URL, never from the request: a request's Host header is the client's to
choose, and a link built from it would carry a sign-in token to any host an attacker names.
For the same reason a request whose host is not SHOP_URL's is refused (400) before any view
runs. Behind TRUSTED_PROXIES proxies the host checked is X-Forwarded-Host's (werkzeug's
ProxyFix, see shop._behind_proxies); with no proxy trusted that header is ignored.

Flask's TRUSTED_HOSTS is not used: it compares host names only, and the development default
must also hold the port (127.0.0.1 and localhost on PORT, nothing else on the machine).

In production SHOP_URL must be set, to an https:// address (shop.config.production_problems).
In development it defaults to http://127.0.0.1:<PORT> (PORT: 5000 unless set), and under
TESTING to http://localhost, the address Flask's test client names.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

LOOPBACK = frozenset({"127.0.0.1", "localhost"})
DEFAULT_PORTS = {"http": 80, "https": 443}
DEFAULT_PORT = 5000


class ShopUrlError(ValueError):
    """SHOP_URL is not an address the shop can be reached at."""


TEST_CLIENT_URL = "http://localhost"


def development_url(port: int | str | None) -> str:
    return f"http://127.0.0.1:{port or DEFAULT_PORT}"


def init_app(app: Flask) -> None:
    """Fill in the development SHOP_URL when none is set, check it, and refuse other hosts."""
    if not app.config.get("SHOP_URL"):
        default = TEST_CLIENT_URL if app.testing else development_url(app.config.get("PORT"))
        app.config["SHOP_URL"] = default
    accepted_hosts(app.config["SHOP_URL"])  # a malformed address stops the start here
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_other_hosts)


def shop_url() -> str:
    """The current app's public address, without a trailing slash."""
    return str(current_app.config["SHOP_URL"]).rstrip("/")


def external(path: str) -> str:
    """The absolute address of a path of the shop (`/shop/...`), for links that leave it."""
    return shop_url() + path


@functools.lru_cache(maxsize=16)
def accepted_hosts(url: str) -> frozenset[str]:
    """The `host[:port]` values (as werkzeug gives request.host) that reach the shop at `url`.

    A loopback address accepts both loopback names on its port: `make run` prints
    127.0.0.1, and a developer may well type localhost.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ShopUrlError(f"SHOP_URL must be an http:// or https:// address, not {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ShopUrlError(
            f"SHOP_URL is the shop's origin only, like https://cpt.example.org, not {url!r}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ShopUrlError(f"SHOP_URL has a port that is not a number: {url!r}") from None
    suffix = "" if port in (None, DEFAULT_PORTS[parts.scheme]) else f":{port}"
    names = LOOPBACK if parts.hostname in LOOPBACK else {parts.hostname}
    return frozenset(f"{name}{suffix}" for name in names)


def _refuse_other_hosts() -> Response | None:
    if request.host.lower() in accepted_hosts(current_app.config["SHOP_URL"]):
        return None
    message = (
        f"This address is not the shop's: it answers at {shop_url()} only.\n"
        "(The request named the host "
        f"{request.host!r}; set SHOP_URL to the shop's public address.)\n"
    )
    return Response(message, status=400, mimetype="text/plain")
