"""One look: the shop renders inside the static site's base template, with its CSS.

The shop's Jinja loader also reads site/templates, and the site's endpoints exist here as
build-only URL rules, so `url_for('modules')` in the shared base template gives the site's
path without the shop serving those pages: the shop is served under /shop/ on the site's host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from flask import Flask, current_app, request
from werkzeug.routing import Rule

from sitegen.app import STATIC, TEMPLATES
from sitegen.content import Site, load_site
from sitegen.render import money, ordinal

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
    for endpoint, path in SITE_RULES.items():
        app.url_map.add(Rule(path, endpoint=endpoint, build_only=True))
    # The site's CSS and images, served by the shop too, so it looks the same on its own host.
    app.static_folder = str(STATIC)
    app.static_url_path = "/static"
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=app.send_static_file)
    app.extensions["site"] = load_site(Path(app.config["CONTENT_DIR"]))
    app.context_processor(_chrome)


def _chrome() -> dict[str, Any]:
    site: Site = current_app.extensions["site"]
    site_url = current_app.config["SITE_URL"]
    return {
        "site": site,
        "program": site.program,
        "canonical_url": (current_app.config["SHOP_URL"] or request.host_url.rstrip("/"))
        + request.path,
        "site_url": site_url or site.program.site_url,
    }
