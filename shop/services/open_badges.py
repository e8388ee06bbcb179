"""A credential as the signed Open Badges 3.0 credential the verify page serves as JSON.

The key and the document loader are passed in (shop.openbadges.setup gives the app's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.domain.credentials import CredentialKind
from shop.domain.program import Program
from shop.models import Credential, CredentialEvent
from shop.openbadges.contexts import DocumentLoader
from shop.openbadges.credential import Achievement, Holder, signed, unsigned_credential
from shop.openbadges.keys import SigningKey, issuer_did

from .credentials import ISSUER_NAME, credential_title, module_name

BADGE_IMAGE = "/static/img/mark.svg"  # the program's own mark, until each badge has its own


def achievement(credential: Credential, program: Program, site_url: str) -> Achievement:
    """The module (or the full certification) as the site describes it, with its criteria."""
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
            image=site + BADGE_IMAGE,
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
        image=site + BADGE_IMAGE,
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
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The credential as a signed `OpenBadgeCredential`, its id the verify page's URL."""
    did = issuer_did(program.site_url)
    document = unsigned_credential(
        credential_id=verify_url,
        title=credential_title(credential, program),
        valid_from=credential.earned_on,
        achievement=achievement(credential, program, site_url),
        holder=Holder(credential.holder_name, credential.candidate.email, credential.identity_salt),
        issuer_did=did,
        issuer_name=ISSUER_NAME,
        site_url=site_url.rstrip("/"),
        status=status,
    )
    return signed(
        document, key, issuer_did=did, created=signed_at(session, credential), loader=loader
    )
