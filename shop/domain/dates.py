"""Calendar arithmetic the rules need: whole years, and the window they make."""

from __future__ import annotations

from datetime import date


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # Only 29 February has no twin in a common year. The program counts calendar years,
        # so the anniversary falls on the last day of February rather than on 1 March.
        return day.replace(year=day.year + years, day=28)


def window_last_day(start: date, years: int) -> date:
    """Rule 3: a window starting on `start` covers `start` through this day, inclusive.

    The last day is the `years`-th anniversary of the start (a start of 29 February 2024
    ends on 28 February 2026).
    """
    return add_years(start, years)
