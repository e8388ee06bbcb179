"""The Atom feed as feed readers take it, and the sitemap's lastmod dates."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient

from sitegen.app import create_app
from sitegen.build import BuildResult
from sitegen.content import ContentError, load_site
from sitegen.render import absolute_links

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
SITEMAP = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
POST = "https://cpt.example.org/blog/a-post/"


# -- the feed ------------------------------------------------------------------------------------


def test_the_feed_says_its_language(built_site: BuildResult) -> None:
    feed = ElementTree.parse(built_site.out_dir / "blog" / "feed.xml").getroot()
    assert feed.get(XML_LANG) == "en"


def test_every_link_and_image_in_the_feeds_entries_is_absolute(built_site: BuildResult) -> None:
    feed = ElementTree.parse(built_site.out_dir / "blog" / "feed.xml").getroot()
    contents = [c.text or "" for c in feed.findall("atom:entry/atom:content", ATOM)]
    targets = [t for html in contents for t in re.findall(r'(?:href|src)="([^"]*)"', html)]
    assert targets, "the posts link to the site: the check needs links to check"
    assert [t for t in targets if not re.match(r"https://|mailto:", t)] == []
    assert "https://cpt.example.org/documents/kwa-all.pdf" in targets  # was /documents/...


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<a href="/modules/">m</a>', '<a href="https://cpt.example.org/modules/">m</a>'),
        ('<a href="#note">n</a>', f'<a href="{POST}#note">n</a>'),
        ('<a href="../faq/">f</a>', '<a href="https://cpt.example.org/blog/faq/">f</a>'),
        ('<a href="other/">o</a>', f'<a href="{POST}other/">o</a>'),
        ('<img src="/img/a.svg" alt="A">', '<img src="https://cpt.example.org/img/a.svg" alt="A">'),
        ('<a href="https://example.com/x">x</a>', '<a href="https://example.com/x">x</a>'),
        ('<a href="mailto:team@example.org">t</a>', '<a href="mailto:team@example.org">t</a>'),
        ("<p>No link, /modules/ in text</p>", "<p>No link, /modules/ in text</p>"),
    ],
    ids=["root path", "fragment", "parent", "relative", "image", "absolute", "mailto", "text"],
)  # fmt: skip
def test_a_relative_link_in_an_entry_resolves_against_its_posts_address(
    html: str, expected: str
) -> None:
    assert absolute_links(html, POST) == expected


# -- the sitemap ---------------------------------------------------------------------------------


def lastmods(client: FlaskClient) -> dict[str, str | None]:
    root = ElementTree.fromstring(client.get("/sitemap.xml").data)
    return {
        (url.findtext("sm:loc", namespaces=SITEMAP) or "").removeprefix(
            "https://cpt.example.org"
        ): (url.findtext("sm:lastmod", namespaces=SITEMAP))
        for url in root.findall("sm:url", SITEMAP)
    }


def add_front_matter(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("---\n", f"---\n{line}\n", 1), encoding="utf-8")


def test_every_page_of_the_built_sitemap_has_a_lastmod(built_site: BuildResult) -> None:
    root = ElementTree.parse(built_site.out_dir / "sitemap.xml").getroot()
    dates = [
        url.findtext("sm:lastmod", namespaces=SITEMAP) for url in root.findall("sm:url", SITEMAP)
    ]
    assert len(dates) == built_site.pages
    assert all(d and dt.date.fromisoformat(d) for d in dates), dates


def test_the_sitemaps_dates_come_from_the_content(content_copy: Path) -> None:
    """A post: its date; the blog: its newest post's; a page with `updated`: that date; a
    page without: the newest date in the content (here the `updated` of the about page)."""
    add_front_matter(content_copy / "about.md", "updated: 2026-11-20")
    add_front_matter(
        content_copy / "kwa" / "safety" / "unsafe-conditions.md", "updated: 2026-10-01"
    )
    add_front_matter(content_copy / "modules" / "green.md", "updated: 2026-09-02")
    site = load_site(content_copy)
    posts = {f"/blog/{p.slug}/": p.date.isoformat() for p in site.posts}
    found = lastmods(create_app({"CONTENT_DIR": content_copy}).test_client())

    assert found["/about/"] == "2026-11-20"
    assert found["/modules/safety/unsafe-conditions/"] == "2026-10-01"
    assert found["/modules/green/"] == "2026-09-02"
    assert {url: found[url] for url in posts} == posts
    assert found["/blog/"] == max(posts.values())
    for undated in ("/", "/faq/", "/modules/", "/modules/safety/", "/search/"):
        assert found[undated] == "2026-11-20", undated


def test_without_updated_fields_an_undated_page_gets_the_newest_posts_date(
    built_site: BuildResult,
) -> None:
    root = ElementTree.parse(built_site.out_dir / "sitemap.xml").getroot()
    by_url = {
        url.findtext("sm:loc", namespaces=SITEMAP): url.findtext("sm:lastmod", namespaces=SITEMAP)
        for url in root.findall("sm:url", SITEMAP)
    }
    newest = max(p.date for p in load_site(Path(__file__).parents[2] / "content").posts)
    assert by_url["https://cpt.example.org/policies/"] == newest.isoformat()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yesterday", "field 'updated': expected a date written YYYY-MM-DD, got 'yesterday'"),
        ("2026-02-30", "field 'updated': not a valid value (day is out of range for month)"),
    ],
)
def test_a_bad_updated_date_names_its_file_and_line(
    content_copy: Path, value: str, expected: str
) -> None:
    page = content_copy / "faq.md"
    add_front_matter(page, f"updated: {value}")
    with pytest.raises(ContentError) as caught:
        load_site(content_copy)
    assert any(f"{page}:2: " in str(p) and expected in str(p) for p in caught.value.problems)
