"""Rules 4 and 5: full certification, and which passes still count toward it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from shop.domain.dates import window_last_day
from shop.domain.history import Attempt, History
from shop.domain.program import Program


def full_certification_date(history: History, program: Program) -> date | None:
    """Rule 4: the day full certification was achieved, or None if it has not been.

    It is achieved when one window (rule 3) holds a pass of every required module; Green is not
    required. The date is the earliest day such a window became complete: over every start s
    that is a pass date of a required module, the latest of each required module's first pass
    on or after s, provided that pass falls within the window. Once achieved no rule of time
    takes it back; staff may (see `is_fully_certified`).

    Passes of a module whose certificate is revoked take no part: revoking one of the four
    undoes full certification until the certificate is reinstated.
    """
    return history.derived(
        "full_certification_date", program, lambda: _full_certification_date(history, program)
    )


def _full_certification_date(history: History, program: Program) -> date | None:
    pass_days = {
        m.id: [a.taken_on for a in history.valid_passes_of(m.id)] for m in program.required_modules
    }
    if not pass_days or not all(pass_days.values()):
        return None
    starts = sorted({day for days in pass_days.values() for day in days})
    completions = [
        completed
        for start in starts
        if (completed := _completed_on(start, pass_days, program.policy.window_years)) is not None
    ]
    return min(completions, default=None)


def _completed_on(start: date, pass_days: Mapping[str, Sequence[date]], years: int) -> date | None:
    """The day a window starting on `start` first holds every module's pass, if it ever does."""
    last_day = window_last_day(start, years)
    firsts = []
    for days in pass_days.values():
        # Days are in order; a module's first pass on or after the start is the one that
        # completes the window soonest.
        first = next((day for day in days if day >= start), None)
        if first is None or first > last_day:
            return None
        firsts.append(first)
    return max(firsts)


def is_fully_certified(history: History, program: Program) -> bool:
    """Full certification is achieved and staff have not revoked it."""
    return (
        history.full_certification_revoked_on is None
        and full_certification_date(history, program) is not None
    )


def last_counting_day(passed: Attempt, history: History, program: Program) -> date | None:
    """Rule 5: the last day a pass counts toward full certification; None when it counts for ever.

    A pass of a module that is not required (Green) holds for ever: module certificates do not
    expire. A required module's pass counts for ever once full certification is held (the
    module is done), and still when staff later revoke full certification: no new pass could
    give a revoked certification back, so a retake would buy nothing. Otherwise it counts
    while its own window is open, that is until `window_last_day(pass date)`: until then a
    future pass of every missing module could still join it in one window.
    """
    required = program.module(passed.module).required
    if not required or full_certification_date(history, program) is not None:
        return None
    return window_last_day(passed.taken_on, program.policy.window_years)


def pass_counts(passed: Attempt, history: History, now: date, program: Program) -> bool:
    """Rule 5: whether this pass still counts on `now` (a failed attempt never counts, nor a
    pass of a module whose certificate is revoked)."""
    if not passed.passed or history.is_revoked(passed.module):
        return False
    last_day = last_counting_day(passed, history, program)
    return last_day is None or now <= last_day


def counting_passes(
    history: History, module: str, now: date, program: Program
) -> tuple[Attempt, ...]:
    """The module's passes that count on `now`, oldest first (none while its certificate is
    revoked)."""
    return tuple(
        p for p in history.valid_passes_of(module) if pass_counts(p, history, now, program)
    )
