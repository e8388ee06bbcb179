"""Rule 6: where each module stands, for the candidate's dashboard."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from shop.domain.certification import counting_passes, last_counting_day
from shop.domain.history import History
from shop.domain.program import Program
from shop.domain.retakes import next_retake_on


class ModuleStatus(enum.StrEnum):
    NOT_TAKEN = "not_taken"
    PASSED = "passed"
    """Passed, and the pass counts toward full certification (or, for Green, holds)."""
    PASS_EXPIRED = "pass_expired"
    """Passed, but the pass no longer counts toward full certification: it may be taken again."""
    WAITING = "waiting"
    """The latest attempt failed and its retake wait is not over."""
    MAY_RETAKE = "may_retake"
    """The latest attempt failed and its retake wait is over."""
    REVOKED = "revoked"
    """Staff revoked the module's certificate: its passes count for nothing until reinstated."""


@dataclass(frozen=True, slots=True)
class ModuleState:
    """A module's status with the dates that explain it.

    `passed_on`: the most recent pass, whether it still counts or not.
    `counts_until`: PASSED only: the last day the pass counts; None when it counts for ever.
    `retake_on`: WAITING and MAY_RETAKE: the first day the module may be (or could be) retaken.
    `revoked_on`: REVOKED only: the day staff revoked the module's certificate.
    """

    module: str
    status: ModuleStatus
    passed_on: date | None = None
    counts_until: date | None = None
    retake_on: date | None = None
    revoked_on: date | None = None


def module_status(history: History, module: str, now: date, program: Program) -> ModuleState:
    """Rule 6: the module's status on `now`.

    A revoked certificate wins over everything: while it is revoked, nothing else about the
    module can be done. Then a counting pass: a pass is not undone by a later failure. Then
    a failed latest attempt (WAITING or MAY_RETAKE) wins over an expired pass, because what the
    candidate can do next is about the failure.
    """
    passes = history.passes_of(module)
    passed_on = passes[-1].taken_on if passes else None
    revoked_on = history.revoked_on(module)
    if revoked_on is not None:
        return ModuleState(module, ModuleStatus.REVOKED, passed_on=passed_on, revoked_on=revoked_on)
    counting = counting_passes(history, module, now, program)
    if counting:
        latest = counting[-1]
        return ModuleState(
            module,
            ModuleStatus.PASSED,
            passed_on=passed_on,
            counts_until=last_counting_day(latest, history, program),
        )
    retake_on = next_retake_on(history, module, program)
    if retake_on is not None:
        status = ModuleStatus.WAITING if now < retake_on else ModuleStatus.MAY_RETAKE
        return ModuleState(module, status, passed_on=passed_on, retake_on=retake_on)
    if passes:
        return ModuleState(module, ModuleStatus.PASS_EXPIRED, passed_on=passed_on)
    return ModuleState(module, ModuleStatus.NOT_TAKEN)


def module_statuses(history: History, now: date, program: Program) -> tuple[ModuleState, ...]:
    """Every module's status, in the program's order."""
    return tuple(module_status(history, m.id, now, program) for m in program.modules)
