"""Checkout added to localstripe's aiohttp app: its routes and the expiry sweeper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from .api import create_session, expire_session, list_line_items, list_sessions, retrieve_session
from .pay import pay, pay_page, settle
from .sessions import PAY_PATH, SETTLE_PATH, all_sessions

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0


async def _sweep_forever() -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            for session in all_sessions():
                session._expire_if_due()
        except Exception:  # keep sweeping whatever one session does
            log.exception("expiring checkout sessions failed")


async def _expiry_sweeper(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_sweep_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def install(app: web.Application) -> None:
    """Add the Checkout routes and the expiry sweeper to localstripe's `app` (before it runs)."""
    router = app.router
    router.add_post("/v1/checkout/sessions", create_session)
    router.add_get("/v1/checkout/sessions", list_sessions)
    router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    router.add_get("/v1/checkout/sessions/{id}/line_items", list_line_items)
    router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    router.add_get(PAY_PATH + "{id}", pay_page)
    router.add_post(PAY_PATH + "{id}", pay)
    router.add_post(SETTLE_PATH + "{id}", settle)
    app.cleanup_ctx.append(_expiry_sweeper)
