"""`make run`: the live site at / and the shop at /shop/ on one address, for development.

In production the static site is plain files on a web server and the shop runs under
gunicorn behind it at /shop/; here one process plays both parts.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import run_simple

from sitegen.app import TEMPLATES
from sitegen.app import create_app as create_site

from . import create_app as create_shop

SHOP_PREFIX = "/shop"


def combined(site: Any, shop: Any) -> Any:
    """A WSGI app sending /shop and /shop/... to the shop and everything else to the site."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        target = shop if path == SHOP_PREFIX or path.startswith(SHOP_PREFIX + "/") else site
        result: Iterable[bytes] = target(environ, start_response)
        return result

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shop.devserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--search-dir", type=Path, default=Path("build/site/pagefind"))
    args = parser.parse_args(argv)
    site = create_site({"LIVE_RELOAD": True, "SEARCH_DIR": args.search_dir.resolve()})
    shop = create_shop()
    print(f"CPT site and shop on http://{args.host}:{args.port}/ (shop at {SHOP_PREFIX}/)")
    extra = [str(p) for p in TEMPLATES.rglob("*") if p.is_file()]
    run_simple(
        args.host, args.port, combined(site, shop), use_reloader=True, extra_files=extra,
        threaded=True,
    )  # fmt: skip


if __name__ == "__main__":
    main()
