"""Rule 10: prices in whole cents; no discount on a retake."""

from dataclasses import replace
from decimal import Decimal

import pytest
from histories import failed, history, item, passed

from shop.domain.history import History
from shop.domain.pricing import AmountOff, Discount, PercentOff, is_retake, price_cents
from shop.domain.program import CatalogueItem, ItemKind, Program


@pytest.mark.parametrize(
    ("candidate", "discount", "expected"),
    [
        pytest.param(history(), None, 6000, id="first attempt, no discount: full price"),
        pytest.param(history(), PercentOff(10), 5400, id="first attempt, 10% off: discounted"),
        pytest.param(history(), AmountOff(500), 5500, id="first attempt, $5 off: discounted"),
        pytest.param(history(), AmountOff(7000), 0, id="first attempt, more off than the price: 0"),
        pytest.param(history(), PercentOff(100), 0, id="first attempt, 100% off: 0"),
        pytest.param(
            history(failed("safety", "2025-01-01")),
            PercentOff(10),
            6000,
            id="a retake after a failure ignores 10% off",
        ),
        pytest.param(
            history(failed("safety", "2025-01-01")),
            AmountOff(500),
            6000,
            id="a retake ignores an amount off",
        ),
        pytest.param(
            history(passed("safety", "2020-01-01")),
            PercentOff(10),
            6000,
            id="retaking a module whose pass expired ignores the discount",
        ),
        pytest.param(
            history(failed("quality", "2025-01-01")),
            PercentOff(10),
            5400,
            id="an attempt at another module does not make this a retake",
        ),
    ],
)
def test_a_safety_assessment_fee_costs(
    program: Program, candidate: History, discount: Discount | None, expected: int
) -> None:
    fee = item(program, ItemKind.ASSESSMENT_FEE, "safety")
    assert price_cents(fee, candidate, program, discount) == expected


def test_a_retake_discount_applies_only_if_the_program_ever_allows_it(program: Program) -> None:
    lenient = replace(program, policy=replace(program.policy, retake_discounts_allowed=True))
    fee = item(program, ItemKind.ASSESSMENT_FEE, "safety")
    retake = history(failed("safety", "2025-01-01"))
    assert price_cents(fee, retake, lenient, PercentOff(10)) == 5400


def test_a_discount_applies_to_other_items_whatever_the_history(program: Program) -> None:
    printed = item(program, ItemKind.CERTIFICATE_PRINT, "safety")
    assert (
        price_cents(printed, history(failed("safety", "2025-01-01")), program, PercentOff(10))
        == 1800
    )


@pytest.mark.parametrize(
    ("price", "percent", "expected"),
    [
        pytest.param(25, 10, 22, id="2.5 cents off rounds up to 3"),
        pytest.param(15, 10, 13, id="1.5 cents off rounds up to 2"),
        pytest.param(14, 10, 13, id="1.4 cents off rounds down to 1"),
        pytest.param(800, Decimal("0.0625"), 799, id="half a cent off rounds up to 1"),
        pytest.param(800, Decimal("12.5"), 700, id="a fractional percent, exact"),
        pytest.param(0, 50, 0, id="a free item stays free"),
    ],
)
def test_a_percentage_discount_rounds_half_up_to_whole_cents(
    program: Program, price: int, percent: Decimal | int, expected: int
) -> None:
    odd = CatalogueItem(
        "odd", "Odd", ItemKind.CERTIFICATE_PRINT, price, physical=True, module="safety"
    )
    assert price_cents(odd, history(), program, PercentOff(percent)) == expected


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: PercentOff(101), id="more than 100%"),
        pytest.param(lambda: PercentOff(-1), id="a negative percent"),
        pytest.param(lambda: PercentOff(0.1), id="a float percent"),  # type: ignore[arg-type]
        pytest.param(lambda: AmountOff(-1), id="a negative amount"),
    ],
)
def test_a_discount_that_makes_no_sense_cannot_be_made(make) -> None:
    with pytest.raises((ValueError, TypeError)):
        make()


def test_only_an_assessment_fee_is_a_retake(program: Program) -> None:
    tried = history(failed("safety", "2025-01-01"))
    assert is_retake(item(program, ItemKind.ASSESSMENT_FEE, "safety"), tried)
    assert not is_retake(item(program, ItemKind.CERTIFICATE_PRINT, "safety"), tried)
    assert not is_retake(item(program, ItemKind.ASSESSMENT_FEE, "safety"), history())
