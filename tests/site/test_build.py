"""The frozen site: its file list, its documents, its feeds, its links, and reproducibility."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from pypdf import PdfReader

from shop.domain.program import load_program
from sitegen.build import BuildError, BuildResult, build

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = load_program(ROOT / "content" / "program.toml")


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_freeze_writes_every_page_document_and_feed(built_site: BuildResult) -> None:
    files = set(tree_digest(built_site.out_dir))
    expected = {
        "index.html", "404.html", "robots.txt", "sitemap.xml", "blog/feed.xml", "_headers",
        "about/index.html", "assessments/index.html", "policies/index.html",
        "credentials/index.html", "employers/index.html", "faq/index.html",
        "organisations/index.html",
        "modules/index.html", "blog/index.html", "search/index.html",
        "documents/kwa-all.pdf", "static/css/site.css", "static/css/print.css",
        "pagefind/pagefind-entry.json", "pagefind/pagefind-ui.js",
    }  # fmt: skip
    for module in PROGRAM.modules:
        expected.add(f"modules/{module.id}/index.html")
        expected.add(f"documents/kwa-{module.id}.pdf")
        expected.update(f"modules/{module.id}/{kwa.slug}/index.html" for kwa in module.kwas)
    assert expected <= files, sorted(expected - files)
    html = {f for f in files if f.endswith(".html")}
    kwa_count = sum(len(m.kwas) for m in PROGRAM.modules)
    posts = len(list((ROOT / "content" / "blog").glob("*.md")))
    # home, 7 pages, modules index, modules, KWAs, blog index, posts, search, 404
    assert len(html) == 1 + 7 + 1 + len(PROGRAM.modules) + kwa_count + 1 + posts + 1 + 1
    assert built_site.pages == len(html) - 1  # every page but 404.html


def test_two_builds_of_the_same_content_are_byte_identical(
    built_site: BuildResult, tmp_path: Path
) -> None:
    again = build(ROOT / "content", tmp_path / "again")  # no cache: every document rendered anew
    assert tree_digest(again.out_dir) == tree_digest(built_site.out_dir)


@pytest.mark.parametrize("module", PROGRAM.modules, ids=lambda m: m.id)
def test_each_module_document_is_a_pdf_holding_every_kwa_title(
    built_site: BuildResult, module: object
) -> None:
    from shop.domain.program import Module

    assert isinstance(module, Module)
    path = built_site.out_dir / "documents" / f"kwa-{module.id}.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(path)
    text = " ".join((page.extract_text() or "") for page in reader.pages)
    flat = " ".join(text.split())
    assert "Certified Production Technician" in flat
    assert module.name in flat
    for kwa in module.kwas:
        assert " ".join(kwa.title.split()) in flat, kwa.title
    pages = len(reader.pages)
    assert pages >= 2  # a title page, then the activities
    assert f"Page 2 of {pages}" in flat


def test_the_all_modules_document_holds_every_module(built_site: BuildResult) -> None:
    reader = PdfReader(built_site.out_dir / "documents" / "kwa-all.pdf")
    flat = " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())
    for module in PROGRAM.modules:
        assert module.name in flat
        assert " ".join(module.kwas[-1].title.split()) in flat
    outline_titles = {item.title for item in reader.outline if not isinstance(item, list)}
    assert {m.name for m in PROGRAM.modules} <= outline_titles


def test_the_atom_feed_lists_every_post_newest_first(built_site: BuildResult) -> None:
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    feed = ElementTree.parse(built_site.out_dir / "blog" / "feed.xml").getroot()
    entries = feed.findall("atom:entry", ns)
    assert len(entries) == len(list((ROOT / "content" / "blog").glob("*.md")))
    published = [e.findtext("atom:published", namespaces=ns) or "" for e in entries]
    assert published == sorted(published, reverse=True)
    for entry in entries:
        link = entry.find("atom:link", ns)
        assert link is not None
        slug_page = link.get("href", "").removeprefix("https://cpt.example.org/")
        assert (built_site.out_dir / slug_page / "index.html").is_file()


def test_the_sitemap_lists_every_page_and_robots_points_to_it(built_site: BuildResult) -> None:
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ElementTree.parse(built_site.out_dir / "sitemap.xml").getroot()
    locations = [loc.text or "" for loc in root.findall("sm:url/sm:loc", ns)]
    assert len(locations) == built_site.pages
    for location in locations:
        path = location.removeprefix("https://cpt.example.org/")
        assert (built_site.out_dir / path / "index.html").is_file(), location
    robots = (built_site.out_dir / "robots.txt").read_text()
    assert "Sitemap: https://cpt.example.org/sitemap.xml" in robots


def test_no_page_carries_the_build_time(built_site: BuildResult) -> None:
    # The build date would differ between two builds; nothing of today's date may appear.
    import datetime

    today = datetime.date.today()
    for page in built_site.out_dir.rglob("*.html"):
        assert today.isoformat() not in page.read_text(), page


def test_a_broken_link_in_markdown_fails_the_build_and_names_the_file(
    content_copy: Path, tmp_path: Path, document_cache: Path
) -> None:
    faq = content_copy / "faq.md"
    faq.write_text(faq.read_text() + "\nSee [the old page](/no-such-page/).\n")
    with pytest.raises(BuildError) as caught:
        build(content_copy, tmp_path / "out", search=False, cache_dir=document_cache)
    assert f"{faq} (page /faq/): link '/no-such-page/' leads to no page" in str(caught.value)


@pytest.mark.parametrize(
    "link",
    [
        "/modules/safety/no-such-kwa/",
        "../no-such-page/",
        "/documents/kwa-welding.pdf",
        "https://cpt.example.org/nowhere/",
        "/modules/safety/#no-such-heading",
    ],
)
def test_every_kind_of_broken_internal_link_fails_the_build(
    content_copy: Path, tmp_path: Path, document_cache: Path, link: str
) -> None:
    about = content_copy / "about.md"
    about.write_text(about.read_text() + f"\n[a link]({link})\n")
    with pytest.raises(BuildError, match=r"about\.md"):
        build(content_copy, tmp_path / "out", search=False, cache_dir=document_cache)


def test_links_to_the_shop_and_other_sites_are_not_checked(
    content_copy: Path, tmp_path: Path, document_cache: Path
) -> None:
    about = content_copy / "about.md"
    about.write_text(
        about.read_text()
        + "\n[verify](/shop/verify) [ANSI](https://www.ansi.org/) [mail](mailto:a@b.c)\n"
    )
    build(content_copy, tmp_path / "out", search=False, cache_dir=document_cache)


def test_a_broken_link_in_a_template_names_the_template(
    content_copy: Path, tmp_path: Path, document_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import app as site_app

    templates = tmp_path / "templates"
    import shutil

    shutil.copytree(site_app.TEMPLATES, templates)
    post = templates / "post.html"
    post.write_text(
        post.read_text().replace("</article>", '<a href="/archive/">Archive</a></article>')
    )
    monkeypatch.setattr(site_app, "TEMPLATES", templates)
    with pytest.raises(BuildError) as caught:
        build(content_copy, tmp_path / "out", search=False, cache_dir=document_cache)
    assert "template post.html (page /blog/" in str(caught.value)
    assert "'/archive/' leads to no page" in str(caught.value)


def test_a_bad_content_file_stops_the_build_before_anything_is_written(
    content_copy: Path, tmp_path: Path, document_cache: Path
) -> None:
    from sitegen.content import ContentError

    (content_copy / "faq.md").write_text("---\ntitle: FAQ\n---\n")
    with pytest.raises(ContentError, match=r"faq\.md:1: missing field 'description'"):
        build(content_copy, tmp_path / "out")
    assert not (tmp_path / "out").exists()
