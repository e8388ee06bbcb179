"""Rule 7: how far a candidate is toward full certification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shop.domain.certification import counting_passes, full_certification_date
from shop.domain.dates import window_last_day
from shop.domain.history import Attempt, History
from shop.domain.program import Program


@dataclass(frozen=True, slots=True)
class Progress:
    """Counting passes of required modules (one per module), what is missing, and the deadline.

    `missing`: required modules with no counting pass, `revoked` excepted: those whose
    certificate staff revoked (no pass can replace it; the candidate contacts the program).
    `window_closes_on`: the last day on which the missing modules can be passed and still join
    every counting pass in one window; None when there is no counting pass or when certified.
    `certified_on`: the day full certification was achieved; `revoked_on`, the day staff
    revoked it, if they did: it is held only when achieved and not revoked.
    """

    passes: tuple[Attempt, ...]
    missing: tuple[str, ...]
    window_closes_on: date | None
    certified_on: date | None
    revoked: tuple[str, ...] = ()
    revoked_on: date | None = None

    @property
    def certified(self) -> bool:
        return self.certified_on is not None and self.revoked_on is None

    @property
    def window_opens_on(self) -> date | None:
        """The earliest counting pass, which opens the window that closes on window_closes_on."""
        if self.window_closes_on is None:
            return None
        return min(p.taken_on for p in self.passes)


def progress(history: History, now: date, program: Program) -> Progress:
    """Rule 7: required modules with a counting pass, those without, and when the window closes.

    Each module is represented by its most recent counting pass: of the windows holding one pass
    of every done module, that choice keeps the one that closes last.
    """
    certified_on = full_certification_date(history, program)
    passes: list[Attempt] = []
    missing: list[str] = []
    revoked: list[str] = []
    for module in program.required_modules:
        counting = counting_passes(history, module.id, now, program)
        if history.is_revoked(module.id):
            revoked.append(module.id)
        elif counting:
            passes.append(counting[-1])
        else:
            missing.append(module.id)
    closes_on = None
    if passes and certified_on is None:
        earliest = min(p.taken_on for p in passes)
        closes_on = window_last_day(earliest, program.policy.window_years)
    revoked_on = history.full_certification_revoked_on if certified_on is not None else None
    return Progress(
        tuple(passes), tuple(missing), closes_on, certified_on, tuple(revoked), revoked_on
    )
