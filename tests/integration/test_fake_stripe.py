"""The offline Stripe (localstripe + our Checkout) driven by the real `stripe` library.

One fake and one webhook receiver serve the whole module; every test works on its own
sessions and picks its events out by session or payment intent id. localstripe sends a
webhook about one second after the event, so tests that wait for one take a second or two.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from shop.payments.gateway import PaymentError, refund_payment
from shop.payments.offline import FakeStripe
from shop.payments.offline.upstream import ls_resources

WEBHOOK_SECRET = "whsec_test"
EVENT_TIMEOUT = 10.0


# --- helpers ---------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, fields: dict[str, Any] | None = None) -> tuple[int, Any, str]:
    """(status, headers, body) of a form request, redirects not followed."""
    data = urllib.parse.urlencode(fields, doseq=True).encode() if fields is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read().decode()


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps every delivery: (raw body, signature)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, str]] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._changed:
                    receiver.deliveries.append((body, self.headers.get("Stripe-Signature", "")))
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def events(self, match: Callable[[dict[str, Any]], bool]) -> list[tuple[bytes, str]]:
        with self._changed:
            return [(body, sig) for body, sig in self.deliveries if match(json.loads(body))]

    def wait_for(self, event_type: str, object_id: str, *, key: str = "id") -> tuple[bytes, str]:
        """The first delivery of `event_type` whose data.object[key] is `object_id`."""

        def match(event: dict[str, Any]) -> bool:
            return bool(
                event["type"] == event_type and event["data"]["object"].get(key) == object_id
            )

        deadline = time.monotonic() + EVENT_TIMEOUT
        with self._changed:
            while True:
                found = self.events(match)
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    types = [json.loads(body)["type"] for body, _ in self.deliveries]
                    raise AssertionError(f"no {event_type} for {object_id}; got {types}")
                self._changed.wait(left)


def checkout_types(receiver: Receiver, session_id: str) -> list[str]:
    return [
        json.loads(body)["type"]
        for body, _ in receiver.events(
            lambda e: (
                e["type"].startswith("checkout.session.")
                and e["data"]["object"].get("id") == session_id
            )
        )
    ]


def verified(delivery: tuple[bytes, str]) -> stripe.Event:
    payload, signature = delivery
    return stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 15000,
                    "product_data": {"name": "CPT exam voucher"},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 2500,
                    "product_data": {"name": "Printed study guide"},
                },
                "quantity": 1,
            },
        ],
        "success_url": "https://shop.example/checkout/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/checkout/cancelled",
        "client_reference_id": "order-42",
        "customer_email": "candidate@example.com",
        "metadata": {"order": "order-42", "candidate": "CPT-0001"},
        "payment_intent_data": {"metadata": {"order": "order-42"}},
        "shipping_address_collection": {"allowed_countries": ["US"]},
        "expires_at": int(time.time()) + 3600,
    }
    params.update(overrides)
    return params


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    shared = FakeStripe.running()  # one a wider fixture started: use it, leave it running
    if shared is not None:
        yield shared
        return
    with FakeStripe.start() as fake:
        yield fake


@pytest.fixture(scope="module")
def receiver(fake: FakeStripe) -> Iterator[Receiver]:
    receiver = Receiver()
    status, _, body = http(
        "POST",
        f"{fake.url}/_config/webhooks/wh_test",
        {"url": receiver.url, "secret": WEBHOOK_SECRET, "events[]": ["*"]},
    )
    assert status == 200, body
    yield receiver
    receiver.close()


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url}, max_network_retries=0)


def pay(
    session: stripe.checkout.Session, payment_method: str = "pm_card_visa"
) -> tuple[int, Any, str]:
    """Pay on the hosted page with its prefilled fields, as a person pressing Pay would."""
    fields = {
        "email": "candidate@example.com",
        "name": "Jenny Rosen",
        "line1": "354 Oyster Point Blvd",
        "city": "South San Francisco",
        "state": "CA",
        "postal_code": "94080",
        "country": "US",
        "payment_method": payment_method,
    }
    return http("POST", url_of(session), fields)


def url_of(session: stripe.checkout.Session) -> str:
    assert session.url is not None
    return session.url


# --- the tests -------------------------------------------------------------------------------


def test_a_session_is_created_retrieved_and_lists_its_line_items(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.amount_subtotal == session.amount_total == 2 * 15000 + 2500
    assert session.currency == "usd"
    assert session.url == f"{fake.url}/_config/checkout/pay/{session.id}"
    assert session.success_url == f"https://shop.example/checkout/done?session={session.id}"
    assert session.client_reference_id == "order-42"
    assert session.metadata.to_dict() == {"order": "order-42", "candidate": "CPT-0001"}
    assert session.customer_email == "candidate@example.com"
    assert session.payment_intent is None
    assert session.livemode is False

    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.to_dict() == session.to_dict()

    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("CPT exam voucher", 2, 30000),
        ("Printed study guide", 1, 2500),
    ]
    assert items.data[0].object == "item"
    assert items.data[0].price.unit_amount == 15000
    assert items.data[0].price.currency == "usd"
    expanded = client.v1.checkout.sessions.line_items.list(
        session.id, params={"expand": ["data.price.product"]}
    )
    assert expanded.data[1].price.product.name == "Printed study guide"

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert missing.value.http_status == 404


def test_the_same_idempotency_key_gives_one_session(client: stripe.StripeClient) -> None:
    params = session_params(expires_at=int(time.time()) + 7200)
    options: Any = {"idempotency_key": "checkout-order-43"}
    first = client.v1.checkout.sessions.create(params=params, options=options)  # type: ignore[arg-type]
    second = client.v1.checkout.sessions.create(params=params, options=options)  # type: ignore[arg-type]
    assert second.id == first.id
    listed = client.v1.checkout.sessions.list(params={"limit": 100})
    assert [s.id for s in listed.data].count(first.id) == 1

    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="order-44"),  # type: ignore[arg-type]
            options=options,
        )


def test_stripe_refuses_what_the_fake_cannot_do(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter: colour"):
        client.v1.checkout.sessions.create(params=session_params(colour="red"))  # type: ignore[arg-type]
    with pytest.raises(stripe.InvalidRequestError, match="no Prices"):
        client.v1.checkout.sessions.create(
            params=session_params(line_items=[{"price": "price_123", "quantity": 1}])  # type: ignore[arg-type]
        )
    with pytest.raises(stripe.InvalidRequestError, match="at least 30 minutes"):
        client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(time.time()) + 60)  # type: ignore[arg-type]
        )


def test_paying_on_the_hosted_page_sends_a_signed_completed_event(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]

    status, headers, page = http("GET", url_of(session))
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "<title>Pay</title>" in page
    assert 'value="candidate@example.com"' in page
    assert "CPT exam voucher" in page and "$300.00" in page and "$325.00" in page
    assert 'value="354 Oyster Point Blvd"' in page
    assert '<label for="postal_code">' in page
    assert '<option value="pm_card_visa" selected>Visa 4242 (succeeds)</option>' in page
    assert '<option value="pm_card_chargeCustomerFail">Declined card</option>' in page
    assert '<button type="submit">Pay</button>' in page

    status, headers, _ = pay(session)
    assert status == 302
    assert headers["Location"] == f"https://shop.example/checkout/done?session={session.id}"

    event = verified(receiver.wait_for("checkout.session.completed", session.id))
    paid = event.data.object
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.metadata.to_dict() == {"order": "order-42", "candidate": "CPT-0001"}
    assert paid.client_reference_id == "order-42"
    assert paid.customer_details.email == "candidate@example.com"
    assert paid.shipping_details.to_dict() == {
        "name": "Jenny Rosen",
        "address": {
            "line1": "354 Oyster Point Blvd",
            "line2": None,
            "city": "South San Francisco",
            "state": "CA",
            "postal_code": "94080",
            "country": "US",
        },
    }

    retrieved = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent"]}
    )
    assert retrieved.status == "complete"
    assert retrieved.url is None
    intent = retrieved.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.id == paid.payment_intent
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 32500, "usd")
    assert intent.metadata.to_dict() == {"order": "order-42"}
    assert (
        client.v1.checkout.sessions.list(params={"payment_intent": intent.id}).data[0].id
        == session.id
    )

    receiver.wait_for("payment_intent.succeeded", intent.id)
    status, _, page = http("GET", url_of(session))
    assert status == 409 and "already paid" in page
    status, _, _ = pay(session)
    assert status == 409
    assert checkout_types(receiver, session.id) == ["checkout.session.completed"]


def test_a_declined_card_leaves_the_session_open_and_sends_no_checkout_event(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]

    status, _, page = pay(session, "pm_card_chargeCustomerFail")
    assert status == 402
    assert 'role="alert"' in page and "Your card was declined." in page
    assert '<option value="pm_card_chargeCustomerFail" selected>' in page
    retrieved = client.v1.checkout.sessions.retrieve(session.id)
    assert (retrieved.status, retrieved.payment_status) == ("open", "unpaid")
    assert retrieved.payment_intent is None

    # Events leave in order: once this one has arrived, a completed one would have too.
    client.v1.checkout.sessions.expire(session.id)
    receiver.wait_for("checkout.session.expired", session.id)
    assert checkout_types(receiver, session.id) == ["checkout.session.expired"]


def test_an_expired_session_cannot_be_paid(client: stripe.StripeClient, receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]

    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    event = verified(receiver.wait_for("checkout.session.expired", session.id))
    assert event.data.object.status == "expired"
    assert event.data.object.metadata["order"] == "order-42"

    status, _, page = http("GET", url_of(session))
    assert status == 409 and "expired" in page
    status, _, _ = pay(session)
    assert status == 409
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_a_session_expires_by_itself_when_its_time_comes(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    try:
        fake.set_clock(lambda: time.time() + 3601)
        receiver.wait_for("checkout.session.expired", session.id)
    finally:
        fake.set_clock(None)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_a_refund_of_the_paid_intent_succeeds_and_reaches_the_webhook(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert pay(session)[0] == 302
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    assert isinstance(intent_id, str)

    refund = client.v1.refunds.create(
        params={"payment_intent": intent_id}, options={"idempotency_key": "refund-order-42"}
    )
    again = client.v1.refunds.create(
        params={"payment_intent": intent_id}, options={"idempotency_key": "refund-order-42"}
    )
    assert again.id == refund.id
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 32500, intent_id)

    charge = verified(receiver.wait_for("charge.refunded", intent_id, key="payment_intent"))
    assert charge.data.object.refunded is True
    assert charge.data.object.amount_refunded == 32500
    receiver.wait_for("refund.created", refund.id)


def refunded_so_far(receiver: Receiver, intent_id: str, count: int) -> list[int]:
    """The `amount_refunded` of each `charge.refunded` event about the payment, once `count`
    have arrived (the order they were sent in is the order of the amounts)."""

    def match(event: dict[str, Any]) -> bool:
        return bool(
            event["type"] == "charge.refunded"
            and event["data"]["object"].get("payment_intent") == intent_id
        )

    deadline = time.monotonic() + EVENT_TIMEOUT
    while len(receiver.events(match)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    found = [verified(delivery).data.object.amount_refunded for delivery in receiver.events(match)]
    assert len(found) == count, found
    return sorted(found)


def test_partial_refunds_add_up_as_at_stripe_and_each_reaches_the_webhook(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert pay(session)[0] == 302
    intent_id = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)

    # Through the shop's gateway: an amount in cents, and a key that makes a retry harmless.
    first = refund_payment(
        client, intent_id, amount_cents=2500, idempotency_key="refund-42-items-2"
    )
    retried = refund_payment(
        client, intent_id, amount_cents=2500, idempotency_key="refund-42-items-2"
    )
    assert retried == first
    with pytest.raises(PaymentError, match=re.escape("greater than unrefunded amount")):
        refund_payment(client, intent_id, amount_cents=30001, idempotency_key="too-much")
    with pytest.raises(ValueError, match="positive amount"):
        refund_payment(client, intent_id, amount_cents=0, idempotency_key="nothing")
    # Without an amount: what is left of the charge, not the whole charge again.
    rest = client.v1.refunds.create(params={"payment_intent": intent_id})
    assert rest.amount == 32500 - 2500
    with pytest.raises(stripe.InvalidRequestError, match="has already been refunded"):
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})

    assert sorted(
        r.amount for r in client.v1.refunds.list(params={"payment_intent": intent_id})
    ) == [2500, 30000]
    # Each refund's charge.refunded carries the charge's refunded amount so far.
    assert refunded_so_far(receiver, intent_id, 2) == [2500, 32500]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (32501, "Refund amount ($325.01) is greater than unrefunded amount on charge ($325.00)"),
        (-1, "Bad request"),
    ],
)
def test_a_refund_of_more_than_the_charge_or_of_nothing_is_refused(
    client: stripe.StripeClient, amount: int, message: str
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert pay(session)[0] == 302
    intent_id = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    with pytest.raises(stripe.InvalidRequestError, match=re.escape(message)):
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": amount})
    assert client.v1.refunds.list(params={"payment_intent": intent_id}).data == []
    assert client.v1.refunds.create(params={"payment_intent": intent_id}).amount == 32500


def test_a_bank_transfer_completes_unpaid_then_settles(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    settled = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    failed = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    for session in (settled, failed):
        assert pay(session, "bank_transfer")[0] == 302

    completed = verified(receiver.wait_for("checkout.session.completed", settled.id))
    assert (completed.data.object.status, completed.data.object.payment_status) == (
        "complete",
        "unpaid",
    )

    status, _, body = http(
        "POST", f"{fake.url}/_config/checkout/settle/{settled.id}", {"outcome": "succeeded"}
    )
    assert status == 200, body
    status, _, body = http(
        "POST", f"{fake.url}/_config/checkout/settle/{failed.id}", {"outcome": "failed"}
    )
    assert status == 200, body

    succeeded = verified(receiver.wait_for("checkout.session.async_payment_succeeded", settled.id))
    assert succeeded.data.object.payment_status == "paid"
    gone = verified(receiver.wait_for("checkout.session.async_payment_failed", failed.id))
    assert gone.data.object.payment_status == "unpaid"
    intent = client.v1.payment_intents.retrieve(str(succeeded.data.object.payment_intent))
    assert intent.status == "succeeded"

    status, _, _ = http(
        "POST", f"{fake.url}/_config/checkout/settle/{settled.id}", {"outcome": "succeeded"}
    )
    assert status == 409


def test_it_writes_nothing_to_disk_and_runs_once_per_process(fake: FakeStripe) -> None:
    assert "dump_to_disk" in vars(ls_resources.store)  # localstripe's pickle writer is off
    with pytest.raises(RuntimeError, match="already runs"):
        FakeStripe.start()


def test_the_command_line_prints_its_address_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "shop.payments.offline", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        prefix = "fake Stripe (localstripe + Checkout) on http://127.0.0.1:"
        assert line.startswith(prefix), line
        url = line.removeprefix("fake Stripe (localstripe + Checkout) on ")
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
        session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
        assert http("GET", url_of(session))[0] == 200
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
