"""Who is signed in: the candidate id kept in Flask's signed session cookie."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import redirect, request, session, url_for
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
    return db.session().get(Candidate, candidate_id)


def signed_in(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send anonymous visitors to sign in, coming back here afterwards."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_candidate() is None:
            return redirect(url_for("signin.start", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this shop, else `fallback` (no open redirects)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/shop/") or "//" in target:
        return fallback
    return target
