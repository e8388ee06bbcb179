"""Helpers for the fault tests: a Stripe that fails on purpose, orders made straight in the
database, and the webhook events Stripe would send for them."""

from __future__ import annotations

import datetime as dt
import http.server
import itertools
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from factories import add_attempt, add_candidate
from flask import Flask
from sqlalchemy import func, select

from shop import db
from shop.models import Order, OrderItem, OrderStatus
from shop.payments.offline import FakeStripe
from shop.services import program

SESSIONS_PATH = "/v1/checkout/sessions"
_numbers = itertools.count(1)


@contextmanager
def shared_fake_stripe() -> Iterator[FakeStripe]:
    """The process's FakeStripe if one runs (localstripe allows one per process), else our own,
    stopped afterwards."""
    running = FakeStripe.running()
    if running is not None:
        yield running
        return
    with FakeStripe.start() as fake:
        yield fake


def sessions_of(fake: FakeStripe, order_ref: str) -> list[dict[str, Any]]:
    """The Checkout Sessions the fake holds for an order (by client_reference_id)."""
    found = requests.get(
        f"{fake.url}{SESSIONS_PATH}", params={"limit": 100}, auth=("sk_test_shop", ""), timeout=10
    ).json()
    assert not found["has_more"], "more than 100 sessions: this count would be incomplete"
    return [s for s in found["data"] if s.get("client_reference_id") == order_ref]


# -- a Stripe that fails on purpose ---------------------------------------------------------------

# What the proxy does to one POST /v1/checkout/sessions:
REJECT = "reject"  # answer 500 without passing the request on: Stripe never saw it
LOSE = "lose"  # pass it on (the session is made), then answer 500: the answer was lost
SLOW = "slow"  # pass it on, then answer only after `delay` seconds: the client times out


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    fault: str | None


class StripeProxy:
    """An HTTP server on 127.0.0.1 in front of the offline Stripe.

    It passes every request on, headers (Idempotency-Key among them) and body unchanged, except
    that the next POSTs to /v1/checkout/sessions suffer the faults queued with `fail_next`.
    """

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        self.seen: list[Seen] = []
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler, self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StripeProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def fail_next(self, *faults: str) -> None:
        with self._lock:
            self._faults.extend(faults)

    def session_posts(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.method == "POST" and s.path == SESSIONS_PATH]

    def _next_fault(self, method: str, path: str, key: str | None) -> str | None:
        with self._lock:
            fault = None
            if method == "POST" and path == SESSIONS_PATH and self._faults:
                fault = self._faults.pop(0)
            self.seen.append(Seen(method, path, key, fault))
            return fault


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, proxy: StripeProxy) -> None:
        self.proxy = proxy
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected here: say nothing."""


_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "content-encoding"}


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _ProxyServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _handle(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        fault = proxy._next_fault(self.command, path, self.headers.get("Idempotency-Key"))
        if fault == REJECT:
            self._answer(500, b'{"error": {"type": "api_error", "message": "injected 500"}}', {})
            return
        upstream = requests.request(
            self.command,
            proxy.upstream + self.path,
            data=body,
            headers={k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP},
            timeout=30,
        )
        if fault == LOSE:
            self._answer(500, b'{"error": {"type": "api_error", "message": "lost answer"}}', {})
            return
        if fault == SLOW:
            time.sleep(proxy.delay)
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        self._answer(upstream.status_code, upstream.content, headers)

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            headers.setdefault("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting


# -- orders made straight in the database ---------------------------------------------------------


@dataclass(frozen=True)
class MadeOrder:
    candidate_id: int
    public_id: str
    session_id: str
    total_cents: int


def pending_orders(
    app: Flask, count: int, now: dt.datetime, sku: str = "small-patch"
) -> list[MadeOrder]:
    """`count` candidates, each with one pass (so each may buy `sku`), each with one pending
    order of `sku` that has a Checkout Session id, as checkout leaves it; no Stripe involved.

    `sku` is "small-patch", "certificate-print-quality" (one pass of quality) or
    "assessment-fee-safety" (one failed safety attempt, its retake wait over).
    """
    made: list[MadeOrder] = []
    with app.app_context():
        catalogue = program.current()
        line = catalogue.item(sku)
        session = db.session()
        for _ in range(count):
            number = next(_numbers)
            candidate = add_candidate(
                session,
                email=f"fault{number}-{uuid.uuid4().hex[:6]}@example.com",
                reference=f"F-{uuid.uuid4().hex[:12]}",
            )
            if sku == "assessment-fee-safety":
                add_attempt(session, candidate, "safety", dt.date(2026, 5, 1), passed=False)
            else:
                add_attempt(session, candidate, "quality", dt.date(2026, 5, 2), passed=True)
            order = Order(
                public_id=f"ord_{uuid.uuid4().hex[:16]}",
                candidate_id=candidate.id,
                status=OrderStatus.PENDING,
                currency="usd",
                total_cents=line.price_cents,
                checkout_session_id=f"cs_test_{uuid.uuid4().hex}",
                created_at=now,
                updated_at=now,
                items=[
                    OrderItem(
                        sku=line.sku,
                        kind=line.kind.value,
                        module=line.module,
                        name=line.name,
                        unit_price_cents=line.price_cents,
                        quantity=1,
                        physical=line.physical,
                    )
                ],
            )
            session.add(order)
            session.flush()
            made.append(
                MadeOrder(
                    candidate.id, order.public_id, str(order.checkout_session_id), order.total_cents
                )
            )
        session.commit()
    return made


def checkout_event(
    order: MadeOrder,
    event_type: str,
    *,
    paid: bool,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The event Stripe sends about the order's Checkout Session."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": event_type,
        "data": {
            "object": {
                "id": order.session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid" if paid else "unpaid",
                "payment_intent": f"pi_{order.session_id[8:32]}",
                "amount_total": order.total_cents,
                "client_reference_id": order.public_id,
                "metadata": {"order": order.public_id},
            }
        },
    }


def count_rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(model)) or 0)


def statuses(app: Flask, public_ids: Sequence[str]) -> dict[str, str]:
    with app.app_context():
        rows = db.session().execute(
            select(Order.public_id, Order.status).where(Order.public_id.in_(list(public_ids)))
        )
        return {public_id: str(status) for public_id, status in rows}


class RefusingStripe:
    """An HTTP server on 127.0.0.1 that answers every Stripe request at once with 400 (which the
    stripe library does not retry): the shop's "Stripe said no" paths, without waiting."""

    def __init__(self) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingHandler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RefusingStripe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _RefusingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._refuse()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _refuse(self) -> None:
        body = b'{"error": {"type": "invalid_request_error", "message": "refused by the test"}}'
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
