"""Helpers for tests that pay through the offline Stripe (localstripe + our Checkout add-on)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from factories import shop_config
from flask import Flask
from werkzeug.serving import make_server

from shop import create_app
from shop.payments.offline import FakeStripe

WEBHOOK_SECRET = "whsec_test_shop"


@contextmanager
def offline_stripe() -> Iterator[FakeStripe]:
    """The offline Stripe; one runs per process, so share one another module left running."""
    running = FakeStripe.running()
    if running is not None:
        yield running
        return
    with FakeStripe.start() as fake:
        yield fake


@contextmanager
def shop_on_offline_stripe(
    fake: FakeStripe, database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path
) -> Iterator[tuple[Flask, str]]:
    """The shop wired to the offline Stripe, served on 127.0.0.1 with its webhook registered:
    the app and its address."""
    fake.reset()
    fake.set_clock(lambda: int(clock().timestamp()))
    app = create_app(
        shop_config(
            database_url,
            clock,
            tmp_path,
            STRIPE_API_BASE=fake.url,
            STRIPE_SECRET_KEY="sk_test_shop",
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
    )
    try:
        with serving(app) as base:
            register_webhook(fake.url, f"{base}/shop/stripe/webhook")
            yield app, base
    finally:
        app.extensions["db.engine"].dispose()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app on a real HTTP server at 127.0.0.1 (webhooks need an address to reach), which
    becomes its SHOP_URL: the shop answers no other host. Its SERVER_NAME too, so that the
    app's test client names that host as well."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["SERVER_NAME"] = f"127.0.0.1:{server.server_port}"
    app.config["SHOP_URL"] = f"http://{app.config['SERVER_NAME']}"
    try:
        yield app.config["SHOP_URL"]
    finally:
        server.shutdown()
        thread.join(5)


def register_webhook(fake_url: str, target: str) -> None:
    response = requests.post(
        f"{fake_url}/_config/webhooks/shop",
        data={"url": target, "secret": WEBHOOK_SECRET, "events[0]": "*"},
        timeout=5,
    )
    response.raise_for_status()


def pay(checkout_url: str, payment_method: str = "pm_card_visa") -> requests.Response:
    """Press "Pay" on the hosted test pay page, as a buyer would."""
    return requests.post(
        checkout_url,
        data={
            "email": "buyer@example.com",
            "name": "Jenny Rosen",
            "line1": "354 Oyster Point Blvd",
            "city": "South San Francisco",
            "state": "CA",
            "postal_code": "94080",
            "country": "US",
            "payment_method": payment_method,
        },
        allow_redirects=False,
        timeout=10,
    )


def signed(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, at: int | None = None
) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, signed as Stripe signs them."""
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={mac}"


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll until `condition` holds (webhooks arrive asynchronously)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"still not true after {seconds} s")
