"""Rule 9: may a candidate buy an item today, and if not, why and from when."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from shop.domain.certification import (
    counting_passes,
    full_certification_date,
    last_counting_day,
)
from shop.domain.history import History
from shop.domain.program import CatalogueItem, ItemKind, Module, Program
from shop.domain.retakes import next_retake_on


class Reason(enum.StrEnum):
    """Why an item may not be bought; the values are stable, machine-readable codes."""

    RETAKE_WAIT = "retake_wait"
    MODULE_PASSED = "module_passed"
    AUTHORIZATION_HELD = "authorization_held"
    MODULE_NOT_PASSED = "module_not_passed"
    NO_MODULE_PASSED = "no_module_passed"
    SMALL_PATCH_ALREADY_BOUGHT = "small_patch_already_bought"
    FULL_CERTIFICATION_NOT_HELD = "full_certification_not_held"
    CREDENTIAL_REVOKED = "credential_revoked"
    FULL_CERTIFICATION_REVOKED = "full_certification_revoked"
    PURCHASE_SETTLING = "purchase_settling"

    @property
    def message(self) -> str:
        """Short plain English the shop can build a sentence around."""
        return _MESSAGES[self]


_MESSAGES: dict[Reason, str] = {
    Reason.RETAKE_WAIT: "in a retake wait after a failed attempt",
    Reason.MODULE_PASSED: "already passed, and the pass still counts",
    Reason.AUTHORIZATION_HELD: "an unused assessment authorization for this module is held",
    Reason.MODULE_NOT_PASSED: "this module has not been passed",
    Reason.NO_MODULE_PASSED: "no module has been passed yet",
    Reason.SMALL_PATCH_ALREADY_BOUGHT: "the small patch was already bought (one per candidate)",
    Reason.FULL_CERTIFICATION_NOT_HELD: "full certification is not held",
    Reason.CREDENTIAL_REVOKED: "your module certificate was revoked (contact the program)",
    Reason.FULL_CERTIFICATION_REVOKED: "your full certification was revoked (contact the program)",
    Reason.PURCHASE_SETTLING: (
        "already bought in an order whose payment has not settled yet (a bank transfer)"
    ),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: allowed, or every reason against it and the first day they all lift.

    `available_on` is None when allowed, and when some reason has no date it lifts on
    (it lifts only when something else happens, if ever).
    """

    allowed: bool
    reasons: tuple[Reason, ...] = ()
    available_on: date | None = None

    def __post_init__(self) -> None:
        if self.allowed == bool(self.reasons):
            raise ValueError("a decision is allowed exactly when it has no reasons")
        if self.allowed and self.available_on is not None:
            raise ValueError("an allowed decision has no available_on")


@dataclass(frozen=True, slots=True)
class Advice:
    """Recommended levels shown before an assessment purchase; never enforced."""

    math_grade: int
    reading_grade: int


def advice_before_assessment(program: Program) -> Advice:
    """The recommended math and reading grades: advice only, they never block a purchase."""
    return Advice(program.policy.recommended_math_grade, program.policy.recommended_reading_grade)


class _Block(NamedTuple):
    reason: Reason
    lifted_on: date | None  # None: no known date


_Check = Callable[[History, CatalogueItem, date, Program], list[_Block]]


def eligibility(history: History, item: CatalogueItem, now: date, program: Program) -> Decision:
    """Rule 9: whether the candidate may buy `item` on `now`.

    Every reason that applies is collected, not just the first. When refused, `available_on`
    is the first day every reason has lifted if each has a known day (the latest of them),
    else None.
    """
    blocks = _CHECKS[item.kind](history, item, now, program)
    if not blocks:
        return Decision(allowed=True)
    days = [b.lifted_on for b in blocks if b.lifted_on is not None]
    available_on = max(days) if len(days) == len(blocks) else None
    return Decision(False, tuple(b.reason for b in blocks), available_on)


def _assessment_fee(
    history: History, item: CatalogueItem, now: date, program: Program
) -> list[_Block]:
    """Refused in a retake wait, while a pass of the module counts, with an authorization held
    or a fee bought and still settling, or while the module's certificate is revoked.

    A counting pass lifts the day after its window closes; never when it counts for ever
    (full certification is held, or the module is not required). A held authorization lifts
    only when an attempt uses it, a day nobody can know; a settling fee when its payment
    settles or fails. A revoked certificate has no date: a new pass would not give it back,
    so the candidate contacts the program, whose staff reinstate it or not.
    """
    module = _module_of(item, program)
    blocks = []
    if history.is_revoked(module.id):
        blocks.append(_Block(Reason.CREDENTIAL_REVOKED, None))
    retake_on = next_retake_on(history, module.id, program)
    if retake_on is not None and now < retake_on:
        blocks.append(_Block(Reason.RETAKE_WAIT, retake_on))
    counting = counting_passes(history, module.id, now, program)
    if counting:
        # Later passes count at least as long as earlier ones: the latest decides.
        last_day = last_counting_day(counting[-1], history, program)
        lifted_on = None if last_day is None else last_day + timedelta(days=1)
        blocks.append(_Block(Reason.MODULE_PASSED, lifted_on))
    if module.id in history.unused_authorizations:
        blocks.append(_Block(Reason.AUTHORIZATION_HELD, None))
    if any(
        p.settling and p.kind is ItemKind.ASSESSMENT_FEE and p.module == module.id
        for p in history.purchases
    ):
        blocks.append(_Block(Reason.PURCHASE_SETTLING, None))
    return blocks


def _module_certificate(
    history: History, item: CatalogueItem, now: date, program: Program
) -> list[_Block]:
    """A module's certificate (download or print): the module has been passed, ever, and its
    certificate is not revoked."""
    module = _module_of(item, program).id
    if history.is_revoked(module):
        return [_Block(Reason.CREDENTIAL_REVOKED, None)]
    if history.has_passed(module):
        return []
    return [_Block(Reason.MODULE_NOT_PASSED, None)]


def _small_patch(
    history: History, item: CatalogueItem, now: date, program: Program
) -> list[_Block]:
    """The small patch: offered once a module (any, Green too) is passed; one per candidate.

    Only passes whose certificate is not revoked count.
    """
    blocks = []
    if not history.has_valid_pass():
        revoked = history.has_passed_any_module()
        blocks.append(
            _Block(Reason.CREDENTIAL_REVOKED if revoked else Reason.NO_MODULE_PASSED, None)
        )
    if history.has_bought(ItemKind.SMALL_PATCH):
        blocks.append(_Block(Reason.SMALL_PATCH_ALREADY_BOUGHT, None))
    return blocks


def _full_certification(
    history: History, item: CatalogueItem, now: date, program: Program
) -> list[_Block]:
    """Full certificate (download or print), large patch, wallet card: full certification held
    (achieved with passes whose certificates are not revoked, and itself not revoked)."""
    blocks = []
    if history.full_certification_revoked_on is not None:
        blocks.append(_Block(Reason.FULL_CERTIFICATION_REVOKED, None))
    if full_certification_date(history, program) is None:
        blocks.append(_Block(Reason.FULL_CERTIFICATION_NOT_HELD, None))
    return blocks


def _anyone(history: History, item: CatalogueItem, now: date, program: Program) -> list[_Block]:
    """KWA documents are for everyone, employers included."""
    return []


def _module_of(item: CatalogueItem, program: Program) -> Module:
    if item.module is None:
        raise ValueError(f"{item.sku}: a {item.kind} item names a module")
    return program.module(item.module)


_CHECKS: dict[ItemKind, _Check] = {
    ItemKind.ASSESSMENT_FEE: _assessment_fee,
    ItemKind.CERTIFICATE_DOWNLOAD: _module_certificate,
    ItemKind.CERTIFICATE_PRINT: _module_certificate,
    ItemKind.SMALL_PATCH: _small_patch,
    ItemKind.FULL_CERTIFICATE_DOWNLOAD: _full_certification,
    ItemKind.FULL_CERTIFICATE_PRINT: _full_certification,
    ItemKind.LARGE_PATCH: _full_certification,
    ItemKind.WALLET_CARD: _full_certification,
    ItemKind.KWA_DOCUMENT: _anyone,
}
