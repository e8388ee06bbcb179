"""The signed credential saved in docs/examples/ stays valid: by the schema, and its proofs."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path
from typing import Any

from ob3_reference import independently_verified, proof_of, schema_problems

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def signing_key_of(document: dict[str, Any]) -> str:
    did = example("test-key-did.json")
    method = proof_of(document)["verificationMethod"]
    (key,) = [m["publicKeyMultibase"] for m in did["verificationMethod"] if m["id"] == method]
    assert method in did["assertionMethod"]
    return str(key)


def test_the_example_credential_is_valid_and_its_proof_verifies() -> None:
    badge = example("signed-credential.json")
    assert schema_problems(badge) == []
    assert independently_verified(badge, signing_key_of(badge))


def test_the_example_status_list_verifies() -> None:
    listed = example("status-list.json")
    assert independently_verified(listed, signing_key_of(listed))
    badge = example("signed-credential.json")
    assert badge["credentialStatus"]["statusListCredential"] == listed["id"]


def test_the_example_email_hash_matches_the_holders_address() -> None:
    email = example("signed-credential.json")["credentialSubject"]["identifier"][1]
    digest = hashlib.sha256(("ana.lopez@example.com" + email["salt"]).encode()).hexdigest()
    assert email["identityHash"] == f"sha256${digest}"


def test_the_example_baked_badge_holds_the_example_credential() -> None:
    png = (EXAMPLES / "baked-credential.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    marker = b"iTXtopenbadgecredential\x00\x00\x00\x00\x00"
    start = png.index(marker)
    (length,) = struct.unpack(">I", png[start - 4 : start])
    text = png[start + len(marker) : start + 4 + length]
    assert json.loads(text) == example("signed-credential.json")
    assert zlib.crc32(png[start : start + 4 + length]) == int.from_bytes(
        png[start + 4 + length : start + 8 + length], "big"
    )
