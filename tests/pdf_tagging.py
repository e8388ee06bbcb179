"""What a tagged, archival PDF holds, read back with pypdf and poppler's pdfinfo.

Shared by the shop's document tests and the site's: the structure tree and its figures'
alternative text, the catalog's marks, the XMP metadata, and what pdfinfo says.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

XMP = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
}


@dataclass(frozen=True)
class Tagging:
    """The accessibility and archival marks of one PDF."""

    struct_tree: bool
    marked: bool
    lang: str | None
    display_doc_title: bool
    figures: list[str | None]  # each /Figure's /Alt, in reading order (None: it has none)
    xmp: dict[str, str | None]  # dc:title, pdfuaid:part, pdfaid:part, pdfaid:conformance
    xmp_declares_pdfuaid: bool  # the PDF/A extension schema that PDF/A-2 asks for
    output_intent: str | None
    has_file_id: bool


def tagging(pdf: bytes) -> Tagging:
    reader = PdfReader(io.BytesIO(pdf))
    catalog: DictionaryObject = reader.trailer["/Root"]
    tree = catalog.get("/StructTreeRoot")
    mark_info = catalog.get("/MarkInfo") or {}
    preferences = catalog.get("/ViewerPreferences") or {}
    intents = catalog.get("/OutputIntents") or []
    metadata = catalog.get("/Metadata")
    xmp = _xmp(metadata.get_object().get_data()) if metadata is not None else None
    return Tagging(
        struct_tree=tree is not None,
        marked=bool(mark_info.get("/Marked")),
        lang=str(catalog["/Lang"]) if "/Lang" in catalog else None,
        display_doc_title=bool(preferences.get("/DisplayDocTitle")),
        figures=[_alt(e) for e in _elements(tree) if e.get("/S") == "/Figure"] if tree else [],
        xmp=_xmp_fields(xmp),
        xmp_declares_pdfuaid=xmp is not None and _declares(xmp, XMP["pdfuaid"]),
        output_intent=str(intents[0].get_object()["/S"]) if intents else None,
        has_file_id="/ID" in reader.trailer,
    )


def _alt(element: DictionaryObject) -> str | None:
    alt = element.get("/Alt")
    return None if alt is None else str(alt)


def _elements(node: Any) -> Iterator[DictionaryObject]:
    """Every structure element under `node`, depth first: the order a reader reads them."""
    kids = node.get_object().get("/K")
    if kids is None:
        return
    for kid in kids if isinstance(kids, list) else [kids]:
        kid = kid.get_object()
        if isinstance(kid, DictionaryObject) and kid.get("/Type") == "/StructElem":
            yield kid
            yield from _elements(kid)


def _xmp(data: bytes) -> ElementTree.Element:
    packet = data.decode("utf-8")
    start, end = packet.index("<x:xmpmeta"), packet.index("</x:xmpmeta>")
    return ElementTree.fromstring(packet[start : end + len("</x:xmpmeta>")])


def _xmp_fields(xmp: ElementTree.Element | None) -> dict[str, str | None]:
    """The properties the tests read, whether written as attributes or as elements."""
    names = ("dc:title", "pdfuaid:part", "pdfaid:part", "pdfaid:conformance")
    found: dict[str, str | None] = dict.fromkeys(names)
    if xmp is None:
        return found
    for description in xmp.iter(f"{{{XMP['rdf']}}}Description"):
        for name in names:
            prefix, local = name.split(":")
            qualified = f"{{{XMP[prefix]}}}{local}"
            if qualified in description.attrib:
                found[name] = description.attrib[qualified]
            element = description.find(qualified)
            if element is not None:
                found[name] = "".join(element.itertext()).strip()
    return found


def _declares(xmp: ElementTree.Element, namespace: str) -> bool:
    uri = f"{{{XMP['pdfaSchema']}}}namespaceURI"
    return any(element.text == namespace for element in xmp.iter(uri))


def pdfinfo(pdf: bytes) -> dict[str, str]:
    """poppler's pdfinfo of the PDF, as its `Key: value` lines."""
    tool = shutil.which("pdfinfo")
    assert tool, "pdfinfo is missing: `make install` installs Debian's poppler-utils"
    shown = subprocess.run(
        [tool, "-"], input=pdf, capture_output=True, check=True, timeout=30
    ).stdout.decode()
    pairs = (line.split(":", 1) for line in shown.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}
