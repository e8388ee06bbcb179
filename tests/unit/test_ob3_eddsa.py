"""eddsa-rdfc-2022 proofs: the W3C test vector byte for byte, and 1EdTech's signed samples."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from ob3_reference import (
    canonize,
    independently_verified,
    read_json,
    read_text,
    reference_context,
)

from shop.openbadges import multibase
from shop.openbadges.contexts import DocumentLoader, pinned_loader
from shop.openbadges.eddsa import ProofError, create_proof, hash_data, only_proof, verify_proof

VECTORS = "vectors/eddsa-rdfc-2022"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def vector_loader() -> DocumentLoader:
    # The vector's credential names the W3C examples context, which no package ships (and
    # the product never serves): for this test only, its reference copy is added.
    return pinned_loader().with_documents({EXAMPLES: reference_context(EXAMPLES)})


def vector_key() -> Ed25519PrivateKey:
    pair = read_json("vectors/keyPair.json")
    seed = multibase.from_private_multikey(pair["privateKeyMultibase"])
    return Ed25519PrivateKey.from_private_bytes(seed)


def vector_proof_options() -> dict[str, Any]:
    options: dict[str, Any] = read_json(f"{VECTORS}/proofConfigDataInt.json")
    return options


def test_the_vector_key_pair_round_trips_through_multikey() -> None:
    pair = read_json("vectors/keyPair.json")
    public = vector_key().public_key().public_bytes_raw()
    assert multibase.public_multikey(public) == pair["publicKeyMultibase"]
    assert (
        multibase.private_multikey(vector_key().private_bytes_raw())
        == (pair["privateKeyMultibase"])
    )


@pytest.mark.parametrize(
    ("part", "file"),
    [
        ("canonical_document", "canonDocDataInt.txt"),
        ("canonical_proof_options", "proofCanonDataInt.txt"),
    ],
)
def test_the_vectors_canonical_forms_are_reproduced_byte_for_byte(part: str, file: str) -> None:
    made = hash_data(read_json("vectors/unsigned.json"), vector_proof_options(), vector_loader())
    assert getattr(made, part) == read_text(f"{VECTORS}/{file}")


@pytest.mark.parametrize(
    ("part", "file"),
    [
        ("document_hash", "docHashDataInt.txt"),
        ("proof_hash", "proofHashDataInt.txt"),
        ("combined", "combinedHashDataInt.txt"),
    ],
)
def test_the_vectors_hashes_are_reproduced(part: str, file: str) -> None:
    made = hash_data(read_json("vectors/unsigned.json"), vector_proof_options(), vector_loader())
    assert getattr(made, part).hex() == read_text(f"{VECTORS}/{file}").strip()


def test_signing_the_vector_gives_its_signature_and_its_signed_document() -> None:
    options = vector_proof_options()
    proof = create_proof(
        read_json("vectors/unsigned.json"),
        vector_key(),
        verification_method=options["verificationMethod"],
        created=options["created"],
        loader=vector_loader(),
    )
    assert multibase.from_base58btc(proof["proofValue"]).hex() == (
        read_text(f"{VECTORS}/sigHexDataInt.txt").strip()
    )
    assert proof["proofValue"] == read_text(f"{VECTORS}/sigBTC58DataInt.txt").strip()
    signed = {**read_json("vectors/unsigned.json"), "proof": proof}
    assert signed == read_json(f"{VECTORS}/signedDataInt.json")


def test_the_vectors_signed_document_verifies() -> None:
    signed = read_json(f"{VECTORS}/signedDataInt.json")
    public = vector_key().public_key()
    assert verify_proof(signed, only_proof(signed), public, vector_loader())


def _key_in_fragment(document: dict[str, Any]) -> tuple[str, Ed25519PublicKey]:
    """1EdTech's samples name their key as the fragment of the verification method."""
    multikey = only_proof(document)["verificationMethod"].rsplit("#", 1)[1]
    raw = multibase.from_public_multikey(multikey)
    return multikey, Ed25519PublicKey.from_public_bytes(raw)


@pytest.mark.parametrize("sample", ["simple.json", "testlist.json"])
def test_1edtechs_signed_samples_verify_here_and_independently(sample: str) -> None:
    document = read_json(f"vectors/1edtech/{sample}")
    multikey, public = _key_in_fragment(document)
    assert verify_proof(document, only_proof(document), public, pinned_loader())
    assert independently_verified(document, multikey)


@pytest.mark.parametrize("sample", ["simple.json", "testlist.json"])
def test_1edtechs_sample_fails_after_its_name_changes_by_one_character(sample: str) -> None:
    document = read_json(f"vectors/1edtech/{sample}")
    document["id"] = document["id"] + "4"
    _, public = _key_in_fragment(document)
    assert not verify_proof(document, only_proof(document), public, pinned_loader())


def test_our_canonical_form_equals_pylds_over_the_reference_contexts() -> None:
    document = read_json("vectors/1edtech/simple.json")
    del document["proof"]
    assert pinned_loader().canonize(document) == canonize(document)


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        ({"type": "Ed25519Signature2020", "proofValue": "z1"}, "not a DataIntegrityProof"),
        ({"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019"}, "cryptosuite"),
        ({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}, "no proofValue"),
        (
            {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofValue": "x1"},
            "base58btc",
        ),
    ],
)
def test_a_proof_of_the_wrong_shape_is_a_clear_error(proof: dict[str, Any], message: str) -> None:
    signed = read_json(f"{VECTORS}/signedDataInt.json")
    with pytest.raises(ProofError, match=message):
        verify_proof(signed, proof, vector_key().public_key(), vector_loader())


def test_a_signature_of_the_wrong_length_does_not_verify() -> None:
    signed = read_json(f"{VECTORS}/signedDataInt.json")
    proof = {**only_proof(signed), "proofValue": multibase.base58btc(b"\1" * 63)}
    assert not verify_proof(signed, proof, vector_key().public_key(), vector_loader())


@pytest.mark.parametrize("proofs", [[], [{"a": 1}, {"b": 2}], None, "z123"])
def test_anything_but_one_proof_is_refused(proofs: Any) -> None:
    with pytest.raises(ProofError):
        only_proof({"proof": proofs})


@pytest.mark.parametrize(
    "data", [b"", b"\0", b"\0\0\1", b"\xff" * 64, bytes(range(40)), b"\0" + b"\xed\x01" * 16]
)
def test_base58btc_and_base64url_round_trip(data: bytes) -> None:
    assert multibase.from_base58btc(multibase.base58btc(data)) == data
    assert multibase.from_base64url(multibase.base64url(data)) == data
