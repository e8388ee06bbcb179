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
    # A name for assistive technology; the URL is escaped, as everything printed is.
    label = f' role="img" aria-label="QR code of {escape(url)}"'
    return svg.replace("<svg", "<svg" + label, 1)


def qr_markup(url: str) -> Markup:
    """`qr_svg(url)` marked safe for Jinja: segno wrote it, and the URL in it is escaped."""
    return Markup(qr_svg(url))
