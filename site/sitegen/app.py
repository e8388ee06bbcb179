"""The site as a Flask app, one route per kind of page; `sitegen.build` renders the same views."""

from __future__ import annotations

import datetime as dt
import functools
import mimetypes
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, render_template, request
from markupsafe import Markup

from . import DEFAULT_CONTENT as DEFAULT_CONTENT
from . import STATIC as STATIC
from . import TEMPLATES as TEMPLATES
from .content import KwaPage, ModulePage, Page, Site, Source, load_site
from .headers import HEADERS_FILE, headers_file, headers_for
from .pictures import card_url
from .render import Body, BodyRenderer, Rendered, View, configure_jinja


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
    configure_jinja(app.jinja_env)
    state = SiteState(Path(app.config["CONTENT_DIR"]), bool(app.config["LIVE_RELOAD"]))
    app.extensions["sitegen"] = state
    app.context_processor(_template_globals)
    app.after_request(_add_security_headers)
    _register_routes(app)
    return app


def state() -> SiteState:
    result: SiteState = current_app.extensions["sitegen"]
    return result


def _add_security_headers(response: Response) -> Response:
    """The headers the static host sends (headers.py), so `make run` shows the site under its CSP.

    Without HSTS: the development server speaks plain HTTP. Live reload needs no exception to the
    policy: content is re-read on the next request and templates restart the server, with no
    script of its own in the page.
    """
    for name, value in headers_for(request.path, hsts=False).items():
        response.headers.setdefault(name, value)
    return response


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


# -- the views: what each URL shows, for the Flask app and for the build's own renderer -----------


def _home(site: Site, body: Body) -> View:
    page = site.pages["index"]
    return View("home.html", {"page": page, "body": body(page.source)})


def _page(site: Site, body: Body, name: str) -> View:
    found = site.pages.get(name)
    if found is None or name == "index":
        abort(404)
    return View("page.html", {"page": found, "body": body(found.source)})


def _modules(site: Site, body: Body) -> View:
    return View("modules.html", {})


def _module(site: Site, body: Body, module_id: str) -> View:
    found = site.modules.get(module_id)
    if found is None:
        abort(404)
    context = {"page": found, "body": body(found.source), "kwas": site.kwas_of(module_id)}
    return View("module.html", context)


def _kwa(site: Site, body: Body, module_id: str, kwa_slug: str) -> View:
    found = site.kwas.get((module_id, kwa_slug))
    if found is None:
        abort(404)
    siblings = site.kwas_of(module_id)
    index = siblings.index(found)
    context = {
        "page": found,
        "body": body(found.source),
        "previous": siblings[index - 1] if index > 0 else None,
        "next": siblings[index + 1] if index + 1 < len(siblings) else None,
        "number": index + 1,
    }
    return View("kwa.html", context)


def _blog(site: Site, body: Body) -> View:
    return View("blog.html", {})


def _post(site: Site, body: Body, slug: str) -> View:
    found = next((p for p in site.posts if p.slug == slug), None)
    if found is None:
        abort(404)
    return View("post.html", {"page": found, "body": body(found.source)})


def _feed(site: Site, body: Body) -> View:
    bodies = {p.slug: body(p.source) for p in site.posts}
    return View("feed.xml", {"bodies": bodies}, filename="feed.xml")


def _module_document(site: Site, body: Body, module_id: str) -> View:
    if module_id != "all" and module_id not in site.modules:
        abort(404)
    chosen = list(site.modules.values()) if module_id == "all" else [site.modules[module_id]]
    sections = [(m, [(k, body(k.source)) for k in site.kwas_of(m.module.id)]) for m in chosen]
    title = "All modules" if module_id == "all" else chosen[0].title
    return View("documents/kwa.html", {"title": title, "sections": sections}, document=True)


def _social_card(site: Site, body: Body, name: str) -> View:
    url = "/" if name == "index" else f"/{name}/"
    if url not in page_urls(site):
        abort(404)
    kicker, title = card_words(site, url)
    return View("social/card.txt", {"kicker": kicker, "title": title}, image=True)


def card_words(site: Site, url: str) -> tuple[str, str]:
    """A page's social card: a kicker (what kind of page, or its module) and its title."""
    program = site.program
    parts = [p for p in url.strip("/").split("/") if p]
    if not parts:
        return program.short_name, program.name
    if parts[0] == "modules" and len(parts) == 3:
        return site.modules[parts[1]].title, site.kwas[(parts[1], parts[2])].title
    if parts[0] == "modules" and len(parts) == 2:
        return f"{program.short_name} module", site.modules[parts[1]].title
    if parts[0] == "blog" and len(parts) == 2:
        post = next(p for p in site.posts if p.slug == parts[1])
        return f"{program.short_name} news", post.title
    fixed = {"modules": "The five modules", "blog": "News", "search": "Search"}
    title = fixed.get(parts[0]) or site.pages[parts[0]].title
    return program.short_name, title


def card_urls(site: Site) -> list[str]:
    return [card_url(url) for url in page_urls(site)]


def _search(site: Site, body: Body) -> View:
    return View("search.html", {})


def _sitemap(site: Site, body: Body) -> View:
    changed = last_changed(site)
    urls = [(url, changed.get(url)) for url in page_urls(site)]
    return View("sitemap.xml", {"urls": urls}, filename="sitemap.xml")


def _robots(site: Site, body: Body) -> View:
    return View("robots.txt", {}, filename="robots.txt")


def _not_found_page(site: Site, body: Body) -> View:
    return View("404.html", {})


def _header_rules(site: Site, body: Body) -> View:
    return View(HEADERS_FILE, {"rules": headers_file()}, filename=HEADERS_FILE)


# Every page of the site: its address and its view. The build renders each URL that
# page_urls() and document_urls() list, plus the files of FILE_ENDPOINTS.
ROUTES: dict[str, tuple[str, Callable[..., View]]] = {
    "home": ("/", _home),
    "page": ("/<name>/", _page),
    "modules": ("/modules/", _modules),
    "module": ("/modules/<module_id>/", _module),
    "kwa": ("/modules/<module_id>/<kwa_slug>/", _kwa),
    "blog": ("/blog/", _blog),
    "post": ("/blog/<slug>/", _post),
    "feed": ("/blog/feed.xml", _feed),
    "module_document": ("/documents/kwa-<module_id>.pdf", _module_document),
    "social_card": ("/social/<path:name>.png", _social_card),
    "search": ("/search/", _search),
    "sitemap": ("/sitemap.xml", _sitemap),
    "robots": ("/robots.txt", _robots),
    "not_found_page": ("/404.html", _not_found_page),
    # The security headers for Netlify and Cloudflare Pages, which read the file and serve it
    # to no one.
    "headers": (f"/{HEADERS_FILE}", _header_rules),
}
FILE_ENDPOINTS = ("feed", "sitemap", "robots", "not_found_page", "headers")


def _register_routes(app: Flask) -> None:
    for endpoint, (rule, _) in ROUTES.items():
        app.add_url_rule(rule, endpoint, functools.partial(_respond, endpoint))

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


def _respond(endpoint: str, **params: str) -> Response | str:
    """Serve one URL: render its view's template, as a page, a typed file or a PDF."""
    site = state().site
    view = ROUTES[endpoint][1](site, _body, **params)
    rendered = render_template(view.template, **view.context)
    if view.document:
        from .pdf import KWA_STYLESHEETS, PdfCache, html_to_pdf  # slow to import: when needed

        cache = current_app.extensions.get("sitegen.pdf_cache")
        if cache is None:
            folder = current_app.config["PDF_CACHE_DIR"]
            cache = current_app.extensions["sitegen.pdf_cache"] = PdfCache(
                Path(folder) if folder else None, STATIC
            )
        base_url = current_app.config.get("SITE_URL") or site.program.site_url
        pdf = cache.get_or_render(
            rendered,
            lambda: html_to_pdf(rendered, STATIC, base_url, stylesheets=KWA_STYLESHEETS),
        )
        return Response(pdf, mimetype="application/pdf")
    if view.image:
        from .cards import card_png

        return Response(card_png(rendered), mimetype="image/png")
    if view.filename is not None:
        return _typed(rendered, view.filename)
    return rendered


def _typed(body: str, filename: str) -> Response:
    """A response whose type matches what a static host will guess from the file name."""
    mime_type, _ = mimetypes.guess_type(filename)
    # A name without a known type (_headers): what most static hosts and Frozen-Flask assume.
    return Response(body, mimetype=mime_type or "application/octet-stream")


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


def last_changed(site: Site) -> dict[str, dt.date]:
    """The date each page URL last changed, for the sitemap: never a file's mtime, which
    differs between clones, but what the content says. A post: its date; the blog: its newest
    post's; any other page: its `updated` front matter; a page without one: the newest of all
    those dates, the last change that the content records."""
    dated: dict[Path, dt.date] = {post.source.path: post.date for post in site.posts}
    pages: list[Page | ModulePage | KwaPage] = [
        *site.pages.values(),
        *site.modules.values(),
        *site.kwas.values(),
    ]
    dated |= {page.source.path: page.updated for page in pages if page.updated is not None}
    if not dated:
        return {}
    newest = max(dated.values())
    changed = {}
    for url in page_urls(site):
        source = source_of(site, url)
        changed[url] = dated.get(source.path, newest) if source else newest
    if site.posts:
        changed["/blog/"] = site.posts[0].date
    return changed


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
