"""Check any pasted Open Badges 3.0 credential, item by item, offline.

The signature (eddsa-rdfc-2022, contexts from the pinned loader only), the issuer (ours when
it is our did:web and the proof names one of our keys, current or retired), the status bit
(in our list, for ours) and the dates. The verdict is the first that applies of: not ours,
tampered, revoked, status unknown, not yet valid, expired, valid. Pure: the caller gives our
keys, the indexes revoked now and the time.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .contexts import ContextError, DocumentLoader
from .eddsa import ProofError, only_proof, verify_proof
from .multibase import MultibaseError, from_public_multikey

STATUS_LIST_PATH = "/shop/credentials/status/1"
REVOKED = "revoked"  # how the status item begins when the bit is set


class Verdict(enum.StrEnum):
    VALID = "valid"
    NOT_OURS = "not ours"
    TAMPERED = "tampered"
    REVOKED = "revoked"
    STATUS_UNKNOWN = "status unknown"
    NOT_YET_VALID = "not yet valid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Item:
    name: str  # signature, issuer, status, dates
    ok: bool
    says: str


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Ours:
    """What makes a credential ours: the issuer's DID and its public keys (current, retired)."""

    did: str
    public_keys: Collection[str]
    revoked: Callable[[], Collection[int]]  # the indexes revoked now (asked only for ours)


class NotACredential(ValueError):
    """The JSON is not a credential at all; the message says what is missing."""


def check(document: Any, ours: Ours, *, now: dt.datetime, loader: DocumentLoader) -> Report:
    """The report on `document` (parsed JSON); NotACredential when it is not one."""
    credential = _credential(document)
    issuer = _issuer_id(credential)
    proof = _proof(credential)
    method = str(proof.get("verificationMethod", ""))
    did, _, fragment = method.partition("#")
    ours_key = issuer == ours.did and did == ours.did and fragment in ours.public_keys
    items = [_issuer_item(issuer, ours, ours_key)]
    signature = _signature_item(credential, proof, did, fragment, loader)
    items.append(signature)
    status = _status_item(credential, ours) if ours_key else None
    if status is not None:
        items.append(status)
    dates = _dates_item(credential, now)
    items.append(dates)
    if not ours_key:
        verdict = Verdict.NOT_OURS
    elif not signature.ok:
        verdict = Verdict.TAMPERED
    elif status is not None and status.says.startswith(REVOKED):
        verdict = Verdict.REVOKED
    elif status is not None and not status.ok:
        verdict = Verdict.STATUS_UNKNOWN
    elif not dates.ok:
        verdict = Verdict.NOT_YET_VALID if "not valid before" in dates.says else Verdict.EXPIRED
    else:
        verdict = Verdict.VALID
    return Report(verdict, items)


def _credential(document: Any) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise NotACredential("a credential is a JSON object")
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in types:
        raise NotACredential("its type does not include VerifiableCredential")
    if "@context" not in document:
        raise NotACredential("it has no @context")
    return document


def _issuer_id(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise NotACredential("it names no issuer")
    return issuer


def _proof(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        return only_proof(credential)
    except ProofError as error:
        raise NotACredential(f"it has no single proof to check ({error})") from None


def _issuer_item(issuer: str, ours: Ours, ours_key: bool) -> Item:
    if ours_key:
        return Item("issuer", True, f"issued by us ({ours.did}), with one of our keys")
    if issuer == ours.did:
        return Item("issuer", False, "it names us as issuer, but not with a key of ours")
    return Item("issuer", False, f"not issued by us: the issuer is {issuer}")


def _signature_item(
    credential: Mapping[str, Any],
    proof: Mapping[str, Any],
    did: str,
    fragment: str,
    loader: DocumentLoader,
) -> Item:
    key = _key_of(did, fragment)
    if key is None:
        return Item("signature", False, f"not checked: the key {did} cannot be found offline")
    try:
        valid = verify_proof(credential, proof, key, loader)
    except (ProofError, ContextError) as error:
        return Item("signature", False, f"cannot be checked: {error}")
    if valid:
        return Item("signature", True, "the signature checks: nothing was changed")
    return Item("signature", False, "the signature does not check: the credential was changed")


def _key_of(did: str, fragment: str) -> Ed25519PublicKey | None:
    """The key a verification method names in itself: ours (did:web#multikey) or a did:key."""
    candidate = did.removeprefix("did:key:") if did.startswith("did:key:") else fragment
    if not (did.startswith(("did:key:", "did:web:")) and candidate.startswith("z6Mk")):
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(from_public_multikey(candidate))
    except MultibaseError:
        return None


def _status_item(credential: Mapping[str, Any], ours: Ours) -> Item:
    status = credential.get("credentialStatus")
    if not isinstance(status, Mapping) or status.get("type") != "BitstringStatusListEntry":
        return Item("status", False, "it has no status list entry of ours")
    if urlsplit(str(status.get("statusListCredential", ""))).path != STATUS_LIST_PATH:
        return Item("status", False, "its status list is not ours")
    try:
        index = int(str(status.get("statusListIndex")))
    except ValueError:
        return Item("status", False, "its statusListIndex is not a number")
    if index in ours.revoked():
        return Item("status", False, f"{REVOKED} (bit {index} of our status list is set)")
    return Item("status", True, f"not revoked (bit {index} of our status list is clear)")


def _dates_item(credential: Mapping[str, Any], now: dt.datetime) -> Item:
    try:
        valid_from = _moment(credential.get("validFrom"))
        valid_until = _moment(credential.get("validUntil"))
    except ValueError as error:
        return Item("dates", False, f"a date cannot be read: {error}")
    if valid_from is not None and now < valid_from:
        return Item("dates", False, f"not valid before {valid_from.isoformat()}")
    if valid_until is not None and now >= valid_until:
        return Item("dates", False, f"expired on {valid_until.isoformat()}")
    since = f"valid since {valid_from.date().isoformat()}" if valid_from else "no start date"
    return Item(
        "dates", True, since + (f", until {valid_until.isoformat()}" if valid_until else "")
    )


def _moment(text: Any) -> dt.datetime | None:
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment
