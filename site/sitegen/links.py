"""Check every internal link of a built site: a link to nothing fails the build."""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
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


# The fast reading of our own pages: what _Collector finds, without a Python-level HTML parser.
# Our HTML is well formed (nh3 and Jinja quote and escape every attribute), which is what makes a
# regular expression enough; a test holds it to _Collector's answer on every page we build.
# Attributes are read as runs of plain characters between quoted values ("unrolled"), which the
# regular expression engine scans in one go and can never backtrack into exponentially.
_ATTRIBUTES = r"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*"""
# Only tags with attributes (a space or "/" after the name) can hold a link or an id: <p>, <li>
# and closing tags are passed over by the regular expression engine itself.
_TAG = re.compile(rf"<([a-zA-Z][^\s/>]*)([\s/]{_ATTRIBUTES})>")
_ATTRIBUTE = re.compile(r"""([^\s/>"'=][^\s/>=]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]*))?""")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_RAW_TEXT = re.compile(rf"(<(script|style)\b{_ATTRIBUTES}>).*?(</\2\s*>)", re.S | re.I)


def collect(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The links and the ids of one HTML page, as _Collector reads them."""
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    if "<script" in text or "<style" in text:
        text = _RAW_TEXT.sub(r"\1\3", text)  # their text is not markup
    links: list[str] = []
    ids: list[str] = []
    link_attributes = _Collector.LINK_ATTRIBUTES
    for name, raw in _TAG.findall(text):
        tag = name if name.islower() else name.lower()
        attribute = link_attributes.get(tag)
        if attribute is None and tag != "meta" and "id" not in raw.lower():
            continue  # nothing to read: most tags end here
        values = _attributes(raw)
        if values.get("id"):
            ids.append(values["id"])
        if attribute and values.get(attribute):
            links.append(values[attribute])
        if tag == "meta" and values.get("property") == "og:url" and values.get("content"):
            links.append(values["content"])
    return tuple(links), tuple(dict.fromkeys(ids))


def _attributes(raw: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in _ATTRIBUTE.findall(raw):
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        values[name.lower()] = html.unescape(value) if "&" in value else value
    return values


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
    pages: dict[str, tuple[Sequence[str], Collection[str]]] = {}
    for path in sorted(root.rglob("*.html")):
        collector = _Collector()
        collector.feed(path.read_text(encoding="utf-8"))
        pages[url_of(path, root)] = (collector.page.links, collector.page.ids)
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    return check(pages, files, site_url, unchecked)


def check(
    pages: Mapping[str, tuple[Sequence[str], Collection[str]]],
    files: Collection[str],
    site_url: str,
    unchecked: Iterable[str] = (),
) -> list[BrokenLink]:
    """The broken links of a site given as {page URL: (links, ids)} and its files' paths.

    `files` are every file of the built site, relative to its root ("blog/index.html"), so
    the check reads nothing from disk: it takes milliseconds for thousands of pages.
    """
    host = urlsplit(site_url).netloc
    skipped = UNCHECKED_PREFIXES + tuple(unchecked)
    ids = {url: frozenset(page_ids) for url, (_, page_ids) in pages.items()}
    known: dict[object, str] = {}  # most links are site paths, the same on every page
    broken: list[BrokenLink] = []
    for url, (links, _) in pages.items():
        for link in links:
            key: object = link if link.startswith("/") and link[1:2] != "/" else (url, link)
            reason = known.get(key)
            if reason is None:
                reason = known[key] = _problem(files, ids, url, link, host, skipped)
            if reason:
                broken.append(BrokenLink(url, link, reason))
    return broken


def _problem(
    files: Collection[str],
    ids: Mapping[str, Collection[str]],
    page_url: str,
    link: str,
    host: str,
    skipped: tuple[str, ...],
) -> str:
    scheme, netloc, path, fragment = _split(page_url, link)
    if scheme not in ("", "http", "https") or (netloc and netloc != host):
        return ""  # mailto:, tel:, another site
    path = unquote(path) or "/"
    if path.startswith(skipped):
        return ""
    file = path.lstrip("/")
    if path.endswith("/"):
        file += "index.html"
    file = posixpath.normpath(file) if file else "."
    if file.startswith("../") or file not in files:
        return "leads to no page"
    if fragment and file.endswith(".html"):
        target_ids = ids.get(path)
        if target_ids is not None and fragment not in target_ids:
            return f"leads to {path}, which has no #{fragment}"
    return ""


# A site path without dot segments or spaces ("/a/b/?q#c"): urljoin() would return it as it is.
_SITE_PATH = re.compile(r"/(?!/)[^\s#?]*(?:\?[^\s#]*)?(?:#\S*)?")


def _split(page_url: str, link: str) -> tuple[str, str, str, str]:
    """Scheme, host, path and fragment of a link, as resolved from its page."""
    if _SITE_PATH.fullmatch(link) and "/." not in link.partition("#")[0]:
        before, _, fragment = link.partition("#")  # most links: no URL parsing needed
        return "", "", before.partition("?")[0], fragment
    target = urlsplit(urljoin(page_url, link))
    return target.scheme, target.netloc, target.path, target.fragment
