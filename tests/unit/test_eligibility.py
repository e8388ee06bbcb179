"""Rule 9: who may buy what, every reason against it, and from when."""

from datetime import date

import pytest
from histories import REQUIRED, day, failed, four_passes, history, item, passed

from shop.domain.eligibility import Decision, Reason, advice_before_assessment, eligibility
from shop.domain.history import History, Purchase
from shop.domain.program import CatalogueItem, ItemKind, Program

ALLOWED = Decision(allowed=True)
MODULES = (*REQUIRED, "green")
CERTIFIED_2020 = history(*four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2020-04-10"))


def fee_bought(module: str, *, settling: bool) -> Purchase:
    return Purchase(
        f"assessment-fee-{module}", ItemKind.ASSESSMENT_FEE, module, day("2024-12-30"), settling
    )


def decide(
    program: Program, candidate: History, kind: ItemKind, module: str | None, now: str
) -> Decision:
    return eligibility(candidate, item(program, kind, module), day(now), program)


# Assessment fees.


@pytest.mark.parametrize("module", MODULES)
def test_a_first_assessment_fee_is_allowed_for_every_module(program: Program, module: str) -> None:
    assert decide(program, history(), ItemKind.ASSESSMENT_FEE, module, "2025-01-01") == ALLOWED


FEE_CASES = [
    pytest.param(
        history(authorizations=("safety",)),
        "safety",
        "2025-01-01",
        Decision(False, (Reason.AUTHORIZATION_HELD,), None),
        id="an unused authorization is held: refused, no date",
    ),
    pytest.param(
        history(authorizations=("quality",)),
        "safety",
        "2025-01-01",
        ALLOWED,
        id="an authorization for another module: allowed",
    ),
    pytest.param(
        history(passed("safety", "2024-03-10")),
        "safety",
        "2026-03-10",
        Decision(False, (Reason.MODULE_PASSED,), date(2026, 3, 11)),
        id="a pass on the window's last day: refused until the day after",
    ),
    pytest.param(
        history(passed("safety", "2024-03-10")),
        "safety",
        "2026-03-11",
        ALLOWED,
        id="the day after the pass's window closes: allowed",
    ),
    pytest.param(
        history(passed("safety", "2024-02-29")),
        "safety",
        "2026-02-28",
        Decision(False, (Reason.MODULE_PASSED,), date(2026, 3, 1)),
        id="a pass on 29 Feb: refused on 28 Feb two years on, until 1 Mar",
    ),
    pytest.param(
        history(passed("safety", "2024-02-29")),
        "safety",
        "2026-03-01",
        ALLOWED,
        id="a pass on 29 Feb: allowed on 1 Mar two years on",
    ),
    pytest.param(
        history(passed("green", "2015-05-05")),
        "green",
        "2040-01-01",
        Decision(False, (Reason.MODULE_PASSED,), None),
        id="Green passed: refused for ever",
    ),
    pytest.param(
        CERTIFIED_2020,
        "maintenance",
        "2040-01-01",
        Decision(False, (Reason.MODULE_PASSED,), None),
        id="certified: a required module is refused for ever",
    ),
    pytest.param(
        CERTIFIED_2020,
        "green",
        "2040-01-01",
        ALLOWED,
        id="certified: Green, never taken, is allowed",
    ),
    pytest.param(
        history(failed("safety", "2025-03-01"), authorizations=("safety",)),
        "safety",
        "2025-03-10",
        Decision(False, (Reason.RETAKE_WAIT, Reason.AUTHORIZATION_HELD), None),
        id="a wait and an authorization: both reasons, no date",
    ),
    pytest.param(
        history(failed("safety", "2025-03-01"), authorizations=("safety",)),
        "safety",
        "2025-03-16",
        Decision(False, (Reason.AUTHORIZATION_HELD,), None),
        id="the wait over, the authorization still held: refused",
    ),
    pytest.param(
        history(passed("safety", "2025-01-01"), authorizations=("safety",)),
        "safety",
        "2025-02-01",
        Decision(False, (Reason.MODULE_PASSED, Reason.AUTHORIZATION_HELD), None),
        id="a counting pass and an authorization: both reasons, no date",
    ),
    pytest.param(
        history(passed("safety", "2025-01-01"), failed("safety", "2025-03-01")),
        "safety",
        "2025-03-10",
        Decision(False, (Reason.RETAKE_WAIT, Reason.MODULE_PASSED), date(2027, 1, 2)),
        id="a wait and a counting pass: the later of the two dates",
    ),
    pytest.param(
        history(passed("safety", "2025-01-01"), failed("safety", "2025-03-01")),
        "safety",
        "2025-03-16",
        Decision(False, (Reason.MODULE_PASSED,), date(2027, 1, 2)),
        id="the wait over, the pass still counting: refused",
    ),
    pytest.param(
        history(
            passed("safety", "2025-01-01"),
            failed("safety", "2025-03-01"),
            authorizations=("safety",),
        ),
        "safety",
        "2025-03-10",
        Decision(
            False, (Reason.RETAKE_WAIT, Reason.MODULE_PASSED, Reason.AUTHORIZATION_HELD), None
        ),
        id="all three reasons at once",
    ),
    pytest.param(
        history(passed("safety", "2024-01-01"), passed("safety", "2025-01-01")),
        "safety",
        "2025-06-01",
        Decision(False, (Reason.MODULE_PASSED,), date(2027, 1, 2)),
        id="two counting passes: the later one decides",
    ),
    pytest.param(
        history(passed("safety", "2021-01-01"), failed("safety", "2024-05-01")),
        "safety",
        "2024-05-15",
        Decision(False, (Reason.RETAKE_WAIT,), date(2024, 5, 16)),
        id="an expired pass then a failure: only the wait",
    ),
    pytest.param(
        History(purchases=(fee_bought("safety", settling=True),)),
        "safety",
        "2025-01-01",
        Decision(False, (Reason.PURCHASE_SETTLING,), None),
        id="a fee bought by bank transfer and still settling: refused, no date",
    ),
    pytest.param(
        History(purchases=(fee_bought("quality", settling=True),)),
        "safety",
        "2025-01-01",
        ALLOWED,
        id="another module's fee still settling: allowed",
    ),
    pytest.param(
        History(purchases=(fee_bought("safety", settling=False),)),
        "safety",
        "2025-01-01",
        ALLOWED,
        id="a fee settled, its authorization used: allowed",
    ),
]


@pytest.mark.parametrize(("candidate", "module", "now", "expected"), FEE_CASES)
def test_an_assessment_fee_is_decided_with_every_reason_that_applies(
    program: Program, candidate: History, module: str, now: str, expected: Decision
) -> None:
    assert decide(program, candidate, ItemKind.ASSESSMENT_FEE, module, now) == expected


def test_the_recommended_levels_are_advice_that_never_blocks(program: Program) -> None:
    advice = advice_before_assessment(program)
    assert (advice.math_grade, advice.reading_grade) == (9, 10)
    assert decide(program, history(), ItemKind.ASSESSMENT_FEE, "safety", "2025-01-01") == ALLOWED


# Module certificates: download and print.

CERTIFICATE_KINDS = [
    pytest.param(ItemKind.CERTIFICATE_DOWNLOAD, id="download"),
    pytest.param(ItemKind.CERTIFICATE_PRINT, id="print"),
]


@pytest.mark.parametrize("kind", CERTIFICATE_KINDS)
@pytest.mark.parametrize("module", MODULES)
def test_a_module_certificate_is_allowed_once_that_module_is_passed(
    program: Program, kind: ItemKind, module: str
) -> None:
    candidate = history(passed(module, "2024-01-01"))
    assert decide(program, candidate, kind, module, "2024-01-02") == ALLOWED


@pytest.mark.parametrize("kind", CERTIFICATE_KINDS)
@pytest.mark.parametrize(
    ("candidate", "now", "expected"),
    [
        pytest.param(
            history(),
            "2024-01-02",
            Decision(False, (Reason.MODULE_NOT_PASSED,), None),
            id="never attempted: refused",
        ),
        pytest.param(
            history(failed("safety", "2024-01-01")),
            "2024-03-01",
            Decision(False, (Reason.MODULE_NOT_PASSED,), None),
            id="failed only: refused",
        ),
        pytest.param(
            history(passed("quality", "2024-01-01")),
            "2024-01-02",
            Decision(False, (Reason.MODULE_NOT_PASSED,), None),
            id="another module passed: refused",
        ),
        pytest.param(
            history(passed("safety", "2015-01-01")),
            "2030-01-01",
            ALLOWED,
            id="a pass that no longer counts: the certificate is still allowed",
        ),
    ],
)
def test_a_safety_certificate_needs_a_safety_pass(
    program: Program, kind: ItemKind, candidate: History, now: str, expected: Decision
) -> None:
    assert decide(program, candidate, kind, "safety", now) == expected


# The small patch: first module only, one per candidate.


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        pytest.param(
            history(), Decision(False, (Reason.NO_MODULE_PASSED,), None), id="no pass: refused"
        ),
        pytest.param(
            history(failed("safety", "2024-01-01")),
            Decision(False, (Reason.NO_MODULE_PASSED,), None),
            id="a failure only: refused",
        ),
        pytest.param(history(passed("safety", "2024-01-01")), ALLOWED, id="one pass: allowed"),
        pytest.param(history(passed("green", "2024-01-01")), ALLOWED, id="a Green pass: allowed"),
        pytest.param(
            history(passed("safety", "2015-01-01")), ALLOWED, id="an expired pass: allowed"
        ),
        pytest.param(
            history(passed("safety", "2024-01-01"), bought=(ItemKind.SMALL_PATCH,)),
            Decision(False, (Reason.SMALL_PATCH_ALREADY_BOUGHT,), None),
            id="already bought: refused",
        ),
        pytest.param(
            history(bought=(ItemKind.SMALL_PATCH,)),
            Decision(False, (Reason.NO_MODULE_PASSED, Reason.SMALL_PATCH_ALREADY_BOUGHT), None),
            id="no pass and already bought: both reasons",
        ),
        pytest.param(
            history(passed("safety", "2024-01-01"), bought=(ItemKind.LARGE_PATCH,)),
            ALLOWED,
            id="a large patch bought does not count as the small one",
        ),
    ],
)
def test_the_small_patch_is_offered_once_to_a_candidate_with_a_pass(
    program: Program, candidate: History, expected: Decision
) -> None:
    assert decide(program, candidate, ItemKind.SMALL_PATCH, None, "2025-01-01") == expected


# Full certification items.

FULL_KINDS = [
    pytest.param(ItemKind.FULL_CERTIFICATE_DOWNLOAD, id="full certificate download"),
    pytest.param(ItemKind.FULL_CERTIFICATE_PRINT, id="full certificate print"),
    pytest.param(ItemKind.LARGE_PATCH, id="large patch"),
    pytest.param(ItemKind.WALLET_CARD, id="wallet card"),
]
NOT_HELD = Decision(False, (Reason.FULL_CERTIFICATION_NOT_HELD,), None)


@pytest.mark.parametrize("kind", FULL_KINDS)
@pytest.mark.parametrize(
    ("candidate", "now", "expected"),
    [
        pytest.param(CERTIFIED_2020, "2020-04-10", ALLOWED, id="certified that day: allowed"),
        pytest.param(CERTIFIED_2020, "2040-01-01", ALLOWED, id="certified long ago: allowed"),
        pytest.param(history(), "2025-01-01", NOT_HELD, id="no pass: refused"),
        pytest.param(
            history(*CERTIFIED_2020.attempts[:3], passed("green", "2020-04-10")),
            "2020-05-01",
            NOT_HELD,
            id="three required and Green: refused",
        ),
        pytest.param(
            history(*four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2022-01-11")),
            "2022-02-01",
            NOT_HELD,
            id="four passes not within two years: refused",
        ),
    ],
)
def test_full_certification_items_need_full_certification(
    program: Program, kind: ItemKind, candidate: History, now: str, expected: Decision
) -> None:
    assert decide(program, candidate, kind, None, now) == expected


# KWA documents: for everyone.


@pytest.mark.parametrize("module", [*MODULES, None], ids=[*MODULES, "all modules"])
@pytest.mark.parametrize(
    "candidate",
    [
        pytest.param(history(), id="a new candidate"),
        pytest.param(
            history(failed("safety", "2025-01-01"), authorizations=("safety",)),
            id="a candidate in a wait",
        ),
    ],
)
def test_kwa_documents_are_allowed_to_anyone(
    program: Program, module: str | None, candidate: History
) -> None:
    assert decide(program, candidate, ItemKind.KWA_DOCUMENT, module, "2025-01-02") == ALLOWED


# The shape of a decision.


def test_every_reason_has_a_short_message_and_a_stable_code() -> None:
    assert all(reason.message for reason in Reason)
    assert len({reason.message for reason in Reason}) == len(Reason)
    assert Reason.RETAKE_WAIT.value == "retake_wait"
    assert Reason.RETAKE_WAIT.message == "in a retake wait after a failed attempt"


@pytest.mark.parametrize(
    ("allowed", "reasons", "available_on"),
    [
        pytest.param(True, (Reason.RETAKE_WAIT,), None, id="allowed with a reason"),
        pytest.param(False, (), None, id="refused without a reason"),
        pytest.param(True, (), date(2025, 1, 1), id="allowed with a date"),
    ],
)
def test_a_decision_that_contradicts_itself_cannot_be_made(
    allowed: bool, reasons: tuple[Reason, ...], available_on: date | None
) -> None:
    with pytest.raises(ValueError):
        Decision(allowed, reasons, available_on)


@pytest.mark.parametrize("kind", [ItemKind.ASSESSMENT_FEE, ItemKind.CERTIFICATE_PRINT])
def test_a_module_item_without_a_module_is_a_programming_error(
    program: Program, kind: ItemKind
) -> None:
    nameless = CatalogueItem("odd", "Odd", kind, 100, physical=False)
    with pytest.raises(ValueError, match="names a module"):
        eligibility(history(), nameless, day("2025-01-01"), program)
