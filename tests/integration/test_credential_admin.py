"""Staff revoke, reinstate and reissue credentials: on the admin pages and with
`flask credentials show|revoke|reinstate|reissue`, each with a reason kept in the history.

The clock stands on 15 June 2026 (noon in New York).
"""

from __future__ import annotations

import datetime as dt
import getpass
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import factories
import pytest
from click.testing import Result
from factories import add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import db
from shop.domain import verify_id
from shop.models import Candidate, Credential, CredentialEvent
from shop.services import credentials, program
from shop.services.credentials import issue_credentials
from shop.staff_cli import credentials_cli

D = dt.date
NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(app: Flask) -> Flask:
    """The conftest app (SQLite, then PostgreSQL) with the credentials commands, until
    shop/cli.py registers them."""
    if credentials_cli.name not in app.cli.commands:
        app.cli.add_command(credentials_cli)
    return app


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def sign_in_as(client: FlaskClient, candidate_id: int) -> None:
    factories.sign_in_as(client, candidate_id)  # a server-side session, as the link makes


def typo(real: str) -> str:
    """`real` with its check character mistyped."""
    return real[:-1] + ("A" if real[-1] != "A" else "B")


def text(page: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def facts(page: str) -> dict[str, str]:
    """The page's facts list: {term: description}, as words."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    return {text(term): text(description) for term, description in pairs}


def history_rows(page: str) -> list[list[str]]:
    """The history table: [when, what, by, reason] per event, as words."""
    found = re.search(r'<table class="cart credential-history">.*?</table>', page, re.S)
    assert found is not None, page
    rows = re.findall(r"<tr>\s*<td>(.*?)</tr>", found.group(0), re.S)
    return [[text(cell) for cell in re.split(r"</td>\s*<td>", "<td>" + row)] for row in rows]


class People(NamedTuple):
    boss: int  # staff
    ana: int  # holds the Safety and Quality certificates
    ben: int  # not staff
    safety: str  # Ana's verify ids
    quality: str


@pytest.fixture
def people(app: Flask) -> People:
    with database(app) as session:
        boss = add_candidate(session, name="Sam Staff", email="sam@example.com")
        boss.is_staff = True
        ana = add_candidate(session, name="Ana Lopez", email="ana@example.com", reference="C-ANA")
        ben = add_candidate(session, name="Ben Okafor", email="ben@example.com")
        add_attempt(session, ana, "safety", D(2025, 1, 20), passed=True)
        add_attempt(session, ana, "quality", D(2025, 4, 2), passed=True)
        safety, quality = issue_credentials(session, ana.id, now=NOW, program=program.current())
        return People(boss.id, ana.id, ben.id, safety.verify_id, quality.verify_id)


@pytest.fixture
def staff_client(app: Flask, people: People) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, people.boss)
    return client


def credential(app: Flask, verify_id_text: str) -> Credential:
    with app.app_context():
        found = credentials.find_by_verify_id(db.session(), verify_id_text)
        assert isinstance(found, Credential)
        return found


def events(app: Flask, verify_id_text: str) -> list[tuple[str, str]]:
    with app.app_context():
        session = db.session()
        found = credentials.get(session, verify_id_text)
        return [(e.action, e.reason) for e in credentials.history(session, found.id)]


def verify_status(app: Flask, verify_id_text: str) -> str:
    page = app.test_client().get(f"/shop/verify/{verify_id_text}").text
    found = re.search(r'<dd class="status[^"]*">(.*?)</dd>', page, re.S)
    assert found is not None, page
    return text(found.group(1))


def holder_on_verify_page(app: Flask, verify_id_text: str) -> str:
    page = app.test_client().get(f"/shop/verify/{verify_id_text}").text
    found = re.search(r'<dd class="holder">(.*?)</dd>', page, re.S)
    assert found is not None, page
    return text(found.group(1))


# -- who may ---------------------------------------------------------------------------------------


def staff_requests(people: People) -> list[tuple[str, str]]:
    base = f"/shop/admin/credentials/{people.safety}"
    return [
        ("GET", "/shop/admin/credentials"),
        ("GET", "/shop/admin/credentials?q=ana"),
        ("GET", base),
        ("POST", f"{base}/revoke"),
        ("POST", f"{base}/reinstate"),
        ("POST", f"{base}/reissue"),
    ]


def test_a_candidate_who_is_not_staff_gets_404_and_changes_nothing(
    app: Flask, client: FlaskClient, people: People
) -> None:
    sign_in_as(client, people.ben)
    for method, url in staff_requests(people):
        response = client.open(url, method=method, data={"reason": "x", "name": "Mallory"})
        assert response.status_code == 404, (method, url)
    assert events(app, people.safety) == [("issued", "")]
    assert credential(app, people.safety).holder_name == "Ana Lopez"


def test_anonymous_visitors_are_sent_to_sign_in(
    app: Flask, client: FlaskClient, people: People
) -> None:
    for method, url in staff_requests(people):
        response = client.open(url, method=method, data={"reason": "x", "name": "Mallory"})
        assert response.status_code == 302, (method, url)
        assert urlsplit(response.location).path == "/shop/signin"
    assert events(app, people.safety) == [("issued", "")]


# -- finding a credential --------------------------------------------------------------------------


def found_ids(page: str) -> list[str]:
    return re.findall(r'<a href="/shop/admin/credentials/([^"]+)"><code>', page)


@pytest.mark.parametrize(
    "query",
    [
        "ana lopez",
        "LOPEZ",
        "ana@example",
        "{safety}",
        "{safety_loose}",
        "{safety_spaced}",
        "{safety_part}",
        "{safety_part_undashed}",
        "{safety_part_spaced}",
        "{safety_part_mid_group}",
    ],
)
def test_staff_find_credentials_by_id_name_or_email(
    app: Flask, staff_client: FlaskClient, people: People, query: str
) -> None:
    safety = people.safety  # e.g. 7KQ2-9XDM-4HTV-PA3R-7
    typed = query.format(
        safety=safety,
        safety_loose=safety.replace("-", "").lower(),
        safety_spaced=safety.replace("-", " "),
        safety_part=safety[:9].lower(),  # 7kq2-9xdm
        safety_part_undashed=safety[5:14].replace("-", ""),  # 9XDM4HTV: across a dash
        safety_part_spaced=safety[5:14].replace("-", " ").lower(),  # 9xdm 4htv
        safety_part_mid_group=safety[2:12].replace("-", ""),  # Q29XDM4H
    )
    page = staff_client.get("/shop/admin/credentials", query_string={"q": typed})
    assert page.status_code == 200
    expected = [people.safety] if "{safety" in query else [people.safety, people.quality]
    assert sorted(found_ids(page.text)) == sorted(expected)


def test_a_search_that_finds_nothing_says_so(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    for typed in ("Zoe", "100%", "a_b"):
        page = staff_client.get("/shop/admin/credentials", query_string={"q": typed}).text
        assert found_ids(page) == []
        assert f"No credentials match “{typed}”." in text(page)
    everything = staff_client.get("/shop/admin/credentials").text
    assert sorted(found_ids(everything)) == sorted([people.safety, people.quality])


def test_the_staff_page_of_a_credential(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    response = staff_client.get(f"/shop/admin/credentials/{people.safety}")
    assert response.status_code == 200
    words = text(response.text)
    assert "Certified Production Technician: Safety module certificate: valid." in words
    shown = facts(response.text)
    assert shown["Candidate"] == "Ana Lopez <ana@example.com> (C-ANA)"
    assert shown["Holder (as printed)"] == "Ana Lopez"
    assert shown["Edition"] == "1"
    assert shown["Public page"] == f"http://localhost/shop/verify/{people.safety}"
    assert history_rows(response.text) == [
        ["June 15, 2026 16:00 UTC", "issued", "the rules, as results were recorded", ""]
    ]
    assert 'action="/shop/admin/credentials/' + people.safety + '/revoke"' in response.text
    assert "/reinstate" not in response.text  # a valid credential can only be revoked
    unknown = verify_id.make(12345)
    assert staff_client.get(f"/shop/admin/credentials/{unknown}").status_code == 404
    assert staff_client.get("/shop/admin/credentials/nonsense").status_code == 404


# -- revoking and reinstating on the pages ---------------------------------------------------------


def test_staff_revoke_and_reinstate_with_reasons_kept_in_the_history(
    app: Flask, staff_client: FlaskClient, people: People, clock: Any
) -> None:
    base = f"/shop/admin/credentials/{people.safety}"
    response = staff_client.post(
        f"{base}/revoke", data={"reason": "  Cheating confirmed  ", "confirm": "yes"}
    )
    assert response.status_code == 302
    assert response.location == base
    page = staff_client.get(base).text
    assert f"Credential {people.safety} was revoked" in text(page)
    assert "revoked on June 15, 2026" in text(page)
    assert verify_status(app, people.safety) == "Revoked on June 15, 2026"
    assert verify_status(app, people.quality) == "Valid"  # only the one named

    clock.advance(days=2)
    sign_in_as(staff_client, people.boss)  # two days later: that session has ended
    response = staff_client.post(f"{base}/reinstate", data={"reason": "Appeal upheld"})
    assert response.status_code == 302
    page = staff_client.get(base).text
    assert f"Credential {people.safety} was reinstated" in text(page)
    assert verify_status(app, people.safety) == "Valid"
    assert history_rows(page) == [
        ["June 15, 2026 16:00 UTC", "issued", "the rules, as results were recorded", ""],
        ["June 15, 2026 16:00 UTC", "revoked", "sam@example.com", "Cheating confirmed"],
        ["June 17, 2026 16:00 UTC", "reinstated", "sam@example.com", "Appeal upheld"],
    ]
    after = credential(app, people.safety)
    assert (after.revoked_at, after.revoked_reason) == (None, None)


@pytest.mark.parametrize(
    ("action", "reason", "message"),
    [
        ("revoke", "", "Give a reason for revoking the credential"),
        ("revoke", "   ", "Give a reason for revoking the credential"),
        ("revoke", "x" * 401, "The reason is 401 characters long: at most 400 fit."),
        ("reinstate", "Appeal", "is valid, not revoked: nothing to reinstate."),
    ],
)
def test_refused_actions_change_nothing_and_say_why(
    app: Flask, staff_client: FlaskClient, people: People, action: str, reason: str, message: str
) -> None:
    response = staff_client.post(
        f"/shop/admin/credentials/{people.safety}/{action}",
        data={"reason": reason, "confirm": "yes"},
    )
    assert response.status_code == 400
    assert message in text(response.text)
    assert events(app, people.safety) == [("issued", "")]
    assert verify_status(app, people.safety) == "Valid"


@pytest.mark.parametrize("confirm", [None, "", "no", "on"])
def test_a_revocation_without_the_confirmation_is_refused_and_changes_nothing(
    app: Flask, staff_client: FlaskClient, people: People, confirm: str | None
) -> None:
    data = {"reason": "Cheating confirmed"}
    if confirm is not None:
        data["confirm"] = confirm
    response = staff_client.post(f"/shop/admin/credentials/{people.safety}/revoke", data=data)
    assert response.status_code == 400
    assert "Tick “I confirm this revocation” to revoke: nothing changed." in text(response.text)
    assert 'value="Cheating confirmed"' in response.text  # what was typed is kept
    assert events(app, people.safety) == [("issued", "")]
    assert verify_status(app, people.safety) == "Valid"


def test_the_revoke_form_asks_for_a_confirmation_that_works_without_javascript(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    page = staff_client.get(f"/shop/admin/credentials/{people.safety}").text
    form = re.search(r'<form method="post" action="[^"]*/revoke".*?</form>', page, re.S)
    assert form is not None
    assert '<input type="checkbox" name="confirm" value="yes" required>' in form.group(0)
    assert "I confirm this revocation" in text(form.group(0))


def test_revoking_a_revoked_credential_is_refused(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    base = f"/shop/admin/credentials/{people.safety}"
    assert (
        staff_client.post(f"{base}/revoke", data={"reason": "Fraud", "confirm": "yes"}).status_code
        == 302
    )
    again = staff_client.post(f"{base}/revoke", data={"reason": "Fraud again", "confirm": "yes"})
    assert again.status_code == 400
    assert "was already revoked on 2026-06-15: nothing changed." in text(again.text)
    assert events(app, people.safety) == [("issued", ""), ("revoked", "Fraud")]


def test_a_reason_of_exactly_400_characters_is_accepted(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    reason = "y" * 400
    base = f"/shop/admin/credentials/{people.safety}"
    assert (
        staff_client.post(f"{base}/revoke", data={"reason": reason, "confirm": "yes"}).status_code
        == 302
    )
    assert events(app, people.safety)[-1] == ("revoked", reason)


def test_actions_on_an_unknown_or_mistyped_id_are_404(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    for target in (verify_id.make(987654321), typo(people.safety), "nonsense"):
        for action in ("revoke", "reinstate", "reissue"):
            response = staff_client.post(
                f"/shop/admin/credentials/{target}/{action}",
                data={"reason": "x", "name": "Ana Smith"},
            )
            assert response.status_code == 404, (target, action)


# -- reissuing after a name change -----------------------------------------------------------------


def test_reissue_keeps_the_ids_and_every_verify_page_shows_the_new_name(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    base = f"/shop/admin/credentials/{people.safety}"
    form = staff_client.get(base).text
    assert 'name="name" required maxlength="200" value="Ana Lopez"' in form
    response = staff_client.post(
        f"{base}/reissue", data={"name": "  Ana  Smith ", "reason": "Married; deed poll seen"}
    )
    assert response.status_code == 302
    assert response.location == base
    page = staff_client.get(base).text
    assert (
        f"Credential {people.safety} and 1 other credential reissued in the name Ana Smith, "
        "same ids, edition 2."
    ) in text(page)
    for verify in (people.safety, people.quality):
        after = credential(app, verify)
        assert (after.verify_id, after.holder_name, after.edition) == (verify, "Ana Smith", 2)
        assert holder_on_verify_page(app, verify) == "Ana Smith"
        assert events(app, verify)[-1] == ("reissued", "Married; deed poll seen")
        badge = app.test_client().get(f"/shop/verify/{verify}.json").get_json()
        assert badge["credentialSubject"]["identifier"][0]["identityHash"] == "Ana Smith"
    assert "Ana Lopez" not in app.test_client().get(f"/shop/verify/{people.quality}").text
    with app.app_context():
        ana = db.session().get(Candidate, people.ana)
        assert ana is not None and ana.name == "Ana Smith"
    assert history_rows(page)[-1] == [
        "June 15, 2026 16:00 UTC",
        "reissued",
        "sam@example.com",
        "Married; deed poll seen",
    ]


@pytest.mark.parametrize(
    ("name", "reason", "message"),
    [
        ("Ana Lopez", "Typo", "already bears the name 'Ana Lopez': nothing to reissue."),
        ("", "Name change", "Give the new name"),
        ("Ana Smith", "", "Give a reason for reissuing the credential"),
        ("A" * 201, "Name change", "The name is 201 characters long: at most 200 fit."),
        (
            "Ana\x00Smith",
            "Name change",
            "The name has a character a name cannot hold: U+0000 (a control character)",
        ),
        ("Ana Smith", "Name\x00change", "The reason has a control character in it"),
    ],
)
def test_refused_reissues_change_nothing(
    app: Flask, staff_client: FlaskClient, people: People, name: str, reason: str, message: str
) -> None:
    response = staff_client.post(
        f"/shop/admin/credentials/{people.safety}/reissue", data={"name": name, "reason": reason}
    )
    assert response.status_code == 400
    assert message in text(response.text)
    after = credential(app, people.safety)
    assert (after.holder_name, after.edition) == ("Ana Lopez", 1)
    assert events(app, people.safety) == [("issued", "")]


# One of each class of character a name may not hold (format, separators, C0 and C1 controls).
INVISIBLE = [
    pytest.param("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE", id="U+202E bidi override"),
    pytest.param("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE", id="U+2066 bidi isolate"),
    pytest.param("\u200b", "U+200B ZERO WIDTH SPACE", id="U+200B zero-width space"),
    pytest.param("\u200d", "U+200D ZERO WIDTH JOINER", id="U+200D zero-width joiner"),
    pytest.param("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE", id="U+FEFF byte order mark"),
    pytest.param("\u2028", "U+2028 LINE SEPARATOR", id="U+2028 line separator"),
    pytest.param("\u2029", "U+2029 PARAGRAPH SEPARATOR", id="U+2029 paragraph separator"),
    pytest.param("\x85", "U+0085 (a control character)", id="U+0085 C1 next line"),
    pytest.param("\x07", "U+0007 (a control character)", id="U+0007 C0 bell"),
]


@pytest.mark.parametrize(("character", "described"), INVISIBLE)
def test_a_reissue_in_a_name_with_an_invisible_character_is_refused_on_the_staff_page(
    app: Flask, staff_client: FlaskClient, people: People, character: str, described: str
) -> None:
    response = staff_client.post(
        f"/shop/admin/credentials/{people.safety}/reissue",
        data={"name": f"Ana{character} Smith", "reason": "Married"},
    )

    assert response.status_code == 400
    assert f"The name has a character a name cannot hold: {described}" in text(response.text)
    after = credential(app, people.safety)
    assert (after.holder_name, after.edition) == ("Ana Lopez", 1)
    assert events(app, people.safety) == [("issued", "")]


@pytest.mark.parametrize(("character", "described"), INVISIBLE)
def test_a_reissue_in_a_name_with_an_invisible_character_is_refused_on_the_command_line(
    app: Flask, runner: FlaskCliRunner, people: People, character: str, described: str
) -> None:
    result = run(
        runner, "reissue", people.safety, "--name", f"Ana Smith{character}", "--reason", "x"
    )

    assert result.exit_code == 1, result.output
    assert f"The name has a character a name cannot hold: {described}" in result.output
    assert "Traceback" not in result.output
    assert credential(app, people.safety).holder_name == "Ana Lopez"
    assert events(app, people.safety) == [("issued", "")]


def test_a_reissue_in_a_decomposed_name_stores_it_composed(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    staff_client.post(
        f"/shop/admin/credentials/{people.safety}/reissue",
        data={"name": "Ana Mun\u0303oz", "reason": "Married"},  # n + combining tilde
    )

    assert credential(app, people.safety).holder_name == "Ana Mu\u00f1oz"
    with app.app_context():
        ana = db.session().get(Candidate, people.ana)
        assert ana is not None and ana.name == "Ana Mu\u00f1oz"


def test_a_revoked_credential_is_reissued_and_stays_revoked(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    base = f"/shop/admin/credentials/{people.safety}"
    staff_client.post(f"{base}/revoke", data={"reason": "Fraud", "confirm": "yes"})
    staff_client.post(f"{base}/reissue", data={"name": "Ana Smith", "reason": "Name change"})
    assert verify_status(app, people.safety) == "Revoked on June 15, 2026"
    assert holder_on_verify_page(app, people.safety) == "Ana Smith"


# -- the services ----------------------------------------------------------------------------------


def test_refusals_are_value_errors(app: Flask, people: People) -> None:
    with database(app) as session:
        with pytest.raises(ValueError, match="nothing to reinstate"):
            credentials.reinstate(session, people.safety, "Why not", NOW, by="staff@example.com")
        with pytest.raises(credentials.CredentialNotFound, match="one character was mistyped"):
            credentials.revoke(session, typo(people.safety), "Fraud", NOW, by="staff@example.com")
        found = credentials.find_by_verify_id(session, people.safety.lower().replace("-", " "))
        assert isinstance(found, Credential) and found.verify_id == people.safety
        assert credentials.find_by_verify_id(session, "nope") is verify_id.IdProblem.MALFORMED
        assert credentials.find_by_verify_id(session, verify_id.make(7)) is None
    assert issubclass(credentials.CredentialError, ValueError)


# -- the commands ----------------------------------------------------------------------------------


def run(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=["credentials", *args])


def test_staff_revoke_reinstate_and_show_from_the_command_line(
    app: Flask, runner: FlaskCliRunner, people: People, clock: Any
) -> None:
    result = run(
        runner,
        "revoke",
        people.safety.lower(),
        "--reason",
        "Cheating confirmed",
        "--by",
        "registrar@cpt.example.org",
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Credential {people.safety} revoked (Ana Lopez).\n"
    assert verify_status(app, people.safety) == "Revoked on June 15, 2026"

    again = run(runner, "revoke", people.safety, "--reason", "Again")
    assert again.exit_code == 1
    assert "was already revoked on 2026-06-15: nothing changed." in again.output

    clock.advance(hours=1)
    result = run(runner, "reinstate", people.safety, "--reason", "Appeal upheld")
    assert result.exit_code == 0, result.output
    assert result.output == f"Credential {people.safety} reinstated: valid again (Ana Lopez).\n"
    assert verify_status(app, people.safety) == "Valid"

    shown = run(runner, "show", people.safety.replace("-", ""))
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[:8] == [
        f"id           {people.safety}",
        "credential   Certified Production Technician: Safety module certificate",
        "holder       Ana Lopez",
        "candidate    Ana Lopez <ana@example.com> (C-ANA)",
        "earned       2025-01-20",
        "edition      1",
        "status       valid",
        f"verify page  http://localhost/shop/verify/{people.safety}",  # SHOP_URL under TESTING
    ]
    operator = f"{getpass.getuser()} (command line)"  # reinstate was run without --by
    width = max(len(operator), len("registrar@cpt.example.org"))
    assert [line.rstrip() for line in lines[9:]] == [
        f"WHEN                  WHAT        {'BY':<{width}}  REASON",
        "2026-06-15 16:00 UTC  issued      -",
        f"2026-06-15 16:00 UTC  revoked     {'registrar@cpt.example.org':<{width}}  "
        "Cheating confirmed",
        f"2026-06-15 17:00 UTC  reinstated  {operator:<{width}}  Appeal upheld",
    ]


def test_the_command_line_reissues_in_a_new_name(
    app: Flask, runner: FlaskCliRunner, people: People
) -> None:
    app.config["SHOP_URL"] = "https://shop.cpt.example.org"
    app.config["SERVER_NAME"] = "shop.cpt.example.org"  # the test client's host: SHOP_URL's
    result = run(
        runner, "reissue", people.quality, "--name", "Ana Smith", "--reason", "Name change"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Credential {people.quality} reissued in the name Ana Smith (edition 2).",
        f"Credential {people.safety} reissued in the name Ana Smith (edition 2).",
    ]
    assert holder_on_verify_page(app, people.safety) == "Ana Smith"
    shown = run(runner, "show", people.quality)
    assert "holder       Ana Smith" in shown.output
    assert f"verify page  https://shop.cpt.example.org/shop/verify/{people.quality}" in shown.output
    (line,) = [line for line in shown.output.splitlines() if " reissued " in line]
    assert line.startswith("2026-06-15 16:00 UTC  reissued  ")
    assert f"{getpass.getuser()} (command line)" in line
    assert line.endswith("Name change")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("revoke", "{safety}"), 2, "Missing option '--reason'"),
        (("revoke", "{safety}", "--reason", " "), 1, "Give a reason for revoking"),
        (("reinstate", "{safety}", "--reason", "x"), 1, "is valid, not revoked"),
        (("reissue", "{safety}", "--reason", "x"), 2, "Missing option '--name'"),
        (("reissue", "{safety}", "--name", "Ana Lopez", "--reason", "x"), 1, "already bears"),
        (("show", "hello"), 1, "'hello' is not a verification id"),
        (("show", "{unknown}"), 1, "No credential has the id {unknown}."),
        (("revoke", "{typo}", "--reason", "x"), 1, "one character was mistyped"),
    ],
)
def test_the_command_line_refuses_with_a_reason_and_a_status(
    app: Flask,
    runner: FlaskCliRunner,
    people: People,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    values = {
        "safety": people.safety,
        "unknown": verify_id.make(424242),
        "typo": typo(people.safety),
    }
    result = run(runner, *(arg.format(**values) for arg in args))
    assert result.exit_code == code, result.output
    assert message.format(**values) in result.output
    assert events(app, people.safety) == [("issued", "")]


# -- the history is kept in the database -----------------------------------------------------------


def test_every_action_writes_one_event_with_its_time(
    app: Flask, staff_client: FlaskClient, people: People, clock: Any
) -> None:
    base = f"/shop/admin/credentials/{people.safety}"
    staff_client.post(f"{base}/revoke", data={"reason": "One", "confirm": "yes"})
    clock.advance(minutes=5)
    staff_client.post(f"{base}/reinstate", data={"reason": "Two"})
    with app.app_context():
        rows = db.session().scalars(
            select(CredentialEvent)
            .join(Credential)
            .where(Credential.verify_id == people.safety)
            .order_by(CredentialEvent.id)
        )
        found = [(e.action, e.reason, e.at) for e in rows]
    assert found == [
        ("issued", "", NOW),
        ("revoked", "One", NOW),
        ("reinstated", "Two", NOW + dt.timedelta(minutes=5)),
    ]


def test_the_staff_nav_links_to_the_credentials(
    app: Flask, staff_client: FlaskClient, people: People
) -> None:
    page = staff_client.get("/shop/admin/orders").text
    assert '<a href="/shop/admin/credentials">Credentials</a>' in page


@pytest.mark.parametrize("by", ["", "   "])
def test_a_change_to_a_credential_must_name_who_made_it(
    app: Flask, people: People, by: str
) -> None:
    with pytest.raises(ValueError, match="must name who made it"), database(app) as session:
        credentials.revoke(session, people.safety, "Fraud", NOW, by=by)
    assert events(app, people.safety) == [("issued", "")]
    assert verify_status(app, people.safety) == "Valid"
