"""What a content folder builds into: every output file, the view that renders it, its context.

Two kinds: the program site (program.toml and the page kinds of content.py, rendered by the
views of app.py, so the build and the Flask app cannot disagree), and a plain site (any folder
of Markdown pages under pages/, such as the benchmark corpus).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import TEMPLATES
from .content import PROGRAM_FILE, PlainPage, Source, is_plain_site, load_plain_site, load_site
from .render import Body, View


class RouteError(Exception):
    """The routes and the list of URLs disagree: a route without pages, or a URL without a page."""


@dataclass(frozen=True, slots=True)
class Output:
    """One file rendered from a template: where it goes, its address and the view that makes it."""

    file: str  # under the output folder: "modules/safety/index.html"
    url: str
    endpoint: str
    params: Mapping[str, str]
    # Shows other pages' front matter (a list, a menu, a feed): their titles are part of its key.
    shared: bool


@dataclass(frozen=True, slots=True)
class Request:
    """The one thing our templates read from Flask's request: the page's path."""

    path: str


class SiteKind(Protocol):
    """A loaded content folder, as the build needs it."""

    @property
    def templates(self) -> Path: ...

    @property
    def static(self) -> Path | None: ...  # copied to /static/

    @property
    def site_url(self) -> str: ...  # links to this host are checked like site paths

    @property
    def config(self) -> bytes: ...  # what any page may show besides Markdown: part of every key

    @property
    def sources(self) -> Sequence[Source]: ...  # every Markdown file

    @property
    def pages(self) -> int: ...

    @property
    def documents(self) -> int: ...

    def outputs(self) -> list[Output]: ...

    def view(self, output: Output, body: Body) -> View: ...

    def globals(self) -> dict[str, Any]: ...  # what every template sees, imported macros too

    def context(self, output: Output) -> dict[str, Any]: ...

    def body_context(self) -> dict[str, Any] | None: ...

    def source_of(self, url: str) -> Source | None: ...


def load(root: Path, templates: Path | None = None) -> SiteKind:
    """Load and validate `root` as a plain site or the program site; raise ContentError."""
    if is_plain_site(root):
        return PlainSite(root, templates or TEMPLATES)
    return ProgramSite(root, templates)


def file_of(url: str) -> str:
    """Where a URL's file goes, as Frozen-Flask puts it: a folder URL gets an index.html."""
    path = url.lstrip("/")
    return path + "index.html" if url.endswith("/") else path


class ProgramSite:
    """The program site: the views of app.py over the content that content.py validates."""

    def __init__(self, root: Path, templates: Path | None) -> None:
        from . import app  # Flask is imported for the program site only

        self._app = app
        self.site = load_site(root)
        # Read at call time, so a caller (a test) may point the module at other templates.
        self.templates = templates or app.TEMPLATES
        self.static = app.STATIC
        self.site_url = self.site.program.site_url
        self.sources = [
            *(p.source for p in self.site.pages.values()),
            *(m.source for m in self.site.modules.values()),
            *(k.source for k in self.site.kwas.values()),
            *(p.source for p in self.site.posts),
        ]
        self.pages = len(app.page_urls(self.site))
        self.documents = len(app.document_urls(self.site))
        # The documents' look comes from the static files and WeasyPrint, not only the templates.
        from importlib.metadata import version

        digest = hashlib.sha256(version("weasyprint").encode())
        for path in sorted(self.static.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(self.static).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
        self.config = (root / PROGRAM_FILE).read_bytes() + digest.digest()
        # The app's own URL map: url_for() builds the very URLs the Flask app serves.
        self._urls = app.create_app({"CONTENT_DIR": root}).url_map.bind("localhost")
        self._context = {"site": self.site, "program": self.site.program, "site_url": self.site_url}

    def outputs(self) -> list[Output]:
        from werkzeug.exceptions import HTTPException

        app = self._app
        urls = [*app.page_urls(self.site), *app.document_urls(self.site)]
        urls += app.card_urls(self.site)
        urls += [self.url_for(endpoint) for endpoint in app.FILE_ENDPOINTS]
        result = []
        for url in urls:
            try:
                endpoint, params = self._urls.match(url)
            except HTTPException as error:
                raise RouteError(f"no route serves {url} ({error.code})") from None
            result.append(Output(file_of(url), url, str(endpoint), params, shared=True))
        # As Frozen-Flask's missing URL generator warning: a route nothing is built for.
        missing = sorted(set(app.ROUTES) - {o.endpoint for o in result})
        if missing:
            raise RouteError(f"nothing is built for the route(s) {', '.join(missing)}")
        return result

    def view(self, output: Output, body: Body) -> View:
        from werkzeug.exceptions import HTTPException

        try:
            return self._app.ROUTES[output.endpoint][1](self.site, body, **output.params)
        except HTTPException as error:
            raise RouteError(f"{output.url} answers {error.code}") from None

    def globals(self) -> dict[str, Any]:
        # As in Flask, where macros imported without context still build URLs.
        return {"url_for": self.url_for}

    def context(self, output: Output) -> dict[str, Any]:
        # What the app's context processor and Flask's request give a page's template.
        return {
            **self._context,
            "canonical_url": self.site_url + output.url,
            "request": Request(output.url),
        }

    def body_context(self) -> dict[str, Any] | None:
        return {"program": self.site.program}

    def source_of(self, url: str) -> Source | None:
        return self._app.source_of(self.site, url)

    def url_for(self, endpoint: str, **values: Any) -> str:
        """Flask's url_for for a page being built: a site path, or werkzeug's BuildError."""
        return self._urls.build(endpoint, values)


class PlainSite:
    """A plain site: each page with the plain/page.html template, and a list of all of them."""

    static = None
    site_url = ""
    config = b""
    documents = 0

    def __init__(self, root: Path, templates: Path) -> None:
        self.site = load_plain_site(root)
        self.templates = templates
        self.sources = [p.source for p in self.site.pages]
        self.pages = len(self.site.pages) + 1
        self._by_url: dict[str, PlainPage] = {p.url: p for p in self.site.pages}

    def outputs(self) -> list[Output]:
        pages = [Output(file_of(p.url), p.url, "page", {}, shared=False) for p in self.site.pages]
        return [Output("index.html", "/", "index", {}, shared=True), *pages]

    def view(self, output: Output, body: Body) -> View:
        if output.endpoint == "index":
            return View("plain/index.html", {"pages": self.site.pages})
        # A page sees only itself, so its key needs only its own file (see Output.shared).
        page = self._by_url[output.url]
        return View("plain/page.html", {"page": page, "body": body(page.source)})

    def globals(self) -> dict[str, Any]:
        return {}

    def context(self, output: Output) -> dict[str, Any]:
        return {"request": Request(output.url)}

    def body_context(self) -> dict[str, Any] | None:
        return None  # a plain page's Markdown is not a template: "{{" is text

    def source_of(self, url: str) -> Source | None:
        page = self._by_url.get(url)
        return page.source if page else None
