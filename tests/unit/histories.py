"""Builders that keep the tests' tables short enough to read."""

from __future__ import annotations

from datetime import date, timedelta

from shop.domain.history import Attempt, History, Purchase
from shop.domain.program import CatalogueItem, ItemKind, Program

REQUIRED = ("safety", "quality", "processes", "maintenance")


def day(text: str) -> date:
    return date.fromisoformat(text)


def after(start: str | date, days: int) -> date:
    first = day(start) if isinstance(start, str) else start
    return first + timedelta(days=days)


def passed(module: str, on: str | date, attempt_id: str | None = None) -> Attempt:
    return _attempt(module, on, True, attempt_id)


def failed(module: str, on: str | date, attempt_id: str | None = None) -> Attempt:
    return _attempt(module, on, False, attempt_id)


def _attempt(module: str, on: str | date, ok: bool, attempt_id: str | None) -> Attempt:
    taken_on = day(on) if isinstance(on, str) else on
    default_id = f"{module}-{taken_on.isoformat()}-{'pass' if ok else 'fail'}"
    return Attempt(attempt_id or default_id, module, taken_on, ok)


def four_passes(safety: str, quality: str, processes: str, maintenance: str) -> tuple[Attempt, ...]:
    """A pass of each required module on the given days."""
    days = (safety, quality, processes, maintenance)
    return tuple(passed(module, on) for module, on in zip(REQUIRED, days, strict=True))


def history(
    *attempts: Attempt,
    bought: tuple[ItemKind, ...] = (),
    authorizations: tuple[str, ...] = (),
) -> History:
    purchases = tuple(Purchase(kind.value, kind, None, day("2020-01-01")) for kind in bought)
    return History(attempts, purchases, frozenset(authorizations))


def item(program: Program, kind: ItemKind, module: str | None = None) -> CatalogueItem:
    """The catalogue item of that kind (and module, for a per-module item)."""
    (found,) = [i for i in program.catalogue if i.kind is kind and i.module == module]
    return found
