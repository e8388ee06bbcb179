"""Rule 10: what an item costs a candidate, in integer cents."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

from shop.domain.history import History
from shop.domain.program import CatalogueItem, ItemKind, Program


@dataclass(frozen=True, slots=True)
class PercentOff:
    """A discount of a percentage of the price (0 to 100; Decimal for fractions of a percent)."""

    percent: Decimal | int

    def __post_init__(self) -> None:
        # Decimal or int only: a float such as 0.1 is not the number it looks like.
        if isinstance(self.percent, bool) or not isinstance(self.percent, Decimal | int):
            raise TypeError("percent is an int or a Decimal")
        if not 0 <= self.percent <= 100:
            raise ValueError("percent is between 0 and 100")


@dataclass(frozen=True, slots=True)
class AmountOff:
    """A discount of a fixed amount, in cents."""

    cents: int

    def __post_init__(self) -> None:
        if self.cents < 0:
            raise ValueError("cents is zero or more")


Discount: TypeAlias = PercentOff | AmountOff


def is_retake(item: CatalogueItem, history: History) -> bool:
    """An assessment fee for a module the candidate has attempted before (pass or fail)."""
    return (
        item.kind is ItemKind.ASSESSMENT_FEE
        and item.module is not None
        and bool(history.attempts_at(item.module))
    )


def price_cents(
    item: CatalogueItem, history: History, program: Program, discount: Discount | None = None
) -> int:
    """Rule 10: the catalogue price less any discount, never below zero.

    A retake costs the full price: no discount applies to it while the program does not allow
    retake discounts. A percentage discount is rounded half up to whole cents (12.5 cents off
    becomes 13 cents off); an amount off larger than the price makes it free, not negative.
    """
    price = item.price_cents
    if discount is None:
        return price
    if is_retake(item, history) and not program.policy.retake_discounts_allowed:
        # The program's own words: "There are no discounts for assessment retakes."
        return price
    if isinstance(discount, PercentOff):
        off = _round_half_up(Fraction(price) * Fraction(discount.percent) / 100)
    else:
        off = discount.cents
    return max(price - off, 0)


def _round_half_up(amount: Fraction) -> int:
    """Nearest whole number, halves up; exact, since Fraction has no binary rounding error."""
    return math.floor(amount + Fraction(1, 2))
