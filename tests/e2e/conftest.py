"""Browser tests: the built site served over HTTP and driven through Debian's chromium.

The site is served as Netlify or Cloudflare Pages serve it: with the headers its own `_headers`
file gives each path (read here by a small parser of that format), so every page is tested
under its real Content-Security-Policy.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator, Sequence
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from sitegen.build import BuildResult

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's chromium, never a browser downloaded by `playwright install`."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's chromium at {CHROMIUM}, which is missing: "
            "run `make install` (it installs the Debian package `chromium`)",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


class HeaderRule(NamedTuple):
    """One block of a `_headers` file: a path pattern and its lines in order."""

    pattern: re.Pattern[str]
    lines: tuple[tuple[str, str | None], ...]  # (name, value); value None: "! name" detaches


def read_header_rules(text: str) -> list[HeaderRule]:
    """Parse the `_headers` format: a path line, then indented `Name: value` or `! Name` lines."""
    rules: list[HeaderRule] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            if not line.startswith("/"):
                raise ValueError(f"_headers line {number}: a path must start with /: {line!r}")
            rules.append(HeaderRule(_path_pattern(line.strip()), ()))
            continue
        if not rules:
            raise ValueError(f"_headers line {number}: a header before any path: {line!r}")
        if stripped.startswith("!"):
            entry: tuple[str, str | None] = (stripped[1:].strip(), None)
        else:
            name, colon, value = stripped.partition(":")
            if not colon or not name.strip() or not value.strip():
                raise ValueError(f"_headers line {number}: not `Name: value`: {line!r}")
            entry = (name.strip(), value.strip())
        rules[-1] = rules[-1]._replace(lines=(*rules[-1].lines, entry))
    return rules


def _path_pattern(path: str) -> re.Pattern[str]:
    # A splat (*) matches anything, slashes included; a :placeholder, one path segment.
    parts = re.split(r"(\*|:[A-Za-z]\w*)", path)
    regex = "".join(
        ".*" if part == "*" else "[^/]+" if part.startswith(":") else re.escape(part)
        for part in parts
    )
    return re.compile(regex)


def headers_for(rules: Sequence[HeaderRule], path: str) -> dict[str, str]:
    """The headers of a path, as Cloudflare Pages applies them: every matching rule in order,
    a header set twice joined with a comma unless detached in between."""
    headers: dict[str, str] = {}
    for rule in rules:
        if not rule.pattern.fullmatch(path):
            continue
        for name, value in rule.lines:
            known = next((k for k in headers if k.lower() == name.lower()), None)
            if value is None:
                headers.pop(known or name, None)
            elif known is not None:
                headers[known] = f"{headers[known]}, {value}"
            else:
                headers[name] = value
    return headers


class _StaticSiteHandler(SimpleHTTPRequestHandler):
    """Serves the built site like a static host: quiet, the site's own 404 page, and the headers
    of its `_headers` file (which, like the hosts that read it, it does not serve)."""

    def __init__(self, *args: Any, rules: Sequence[HeaderRule], **kwargs: Any) -> None:
        self.rules = rules  # before the base class, which handles the request in __init__
        super().__init__(*args, **kwargs)

    def send_head(self) -> Any:
        if self.path.partition("?")[0] == "/_headers":
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def end_headers(self) -> None:
        for name, value in headers_for(self.rules, self.path.partition("?")[0]).items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def list_directory(self, path: str | Path) -> None:
        # A static host lists no folders: a folder without index.html does not exist.
        self.send_error(HTTPStatus.NOT_FOUND)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(code, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The browser drops connections it no longer needs; that is not a failure of the site.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def site_server(built_site: BuildResult) -> Iterator[str]:
    """The built site on an ephemeral local port; yields its base URL (no trailing slash)."""
    rules = read_header_rules((built_site.out_dir / "_headers").read_text(encoding="utf-8"))
    handler = partial(_StaticSiteHandler, directory=str(built_site.out_dir), rules=rules)
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(site_server: str) -> str:
    """Lets tests write `page.goto("/modules/")`: pytest-playwright passes it to every context."""
    return site_server
