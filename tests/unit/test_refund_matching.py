"""Which lines a refund made in Stripe's dashboard was for: one set of whole lines, or none."""

from __future__ import annotations

import pytest

from shop.payments.refunds import SUBSET_SEARCH_MAX_LINES, match_lines

FEE, PRINT, PATCH = 6000, 2500, 800


@pytest.mark.parametrize(
    ("amount", "lines", "expected"),
    [
        (800, {1: FEE, 2: PATCH}, {2}),  # exactly one line has that total
        (6000, {1: FEE, 2: PATCH}, {1}),
        (6800, {1: FEE, 2: PATCH}, {1, 2}),  # all the lines left
        (3300, {1: FEE, 2: PRINT, 3: PATCH}, {2, 3}),  # one pair, and only one, adds up
        (799, {1: FEE, 2: PATCH}, None),  # a cent short of a line: no guess
        (801, {1: FEE, 2: PATCH}, None),
        (500, {1: FEE, 2: PATCH}, None),  # part of a line
        (6801, {1: FEE, 2: PATCH}, None),  # more than every line
        (2500, {1: PRINT, 2: PRINT}, None),  # two lines of that price: which one?
        (2500, {1: PRINT, 2: PRINT - 1700, 3: 1700}, None),  # a line, or two others
        (5000, {1: PRINT, 2: PRINT}, {1, 2}),
        (0, {1: FEE}, None),
        (-800, {1: PATCH}, None),
        (800, {}, None),
    ],
)
def test_a_refund_matches_the_one_set_of_whole_lines_that_adds_up_to_it(
    amount: int, lines: dict[int, int], expected: set[int] | None
) -> None:
    found = match_lines(amount, lines)
    assert (set(found) if found is not None else None) == expected


@pytest.mark.parametrize("size", [SUBSET_SEARCH_MAX_LINES, SUBSET_SEARCH_MAX_LINES + 1])
def test_a_long_order_matches_all_its_lines_and_past_the_limit_nothing_less(size: int) -> None:
    lines = {i: 100 * 2**i for i in range(1, size + 1)}  # every subset has a sum of its own
    assert match_lines(sum(lines.values()), lines) == frozenset(lines)
    one = match_lines(100 * 2**3, lines)
    assert one == (frozenset({3}) if size <= SUBSET_SEARCH_MAX_LINES else None)
