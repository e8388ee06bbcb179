"""Organisations: members who sign in with a one-time link, staff pages and commands, bulk
verification (page, CSV, API), API keys, rate limits, and isolation between organisations.

The clock stands on 15 June 2026 (noon in New York).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import itertools
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import pytest
from factories import add_candidate, sign_in_as, sign_in_member_as
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop import db
from shop.domain import verify_id
from shop.models import Credential
from shop.models_organisations import (
    Organisation,
    OrganisationApiKey,
    OrganisationLookupCount,
    OrganisationMember,
)
from shop.services import bulk_verify, organisations

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 15)
STAFF = "registrar@cpt.example.org"


@pytest.fixture(autouse=True)
def _memory_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


# Each credential owns one index of the status list (a unique column).
STATUS_INDEXES = itertools.count(1)


def add_credential(
    session: Session,
    candidate_id: int,
    *,
    holder: str,
    module: str = "safety",
    revoked_at: dt.datetime | None = None,
) -> Credential:
    credential = Credential(
        verify_id=verify_id.make(secrets.randbits(80)),
        candidate_id=candidate_id,
        kind="module_certificate",
        module=module,
        earned_on=dt.date(2026, 3, 2),
        holder_name=holder,
        issued_at=NOW,
        status_index=next(STATUS_INDEXES),
        identity_salt=secrets.token_hex(16),
        revoked_at=revoked_at,
        revoked_reason="issued in error" if revoked_at else None,
    )
    session.add(credential)
    session.flush()
    return credential


def mistyped(real: str) -> str:
    """`real` with its check character mistyped."""
    return real[:-1] + ("A" if real[-1] != "A" else "B")


class World(NamedTuple):
    a: str  # organisation A's public id
    b: str
    b_member_id: int
    b_key_id: int
    ana_id: str  # Ana's safety credential's verify id


@pytest.fixture
def world(app: Flask) -> World:
    with database(app) as session:
        a = organisations.create(
            session, "Acme Tools", "hr@acme.example", "alice@acme.example", by=STAFF, now=NOW
        )
        b = organisations.create(
            session, "Bolt Works", "hr@bolt.example", "bob@bolt.example", by=STAFF, now=NOW
        )
        organisations.add_member(session, b, "bea@bolt.example", by=STAFF, now=NOW)
        key, _ = organisations.create_api_key(session, b, by=STAFF, now=NOW)
        ana = add_candidate(session, name="Ana Lopez", email="ana.private@example.com")
        credential = add_credential(session, ana.id, holder="Ana Lopez")
        member = organisations.member_by_id(session, b, b.members[0].id)
        assert member is not None
        return World(a.public_id, b.public_id, member.id, key.id, credential.verify_id)


def text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


# -- signing in ---------------------------------------------------------------------------------


def test_a_member_who_is_no_candidate_signs_in_with_a_one_time_link(
    app: Flask, client: FlaskClient, world: World
) -> None:
    client.post("/shop/signin", data={"email": "Alice@Acme.example"})
    outbox = list((app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(outbox) == 1
    link = re.search(r"http://localhost(/shop/signin/[^\s?]+)", outbox[0].read_text())
    assert link is not None
    page = client.post(link.group(1))
    assert page.status_code == 302
    assert client.get("/shop/org/").headers["Location"] == f"/shop/org/{world.a}/"
    assert client.get(f"/shop/org/{world.a}/").status_code == 200
    # Used once: the same link again signs nobody in.
    other = app.test_client()
    assert other.post(link.group(1)).status_code == 400


def test_a_candidate_who_is_a_member_gets_one_link_that_signs_in_as_both(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with database(app) as session:
        found = organisations.by_public_id(session, world.a)
        assert found is not None
        organisations.add_member(session, found, "ana.private@example.com", by=STAFF, now=NOW)
    client.post("/shop/signin", data={"email": "ana.private@example.com"})
    outbox = list((app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(outbox) == 1
    link = re.search(r"http://localhost(/shop/signin/[^\s?]+)", outbox[0].read_text())
    assert link is not None
    client.post(link.group(1))
    assert client.get("/shop/account").status_code == 200
    assert client.get(f"/shop/org/{world.a}/").status_code == 200


def test_an_address_that_is_no_members_and_no_candidates_gets_no_link(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert client.post("/shop/signin", data={"email": "nobody@example.com"}).status_code == 302
    assert not list((app.config["OUTBOX_DIR"]).glob("*.eml"))


# -- members ------------------------------------------------------------------------------------


def test_a_member_adds_and_removes_another_member(
    app: Flask, client: FlaskClient, world: World
) -> None:
    sign_in_member_as(client, "alice@acme.example")
    added = client.post(f"/shop/org/{world.a}/members", data={"email": " Carl@Acme.example "})
    assert added.status_code == 302
    with database(app) as session:
        carl = session.scalars(
            select(OrganisationMember).where(OrganisationMember.email == "carl@acme.example")
        ).one()
        assert carl.added_by == "alice@acme.example"
        carl_id = carl.id
    assert client.post(f"/shop/org/{world.a}/members/{carl_id}/remove").status_code == 302
    with database(app) as session:
        assert session.get(OrganisationMember, carl_id) is None


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "is not an email address"),
        ("alice@acme.example", "is already a member"),
        ("", "is not an email address"),
    ],
)
def test_adding_a_bad_or_present_member_is_refused_with_a_message(
    app: Flask, client: FlaskClient, world: World, email: str, message: str
) -> None:
    sign_in_member_as(client, "alice@acme.example")
    page = client.post(f"/shop/org/{world.a}/members", data={"email": email})
    assert page.status_code == 400
    assert message in html.unescape(page.get_data(as_text=True))
    with database(app) as session:
        found = organisations.by_public_id(session, world.a)
        assert found is not None and len(found.members) == 1


def test_the_last_member_cannot_be_removed(app: Flask, client: FlaskClient, world: World) -> None:
    sign_in_member_as(client, "alice@acme.example")
    with database(app) as session:
        found = organisations.by_public_id(session, world.a)
        assert found is not None
        alice_id = found.members[0].id
    page = client.post(f"/shop/org/{world.a}/members/{alice_id}/remove")
    assert page.status_code == 409
    assert "is the last member" in page.get_data(as_text=True)


# -- staff --------------------------------------------------------------------------------------


def test_staff_create_an_organisation_with_its_first_member(
    app: Flask, client: FlaskClient
) -> None:
    with database(app) as session:
        boss = add_candidate(session, email=STAFF)
        boss.is_staff = True
        boss_id = boss.id
    sign_in_as(client, boss_id)
    made = client.post(
        "/shop/admin/organisations/",
        data={
            "name": "  Cog  School ",
            "contact_email": "office@cog.example",
            "member": "dean@cog.example",
        },
    )
    assert made.status_code == 302
    with database(app) as session:
        cog = session.scalars(select(Organisation)).one()
        assert (cog.name, [m.email for m in cog.members]) == ("Cog School", ["dean@cog.example"])
        assert cog.members[0].added_by == STAFF
    refused = client.post(
        "/shop/admin/organisations/",
        data={"name": "", "contact_email": "x@y.example", "member": "z@y.example"},
    )
    assert refused.status_code == 400
    assert "Give the organisation a name." in refused.get_data(as_text=True)


def test_a_candidate_who_is_not_staff_gets_404_on_the_staff_pages(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with database(app) as session:
        ana_id = add_candidate(session).id
    sign_in_as(client, ana_id)
    assert client.get("/shop/admin/organisations/").status_code == 404
    assert client.get(f"/shop/admin/organisations/{world.a}").status_code == 404


def test_the_orgs_commands_create_list_add_and_remove_members(
    app: Flask, runner: FlaskCliRunner
) -> None:
    made = runner.invoke(
        args=["orgs", "create", "Dyna Corp", "hr@dyna.example", "--member", "dee@dyna.example"]
    )
    assert made.exit_code == 0, made.output
    public_id = made.output.split()[0]
    assert runner.invoke(args=["orgs", "add-member", public_id, "eve@dyna.example"]).exit_code == 0
    listed = runner.invoke(args=["orgs", "list"])
    assert "dee@dyna.example, eve@dyna.example" in listed.output
    assert (
        runner.invoke(args=["orgs", "remove-member", public_id, "dee@dyna.example"]).exit_code == 0
    )
    last = runner.invoke(args=["orgs", "remove-member", public_id, "eve@dyna.example"])
    assert last.exit_code == 1
    assert "is the last member" in last.output
    unknown = runner.invoke(args=["orgs", "add-member", "nope", "x@y.example"])
    assert unknown.exit_code == 1 and "no organisation has the id 'nope'" in unknown.output


# -- isolation ----------------------------------------------------------------------------------


# Every route of an organisation, aimed at B's objects: (endpoint, method, URL, form).
B_REQUESTS = [
    ("org.organisation", "GET", "/shop/org/{b}/", {}),
    ("org.add_member", "POST", "/shop/org/{b}/members", {"email": "mallory@acme.example"}),
    ("org.remove_member", "POST", "/shop/org/{b}/members/{b_member}/remove", {}),
    ("org.create_key", "POST", "/shop/org/{b}/keys", {}),
    ("org.revoke_key", "POST", "/shop/org/{b}/keys/{b_key}/revoke", {}),
    ("org.verify", "POST", "/shop/org/{b}/verify", {"ids": "{ana}"}),
    # B's objects through A's own pages:
    ("org.remove_member", "POST", "/shop/org/{a}/members/{b_member}/remove", {}),
    ("org.revoke_key", "POST", "/shop/org/{a}/keys/{b_key}/revoke", {}),
]


def _filled(text: str, world: World) -> str:
    return text.format(
        a=world.a, b=world.b, b_member=world.b_member_id, b_key=world.b_key_id, ana=world.ana_id
    )


def test_the_isolation_table_names_every_route_of_an_organisation(app: Flask) -> None:
    organisation_routes = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("org.")
    }
    # org.home lists one's own organisations: it names no organisation to aim at.
    assert {endpoint for endpoint, *_ in B_REQUESTS} == organisation_routes - {"org.home"}


@pytest.mark.parametrize(
    ("endpoint", "method", "url", "form"),
    B_REQUESTS,
    ids=[f"{method} {url}" for _, method, url, _ in B_REQUESTS],
)
def test_a_member_of_a_gets_404_on_every_page_and_object_of_b(
    app: Flask,
    client: FlaskClient,
    world: World,
    endpoint: str,
    method: str,
    url: str,
    form: dict[str, str],
) -> None:
    sign_in_member_as(client, "alice@acme.example")
    data = {name: _filled(value, world) for name, value in form.items()}
    response = client.open(_filled(url, world), method=method, data=data)
    assert response.status_code == 404
    with database(app) as session:
        b = organisations.by_public_id(session, world.b)
        assert b is not None
        assert [m.email for m in b.members] == ["bea@bolt.example", "bob@bolt.example"]
        assert [k.revoked_at for k in organisations.api_keys(session, b)] == [None]
        assert session.scalars(select(func.count()).select_from(OrganisationLookupCount)).one() == 0


def test_the_api_key_of_b_verifies_as_b_and_counts_for_b(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with database(app) as session:
        b = organisations.by_public_id(session, world.b)
        assert b is not None
        _, secret = organisations.create_api_key(session, b, by=STAFF, now=NOW)
    answer = client.post(
        "/shop/api/org/verify",
        json={"rows": [{"id": world.ana_id}]},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 200
    with database(app) as session:
        counts = session.scalars(select(OrganisationLookupCount)).all()
        assert [(c.organisation_id, c.ids) for c in counts] == [(b.id, 1)]


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    response = client.get(f"/shop/org/{world.a}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/shop/signin?next=")


# -- API keys -----------------------------------------------------------------------------------


def test_an_api_key_is_shown_once_stored_hashed_and_refused_once_revoked(
    app: Flask, client: FlaskClient, world: World
) -> None:
    sign_in_member_as(client, "alice@acme.example")
    page = client.post(f"/shop/org/{world.a}/keys").get_data(as_text=True)
    secret = re.search(r"cptorg_[A-Za-z0-9_-]+", page)
    assert secret is not None
    key = secret.group(0)
    with database(app) as session:
        stored = session.scalars(
            select(OrganisationApiKey).join(Organisation).where(Organisation.public_id == world.a)
        ).one()
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
        key_id = stored.id
    assert key not in client.get(f"/shop/org/{world.a}/").get_data(as_text=True)
    headers = {"Authorization": f"Bearer {key}"}
    body = {"rows": [{"id": world.ana_id}]}
    assert client.post("/shop/api/org/verify", json=body, headers=headers).status_code == 200
    client.post(f"/shop/org/{world.a}/keys/{key_id}/revoke")
    refused = client.post("/shop/api/org/verify", json=body, headers=headers)
    assert refused.status_code == 401
    assert "API key" in refused.get_json()["error"]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer cptorg_wrong", "Basic dXNlcjpwYXNz", "cptorg_no-scheme"],
)
def test_the_api_without_a_valid_key_answers_401(
    client: FlaskClient, world: World, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.post(
        "/shop/api/org/verify", json={"rows": [{"id": world.ana_id}]}, headers=headers
    )
    assert response.status_code == 401


@pytest.fixture
def api_key(app: Flask, world: World) -> str:
    with database(app) as session:
        a = organisations.by_public_id(session, world.a)
        assert a is not None
        return organisations.create_api_key(session, a, by=STAFF, now=NOW)[1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ids": []}, 'the body is JSON {"rows"'),
        ({"rows": []}, "rows is empty"),
        ({"rows": [{"id": 5}]}, 'line 1: each row is an object with an "id" string'),
        ({"rows": [{"id": "x"}, {"id": "y", "phone": "1"}]}, "line 2: unknown field 'phone'"),
        ({"rows": [{"id": "x"}] * 5001}, "line 5001: more than 5,000 rows"),
    ],
)
def test_a_bad_api_body_gets_400_naming_the_row(
    app: Flask, client: FlaskClient, api_key: str, body: dict[str, Any], message: str
) -> None:
    response = client.post(
        "/shop/api/org/verify", json=body, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    with database(app) as session:
        assert session.scalars(select(func.count()).select_from(OrganisationLookupCount)).one() == 0


def test_the_api_is_rate_limited_per_organisation(
    app: Flask, client: FlaskClient, world: World, api_key: str
) -> None:
    app.config["ORG_VERIFY_RATE_LIMIT"] = "2 per hour"
    headers = {"Authorization": f"Bearer {api_key}"}
    body = {"rows": [{"id": world.ana_id}]}
    answers = [client.post("/shop/api/org/verify", json=body, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].get_json()["error"].startswith("Too many requests from your organisation")
    # The page shares A's count; B's members are not held up by A.
    sign_in_member_as(client, "alice@acme.example")
    assert client.post(f"/shop/org/{world.a}/verify", data={"ids": world.ana_id}).status_code == 429
    sign_in_member_as(client, "bob@bolt.example")
    assert client.post(f"/shop/org/{world.b}/verify", data={"ids": world.ana_id}).status_code == 200


# -- bulk verification --------------------------------------------------------------------------


class Expected(NamedTuple):
    typed: str
    outcome: str
    holder: str = ""
    status: str = ""
    revoked_on: str = ""
    name_matches: str = ""
    email_matches: str = ""


def test_five_thousand_rows_are_answered_row_by_row_as_the_database_says(
    app: Flask, client: FlaskClient, world: World
) -> None:
    revoked_at = dt.datetime(2026, 5, 20, 2, 0, tzinfo=dt.UTC)  # 19 May in New York
    expected: list[Expected] = []
    lines = ["id,name,email"]
    with database(app) as session:
        for n in range(2000):
            person = add_candidate(session, name=f"Person {n}", email=f"p{n}@example.com")
            revoked = n % 10 == 0
            credential = add_credential(
                session, person.id, holder=f"Person {n}", revoked_at=revoked_at if revoked else None
            )
            typed = credential.verify_id if n % 2 else credential.verify_id.lower().replace("-", "")
            given_name = f"person  {n}" if n % 7 else f"Persona {n}"
            given_email = f"P{n}@example.com" if n % 5 else f"other{n}@example.com"
            lines.append(f"{typed},{given_name},{given_email}")
            expected.append(
                Expected(
                    typed,
                    "found",
                    f"Person {n}",
                    "revoked" if revoked else "valid",
                    "2026-05-19" if revoked else "",
                    "yes" if n % 7 else "no",
                    "yes" if n % 5 else "no",
                )
            )
            if n < 1000:  # the same credential again, with a typo in its check character
                lines.append(f"{mistyped(credential.verify_id)},,")
                expected.append(Expected(mistyped(credential.verify_id), "mistyped"))
    for _ in range(1500):
        unknown = verify_id.make(secrets.randbits(80))
        lines.append(f"{unknown},,")
        expected.append(Expected(unknown, "not found"))
    for n in range(500):
        lines.append(f"not-an-id-{n},,")
        expected.append(Expected(f"not-an-id-{n}", "not an id"))
    assert len(expected) == 5000
    sign_in_member_as(client, "alice@acme.example")
    answer = client.post(
        f"/shop/org/{world.a}/verify",
        data={"file": (io.BytesIO("\n".join(lines).encode()), "staff.csv"), "format": "csv"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 5000
    for line, (row, want) in enumerate(zip(rows, expected, strict=True), start=2):
        got = Expected(
            row["id_as_typed"],
            row["result"],
            row["holder"],
            row["status"],
            row["revoked_on"],
            row["name_matches"],
            row["email_matches"],
        )
        assert got == want, f"line {line}"
        assert row["line"] == str(line)
        if want.outcome == "mistyped":
            assert row["note"].startswith(f"Line {line}: the check character")
    body = answer.get_data(as_text=True)
    assert "@example.com" not in body  # neither the holder's address nor the one given
    with database(app) as session:
        a = organisations.by_public_id(session, world.a)
        assert a is not None
        count = bulk_verify.lookups_on(session, a.id, TODAY)
        assert count is not None and (count.requests, count.ids) == (1, 5000)


def test_the_table_shows_each_row_and_the_found_credential_as_the_verify_page_does(
    app: Flask, client: FlaskClient, world: World
) -> None:
    sign_in_member_as(client, "alice@acme.example")
    page = client.post(
        f"/shop/org/{world.a}/verify", data={"ids": f"{world.ana_id}\n\n{mistyped(world.ana_id)}\n"}
    )
    assert page.status_code == 200
    words = html.unescape(text(page.get_data(as_text=True)))
    assert "Ana Lopez" in words
    assert "Certified Production Technician: Safety module certificate" in words
    assert "Line 3: the check character does not match" in words
    assert "ana.private@example.com" not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "Ana =Lopez"],
)
def test_a_formula_looking_name_is_exported_as_text(
    app: Flask, client: FlaskClient, world: World, name: str
) -> None:
    with database(app) as session:
        person = add_candidate(session, name=name)
        credential = add_credential(session, person.id, holder=name)
    sign_in_member_as(client, "alice@acme.example")
    answer = client.post(
        f"/shop/org/{world.a}/verify",
        data={"ids": f"{credential.verify_id}\n={name}", "format": "csv"},
    )
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    holder = rows[1][4]
    assert holder == (name if name[0] not in "=+-@\t" else "'" + name)
    assert rows[2][1] == "'=" + name  # the id as typed, too


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"id,name\n", "has no rows of ids"),
        (b"name,email\nAna,a@x.example\n", "line 1: no id column"),
        (b"id,phone\nX\n", "line 1: unknown column 'phone'"),
        (b"id,id\nX,Y\n", "line 1: the column 'id' is named twice"),
        (b"id\nA\nB\nC,D\n", "line 4: 2 fields, but the header names 1 columns"),
        (b"id\nA\n\xff\xfeB\n", "line 3: not UTF-8 text"),
        (b"PK\x03\x04\x00\x00binary", "line 1: a NUL byte: this is not a CSV text file"),
        (("id\n" + "X\n" * 5001).encode(), "line 5002: more than 5,000 rows"),
        (b'id\n"unclosed\n', "not CSV"),
    ],
)
def test_a_bad_file_gets_400_naming_the_line_and_nothing_is_kept(
    app: Flask, client: FlaskClient, world: World, content: bytes, message: str
) -> None:
    sign_in_member_as(client, "alice@acme.example")
    answer = client.post(
        f"/shop/org/{world.a}/verify",
        data={"file": (io.BytesIO(content), "staff.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert message in html.unescape(answer.get_data(as_text=True))
    with database(app) as session:
        assert session.scalars(select(func.count()).select_from(OrganisationLookupCount)).one() == 0


def test_an_empty_pasted_list_is_refused(client: FlaskClient, world: World) -> None:
    sign_in_member_as(client, "alice@acme.example")
    answer = client.post(f"/shop/org/{world.a}/verify", data={"ids": " \n \n"})
    assert answer.status_code == 400
    assert "the list is empty" in answer.get_data(as_text=True)


def test_the_api_answers_the_same_rows_as_the_csv(
    app: Flask, client: FlaskClient, world: World, api_key: str
) -> None:
    answer = client.post(
        "/shop/api/org/verify",
        json={
            "rows": [
                {"id": world.ana_id, "name": "ana lopez", "email": "ana.private@example.com"},
                {"id": "nope"},
            ]
        },
        headers={"Authorization": f"Bearer {api_key}"},
    )
    rows = answer.get_json()["rows"]
    assert rows[0]["result"] == "found" and rows[0]["status"] == "valid"
    assert (rows[0]["name_matches"], rows[0]["email_matches"]) == (True, True)
    assert rows[1]["result"] == "not an id"
    assert "ana.private" not in json.dumps(answer.get_json())


def test_two_members_removing_each_other_at_once_leave_one_member(app: Flask, world: World) -> None:
    """The removal locks the organisation's members (PostgreSQL: FOR UPDATE; SQLite: its write
    lock), so the second sees one member left and is refused."""
    import threading

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def remove(email: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                with db.transaction() as session:
                    b = organisations.by_public_id(session, world.b)
                    assert b is not None
                    organisations.remove_member(session, b, email)
                outcomes.append("removed")
            except organisations.OrganisationError as error:
                outcomes.append(str(error))

    threads = [
        threading.Thread(target=remove, args=(email,))
        for email in ("bob@bolt.example", "bea@bolt.example")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.split(" is ")[0] if o != "removed" else o for o in outcomes) in (
        ["bea@bolt.example", "removed"],
        ["bob@bolt.example", "removed"],
    )
    with database(app) as session:
        b = organisations.by_public_id(session, world.b)
        assert b is not None and len(b.members) == 1
