"""The offline Stripe for development and tests: localstripe plus our Checkout add-on.

Run it:  python -m shop.payments.fake_stripe [--port 8420]   (port 0: any free port)
In tests: with FakeStripe.start() as fake: ...  then point the `stripe` library at fake.url:
    stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url})

It listens on 127.0.0.1 only and writes nothing to disk. What it adds to localstripe 1.15:

- Checkout Sessions and a hosted pay page (see fake_checkout for routes and events);
- `Idempotency-Key` on every POST /v1/... route: the same key with the same request replays
  the first (successful) answer, with another request it is refused as Stripe refuses it;
- refunds as at Stripe: partial ones add up, a refund without an amount takes what is left of
  the charge, one for more than is left or of a refunded charge is refused (localstripe takes
  the whole charge again, or any amount); and the `charge.refunded` (with the charge's
  cumulative `amount_refunded`) and `refund.created` events for each (localstripe sends none);
- `events[]=*` when registering a webhook (POST /_config/webhooks/{id}) means every event, as
  in Stripe; localstripe would match "*" literally and send nothing.

Webhooks are localstripe's: registered with POST /_config/webhooks/{id} (url, secret,
events[]), sent about one second after the event, once, signed for
`stripe.Webhook.construct_event`.

localstripe's state (its store and its webhooks) is global to the process, so one FakeStripe
runs at a time in a process.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import hashlib
import logging
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar

from aiohttp import web
from localstripe import webhooks as ls_webhooks

from . import fake_checkout
from .fake_checkout import UserError, ls_resources, ls_server, money, set_clock

HOST = "127.0.0.1"
DEFAULT_PORT = 8420
START_TIMEOUT = 10.0
KEY_LIFETIME = 24 * 60 * 60  # seconds an idempotency key is remembered, as at Stripe

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- what we change in localstripe, once, before it serves --------------------------------


def _no_dump() -> None:
    """Instead of localstripe's Store.dump_to_disk (a pickle in /tmp after every change)."""


@dataclass(frozen=True)
class _SavedResponse:
    fingerprint: str
    status: int
    body: bytes
    saved_at: int


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stripe's idempotent requests, for every POST /v1/... that carries an Idempotency-Key.

    The first successful answer is kept in localstripe's store (so `DELETE /_config/data`
    forgets it) and replayed for the same key and the same request; the same key with another
    request is an `idempotency_error`. Errors are not kept: retrying them runs again. As at
    Stripe, a key is forgotten 24 hours after its first use (by the fake's clock).
    """
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    body = await request.read()
    fingerprint = hashlib.sha256(request.path_qs.encode() + b"\n" + body).hexdigest()
    store_key = "idempotency:" + key
    saved = ls_resources.store.get(store_key)
    if isinstance(saved, _SavedResponse) and fake_checkout.now() - saved.saved_at < KEY_LIFETIME:
        if saved.fingerprint != fingerprint:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request."
            )
            return web.json_response(
                {"error": {"type": "idempotency_error", "message": message}}, status=400
            )
        return web.Response(
            body=saved.body,
            status=saved.status,
            content_type="application/json",
            headers={"Idempotency-Key": key, "Idempotent-Replayed": "true"},
        )
    response = await handler(request)
    if (
        isinstance(response, web.Response)
        and 200 <= response.status < 300
        and isinstance(response.body, bytes)
    ):
        ls_resources.store[store_key] = _SavedResponse(
            fingerprint, response.status, response.body, fake_checkout.now()
        )
    return response


def _charge_to_refund(data: Mapping[str, Any]) -> Any:
    """The localstripe Charge a refund request names, or None to let localstripe refuse it."""
    charge, intent = data.get("charge"), data.get("payment_intent")
    if isinstance(charge, str) and charge.startswith("ch_"):
        return ls_resources.Charge._api_retrieve(charge)
    if isinstance(intent, str) and intent.startswith("pi_") and charge is None:
        return ls_resources.PaymentIntent._api_retrieve(intent).latest_charge
    return None


def _check_refund_amount(data: dict[str, Any]) -> None:
    """Stripe's rules for a refund's amount, which localstripe does not keep: without an
    amount, what is left of the charge; never more than that; nothing of a refunded charge."""
    charge = _charge_to_refund(data)
    if charge is None or charge.status != "succeeded":
        return
    left = charge.amount - charge.amount_refunded
    if left <= 0:
        raise UserError(
            400,
            f"Charge {charge.id} has already been refunded.",
            {"code": "charge_already_refunded"},
        )
    amount = ls_resources.try_convert_to_int(data.get("amount"))
    if data.get("amount") is None:
        data["amount"] = left
    elif isinstance(amount, int) and amount > left:
        asked, most = money(amount, charge.currency), money(left, charge.currency)
        raise UserError(
            400,
            f"Refund amount ({asked}) is greater than unrefunded amount on charge ({most})",
            {"code": "amount_too_large", "param": "amount"},
        )


def _refunds_as_at_stripe() -> None:
    """Partial refunds that add up as at Stripe, and the events Stripe sends for each refund:
    `charge.refunded` (the Charge, with its cumulative `amount_refunded`) and `refund.created`."""
    original = ls_resources.Refund._api_create.__func__

    def create_refund(cls: Any, /, **data: Any) -> Any:
        _check_refund_amount(data)
        refund = original(cls, **data)
        charge = ls_resources.Charge._api_retrieve(refund.charge)
        ls_resources.schedule_webhook(ls_resources.Event("charge.refunded", charge))
        ls_resources.schedule_webhook(ls_resources.Event("refund.created", refund))
        return refund

    ls_resources.Refund._api_create = classmethod(create_refund)


def _star_means_every_event() -> None:
    original = ls_server.register_webhook

    def register_webhook(id: str, url: str, secret: str, events: list[str] | None) -> None:
        if events is not None and "*" in events:
            events = None
        original(id, url, secret, events)

    ls_server.register_webhook = register_webhook


def prepare() -> None:
    """Make localstripe ours (idempotent): no disk, Checkout, idempotency, refund events."""
    if getattr(ls_resources, "_cpt_prepared", False):
        return
    ls_resources.store.dump_to_disk = _no_dump  # the instance attribute wins over the method
    ls_server.app.middlewares.append(idempotency_middleware)
    _refunds_as_at_stripe()
    _star_means_every_event()
    fake_checkout.install(ls_server.app)
    ls_resources._cpt_prepared = True


prepare()


# --- running it ------------------------------------------------------------------------------


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: threading.Thread | None = None
_loop_lock = threading.Lock()


def _server_loop() -> asyncio.AbstractEventLoop:
    """The one event loop that serves localstripe's app in this process.

    aiohttp ties an Application to the first loop that runs it, and localstripe has one
    module-level `app`: every FakeStripe of the process runs on this loop, in a daemon thread
    stopped and closed at exit.
    """
    global _loop, _loop_thread
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            _loop_thread = threading.Thread(
                target=_run_loop, args=(_loop,), name="fake-stripe", daemon=True
            )
            _loop_thread.start()
            atexit.register(_close_loop)
        return _loop


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _close_loop() -> None:
    if _loop is None or _loop_thread is None:
        return
    _loop.call_soon_threadsafe(_loop.stop)
    _loop_thread.join(START_TIMEOUT)
    if not _loop_thread.is_alive():
        _loop.run_until_complete(_loop.shutdown_asyncgens())
        _loop.close()


class FakeStripe:
    """localstripe with Checkout, served on 127.0.0.1 from a background thread.

        with FakeStripe.start() as fake:          # port=0: any free port
            client = stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url})

    Webhook deliveries not yet sent when it stops are dropped.
    """

    _running: ClassVar[FakeStripe | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self._sock = sock
        self._loop = loop
        self._runner: web.AppRunner | None = None
        self.port: int = sock.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"

    @classmethod
    def start(cls, port: int = 0, clock: fake_checkout.Clock | None = None) -> FakeStripe:
        """Serve on 127.0.0.1:`port`; `clock` (epoch seconds) judges Checkout expiry."""
        with cls._lock:
            if cls._running is not None:
                raise RuntimeError(
                    f"a FakeStripe already runs in this process at {cls._running.url}: "
                    "localstripe's state is global, so stop it or share it"
                )
            fake = cls(_bind(port), _server_loop())
            try:
                fake._call(lambda: set_clock(clock))
                asyncio.run_coroutine_threadsafe(fake._serve(), fake._loop).result(START_TIMEOUT)
            except BaseException:
                fake._sock.close()
                raise
            cls._running = fake
        return fake

    @classmethod
    def running(cls) -> FakeStripe | None:
        """The FakeStripe this process serves, if any (to share it rather than start one)."""
        return cls._running

    def stop(self) -> None:
        """Stop serving (at once: webhooks not yet sent are dropped); the state stays."""
        with self._lock:
            if FakeStripe._running is not self:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(START_TIMEOUT)
            finally:
                self._sock.close()
                FakeStripe._running = None

    def reset(self) -> None:
        """Forget everything: objects, events, idempotency keys and registered webhooks."""
        self._call(_forget)

    def set_clock(self, clock: fake_checkout.Clock | None) -> None:
        """Judge Checkout expiry by `clock` (epoch seconds) from now on; None: real time."""
        self._call(lambda: set_clock(clock))

    def __enter__(self) -> FakeStripe:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, function: Callable[[], None]) -> None:
        """Run `function` in the server's thread, between two requests."""

        async def call() -> None:
            function()

        asyncio.run_coroutine_threadsafe(call(), self._loop).result(START_TIMEOUT)

    async def _serve(self) -> None:
        runner = web.AppRunner(ls_server.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.SockSite(runner, self._sock).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        set_clock(None)
        # What is left: webhook deliveries localstripe has scheduled and not yet sent.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _forget() -> None:
    ls_resources.store.clear()
    ls_webhooks._webhooks.clear()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m shop.payments.fake_stripe",
        description="The offline Stripe: localstripe plus Checkout Sessions, on 127.0.0.1.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on; 0 picks a free one"
    )
    args = parser.parse_args(argv)
    sock = _bind(args.port)
    access = logging.getLogger("aiohttp.access")  # localstripe logs webhook deliveries here too
    access.setLevel(logging.INFO)
    access.addHandler(logging.StreamHandler(sys.stderr))
    print(
        f"fake Stripe (localstripe + Checkout) on http://{HOST}:{sock.getsockname()[1]}",
        flush=True,
    )
    web.run_app(ls_server.app, sock=sock, print=None, access_log=access)


if __name__ == "__main__":
    main()
