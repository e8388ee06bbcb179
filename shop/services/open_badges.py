"""A credential as the signed Open Badges 3.0 credential the verify page serves as JSON, and
the signed revocation status list its `credentialStatus` points to.

The key, the document loader and the clock are passed in (shop.openbadges.app gives the app's).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.domain.credentials import CredentialKind
from shop.domain.program import Program
from shop.models import Credential, CredentialEvent
from shop.openbadges import status_list, verifier
from shop.openbadges.badge import FULL_CERTIFICATION
from shop.openbadges.contexts import DocumentLoader
from shop.openbadges.credential import Achievement, Holder, signed, unsigned_credential
from shop.openbadges.keys import SigningKey, issuer_did

from .credentials import (
    ISSUER_NAME,
    credential_title,
    last_status_change,
    module_name,
    revoked_status_indexes,
)


def badge_slug(credential: Credential) -> str:
    """Which badge the credential's achievement shows: its module's, or full certification's."""
    if credential.kind == CredentialKind.MODULE_CERTIFICATE:
        return credential.module
    return FULL_CERTIFICATION


def achievement(
    credential: Credential, program: Program, site_url: str, badge_url: str
) -> Achievement:
    """The module (or the full certification) as the site describes it, with its criteria and
    its badge (`badge_url`, the PNG the shop draws)."""
    site = site_url.rstrip("/")
    title = credential_title(credential, program)
    if credential.kind == CredentialKind.MODULE_CERTIFICATE:
        module = module_name(credential, program)
        try:
            kwas = [kwa.title for kwa in program.module(credential.module).kwas]
        except KeyError:
            kwas = []
        return Achievement(
            id=f"{site}/modules/{credential.module}/",
            name=title,
            description=(
                f"A module certificate of the {program.name} ({program.short_name}) program: "
                f"its holder passed the {module} assessment."
            ),
            criteria=(
                f"Pass the online {module} assessment, a timed multiple-choice test of the "
                "module's Key Work Activities, at or above its cut score. Its Key Work "
                f"Activities: {'; '.join(kwas)}."
            ),
            image=badge_url,
        )
    required = [m.name for m in program.required_modules]
    return Achievement(
        id=f"{site}/credentials/#full-certification",
        name=title,
        description=(
            f"Full certification in the {program.name} ({program.short_name}) program: its "
            f"holder passed all {len(required)} required modules within "
            f"{program.policy.window_years} years."
        ),
        criteria=(
            f"Pass the assessments of the {len(required)} required modules "
            f"({', '.join(required)}) within a window of {program.policy.window_years} "
            "calendar years."
        ),
        image=badge_url,
    )


def signed_at(session: Session, credential: Credential) -> dt.datetime:
    """When the current edition was issued: the proof's date (the same each time it is served)."""
    latest = session.scalar(
        select(func.max(CredentialEvent.at)).where(
            CredentialEvent.credential_id == credential.id,
            CredentialEvent.action.in_(("issued", "reissued")),
        )
    )
    return latest or credential.issued_at


def signed_open_badge(
    session: Session,
    credential: Credential,
    program: Program,
    *,
    key: SigningKey,
    loader: DocumentLoader,
    verify_url: str,
    site_url: str,
    status_list_url: str,
    badge_url: str,
) -> dict[str, Any]:
    """The credential as a signed `OpenBadgeCredential`, its id the verify page's URL, its
    status the bit of its index in the list at `status_list_url`, its image `badge_url`."""
    did = issuer_did(program.site_url)
    document = unsigned_credential(
        credential_id=verify_url,
        title=credential_title(credential, program),
        valid_from=credential.earned_on,
        achievement=achievement(credential, program, site_url, badge_url),
        holder=Holder(credential.holder_name, credential.candidate.email, credential.identity_salt),
        issuer_did=did,
        issuer_name=ISSUER_NAME,
        site_url=site_url.rstrip("/"),
        status=status_list.entry(status_list_url, credential.status_index),
    )
    return signed(
        document, key, issuer_did=did, created=signed_at(session, credential), loader=loader
    )


# The signed lists made, by everything they are made from: a list is signed again only after
# a revocation or reinstatement changes it (or the key or address changes). Every process
# signs the same state with the same date, so each host serves the same bytes.
_SIGNED_LISTS: dict[tuple[Any, ...], dict[str, Any]] = {}
_SIGNED_LISTS_KEPT = 4
_SIGNED_LISTS_LOCK = threading.Lock()


def signed_status_list(
    session: Session,
    program: Program,
    *,
    key: SigningKey,
    loader: DocumentLoader,
    list_url: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The signed `BitstringStatusListCredential` of every revoked credential's index.

    Its date (validFrom and the proof's) is that of the last change (see
    last_status_change); `now` only before any credential was issued.
    """
    did = issuer_did(program.site_url)
    revoked = revoked_status_indexes(session, program)
    changed = last_status_change(session) or now
    made_from = (list_url, did, key.public_multikey, revoked, changed)
    with _SIGNED_LISTS_LOCK:
        cached = _SIGNED_LISTS.get(made_from)
    if cached is not None:
        return cached
    document = status_list.list_credential(list_url, did, revoked, changed)
    made = signed(document, key, issuer_did=did, created=changed, loader=loader)
    with _SIGNED_LISTS_LOCK:
        while len(_SIGNED_LISTS) >= _SIGNED_LISTS_KEPT:
            _SIGNED_LISTS.pop(next(iter(_SIGNED_LISTS)))
        _SIGNED_LISTS[made_from] = made
    return made


def our_issuer(
    session: Session, program: Program, key: SigningKey, retired: list[str]
) -> verifier.Ours:
    """Us, for the verifier: our did:web, our keys (current and retired), our revocations."""
    return verifier.Ours(
        did=issuer_did(program.site_url),
        public_keys=frozenset([key.public_multikey, *retired]),
        revoked=lambda: revoked_status_indexes(session, program),
    )
