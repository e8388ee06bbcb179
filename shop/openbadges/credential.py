"""A CPT credential as a signed Open Badges 3.0 `OpenBadgeCredential`, as plain data.

Built from the credential's facts; signed with an embedded `DataIntegrityProof`
(eddsa-rdfc-2022) in a `proof` array, as the OB 3.0 schema wants. The holder is identified by
the name printed on the document and by a salted SHA-256 of their email address, so that an
employer who knows the address can match it and nobody else can read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .contexts import OB_V3P0_3_0_3, VC_V2, DocumentLoader
from .eddsa import create_proof
from .keys import SigningKey, verification_method

CONTEXT = [VC_V2, OB_V3P0_3_0_3]
TYPE = ["VerifiableCredential", "OpenBadgeCredential"]


@dataclass(frozen=True)
class Achievement:
    """What the credential recognises, as the site describes it."""

    id: str
    name: str
    description: str
    criteria: str
    image: str


@dataclass(frozen=True)
class Holder:
    name: str
    email: str
    salt: str  # stored with the credential: the same hash every time it is served


def normalised_email(email: str) -> str:
    """The address as hashed: trimmed and in lower case, as an employer may type it."""
    return email.strip().lower()


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0's hashed identity: 'sha256$' and the hex SHA-256 of the address then the salt."""
    digest = hashlib.sha256((normalised_email(email) + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def xml_datetime(moment: dt.datetime) -> str:
    """UTC to the second with a Z, the form VC dates take ('2026-06-15T16:00:00Z')."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def unsigned_credential(
    *,
    credential_id: str,
    title: str,
    valid_from: dt.date,
    achievement: Achievement,
    holder: Holder,
    issuer_did: str,
    issuer_name: str,
    site_url: str,
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The credential without its proof."""
    document: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": credential_id,
        "type": list(TYPE),
        "issuer": {"id": issuer_did, "type": ["Profile"], "name": issuer_name, "url": site_url},
        "validFrom": f"{valid_from.isoformat()}T00:00:00Z",
        "name": title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": holder.name,
                },
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": identity_hash(holder.email, holder.salt),
                    "salt": holder.salt,
                },
            ],
            "achievement": {
                "id": achievement.id,
                "type": ["Achievement"],
                "name": achievement.name,
                "description": achievement.description,
                "criteria": {"id": achievement.id, "narrative": achievement.criteria},
                "image": {"id": achievement.image, "type": "Image", "caption": achievement.name},
            },
        },
    }
    if status is not None:
        document["credentialStatus"] = dict(status)
    return document


def signed(
    document: Mapping[str, Any],
    key: SigningKey,
    *,
    issuer_did: str,
    created: dt.datetime,
    loader: DocumentLoader,
) -> dict[str, Any]:
    """`document` with a `proof` array holding its eddsa-rdfc-2022 proof by `key`."""
    unsigned = {name: value for name, value in document.items() if name != "proof"}
    proof = create_proof(
        unsigned,
        key.private,
        verification_method=verification_method(issuer_did, key.public_multikey),
        created=xml_datetime(created),
        loader=loader,
    )
    return {**unsigned, "proof": [proof]}
