"""A person's name as it is printed on credentials and shown on the verify page.

A name is stored NFC-normalised, so one name has one spelling whatever keyboard typed it.
Characters that print as nothing or change how the text around them is drawn are refused:
Unicode format characters (Cf: bidirectional overrides and isolates, zero-width space, joiner
and non-joiner, the byte order mark...), line and paragraph separators (Zl, Zp) and the C0 and
C1 controls (Cc). A name with a right-to-left override reads differently from what is stored,
and one with a zero-width space looks like another person's name while differing from it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# The categories refused, with what a person is told each one is.
REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


@dataclass(frozen=True, slots=True)
class RefusedCharacter:
    """The first character of a name that cannot be in one, and where it is (1-based)."""

    character: str
    position: int

    def __str__(self) -> str:
        code = f"U+{ord(self.character):04X}"
        name = unicodedata.name(self.character, "")
        kind = REFUSED_CATEGORIES[unicodedata.category(self.character)]
        shown = f"{code} {name}" if name else code
        return f"{shown} ({kind}) at character {self.position}"


def refused_character(name: str) -> RefusedCharacter | None:
    """The first character of `name` that no name may hold, or None."""
    for position, character in enumerate(name, start=1):
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            return RefusedCharacter(character, position)
    return None


def normalised(name: str) -> str:
    """`name` in Unicode normal form C (composed: "e" + U+0301 becomes U+00E9)."""
    return unicodedata.normalize("NFC", name)
