"""One look: the shop renders inside the static site's base template, with its CSS.

The shop's Jinja loader also reads site/templates, and the site's endpoints exist here as
build-only URL rules, so `url_for('modules')` in the shared base template gives the site's
path without the shop serving those pages: the shop is served under /shop/ on the site's host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from flask import Flask, current_app, has_request_context, request, url_for
from werkzeug.routing import Rule

from sitegen.app import STATIC, TEMPLATES
from sitegen.content import Site, load_site
from sitegen.pictures import TEMPLATE_GLOBALS as PICTURE_GLOBALS
from sitegen.render import money, ordinal

from . import hosts

# The site's endpoints that its base template links to, with their paths.
SITE_RULES = {
    "home": "/",
    "page": "/<name>/",
    "modules": "/modules/",
    "module": "/modules/<module_id>/",
    "kwa": "/modules/<module_id>/<kwa_slug>/",
    "blog": "/blog/",
    "post": "/blog/<slug>/",
    "feed": "/blog/feed.xml",
    "search": "/search/",
    "sitemap": "/sitemap.xml",
    "module_document": "/documents/kwa-<module_id>.pdf",
}


def init_app(app: Flask) -> None:
    app.jinja_loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
         jinja2.FileSystemLoader(str(TEMPLATES))]
    )  # fmt: skip
    app.jinja_env.undefined = jinja2.StrictUndefined
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["ordinal"] = ordinal
    app.jinja_env.globals.update(PICTURE_GLOBALS)
    for endpoint, path in SITE_RULES.items():
        app.url_map.add(Rule(path, endpoint=endpoint, build_only=True))
    # The site's CSS and images, served by the shop too, so it looks the same on its own host.
    app.static_folder = str(STATIC)
    app.static_url_path = "/static"
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=app.send_static_file)
    app.extensions["site"] = load_site(Path(app.config["CONTENT_DIR"]))
    app.context_processor(_chrome)
    app.jinja_env.globals["url_for"] = _TemplateUrls()


class _TemplateUrls:
    """`url_for` for templates, remembering what it built.

    A page's layout builds the same few dozen links on every request (the site's menus, the
    stylesheets), and building one costs more than the rest of a small page's work. A
    relative URL depends only on the endpoint, its values and the script root, so once built
    it is kept (a bounded number of them). Anything else (`_external`, `_anchor`, a
    blueprint-relative ".name", a value that cannot be a key, no request) is built every time.
    """

    LIMIT = 4096  # distinct URLs kept; then the memory starts again

    def __init__(self) -> None:
        self._built: dict[tuple[Any, ...], str] = {}

    def __call__(self, endpoint: str, **values: Any) -> str:
        if (
            endpoint.startswith(".")
            or not has_request_context()
            or any(name.startswith("_") for name in values)
        ):
            return url_for(endpoint, **values)
        try:
            key = (request.script_root, endpoint, frozenset(values.items()))
            found = self._built.get(key)
        except TypeError:  # a value that cannot be hashed (a list of values)
            return url_for(endpoint, **values)
        if found is None:
            if len(self._built) >= self.LIMIT:
                self._built.clear()
            found = self._built[key] = url_for(endpoint, **values)
        return found


def _chrome() -> dict[str, Any]:
    site: Site = current_app.extensions["site"]
    site_url = current_app.config["SITE_URL"]
    return {
        "site": site,
        "program": site.program,
        "canonical_url": hosts.external(request.path),
        "site_url": site_url or site.program.site_url,
    }
