"""Check every internal link of a built site: a link to nothing fails the build."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urljoin, urlsplit

# Paths served by the shop, not by the static build.
UNCHECKED_PREFIXES = ("/shop/",)


@dataclass(frozen=True, slots=True)
class BrokenLink:
    page: str  # the URL of the page holding the link
    link: str  # the link as written
    reason: str


@dataclass
class _Page:
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class _Collector(HTMLParser):
    LINK_ATTRIBUTES: ClassVar[dict[str, str]] = {
        "a": "href", "link": "href", "img": "src",
        "script": "src", "source": "src", "iframe": "src",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = _Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.page.ids.add(values["id"] or "")
        attribute = self.LINK_ATTRIBUTES.get(tag)
        if attribute and values.get(attribute):
            self.page.links.append(values[attribute] or "")
        if tag == "meta" and values.get("property") == "og:url" and values.get("content"):
            self.page.links.append(values["content"] or "")


def url_of(path: Path, root: Path) -> str:
    relative = path.relative_to(root).as_posix()
    if relative == "index.html":
        return "/"
    if relative.endswith("/index.html"):
        return "/" + relative.removesuffix("index.html")
    return "/" + relative


def check_links(root: Path, site_url: str, unchecked: Iterable[str] = ()) -> list[BrokenLink]:
    """Every link in every HTML file under `root` that leads to no file (or no such #id).

    Links to paths under UNCHECKED_PREFIXES and `unchecked` are not followed.
    """
    host = urlsplit(site_url).netloc
    skipped = UNCHECKED_PREFIXES + tuple(unchecked)
    pages: dict[str, _Page] = {}
    for path in sorted(root.rglob("*.html")):
        url = url_of(path, root)
        collector = _Collector()
        collector.feed(path.read_text(encoding="utf-8"))
        pages[url] = collector.page
    broken: list[BrokenLink] = []
    for url, page in pages.items():
        for link in page.links:
            reason = _problem(root, pages, url, link, host, skipped)
            if reason:
                broken.append(BrokenLink(url, link, reason))
    return broken


def _problem(
    root: Path,
    pages: dict[str, _Page],
    page_url: str,
    link: str,
    host: str,
    skipped: tuple[str, ...],
) -> str:
    target = urlsplit(urljoin(page_url, link))
    if target.scheme not in ("", "http", "https") or (target.netloc and target.netloc != host):
        return ""  # mailto:, tel:, another site
    path = unquote(target.path) or "/"
    if path.startswith(skipped):
        return ""
    file = root / path.lstrip("/")
    if path.endswith("/"):
        file = file / "index.html"
    if not file.is_file() or not file.resolve().is_relative_to(root.resolve()):
        return "leads to no page"
    if target.fragment and file.suffix == ".html":
        target_page = pages.get(path)
        if target_page is not None and target.fragment not in target_page.ids:
            return f"leads to {path}, which has no #{target.fragment}"
    return ""
