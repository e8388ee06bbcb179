"""How responses are marked, whatever route made them: signed-in pages are never stored by a
cache, the machine APIs answer their errors in JSON, and public JSON may be read by a
browser-based verifier on another site (CORS).

    Cache-Control: no-store        on every response to a signed-in visitor: a shared or
                                   back-button cache must not keep anybody's dashboard,
                                   orders or documents
    errors under /shop/api/        {"error": "..."} with the status (413 included: a body over
                                   MAX_CONTENT_LENGTH), never an HTML page
    @public_cors                   Access-Control-Allow-Origin: * on a public JSON route
                                   (verify JSON now; the status list and DID document too)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from flask import Flask, current_app, g, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

P = ParamSpec("P")
API_PREFIX = "/shop/api/"


def init_app(app: Flask) -> None:
    app.after_request(_no_store_when_signed_in)
    app.register_error_handler(HTTPException, _json_errors_for_apis)


def public_cors(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
    """Let any origin read this route's answers, errors included: they are public, and carry
    no cookie-dependent data (the view must not read the session)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def _no_store_when_signed_in(response: Response) -> Response:
    if g.get("current_candidate") is not None:
        response.cache_control.no_store = True  # kept beside what the view set (private)
    return response


def _json_errors_for_apis(error: HTTPException) -> ResponseReturnValue:
    if not request.path.startswith(API_PREFIX):
        return error  # the page Flask renders for it, as before
    response = jsonify(error=_describe(error))
    response.status_code = error.code or 500
    return response


def _describe(error: HTTPException) -> str:
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return f"the body is larger than the {limit} bytes this API accepts"
    return error.description or error.name
