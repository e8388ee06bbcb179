"""Verification ids: 80 random bits, a readable alphabet, and a check symbol that catches typos."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.domain.verify_id import (
    LENGTH,
    SYMBOLS,
    IdProblem,
    example,
    make,
    normalise,
    symbols_of,
)

bits80 = st.integers(min_value=0, max_value=(1 << 80) - 1)


def test_an_id_is_four_groups_of_four_and_a_check_symbol() -> None:
    made = make(secrets.randbits(80))
    groups = made.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4, 1]
    assert set(made.replace("-", "")) <= set(SYMBOLS)
    assert not set("ILOU") & set(made)


@pytest.mark.parametrize("number", [0, 1, (1 << 80) - 1])
def test_the_extremes_of_80_bits_make_valid_ids(number: int) -> None:
    assert normalise(make(number)) == make(number)


@pytest.mark.parametrize("number", [-1, 1 << 80])
def test_numbers_outside_80_bits_are_refused(number: int) -> None:
    with pytest.raises(ValueError):
        make(number)


@given(bits80)
def test_a_typed_id_is_read_back_in_lower_case_with_spaces_or_no_dashes(number: int) -> None:
    made = make(number)
    assert normalise(made.lower()) == made
    assert normalise(made.replace("-", " ")) == made
    assert normalise(made.replace("-", "")) == made


@given(bits80, st.data())
def test_every_single_mistyped_symbol_is_caught(number: int, data: st.DataObject) -> None:
    made = make(number).replace("-", "")
    position = data.draw(st.integers(min_value=0, max_value=LENGTH))
    wrong = data.draw(st.sampled_from([s for s in SYMBOLS if s != made[position]]))
    typo = made[:position] + wrong + made[position + 1 :]
    assert normalise(typo) is IdProblem.MISTYPED


def test_look_alike_letters_are_read_as_the_digits_they_resemble() -> None:
    made = make(0)  # all zeros: 0000-0000-0000-0000-?
    assert normalise(made.replace("0", "O")) == made


@pytest.mark.parametrize(
    "text",
    ["", "ABCD", "0000-0000-0000-0000", "0000-0000-0000-0000-00", "0000-0000-0000-000U-0", "*"],
)
def test_text_that_is_not_an_id_is_malformed(text: str) -> None:
    assert normalise(text) is IdProblem.MALFORMED


def test_the_example_id_passes_its_own_check() -> None:
    assert normalise(example()) == example() == "7KQ2-9XDM-4HTV-PA3R-7"


@pytest.mark.parametrize(
    ("typed", "symbols"),
    [
        ("9XDM-4HTV", "9XDM4HTV"),
        ("9xdm4htv", "9XDM4HTV"),
        (" 9XDM 4HTV ", "9XDM4HTV"),
        ("9X-DM4H\tTV", "9XDM4HTV"),
        ("0O1IL", "00111"),
        ("", ""),
        ("ana@example", None),
        ("100%", None),
        ("7KQU", None),  # U is not a symbol
    ],
)
def test_the_symbols_of_a_part_of_an_id_are_read_as_a_whole_id_is(
    typed: str, symbols: str | None
) -> None:
    assert symbols_of(typed) == symbols
