"""Signing in with a one-time link mailed to the address on file, over real SMTP, and out."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from factories import add_candidate, shop_config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shop import create_app, db
from shop import mail as shop_mail
from shop.db import normalise_url
from shop.models import SignInToken
from shop.web.session import KEY, LAST_SEEN, cookie_for

NAME = "Ana Lopez"
ADDRESS = "ana.lopez@example.com"
LINK = re.compile(r"https?://\S+/shop/signin/\S+")
EXPIRED = "This link no longer works"


# -- a real SMTP server on 127.0.0.1 -----------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.on_message: Callable[[], None] | None = None  # called as each message arrives

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.on_message is not None:
            self.on_message()
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [_parse(envelope.content) for envelope in self.envelopes]


def _parse(raw: Any) -> EmailMessage:
    data = raw if isinstance(raw, bytes) else str(raw).encode()
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_app(
    database_url: str, clock: Any, tmp_path: Path, inbox: tuple[Inbox, int]
) -> Iterator[Flask]:
    app = create_app(
        shop_config(database_url, clock, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=inbox[1])
    )
    _add_ana(app)
    yield app
    app.extensions["db.engine"].dispose()


@pytest.fixture
def mail(inbox: tuple[Inbox, int]) -> Inbox:
    return inbox[0]


@pytest.fixture
def web(smtp_app: Flask) -> FlaskClient:
    return smtp_app.test_client()


def _add_ana(app: Flask) -> None:
    with app.app_context(), db.transaction() as session:
        add_candidate(session, name=NAME, email=ADDRESS, reference="C-ANA")


# -- helpers ------------------------------------------------------------------------------------


def link_in(message: EmailMessage) -> str:
    """The path and query of the sign-in link in a message."""
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.findall(body.get_content())
    assert len(found) == 1, body.get_content()
    parts = urlsplit(found[0])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def ask_for_link(client: FlaskClient, mail: Inbox, address: str = ADDRESS, **form: str) -> str:
    before = len(mail.envelopes)
    response = client.post("/shop/signin", data={"email": address, **form})
    assert response.status_code == 302
    # Outside TESTING the mail leaves from a thread of its own: wait for it as a person would.
    deadline = time.monotonic() + 10
    while len(mail.envelopes) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(mail.envelopes) == before + 1
    return link_in(mail.messages[-1])


def hidden_next(page: str) -> str:
    found = re.search(r'<input id="next" name="next" type="hidden" value="([^"]*)">', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def tokens(app: Flask) -> list[SignInToken]:
    with app.app_context():
        return list(db.session().scalars(select(SignInToken)))


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/shop/account").status_code == 200


# -- the journey --------------------------------------------------------------------------------


def test_the_whole_journey_over_smtp(smtp_app: Flask, web: FlaskClient, mail: Inbox) -> None:
    response = web.post("/shop/signin", data={"email": "  Ana.LOPEZ@Example.com \t"})
    assert response.status_code == 302
    assert response.location == "/shop/signin/sent"
    sent = web.get(response.location)
    assert sent.status_code == 200
    assert "Check your email" in sent.text
    assert "within 15 minutes" in sent.text

    assert len(mail.envelopes) == 1
    envelope = mail.envelopes[0]
    assert envelope.rcpt_tos == [ADDRESS]
    message = mail.messages[0]
    assert message["To"] == ADDRESS
    assert message["From"] == smtp_app.config["MAIL_FROM"]
    assert "sign-in link" in message["Subject"]
    assert f"Hello {NAME}" in message.get_content()
    link = link_in(message)
    assert link.startswith("/shop/signin/")

    # Following the link only shows a button: a mail scanner fetching it spends nothing.
    page = web.get(link)
    assert page.status_code == 200
    assert re.search(r'<form method="post"[^>]*>', page.text)
    assert '<button type="submit" class="button">Sign in</button>' in page.text
    assert "Set-Cookie" not in page.headers
    assert not is_signed_in(web)
    assert [t.used_at for t in tokens(smtp_app)] == [None]

    signed = web.post(link, data={"next": hidden_next(page.text)})
    assert signed.status_code == 302
    assert signed.location == "/shop/account"
    account = web.get("/shop/account")
    assert account.status_code == 200
    assert NAME in account.text
    assert f"Signed in as <strong>{NAME}</strong>" in account.text
    assert [t.used_at is not None for t in tokens(smtp_app)] == [True]


def test_the_link_is_mailed_once_its_token_is_committed(
    smtp_app: Flask, web: FlaskClient, mail: Inbox, database_url: str
) -> None:
    # Another connection counts the tokens as the mail arrives: it sees committed rows only.
    other = sa.create_engine(normalise_url(database_url))
    seen: list[int] = []

    def count_committed_tokens() -> None:
        with other.connect() as connection:
            seen.append(connection.scalar(sa.select(sa.func.count()).select_from(SignInToken)))

    mail.on_message = count_committed_tokens
    try:
        web.post("/shop/signin", data={"email": ADDRESS})
    finally:
        other.dispose()
    assert seen == [1]  # a link that arrives always works


def test_only_a_hash_of_the_token_is_stored(smtp_app: Flask, web: FlaskClient, mail: Inbox) -> None:
    token = ask_for_link(web, mail).rsplit("/", 1)[1]
    stored = tokens(smtp_app)
    assert len(stored) == 1
    assert token not in stored[0].token_hash


def test_the_link_works_until_just_before_fifteen_minutes(
    web: FlaskClient, mail: Inbox, clock: Any
) -> None:
    link = ask_for_link(web, mail)
    clock.advance(minutes=14, seconds=59)
    response = web.post(link)
    assert response.status_code == 302
    assert response.location == "/shop/account"
    assert is_signed_in(web)


def test_the_link_fails_at_fifteen_minutes(web: FlaskClient, mail: Inbox, clock: Any) -> None:
    link = ask_for_link(web, mail)
    clock.advance(minutes=15)
    response = web.post(link)
    assert response.status_code == 400
    assert EXPIRED in response.text
    assert not is_signed_in(web)


def test_the_link_works_once_only(smtp_app: Flask, web: FlaskClient, mail: Inbox) -> None:
    link = ask_for_link(web, mail)
    assert web.post(link).status_code == 302
    other = smtp_app.test_client()
    again = other.post(link)
    assert again.status_code == 400
    assert EXPIRED in again.text
    assert not is_signed_in(other)


def test_a_second_link_does_not_spend_the_first(web: FlaskClient, mail: Inbox) -> None:
    first = ask_for_link(web, mail)
    second = ask_for_link(web, mail)
    assert first != second
    assert web.post(first).status_code == 302
    assert web.post(second).status_code == 302


def test_a_made_up_token_fails_the_same_way(web: FlaskClient) -> None:
    response = web.post("/shop/signin/" + "x" * 43)
    assert response.status_code == 400
    assert EXPIRED in response.text
    assert "Ask for a new link" in response.text
    assert not is_signed_in(web)


# -- what a visitor may learn -------------------------------------------------------------------


def test_an_unknown_address_looks_exactly_like_a_known_one(smtp_app: Flask, mail: Inbox) -> None:
    answers = []
    for address in (ADDRESS, "nobody@example.com"):
        client = smtp_app.test_client()
        response = client.post("/shop/signin", data={"email": address})
        followed = client.get(response.location)
        answers.append(
            (
                response.status_code,
                response.location,
                response.data,
                followed.status_code,
                followed.data,
                response.headers.get("Set-Cookie"),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, "/shop/signin/sent")
    assert [envelope.rcpt_tos for envelope in mail.envelopes] == [[ADDRESS]]
    # The same work for both (issue 13): a token each, the unknown address's of nobody's.
    assert sorted(t.candidate_id is None for t in tokens(smtp_app)) == [False, True]


def test_a_mail_server_that_is_down_does_not_give_known_addresses_away(
    database_url: str, clock: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        shop_config(database_url, clock, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    )
    try:
        _add_ana(app)
        client = app.test_client()
        with caplog.at_level(logging.ERROR, logger="shop.mail"):
            known = client.post("/shop/signin", data={"email": ADDRESS})
        unknown = client.post("/shop/signin", data={"email": "nobody@example.com"})
        assert (known.status_code, known.location, known.data) == (
            unknown.status_code,
            unknown.location,
            unknown.data,
        )
        assert f"mail to {ADDRESS} could not be sent" in caplog.text
        # The token was committed before the mail was tried: it stays unused, and expires.
        assert [t.used_at for t in tokens(app) if t.candidate_id is not None] == [None]
    finally:
        app.extensions["db.engine"].dispose()


class HeldMailServer:
    """A mail server that takes a message only when the test lets it.

    A fake, said plainly: a real server cannot be held at a chosen moment, and this test is
    about whether the request waits for it (the real SMTP path is the next test's).
    """

    def __init__(self) -> None:
        self.release = threading.Event()
        self.received = threading.Event()
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        assert self.release.wait(10), "the test never let the message through"
        self.messages.append(message)
        self.received.set()


def test_in_production_the_answer_does_not_wait_for_the_mail_server(
    database_url: str, clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(shop_config(database_url, clock, tmp_path, MAIL_IN_BACKGROUND=True))
    server = HeldMailServer()
    monkeypatch.setattr(shop_mail, "mailer_from_config", lambda config: server)
    try:
        _add_ana(app)
        client = app.test_client()
        response = client.post("/shop/signin", data={"email": ADDRESS})
        assert (response.status_code, response.location) == (302, "/shop/signin/sent")
        assert server.messages == []  # answered while the mail server still holds the message
        server.release.set()
        assert server.received.wait(10)
        (message,) = server.messages
        assert message["To"] == ADDRESS
        (link,) = LINK.findall(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert client.get(urlsplit(link).path).status_code == 200
    finally:
        app.extensions["db.engine"].dispose()


def test_in_production_the_link_goes_out_over_smtp_from_a_thread(
    database_url: str, clock: Any, tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    mail, port = inbox
    app = create_app(
        shop_config(
            database_url,
            clock,
            tmp_path,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=port,
            MAIL_IN_BACKGROUND=True,
        )
    )
    try:
        _add_ana(app)
        assert ask_for_link(app.test_client(), mail).startswith("/shop/signin/")
        assert [envelope.rcpt_tos for envelope in mail.envelopes] == [[ADDRESS]]
    finally:
        app.extensions["db.engine"].dispose()


def test_mail_waits_for_no_request_outside_tests(
    database_url: str, clock: Any, tmp_path: Path
) -> None:
    outside = create_app(shop_config(database_url, clock, tmp_path, TESTING=False))
    under_test = create_app(shop_config(database_url, clock, tmp_path))
    try:
        assert outside.config["MAIL_IN_BACKGROUND"] is True
        assert under_test.config["MAIL_IN_BACKGROUND"] is False
    finally:
        outside.extensions["db.engine"].dispose()
        under_test.extensions["db.engine"].dispose()


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("not-an-address", "Enter an email address like name@example.com."),
        ("ana@", "Enter an email address like name@example.com."),
        ("", "Enter the email address you registered with."),
        ("   ", "Enter the email address you registered with."),
    ],
)
def test_an_invalid_address_is_refused_next_to_the_field(
    web: FlaskClient, mail: Inbox, typed: str, error: str
) -> None:
    response = web.post("/shop/signin", data={"email": typed})
    assert response.status_code == 400
    field = re.search(r'<div class="field has-error">.*?</div>', response.text, re.S)
    assert field is not None, response.text
    assert f'<p class="error" id="email-error">{error}</p>' in field.group(0)
    assert 'aria-describedby="email-hint email-error"' in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    assert 'name="email"' in field.group(0)
    assert mail.envelopes == []


def test_the_sign_in_page_shows_the_form(web: FlaskClient) -> None:
    response = web.get("/shop/signin")
    assert response.status_code == 200
    assert '<form method="post" action="/shop/signin"' in response.text
    assert 'type="email"' in response.text
    assert "aria-invalid" not in response.text


# -- without a mail server ----------------------------------------------------------------------


def test_without_smtp_the_message_is_written_to_the_outbox(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert not app.config["SMTP_HOST"]
    _add_ana(app)
    with caplog.at_level(logging.WARNING, logger="shop.mail"):
        response = client.post("/shop/signin", data={"email": ADDRESS})
    assert response.status_code == 302
    outbox = Path(app.config["OUTBOX_DIR"])
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 1
    assert f"mail to {ADDRESS} written to {files[0]}" in caplog.text
    message = _parse(files[0].read_bytes())
    assert message["To"] == ADDRESS
    signed = client.post(link_in(message))
    assert signed.status_code == 302
    assert signed.location == "/shop/account"
    assert NAME in client.get("/shop/account").text


# -- the session cookie -------------------------------------------------------------------------


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("cpt_shop=")]
    assert len(cookies) == 1, response.headers
    cookie: str = cookies[0]
    return cookie


def _attributes(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_the_session_cookie_is_httponly_lax_and_not_secure_in_testing(
    web: FlaskClient, mail: Inbox
) -> None:
    response = web.post(ask_for_link(web, mail))
    cookie = _session_cookie(response)
    assert "httponly" in _attributes(cookie)
    assert "SameSite=Lax" in cookie
    assert "Path=/shop/" in cookie
    assert "secure" not in _attributes(cookie)


@pytest.mark.parametrize(
    ("environment", "testing", "secure"),
    [("production", False, True), ("development", False, False), ("production", True, False)],
)
def test_the_session_cookie_is_secure_outside_development(
    database_url: str,
    clock: Any,
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    environment: str,
    testing: bool,
    secure: bool,
) -> None:
    app = create_app(
        shop_config(
            database_url,
            clock,
            tmp_path,
            SHOP_ENV=environment,
            TESTING=testing,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=inbox[1],
            # Production refuses to start with development secrets (shop.config.ConfigError).
            SECRET_KEY="test-secret-key-long-enough-for-production",
            STRIPE_SECRET_KEY="sk_test_signin",
            STRIPE_WEBHOOK_SECRET="whsec_test_signin",
            SHOP_URL="https://localhost",  # production's address is https
        )
    )
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is secure
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        _add_ana(app)
        client = app.test_client()
        response = client.post(ask_for_link(client, inbox[0]))
        assert response.status_code == 302
        cookie = _session_cookie(response)
        assert ("secure" in _attributes(cookie)) is secure
        assert "httponly" in _attributes(cookie)
        assert "SameSite=Lax" in cookie
    finally:
        app.extensions["db.engine"].dispose()


def test_signing_in_starts_a_new_session(web: FlaskClient, mail: Inbox) -> None:
    link = ask_for_link(web, mail)
    with web.session_transaction("/shop/") as session:
        session["left_over"] = "from before"
    web.post(link)
    with web.session_transaction("/shop/") as session:
        assert "left_over" not in session
        assert set(session) == {KEY, LAST_SEEN}


# -- where the candidate lands ------------------------------------------------------------------


def test_a_safe_next_path_is_followed_through_the_mail(web: FlaskClient, mail: Inbox) -> None:
    target = "/shop/checkout/assessment-fee-safety?step=2"
    start = web.get("/shop/signin", query_string={"next": target})
    assert hidden_next(start.text) == target
    link = ask_for_link(web, mail, next=hidden_next(start.text))
    assert parse_qs(urlsplit(link).query)["next"] == [target]
    page = web.get(link)
    assert hidden_next(page.text) == target
    response = web.post(link, data={"next": hidden_next(page.text)})
    assert response.status_code == 302
    assert response.location == target


UNSAFE = ["//evil.example", "https://evil.example/", "/\\evil", "https:evil", "/shop//evil"]


@pytest.mark.parametrize("target", UNSAFE)
def test_an_unsafe_next_falls_back_to_the_account(
    web: FlaskClient, mail: Inbox, target: str
) -> None:
    # Given to the sign-in form: the mailed link does not carry it.
    link = ask_for_link(web, mail, next=target)
    assert "next" not in parse_qs(urlsplit(link).query)
    # Put into the link by hand: the confirmation does not follow it either.
    page = web.get(link, query_string={"next": target})
    response = web.post(link, data={"next": hidden_next(page.text)})
    assert response.status_code == 302
    assert response.location == "/shop/account"


@pytest.mark.parametrize(
    ("is_staff", "lands_on"), [(True, "/shop/admin/orders"), (False, "/shop/account")]
)
def test_staff_land_on_the_staff_pages_and_candidates_on_their_account(
    smtp_app: Flask, web: FlaskClient, mail: Inbox, is_staff: bool, lands_on: str
) -> None:
    with smtp_app.app_context(), db.transaction() as session:
        add_candidate(session, name="Sam Staff", email="sam@example.com").is_staff = is_staff
    link = ask_for_link(web, mail, "sam@example.com")
    page = web.get(link)
    response = web.post(link, data={"next": hidden_next(page.text)})
    assert response.status_code == 302
    assert response.location == lands_on
    assert web.get(lands_on).status_code == 200


def test_a_staff_member_with_a_next_path_still_goes_there(web: FlaskClient, mail: Inbox) -> None:
    with web.application.app_context(), db.transaction() as session:
        add_candidate(session, name="Sam Staff", email="sam@example.com").is_staff = True
    link = ask_for_link(web, mail, "sam@example.com", next="/shop/admin/shipping")
    page = web.get(link)
    response = web.post(link, data={"next": hidden_next(page.text)})
    assert response.location == "/shop/admin/shipping"


# -- signing out --------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(web: FlaskClient) -> None:
    response = web.get("/shop/account")
    assert response.status_code == 302
    assert response.location == "/shop/signin?next=/shop/account"


def test_signing_out_ends_the_session(web: FlaskClient, mail: Inbox) -> None:
    web.post(ask_for_link(web, mail))
    assert is_signed_in(web)
    account = web.get("/shop/account")
    assert 'action="/shop/signout"' in account.text

    response = web.post("/shop/signout")
    assert response.status_code == 302
    assert response.location == "/shop/signin"
    cleared = _session_cookie(response)
    assert "Expires=Thu, 01 Jan 1970" in cleared or "Max-Age=0" in cleared

    after = web.get("/shop/account")
    assert after.status_code == 302
    assert after.location == "/shop/signin?next=/shop/account"


def test_signing_out_is_a_post_only(web: FlaskClient) -> None:
    assert web.get("/shop/signout").status_code == 405


def test_a_session_the_server_does_not_know_is_anonymous(web: FlaskClient, clock: Any) -> None:
    with web.session_transaction("/shop/") as session:
        session.update(cookie_for("made-up-session-key", clock()))
    assert web.get("/shop/account").status_code == 302


def test_a_cookie_from_before_server_sessions_is_anonymous(web: FlaskClient) -> None:
    """The cookies of before: the candidate's id alone, valid for 31 days whatever happened."""
    with web.session_transaction("/shop/") as session:
        session["candidate_id"] = 1
    assert web.get("/shop/account").status_code == 302


def test_the_clock_fixture_is_what_the_token_is_stamped_with(
    smtp_app: Flask, web: FlaskClient, mail: Inbox, clock: Any
) -> None:
    ask_for_link(web, mail)
    (token,) = tokens(smtp_app)
    assert token.created_at == clock()
    assert token.expires_at == clock() + dt.timedelta(minutes=15)
