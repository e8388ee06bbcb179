"""The one place the shop reads the time; everything else is handed `now`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import current_app

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def now() -> dt.datetime:
    """The current time from the app's clock (tests configure a fixed one)."""
    clock: Clock = current_app.config["CLOCK"]
    return clock()


def today() -> dt.date:
    """The program's calendar date now: waits and windows count days in its time zone."""
    return now().astimezone(ZoneInfo(current_app.config["TIME_ZONE"])).date()
