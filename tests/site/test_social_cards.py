"""Each page's Open Graph image: a 1200x630 PNG the build draws with the page's title."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sitegen.app import card_words
from sitegen.build import BuildResult
from sitegen.cards import CardError, card_png
from sitegen.content import load_site

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE), data[:16]
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


def og_image(html: str) -> str:
    found = re.search(r'<meta property="og:image" content="([^"]+)">', html)
    assert found, "no og:image"
    return found.group(1)


def test_every_built_page_names_a_card_the_build_wrote(built_site: BuildResult) -> None:
    out = built_site.out_dir
    pages = sorted(p for p in out.rglob("index.html") if "pagefind" not in p.parts)
    assert len(pages) == built_site.pages
    cards = set()
    for page in pages:
        url = og_image(page.read_text(encoding="utf-8"))
        path = url.removeprefix("https://cpt.example.org/")
        assert path != url and path.startswith("social/"), url
        assert png_size((out / path).read_bytes()) == (1200, 630), path
        cards.add(path)
    assert len(cards) == len(pages)  # a card of its own for each page
    assert og_image((out / "404.html").read_text(encoding="utf-8")).endswith("/social/index.png")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/", ("CPT", "Certified Production Technician")),
        ("/modules/", ("CPT", "The five modules")),
        ("/modules/green/", ("CPT module", "Green Production")),
        (
            "/modules/quality/blueprint-reading/",
            ("Quality Practices & Measurement", "Identify fundamentals of blueprint reading"),
        ),
        ("/policies/", ("CPT", "Policies")),
        ("/blog/", ("CPT", "News")),
    ],
)
def test_a_card_shows_the_pages_title_under_its_module_or_kind(
    url: str, words: tuple[str, str]
) -> None:
    assert card_words(load_site(ROOT / "content"), url) == words


def test_a_renamed_module_draws_another_card(client: FlaskClient, content_copy: Path) -> None:
    before = client.get("/social/modules/green.png")
    assert before.status_code == 200 and before.mimetype == "image/png"
    program = content_copy / "program.toml"
    text = program.read_text(encoding="utf-8")
    program.write_text(text.replace('name = "Green Production"', 'name = "Green Work"'), "utf-8")
    after = client.get("/social/modules/green.png")
    assert png_size(after.data) == (1200, 630)
    assert after.data != before.data


def test_a_page_that_does_not_exist_has_no_card(client: FlaskClient) -> None:
    assert client.get("/social/modules/welding.png").status_code == 404


@pytest.mark.parametrize("text", ["", "CPT\nTitle only", "CPT\n\nCPT site"])
def test_a_card_without_its_three_lines_is_refused_with_what_it_needs(text: str) -> None:
    with pytest.raises(CardError, match="a kicker, a title and a site name"):
        card_png(text)


def test_the_same_words_draw_the_same_bytes() -> None:
    text = "CPT module\nSafety\nCertified Production Technician (CPT)"
    assert card_png(text) == card_png(text)


def test_a_build_without_the_cards_font_fails_naming_the_font(
    content_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import cards
    from sitegen.build import BuildError, build

    monkeypatch.setattr(cards, "FONTS", tmp_path / "no-fonts")
    cards._font.cache_clear()
    try:
        with pytest.raises(BuildError, match=r"the social cards need the font .*no-fonts"):
            build(content_copy, tmp_path / "out", search=False)
    finally:
        cards._font.cache_clear()
