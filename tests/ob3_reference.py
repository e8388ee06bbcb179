"""The Open Badges 3.0 reference data in ../shared/reference/ob3 (copied unchanged from the
specifications: see its SOURCES.md), and an independent check of an eddsa-rdfc-2022 proof.

The check does not use shop.openbadges: it canonicalizes with pyld over the reference copies
of the contexts and verifies with cryptography, so a test that uses it does not take our
signer's word for anything. Tests that need the data skip, saying so, only when it is absent.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "ob3"
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"the OB 3.0 reference data is absent: {REFERENCE} (../shared)")
    return REFERENCE


def read_json(relative: str) -> Any:
    return json.loads((reference_dir() / relative).read_text(encoding="utf-8"))


def read_text(relative: str) -> str:
    return (reference_dir() / relative).read_text(encoding="utf-8")


def manifest() -> dict[str, dict[str, str]]:
    contexts: dict[str, dict[str, str]] = read_json("contexts/MANIFEST.json")["contexts"]
    return contexts


def reference_context(url: str) -> Any:
    return json.loads((reference_dir() / "contexts" / manifest()[url]["file"]).read_bytes())


def _reference_loader(url: str, options: Any = None) -> dict[str, Any]:
    if url not in manifest():
        raise ValueError(f"no reference copy of {url}")
    return {"contextUrl": None, "documentUrl": url, "document": reference_context(url)}


def canonize(document: dict[str, Any]) -> str:
    """RDFC-1.0 N-Quads by pyld, with the reference contexts (never the network)."""
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": _reference_loader,
    }
    canonical: str = jsonld.normalize(document, options)
    return canonical


def from_base58(text: str) -> bytes:
    assert text[0] == "z", text
    number = 0
    for char in text[1:]:
        number = number * 58 + ALPHABET.index(char)
    leading = len(text[1:]) - len(text[1:].lstrip("1"))
    return b"\0" * leading + number.to_bytes((number.bit_length() + 7) // 8, "big")


def ed25519_key_from_multikey(multikey: str) -> Ed25519PublicKey:
    raw = from_base58(multikey)
    assert raw[:2] == b"\xed\x01" and len(raw) == 34, multikey
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def proof_of(document: dict[str, Any]) -> dict[str, Any]:
    proof = document["proof"]
    if isinstance(proof, list):
        (proof,) = proof
    assert isinstance(proof, dict)
    return proof


def independently_verified(document: dict[str, Any], public_multikey: str) -> bool:
    """Whether the document's one eddsa-rdfc-2022 proof checks, computed here from the spec."""
    proof = proof_of(document)
    if proof.get("cryptosuite") != "eddsa-rdfc-2022" or proof.get("type") != "DataIntegrityProof":
        return False
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    options["@context"] = document["@context"]
    signed = (
        hashlib.sha256(canonize(options).encode()).digest()
        + hashlib.sha256(canonize(unsigned).encode()).digest()
    )
    try:
        ed25519_key_from_multikey(public_multikey).verify(from_base58(proof["proofValue"]), signed)
    except InvalidSignature:
        return False
    return True


def public_multikey_of_secret(secret_multikey: str) -> str:
    """The public Multikey of an Ed25519 secret Multikey (seed), computed here from the spec."""
    raw = from_base58(secret_multikey)
    assert raw[:2] == b"\x80\x26" and len(raw) == 34, "not an Ed25519 secret Multikey"
    public = Ed25519PrivateKey.from_private_bytes(raw[2:]).public_key().public_bytes_raw()
    number = int.from_bytes(b"\xed\x01" + public, "big")
    digits = ""
    while number:
        number, digit = divmod(number, 58)
        digits = ALPHABET[digit] + digits
    return "z" + digits


def schema_problems(document: dict[str, Any]) -> list[str]:
    """What the official OB 3.0 JSON Schema finds wrong with `document` (empty when valid)."""
    from jsonschema import Draft201909Validator, FormatChecker

    schema = read_json("ob_v3p0_achievementcredential_schema.json")
    validator = Draft201909Validator(schema, format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
