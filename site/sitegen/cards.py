"""Social cards: each page's Open Graph image, a PNG drawn by the build with the CPT mark.

The card's words come from its template (templates/social/card.txt: a kicker line, the title,
the site's name, a line each); this module only draws them. Pillow writes no time or other
varying chunk into a PNG, so two builds give the same bytes.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = (1200, 630)  # what Open Graph and X's large summary card ask for
FONTS = Path("/usr/share/fonts/truetype/dejavu")  # the DejaVu fonts the documents use
BRAND = "#0b4f6c"
BRAND_STRONG = "#083a50"
ACCENT = "#f2a541"
WHITE = "#ffffff"
PALE = "#cfe3ec"


class CardError(Exception):
    """A card cannot be drawn (its font is missing, or its text is empty)."""


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONTS / name
    if not path.is_file():
        raise CardError(f"the social cards need the font {path}: install fonts-dejavu-core")
    return ImageFont.truetype(str(path), size)


def _mark(draw: ImageDraw.ImageDraw, left: int, top: int, size: int) -> None:
    """The CPT mark of static/img/mark.svg (a 64-unit hexagon), drawn at `size` pixels."""

    def points(coords: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        scale = size / 64
        return [(left + x * scale, top + y * scale) for x, y in coords]

    outer = [(32, 3), (57, 17.5), (57, 46.5), (32, 61), (7, 46.5), (7, 17.5)]
    inner = [(32, 10), (51, 21), (51, 43), (32, 54), (13, 43), (13, 21)]
    draw.polygon(points(outer), fill=BRAND_STRONG)
    draw.polygon(points(inner), outline=ACCENT, width=max(2, round(3 * size / 64)))
    font = _font("DejaVuSans-Bold.ttf", round(16 * size / 64))
    draw.text((left + size / 2, top + 33 * size / 64), "CPT", fill=WHITE, font=font, anchor="mm")


def card_png(text: str) -> bytes:
    """A 1200x630 PNG: the mark, the kicker, the title wrapped to four lines, the site's name."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) != 3 or not all(lines):
        raise CardError(f"a social card needs a kicker, a title and a site name, got {text!r}")
    kicker, title, site_name = lines
    image = Image.new("RGB", SIZE, BRAND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, SIZE[1] - 16, SIZE[0], SIZE[1]), fill=ACCENT)
    _mark(draw, 72, 64, 150)
    draw.text((260, 110), kicker.upper(), fill=ACCENT, font=_font("DejaVuSans-Bold.ttf", 30))
    rows = textwrap.wrap(title, width=26 if len(title) > 60 else 22)
    if len(rows) > 4:
        rows = [*rows[:3], textwrap.shorten(" ".join(rows[3:]), 24, placeholder=" …")]
    size = 64 if len(rows) <= 3 else 54
    font = _font("DejaVuSans-Bold.ttf", size)
    y = 250
    for line in rows:
        draw.text((72, y), line, fill=WHITE, font=font)
        y += round(size * 1.2)
    draw.text((72, SIZE[1] - 74), site_name, fill=PALE, font=_font("DejaVuSans.ttf", 30))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
