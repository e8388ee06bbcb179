"""Freeze the site into static files, index it for search and check every link."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
from flask_frozen import Freezer, FrozenFlaskWarning

from .app import create_app, document_urls, page_urls, source_of, state
from .content import Site
from .links import BrokenLink, check_links
from .pdf import DocumentError


class BuildError(Exception):
    """The build produced something wrong (a broken link, a freezer warning, a failed tool)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    out_dir: Path
    pages: int
    documents: int
    files: int


def build(
    content_dir: Path, out_dir: Path, *, search: bool = True, cache_dir: Path | None = None
) -> BuildResult:
    """Build the site from `content_dir` into `out_dir`; raise on any problem.

    With `cache_dir`, documents whose inputs have not changed are taken from the cache.
    """
    # Exceptions propagate, so a content or document error stops the build with its message
    # instead of becoming a 500 page the freezer reports without the reason.
    app = create_app(
        {"CONTENT_DIR": content_dir, "PDF_CACHE_DIR": cache_dir, "PROPAGATE_EXCEPTIONS": True}
    )
    with app.app_context():
        site = state().site  # load and validate all content before writing anything
    freezer = _freezer(app, out_dir, site)
    templates = _record_templates(app)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FrozenFlaskWarning)
        try:
            freezer.freeze()
        except FrozenFlaskWarning as warning:
            raise BuildError(f"the freezer warned: {warning}") from None
        except DocumentError as error:
            raise BuildError(str(error)) from None
    if search:
        _index_for_search(out_dir)
    # Without the search index, the search page's links to it lead nowhere, as expected.
    unchecked = () if search else ("/pagefind/",)
    broken = check_links(out_dir, site.program.site_url, unchecked)
    if broken:
        raise BuildError(_describe(broken, site, templates, app))
    return BuildResult(
        out_dir=out_dir,
        pages=len(page_urls(site)),
        documents=len(document_urls(site)),
        files=sum(1 for p in out_dir.rglob("*") if p.is_file()),
    )


def _freezer(app: flask.Flask, out_dir: Path, site: Site) -> Freezer:
    app.config.update(
        FREEZER_DESTINATION=str(out_dir.resolve()),
        FREEZER_REMOVE_EXTRA_FILES=True,
        FREEZER_REDIRECT_POLICY="error",
        FREEZER_IGNORE_404_NOT_FOUND=False,
        FREEZER_SKIP_EXISTING=False,
    )
    # Only our generator names URLs: a url_for() to a page that does not exist fails the
    # build instead of being frozen as a 404.
    freezer = Freezer(app, with_static_files=True, with_no_argument_rules=False, log_url_for=True)

    def every_url() -> Iterator[str | tuple[str, dict[str, str]]]:
        yield from page_urls(site)
        yield from document_urls(site)
        # Named by endpoint, so the freezer knows each of them has its generator.
        yield from (("feed", {}), ("sitemap", {}), ("robots", {}), ("not_found_page", {}))

    freezer.register_generator(every_url)
    return freezer


def _record_templates(app: flask.Flask) -> dict[str, str]:
    """Which template rendered each page, so a broken link in a template can be named."""
    seen: dict[str, str] = {}

    def remember(sender: Any, template: Any, context: Any, **extra: Any) -> None:
        if flask.has_request_context():
            seen.setdefault(flask.request.path, template.name or "?")

    flask.template_rendered.connect(remember, app, weak=False)
    return seen


def _index_for_search(out_dir: Path) -> None:
    command = [sys.executable, "-m", "pagefind", "--site", str(out_dir), "--silent"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"pagefind failed:\n{done.stdout}{done.stderr}")


def _describe(
    broken: list[BrokenLink], site: Site, templates: dict[str, str], app: flask.Flask
) -> str:
    lines = [f"{len(broken)} broken link(s):"]
    bodies = app.extensions["sitegen"].rendered_bodies
    for item in broken:
        source = source_of(site, item.page)
        rendered = bodies.get(source.path) if source is not None else None
        if source is not None and rendered is not None and item.link in rendered.links:
            where = f"{source.path} (page {item.page})"
        else:
            where = f"template {templates.get(item.page, '?')} (page {item.page})"
        lines.append(f"  {where}: link {item.link!r} {item.reason}")
    return "\n".join(lines)
