"""`make run`: the live site at / and the shop at /shop/ on one address, for development.

In production the static site is plain files on a web server and the shop runs under
gunicorn behind it at /shop/; here one process plays both parts. Each sends its own security
headers, as in production: the shop's (shop.security), and the site's (sitegen.headers, the
rules the build writes to `_headers` for the static host); neither sends HSTS over plain HTTP.
Live reload works under the site's CSP: it re-reads content on the next request and restarts on
a template change, with no script in the page.
"""

from __future__ import annotations

import argparse
import os
import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import run_simple

from sitegen.app import TEMPLATES
from sitegen.app import create_app as create_site
from sitegen.headers import DID_DOCUMENT, headers_for

from . import create_app as create_shop
from .openbadges.cli import did_json

SHOP_PREFIX = "/shop"
# The site's files whose name says less than their type: ".xml" is any XML (what the site app
# and Frozen-Flask go by), the feed is Atom, and feed readers are told so.
SITE_FILE_TYPES = {"/blog/feed.xml": "application/atom+xml; charset=utf-8"}


def combined(site: Any, shop: Any) -> Any:
    """A WSGI app sending /shop and /shop/... to the shop and everything else to the site."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == DID_DOCUMENT:
            return _did_document(shop, start_response)
        if path == SHOP_PREFIX or path.startswith(SHOP_PREFIX + "/"):
            target, respond = shop, start_response
        else:
            target, respond = site, _with_type(start_response, SITE_FILE_TYPES.get(path))
        result: Iterable[bytes] = target(environ, respond)
        return result

    return app


def _did_document(shop: Any, start_response: Any) -> Iterable[bytes]:
    """The issuer's DID document from the shop's own keys, with the headers the static host
    gives the built file (the live site app renders pages, not the build's extra files)."""
    with shop.app_context():
        body = did_json().encode()
    headers = {
        **headers_for(DID_DOCUMENT, hsts=False),
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    start_response("200 OK", list(headers.items()))
    return [body]


def _with_type(start_response: Any, file_type: str | None) -> Any:
    """`start_response`, giving a successful answer `file_type` as its Content-Type."""
    if file_type is None:
        return start_response

    def typed(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
        if status.startswith("200"):
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Type", file_type))
        return start_response(status, headers, *rest)

    return typed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shop.devserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--search-dir", type=Path, default=Path("build/site/pagefind"))
    args = parser.parse_args(argv)
    site = create_site({"LIVE_RELOAD": True, "SEARCH_DIR": args.search_dir.resolve()})
    # The reloader runs this function twice: in a watcher, then in the child that serves.
    serving = os.environ.get("WERKZEUG_RUN_MAIN") == "true"
    # The shop answers only at its SHOP_URL: this server's address unless one is set.
    address = {"SHOP_URL": os.environ.get("SHOP_URL") or f"http://{args.host}:{args.port}"}
    shop = create_shop({**address, **(_payments(args.host, args.port) if serving else {})})
    if serving:
        print(f"CPT site and shop on http://{args.host}:{args.port}/ (shop at {SHOP_PREFIX}/)")
    extra = [str(p) for p in TEMPLATES.rglob("*") if p.is_file()]
    run_simple(
        args.host, args.port, combined(site, shop), use_reloader=True, extra_files=extra,
        threaded=True,
    )  # fmt: skip


def _payments(host: str, port: int) -> dict[str, Any]:
    """Real Stripe when STRIPE_SECRET_KEY is set; else the offline fake, started here."""
    if os.environ.get("STRIPE_SECRET_KEY"):
        print("payments: Stripe, with the keys in STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET")
        return {}
    from .payments.offline import FakeStripe

    fake = FakeStripe.start()
    secret = "whsec_offline_" + secrets.token_hex(8)
    webhook = f"http://{host}:{port}{SHOP_PREFIX}/stripe/webhook"
    register = urllib.request.Request(
        f"{fake.url}/_config/webhooks/shop",
        data=urllib.parse.urlencode({"url": webhook, "secret": secret, "events[0]": "*"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(register, timeout=5):
        pass
    print(
        f"payments: the offline Stripe (localstripe with Checkout) at {fake.url}; "
        "no STRIPE_SECRET_KEY is set, so nothing real is charged"
    )
    return {
        "STRIPE_SECRET_KEY": "sk_test_offline",
        "STRIPE_API_BASE": fake.url,
        "STRIPE_WEBHOOK_SECRET": secret,
    }


if __name__ == "__main__":
    main()
