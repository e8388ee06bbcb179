"""The static site's security headers: the `_headers` file of the build, the nginx snippet in
deploy/, the development server, and pages with nothing inline for the CSP to refuse."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from shop import security as shop_security
from sitegen import headers
from sitegen.app import create_app
from sitegen.build import BuildResult

ROOT = Path(__file__).resolve().parents[2]
NGINX_SNIPPET = ROOT / "deploy" / "nginx-security-headers.conf"

# What issue #6 asks of every response; the values the site adds are checked against the policy.
REQUIRED_DIRECTIVES = [
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
]
REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def header_blocks(text: str) -> dict[str, list[str]]:
    """The blocks of a `_headers` file: each path with its stripped header lines, in order."""
    blocks: dict[str, list[str]] = {}
    path = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("/"):
            path = line.strip()
            blocks[path] = []
        else:
            assert line.startswith("  ") and path, f"a header line outside a block: {line!r}"
            blocks[path].append(line.strip())
    return blocks


def directives(policy: str) -> list[str]:
    return [part.strip() for part in policy.split(";") if part.strip()]


URL_ATTRIBUTES = {"href", "src", "action", "formaction"}


class _InlineCode(HTMLParser):
    """Finds what a CSP without 'unsafe-inline' refuses: inline scripts and styles, style
    attributes, event handler attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._open: str | None = None  # a <script> without src, or a <style>, being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # JSON-LD is data, which browsers never run: the CSP does not apply to it.
        data = tag == "script" and values.get("type") == "application/ld+json"
        if tag == "style" or (tag == "script" and "src" not in values and not data):
            self._open = tag
        for name, value in attrs:
            script_url = (value or "").strip().lower().startswith("javascript:")
            if name == "style" or name.startswith("on") or (name in URL_ATTRIBUTES and script_url):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None and data.strip():
            self.found.append(f"<{self._open}> {data.strip()[:60]!r}")


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_build_writes_the_headers_file_with_every_required_header(
    built_site: BuildResult,
) -> None:
    text = (built_site.out_dir / headers.HEADERS_FILE).read_text(encoding="utf-8")
    assert text == headers.headers_file()
    blocks = header_blocks(text)
    every = dict(line.split(": ", 1) for line in blocks["/*"])
    policy = directives(every["Content-Security-Policy"])
    assert set(REQUIRED_DIRECTIVES) <= set(policy), policy
    assert "'unsafe-inline'" not in every["Content-Security-Policy"]
    assert "'unsafe-eval'" not in every["Content-Security-Policy"]
    assert REQUIRED.items() <= every.items()
    assert every["Permissions-Policy"]


def test_the_documents_rule_replaces_the_policy_with_frame_ancestors_only(
    built_site: BuildResult,
) -> None:
    text = (built_site.out_dir / headers.HEADERS_FILE).read_text(encoding="utf-8")
    # Detached first (Cloudflare Pages would join the two policies, and a browser enforce both).
    assert header_blocks(text)["/documents/*"] == [
        "! Content-Security-Policy",
        "Content-Security-Policy: frame-ancestors 'none'",
    ]
    documents = {p.parent.name for p in built_site.out_dir.rglob("*.pdf")}
    assert documents == {"documents"}, "every PDF must be under /documents/ to get its policy"


def test_the_nginx_snippet_in_deploy_matches_the_policy() -> None:
    assert NGINX_SNIPPET.read_text(encoding="utf-8") == headers.nginx_snippet(), (
        "deploy/nginx-security-headers.conf is out of date: run `python -m sitegen.headers`"
    )
    snippet = headers.nginx_snippet()
    for name, value in headers.HEADERS.items():
        assert f'add_header {name} "{value}" always;' in snippet
    assert f'add_header Content-Security-Policy "{headers.DOCUMENT_POLICY}" always;' in snippet


def test_the_nginx_snippet_is_not_in_the_build_output(built_site: BuildResult) -> None:
    assert not list(built_site.out_dir.rglob("*.conf"))


@pytest.mark.parametrize(
    ("path", "policy"),
    [
        ("/", headers.CONTENT_SECURITY_POLICY),
        ("/search/", headers.CONTENT_SECURITY_POLICY),
        ("/pagefind/pagefind-worker.js", headers.CONTENT_SECURITY_POLICY),
        ("/documents/kwa-all.pdf", "frame-ancestors 'none'"),
    ],
)
def test_each_path_gets_its_policy(path: str, policy: str) -> None:
    assert headers.headers_for(path)["Content-Security-Policy"] == policy
    assert "Strict-Transport-Security" not in headers.headers_for(path, hsts=False)


def test_the_site_and_the_shop_send_the_same_headers_but_their_csp() -> None:
    shared = {k: v for k, v in headers.HEADERS.items() if k in shop_security.HEADERS}
    assert shared == shop_security.HEADERS
    assert headers.HSTS == shop_security.HSTS
    assert headers.DOCUMENT_POLICY == shop_security.PDF_POLICY


def test_no_built_page_holds_inline_code_the_csp_would_refuse(built_site: BuildResult) -> None:
    pages = sorted(built_site.out_dir.rglob("*.html"))
    assert built_site.out_dir / "404.html" in pages
    found = {
        page.relative_to(built_site.out_dir).as_posix(): inline_code(page.read_text("utf-8"))
        for page in pages
    }
    assert not {page: code for page, code in found.items() if code}


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<style>p { color: red }</style>",
        '<p style="color: red">',
        '<button onclick="go()">',
        '<a href="javascript:go()">',
    ],
    ids=["script", "style-element", "style-attribute", "event-handler", "javascript-url"],
)
def test_the_inline_code_check_finds_each_kind(html: str) -> None:
    assert inline_code(f"<!doctype html><html><body>{html}</body></html>")
    assert not inline_code('<script src="/static/js/search.js" defer></script>')


@pytest.mark.parametrize(
    ("script_type", "refused"),
    [("application/ld+json", False), ("module", True), ("text/javascript", True)],
)
def test_only_json_ld_data_may_be_inline(script_type: str, refused: bool) -> None:
    html = f'<script type="{script_type}">{{"@type": "Thing"}}</script>'
    assert bool(inline_code(html)) is refused


def test_the_did_document_is_readable_from_any_origin_in_every_rendering() -> None:
    assert headers.headers_for("/.well-known/did.json")["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in headers.headers_for("/")
    assert "Access-Control-Allow-Origin" not in headers.headers_for("/.well-known/other.json")
    blocks = header_blocks(headers.headers_file())
    assert blocks["/.well-known/did.json"] == ["Access-Control-Allow-Origin: *"]
    snippet = headers.nginx_snippet()
    did_location = snippet.split("location = /.well-known/did.json {")[1].split("}")[0]
    assert 'add_header Access-Control-Allow-Origin "*" always;' in did_location
    for name, value in headers.HEADERS.items():  # a location's add_header drops the outer ones
        assert f'add_header {name} "{value}" always;' in did_location


@pytest.mark.parametrize(
    "url", ["/policies/", "/search/", "/no-such-page/", "/_headers", "/.well-known/did.json"]
)
def test_the_development_server_sends_the_same_headers_without_hsts(
    client: FlaskClient, url: str
) -> None:
    response = client.get(url)
    expected = headers.headers_for(url, hsts=False)
    assert {name: response.headers.get(name) for name in expected} == expected
    assert "Strict-Transport-Security" not in response.headers


def test_the_development_server_gives_a_document_the_documents_policy(
    built_site: BuildResult, document_cache: Path, content_copy: Path
) -> None:
    # The build filled the document cache: the app serves the PDF without rendering it again.
    app = create_app({"CONTENT_DIR": content_copy, "PDF_CACHE_DIR": document_cache / "documents"})
    response = app.test_client().get("/documents/kwa-safety.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Security-Policy"] == headers.DOCUMENT_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
