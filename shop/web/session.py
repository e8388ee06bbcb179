"""Who is signed in: the candidate id kept in Flask's signed session cookie."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from flask import g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from shop import db
from shop.models import Candidate

P = ParamSpec("P")
R = TypeVar("R")


def sign_in(candidate: Candidate) -> None:
    session.clear()  # a new session on sign-in: nothing carried over from before
    session["candidate_id"] = candidate.id
    session.permanent = False


def sign_out() -> None:
    session.clear()


def current_candidate() -> Candidate | None:
    candidate_id = session.get("candidate_id")
    if not isinstance(candidate_id, int):
        return None
    found = db.session().get(Candidate, candidate_id)
    # Held for the request: the identity map keeps objects weakly, so without this reference
    # the view's call after @signed_in's would query the candidate a second time.
    g.current_candidate = found
    return found


def signed_in(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send anonymous visitors to sign in, coming back here afterwards."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_candidate() is None:
            return redirect(url_for("signin.start", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this shop, else `fallback` (no open redirects).

    The value is checked as given and again after each round of percent-decoding, since a
    browser, a proxy or a later redirect may decode it: `/shop/%2F%2Fevil.example` or
    `/shop/%2e%2e/evil` are refused like `//evil.example` and `/shop/../evil`.
    """
    if not target or not set(target) <= _PRINTABLE_ASCII:
        return fallback  # as given, a path of ours is printable ASCII (url_for encodes the rest)
    seen = target
    for _ in range(_DECODING_ROUNDS):
        if not _own_path(seen):
            return fallback
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return fallback  # still decoding after that many rounds: nobody means that


_DECODING_ROUNDS = 4
_PRINTABLE_ASCII = frozenset(chr(c) for c in range(0x21, 0x7F))


def _own_path(target: str) -> bool:
    """A path under /shop/ that stays there however a browser reads it."""
    if "\\" in target or "//" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False  # backslashes (read as slashes), `//host`, control characters
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/shop/"):
        return False
    return not any(segment in (".", "..") for segment in parts.path.split("/"))
