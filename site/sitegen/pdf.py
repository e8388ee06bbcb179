"""Render our own HTML templates to PDF with WeasyPrint, fetching nothing but our static files."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from weasyprint import CSS, HTML
from weasyprint import __version__ as weasyprint_version
from weasyprint.urls import URLFetcher, URLFetcherResponse

# The style sheet of the site's KWA documents, under static/.
KWA_STYLESHEETS = ("css/document.css",)

# Every document is tagged PDF/UA-1: a structure tree from the HTML, /Lang from <html lang>,
# the <title> as dc:title and as what the viewer's title bar shows, and alternative text from
# each <img alt> and each inline <svg>'s <title> (WeasyPrint reads those two, not aria-label).
ACCESSIBLE = {"pdf_variant": "pdf/ua-1"}
# Credentials are kept for years: PDF/A-2b as well (the sRGB output intent, annotations
# printable, a file identifier that WeasyPrint hashes from the content, so the same document
# still gives the same bytes), tagged all the same. WeasyPrint writes one variant's XMP
# identification: _identify_pdf_ua adds PDF/UA's. PDF/A-2b rather than 3b: the credentials
# embed no files, the one thing PDF/A-3 adds.
ARCHIVAL = {"pdf_variant": "pdf/a-2b", "pdf_tags": True}


class DocumentError(Exception):
    """WeasyPrint warned while rendering a document that must render cleanly."""


class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
    """Serves `<base>/static/...` from our static folder and refuses every other URL.

    Documents resolve relative URLs against the site's address, so links inside a PDF point at
    the live site, while the only things ever read are our own files: no file://, no network,
    nothing that untrusted text (a candidate's name) could smuggle in.
    """

    def __init__(self, static_dir: Path, base_url: str) -> None:
        super().__init__(allowed_protocols=("https", "http"), fail_on_errors=False)
        self.root = static_dir.resolve()
        self.prefix = urljoin(base_url, "static/")
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        target = self._local_file(url)
        if target is None:
            self.refused.append(url)
            raise PermissionError(f"documents may only use our static files, not {url!r}")
        mime_type, _ = mimetypes.guess_type(target.name)
        return URLFetcherResponse(
            url, target.read_bytes(), {"Content-Type": mime_type or "application/octet-stream"}
        )

    def _local_file(self, url: str) -> Path | None:
        if not url.startswith(self.prefix):
            return None
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            return None
        target = (self.root / unquote(url[len(self.prefix) :])).resolve()
        return target if target.is_file() and target.is_relative_to(self.root) else None


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _weasyprint_warnings() -> Iterator[list[str]]:
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def html_to_pdf(
    html: str,
    static_dir: Path,
    base_url: str,
    *,
    stylesheets: Sequence[str] = (),
    strict: bool = True,
    archival: bool = False,
) -> bytes:
    """A tagged PDF/UA-1 of `html` styled by `stylesheets` (paths under static/), PDF/A-2b
    too when `archival`; no clock in it, so the same HTML gives the same bytes.

    With `strict`, any warning from WeasyPrint (a missing style sheet, a duplicate anchor, an
    unknown CSS property, an image without alternative text, an <html> without lang) is an
    error: our own documents must render cleanly.
    """
    base = base_url.rstrip("/") + "/"
    with _weasyprint_warnings() as warnings:
        sheets = [_stylesheet(static_dir, base, name) for name in stylesheets]
        document = HTML(string=html, base_url=base, url_fetcher=StaticOnlyFetcher(static_dir, base))
        if archival:
            pdf: bytes = document.write_pdf(
                stylesheets=sheets, finisher=_identify_pdf_ua, **ARCHIVAL
            )
        else:
            pdf = document.write_pdf(stylesheets=sheets, **ACCESSIBLE)
    if strict and warnings:
        raise DocumentError("the document rendered with warnings:\n" + "\n".join(warnings))
    return pdf


# What PDF/A-2 asks of a schema it does not predefine, such as PDF/UA's identification: its
# description in the XMP itself (ISO 19005-2, 6.6.2.3), then the property.
_PDF_UA_IDENTIFICATION = b"""\
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">\
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">\
<pdfaSchema:schema>PDF/UA identification schema</pdfaSchema:schema>\
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">\
<pdfaProperty:name>part</pdfaProperty:name>\
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>\
<pdfaProperty:category>internal</pdfaProperty:category>\
<pdfaProperty:description>The part of ISO 14289 the file conforms to</pdfaProperty:description>\
</rdf:li></rdf:Seq></pdfaSchema:property>\
</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>\
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" \
pdfuaid:part="1" />"""
_RDF_END = b"</rdf:RDF>"


def _identify_pdf_ua(document: object, pdf: Any) -> None:
    """Add PDF/UA-1's identification to the XMP that WeasyPrint wrote for PDF/A."""
    stream = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]  # b"12 0 R": object 12
    xmp = b"\n".join(stream.stream)
    if xmp.count(_RDF_END) != 1:  # a WeasyPrint that writes its XMP otherwise: say so
        raise DocumentError("the PDF/A metadata has no single </rdf:RDF> to add PDF/UA's to")
    stream.stream = [xmp.replace(_RDF_END, _PDF_UA_IDENTIFICATION + _RDF_END)]


# Parsed style sheets, by file and base URL, with the size and time the file had. Parsing one
# of ours costs WeasyPrint about 40 ms, a third of a certificate's render; a parsed sheet holds
# no state of the document it styles, so every render in the process shares it (the shop
# renders in several threads: hence the lock).
_SHEETS: dict[tuple[Path, str], tuple[int, int, CSS]] = {}
_SHEETS_LOCK = threading.Lock()


def _stylesheet(static_dir: Path, base: str, name: str) -> CSS:
    """Our style sheet `static/<name>`, parsed once (again after the file changes).

    It is given to WeasyPrint as a user style sheet rather than linked from the HTML: the
    documents have no other author styles but `style` attributes, which win either way.
    It is read through the same fetcher as everything else, so it can only be ours.
    """
    path = static_dir.resolve() / name
    stat = path.stat()
    with _SHEETS_LOCK:
        kept = _SHEETS.get((path, base))
        if kept is not None and kept[:2] == (stat.st_size, stat.st_mtime_ns):
            return kept[2]
        fetcher = StaticOnlyFetcher(static_dir, base)
        sheet = CSS(url=urljoin(base, f"static/{name}"), url_fetcher=fetcher)
        _SHEETS[(path, base)] = (stat.st_size, stat.st_mtime_ns, sheet)  # replaces the old parse
        return sheet


def preload(static_dir: Path, base_url: str, stylesheets: Sequence[str]) -> None:
    """Parse `stylesheets` now, as html_to_pdf will (so that forked workers share the parse).

    A sheet that warns is forgotten again, so the document that uses it reports the warning.
    """
    base = base_url.rstrip("/") + "/"
    for name in stylesheets:
        with _weasyprint_warnings() as warnings:
            _stylesheet(static_dir, base, name)
        if warnings:
            with _SHEETS_LOCK:
                _SHEETS.pop((static_dir.resolve() / name, base), None)


class PdfCache:
    """Rendered PDFs on disk, keyed by everything that shapes them: the HTML and the static files.

    A build re-renders a document only when its inputs change; the key makes a stale hit
    impossible, so the output is the same as a clean build's.
    """

    def __init__(self, folder: Path | None, static_dir: Path) -> None:
        self.folder = folder
        self._static_digest = _digest_folder(static_dir)

    def get_or_render(self, html: str, render: Callable[[], bytes]) -> bytes:
        if self.folder is None:
            return render()
        key = hashlib.sha256(self._static_digest + html.encode()).hexdigest()
        path = self.folder / f"{key}.pdf"
        if path.is_file():
            return path.read_bytes()
        pdf: bytes = render()
        self.folder.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed, so a crash never leaves half a file.
        with tempfile.NamedTemporaryFile(dir=self.folder, delete=False, suffix=".tmp") as part:
            part.write(pdf)
        os.replace(part.name, path)
        return pdf


def _digest_folder(folder: Path) -> bytes:
    # The WeasyPrint and the options it writes with shape the bytes as much as the files do.
    digest = hashlib.sha256(f"{weasyprint_version} {sorted(ACCESSIBLE.items())}".encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.digest()
