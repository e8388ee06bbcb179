"""The signing key from configuration, the issuer's did:web and its DID document."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ob3_reference import public_multikey_of_secret, read_json

from shop.openbadges.keys import (
    DEVELOPMENT_MARK,
    SigningKeyError,
    did_document,
    issuer_did,
    key_problems,
    load_signing_key,
    parse_key,
    retired_public_keys,
    write_development_key,
)
from shop.openbadges.multibase import private_multikey, public_multikey


def fresh_secret() -> str:
    return private_multikey(Ed25519PrivateKey.generate().private_bytes_raw())


def fresh_public() -> str:
    return public_multikey(Ed25519PrivateKey.generate().public_key().public_bytes_raw())


def test_a_key_in_the_variable_is_read_and_its_public_key_derived() -> None:
    secret = fresh_secret()
    key = load_signing_key({"OB_SIGNING_KEY": secret, "OB_SIGNING_KEY_FILE": "/nonexistent"})
    assert key.public_multikey == public_multikey_of_secret(secret)
    assert not key.development


def test_a_key_file_may_hold_comments(tmp_path: Path) -> None:
    secret = fresh_secret()
    path = tmp_path / "key"
    path.write_text(f"# issuer key, made 2026-06-01\n\n  {secret}  \n")
    key = load_signing_key({"OB_SIGNING_KEY": "", "OB_SIGNING_KEY_FILE": path})
    assert key.public_multikey == public_multikey_of_secret(secret)


def test_a_development_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "ob-signing-key.dev"
    assert write_development_key(path)
    first = path.read_text()
    assert not write_development_key(path)  # kept: credentials signed with it stay valid
    assert path.read_text() == first
    assert first.splitlines()[0] == DEVELOPMENT_MARK
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signing_key({"OB_SIGNING_KEY_FILE": path}).development


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "found 0 lines"),
        ("# only a comment\n", "found 0 lines"),
        ("z3u2one\nz3u2two\n", "found 2 lines"),
        ("not-a-key-at-all-secret-text", "not an Ed25519 key as a Multikey secret"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "multicodec 0x8026"),  # a public key
        ("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvj", "32 bytes"),  # cut short
    ],
)
def test_a_bad_key_is_refused_naming_where_without_quoting_it(text: str, message: str) -> None:
    with pytest.raises(SigningKeyError, match=message) as refused:
        parse_key(text, "OB_SIGNING_KEY")
    assert str(refused.value).startswith("OB_SIGNING_KEY: ")
    for line in text.splitlines():
        assert line not in str(refused.value)


def test_a_missing_key_file_is_named_with_the_command_that_makes_one(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match=r"cannot read it .*credentials dev-key"):
        load_signing_key({"OB_SIGNING_KEY_FILE": tmp_path / "absent"})


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"OB_SIGNING_KEY": "", "OB_SIGNING_KEY_FILE": ""}, "no signing key"),
        ({"OB_SIGNING_KEY": f"{DEVELOPMENT_MARK}\n{fresh_secret()}"}, "a development key"),
        (
            {"OB_SIGNING_KEY": "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"},
            "a published test key",  # the W3C test vector's
        ),
        ({"OB_SIGNING_KEY": fresh_secret(), "OB_RETIRED_PUBLIC_KEYS": "z6Mkoops"}, "RETIRED"),
    ],
)
def test_production_refuses_a_missing_development_or_published_key(
    config: dict[str, Any], problem: str
) -> None:
    (found,) = key_problems(config)
    assert problem in found


def test_a_real_key_with_retired_ones_is_fine_for_production() -> None:
    config = {"OB_SIGNING_KEY": fresh_secret(), "OB_RETIRED_PUBLIC_KEYS": fresh_public()}
    assert key_problems(config) == []


@pytest.mark.parametrize(
    ("site_url", "did"),
    [
        ("https://cpt.example.org", "did:web:cpt.example.org"),
        ("https://cpt.example.org/", "did:web:cpt.example.org"),
        ("https://CPT.Example.org", "did:web:cpt.example.org"),
        ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
        ("https://example.org/programs/cpt", "did:web:example.org:programs:cpt"),
    ],
)
def test_the_issuer_is_the_did_web_of_the_sites_host(site_url: str, did: str) -> None:
    assert issuer_did(site_url) == did


def test_a_site_url_without_a_host_is_refused() -> None:
    with pytest.raises(SigningKeyError, match="no host"):
        issuer_did("cpt.example.org")


def test_the_did_document_keeps_retired_keys_as_assertion_methods() -> None:
    current, old, older = fresh_public(), fresh_public(), fresh_public()
    config = {"OB_RETIRED_PUBLIC_KEYS": f"{old}, {older}"}
    document = did_document("did:web:cpt.example.org", current, retired_public_keys(config))
    assert document["id"] == "did:web:cpt.example.org"
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    methods = document["verificationMethod"]
    assert [m["publicKeyMultibase"] for m in methods] == [current, old, older]
    assert all(m["type"] == "Multikey" for m in methods)
    assert all(m["controller"] == "did:web:cpt.example.org" for m in methods)
    assert document["assertionMethod"] == [
        f"did:web:cpt.example.org#{k}" for k in methods_keys(methods)
    ]


def methods_keys(methods: list[dict[str, str]]) -> list[str]:
    return [m["publicKeyMultibase"] for m in methods]


def test_the_vector_keys_multikey_forms_are_what_keys_reads() -> None:
    pair = read_json("vectors/keyPair.json")
    key = parse_key(pair["privateKeyMultibase"], "vector")
    assert key.public_multikey == pair["publicKeyMultibase"]
