"""The signed Open Badges 3.0 credential the shop serves: valid by the official JSON Schema,
its proof checked independently (pyld over the reference contexts, cryptography), and broken
by any change to it."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import gzip
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from factories import TEST_SIGNING_KEY, add_attempt, add_candidate
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from ob3_reference import (
    independently_verified,
    proof_of,
    public_multikey_of_secret,
    read_json,
    schema_problems,
)

from shop import config, create_app, db
from shop.config import ConfigError
from shop.openbadges.contexts import pinned_loader
from shop.openbadges.eddsa import only_proof, verify_proof
from shop.openbadges.keys import write_development_key
from shop.openbadges.multibase import private_multikey
from shop.services import credentials, program
from shop.services.credentials import issue_credentials

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
PUBLIC = public_multikey_of_secret(TEST_SIGNING_KEY)
REQUIRED = ("safety", "quality", "processes", "maintenance")


def issued(app: Flask, modules: tuple[str, ...] = ("safety",)) -> list[str]:
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


def string_fields(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string in the credential outside its proof and its @context."""
    if isinstance(node, dict):
        for key, value in node.items():
            if path == () and key in {"proof", "@context"}:
                continue
            yield from string_fields(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from string_fields(value, (*path, index))
    elif isinstance(node, str):
        yield path


def changed_at(document: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    """A copy with the string at `path` changed in one character (its last)."""
    copied = copy.deepcopy(document)
    parent = copied
    for step in path[:-1]:
        parent = parent[step]
    value: str = parent[path[-1]]
    parent[path[-1]] = value[:-1] + ("x" if value[-1:] != "x" else "y")
    return copied


def test_a_module_credential_and_the_full_certification_are_valid_by_the_ob3_schema(
    app: Flask, client: FlaskClient
) -> None:
    ids = issued(app, REQUIRED)
    assert len(ids) == 5
    for verify_id in ids:
        badge = served(client, verify_id)
        assert schema_problems(badge) == [], verify_id
        assert isinstance(badge["proof"], list)


def test_the_served_credential_verifies_independently_and_by_our_own_check(
    app: Flask, client: FlaskClient
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    assert proof_of(badge)["verificationMethod"] == f"did:web:cpt.example.org#{PUBLIC}"
    assert independently_verified(badge, PUBLIC)
    key = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()  # not ours: fails
    assert not verify_proof(badge, only_proof(badge), key, pinned_loader())


def test_the_full_certification_verifies_independently(app: Flask, client: FlaskClient) -> None:
    ids = issued(app, REQUIRED)
    assert independently_verified(served(client, ids[-1]), PUBLIC)


def test_the_credential_fails_after_any_field_changes_by_one_character(
    app: Flask, client: FlaskClient
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    paths = list(string_fields(badge))
    assert len(paths) > 20  # every string of the credential, its subject and achievement
    for path in paths:
        assert not independently_verified(changed_at(badge, path), PUBLIC), path


def test_the_credential_fails_when_hashed_is_flipped(app: Flask, client: FlaskClient) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    badge["credentialSubject"]["identifier"][1]["hashed"] = False
    assert not independently_verified(badge, PUBLIC)


@pytest.mark.parametrize(
    "created", ["2026-06-15T16:00:01Z", "2026-06-14T16:00:00Z", "2027-06-15T16:00:00Z"]
)
def test_the_credential_fails_after_its_proofs_date_changes(
    app: Flask, client: FlaskClient, created: str
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    assert proof_of(badge)["created"] == "2026-06-15T16:00:00Z"
    proof_of(badge)["created"] = created
    assert not independently_verified(badge, PUBLIC)


def test_a_credential_signed_with_another_key_fails_with_ours(
    app: Flask, client: FlaskClient
) -> None:
    (safety,) = issued(app)
    other = private_multikey(Ed25519PrivateKey.generate().private_bytes_raw())
    app.config["OB_SIGNING_KEY"] = other
    badge = served(client, safety)
    assert not independently_verified(badge, PUBLIC)
    assert independently_verified(badge, public_multikey_of_secret(other))


def test_a_reissue_after_a_name_change_signs_a_new_credential_with_the_same_id(
    app: Flask, client: FlaskClient
) -> None:
    (safety,) = issued(app)
    before = served(client, safety)
    later = NOW + dt.timedelta(days=30)
    with app.app_context(), db.transaction() as session:
        credentials.reissue(session, safety, "Bo Chen-Li", "Married", later, by="registrar")
    after = served(client, safety)
    assert after["id"] == before["id"]
    assert after["credentialSubject"]["identifier"][0]["identityHash"] == "Bo Chen-Li"
    assert proof_of(after)["created"] == "2026-07-15T16:00:00Z"
    assert independently_verified(after, PUBLIC)
    assert independently_verified(before, PUBLIC)  # the old copy stays a valid signature


# -- keys: the DID document command, development keys, production ---------------------------------


def test_the_did_command_prints_the_did_document_of_the_apps_key(
    app: Flask, runner: FlaskCliRunner
) -> None:
    retired = public_multikey_of_secret(private_multikey(bytes(range(32))))
    app.config["OB_RETIRED_PUBLIC_KEYS"] = retired
    result = runner.invoke(args=["credentials", "did"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["id"] == "did:web:cpt.example.org"
    keys = [method["publicKeyMultibase"] for method in document["verificationMethod"]]
    assert keys == [PUBLIC, retired]
    assert document["assertionMethod"] == [f"did:web:cpt.example.org#{k}" for k in keys]


def test_a_credential_names_a_key_of_the_did_document(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    (safety,) = issued(app)
    method = proof_of(served(client, safety))["verificationMethod"]
    document = json.loads(runner.invoke(args=["credentials", "did"]).output)
    assert method in document["assertionMethod"]


def test_the_did_command_without_a_key_says_which_setting(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    app.config.update(OB_SIGNING_KEY="", OB_SIGNING_KEY_FILE=tmp_path / "none")
    result = runner.invoke(args=["credentials", "did"])
    assert result.exit_code == 1
    assert "OB_SIGNING_KEY_FILE" in result.output and "cannot read it" in result.output


def test_the_dev_key_command_makes_a_key_once_and_the_shop_signs_with_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "instance" / "ob-signing-key.dev"
    app.config.update(OB_SIGNING_KEY="", OB_SIGNING_KEY_FILE=path)
    made = runner.invoke(args=["credentials", "dev-key"])
    assert made.exit_code == 0 and "written" in made.output
    key_text = path.read_text()
    again = runner.invoke(args=["credentials", "dev-key"])
    assert again.exit_code == 0 and "kept" in again.output
    assert path.read_text() == key_text
    (safety,) = issued(app)
    secret = key_text.splitlines()[-1]
    assert independently_verified(served(client, safety), public_multikey_of_secret(secret))


def test_production_refuses_to_start_with_a_development_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in config.ENVIRONMENT_KEYS:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "dev.key"
    write_development_key(path)
    settings = {
        "SHOP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "SECRET_KEY": "a-production-secret-key-of-forty-eight-characters",
        "STRIPE_SECRET_KEY": "sk_live_like",
        "STRIPE_WEBHOOK_SECRET": "whsec_live_like",
        "RESULTS_API_SECRET": "results-api-secret-for-production",
        "SHOP_URL": "https://cpt.example.org",
        "OB_SIGNING_KEY_FILE": path,
    }
    with pytest.raises(ConfigError) as refused:
        create_app(settings)
    assert refused.value.problems == [
        "the Open Badges signing key is a development key: make a real one"
    ]
    with pytest.raises(ConfigError, match="default is the development key"):
        create_app({**settings, "OB_SIGNING_KEY_FILE": config.DEVELOPMENT_SIGNING_KEY_FILE})
    real = tmp_path / "real.key"
    real.write_text(private_multikey(Ed25519PrivateKey.generate().private_bytes_raw()) + "\n")
    app = create_app({**settings, "OB_SIGNING_KEY_FILE": real})
    app.extensions["db.engine"].dispose()


# -- the revocation status list ---------------------------------------------------------------

LIST = "/shop/credentials/status/1"


def status_list(client: FlaskClient) -> dict[str, Any]:
    response = client.get(LIST)
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document: dict[str, Any] = json.loads(response.data)
    return document


def bit_of(client: FlaskClient, index: int) -> bool:
    encoded = status_list(client)["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"
    body = encoded[1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert len(bits) * 8 >= 131_072
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def test_each_credential_points_at_its_own_bit_of_the_served_list(
    app: Flask, client: FlaskClient
) -> None:
    ids = issued(app, REQUIRED)
    entries = [served(client, each)["credentialStatus"] for each in ids]
    indexes = {int(entry["statusListIndex"]) for entry in entries}
    assert len(indexes) == 5  # one index each
    for entry in entries:
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusPurpose"] == "revocation"
        assert entry["statusListCredential"] == f"http://localhost{LIST}"
        assert entry["id"] == f"http://localhost{LIST}#{entry['statusListIndex']}"
        assert 0 <= int(entry["statusListIndex"]) < 131_072


def test_a_revoked_credentials_bit_is_set_and_cleared_after_reinstatement(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    safety, quality = issued(app, ("safety", "quality"))
    index = int(served(client, safety)["credentialStatus"]["statusListIndex"])
    other = int(served(client, quality)["credentialStatus"]["statusListIndex"])
    assert not bit_of(client, index)
    with app.app_context(), db.transaction() as session:
        credentials.revoke(session, safety, "Irregularity", clock(), by="registrar")
    assert bit_of(client, index)
    assert not bit_of(client, other)
    clock.advance(days=2)
    with app.app_context(), db.transaction() as session:
        credentials.reinstate(session, safety, "Cleared", clock(), by="registrar")
    assert not bit_of(client, index)
    assert independently_verified(served(client, safety), PUBLIC)  # the credential is unchanged


def test_the_status_list_is_a_signed_credential_that_verifies_independently(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    (safety,) = issued(app)
    with app.app_context(), db.transaction() as session:
        credentials.revoke(session, safety, "Irregularity", clock(), by="registrar")
    document = status_list(client)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == f"http://localhost{LIST}"
    assert document["issuer"] == "did:web:cpt.example.org"
    assert document["credentialSubject"]["statusPurpose"] == "revocation"
    assert document["validFrom"] == "2026-06-15T16:00:00Z"  # the revocation
    assert independently_verified(document, PUBLIC)
    document["credentialSubject"]["encodedList"] = encode_list({0})
    assert not independently_verified(document, PUBLIC)


def encode_list(indexes: set[int]) -> str:
    bits = bytearray(131_072 // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).decode().rstrip("=")


def test_the_list_is_the_same_bytes_until_a_change_and_answers_304_to_a_current_copy(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    (safety,) = issued(app)
    first = client.get(LIST)
    assert client.get(LIST).data == first.data
    etag = first.headers["ETag"]
    cached = client.get(LIST, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.headers["Access-Control-Allow-Origin"] == "*"
    with app.app_context(), db.transaction() as session:
        credentials.revoke(session, safety, "Irregularity", clock(), by="registrar")
    changed = client.get(LIST, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.data != first.data


def test_an_unknown_list_is_a_clear_404(app: Flask, client: FlaskClient) -> None:
    response = client.get("/shop/credentials/status/2")
    assert response.status_code == 404
    assert "No status list 2" in response.get_json()["error"]


def _bits_with_indexes(indexes: list[int]) -> Callable[[int], int]:
    """random_bits whose 17-bit draws (status-list indexes) come from `indexes`."""
    draws = iter(indexes)

    def bits(count: int) -> int:
        return next(draws) if count == 17 else secrets.randbits(count)

    return bits


def test_an_index_already_held_is_drawn_again_and_a_full_list_says_so(app: Flask) -> None:
    with app.app_context(), db.transaction() as session:
        candidate = add_candidate(session)
        add_attempt(session, candidate, "safety", dt.date(2025, 3, 1), passed=True)
        add_attempt(session, candidate, "quality", dt.date(2025, 3, 2), passed=True)
        rows = issue_credentials(
            session,
            candidate.id,
            now=NOW,
            program=program.current(),
            random_bits=_bits_with_indexes([5, 5, 9]),
        )
        assert [row.status_index for row in rows] == [5, 9]
        add_attempt(session, candidate, "processes", dt.date(2025, 3, 3), passed=True)
        with pytest.raises(RuntimeError, match="no free index in the status list"):
            issue_credentials(
                session,
                candidate.id,
                now=NOW,
                program=program.current(),
                random_bits=_bits_with_indexes([5, 9] * 40),
            )


# -- the offline verifier: flask credentials verify FILE.json --------------------------------------


def verify_file(runner: FlaskCliRunner, tmp_path: Path, document: Any) -> tuple[int, str]:
    path = tmp_path / "pasted.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    result = runner.invoke(args=["credentials", "verify", str(path)])
    return result.exit_code, result.output


def test_the_verifier_says_valid_for_one_of_ours_as_served(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    (safety,) = issued(app)
    code, output = verify_file(runner, tmp_path, served(client, safety))
    assert code == 0, output
    assert output.splitlines()[-1] == "verdict: valid"
    assert "signature  ok" in output and "issuer     ok" in output
    assert "status     ok  not revoked" in output


def test_the_verifier_says_tampered_after_a_one_character_change(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    badge["credentialSubject"]["identifier"][0]["identityHash"] = "Bo Chem"
    code, output = verify_file(runner, tmp_path, badge)
    assert code == 1
    assert output.splitlines()[-1] == "verdict: tampered"
    assert "signature  NO  the signature does not check" in output


def test_the_verifier_says_revoked_for_a_revoked_one_and_valid_after_reinstatement(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path, clock: Any
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    with app.app_context(), db.transaction() as session:
        credentials.revoke(session, safety, "Irregularity", clock(), by="registrar")
    code, output = verify_file(runner, tmp_path, badge)
    assert (code, output.splitlines()[-1]) == (1, "verdict: revoked")
    with app.app_context(), db.transaction() as session:
        credentials.reinstate(session, safety, "Cleared", clock(), by="registrar")
    assert verify_file(runner, tmp_path, badge)[0] == 0


@pytest.mark.parametrize("whose", ["another key", "another issuer"])
def test_the_verifier_says_not_ours_for_a_credential_we_did_not_sign(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path, whose: str
) -> None:
    (safety,) = issued(app)
    if whose == "another key":
        app.config["OB_SIGNING_KEY"] = private_multikey(
            Ed25519PrivateKey.generate().private_bytes_raw()
        )
        badge = served(client, safety)
        app.config["OB_SIGNING_KEY"] = TEST_SIGNING_KEY
    else:
        badge = read_json("vectors/1edtech/simple.json")
    code, output = verify_file(runner, tmp_path, badge)
    assert (code, output.splitlines()[-1]) == (1, "verdict: not ours")


def test_a_credential_signed_with_a_retired_key_is_still_ours(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)  # signed with the key that is now retired
    app.config["OB_SIGNING_KEY"] = private_multikey(
        Ed25519PrivateKey.generate().private_bytes_raw()
    )
    assert verify_file(runner, tmp_path, badge)[1].splitlines()[-1] == "verdict: not ours"
    app.config["OB_RETIRED_PUBLIC_KEYS"] = PUBLIC
    assert verify_file(runner, tmp_path, badge)[1].splitlines()[-1] == "verdict: valid"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ('["a list"]', "not a credential: a credential is a JSON object"),
        ('{"type": ["Person"]}', "does not include VerifiableCredential"),
        (
            '{"@context": [], "type": ["VerifiableCredential"], "issuer": "x"}',
            "no single proof",
        ),
    ],
)
def test_the_verifier_explains_what_is_not_a_credential(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, text: str, message: str
) -> None:
    code, output = verify_file(runner, tmp_path, text)
    assert code == 1
    assert message in output and "Traceback" not in output


def test_the_verifier_reports_a_relative_context_instead_of_crashing(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    (safety,) = issued(app)
    badge = served(client, safety)
    badge["@context"] = [badge["@context"][0], "relative-context.json"]
    code, output = verify_file(runner, tmp_path, badge)
    assert (code, output.splitlines()[-1]) == (1, "verdict: tampered"), output
    assert "signature  NO  cannot be checked: not valid JSON-LD" in output
