"""Webhook registration as at Stripe; the sending is localstripe's (signed, once, ~1 s late)."""

from __future__ import annotations

from .upstream import ls_server


def star_means_every_event() -> None:
    original = ls_server.register_webhook

    def register_webhook(id: str, url: str, secret: str, events: list[str] | None) -> None:
        if events is not None and "*" in events:
            events = None
        original(id, url, secret, events)

    ls_server.register_webhook = register_webhook
