"""The badges we draw ourselves (no real logo): one per module and one for full certification,
as SVG from a template (shop/templates/shop/badges/badge.svg) and as PNG rendered from it.

PNG: CairoSVG (PyPI) over libcairo2 (Debian). Chosen over WeasyPrint -> PDF -> pypdfium2
because it rasterises the SVG in one step, in-process, with the same bytes every time for the
same SVG, and without moving pypdfium2 (a test dependency) into the shop's run-time ones.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass

import cairosvg

from shop.domain.program import Program

FULL_CERTIFICATION = "full-certification"  # the slug of the full certification's badge
SIZE = 400  # pixels a side: what LinkedIn and the wallets show without blurring
LINE_WIDTH = 18  # characters of the credential's name on one line of the band
NAVY, AMBER, GREEN, INK = "#0b4f6c", "#f2a541", "#1d6b3a", "#1c2430"  # the site's colours


class UnknownBadge(LookupError):
    """No module (nor the full certification) has this slug."""


@dataclass(frozen=True)
class Badge:
    slug: str
    label: str  # what the image says, for its alt text and <title>
    program_name: str
    program_short_name: str
    kind_line: str
    name_lines: tuple[str, ...]
    ground: str
    rim: str
    band_ink: str  # the name's colour on the band: dark on amber, white on green
    size: int = SIZE

    @property
    def band_height(self) -> int:
        return 30 * len(self.name_lines) + 28

    @property
    def first_line_y(self) -> int:
        # The lines' baselines, centred on the band (a line's cap height is about 18 px).
        return 200 - 15 * (len(self.name_lines) - 1) + 9


def slugs(program: Program) -> tuple[str, ...]:
    return (*(m.id for m in program.modules), FULL_CERTIFICATION)


def badge(program: Program, slug: str) -> Badge:
    """The badge of a module (its id) or of the full certification."""
    if slug == FULL_CERTIFICATION:
        return Badge(
            slug,
            f"{program.name}: full certification badge",
            program.name,
            program.short_name,
            "FULL CERTIFICATION",
            tuple(textwrap.wrap(f"Certified {program.short_name}", LINE_WIDTH)),
            NAVY,
            GREEN,
            "#ffffff",
        )
    try:
        module = program.module(slug)
    except KeyError:
        raise UnknownBadge(
            f"no badge {slug!r}: the badges are {', '.join(slugs(program))}"
        ) from None
    return Badge(
        slug,
        f"{program.name}: {module.name} module badge",
        program.name,
        program.short_name,
        "MODULE CERTIFICATE",
        tuple(textwrap.wrap(module.name, LINE_WIDTH)),
        NAVY,
        AMBER,
        INK,
    )


@functools.lru_cache(maxsize=16)
def png_of(svg: str) -> bytes:
    """The SVG rasterised to PNG (cached: a badge's SVG is the same for every credential)."""
    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), unsafe=False)
    return png
