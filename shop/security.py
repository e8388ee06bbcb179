"""Security headers on every response of the shop, and the page a refused form gets.

Every response carries:

    Content-Security-Policy    default-src 'self'; object-src 'none'; base-uri 'none';
                               frame-ancestors 'none'; form-action 'self' <Stripe Checkout>
    X-Content-Type-Options     nosniff
    X-Frame-Options            DENY (frame-ancestors, for browsers that predate it)
    Referrer-Policy            same-origin (nothing of our URLs goes to Stripe or LinkedIn)
    Permissions-Policy         no camera, microphone, geolocation, payment or USB
    Strict-Transport-Security  max-age=31536000; includeSubDomains, outside development and tests

`form-action` names Stripe Checkout's origin because the checkout and "pay" forms post to the
shop, which answers 303 to Stripe's hosted pay page, and Chrome applies form-action to the
redirects of a form submission too. It is https://checkout.stripe.com, or the offline Stripe's
origin when STRIPE_API_BASE names one.

PDFs get `frame-ancestors 'none'` as their whole policy: Chrome shows a PDF in a viewer of its
own built from an <embed> and inline styles, which the response's `object-src 'none'` and
`default-src 'self'` would block (crbug.com/271452), leaving a blank page.

The session cookie's flags (HttpOnly, SameSite=Lax, Secure outside development) are set in
shop.create_app; CSRF tokens come from Flask-WTF (shop.web); the production secrets are checked
by shop.config.production_problems.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
HSTS = "max-age=31536000; includeSubDomains"
PDF_POLICY = "frame-ancestors 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
    app.register_error_handler(CSRFError, _form_refused)


def content_security_policy() -> str:
    """The policy of the shop's pages, with the current app's Stripe Checkout origin."""
    return (
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        f"form-action 'self' {checkout_origin()}"
    )


def checkout_origin() -> str:
    """Where the checkout forms end up: Stripe Checkout, or the offline Stripe's pay page."""
    base = str(current_app.config.get("STRIPE_API_BASE") or "")
    if not base:
        return STRIPE_CHECKOUT_ORIGIN
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def uses_hsts() -> bool:
    """HTTPS only from now on: never in development or tests, which run on plain HTTP."""
    return current_app.config["SHOP_ENV"] != "development" and not current_app.testing


def _add_headers(response: Response) -> Response:
    headers = response.headers
    if response.mimetype == "application/pdf":
        headers.setdefault("Content-Security-Policy", PDF_POLICY)
    else:
        headers.setdefault("Content-Security-Policy", content_security_policy())
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if uses_hsts():
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _form_refused(error: CSRFError) -> tuple[str, int]:
    """A form without a valid token (forged, or open so long that its token expired): 400,
    nothing done, and a way back."""
    return render_template("shop/form_refused.html"), 400
