"""The offline Stripe's server: localstripe made ours, served on 127.0.0.1, and its command."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import ClassVar

from aiohttp import web
from localstripe import webhooks as ls_webhooks

from .clock import Clock, set_clock
from .events import star_means_every_event
from .idempotency import idempotency_middleware
from .refunds import refunds_as_at_stripe
from .routes import install
from .upstream import ls_resources, ls_server

HOST = "127.0.0.1"
DEFAULT_PORT = 8420
START_TIMEOUT = 10.0


# --- what we change in localstripe, once, before it serves --------------------------------


def _no_dump() -> None:
    """Instead of localstripe's Store.dump_to_disk (a pickle in /tmp after every change)."""


def prepare() -> None:
    """Make localstripe ours (idempotent): no disk, Checkout, idempotency, refund events."""
    if getattr(ls_resources, "_cpt_prepared", False):
        return
    ls_resources.store.dump_to_disk = _no_dump  # the instance attribute wins over the method
    ls_server.app.middlewares.append(idempotency_middleware)
    refunds_as_at_stripe()
    star_means_every_event()
    install(ls_server.app)
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
    def start(cls, port: int = 0, clock: Clock | None = None) -> FakeStripe:
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

    def set_clock(self, clock: Clock | None) -> None:
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
        prog="python -m shop.payments.offline",
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
