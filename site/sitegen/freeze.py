"""The reference build: the Flask app frozen by Frozen-Flask, URL by URL.

`sitegen.build` renders the same views straight from their templates, much faster; a test holds
its output to this one's, byte for byte, so the two cannot drift apart.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

from flask_frozen import Freezer, FrozenFlaskWarning

from .app import FILE_ENDPOINTS, create_app, document_urls, page_urls, state
from .build import BuildError, index_for_search
from .links import check_links
from .pdf import DocumentError
from .pictures import card_name


def freeze(
    content_dir: Path, out_dir: Path, *, search: bool = True, cache_dir: Path | None = None
) -> None:
    """Freeze the site from `content_dir` into `out_dir`; raise on any problem."""
    app = create_app(
        {
            "CONTENT_DIR": content_dir,
            "PDF_CACHE_DIR": cache_dir / "documents" if cache_dir else None,
            "PROPAGATE_EXCEPTIONS": True,  # a content error stops the build with its message
            "FREEZER_DESTINATION": str(out_dir.resolve()),
            "FREEZER_REMOVE_EXTRA_FILES": True,
            "FREEZER_REDIRECT_POLICY": "error",
            "FREEZER_IGNORE_404_NOT_FOUND": False,
            "FREEZER_SKIP_EXISTING": False,
        }
    )
    with app.app_context():
        site = state().site
    # Only our generator names URLs: a url_for() to a page that does not exist fails the
    # build instead of being frozen as a 404.
    freezer = Freezer(app, with_static_files=True, with_no_argument_rules=False, log_url_for=True)

    def every_url() -> Iterator[str | tuple[str, dict[str, str]]]:
        yield from page_urls(site)
        yield from document_urls(site)
        # By endpoint too: a card's URL alone does not tell the freezer its route has pages.
        yield from (("social_card", {"name": card_name(url)}) for url in page_urls(site))
        # Named by endpoint, so the freezer knows each of them has its generator.
        yield from ((endpoint, {}) for endpoint in FILE_ENDPOINTS)

    freezer.register_generator(every_url)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FrozenFlaskWarning)
        try:
            freezer.freeze()
        except FrozenFlaskWarning as warning:
            raise BuildError(f"the freezer warned: {warning}") from None
        except DocumentError as error:
            raise BuildError(str(error)) from None
    if search:
        index_for_search(out_dir, out_dir / "pagefind")
    broken = check_links(out_dir, site.program.site_url, () if search else ("/pagefind/",))
    if broken:
        raise BuildError("\n".join(f"{b.page}: link {b.link!r} {b.reason}" for b in broken))
