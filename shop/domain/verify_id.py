"""Verification ids: random, easy to read aloud and type, with a check character.

An id is 16 symbols of Crockford's base 32 (digits and capital letters without I, L, O and
U, so nothing looks like anything else): 80 random bits, shown in groups of four, then one
check symbol from the same alphabet (the Luhn mod 32 algorithm), which catches any single
mistyped character and almost every swap of two neighbours. Example: 7KQ2-9XDM-4HTV-PA3R-7
(`example()`, whose check symbol is computed, so that no page shows an id that fails it).

Reading forgives what people do when typing: lower case, spaces and dashes anywhere, and O,
I and L where 0 and 1 were meant.
"""

from __future__ import annotations

import enum

SYMBOLS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16  # symbols of 5 bits: 80 bits
GROUP = 4
_ALIASES = {"O": "0", "I": "1", "L": "1"}
_IGNORED = frozenset(" -\t")
EXAMPLE_SYMBOLS = "7KQ29XDM4HTVPA3R"


class IdProblem(enum.StrEnum):
    MALFORMED = "malformed"  # not 16 symbols and a check character
    MISTYPED = "mistyped"  # the check character does not match: a typo


def make(random_bits: int) -> str:
    """The id of an 80-bit random number (the caller draws it: `secrets.randbits(80)`)."""
    if not 0 <= random_bits < 1 << (5 * LENGTH):
        raise ValueError("expected an 80-bit number")
    symbols = "".join(SYMBOLS[(random_bits >> (5 * i)) & 31] for i in reversed(range(LENGTH)))
    return _grouped(symbols)


def example() -> str:
    """The id that forms and messages show as an example: valid, as its check is computed."""
    return _grouped(EXAMPLE_SYMBOLS)


def _grouped(symbols: str) -> str:
    """16 symbols in groups of four, then their check symbol."""
    groups = [symbols[i : i + GROUP] for i in range(0, LENGTH, GROUP)]
    return "-".join([*groups, check_symbol(symbols)])


def check_symbol(symbols: str) -> str:
    """Luhn mod 32 over the symbols: every other one doubled, digits of base 32 summed."""
    total = 0
    for position, symbol in enumerate(reversed(symbols)):
        value = SYMBOLS.index(symbol) * (2 if position % 2 == 0 else 1)
        total += value // 32 + value % 32
    return SYMBOLS[-total % 32]


def symbols_of(text: str) -> str | None:
    """The symbols of a typed id, or of a part of one, read as `normalise` reads them (any
    case, spaces and dashes anywhere, look-alike letters as digits); None if any other
    character is in it."""
    cleaned = "".join(_ALIASES.get(c, c) for c in text.upper() if c not in _IGNORED)
    return cleaned if all(c in SYMBOLS for c in cleaned) else None


def normalise(text: str) -> str | IdProblem:
    """The canonical form of a typed id, or what is wrong with it."""
    cleaned = symbols_of(text)
    if cleaned is None or len(cleaned) != LENGTH + 1:
        return IdProblem.MALFORMED
    body, check = cleaned[:LENGTH], cleaned[LENGTH]
    if check_symbol(body) != check:
        return IdProblem.MISTYPED
    return _grouped(body)
