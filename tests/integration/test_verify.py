"""Public verification at /shop/verify: the form, the page, the Open Badges 3.0 JSON-LD, the rate
limit; and the verify ids candidates get (issued by imports, shown on the dashboard).

The clock stands on 15 June 2026 (noon in New York).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import json
import os
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import factories
import pytest
from factories import add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import create_app, db
from shop.demo import seed
from shop.domain import verify_id
from shop.domain.program import load_program
from shop.models import Candidate, Credential, CredentialEvent
from shop.services import credentials, program, results
from shop.services.credentials import issue_credentials

D = dt.date
NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
STAFF = "registrar@cpt.example.org"  # who revokes and reinstates in these tests
MALFORMED = (
    "That is not a verification id: it has 16 letters and digits and a check character, "
    "like 7KQ2-9XDM-4HTV-PA3R-7."
)
MISTYPED = "The check character does not match: one character was mistyped."
SAFETY_TITLE = "Certified Production Technician: Safety module certificate"
# What identifies Ana privately: none of it may reach a public page.
ANA = {"name": "Ana Lopez", "email": "ana.private@example.com", "reference": "REF-ANA-7731"}
REQUIRED = ("safety", "quality", "processes", "maintenance")
PROGRAM = load_program(Path(__file__).parents[2] / "content" / "program.toml")


@pytest.fixture(autouse=True)
def _memory_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counters in memory, fresh for each app: a REDIS_URL in the environment would share them
    between tests (the Redis test below sets its own)."""
    monkeypatch.delenv("REDIS_URL", raising=False)


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def text(page: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def status_of(page: str) -> str:
    found = re.search(r'<dd class="status[^"]*">(.*?)</dd>', page, re.S)
    assert found is not None, page
    return text(found.group(1))


def sign_in_as(client: FlaskClient, candidate_id: int) -> None:
    factories.sign_in_as(client, candidate_id)  # a server-side session, as the link makes


def facts(page: str) -> dict[str, str]:
    """The page's facts list: {term: description}, as words."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    return {text(term): text(description) for term, description in pairs}


def kwa_scores(module: str, start: float) -> dict[str, float]:
    kwas = PROGRAM.module(module).kwas
    return {kwa.slug: start + index * 1.25 for index, kwa in enumerate(kwas)}


def holder(
    app: Flask,
    passes: tuple[tuple[str, dt.date], ...] = (("safety", D(2025, 1, 20)),),
    *,
    issue: bool = True,
    **who: str,
) -> tuple[int, list[str]]:
    """Ana (or `who`) with passes scored 87.5 (KWAs from 93.25); her candidate id and ids."""
    person = {**ANA, **who}
    with database(app) as session:
        candidate = add_candidate(session, **person)
        for number, (module, day) in enumerate(passes, start=1):
            add_attempt(
                session,
                candidate,
                module,
                day,
                passed=True,
                score=87.5,
                kwa_scores=kwa_scores(module, 93.25),
                reference=f"ATT-{person['reference']}-{number}",
            )
        if not issue:
            return candidate.id, []
        issued = issue_credentials(session, candidate.id, now=NOW, program=program.current())
        return candidate.id, [c.verify_id for c in issued]


def typo_of(real: str) -> str:
    """`real` with one character changed to another symbol: what a slip of the finger does."""
    position = 5  # the first character of the second group
    wrong = verify_id.SYMBOLS[(verify_id.SYMBOLS.index(real[position]) + 7) % 32]
    return real[:position] + wrong + real[position + 1 :]


def unknown_id() -> str:
    return verify_id.make(secrets.randbits(80))


# -- the page --------------------------------------------------------------------------------------


def test_a_valid_credential_shows_its_holder_credential_date_and_status(
    app: Flask, client: FlaskClient
) -> None:
    _, (safety,) = holder(app)
    response = client.get(f"/shop/verify/{safety}")
    assert response.status_code == 200
    page = response.text
    assert facts(page) == {
        "Holder": "Ana Lopez",
        "Credential": SAFETY_TITLE,
        "Earned": "January 20, 2025",
        "Status": "Valid",
        "Signature": (
            "Its signed Open Badges 3.0 credential: the signature checks: nothing was changed"
        ),
        "Verification id": safety,
    }
    assert "<h1>Valid credential</h1>" in page
    assert "It does not show the holder's contact details" in text(page)
    assert response.headers["Cache-Control"] == "no-cache"


def test_full_certification_is_named_as_such(app: Flask, client: FlaskClient) -> None:
    passes = (
        ("safety", D(2025, 1, 20)),
        ("quality", D(2025, 4, 2)),
        ("processes", D(2025, 8, 14)),
        ("maintenance", D(2026, 2, 9)),
    )
    _, ids = holder(app, passes)
    assert len(ids) == 5
    full = facts(client.get(f"/shop/verify/{ids[-1]}").text)
    assert (full["Credential"], full["Earned"]) == ("Full CPT certification", "February 9, 2026")
    quality = facts(client.get(f"/shop/verify/{ids[1]}").text)
    assert quality["Credential"] == (
        "Certified Production Technician: Quality Practices & Measurement module certificate"
    )


def test_nothing_personal_beyond_the_name_is_shown(app: Flask, client: FlaskClient) -> None:
    _, (safety,) = holder(app)
    page = client.get(f"/shop/verify/{safety}").text
    badge = client.get(f"/shop/verify/{safety}.json").text
    for shown in (page, badge):
        assert "Ana Lopez" in shown
        for secret in (ANA["email"], "ana.private", ANA["reference"], "ATT-REF-ANA", "87.5"):
            assert secret not in shown
        assert "93.25" not in shown and "94.5" not in shown  # diagnostic (KWA) scores


def test_a_revoked_credential_says_so_with_the_date_and_a_reinstated_one_is_valid(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    _, (safety,) = holder(app)
    with database(app) as session:
        credentials.revoke(
            session, safety, "Assessment irregularity found on review", clock(), by=STAFF
        )
    page = client.get(f"/shop/verify/{safety}").text
    assert status_of(page) == "Revoked on June 15, 2026"
    assert "<h1>Revoked credential</h1>" in page
    assert "irregularity" not in page  # the reason is for staff

    clock.advance(days=3)
    with database(app) as session:
        credentials.reinstate(session, safety, "Review cleared the candidate", clock(), by=STAFF)
    page = client.get(f"/shop/verify/{safety}").text
    assert status_of(page) == "Valid"
    assert "Revoked" not in text(page)


def test_the_revocation_date_is_the_programs_calendar_day(app: Flask, client: FlaskClient) -> None:
    _, (safety,) = holder(app)
    late_evening = dt.datetime(2026, 6, 16, 2, 30, tzinfo=dt.UTC)  # 22:30 on June 15 in New York
    with database(app) as session:
        credentials.revoke(session, safety, "Fraud", late_evening, by=STAFF)
    assert status_of(client.get(f"/shop/verify/{safety}").text) == "Revoked on June 15, 2026"


def test_an_unknown_id_is_a_clear_404(app: Flask, client: FlaskClient) -> None:
    holder(app)
    nobody = unknown_id()
    response = client.get(f"/shop/verify/{nobody}")
    assert response.status_code == 404
    assert "<h1>No credential has this id</h1>" in response.text
    assert nobody in text(response.text)
    answer = client.get(f"/shop/verify/{nobody}.json")
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "No credential has this id."}


def test_a_mistyped_id_is_caught_by_its_check_character(app: Flask, client: FlaskClient) -> None:
    _, (safety,) = holder(app)
    typo = typo_of(safety)
    assert typo != safety and verify_id.normalise(typo) is verify_id.IdProblem.MISTYPED
    for response in (client.get(f"/shop/verify/{typo}"), client.get(f"/shop/verify?id={typo}")):
        assert response.status_code == 400
        assert MISTYPED in text(response.text)
        assert 'aria-invalid="true"' in response.text
        assert f'value="{typo}"' in response.text  # kept in the form, to correct
    answer = client.get(f"/shop/verify/{typo}.json")
    assert answer.status_code == 400
    assert answer.get_json() == {"error": MISTYPED}


def test_the_forms_example_id_passes_its_own_check(app: Flask, client: FlaskClient) -> None:
    hint = re.search(r'<p class="hint" id="id-hint">(.*?)</p>', client.get("/shop/verify").text)
    assert hint is not None
    shown = re.search(r"like (\S+)\.", hint.group(1))
    assert shown is not None
    assert verify_id.normalise(shown.group(1)) == shown.group(1)
    assert shown.group(1) == verify_id.example()  # computed, not typed into the template
    refused = client.get("/shop/verify", query_string={"id": "hello"}).text
    assert f"like {shown.group(1)}." in text(refused)  # the error names the same valid id


def test_something_that_is_not_an_id_is_explained(app: Flask, client: FlaskClient) -> None:
    for typed in ("hello", "7KQ2-9XDM", ""):
        response = client.get("/shop/verify", query_string={"id": typed})
        assert response.status_code == 400
        assert MALFORMED in text(response.text)
    page = client.get("/shop/verify/hello")
    assert page.status_code == 404
    assert MALFORMED in text(page.text)


def test_the_form_is_a_get_form_and_sends_a_loosely_typed_id_to_its_page(
    app: Flask, client: FlaskClient
) -> None:
    _, (safety,) = holder(app)
    form = client.get("/shop/verify")
    assert form.status_code == 200
    assert '<form method="get" action="/shop/verify"' in form.text
    assert 'name="id"' in form.text
    assert "csrf_token" not in form.text
    loose = f"  {safety.replace('-', ' ').lower()} "
    response = client.get("/shop/verify", query_string={"id": loose})
    assert response.status_code == 302
    assert response.location == f"/shop/verify/{safety}"


def test_a_non_canonical_url_moves_permanently_to_the_canonical_one(
    app: Flask, client: FlaskClient
) -> None:
    _, (safety,) = holder(app)
    compact = safety.replace("-", "").lower()
    response = client.get(f"/shop/verify/{compact}")
    assert response.status_code == 301
    assert response.location == f"/shop/verify/{safety}"
    response = client.get(f"/shop/verify/{safety.lower()}.json")
    assert response.status_code == 301
    assert response.location == f"/shop/verify/{safety}.json"
    # O for 0 and I or L for 1 are read as meant.
    zeros_and_ones = verify_id.make(int("0000000001" * 8, 2))  # 0101-0101-0101-0101-?
    with database(app) as session:
        row = session.scalars(select(Credential)).one()
        row.verify_id = zeros_and_ones
    typed = zeros_and_ones.replace("0", "o").replace("1", "l", 2).replace("1", "I")
    response = client.get(f"/shop/verify/{typed}")
    assert (response.status_code, response.location) == (301, f"/shop/verify/{zeros_and_ones}")
    assert client.get(response.location).status_code == 200


# -- Open Badges 3.0 -------------------------------------------------------------------------------


def test_the_credential_as_a_signed_open_badges_3_credential(
    app: Flask, client: FlaskClient
) -> None:
    _, (safety,) = holder(app)
    response = client.get(f"/shop/verify/{safety}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    badge = json.loads(response.data)
    url = f"http://localhost/shop/verify/{safety}"
    assert badge["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert badge["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert badge["id"] == url
    assert badge["issuer"] == {
        "id": "did:web:cpt.example.org",
        "type": ["Profile"],
        "name": "Certified Production Technician program",
        "url": "https://cpt.example.org",
    }
    assert badge["validFrom"] == "2025-01-20T00:00:00Z"
    assert badge["name"] == SAFETY_TITLE
    subject = badge["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    name, email = subject["identifier"]
    assert name == {
        "type": "IdentityObject",
        "identityType": "name",
        "hashed": False,
        "identityHash": "Ana Lopez",
    }
    assert (email["identityType"], email["hashed"]) == ("emailAddress", True)
    salted = (ANA["email"] + email["salt"]).encode()
    assert email["identityHash"] == "sha256$" + hashlib.sha256(salted).hexdigest()
    assert len(email["salt"]) == 32
    achievement = subject["achievement"]
    assert achievement["id"] == "https://cpt.example.org/modules/safety/"
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == SAFETY_TITLE
    assert "Safety assessment" in achievement["description"]
    for kwa in PROGRAM.module("safety").kwas:
        assert kwa.title in achievement["criteria"]["narrative"]
    assert achievement["image"]["id"] == "http://localhost/shop/badges/safety.png"
    (proof,) = badge["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["created"] == "2026-06-15T16:00:00Z"  # when it was issued
    assert proof["verificationMethod"].startswith("did:web:cpt.example.org#z6Mk")
    # The page points to it.
    page = client.get(f"/shop/verify/{safety}").text
    link = f'<link rel="alternate" type="application/ld+json" href="/shop/verify/{safety}.json"'
    assert link in page


def test_the_same_credential_is_served_byte_for_byte_each_time(
    app: Flask, client: FlaskClient
) -> None:
    _, (safety,) = holder(app)
    first = client.get(f"/shop/verify/{safety}.json").data
    assert client.get(f"/shop/verify/{safety}.json").data == first


def test_the_email_hash_matches_the_address_as_an_employer_may_type_it(
    app: Flask, client: FlaskClient
) -> None:
    _, (safety,) = holder(app, email="Ana.Private@Example.com")
    badge = client.get(f"/shop/verify/{safety}.json").get_json()
    email = badge["credentialSubject"]["identifier"][1]
    typed = ("ana.private@example.com" + email["salt"]).encode()
    assert email["identityHash"] == "sha256$" + hashlib.sha256(typed).hexdigest()


def test_each_credential_has_a_salt_of_its_own(app: Flask, client: FlaskClient) -> None:
    passes = (("safety", D(2025, 1, 20)), ("quality", D(2025, 2, 20)))
    _, ids = holder(app, passes)
    salts = {
        client.get(f"/shop/verify/{each}.json").get_json()["credentialSubject"]["identifier"][1][
            "salt"
        ]
        for each in ids
    }
    assert len(salts) == 2


def test_the_verify_url_follows_shop_url_when_set(app: Flask, client: FlaskClient) -> None:
    app.config["SHOP_URL"] = "https://shop.cpt.example.org/"
    app.config["SERVER_NAME"] = "shop.cpt.example.org"  # the test client's host: SHOP_URL's
    app.config["SITE_URL"] = "https://www.cpt.example.org"
    _, (safety,) = holder(app)
    badge = client.get(f"/shop/verify/{safety}.json").get_json()
    assert badge["id"] == f"https://shop.cpt.example.org/shop/verify/{safety}"
    assert badge["issuer"]["url"] == "https://www.cpt.example.org"
    assert badge["issuer"]["id"] == "did:web:cpt.example.org"  # program.toml's site_url


def test_full_certification_as_an_open_badge(app: Flask, client: FlaskClient) -> None:
    passes = tuple((module, D(2025, 3, day)) for day, module in enumerate(REQUIRED, start=1))
    _, ids = holder(app, passes)
    badge = client.get(f"/shop/verify/{ids[-1]}.json").get_json()
    assert badge["name"] == "Full CPT certification"
    achievement = badge["credentialSubject"]["achievement"]
    assert achievement["id"] == "https://cpt.example.org/credentials/#full-certification"
    assert "4 required modules" in achievement["criteria"]["narrative"]
    assert badge["validFrom"] == "2025-03-04T00:00:00Z"
    assert len(badge["proof"]) == 1


def test_without_a_signing_key_the_json_is_a_clear_503(app: Flask, client: FlaskClient) -> None:
    _, (safety,) = holder(app)
    app.config.update(OB_SIGNING_KEY="", OB_SIGNING_KEY_FILE=Path("/nonexistent/key"))
    response = client.get(f"/shop/verify/{safety}.json")
    assert response.status_code == 503
    assert "signing key is not configured" in response.get_json()["error"]
    assert client.get(f"/shop/verify/{safety}").status_code == 200


# -- issuing: imports, the demo, the dashboard -----------------------------------------------------


def record(attempt: str, module: str, day: dt.date, passed: bool = True) -> results.ResultRecord:
    return results.ResultRecord(
        attempt_id=attempt,
        candidate_id="C-ANA",
        name="Ana Lopez",
        email="ana@example.com",
        module=module,
        taken_on=day,
        score=82.0 if passed else 55.0,
        passed=passed,
        kwa_scores=kwa_scores(module, 70),
    )


def held(session: Session) -> dict[tuple[str, str], str]:
    rows = session.scalars(select(Credential).order_by(Credential.id))
    return {(c.kind, c.module): c.verify_id for c in rows}


def test_an_import_issues_ids_and_importing_again_keeps_them(app: Flask) -> None:
    first = [
        record("A-1", "safety", D(2026, 1, 5)),
        record("A-2", "quality", D(2026, 2, 5), passed=False),
    ]
    with app.app_context():
        session = db.session()
        results.import_records(session, first, now=NOW, program=program.current(), source="a")
        after_first = held(session)
        assert list(after_first) == [("module_certificate", "safety")]
        assert (
            verify_id.normalise(after_first["module_certificate", "safety"])
            == (after_first["module_certificate", "safety"])
        )

        results.import_records(session, first, now=NOW, program=program.current(), source="a")
        assert held(session) == after_first

        more = [*first, record("A-3", "quality", D(2026, 3, 5))]
        results.import_records(session, more, now=NOW, program=program.current(), source="b")
        after_more = held(session)
        assert (
            after_more["module_certificate", "safety"]
            == after_first["module_certificate", "safety"]
        )
        assert set(after_more) == {
            ("module_certificate", "safety"),
            ("module_certificate", "quality"),
        }
        events = session.scalars(select(CredentialEvent.action)).all()
        assert events == ["issued", "issued"]


def test_a_rejected_import_issues_nothing(app: Flask) -> None:
    with app.app_context():
        session = db.session()
        first = [record("A-1", "safety", D(2026, 1, 5))]
        results.import_records(session, first, now=NOW, program=program.current(), source="a")
        before = held(session)
        changed = dataclasses.replace(first[0], score=99.0)  # a conflict: nothing is recorded
        batch = [changed, record("A-2", "quality", D(2026, 2, 5))]
        with pytest.raises(results.ResultsRejected):
            results.import_records(session, batch, now=NOW, program=program.current(), source="b")
        assert held(session) == before
        assert list(before) == [("module_certificate", "safety")]


def test_the_dashboard_shows_each_id_its_page_and_a_linkedin_link(
    app: Flask, client: FlaskClient
) -> None:
    # Attempts put in directly, as if recorded before credentials existed: the dashboard only
    # reads, so it shows no id (and issues none) until they are issued, as an import does.
    passes = (("safety", D(2025, 11, 3)), ("green", D(2026, 5, 5)))
    candidate_id, _ = holder(app, passes, issue=False)
    sign_in_as(client, candidate_id)
    before = client.get("/shop/account").text
    assert "/shop/verify/" not in before and "linkedin.com" not in before
    with database(app) as session:
        assert held(session) == {}
        issue_credentials(session, candidate_id, now=NOW, program=program.current())
    page = client.get("/shop/account").text
    with database(app) as session:
        ids = held(session)
    safety, green = ids["module_certificate", "safety"], ids["module_certificate", "green"]
    assert f'<a href="http://localhost/shop/verify/{safety}"><code>{safety}</code></a>' in page
    assert f'<a href="http://localhost/shop/verify/{green}"><code>{green}</code></a>' in page

    links = re.findall(r'<a class="linkedin-link" href="([^"]+)"', page)
    assert len(links) == 2
    parts = urlsplit(html.unescape(links[0]))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.linkedin.com/profile/add"
    assert "organizationName=Certified%20Production%20Technician%20program" in parts.query
    assert parse_qs(parts.query) == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": [SAFETY_TITLE],
        "organizationName": ["Certified Production Technician program"],
        "issueYear": ["2025"],
        "issueMonth": ["11"],
        "certUrl": [f"http://localhost/shop/verify/{safety}"],
        "certId": [safety],
    }
    # Visiting again changes nothing.
    client.get("/shop/account")
    with database(app) as session:
        assert held(session) == ids


def test_a_revoked_credential_on_the_dashboard_has_no_linkedin_link(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    candidate_id, (safety,) = holder(app)
    with database(app) as session:
        credentials.revoke(session, safety, "Review", clock(), by=STAFF)
    sign_in_as(client, candidate_id)
    page = client.get("/shop/account").text
    assert safety in page
    assert "linkedin.com" not in page
    assert "Not shareable while revoked" in page


def test_the_demo_seed_issues_ids_once(app: Flask) -> None:
    with database(app) as session:
        seed(session, NOW.date(), NOW, program.current())
    with database(app) as session:
        first = held(session)
        seed(session, NOW.date(), NOW, program.current())
    with database(app) as session:
        assert held(session) == first
        certified = session.scalars(
            select(Candidate).where(Candidate.reference == "DEMO-CERTIFIED")
        ).one()
        kinds = [
            c.kind for c in session.scalars(select(Credential).filter_by(candidate_id=certified.id))
        ]
    assert kinds.count("full_certification") == 1
    assert kinds.count("module_certificate") == 4


# -- the rate limit --------------------------------------------------------------------------------


def test_past_the_limit_a_client_gets_429_and_another_client_does_not(
    app: Flask, client: FlaskClient
) -> None:
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    _, (safety,) = holder(app)
    answers = [client.get(f"/shop/verify/{safety}").status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    refused = client.get(f"/shop/verify/{safety}")
    assert refused.status_code == 429
    assert "<h1>Too many requests</h1>" in refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # The limit is shared by the three routes.
    assert client.get("/shop/verify").status_code == 429
    refused_json = client.get(f"/shop/verify/{safety}.json")
    assert refused_json.status_code == 429
    assert "Too many requests" in refused_json.get_json()["error"]
    assert "Retry-After" in refused_json.headers

    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert other.get(f"/shop/verify/{safety}").status_code == 200


def test_redirects_do_not_count_toward_the_limit(app: Flask, client: FlaskClient) -> None:
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    _, (safety,) = holder(app)
    for _ in range(5):
        assert client.get("/shop/verify", query_string={"id": safety.lower()}).status_code == 302
    assert [client.get(f"/shop/verify/{safety}").status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]


def test_asking_for_sign_in_links_is_limited_too(app: Flask, client: FlaskClient) -> None:
    app.config["SIGNIN_RATE_LIMIT"] = "2 per hour"
    answers = [
        client.post("/shop/signin", data={"email": f"n{n}@example.com"}).status_code
        for n in range(3)
    ]
    assert answers == [302, 302, 429]
    assert client.get("/shop/signin").status_code == 200  # only asking for links counts
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    assert other.post("/shop/signin", data={"email": "x@example.com"}).status_code == 302


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis() -> Any:
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(error).__name__}: {error})")
    return connection


def test_with_redis_the_counters_are_shared_between_app_instances(
    database_url: str, clock: Any, tmp_path: Path
) -> None:
    """Two shop processes behind a load balancer (two apps here) count in the same Redis."""
    connection = _redis()
    prefix = f"cpt-test-{uuid.uuid4().hex}"
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "CLOCK": clock,
        "OUTBOX_DIR": tmp_path / "outbox",
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "VERIFY_RATE_LIMIT": "3 per minute",
    }
    first, second = create_app(config), create_app(config)
    try:
        assert first.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
        _, (safety,) = holder(first)
        path = f"/shop/verify/{safety}"
        assert [first.test_client().get(path).status_code for _ in range(2)] == [200, 200]
        assert second.test_client().get(path).status_code == 200
        assert second.test_client().get(path).status_code == 429
        assert first.test_client().get(path).status_code == 429
        assert connection.keys(f"*{prefix}*")  # the counters are in Redis
    finally:
        for key in connection.scan_iter(match=f"*{prefix}*"):
            connection.delete(key)
        connection.close()
        for each in (first, second):
            each.extensions["db.engine"].dispose()


def test_while_redis_is_down_lookups_are_still_answered_and_limited(
    database_url: str, clock: Any, tmp_path: Path
) -> None:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "CLOCK": clock,
        "OUTBOX_DIR": tmp_path / "outbox",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "VERIFY_RATE_LIMIT": "3 per minute",
    }
    app = create_app(config)
    try:
        _, (safety,) = holder(app)
        client = app.test_client()
        statuses = [client.get(f"/shop/verify/{safety}").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
    finally:
        app.extensions["db.engine"].dispose()
