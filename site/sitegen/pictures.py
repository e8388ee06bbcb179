"""The geometry of the site's pictures, from the program's numbers: templates draw the SVG.

Every length here is in the units of the pictures' viewBox (WIDTH wide); nothing about the
program is written down in this module, so other waits or another window draw other pictures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 480
MARGIN = 24  # room at each end for a marker's label
SHORTEST = 72  # the narrowest segment: its label ("15 days") must fit inside it


@dataclass(frozen=True, slots=True)
class Segment:
    """One wait of the retake timeline: the failed attempt it follows and the days it lasts."""

    failure: int  # 1 for the wait after the first failed attempt
    days: int
    x: float
    width: float
    repeats: bool  # the last wait, which applies again after every later failure

    @property
    def middle(self) -> float:
        return self.x + self.width / 2

    @property
    def end(self) -> float:
        return self.x + self.width


def retake_segments(waits: tuple[int, ...]) -> list[Segment]:
    """The waits after each failure, then the last one once more for every later failure.

    Widths grow with the days, so 60 days looks longer than 15; each is at least SHORTEST
    while that many fit, else an equal share.
    """
    days = [*waits, waits[-1]]
    span = WIDTH - 2 * MARGIN
    floor = min(SHORTEST, span / len(days))
    spare = span - floor * len(days)
    total = sum(days)
    segments = []
    x = float(MARGIN)
    for number, length in enumerate(days, 1):
        width = floor + spare * length / total
        segments.append(Segment(number, length, round(x, 1), round(width, 1), number > len(waits)))
        x += width
    return segments


@dataclass(frozen=True, slots=True)
class Marker:
    """A pass inside the certification window, numbered in the order of the required modules."""

    number: int
    x: float


def window_markers(count: int) -> list[Marker]:
    """Passes spread through the window: the first opens it, the last comes before it closes."""
    span = WIDTH - 2 * MARGIN
    return [Marker(n + 1, round(MARGIN + span * n / count, 1)) for n in range(count)]


@dataclass(frozen=True, slots=True)
class DayMark:
    """A labelled day on a candidate's window bar."""

    label: str
    day: dt.date
    x: float
    inside: bool  # on or before the closing day (a day after it is drawn at the bar's end)


@dataclass(frozen=True, slots=True)
class WindowBar:
    """A candidate's own window: from its first counting pass to its last day, with today."""

    opens_on: dt.date
    closes_on: dt.date
    today: DayMark
    passes: tuple[DayMark, ...]
    next_dates: tuple[DayMark, ...]  # the first day each missing module may be sat

    @property
    def end(self) -> float:
        return WIDTH - MARGIN


def window_bar(
    opens_on: dt.date,
    closes_on: dt.date,
    today: dt.date,
    passes: Sequence[tuple[str, dt.date]],
    next_dates: Sequence[tuple[str, dt.date]],
) -> WindowBar:
    """Days placed along the bar in proportion to the calendar, clamped to its two ends."""
    days = max((closes_on - opens_on).days, 1)
    span = WIDTH - 2 * MARGIN

    def mark(label: str, day: dt.date) -> DayMark:
        share = min(max((day - opens_on).days / days, 0.0), 1.0)
        return DayMark(label, day, round(MARGIN + span * share, 1), day <= closes_on)

    return WindowBar(
        opens_on,
        closes_on,
        mark("Today", today),
        tuple(mark(label, day) for label, day in passes),
        tuple(mark(label, day) for label, day in next_dates),
    )


def card_name(path: str) -> str:
    """The name of a page's social card: / -> index, /modules/safety/ -> modules/safety."""
    return path.strip("/") or "index"


def card_url(path: str) -> str:
    """The social card of a page's path: /modules/safety/ -> /social/modules/safety.png."""
    return f"/social/{card_name(path)}.png"


TEMPLATE_GLOBALS = {
    "card_url": card_url,
    "picture_width": WIDTH,
    "picture_margin": MARGIN,
    "retake_segments": retake_segments,
    "window_markers": window_markers,
    "window_bar": window_bar,
}
