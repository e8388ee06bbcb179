"""The issuer's signing key (from configuration, never from the repository) and its DID.

A key is the Ed25519 seed as a Multikey secret (`z3u2...`) on a line of its own, in the file
OB_SIGNING_KEY_FILE or in OB_SIGNING_KEY; lines starting with '#' are comments. A key made
for development says so in its first line, and production refuses it. The issuer is
`did:web:<host of the site>`; its DID document lists the current public key and every retired
one (OB_RETIRED_PUBLIC_KEYS), so that credentials signed before a rotation still verify.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .contexts import MULTIKEY_V1
from .multibase import (
    MultibaseError,
    from_private_multikey,
    from_public_multikey,
    private_multikey,
    public_multikey,
)

DEVELOPMENT_MARK = "# DEVELOPMENT signing key: refused in production"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
# Public test keys: anyone can sign with them (the W3C test vector's), so never trusted.
PUBLISHED_TEST_KEYS = frozenset({"z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"})


class SigningKeyError(ValueError):
    """The signing key cannot be used; the message names the setting and what is wrong."""


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    development: bool  # made by `credentials dev-key` (or marked so): not for production

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_multikey(self) -> str:
        return public_multikey(self.public.public_bytes_raw())


def parse_key(text: str, where: str) -> SigningKey:
    """The key in `text` (a file's content or a variable's value); `where` names it in errors."""
    lines = [line.strip() for line in text.splitlines()]
    development = DEVELOPMENT_MARK in lines
    values = [line for line in lines if line and not line.startswith("#")]
    if len(values) != 1:
        raise SigningKeyError(
            f"{where}: expected one Ed25519 key as a Multikey secret (z3u2...), "
            f"found {len(values)} lines that are not comments"
        )
    try:
        seed = from_private_multikey(values[0])
    except MultibaseError:
        # Not the reason in detail: it would quote part of what may be a secret.
        raise SigningKeyError(
            f"{where}: not an Ed25519 key as a Multikey secret ('z', base58btc, "
            "multicodec 0x8026 and 32 bytes: z3u2...)"
        ) from None
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed), development)


def load_signing_key(config: Mapping[str, Any]) -> SigningKey:
    """The key the configuration names: OB_SIGNING_KEY, else the file OB_SIGNING_KEY_FILE."""
    text = str(config.get("OB_SIGNING_KEY") or "")
    if text:
        return parse_key(text, "OB_SIGNING_KEY")
    path = Path(str(config.get("OB_SIGNING_KEY_FILE") or ""))
    if not str(config.get("OB_SIGNING_KEY_FILE") or ""):
        raise SigningKeyError("no signing key: set OB_SIGNING_KEY_FILE or OB_SIGNING_KEY")
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SigningKeyError(
            f"OB_SIGNING_KEY_FILE {path}: cannot read it ({error.strerror}); "
            "`flask --app shop credentials dev-key` makes a development key"
        ) from None
    return parse_key(content, f"OB_SIGNING_KEY_FILE {path}")


def write_development_key(path: Path) -> bool:
    """Make a development key at `path` unless one is there; True when it made one."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    # Created readable by its owner only, before the key is written into it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(f"{DEVELOPMENT_MARK}\n{private_multikey(seed)}\n")
    return True


def key_problems(config: Mapping[str, Any]) -> list[str]:
    """What makes the signing configuration unfit for production (empty when it is fine)."""
    try:
        key = load_signing_key(config)
    except SigningKeyError as error:
        return [str(error)]
    problems = []
    if key.development:
        problems.append("the Open Badges signing key is a development key: make a real one")
    if key.public_multikey in PUBLISHED_TEST_KEYS:
        problems.append("the Open Badges signing key is a published test key")
    try:
        retired_public_keys(config)
    except SigningKeyError as error:
        problems.append(str(error))
    return problems


def retired_public_keys(config: Mapping[str, Any]) -> list[str]:
    """OB_RETIRED_PUBLIC_KEYS: the public Multikeys of keys no longer used to sign."""
    keys = str(config.get("OB_RETIRED_PUBLIC_KEYS") or "").replace(",", " ").split()
    for key in keys:
        try:
            from_public_multikey(key)
        except MultibaseError as error:
            raise SigningKeyError(f"OB_RETIRED_PUBLIC_KEYS {key[:16]!r}: {error}") from None
    return keys


def issuer_did(site_url: str) -> str:
    """`did:web` of the site's host (a port is written %3A, as did:web says)."""
    parts = urlsplit(site_url)
    if not parts.hostname:
        raise SigningKeyError(f"site_url {site_url!r} has no host to make a did:web of")
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    path = [quote(p, safe="") for p in parts.path.strip("/").split("/") if p]
    return ":".join(["did:web", host, *path])


def verification_method(did: str, public: str) -> str:
    """The id of a key in the DID document: the DID, '#', and the key's Multikey."""
    return f"{did}#{public}"


def did_document(did: str, current: str, retired: Iterable[str] = ()) -> dict[str, Any]:
    """The issuer's DID document: each key a Multikey, all of them assertion methods."""
    keys = [current, *(key for key in retired if key != current)]
    methods = [
        {
            "id": verification_method(did, key),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key,
        }
        for key in keys
    ]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
