"""The site as a Flask app: every page is a route, frozen to files by `sitegen.build`."""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, render_template, request
from markupsafe import Markup

from .content import Site, Source, load_site
from .pdf import PdfCache, html_to_pdf
from .render import BodyRenderer, Rendered, money, ordinal, prefix_ids

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # site/
TEMPLATES = PACKAGE_ROOT / "templates"
STATIC = PACKAGE_ROOT / "static"
DEFAULT_CONTENT = PACKAGE_ROOT.parent / "content"


@dataclass
class SiteState:
    """The loaded content and its rendered bodies; reloaded on change when `live`."""

    content_dir: Path
    live: bool
    _site: Site | None = None
    _stamp: tuple[int, int] | None = None
    _bodies: dict[Path, Rendered] = field(default_factory=dict)
    _renderer: BodyRenderer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def site(self) -> Site:
        with self._lock:
            if self._site is None or (self.live and self._stamp != self._fingerprint()):
                self._stamp = self._fingerprint()
                self._site = load_site(self.content_dir)
                self._bodies.clear()
                self._renderer = BodyRenderer({"program": self._site.program})
            return self._site

    def body(self, source: Source) -> Rendered:
        site = self.site  # reloads first when content changed
        del site
        with self._lock:
            rendered = self._bodies.get(source.path)
            if rendered is None:
                assert self._renderer is not None
                rendered = self._bodies[source.path] = self._renderer.render(source)
            return rendered

    @property
    def rendered_bodies(self) -> dict[Path, Rendered]:
        return dict(self._bodies)

    def _fingerprint(self) -> tuple[int, int]:
        """Newest change time and file count: they move when a file is edited, added or removed."""
        newest, count = 0, 0
        for entry in _walk(self.content_dir):
            newest = max(newest, entry.stat().st_mtime_ns)
            count += 1
        return newest, count


def _walk(folder: Path) -> Iterator[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                yield from _walk(Path(entry.path))
            else:
                yield entry


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The site app; config keys: CONTENT_DIR, LIVE_RELOAD, SITE_URL, SEARCH_DIR, PDF_CACHE_DIR."""
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES),
        static_folder=str(STATIC),
        static_url_path="/static",
    )
    app.config.update(
        CONTENT_DIR=DEFAULT_CONTENT, LIVE_RELOAD=False, SEARCH_DIR=None, PDF_CACHE_DIR=None
    )
    app.config.update(config or {})
    app.jinja_env.undefined = __import__("jinja2").StrictUndefined
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["ordinal"] = ordinal
    app.jinja_env.filters["prefix_ids"] = prefix_ids
    state = SiteState(Path(app.config["CONTENT_DIR"]), bool(app.config["LIVE_RELOAD"]))
    app.extensions["sitegen"] = state
    cache_dir = app.config["PDF_CACHE_DIR"]
    app.extensions["sitegen.pdf_cache"] = PdfCache(Path(cache_dir) if cache_dir else None, STATIC)
    app.context_processor(_template_globals)
    _register_routes(app)
    return app


def state() -> SiteState:
    result: SiteState = current_app.extensions["sitegen"]
    return result


def _template_globals() -> dict[str, Any]:
    site = state().site
    base = current_app.config.get("SITE_URL") or site.program.site_url
    return {
        "site": site,
        "program": site.program,
        "canonical_url": base + request.path,
        "site_url": base,
    }


def _body(source: Source) -> Markup:
    return Markup(state().body(source).html)


def _register_routes(app: Flask) -> None:
    @app.route("/")
    def home() -> str:
        page = state().site.pages["index"]
        return render_template("home.html", page=page, body=_body(page.source))

    @app.route("/<name>/")
    def page(name: str) -> str:
        found = state().site.pages.get(name)
        if found is None or name == "index":
            abort(404)
        return render_template("page.html", page=found, body=_body(found.source))

    @app.route("/modules/")
    def modules() -> str:
        return render_template("modules.html")

    @app.route("/modules/<module_id>/")
    def module(module_id: str) -> str:
        site = state().site
        found = site.modules.get(module_id)
        if found is None:
            abort(404)
        return render_template(
            "module.html", page=found, body=_body(found.source), kwas=site.kwas_of(module_id)
        )

    @app.route("/modules/<module_id>/<kwa_slug>/")
    def kwa(module_id: str, kwa_slug: str) -> str:
        site = state().site
        found = site.kwas.get((module_id, kwa_slug))
        if found is None:
            abort(404)
        siblings = site.kwas_of(module_id)
        index = siblings.index(found)
        return render_template(
            "kwa.html",
            page=found,
            body=_body(found.source),
            previous=siblings[index - 1] if index > 0 else None,
            next=siblings[index + 1] if index + 1 < len(siblings) else None,
            number=index + 1,
        )

    @app.route("/blog/")
    def blog() -> str:
        return render_template("blog.html")

    @app.route("/blog/<slug>/")
    def post(slug: str) -> str:
        found = next((p for p in state().site.posts if p.slug == slug), None)
        if found is None:
            abort(404)
        return render_template("post.html", page=found, body=_body(found.source))

    @app.route("/blog/feed.xml")
    def feed() -> Response:
        site = state().site
        bodies = {p.slug: _body(p.source) for p in site.posts}
        return _typed(render_template("feed.xml", bodies=bodies), "feed.xml")

    @app.route("/documents/kwa-<module_id>.pdf")
    def module_document(module_id: str) -> Response:
        site = state().site
        if module_id != "all" and module_id not in site.modules:
            abort(404)
        chosen = list(site.modules.values()) if module_id == "all" else [site.modules[module_id]]
        sections = [(m, [(k, _body(k.source)) for k in site.kwas_of(m.module.id)]) for m in chosen]
        title = "All modules" if module_id == "all" else chosen[0].title
        html = render_template("documents/kwa.html", title=title, sections=sections)
        base_url = current_app.config.get("SITE_URL") or site.program.site_url
        cache: PdfCache = current_app.extensions["sitegen.pdf_cache"]
        pdf = cache.get_or_render(html, lambda: html_to_pdf(html, STATIC, base_url))
        return Response(pdf, mimetype="application/pdf")

    @app.route("/search/")
    def search() -> str:
        return render_template("search.html")

    @app.route("/sitemap.xml")
    def sitemap() -> Response:
        return _typed(render_template("sitemap.xml", urls=page_urls(state().site)), "sitemap.xml")

    @app.route("/robots.txt")
    def robots() -> Response:
        return _typed(render_template("robots.txt"), "robots.txt")

    @app.route("/404.html")
    def not_found_page() -> str:
        return render_template("404.html")

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return render_template("404.html"), 404

    search_dir = app.config.get("SEARCH_DIR")
    if search_dir:
        # In development the search index comes from the last build.
        from flask import send_from_directory

        @app.route("/pagefind/<path:filename>")
        def pagefind(filename: str) -> Response:
            return send_from_directory(search_dir, filename)


def _typed(body: str, filename: str) -> Response:
    """A response whose type matches what a static host will guess from the file name."""
    mime_type, _ = mimetypes.guess_type(filename)
    return Response(body, mimetype=mime_type or "text/plain")


def page_urls(site: Site) -> list[str]:
    """Every HTML page of the site, in a stable order: the sitemap and the freezer use it."""
    urls = ["/"]
    urls += [f"/{name}/" for name in sorted(site.pages) if name != "index"]
    urls.append("/modules/")
    for module in site.program.modules:
        urls.append(f"/modules/{module.id}/")
        urls += [f"/modules/{module.id}/{kwa.slug}/" for kwa in module.kwas]
    urls.append("/blog/")
    urls += [f"/blog/{post.slug}/" for post in site.posts]
    urls.append("/search/")
    return urls


def document_urls(site: Site) -> list[str]:
    return [f"/documents/kwa-{m.id}.pdf" for m in site.program.modules] + ["/documents/kwa-all.pdf"]


def source_of(site: Site, url: str) -> Source | None:
    """The Markdown file a page URL is rendered from, if any."""
    parts = [p for p in url.strip("/").split("/") if p]
    if not parts:
        return site.pages["index"].source
    if len(parts) == 1 and parts[0] in site.pages:
        return site.pages[parts[0]].source
    if parts[0] == "modules" and len(parts) == 2 and parts[1] in site.modules:
        return site.modules[parts[1]].source
    if parts[0] == "modules" and len(parts) == 3 and (parts[1], parts[2]) in site.kwas:
        return site.kwas[(parts[1], parts[2])].source
    if parts[0] == "blog" and len(parts) == 2:
        return next((p.source for p in site.posts if p.slug == parts[1]), None)
    return None
