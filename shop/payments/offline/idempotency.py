"""Stripe's idempotent requests (the `Idempotency-Key` header), which localstripe lacks."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from .clock import now
from .upstream import ls_resources

KEY_LIFETIME = 24 * 60 * 60  # seconds an idempotency key is remembered, as at Stripe

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    if isinstance(saved, _SavedResponse) and now() - saved.saved_at < KEY_LIFETIME:
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
            fingerprint, response.status, response.body, now()
        )
    return response
