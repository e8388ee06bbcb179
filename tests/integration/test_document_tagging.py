"""The shop's documents are tagged PDF/UA-1; the credentials are PDF/A-2b as well.

Each document is rendered from made-up rows (the sample of bench.documents: no database),
then read back: the structure tree, /MarkInfo, /Lang, every figure's alternative text, the
XMP metadata, the output intent and the file identifier, and pdfinfo's word on tagging.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from pdf_tagging import pdfinfo, tagging

import sitegen.pdf
from bench import documents as timing
from shop.config import PROJECT_ROOT
from shop.domain.program import load_program
from sitegen.app import STATIC

QR = f"QR code of {timing.SAMPLE_URL}"
MARK = "CPT mark"
CROP = "Crop marks at the corners of the card"

# document -> (title, the figures' alternative text in reading order, archival)
DOCUMENTS = {
    "certificate": ("Safety certificate: Ana Lopez", [MARK, QR], True),
    "full-certification": (
        "Certified Production Technician full certification: Ana Lopez",
        [MARK, "Seal", "Seal", QR],
        True,
    ),
    "wallet-card": ("CPT wallet card: Ana Lopez", [CROP, MARK, CROP, QR], True),
    "diagnostic-report": (
        "Diagnostic report, Safety, June 1, 2026: Ana Lopez",
        [MARK],
        False,
    ),
    "receipt": ("Receipt for order ord_0123456789abcdef", [MARK], False),
}


@functools.cache
def rendered(name: str) -> bytes:
    """One render of each sample document for the whole module (a render costs 50-100 ms)."""
    makers: dict[str, Callable[[], bytes]] = timing.sample_documents(
        load_program(PROJECT_ROOT / "content" / "program.toml")
    )
    return makers[name]()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_document_has_a_structure_tree_marked_in_english(name: str) -> None:
    found = tagging(rendered(name))
    assert found.struct_tree
    assert found.marked
    assert found.lang == "en"
    assert found.display_doc_title  # a viewer shows the title, not the file name


@pytest.mark.parametrize(("name", "expected"), [(n, d[1]) for n, d in DOCUMENTS.items()])
def test_every_figure_of_each_document_has_its_alternative_text(
    name: str, expected: list[str]
) -> None:
    assert tagging(rendered(name)).figures == expected


@pytest.mark.parametrize(("name", "title"), [(n, d[0]) for n, d in DOCUMENTS.items()])
def test_each_documents_xmp_metadata_names_its_title_and_pdf_ua_1(name: str, title: str) -> None:
    found = tagging(rendered(name))
    assert found.xmp["dc:title"] == title
    assert found.xmp["pdfuaid:part"] == "1"


@pytest.mark.parametrize(("name", "archival"), [(n, d[2]) for n, d in DOCUMENTS.items()])
def test_credentials_are_pdf_a_2b_and_the_other_documents_are_not_claimed_to_be(
    name: str, archival: bool
) -> None:
    found = tagging(rendered(name))
    if archival:
        assert (found.xmp["pdfaid:part"], found.xmp["pdfaid:conformance"]) == ("2", "B")
        assert found.output_intent == "/GTS_PDFA1"
        assert found.has_file_id
        # PDF/A-2 accepts only the XMP schemas it predefines or that the file declares.
        assert found.xmp_declares_pdfuaid
    else:
        assert (found.xmp["pdfaid:part"], found.output_intent) == (None, None)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_pdfinfo_says_each_document_is_tagged(name: str) -> None:
    info = pdfinfo(rendered(name))
    assert info["Tagged"] == "yes"
    assert info["Title"] == DOCUMENTS[name][0]


def test_an_archival_credential_renders_to_the_same_bytes_twice() -> None:
    """PDF/A's file identifier is a hash of the content, not a random one: no clock either."""
    program = load_program(PROJECT_ROOT / "content" / "program.toml")
    make = timing.sample_documents(program)["certificate"]
    assert make() == make()


@pytest.mark.parametrize(
    ("html", "complaint"),
    [
        ('<html lang="en"><img src="static/img/mark.svg"></html>', "no required alt"),
        ('<html lang="en"><img src="static/img/mark.svg" alt=""></html>', "no required alt"),
        ("<html><p>No language</p></html>", 'Missing required "lang"'),
    ],
    ids=["image without alt", "image with empty alt", "document without lang"],
)
def test_a_document_that_cannot_be_tagged_fully_is_refused(html: str, complaint: str) -> None:
    with pytest.raises(sitegen.pdf.DocumentError, match=complaint):
        sitegen.pdf.html_to_pdf(html, STATIC, "https://cpt.example.org")


def test_a_figure_with_alternative_text_and_a_language_renders() -> None:
    html = '<html lang="en"><img src="static/img/mark.svg" alt="CPT mark"></html>'
    pdf = sitegen.pdf.html_to_pdf(html, STATIC, "https://cpt.example.org")
    assert tagging(pdf).figures == ["CPT mark"]
