"""Assessment vouchers: codes with a check symbol, expiry, states, and acceptance, which runs
the assessment fee's own eligibility on the day of acceptance."""

from __future__ import annotations

from datetime import date

import pytest
from histories import after, day, failed, history, passed

from shop.domain.eligibility import Reason
from shop.domain.history import History
from shop.domain.program import Program
from shop.domain.vouchers import (
    ANY_MODULE,
    CodeProblem,
    VoucherFacts,
    VoucherProblem,
    VoucherState,
    acceptance,
    expires_on,
    make_code,
    may_refund,
    normalise_code,
    state_of,
    voucher_price_cents,
)

EMAIL = "ana@example.com"
FAILED_ON = "2026-03-01"
BOUGHT_ON = day("2026-01-10")
CODE = make_code(0x0123456789ABCDE)


def assigned(module: str = "safety", **changes: object) -> VoucherFacts:
    fields: dict[str, object] = {
        "module": module,
        "expires_on": day("2027-01-10"),
        "assigned_email": EMAIL,
        **changes,
    }
    return VoucherFacts(**fields)  # type: ignore[arg-type]


def test_a_code_is_twelve_symbols_in_groups_of_four_and_a_check_symbol() -> None:
    groups = CODE.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 1]
    assert normalise_code(CODE) == CODE


def test_a_code_is_read_in_lower_case_without_dashes_and_with_look_alike_letters() -> None:
    typed = CODE.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    assert normalise_code(typed) == CODE


@pytest.mark.parametrize("position", range(13))
def test_any_single_mistyped_symbol_of_a_code_is_caught(position: int) -> None:
    symbols = CODE.replace("-", "")
    wrong = "Z" if symbols[position] != "Z" else "Y"
    typo = symbols[:position] + wrong + symbols[position + 1 :]
    assert normalise_code(typo) is CodeProblem.MISTYPED


@pytest.mark.parametrize("typed", ["", "ABCD-EFGH", CODE + "X", "ABCD-EFGH-JKMN-!"])
def test_text_that_is_not_a_code_is_malformed(typed: str) -> None:
    assert normalise_code(typed) is CodeProblem.MALFORMED


@pytest.mark.parametrize(
    ("bought", "expires"),
    [
        ("2026-01-10", "2027-01-10"),
        ("2028-02-29", "2029-02-28"),  # no 29 February in 2029: the month's last day
        ("2026-12-31", "2027-12-31"),
    ],
)
def test_a_voucher_expires_twelve_months_after_its_purchase(
    program: Program, bought: str, expires: str
) -> None:
    assert program.policy.voucher_months == 12
    assert expires_on(day(bought), program) == day(expires)


@pytest.mark.parametrize(
    ("facts", "today", "state"),
    [
        (assigned(assigned_email=None), "2027-01-09", VoucherState.UNASSIGNED),
        (assigned(assigned_email=None), "2027-01-10", VoucherState.EXPIRED),
        (assigned(), "2027-01-09", VoucherState.ASSIGNED),
        (assigned(), "2027-01-10", VoucherState.EXPIRED),
        (assigned(accepted=True), "2030-01-01", VoucherState.ACCEPTED),
        (assigned(accepted=True, used=True), "2030-01-01", VoucherState.USED),
        (assigned(assigned_email=None, refunded=True), "2026-02-01", VoucherState.REFUNDED),
    ],
)
def test_a_voucher_state_follows_from_its_facts_and_the_day(
    facts: VoucherFacts, today: str, state: VoucherState
) -> None:
    assert state_of(facts, day(today)) is state


@pytest.mark.parametrize(
    ("facts", "today", "refundable"),
    [
        (assigned(assigned_email=None), "2027-01-09", True),
        (assigned(assigned_email=None), "2027-01-10", False),  # expired
        (assigned(), "2026-06-01", False),  # assigned
        (assigned(accepted=True), "2026-06-01", False),
        (assigned(assigned_email=None, refunded=True), "2026-06-01", False),
    ],
)
def test_only_an_unassigned_voucher_before_its_expiry_may_be_refunded(
    facts: VoucherFacts, today: str, refundable: bool
) -> None:
    assert may_refund(facts, day(today)) is refundable


def test_a_voucher_costs_the_catalogue_full_fee(program: Program) -> None:
    fee = program.item("assessment-fee-safety").price_cents
    assert voucher_price_cents("safety", program) == fee
    assert voucher_price_cents(ANY_MODULE, program) == fee


RETAKE_WAIT = (Reason.RETAKE_WAIT,)
WAIT_CASES = [
    pytest.param(14, False, RETAKE_WAIT, after(FAILED_ON, 15), id="day 14 of a wait: refused"),
    pytest.param(15, True, (), None, id="day 15: allowed"),
    pytest.param(16, True, (), None, id="day 16: allowed"),
]


@pytest.mark.parametrize(("days", "allowed", "reasons", "available_on"), WAIT_CASES)
def test_acceptance_runs_the_retake_wait_on_the_day_of_acceptance(
    program: Program,
    days: int,
    allowed: bool,
    reasons: tuple[Reason, ...],
    available_on: date | None,
) -> None:
    candidate = history(failed("safety", FAILED_ON))
    result = acceptance(assigned(), EMAIL, None, candidate, after(FAILED_ON, days), program)
    assert result.allowed is allowed
    assert result.decision is not None
    assert result.decision.reasons == reasons
    assert result.decision.available_on == available_on


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        pytest.param(history(passed("safety", "2026-02-01")), Reason.MODULE_PASSED, id="pass"),
        pytest.param(
            history(authorizations=("safety",)), Reason.AUTHORIZATION_HELD, id="authorization"
        ),
    ],
)
def test_acceptance_is_refused_for_a_counting_pass_or_an_authorization_held(
    program: Program, candidate: History, reason: Reason
) -> None:
    result = acceptance(assigned(), EMAIL, None, candidate, day("2026-03-01"), program)
    assert not result.allowed
    assert result.decision is not None and reason in result.decision.reasons


@pytest.mark.parametrize(
    ("facts", "email", "module", "problem"),
    [
        pytest.param(assigned(), EMAIL, None, None, id="the assigned voucher"),
        pytest.param(assigned(), "ANA@example.com", None, None, id="the address in another case"),
        pytest.param(None, EMAIL, None, VoucherProblem.UNKNOWN, id="no such code"),
        pytest.param(assigned(), "sam@example.com", None, VoucherProblem.UNKNOWN, id="not yours"),
        pytest.param(
            assigned(assigned_email=None), EMAIL, None, VoucherProblem.UNKNOWN, id="unassigned"
        ),
        pytest.param(
            assigned(expires_on=day("2026-03-01")),
            EMAIL,
            None,
            VoucherProblem.EXPIRED,
            id="expired",
        ),
        pytest.param(
            assigned(expires_on=day("2026-03-02")), EMAIL, None, None, id="last day before expiry"
        ),
        pytest.param(
            assigned(accepted=True), EMAIL, None, VoucherProblem.ALREADY_ACCEPTED, id="accepted"
        ),
        pytest.param(assigned(refunded=True), EMAIL, None, VoucherProblem.REFUNDED, id="refunded"),
        pytest.param(
            assigned(ANY_MODULE), EMAIL, None, VoucherProblem.MODULE_NEEDED, id="any, no module"
        ),
        pytest.param(assigned(ANY_MODULE), EMAIL, "quality", None, id="any, for quality"),
        pytest.param(
            assigned(), EMAIL, "quality", VoucherProblem.WRONG_MODULE, id="safety's, for quality"
        ),
    ],
)
def test_acceptance_checks_the_voucher_before_the_candidate(
    program: Program,
    facts: VoucherFacts | None,
    email: str,
    module: str | None,
    problem: VoucherProblem | None,
) -> None:
    result = acceptance(facts, email, module, history(), day("2026-03-01"), program)
    assert result.problem is problem
    assert result.allowed is (problem is None)
