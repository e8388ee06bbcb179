"""Who is signed in: a server-side session (shop.services.sessions) named by Flask's signed
session cookie, which holds the session's key and when it was last used.

Every request checks the session on the server (not ended: signing out ends it for every copy
of the cookie) and its idle and absolute lifetimes (config SESSION_IDLE_MINUTES and
SESSION_MAX_HOURS, shorter STAFF_SESSION_* for staff). A request that is let in moves the
cookie's "last used" time on; nothing is written to the database but at sign-in and out.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from shop import db
from shop.clock import now
from shop.models import Candidate
from shop.services import sessions
from shop.services.sessions import Lifetime, Lifetimes

P = ParamSpec("P")
R = TypeVar("R")

KEY = "session_key"  # the server-side session's key
LAST_SEEN = "last_seen"  # unix seconds of the session's last request


def lifetimes(config: Any) -> Lifetimes:
    """The session lifetimes configured for candidates and for staff."""
    return Lifetimes(
        candidate=Lifetime(
            idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            absolute=dt.timedelta(hours=config["SESSION_MAX_HOURS"]),
        ),
        staff=Lifetime(
            idle=dt.timedelta(minutes=config["STAFF_SESSION_IDLE_MINUTES"]),
            absolute=dt.timedelta(hours=config["STAFF_SESSION_MAX_HOURS"]),
        ),
    )


def cookie_for(key: str, at: dt.datetime) -> dict[str, Any]:
    """What the session cookie holds for a session started (or last used) at `at`."""
    return {KEY: key, LAST_SEEN: int(at.timestamp())}


def sign_in(tx: Session, candidate: Candidate, at: dt.datetime) -> None:
    """Start a server-side session in `tx` and give this visitor its cookie."""
    key = sessions.start(tx, candidate.id, at)
    session.clear()  # a new session on sign-in: nothing carried over from before
    session.update(cookie_for(key, at))  # not permanent: the cookie ends with the browser
    g.current_candidate = candidate


def sign_in_member(tx: Session, email: str, at: dt.datetime) -> None:
    """Start a server-side session of an organisation member who is no candidate."""
    key = sessions.start_member(tx, email, at)
    session.clear()
    session.update(cookie_for(key, at))
    g.current_candidate, g.member_email = None, email


def sign_out(tx: Session, at: dt.datetime, *, everywhere: bool = False) -> None:
    """End this session (every copy of its cookie), or every session of the account."""
    key = session.get(KEY)
    candidate, member = current_candidate(), current_member_email()
    if everywhere and candidate is not None:
        sessions.end_all(tx, at, candidate_id=candidate.id)
    elif everywhere and member is not None:
        sessions.end_all(tx, at, member_email=member)
    elif isinstance(key, str):
        sessions.end(tx, key, at)
    session.clear()
    g.current_candidate, g.member_email = None, None


_UNKNOWN = object()


def current_candidate() -> Candidate | None:
    """The signed-in candidate, or None; checked once per request."""
    found = g.get("current_candidate", _UNKNOWN)
    if found is _UNKNOWN:
        found = _check_session()
        # Held for the request: later calls (the view's after @signed_in's) ask nothing more.
        g.current_candidate = found
    assert found is None or isinstance(found, Candidate)
    return found


def current_member_email() -> str | None:
    """The address of a signed-in organisation member who is no candidate, or None."""
    current_candidate()  # checks the session once per request, members' too
    email = g.get("member_email")
    return email if isinstance(email, str) else None


def _check_session() -> Candidate | None:
    g.member_email = None
    key, last_seen = session.get(KEY), session.get(LAST_SEEN)
    if not isinstance(key, str) or not isinstance(last_seen, int):
        # Anonymous (its CSRF token kept); so is a cookie from before server-side sessions.
        return None
    found = sessions.find(db.session(), key)
    at = now()
    seen = dt.datetime.fromtimestamp(last_seen, dt.UTC)
    if found is None or not sessions.is_current(
        found[0].started_at, seen, at, lifetimes(current_app.config).of(found[1])
    ):
        session.clear()  # ended, idle too long or too old: signed out, cart and all
        return None
    if int(at.timestamp()) != last_seen:
        session[LAST_SEEN] = int(at.timestamp())
    g.member_email = found[0].member_email
    return found[1]


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
