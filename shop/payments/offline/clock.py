"""The offline Stripe's clock: it judges Checkout expiry and dates new sessions."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
_clock: Clock = time.time


def set_clock(clock: Clock | None) -> None:
    """Judge `expires_at` (and date new sessions) by `clock` (epoch seconds); None: real time.

    Webhook signatures always use real time, as `stripe.Webhook.construct_event` checks them
    against it.
    """
    global _clock
    _clock = clock or time.time


def now() -> int:
    return int(_clock())
