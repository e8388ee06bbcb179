"""The catalogue as one candidate sees it: every item, its price and whether they may buy it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shop.domain.eligibility import Decision, eligibility
from shop.domain.history import History
from shop.domain.pricing import price_cents
from shop.domain.program import CatalogueItem, ItemKind, Program

# Downloads cost nothing and are not sold: they are links on the dashboard and the site.
DOWNLOADS = frozenset(
    {
        ItemKind.CERTIFICATE_DOWNLOAD,
        ItemKind.FULL_CERTIFICATE_DOWNLOAD,
        ItemKind.WALLET_CARD,
        ItemKind.KWA_DOCUMENT,
    }
)
# Printed documents may be ordered several at once (a copy for an employer); nothing else.
MAX_QUANTITY = {ItemKind.CERTIFICATE_PRINT: 5, ItemKind.FULL_CERTIFICATE_PRINT: 5}


@dataclass(frozen=True, slots=True)
class Offer:
    item: CatalogueItem
    decision: Decision
    price_cents: int

    @property
    def max_quantity(self) -> int:
        return MAX_QUANTITY.get(self.item.kind, 1)


def for_sale(program: Program) -> tuple[CatalogueItem, ...]:
    return tuple(item for item in program.catalogue if item.kind not in DOWNLOADS)


def offer(item: CatalogueItem, history: History, today: dt.date, program: Program) -> Offer:
    return Offer(
        item, eligibility(history, item, today, program), price_cents(item, history, program)
    )


def offers(history: History, today: dt.date, program: Program) -> tuple[Offer, ...]:
    return tuple(offer(item, history, today, program) for item in for_sale(program))
