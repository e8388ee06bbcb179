"""Verify, for everyone (issue 15, item 4): the verify page says whether the signature checks,
and POST /shop/verify/credential checks any pasted or uploaded Open Badges 3.0 credential item by
item, through the web. And (item B) a full certification resting on a revoked module
certificate is not valid: on the page, in the status list and for the pasted verifier.

The clock stands on 15 June 2026 (noon in New York).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import gzip
import html
import io
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from factories import TEST_SIGNING_KEY, add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from ob3_reference import read_json

from shop import db
from shop.models import Credential
from shop.openbadges.multibase import private_multikey
from shop.services import credentials, program
from shop.services.credentials import issue_credentials

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
STAFF = "registrar@cpt.example.org"
REQUIRED = ("safety", "quality", "processes", "maintenance")
PASTE = "/shop/verify/credential"


@pytest.fixture(autouse=True)
def _memory_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)


def issued(app: Flask, modules: tuple[str, ...] = ("safety",)) -> list[str]:
    """Bo's verify ids, module certificates in program order then full certification."""
    with app.app_context(), db.transaction() as session:
        candidate = add_candidate(session, name="Bo Chen", email="bo.chen@example.com")
        for day, module in enumerate(modules, start=1):
            add_attempt(session, candidate, module, dt.date(2025, 3, day), passed=True)
        rows = issue_credentials(session, candidate.id, now=NOW, program=program.current())
        return [row.verify_id for row in rows]


def served(client: FlaskClient, verify_id: str) -> dict[str, Any]:
    response = client.get(f"/shop/verify/{verify_id}.json")
    assert response.status_code == 200, response.text
    badge: dict[str, Any] = response.get_json()
    return badge


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def facts(page: str) -> dict[str, str]:
    """The verify page's facts list: {term: description}, as words."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    return {words(term): words(description) for term, description in pairs}


def report(page: str) -> dict[str, str]:
    """The pasted verifier's answer: {item: what it says}, and the verdict."""
    items = re.findall(r'<dd class="status [^"]*" data-item="(\w+)">(.*?)</dd>', page, re.S)
    found = {name: words(says) for name, says in items}
    verdict = re.search(r'data-verdict="([^"]+)"', page)
    assert verdict is not None, page
    found["verdict"] = verdict.group(1)
    return found


def paste(client: FlaskClient, document: Any) -> Any:
    body = document if isinstance(document, str) else json.dumps(document)
    return client.post(PASTE, data={"credential": body})


def revoke(app: Flask, verify_id: str, clock: Any) -> None:
    with app.app_context(), db.transaction() as session:
        credentials.revoke(session, verify_id, "Irregularity", clock(), by=STAFF)


def reinstate(app: Flask, verify_id: str, clock: Any) -> None:
    with app.app_context(), db.transaction() as session:
        credentials.reinstate(session, verify_id, "Cleared", clock(), by=STAFF)


# -- the four cases, through the web -----------------------------------------------------------


def test_a_credential_as_served_is_valid_and_ours_item_by_item(
    app: Flask, client: FlaskClient
) -> None:
    (safety,) = issued(app)
    response = paste(client, served(client, safety))
    assert response.status_code == 200, response.text
    found = report(response.text)
    assert found["verdict"] == "valid"
    assert found["signature"].startswith("Yes: the signature checks")
    assert found["issuer"] == ("Yes: issued by us (did:web:cpt.example.org), with one of our keys")
    assert found["status"].startswith("Yes: not revoked (bit ")
    assert found["dates"] == "Yes: valid since 2025-03-01"
    assert "<h1>Valid: one of ours</h1>" in response.text


def test_a_credential_changed_by_one_character_is_tampered(app: Flask, client: FlaskClient) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    badge["credentialSubject"]["identifier"][0]["identityHash"] = "Bo Chem"
    found = report(paste(client, badge).text)
    assert found["verdict"] == "tampered"
    assert found["signature"].startswith("No: the signature does not check")
    assert found["issuer"].startswith("Yes: issued by us")


def test_a_revoked_credential_is_revoked_and_valid_again_after_reinstatement(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    revoke(app, safety, clock)
    found = report(paste(client, badge).text)
    assert found["verdict"] == "revoked"
    assert found["signature"].startswith("Yes")  # signed by us, and unchanged: only revoked
    assert re.fullmatch(r"No: revoked \(bit \d+ of our status list is set\)", found["status"])
    reinstate(app, safety, clock)
    assert report(paste(client, badge).text)["verdict"] == "valid"


@pytest.mark.parametrize("whose", ["signed with another key", "1EdTech's signed sample"])
def test_a_credential_we_did_not_sign_is_not_ours(
    app: Flask, client: FlaskClient, whose: str
) -> None:
    (safety,) = issued(app)
    if whose == "signed with another key":
        app.config["OB_SIGNING_KEY"] = private_multikey(
            Ed25519PrivateKey.generate().private_bytes_raw()
        )
        badge = served(client, safety)
        app.config["OB_SIGNING_KEY"] = TEST_SIGNING_KEY
    else:
        badge = read_json("vectors/1edtech/simple.json")
    response = paste(client, badge)
    assert response.status_code == 200
    found = report(response.text)
    assert found["verdict"] == "not ours"
    assert found["issuer"].startswith("No:")
    assert "status" not in found  # only our own list is read
    assert "did not issue it" in words(response.text)


def test_an_uploaded_file_is_checked_like_a_pasted_one(app: Flask, client: FlaskClient) -> None:
    (safety,) = issued(app)
    upload = io.BytesIO(json.dumps(served(client, safety)).encode())
    response = client.post(
        PASTE,
        data={"credential": "", "file": (upload, "badge.json")},
        content_type="multipart/form-data",
    )
    assert report(response.text)["verdict"] == "valid"


# -- bad input: a clear 4xx, never a 500 -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("", 400, "Paste a credential (its JSON) or choose a file holding one."),
        ("{not json", 400, "This is not JSON: Expecting property name enclosed in double quotes"),
        ('["a list"]', 422, "not a credential: a credential is a JSON object"),
        ('{"type": ["Person"]}', 422, "its type does not include VerifiableCredential"),
        ('"just a string"', 422, "a credential is a JSON object"),
        (
            '{"@context": [], "type": ["VerifiableCredential"], "issuer": "x"}',
            422,
            "it has no single proof to check",
        ),
        ("[" * 100 + "]" * 100, 400, "nested more than 64 levels deep"),
        ("[" * 20_000 + "]" * 20_000, 400, "nested more than 64 levels deep"),
    ],
    ids=[
        "empty",
        "bad JSON",
        "a list",
        "a wrong type",
        "a string",
        "no proof",
        "deep",
        "deeper than Python's parser goes",
    ],
)
def test_what_cannot_be_checked_gets_a_clear_4xx_with_the_form_again(
    app: Flask, client: FlaskClient, body: str, status: int, message: str
) -> None:
    response = paste(client, body)
    assert response.status_code == status
    assert message in words(response.text)
    assert 'role="alert"' in response.text
    assert 'name="credential"' in response.text  # the form, to try again


@pytest.mark.parametrize(
    "named",
    ["x", ["https://www.w3.org/ns/credentials/v2", "x"], "https://evil.example/context.json"],
    ids=["a relative IRI", "a relative IRI after ours", "an unknown URL"],
)
def test_a_context_pyld_cannot_process_is_reported_not_a_server_error(
    app: Flask, client: FlaskClient, named: Any
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    badge["@context"] = named
    response = paste(client, badge)
    assert response.status_code == 200
    found = report(response.text)
    assert found["signature"].startswith("No: cannot be checked:")
    assert found["verdict"] == "tampered"


@pytest.mark.parametrize("how", ["pasted", "uploaded"])
def test_a_body_over_the_size_limit_gets_413_with_the_limit(
    app: Flask, client: FlaskClient, how: str
) -> None:
    app.config["VERIFY_PASTE_MAX_BYTES"] = 4096
    big = json.dumps({"type": ["VerifiableCredential"], "pad": "x" * 4096})
    if how == "pasted":
        response = paste(client, big)
    else:
        response = client.post(
            PASTE,
            data={"file": (io.BytesIO(big.encode()), "big.json")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 413
    assert "That is more than 4 KB: a credential is a few KB of JSON." in words(response.text)


def test_a_body_at_the_size_limit_is_read(app: Flask, client: FlaskClient) -> None:
    app.config["VERIFY_PASTE_MAX_BYTES"] = 4096
    body = '["' + "x" * (4096 - 4) + '"]'
    assert len(body.encode()) == 4096
    response = paste(client, body)
    assert response.status_code == 422  # read and parsed: not a credential


def upload(client: FlaskClient, data: bytes, name: str) -> Any:
    return client.post(
        PASTE, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_a_file_that_is_not_text_is_refused(app: Flask, client: FlaskClient) -> None:
    response = upload(client, b"GIF89a\xff\xfe", "badge.gif")
    assert response.status_code == 400
    assert "The file is not text (UTF-8)" in words(response.text)


def test_an_uploaded_baked_badge_is_checked_by_the_credential_inside(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    (safety,) = issued(app)
    baked = client.get(f"/shop/verify/{safety}.png").data
    assert report(upload(client, baked, "badge.png").text)["verdict"] == "valid"
    revoke(app, safety, clock)
    assert report(upload(client, baked, "badge.png").text)["verdict"] == "revoked"


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("plain badge", "This PNG holds no baked credential (no openbadgecredential chunk)."),
        ("damaged", "This PNG is damaged: the b'IHDR' chunk at byte 8 has a wrong CRC."),
        ("cut short", "This PNG is damaged: the b'IHDR' chunk at byte 8 runs past the end."),
    ],
)
def test_a_png_without_a_readable_credential_is_refused_with_why(
    app: Flask, client: FlaskClient, which: str, message: str
) -> None:
    plain = client.get("/shop/badges/safety.png").data
    data = {
        "plain badge": plain,
        "damaged": plain[:20] + bytes([plain[20] ^ 1]) + plain[21:],
        "cut short": plain[:20],
    }[which]
    response = upload(client, data, "badge.png")
    assert response.status_code == 400
    assert message in words(response.text)


def test_pasting_is_rate_limited_with_the_verify_pages(app: Flask, client: FlaskClient) -> None:
    app.config["VERIFY_RATE_LIMIT"] = "2 per minute"
    assert client.get("/shop/verify").status_code == 200
    assert paste(client, "{}").status_code == 422
    refused = paste(client, "{}")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


def test_the_verify_page_links_to_the_paste_form_on_a_page_of_its_own(
    app: Flask, client: FlaskClient
) -> None:
    assert f'href="{PASTE}"' in client.get("/shop/verify").text
    page = client.get(PASTE)
    assert page.status_code == 200
    assert f'<form method="post" action="{PASTE}" enctype="multipart/form-data"' in page.text
    assert 'name="csrf_token"' in page.text and 'name="credential"' in page.text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def paths_of(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in `node`, containers included."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_of(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths_of(value, (*path, index))
    return found


def test_no_change_to_a_served_credential_gets_a_server_error(
    app: Flask, client: FlaskClient
) -> None:
    app.config["VERIFY_RATE_LIMIT"] = "1000000 per hour"
    (safety,) = issued(app)
    badge = served(client, safety)
    paths = [path for path in paths_of(badge) if path]

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(path=st.sampled_from(paths), value=JSON)
    def fuzz(path: tuple[Any, ...], value: Any) -> None:
        changed = copy.deepcopy(badge)
        parent = changed
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
        response = paste(client, json.dumps(changed))
        assert response.status_code in (200, 422), (path, value, response.status_code)
        if response.status_code == 200:
            assert report(response.text)["verdict"] != "valid" or changed == badge

    fuzz()


# -- the verify page says whether the signature checks -----------------------------------------


def test_the_verify_page_says_the_signature_checks(app: Flask, client: FlaskClient) -> None:
    (safety,) = issued(app)
    signature = facts(client.get(f"/shop/verify/{safety}").text)["Signature"]
    assert (
        signature
        == "Its signed Open Badges 3.0 credential: the signature checks: nothing was changed"
    )


def test_without_a_signing_key_the_verify_page_says_the_signature_cannot_be_checked(
    app: Flask, client: FlaskClient
) -> None:
    (safety,) = issued(app)
    app.config["OB_SIGNING_KEY"] = ""
    app.config["OB_SIGNING_KEY_FILE"] = "/nonexistent/key"
    response = client.get(f"/shop/verify/{safety}")
    assert response.status_code == 200
    assert facts(response.text)["Signature"] == (
        "Its signed Open Badges 3.0 credential: cannot be checked just now: the signing key is "
        "missing"
    )
    assert facts(response.text)["Status"] == "Valid"  # the status does not need the key
    assert paste(client, "{}").status_code == 503


# -- full certification resting on a revoked module certificate --------------------------------


def bit_of(client: FlaskClient, index: int) -> bool:
    encoded = client.get("/shop/credentials/status/1").get_json()["credentialSubject"][
        "encodedList"
    ]
    body = encoded[1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def index_of(app: Flask, verify_id: str) -> int:
    with app.app_context():
        row = db.session().query(Credential).filter_by(verify_id=verify_id).one()
        return row.status_index


@pytest.mark.parametrize("module", REQUIRED)
def test_full_certification_is_not_valid_while_a_required_module_is_revoked(
    app: Flask, client: FlaskClient, clock: Any, module: str
) -> None:
    ids = issued(app, (*REQUIRED, "green"))
    by_module = dict(zip((*REQUIRED, "green"), ids, strict=False))
    full = ids[-1]
    badge = served(client, full)
    assert not bit_of(client, index_of(app, full))

    revoke(app, by_module[module], clock)
    page = client.get(f"/shop/verify/{full}").text
    assert "<h1>Credential not valid</h1>" in page
    assert "Not valid while a module credential it rests on is revoked" in words(page)
    assert bit_of(client, index_of(app, full))
    assert report(paste(client, badge).text)["verdict"] == "revoked"

    reinstate(app, by_module[module], clock)
    assert "<h1>Valid credential</h1>" in client.get(f"/shop/verify/{full}").text
    assert not bit_of(client, index_of(app, full))
    assert report(paste(client, badge).text)["verdict"] == "valid"


def test_revoking_green_which_is_not_required_leaves_full_certification_valid(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    ids = issued(app, (*REQUIRED, "green"))
    green, full = ids[4], ids[-1]
    revoke(app, green, clock)
    assert "<h1>Valid credential</h1>" in client.get(f"/shop/verify/{full}").text
    assert not bit_of(client, index_of(app, full))
    assert bit_of(client, index_of(app, green))


def test_another_candidates_revoked_module_leaves_a_full_certification_valid(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    first = issued(app, REQUIRED)
    with app.app_context(), db.transaction() as session:
        other = add_candidate(session, name="Di Park", email="di.park@example.com")
        for day, module in enumerate(REQUIRED, start=1):
            add_attempt(session, other, module, dt.date(2025, 4, day), passed=True)
        second = [
            row.verify_id
            for row in issue_credentials(session, other.id, now=NOW, program=program.current())
        ]
    revoke(app, first[0], clock)
    assert bit_of(client, index_of(app, first[-1]))
    assert not bit_of(client, index_of(app, second[-1]))
    assert "<h1>Valid credential</h1>" in client.get(f"/shop/verify/{second[-1]}").text
