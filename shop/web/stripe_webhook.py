"""POST /shop/stripe/webhook: Stripe's signed events; a bad signature gets 400, writes nothing."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from shop import db
from shop.clock import now, today
from shop.payments import gateway, webhooks
from shop.payments.gateway import PaymentError, WebhookError, verify_webhook
from shop.services import program

blueprint = Blueprint("stripe", __name__, url_prefix="/shop/stripe")

log = logging.getLogger(__name__)


@blueprint.route("/webhook", methods=["POST"])
def webhook() -> tuple[Response, int]:
    payload = request.get_data(cache=False)  # the raw bytes: the signature covers exactly them
    try:
        event = verify_webhook(
            payload,
            request.headers.get("Stripe-Signature"),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except WebhookError as error:
        return jsonify(error=str(error)), 400
    try:
        with db.transaction() as tx:
            context = webhooks.Context(tx, gateway(), now(), today(), program.current())
            handled = webhooks.handle(context, event)
    except WebhookError as error:  # signed, but malformed inside: rolled back, nothing written
        return jsonify(error=str(error)), 400
    except PaymentError as error:
        # An automatic refund could not be made (Stripe unreachable or refusing): everything,
        # the event's id included, is rolled back, so Stripe's redelivery tries again.
        log.warning(
            "webhook %s: the refund failed, the event waits for redelivery: %s", event["id"], error
        )
        return jsonify(error=f"the refund could not be made, try again later: {error}"), 503
    return jsonify(received=True, handled=handled), 200
