from datetime import date

import pytest

from shop.domain.dates import add_years, window_last_day


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        pytest.param(date(2024, 3, 10), 2, date(2026, 3, 10), id="an ordinary day"),
        pytest.param(date(2024, 2, 29), 2, date(2026, 2, 28), id="29 Feb to 28 Feb"),
        pytest.param(date(2024, 2, 29), 4, date(2028, 2, 29), id="29 Feb to 29 Feb"),
        pytest.param(date(2023, 3, 1), 2, date(2025, 3, 1), id="across a leap day"),
        pytest.param(date(2022, 2, 28), 2, date(2024, 2, 28), id="28 Feb stays 28 Feb"),
        pytest.param(date(2024, 12, 31), 2, date(2026, 12, 31), id="year end"),
        pytest.param(date(2026, 2, 28), -2, date(2024, 2, 28), id="backwards"),
    ],
)
def test_adding_years_keeps_the_calendar_day(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


def test_a_window_across_a_leap_day_is_two_calendar_years_not_730_days() -> None:
    assert (window_last_day(date(2023, 3, 1), 2) - date(2023, 3, 1)).days == 731


def test_a_window_starting_on_29_february_ends_on_28_february() -> None:
    assert window_last_day(date(2024, 2, 29), 2) == date(2026, 2, 28)
