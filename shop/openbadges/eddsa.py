"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C vc-di-eddsa).

The signed bytes are SHA-256 of the canonical proof options followed by SHA-256 of the
canonical document (both RDFC-1.0 N-Quads); the signature is Ed25519 over them, written as
multibase base58btc in `proofValue`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .contexts import DocumentLoader
from .multibase import MultibaseError, base58btc, from_base58btc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ASSERTION = "assertionMethod"
SIGNATURE_LENGTH = 64


class ProofError(ValueError):
    """A proof that cannot be checked at all (wrong shape or suite); the message says why."""


@dataclass(frozen=True)
class HashData:
    """What a proof signs, with the canonical forms it comes from (the spec's test vector)."""

    canonical_proof_options: str
    canonical_document: str

    @property
    def proof_hash(self) -> bytes:
        return hashlib.sha256(self.canonical_proof_options.encode("utf-8")).digest()

    @property
    def document_hash(self) -> bytes:
        return hashlib.sha256(self.canonical_document.encode("utf-8")).digest()

    @property
    def combined(self) -> bytes:
        return self.proof_hash + self.document_hash


def hash_data(
    document: Mapping[str, Any], proof_options: Mapping[str, Any], loader: DocumentLoader
) -> HashData:
    """The data to sign for `document` (without its proof) under `proof_options`."""
    if "@context" not in document:
        raise ProofError("the document has no @context")
    options = {key: value for key, value in proof_options.items() if key != "proofValue"}
    options["@context"] = document["@context"]
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    return HashData(loader.canonize(options), loader.canonize(unsigned))


def create_proof(
    document: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
    loader: DocumentLoader,
) -> dict[str, Any]:
    """A `DataIntegrityProof` of `document` by `key`, made at `created` (an XML dateTime)."""
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": ASSERTION,
    }
    signature = key.sign(hash_data(document, proof, loader).combined)
    proof["proofValue"] = base58btc(signature)
    return proof


def only_proof(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document's one proof (an OB 3.0 credential holds it in an array)."""
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise ProofError(f"expected one proof, found {len(proof)}")
        proof = proof[0]
    if not isinstance(proof, Mapping):
        raise ProofError("the document has no proof")
    return proof


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    key: Ed25519PublicKey,
    loader: DocumentLoader,
) -> bool:
    """Whether `proof` (one of the document's proofs) is a valid signature of it by `key`."""
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f"not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}: "
            f"{proof.get('type')!r}, {proof.get('cryptosuite')!r}"
        )
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise ProofError("the proof has no proofValue")
    try:
        signature = from_base58btc(value)
    except MultibaseError as error:
        raise ProofError(f"proofValue: {error}") from None
    if len(signature) != SIGNATURE_LENGTH:
        return False
    try:
        key.verify(signature, hash_data(document, proof, loader).combined)
    except InvalidSignature:
        return False
    return True
