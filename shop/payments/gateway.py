"""The one module that talks to Stripe: one function per API call, amounts in integer cents.

Everything else in the shop speaks in orders and cents; this module turns those into Stripe
requests and Stripe's answers back into small frozen records.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import stripe

# How long one call to Stripe may take, its retries and their back-off included, before the
# shop gives up and says "try again" (config STRIPE_TIMEOUT_SECONDS overrides it).
TIMEOUT_SECONDS = 10
# Stripe's events are a few levels deep; a signed body nested deeper is refused, not walked.
MAX_EVENT_DEPTH = 32


class PaymentError(Exception):
    """Stripe could not be reached, or refused the request."""


class WebhookError(Exception):
    """A webhook request whose signature or body cannot be trusted."""


@dataclass(frozen=True, slots=True)
class LineItem:
    name: str
    unit_amount_cents: int
    quantity: int


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent_id: str | None
    amount_total_cents: int | None
    metadata: Mapping[str, str]
    shipping: Mapping[str, Any] | None


class DeadlineClient(stripe.RequestsClient):
    """The stripe library's HTTP client, with one deadline for a whole call: each attempt may
    take only the time left, a back-off never sleeps past it, and nothing is retried after it.

    The library gives each attempt its own timeout and retries twice, so a Stripe that hangs
    would hold a worker for three timeouts plus the back-off. The deadline is kept per thread:
    one client serves every thread of a worker.
    """

    def __init__(self, deadline_seconds: float) -> None:
        self._calls = threading.local()
        self._deadline_seconds = deadline_seconds
        super().__init__(timeout=deadline_seconds)

    @property  # the library reads it once per attempt
    def _timeout(self) -> float:
        return max(self._seconds_left(), 0.001)

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        pass  # set by the library's __init__; the deadline decides instead

    def _seconds_left(self) -> float:
        ends: float | None = getattr(self._calls, "ends", None)
        if ends is None:
            return self._deadline_seconds
        return ends - time.monotonic()

    def _request_with_retries_internal(self, *args: Any, **kwargs: Any) -> Any:
        self._calls.ends = time.monotonic() + self._deadline_seconds
        try:
            return super()._request_with_retries_internal(*args, **kwargs)
        finally:
            self._calls.ends = None

    def _should_retry(self, *args: Any, **kwargs: Any) -> bool:
        return self._seconds_left() > 0 and bool(super()._should_retry(*args, **kwargs))

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return max(0.0, min(super()._sleep_time_seconds(num_retries), self._seconds_left()))

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self._seconds_left() <= 0:
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                f"no answer from Stripe within {self._deadline_seconds} seconds",
                should_retry=False,
            )
        return super().request(*args, **kwargs)


def make_client(
    secret_key: str, api_base: str | None = None, *, timeout: float = TIMEOUT_SECONDS
) -> stripe.StripeClient:
    """A client for live Stripe, or for the offline fake when `api_base` names it.

    `timeout` is in seconds, for a whole call: its retries and their back-off included.
    """
    addresses: Any = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        secret_key,
        base_addresses=addresses,
        http_client=DeadlineClient(timeout),
        max_network_retries=2,
    )


def create_checkout_session(
    client: stripe.StripeClient,
    *,
    lines: Sequence[LineItem],
    currency: str,
    order_ref: str,
    candidate_ref: str,
    customer_email: str,
    success_url: str,
    cancel_url: str,
    collect_shipping: bool,
    expires_at: dt.datetime,
    idempotency_key: str,
) -> CheckoutSession:
    """Start a hosted Checkout for an order; the same key never makes a second session."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": line.unit_amount_cents,
                    "product_data": {"name": line.name},
                },
                "quantity": line.quantity,
            }
            for line in lines
        ],
        "client_reference_id": order_ref,
        "customer_email": customer_email,
        "metadata": {"order": order_ref, "candidate": candidate_ref},
        "payment_intent_data": {"metadata": {"order": order_ref, "candidate": candidate_ref}},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }
    if collect_shipping:
        params["shipping_address_collection"] = {"allowed_countries": ["US"]}
    try:
        session = client.v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise PaymentError(_describe(error)) from error
    return _session(session)


def retrieve_checkout_session(client: stripe.StripeClient, session_id: str) -> CheckoutSession:
    try:
        return _session(client.v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError as error:
        raise PaymentError(_describe(error)) from error


def expire_checkout_session(client: stripe.StripeClient, session_id: str) -> CheckoutSession:
    try:
        return _session(client.v1.checkout.sessions.expire(session_id))
    except stripe.StripeError as error:
        raise PaymentError(_describe(error)) from error


def refund_payment(
    client: stripe.StripeClient,
    payment_intent_id: str,
    *,
    amount_cents: int | None = None,
    idempotency_key: str,
) -> str:
    """Refund `amount_cents` of a payment, or all that is left of it when None; returns the
    refund's id. The key makes a retry harmless."""
    params: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount_cents is not None:
        if amount_cents <= 0:
            raise ValueError(f"a refund is of a positive amount, not {amount_cents} cents")
        params["amount"] = amount_cents
    try:
        refund = client.v1.refunds.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise PaymentError(_describe(error)) from error
    return str(refund.id)


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event of a webhook request, as a plain dict, once its signature checks out.

    The signature is checked on the raw bytes as received, with Stripe's tolerance for the
    timestamp (5 minutes): a re-serialised, tampered, unsigned or stale body is refused.
    """
    if not signature:
        raise WebhookError("no Stripe-Signature header")
    if not signature.isascii():
        # Stripe signs with hex digests; the library's compare_digest raises TypeError (a 500)
        # on a non-ASCII header instead of refusing it.
        raise WebhookError("bad signature: the Stripe-Signature header is not ASCII")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError as error:
        raise WebhookError(f"bad signature: {error.user_message or error}") from error
    except ValueError as error:
        raise WebhookError(f"not a Stripe event: {error}") from error
    except RecursionError as error:
        raise WebhookError(_TOO_DEEP) from error
    except (AttributeError, TypeError) as error:
        # Signed, but JSON that is not an object (null, a list, a number): the library trips.
        raise WebhookError("not a Stripe event: the body is not a JSON object") from error
    try:
        result: dict[str, Any] = event.to_dict()
    except RecursionError as error:
        raise WebhookError(_TOO_DEEP) from error
    if _depth_over(result, MAX_EVENT_DEPTH):
        raise WebhookError(_TOO_DEEP)
    data = result.get("data")
    if (
        not _is_id(result.get("id"))
        or not isinstance(result.get("type"), str)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise WebhookError("not a Stripe event: it needs an id, a type and a data.object")
    if _has_nul(result):
        raise WebhookError("not a Stripe event: it has a NUL character in it")
    return result


def session_from_event(data_object: Mapping[str, Any]) -> CheckoutSession:
    """The Checkout Session carried in a webhook event's data.object.

    Raises WebhookError when it does not have a Checkout Session's shape: the signature says
    the event is Stripe's, but nothing malformed is let through to the database.
    """
    problem = _session_shape_problem(data_object)
    if problem:
        raise WebhookError(f"the event's data.object is not a Checkout Session: {problem}")
    return _from_mapping(data_object)


@dataclass(frozen=True, slots=True)
class ChargeRefunds:
    """What a `charge.refunded` event says: how much of a payment is refunded so far, in all."""

    payment_intent_id: str
    amount_refunded_cents: int


def charge_refunds_from_event(data_object: Mapping[str, Any]) -> ChargeRefunds | None:
    """The refunds carried in a `charge.refunded` event's data.object (a Charge), or None for a
    charge that belongs to no payment intent (none of the shop's).

    Stripe sends `charge.refunded` for every refund, partial or full, with the charge's
    cumulative `amount_refunded`: the amount, unlike a single refund's, can be applied in any
    order and any number of times. Raises WebhookError when the object is not a Charge.
    """
    if data_object.get("object") not in (None, "charge"):
        raise WebhookError("the event's data.object is not a Charge")
    intent = data_object.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    if intent is None:
        return None
    if not _is_id(intent):
        raise WebhookError("the Charge's payment_intent is not an id")
    amount = data_object.get("amount_refunded")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise WebhookError("the Charge's amount_refunded is not a whole number of cents")
    return ChargeRefunds(str(intent), amount)


# The longest id the shop stores (StripeEvent.id, Order.checkout_session_id and
# Order.payment_intent_id are 255 characters); Stripe's are far shorter.
MAX_ID_LENGTH = 255


def _is_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


_TOO_DEEP = f"not a Stripe event: it is nested deeper than {MAX_EVENT_DEPTH} levels"


def _depth_over(value: Any, limit: int) -> bool:
    """Whether objects and arrays in `value` nest deeper than `limit` (walked without
    recursion, so that the check itself cannot overflow the stack)."""
    pending = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict | list):
            if depth >= limit:
                return True
            children = current.values() if isinstance(current, dict) else current
            pending.extend((child, depth + 1) for child in children)
    return False


def _has_nul(value: Any) -> bool:
    """Whether a NUL character is anywhere in the decoded JSON (PostgreSQL refuses them)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _session_shape_problem(data: Mapping[str, Any]) -> str | None:
    if not _is_id(data.get("id")):
        return "its id is missing or not an id"
    for key in ("status", "payment_status", "url"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"{key} is not a string"
    intent = data.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    if intent is not None and not _is_id(intent):
        return "payment_intent is not an id"
    amount = data.get("amount_total")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        return "amount_total is not a whole number of cents"
    metadata = data.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, Mapping) or not all(isinstance(v, str) for v in metadata.values())
    ):
        return "metadata is not an object of strings"
    for key in ("shipping_details", "collected_information"):
        if data.get(key) is not None and not isinstance(data[key], Mapping):
            return f"{key} is not an object"
    shipping = (data.get("collected_information") or {}).get("shipping_details")
    if shipping is not None and not isinstance(shipping, Mapping):
        return "collected_information.shipping_details is not an object"
    return None


def _session(session: Any) -> CheckoutSession:
    return _from_mapping(session.to_dict())


def _from_mapping(data: Mapping[str, Any]) -> CheckoutSession:
    intent = data.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    shipping = data.get("shipping_details") or (data.get("collected_information") or {}).get(
        "shipping_details"
    )
    return CheckoutSession(
        id=str(data["id"]),
        url=data.get("url"),
        status=str(data.get("status") or ""),
        payment_status=str(data.get("payment_status") or ""),
        payment_intent_id=str(intent) if intent else None,
        amount_total_cents=data.get("amount_total"),
        metadata=dict(data.get("metadata") or {}),
        shipping=dict(shipping) if shipping else None,
    )


def _describe(error: stripe.StripeError) -> str:
    return error.user_message or str(error) or type(error).__name__


@dataclass(frozen=True)
class StripeGateway:
    """The functions above bound to one client: what services take as their `gateway`."""

    client: stripe.StripeClient

    def create_checkout_session(self, **kwargs: Any) -> CheckoutSession:
        return create_checkout_session(self.client, **kwargs)

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        return retrieve_checkout_session(self.client, session_id)

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        return expire_checkout_session(self.client, session_id)

    def refund_payment(
        self, payment_intent_id: str, *, amount_cents: int | None = None, idempotency_key: str
    ) -> str:
        return refund_payment(
            self.client,
            payment_intent_id,
            amount_cents=amount_cents,
            idempotency_key=idempotency_key,
        )
