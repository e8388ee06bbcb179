"""The static site's security headers: one policy, written for the hosts that serve the files.

Every response of the site carries:

    Content-Security-Policy    default-src 'self'; script-src 'self' 'wasm-unsafe-eval';
                               object-src 'none'; base-uri 'none'; frame-ancestors 'none';
                               form-action 'self'
    X-Content-Type-Options     nosniff
    X-Frame-Options            DENY (frame-ancestors, for browsers that predate it)
    Referrer-Policy            same-origin
    Permissions-Policy         no camera, microphone, geolocation, payment or USB
    Strict-Transport-Security  max-age=31536000; includeSubDomains (not on plain-HTTP dev servers)

The pages have no inline script, style or event handler (a site test holds them to that), so
'self' covers them. `'wasm-unsafe-eval'` is there for the search page: pagefind compiles its
index reader from WebAssembly, which Chrome refuses under a script-src without it; it allows
compiling WebAssembly only, not eval() or inline scripts.

The KWA documents (/documents/) get `frame-ancestors 'none'` as their whole policy, as the shop's
PDFs do (shop/security.py): Chrome shows a PDF in a viewer of its own built from an <embed> and
inline styles, which `object-src 'none'` and `default-src 'self'` would block (crbug.com/271452).

The issuer's DID document (/.well-known/did.json) also gets `Access-Control-Allow-Origin: *`:
a verifier running in a browser on another origin reads it to find our public keys.

Two renderings of the same rules:

- `_headers` (Netlify, Cloudflare Pages), an output of the build (the `headers` route of app.py);
- an nginx snippet, deploy/nginx-security-headers.conf in the repository, never in the build
  output (a static host must not serve server configuration); `python -m sitegen.headers`
  writes it and a site test checks that it matches.
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADERS_FILE = "_headers"
NGINX_SNIPPET = Path(__file__).resolve().parents[2] / "deploy" / "nginx-security-headers.conf"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
DOCUMENTS = "/documents/"  # the KWA PDFs, and nothing else
DOCUMENT_POLICY = "frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
DID_DOCUMENT = "/.well-known/did.json"
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}  # public keys, for verifiers anywhere
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Strict-Transport-Security": HSTS,
}


def headers_for(path: str, *, hsts: bool = True) -> dict[str, str]:
    """The headers of the response for a site path; without HSTS for a plain-HTTP server."""
    headers = dict(HEADERS)
    if path.startswith(DOCUMENTS):
        headers["Content-Security-Policy"] = DOCUMENT_POLICY
    if path == DID_DOCUMENT:
        headers.update(ANY_ORIGIN)
    if not hsts:
        del headers["Strict-Transport-Security"]
    return headers


def headers_file() -> str:
    """The rules in the `_headers` format of Netlify and Cloudflare Pages."""
    lines = [
        "# Security headers of the CPT site, for Netlify and Cloudflare Pages.",
        "# Written by every build from site/sitegen/headers.py: change the policy there.",
        "/*",
        *(f"  {name}: {value}" for name, value in HEADERS.items()),
        "",
        "# The KWA documents: a PDF viewer needs a policy of frame-ancestors only.",
        "# Cloudflare Pages joins the values of matching rules unless the first is detached",
        "# (`!`); Netlify skips that line and keeps the later rule's value.",
        f"{DOCUMENTS}*",
        "  ! Content-Security-Policy",
        f"  Content-Security-Policy: {DOCUMENT_POLICY}",
        "",
        "# The issuer's DID document: verifiers in a browser read it from any origin.",
        DID_DOCUMENT,
        *(f"  {name}: {value}" for name, value in ANY_ORIGIN.items()),
    ]
    return "\n".join(lines) + "\n"


def nginx_snippet() -> str:
    """The rules as nginx configuration, for the `location /` that serves the built site."""
    documents = {**HEADERS, "Content-Security-Policy": DOCUMENT_POLICY}
    lines = [
        "# Security headers of the CPT site for nginx. Generated from site/sitegen/headers.py",
        "# by `python -m sitegen.headers`; a test checks that it matches. Include it inside the",
        "# `location /` that serves build/site, not at server level: the shop at /shop/ sends",
        "# headers of its own, and nginx would add these to its responses as well.",
        *_add_headers(HEADERS, ""),
        "",
        "# The KWA documents: a PDF viewer needs a policy of frame-ancestors only. An add_header",
        "# in a location drops the ones above, so the others are repeated.",
        f"location {DOCUMENTS} {{",
        *_add_headers(documents, "    "),
        "}",
        "",
        "# The issuer's DID document: verifiers in a browser read it from any origin.",
        f"location = {DID_DOCUMENT} {{",
        *_add_headers({**HEADERS, **ANY_ORIGIN}, "    "),
        "}",
        "",
        "# The rules for Netlify and Cloudflare Pages, which do not serve it; nor should nginx.",
        f"location = /{HEADERS_FILE} {{",
        "    return 404;",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _add_headers(headers: dict[str, str], indent: str) -> list[str]:
    # `always`: error pages (the 404 page above all) get the headers too.
    return [f'{indent}add_header {name} "{value}" always;' for name, value in headers.items()]


def main(argv: list[str] | None = None) -> int:
    """Write the nginx snippet (to deploy/ unless a path is given)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else NGINX_SNIPPET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nginx_snippet(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
