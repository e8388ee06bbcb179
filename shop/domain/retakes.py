"""Rule 2: how long a candidate waits before retaking a module they failed."""

from __future__ import annotations

from datetime import date, timedelta

from shop.domain.history import History
from shop.domain.program import Program


def failures_since_last_pass(history: History, module: str) -> int:
    """The module's failed attempts after its most recent pass (all of them if never passed).

    A pass resets the count: a candidate whose earlier pass aged out and who fails again
    starts over at the first wait.
    """
    count = 0
    for attempt in history.attempts_at(module):
        count = 0 if attempt.passed else count + 1
    return count


def next_retake_on(history: History, module: str, program: Program) -> date | None:
    """Rule 2: the first day the module may be taken again after its latest attempt failed.

    After the n-th failure since the last pass the wait is `program.policy.wait_after_failure(n)`
    calendar days (15, 15, 60, then 60 for every later failure), counted from the failed
    attempt's date: a first failure on 1 March may be retaken from 16 March, that day included.
    None when the module's latest attempt is a pass or there is none.
    """
    attempts = history.attempts_at(module)
    if not attempts or attempts[-1].passed:
        return None
    wait = program.policy.wait_after_failure(failures_since_last_pass(history, module))
    return attempts[-1].taken_on + timedelta(days=wait)


def in_retake_wait(history: History, module: str, now: date, program: Program) -> bool:
    """True from the day of a failure until the day before its retake date."""
    retake_on = next_retake_on(history, module, program)
    return retake_on is not None and now < retake_on
