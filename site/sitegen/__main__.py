"""Command line: `python -m sitegen build|serve`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import DEFAULT_CONTENT, TEMPLATES
from .build import BuildError, build
from .content import ContentError
from .timings import Timings, cpu_seconds, since_process_start

DEFAULT_OUT = DEFAULT_CONTENT.parent / "build" / "site"
DEFAULT_CACHE = DEFAULT_CONTENT.parent / "build" / "cache"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sitegen", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser(
        "build", help="build a content folder (the program site, or a plain folder of pages/)"
    )
    build_cmd.add_argument("--content", type=Path, default=DEFAULT_CONTENT)
    build_cmd.add_argument("--out", type=Path, default=DEFAULT_OUT)
    build_cmd.add_argument("--no-search", action="store_true", help="skip the pagefind index")
    build_cmd.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="where rendered pages and PDFs are kept"
    )
    build_cmd.add_argument("--no-cache", action="store_true", help="render everything anew")
    build_cmd.add_argument("--templates", type=Path, default=None, help=f"default: {TEMPLATES}")
    build_cmd.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: CPUs)"
    )
    build_cmd.add_argument(
        "--timings", action="store_true", help="print each stage's time at the end"
    )
    build_cmd.add_argument(
        "--did-document",
        type=Path,
        default=None,
        help="the issuer's DID document (flask --app shop credentials did --out FILE), "
        "published at /.well-known/did.json",
    )
    serve_cmd = commands.add_parser("serve", help="serve the site, re-reading content on change")
    serve_cmd.add_argument("--content", type=Path, default=DEFAULT_CONTENT)
    serve_cmd.add_argument("--search-dir", type=Path, default=DEFAULT_OUT / "pagefind")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    if args.command == "build":
        cache = None if args.no_cache else args.cache
        return _build(
            args.content,
            args.out,
            cache,
            args.templates,
            args.jobs,
            not args.no_search,
            args.did_document,
            args.timings,
        )
    return _serve(args.content, args.search_dir, args.host, args.port)


def _build(
    content: Path,
    out: Path,
    cache: Path | None,
    templates: Path | None,
    jobs: int | None,
    search: bool,
    did_document: Path | None = None,
    show_timings: bool = False,
) -> int:
    started = time.perf_counter()
    timings = Timings()
    since_start = since_process_start()
    if since_start is not None:  # the interpreter, its imports and ours, before the build
        timings.add("start-up", since_start, cpu_seconds())
    try:
        result = build(
            content,
            out,
            search=search,
            cache_dir=cache,
            templates=templates,
            jobs=jobs,
            did_document=did_document,
            timings=timings,
        )
    except ContentError as error:
        print(f"content error:\n{error}", file=sys.stderr)
        return 1
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(
        f"built {result.pages} pages and {result.documents} PDF documents "
        f"({result.files} files, {result.rendered} rendered, {result.written} written) "
        f"into {result.out_dir} in {seconds:.2f} s"
    )
    if show_timings:
        print(timings.table())
    return 0


def _serve(content: Path, search_dir: Path, host: str, port: int) -> int:
    from werkzeug.serving import run_simple

    from .app import create_app

    app = create_app({"CONTENT_DIR": content, "LIVE_RELOAD": True, "SEARCH_DIR": search_dir})
    extra = [str(p) for p in TEMPLATES.rglob("*") if p.is_file()]
    run_simple(host, port, app, use_reloader=True, extra_files=extra, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
