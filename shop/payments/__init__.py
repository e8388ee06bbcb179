"""Payments: the Stripe gateway, checkout, fulfilment, refunds, webhooks; offline/: fake Stripe."""

from __future__ import annotations

from flask import Flask, current_app

from .gateway import TIMEOUT_SECONDS, StripeGateway, make_client


def init_app(app: Flask) -> None:
    """The gateway for live Stripe, or for the offline fake when STRIPE_API_BASE names it.

    STRIPE_TIMEOUT_SECONDS (default gateway.TIMEOUT_SECONDS) is the deadline of each call to
    Stripe, its retries included.
    """
    client = make_client(
        app.config["STRIPE_SECRET_KEY"],
        app.config["STRIPE_API_BASE"] or None,
        timeout=float(app.config.get("STRIPE_TIMEOUT_SECONDS") or TIMEOUT_SECONDS),
    )
    app.extensions["payments.gateway"] = StripeGateway(client)


def gateway() -> StripeGateway:
    result: StripeGateway = current_app.extensions["payments.gateway"]
    return result
