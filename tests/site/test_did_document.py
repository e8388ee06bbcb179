"""The static build publishes the issuer's DID document at /.well-known/did.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shop.openbadges.keys import did_document
from shop.openbadges.multibase import public_multikey
from sitegen.build import BuildError, build

ROOT = Path(__file__).resolve().parents[2]


def made_key() -> str:
    """A public key made for this test (the build never sees a private key)."""
    return public_multikey(Ed25519PrivateKey.generate().public_key().public_bytes_raw())


def did_file(folder: Path, *keys: str, did: str = "did:web:cpt.example.org") -> Path:
    path = folder / "did.json"
    path.write_text(json.dumps(did_document(did, keys[0], keys[1:])))
    return path


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_builds_with_the_did_document_are_byte_identical_and_publish_it(
    tmp_path: Path, document_cache: Path
) -> None:
    current, retired = made_key(), made_key()
    source = did_file(tmp_path, current, retired)
    first = build(
        ROOT / "content", tmp_path / "a", search=False, cache_dir=document_cache,
        did_document=source,
    )  # fmt: skip
    second = build(
        ROOT / "content", tmp_path / "b", search=False, cache_dir=document_cache,
        did_document=source,
    )  # fmt: skip
    assert tree(first.out_dir) == tree(second.out_dir)
    published = json.loads((first.out_dir / ".well-known" / "did.json").read_text())
    assert published == json.loads(source.read_text())
    keys = [m["publicKeyMultibase"] for m in published["verificationMethod"]]
    assert keys == [current, retired]


def test_a_rebuild_with_a_rotated_key_rewrites_the_did_document(
    tmp_path: Path, document_cache: Path
) -> None:
    old, new = made_key(), made_key()
    out = tmp_path / "out"
    build(ROOT / "content", out, search=False, cache_dir=document_cache,
          did_document=did_file(tmp_path, old))  # fmt: skip
    build(ROOT / "content", out, search=False, cache_dir=document_cache,
          did_document=did_file(tmp_path, new, old))  # fmt: skip
    published = json.loads((out / ".well-known" / "did.json").read_text())
    assert [m["publicKeyMultibase"] for m in published["verificationMethod"]] == [new, old]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not JSON"),
        ('["a list"]', "a DID document is a JSON object"),
        (None, "not the site's 'did:web:cpt.example.org'"),
        ('{"id": "did:web:cpt.example.org"}', "no verificationMethod"),
    ],
)
def test_a_did_document_that_does_not_fit_the_site_fails_the_build_naming_the_file(
    tmp_path: Path, document_cache: Path, text: str | None, problem: str
) -> None:
    if text is None:
        source = did_file(tmp_path, made_key(), did="did:web:elsewhere.example")
    else:
        source = tmp_path / "did.json"
        source.write_text(text)
    with pytest.raises(BuildError, match=problem) as failed:
        build(ROOT / "content", tmp_path / "out", search=False, cache_dir=document_cache,
              did_document=source)  # fmt: skip
    assert str(source) in str(failed.value)
    assert not (tmp_path / "out").exists()  # refused before anything is written
