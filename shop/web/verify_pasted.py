"""/shop/verify/credential: anyone pastes or uploads an Open Badges 3.0 credential (JSON, or a
badge PNG with one baked in) and is told, item by item, whether the signature checks, who
issued it, whether its status list bit is set, whether its dates hold and whether it is one of
ours (shop.openbadges.verifier).

On the verify blueprint, so rate limited with the verify pages. A body over
VERIFY_PASTE_MAX_BYTES, JSON that does not parse, or JSON that is not a credential gets a 4xx
and the form again with the message; nothing is stored.
"""

from __future__ import annotations

import json

from flask import current_app, render_template, request
from werkzeug.datastructures import FileStorage

from shop import db
from shop.clock import now
from shop.openbadges import app as signing
from shop.openbadges import baking
from shop.openbadges.keys import SigningKeyError, retired_public_keys
from shop.openbadges.verifier import NotACredential, Report, Verdict, check
from shop.services import program
from shop.services.open_badges import our_issuer

from .verify import blueprint

MAX_BYTES = 256 * 1024  # default of VERIFY_PASTE_MAX_BYTES: a signed credential is ~4 KB
MAX_NESTING = 64  # deeper JSON is no credential, and would exhaust the JSON-LD processor
NO_KEY = "Pasted credentials cannot be checked just now (the signing key is not configured)."


class Refused(ValueError):
    """The body cannot be checked; `status` is the 4xx to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@blueprint.get("/credential")
def paste_form() -> str:
    """The form (its own page: the id lookup page sets no cookie, so holds no CSRF token)."""
    return _page(None, None)


@blueprint.post("/credential")
def pasted() -> tuple[str, int]:
    try:
        document = _document()
    except Refused as refused:
        return _page(str(refused), None), refused.status
    try:
        key = signing.signing_key(current_app)
        retired = retired_public_keys(current_app.config)
    except SigningKeyError as error:
        current_app.logger.error("cannot check pasted credentials: %s", error)
        return _page(NO_KEY, None), 503
    ours = our_issuer(db.session(), program.current(), key, retired)
    try:
        report = check(document, ours, now=now(), loader=signing.loader())
    except NotACredential as error:
        return _page(f"This is JSON, but not a credential: {error}.", None), 422
    return _page(None, report), 200


def _limit() -> int:
    return int(current_app.config.get("VERIFY_PASTE_MAX_BYTES", MAX_BYTES))


def _document() -> object:
    """The pasted or uploaded JSON, parsed; Refused says what is wrong with it."""
    limit = _limit()
    if (request.content_length or 0) > limit + 16 * 1024:  # room for the form's other fields
        raise _too_big(limit)
    upload = request.files.get("file")
    if isinstance(upload, FileStorage) and upload.filename:
        raw = upload.stream.read(limit + 1)
    else:
        raw = request.form.get("credential", "").encode("utf-8")
    if len(raw) > limit:
        raise _too_big(limit)
    if not raw.strip():
        raise Refused("Paste a credential (its JSON) or choose a file holding one.")
    if raw.startswith(baking.SIGNATURE):
        return _unbaked(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused("The file is not text (UTF-8): upload the credential's JSON.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise Refused(
            f"This is not JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except RecursionError:
        raise Refused(_too_deep()) from None
    if _depth(document) > MAX_NESTING:
        raise Refused(_too_deep())
    return document


def _unbaked(png: bytes) -> object:
    """The credential baked in an uploaded badge PNG (its `openbadgecredential` chunk)."""
    try:
        document = baking.unbake(png)
    except baking.NotAPng as error:
        raise Refused(f"This PNG is damaged: {error}.") from None
    except (ValueError, UnicodeDecodeError):
        raise Refused("The credential baked in this PNG is not JSON.") from None
    except RecursionError:
        raise Refused(_too_deep()) from None
    if document is None:
        raise Refused("This PNG holds no baked credential (no openbadgecredential chunk).")
    if _depth(document) > MAX_NESTING:
        raise Refused(_too_deep())
    return document


def _too_big(limit: int) -> Refused:
    return Refused(
        f"That is more than {limit // 1024} KB: a credential is a few KB of JSON.", status=413
    )


def _too_deep() -> str:
    return f"This JSON is nested more than {MAX_NESTING} levels deep: it is not a credential."


def _depth(node: object) -> int:
    """How deeply lists and objects nest in `node` (iteratively: no recursion to exhaust)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(node, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: list[object] = list(value.values())
        elif isinstance(value, list):
            children = list(value)
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _page(problem: str | None, report: Report | None) -> str:
    return render_template(
        "shop/verify_pasted.html",
        problem=problem,
        report=report,
        valid=report is not None and report.verdict is Verdict.VALID,
        pasted=request.form.get("credential", "")[: _limit()],
    )
