"""POST /shop/stripe/webhook: Stripe's signed events; a bad signature gets 400, writes nothing."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from shop import db
from shop.clock import now, today
from shop.payments import gateway, webhooks
from shop.payments.gateway import WebhookError, verify_webhook
from shop.services import program

blueprint = Blueprint("stripe", __name__, url_prefix="/shop/stripe")


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
    with db.transaction() as tx:
        context = webhooks.Context(tx, gateway(), now(), today(), program.current())
        handled = webhooks.handle(context, event)
    return jsonify(received=True, handled=handled), 200
