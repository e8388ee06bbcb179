"""Payments: the Stripe gateway, checkout, fulfilment, webhooks, and the offline Stripe."""

from __future__ import annotations

from flask import Flask, current_app

from .gateway import StripeGateway, make_client


def init_app(app: Flask) -> None:
    """The gateway for live Stripe, or for the offline fake when STRIPE_API_BASE names it."""
    client = make_client(app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_API_BASE"] or None)
    app.extensions["payments.gateway"] = StripeGateway(client)


def gateway() -> StripeGateway:
    result: StripeGateway = current_app.extensions["payments.gateway"]
    return result
