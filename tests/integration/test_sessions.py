"""Sessions end on the server (issue 13, item 2): signing out makes every copy of the cookie
worthless, "sign out everywhere" ends every session of the account, and sessions expire when
idle and at an absolute age, sooner for staff (config SESSION_* and STAFF_SESSION_*)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from factories import add_candidate, sign_in_as
from flask import Flask
from flask.testing import FlaskClient

from shop import create_app, db
from shop.config import from_environment

COOKIE = "cpt_shop"
ANA = "ana@example.com"


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    with app.app_context(), db.transaction() as session:
        ana = add_candidate(session, name="Ana Lopez", email=ANA)
        ben = add_candidate(session, name="Ben Okafor", email="ben@example.com")
        sam = add_candidate(session, name="Sam Staff", email="sam@example.com")
        sam.is_staff = True
        return {"ana": ana.id, "ben": ben.id, "sam": sam.id}


def signed_in_by_link(app: Flask, address: str = ANA) -> FlaskClient:
    """A browser that asked for a link and followed it, as a person does."""
    client = app.test_client()
    outbox = Path(app.config["OUTBOX_DIR"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    assert client.post("/shop/signin", data={"email": address}).status_code == 302
    (sent,) = set(outbox.glob("*.eml")) - before
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    (link,) = re.findall(r"https?://\S+/shop/signin/\S+", body.get_content())
    assert client.post(urlsplit(link).path).status_code == 302
    return client


def cookie_of(client: FlaskClient) -> str:
    found = client.get_cookie(COOKIE, path="/shop/")
    assert found is not None
    return found.value


def browser_with(app: Flask, cookie: str) -> FlaskClient:
    """Another browser, given a copy of a session cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, cookie, path="/shop/")
    return client


def is_signed_in(client: FlaskClient) -> bool:
    response = client.get("/shop/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


# -- signing out ----------------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_is_signed_out_after_it(
    app: Flask, people: dict[str, int]
) -> None:
    browser = signed_in_by_link(app)
    copied = cookie_of(browser)
    assert is_signed_in(browser_with(app, copied))

    assert browser.post("/shop/signout").status_code == 302

    assert not is_signed_in(browser)
    assert not is_signed_in(browser_with(app, copied))  # replayed: signed out


def test_signing_out_ends_this_session_only(app: Flask, people: dict[str, int]) -> None:
    laptop, phone = signed_in_by_link(app), signed_in_by_link(app)
    laptop.post("/shop/signout")
    assert not is_signed_in(laptop)
    assert is_signed_in(phone)


def test_signing_out_everywhere_ends_every_session_of_the_account(
    app: Flask, people: dict[str, int]
) -> None:
    laptop, phone = signed_in_by_link(app), signed_in_by_link(app)
    copied = cookie_of(phone)
    ben = signed_in_by_link(app, "ben@example.com")
    page = laptop.get("/shop/account").text
    assert 'action="/shop/signout/everywhere"' in page and "Sign out everywhere" in page

    response = laptop.post("/shop/signout/everywhere")

    assert (response.status_code, response.location) == (302, "/shop/signin")
    assert [is_signed_in(c) for c in (laptop, phone, browser_with(app, copied))] == [False] * 3
    assert is_signed_in(ben)  # another account's session is not touched


def test_signing_out_everywhere_when_signed_out_changes_nothing(app: Flask) -> None:
    response = app.test_client().post("/shop/signout/everywhere")
    assert (response.status_code, response.location) == (302, "/shop/signin")


# -- idle and absolute lifetimes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "idle", "signed_in"),
    [
        ("ana", dt.timedelta(minutes=59, seconds=59), True),
        ("ana", dt.timedelta(minutes=60), False),
        ("sam", dt.timedelta(minutes=14, seconds=59), True),
        ("sam", dt.timedelta(minutes=15), False),
    ],
    ids=["candidate 59:59", "candidate 60:00", "staff 14:59", "staff 15:00"],
)
def test_a_session_ends_after_its_idle_time(
    app: Flask, people: dict[str, int], clock: Any, who: str, idle: dt.timedelta, signed_in: bool
) -> None:
    client = app.test_client()
    sign_in_as(client, people[who])
    clock.advance(seconds=idle.total_seconds())
    assert is_signed_in(client) is signed_in


def test_each_request_moves_the_idle_time_on(
    app: Flask, people: dict[str, int], clock: Any
) -> None:
    client = app.test_client()
    sign_in_as(client, people["ana"])
    for _ in range(3):
        clock.advance(minutes=50)
        assert is_signed_in(client)  # 150 minutes signed in, never 60 idle
    clock.advance(minutes=60)
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    ("who", "age", "signed_in"),
    [
        ("ana", dt.timedelta(hours=11, minutes=59, seconds=59), True),
        ("ana", dt.timedelta(hours=12), False),
        ("sam", dt.timedelta(hours=7, minutes=59, seconds=59), True),
        ("sam", dt.timedelta(hours=8), False),
    ],
    ids=["candidate 11:59:59", "candidate 12:00:00", "staff 7:59:59", "staff 8:00:00"],
)
def test_a_busy_session_ends_at_its_absolute_age(
    app: Flask, people: dict[str, int], clock: Any, who: str, age: dt.timedelta, signed_in: bool
) -> None:
    client = app.test_client()
    sign_in_as(client, people[who])
    started = clock()
    step = dt.timedelta(minutes=10)  # busy: never idle for long
    while clock() + step < started + age:
        clock.advance(seconds=step.total_seconds())
        assert is_signed_in(client)
    clock.current = started + age
    assert is_signed_in(client) is signed_in


# -- configuration --------------------------------------------------------------------------------


def test_the_lifetimes_come_from_the_configuration(
    app_config: dict[str, Any], people: dict[str, int], clock: Any
) -> None:
    app = create_app({**app_config, "SESSION_IDLE_MINUTES": 5, "SESSION_MAX_HOURS": 1})
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(hours=8)  # staff's, longer
    client = app.test_client()
    sign_in_as(client, people["ana"])
    clock.advance(minutes=4, seconds=59)
    assert is_signed_in(client)
    clock.advance(minutes=5)
    assert not is_signed_in(client)
    app.extensions["db.engine"].dispose()


def test_flask_refuses_a_cookie_older_than_the_longest_session(app: Flask) -> None:
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(hours=12)  # not 31 days


def test_the_lifetimes_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_SESSION_IDLE_MINUTES", "10")
    assert from_environment()["STAFF_SESSION_IDLE_MINUTES"] == 10
    monkeypatch.setenv("STAFF_SESSION_IDLE_MINUTES", "ten")
    with pytest.raises(ValueError, match="STAFF_SESSION_IDLE_MINUTES must be a whole number"):
        from_environment()


@pytest.mark.parametrize("value", [0, -5, "60"])
def test_a_lifetime_that_is_not_a_positive_whole_number_stops_the_start(
    app_config: dict[str, Any], value: Any
) -> None:
    with pytest.raises(
        ValueError, match="SESSION_IDLE_MINUTES must be a whole number of at least 1"
    ):
        create_app({**app_config, "SESSION_IDLE_MINUTES": value})
