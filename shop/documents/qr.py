"""QR codes of verify URLs, as inline SVG for our HTML documents."""

from __future__ import annotations

import segno
from markupsafe import Markup, escape


def qr_svg(url: str) -> str:
    """Inline SVG markup of a QR code of `url` (error correction M, the standard quiet zone).

    No XML declaration, no namespace and no width or height: the markup goes straight into an
    HTML document, whose CSS sizes it in mm (`svg.qr`); its viewBox counts modules.
    """
    code = segno.make_qr(url, error="m", boost_error=False)
    svg: str = code.svg_inline(omitsize=True, border=4, svgclass="qr", lineclass=None, dark="#000")
    # A name for assistive technology, escaped as everything printed is: aria-label for a
    # browser, <title> for WeasyPrint, which makes it the tagged PDF's alternative text.
    name = escape(f"QR code of {url}")
    opening, rest = svg.split(">", 1)
    return f'{opening} role="img" aria-label="{name}"><title>{name}</title>{rest}'


def qr_markup(url: str) -> Markup:
    """`qr_svg(url)` marked safe for Jinja: segno wrote it, and the URL in it is escaped."""
    return Markup(qr_svg(url))
