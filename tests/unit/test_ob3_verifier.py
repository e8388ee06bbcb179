"""The verifier's items and verdicts, on the spec's vectors and on a credential of ours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ob3_reference import read_json, reference_context

from bench.openbadges import DID, LIST_URL, sample_credential
from shop.openbadges import status_list
from shop.openbadges.contexts import pinned_loader
from shop.openbadges.credential import signed
from shop.openbadges.keys import SigningKey
from shop.openbadges.verifier import Ours, Verdict, check

NOW = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
KEY = SigningKey(Ed25519PrivateKey.generate(), development=False)


def ours(revoked: set[int] | None = None) -> Ours:
    return Ours(DID, {KEY.public_multikey}, lambda: revoked or set())


def ours_signed(**changes: Any) -> dict[str, Any]:
    document = {**sample_credential(), **changes}
    return signed(document, KEY, issuer_did=DID, created=NOW, loader=pinned_loader())


def test_the_w3c_vectors_did_key_signature_checks_offline_but_it_is_not_ours() -> None:
    loader = pinned_loader().with_documents({EXAMPLES: reference_context(EXAMPLES)})
    report = check(read_json("vectors/eddsa-rdfc-2022/signedDataInt.json"), ours(), now=NOW,
                   loader=loader)  # fmt: skip
    assert report.verdict is Verdict.NOT_OURS
    signature = next(item for item in report.items if item.name == "signature")
    assert signature.ok


EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def test_a_credential_naming_an_unpinned_context_cannot_be_checked_and_says_why() -> None:
    report = check(read_json("vectors/eddsa-rdfc-2022/signedDataInt.json"), ours(), now=NOW,
                   loader=pinned_loader())  # fmt: skip
    signature = next(item for item in report.items if item.name == "signature")
    assert not signature.ok and "unknown JSON-LD context" in signature.says


@pytest.mark.parametrize(
    ("changes", "now", "verdict"),
    [
        ({}, NOW, Verdict.VALID),
        ({"validFrom": "2026-06-15T00:00:00Z"}, NOW, Verdict.VALID),  # from this very second
        ({"validFrom": "2026-06-15T00:00:01Z"}, NOW, Verdict.NOT_YET_VALID),
        ({"validUntil": "2026-06-15T00:00:01Z"}, NOW, Verdict.VALID),
        ({"validUntil": "2026-06-15T00:00:00Z"}, NOW, Verdict.EXPIRED),
    ],
)
def test_the_dates_at_their_edges(
    changes: dict[str, Any], now: dt.datetime, verdict: Verdict
) -> None:
    assert check(ours_signed(**changes), ours(), now=now, loader=pinned_loader()).verdict is verdict


def test_revoked_beats_the_dates_and_tampered_beats_revoked() -> None:
    index = int(sample_credential()["credentialStatus"]["statusListIndex"])  # type: ignore[index]
    badge = ours_signed(validUntil="2026-01-01T00:00:00Z")
    assert check(badge, ours({index}), now=NOW, loader=pinned_loader()).verdict is Verdict.REVOKED
    badge["name"] = badge["name"] + "!"
    assert check(badge, ours({index}), now=NOW, loader=pinned_loader()).verdict is Verdict.TAMPERED


def test_a_status_list_that_is_not_ours_is_said_so() -> None:
    badge = ours_signed(credentialStatus=status_list.entry("https://elsewhere.example/l", 3))
    report = check(badge, ours(), now=NOW, loader=pinned_loader())
    status = next(item for item in report.items if item.name == "status")
    assert not status.ok and "not ours" in status.says
    assert report.verdict is Verdict.STATUS_UNKNOWN
    assert LIST_URL.endswith("/shop/credentials/status/1")
