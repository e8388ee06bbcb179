"""What has happened to one candidate: assessment attempts, purchases, authorizations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from shop.domain.program import ItemKind

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recorded assessment result."""

    attempt_id: str
    module: str
    taken_on: date
    passed: bool
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Purchase:
    """An item bought and not refunded.

    `settling`: paid by a method that settles later (a bank transfer) and not settled yet; the
    item counts as bought meanwhile, but an assessment fee has given no authorization yet.
    """

    sku: str
    kind: ItemKind
    module: str | None
    paid_on: date
    settling: bool = False


def chronological(attempt: Attempt) -> tuple[date, str]:
    """Rule 1: attempts are ordered by (taken_on, attempt_id).

    The id breaks ties between attempts recorded on the same day, so the order never depends
    on the order the database happened to return them in.
    """
    return (attempt.taken_on, attempt.attempt_id)


@dataclass(frozen=True, slots=True)
class History:
    """Everything the rules know about a candidate.

    `unused_authorizations` holds the ids of the modules for which the candidate holds an
    assessment authorization (a bought assessment fee) that no attempt has used yet.

    `revoked_modules` maps the id of each module whose certificate staff revoked to the day
    they did; `full_certification_revoked_on` is the day full certification was revoked, if
    it is. A revoked credential gives nothing while it is revoked; reinstating it (the entry
    disappears) gives everything back.

    Attempts dated after `now` are not dropped: a result stamped in another time zone may carry
    tomorrow's date, and ignoring it would let a candidate buy a retake they are not due.
    """

    attempts: tuple[Attempt, ...] = ()
    purchases: tuple[Purchase, ...] = ()
    unused_authorizations: frozenset[str] = frozenset()
    revoked_modules: Mapping[str, date] = field(default_factory=dict)
    full_certification_revoked_on: date | None = None
    # What rules derived from this history (it never changes), by rule and program.
    _derived: dict[tuple[str, int], tuple[object, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Sorted once here (rule 1), so every rule reads the attempts in the same order.
        object.__setattr__(self, "attempts", tuple(sorted(self.attempts, key=chronological)))
        object.__setattr__(self, "purchases", tuple(self.purchases))
        object.__setattr__(self, "unused_authorizations", frozenset(self.unused_authorizations))
        object.__setattr__(self, "revoked_modules", dict(self.revoked_modules))

    def derived(self, rule: str, program: object, compute: Callable[[], T]) -> T:
        """`compute()`, run once per rule and program for this history.

        A page asks the same question of one history many times (each catalogue item asks
        whether the candidate is fully certified); the answer cannot change.
        """
        key = (rule, id(program))
        found = self._derived.get(key)
        if found is None or found[0] is not program:  # an id can be reused once freed
            found = self._derived[key] = (program, compute())
        value: T = found[1]
        return value

    def attempts_at(self, module: str) -> tuple[Attempt, ...]:
        """The module's attempts, oldest first."""
        return tuple(a for a in self.attempts if a.module == module)

    def passes_of(self, module: str) -> tuple[Attempt, ...]:
        """The module's passes, oldest first."""
        return tuple(a for a in self.attempts if a.module == module and a.passed)

    def valid_passes_of(self, module: str) -> tuple[Attempt, ...]:
        """The module's passes, oldest first; none while its certificate is revoked."""
        return () if self.is_revoked(module) else self.passes_of(module)

    def has_passed(self, module: str) -> bool:
        return any(a.passed for a in self.attempts_at(module))

    def has_passed_any_module(self) -> bool:
        return any(a.passed for a in self.attempts)

    def has_valid_pass(self) -> bool:
        """Whether some module is passed and its certificate is not revoked."""
        return any(a.passed and not self.is_revoked(a.module) for a in self.attempts)

    def is_revoked(self, module: str) -> bool:
        """Whether staff revoked the module's certificate (and have not reinstated it)."""
        return module in self.revoked_modules

    def revoked_on(self, module: str) -> date | None:
        return self.revoked_modules.get(module)

    def has_bought(self, kind: ItemKind) -> bool:
        return any(p.kind is kind for p in self.purchases)
