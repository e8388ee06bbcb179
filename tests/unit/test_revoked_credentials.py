"""A revoked credential gives nothing it gave while valid; reinstating it gives everything back.

The candidate below is fully certified (four passes in 2020) and holds Green too. Staff revoke
the Safety module certificate, or full certification, on 1 June 2021; "reinstated" is the same
history with the revocation gone, as the shop reads it once staff reinstate the credential.
"""

from __future__ import annotations

from datetime import date

import pytest
from histories import day, four_passes, history, item, passed

from shop.domain.certification import (
    counting_passes,
    full_certification_date,
    is_fully_certified,
)
from shop.domain.credentials import Credential, CredentialKind, credentials
from shop.domain.eligibility import Decision, Reason, eligibility
from shop.domain.history import History
from shop.domain.program import ItemKind, Program
from shop.domain.progress import progress
from shop.domain.status import ModuleStatus, module_status

NOW = day("2021-07-01")
REVOKED_ON = day("2021-06-01")
PASSES = (*four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2020-04-10"),)
GREEN = passed("green", "2020-05-10")
VALID = history(*PASSES, GREEN)
ALLOWED = Decision(allowed=True)


def revoked(*modules: str, full: bool = False, base: History = VALID) -> History:
    return History(
        base.attempts,
        base.purchases,
        base.unused_authorizations,
        revoked_modules=dict.fromkeys(modules, REVOKED_ON),
        full_certification_revoked_on=REVOKED_ON if full else None,
    )


def refused(*reasons: Reason) -> Decision:
    return Decision(False, reasons, None)


NOT_HELD = refused(Reason.FULL_CERTIFICATION_NOT_HELD)
FULL_REVOKED = refused(Reason.FULL_CERTIFICATION_REVOKED)
MODULE_REVOKED = refused(Reason.CREDENTIAL_REVOKED)
COUNTS_FOR_EVER = refused(Reason.MODULE_PASSED)

# Every kind of catalogue item, (kind, module): per-module items are Safety's.
# Columns: valid (and reinstated), Safety revoked, full certification revoked.
EVERY_KIND = [
    (ItemKind.ASSESSMENT_FEE, "safety", COUNTS_FOR_EVER, MODULE_REVOKED, COUNTS_FOR_EVER),
    (ItemKind.CERTIFICATE_DOWNLOAD, "safety", ALLOWED, MODULE_REVOKED, ALLOWED),
    (ItemKind.CERTIFICATE_PRINT, "safety", ALLOWED, MODULE_REVOKED, ALLOWED),
    (ItemKind.KWA_DOCUMENT, "safety", ALLOWED, ALLOWED, ALLOWED),
    (ItemKind.SMALL_PATCH, None, ALLOWED, ALLOWED, ALLOWED),
    (ItemKind.FULL_CERTIFICATE_DOWNLOAD, None, ALLOWED, NOT_HELD, FULL_REVOKED),
    (ItemKind.FULL_CERTIFICATE_PRINT, None, ALLOWED, NOT_HELD, FULL_REVOKED),
    (ItemKind.LARGE_PATCH, None, ALLOWED, NOT_HELD, FULL_REVOKED),
    (ItemKind.WALLET_CARD, None, ALLOWED, NOT_HELD, FULL_REVOKED),
]


def test_the_table_covers_every_kind_of_catalogue_item() -> None:
    assert {row[0] for row in EVERY_KIND} == set(ItemKind)


def decide(program: Program, candidate: History, kind: ItemKind, module: str | None) -> Decision:
    return eligibility(candidate, item(program, kind, module), NOW, program)


@pytest.mark.parametrize(("kind", "module", "valid", "safety_revoked", "full_revoked"), EVERY_KIND)
def test_a_revoked_safety_certificate_withdraws_its_items_and_its_part_in_full_certification(
    program: Program,
    kind: ItemKind,
    module: str | None,
    valid: Decision,
    safety_revoked: Decision,
    full_revoked: Decision,
) -> None:
    assert decide(program, revoked("safety"), kind, module) == safety_revoked


@pytest.mark.parametrize(("kind", "module", "valid", "safety_revoked", "full_revoked"), EVERY_KIND)
def test_a_revoked_full_certification_withdraws_its_items_and_nothing_of_the_modules(
    program: Program,
    kind: ItemKind,
    module: str | None,
    valid: Decision,
    safety_revoked: Decision,
    full_revoked: Decision,
) -> None:
    assert decide(program, revoked(full=True), kind, module) == full_revoked


@pytest.mark.parametrize(("kind", "module", "valid", "safety_revoked", "full_revoked"), EVERY_KIND)
@pytest.mark.parametrize("revocation", ["safety", "full certification", "both"])
def test_reinstating_gives_back_every_item_the_valid_credential_gave(
    program: Program,
    kind: ItemKind,
    module: str | None,
    valid: Decision,
    safety_revoked: Decision,
    full_revoked: Decision,
    revocation: str,
) -> None:
    was = revoked(
        *(["safety"] if revocation != "full certification" else []),
        full=revocation != "safety",
    )
    reinstated = revoked(base=was)  # the same history, no revocation left
    assert decide(program, reinstated, kind, module) == valid


@pytest.mark.parametrize(
    ("candidate", "module", "expected"),
    [
        pytest.param(
            revoked("safety", base=history(passed("safety", "2020-01-10"))),
            "safety",
            MODULE_REVOKED,
            id="a revoked pass inside its window: refused with its own reason and no date",
        ),
        pytest.param(
            revoked("safety", base=history(passed("safety", "2015-01-10"))),
            "safety",
            MODULE_REVOKED,
            id="a revoked pass out of every window: still refused, no date",
        ),
        pytest.param(
            revoked("green", base=history(GREEN)),
            "green",
            MODULE_REVOKED,
            id="a revoked Green certificate: refused too",
        ),
        pytest.param(
            revoked("safety", base=history(passed("safety", "2020-01-10"))),
            "quality",
            ALLOWED,
            id="another module's fee: allowed",
        ),
        pytest.param(
            revoked(
                "safety",
                base=history(passed("safety", "2015-01-10"), authorizations=("safety",)),
            ),
            "safety",
            Decision(False, (Reason.CREDENTIAL_REVOKED, Reason.AUTHORIZATION_HELD), None),
            id="revoked with an authorization held: both reasons",
        ),
    ],
)
def test_the_assessment_fee_of_a_module_whose_certificate_is_revoked_is_refused(
    program: Program, candidate: History, module: str, expected: Decision
) -> None:
    assert decide(program, candidate, ItemKind.ASSESSMENT_FEE, module) == expected


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        pytest.param(
            revoked("quality", base=history(passed("quality", "2020-02-10"))),
            MODULE_REVOKED,
            id="the only pass is revoked: refused",
        ),
        pytest.param(
            revoked("quality", base=history(passed("quality", "2020-02-10"), GREEN)),
            ALLOWED,
            id="another pass is valid: allowed",
        ),
        pytest.param(
            revoked("quality", "green", base=history(passed("quality", "2020-02-10"), GREEN)),
            MODULE_REVOKED,
            id="every pass is revoked: refused",
        ),
        pytest.param(
            history(passed("quality", "2020-02-10")),
            ALLOWED,
            id="reinstated: allowed again",
        ),
    ],
)
def test_the_small_patch_counts_only_passes_whose_certificate_is_not_revoked(
    program: Program, candidate: History, expected: Decision
) -> None:
    assert decide(program, candidate, ItemKind.SMALL_PATCH, None) == expected


def test_a_revoked_module_takes_no_part_in_full_certification(program: Program) -> None:
    candidate = revoked("safety")
    assert full_certification_date(candidate, program) is None
    assert not is_fully_certified(candidate, program)
    assert counting_passes(candidate, "safety", NOW, program) == ()


def test_a_later_pass_of_a_revoked_module_does_not_give_full_certification_back(
    program: Program,
) -> None:
    candidate = revoked("safety", base=history(*PASSES, passed("safety", "2021-06-20")))
    assert full_certification_date(candidate, program) is None


def test_a_revoked_full_certification_is_not_held_but_keeps_the_day_it_was_achieved(
    program: Program,
) -> None:
    candidate = revoked(full=True)
    assert full_certification_date(candidate, program) == date(2020, 4, 10)
    assert not is_fully_certified(candidate, program)


def test_the_credentials_list_says_which_are_revoked_and_since_when(program: Program) -> None:
    assert credentials(revoked("safety", full=False), program) == (
        Credential(CredentialKind.MODULE_CERTIFICATE, day("2020-01-10"), "safety", REVOKED_ON),
        Credential(CredentialKind.MODULE_CERTIFICATE, day("2020-02-10"), "quality"),
        Credential(CredentialKind.MODULE_CERTIFICATE, day("2020-03-10"), "processes"),
        Credential(CredentialKind.MODULE_CERTIFICATE, day("2020-04-10"), "maintenance"),
        Credential(CredentialKind.MODULE_CERTIFICATE, day("2020-05-10"), "green"),
    )
    full = credentials(revoked(full=True), program)[-1]
    assert full == Credential(
        CredentialKind.FULL_CERTIFICATION, day("2020-04-10"), revoked_on=REVOKED_ON
    )
    assert full.revoked and not credentials(VALID, program)[-1].revoked


def test_the_module_status_of_a_revoked_certificate_is_revoked_with_its_date(
    program: Program,
) -> None:
    state = module_status(revoked("safety"), "safety", NOW, program)
    assert (state.status, state.passed_on, state.revoked_on) == (
        ModuleStatus.REVOKED,
        day("2020-01-10"),
        REVOKED_ON,
    )
    assert module_status(VALID, "safety", NOW, program).status is ModuleStatus.PASSED


@pytest.mark.parametrize(
    ("candidate", "certified", "revoked_modules", "revoked_on"),
    [
        pytest.param(VALID, True, (), None, id="valid: certified"),
        pytest.param(revoked("safety"), False, ("safety",), None, id="Safety revoked"),
        pytest.param(revoked(full=True), False, (), REVOKED_ON, id="full certification revoked"),
    ],
)
def test_progress_does_not_claim_full_certification_while_it_is_revoked(
    program: Program,
    candidate: History,
    certified: bool,
    revoked_modules: tuple[str, ...],
    revoked_on: date | None,
) -> None:
    seen = progress(candidate, NOW, program)
    assert (seen.certified, seen.revoked, seen.revoked_on) == (
        certified,
        revoked_modules,
        revoked_on,
    )
    assert "safety" not in seen.missing
