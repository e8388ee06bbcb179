"""The site's KWA documents are tagged PDF/UA-1, read back from the real build."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdf_tagging import pdfinfo, tagging

from shop.domain.program import load_program
from sitegen.build import BuildResult

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = load_program(ROOT / "content" / "program.toml")
DOCUMENTS = [f"kwa-{module.id}" for module in PROGRAM.modules] + ["kwa-all"]


@pytest.fixture(params=DOCUMENTS)
def document(request: pytest.FixtureRequest, built_site: BuildResult) -> tuple[str, bytes]:
    name: str = request.param
    return name, (built_site.out_dir / "documents" / f"{name}.pdf").read_bytes()


def test_each_kwa_document_is_tagged_in_english_with_its_mark_described(
    document: tuple[str, bytes],
) -> None:
    found = tagging(document[1])
    assert (found.struct_tree, found.marked, found.display_doc_title) == (True, True, True)
    assert found.lang == "en"
    assert found.figures == ["CPT mark"]


def test_each_kwa_documents_xmp_names_its_title_and_pdf_ua_1(document: tuple[str, bytes]) -> None:
    name, pdf = document
    found = tagging(pdf)
    module = next((m for m in PROGRAM.modules if f"kwa-{m.id}" == name), None)
    assert found.xmp["dc:title"] == (
        f"CPT Key Work Activities: {module.name if module else 'All modules'}"
    )
    assert found.xmp["pdfuaid:part"] == "1"
    assert found.xmp["pdfaid:part"] is None  # not claimed: the site's documents are not archival


def test_pdfinfo_says_each_kwa_document_is_tagged(document: tuple[str, bytes]) -> None:
    assert pdfinfo(document[1])["Tagged"] == "yes"


def test_a_cached_document_rendered_with_other_pdf_options_is_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache's key holds the options WeasyPrint writes with: a cache filled before the
    documents were tagged (or under another variant) never hands back its old bytes."""
    import sitegen.pdf
    from sitegen.app import STATIC

    renders: list[str] = []

    def render(variant: str) -> bytes:
        renders.append(variant)
        return variant.encode()

    folder = tmp_path / "cache"
    assert sitegen.pdf.PdfCache(folder, STATIC).get_or_render("<p>", lambda: render("ua-1"))
    assert sitegen.pdf.PdfCache(folder, STATIC).get_or_render("<p>", lambda: render("x")) == b"ua-1"
    monkeypatch.setattr(sitegen.pdf, "ACCESSIBLE", {"pdf_variant": "pdf/ua-2"})
    again = sitegen.pdf.PdfCache(folder, STATIC).get_or_render("<p>", lambda: render("ua-2"))
    assert (again, renders) == (b"ua-2", ["ua-1", "ua-2"])
