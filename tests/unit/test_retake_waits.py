"""Rules 1 and 2: the order of attempts, and the waits between a failure and a retake."""

from datetime import date, timedelta

import pytest
from histories import after, day, failed, history, item, passed

from shop.domain.eligibility import Decision, Reason, eligibility
from shop.domain.program import ItemKind, Program
from shop.domain.retakes import failures_since_last_pass, in_retake_wait, next_retake_on
from shop.domain.status import ModuleStatus, module_status

LAST_FAILURE = day("2025-06-10")


def safety_failures(count: int) -> tuple:
    """`count` failures of Safety, the last on LAST_FAILURE, each 100 days after the one before."""
    return tuple(
        failed("safety", LAST_FAILURE - timedelta(days=100 * (count - 1 - n))) for n in range(count)
    )


# (failures so far, days after the last one, expected wait in days or None when allowed)
WAIT_EDGES = [
    pytest.param(1, 0, 15, id="1st failure, same day: refused"),
    pytest.param(1, 14, 15, id="1st failure, day 14: refused"),
    pytest.param(1, 15, None, id="1st failure, day 15: allowed"),
    pytest.param(1, 16, None, id="1st failure, day 16: allowed"),
    pytest.param(2, 14, 15, id="2nd failure, day 14: refused"),
    pytest.param(2, 15, None, id="2nd failure, day 15: allowed"),
    pytest.param(2, 16, None, id="2nd failure, day 16: allowed"),
    pytest.param(3, 15, 60, id="3rd failure, day 15: refused"),
    pytest.param(3, 59, 60, id="3rd failure, day 59: refused"),
    pytest.param(3, 60, None, id="3rd failure, day 60: allowed"),
    pytest.param(3, 61, None, id="3rd failure, day 61: allowed"),
    pytest.param(4, 59, 60, id="4th failure, day 59: refused"),
    pytest.param(4, 60, None, id="4th failure, day 60: allowed"),
    pytest.param(4, 61, None, id="4th failure, day 61: allowed"),
    pytest.param(7, 59, 60, id="7th failure, day 59: refused"),
    pytest.param(7, 60, None, id="7th failure, day 60: allowed"),
]


@pytest.mark.parametrize(("failures", "days_after", "wait"), WAIT_EDGES)
def test_an_assessment_fee_is_refused_until_the_retake_wait_is_over(
    program: Program, failures: int, days_after: int, wait: int | None
) -> None:
    candidate = history(*safety_failures(failures))
    decision = eligibility(
        candidate,
        item(program, ItemKind.ASSESSMENT_FEE, "safety"),
        after(LAST_FAILURE, days_after),
        program,
    )
    if wait is None:
        assert decision == Decision(allowed=True)
    else:
        assert decision == Decision(False, (Reason.RETAKE_WAIT,), after(LAST_FAILURE, wait))


@pytest.mark.parametrize(
    ("failures", "retake_on"),
    [
        pytest.param(1, "2025-06-25", id="1st failure: 15 days"),
        pytest.param(2, "2025-06-25", id="2nd failure: another 15 days"),
        pytest.param(3, "2025-08-09", id="3rd failure: 60 days"),
        pytest.param(4, "2025-08-09", id="4th failure: 60 days again"),
        pytest.param(9, "2025-08-09", id="9th failure: still 60 days"),
    ],
)
def test_the_retake_date_is_the_failure_date_plus_the_wait(
    program: Program, failures: int, retake_on: str
) -> None:
    assert next_retake_on(history(*safety_failures(failures)), "safety", program) == day(retake_on)


def test_a_first_failure_allows_a_retake_from_day_15(program: Program) -> None:
    candidate = history(failed("safety", "2026-03-01"))
    assert in_retake_wait(candidate, "safety", day("2026-03-15"), program)
    assert not in_retake_wait(candidate, "safety", day("2026-03-16"), program)


def test_a_module_never_failed_has_no_retake_date(program: Program) -> None:
    assert next_retake_on(history(), "safety", program) is None
    assert next_retake_on(history(passed("safety", "2025-01-01")), "safety", program) is None


def test_a_wait_belongs_to_the_module_that_was_failed(program: Program) -> None:
    candidate = history(failed("safety", "2025-06-10"))
    decision = eligibility(
        candidate, item(program, ItemKind.ASSESSMENT_FEE, "quality"), day("2025-06-11"), program
    )
    assert decision == Decision(allowed=True)


# Three failures of Safety, a pass, then (once that pass has aged out) failures again.
BEFORE_THE_PASS = (
    failed("safety", "2021-01-01"),
    failed("safety", "2021-01-16"),
    failed("safety", "2021-01-31"),
    passed("safety", "2021-04-01"),
)


@pytest.mark.parametrize(
    ("failures_after_pass", "count", "retake_on"),
    [
        pytest.param(("2023-05-01",), 1, "2023-05-16", id="1st failure after a pass waits 15"),
        pytest.param(("2023-05-01", "2023-05-16"), 2, "2023-05-31", id="2nd waits 15"),
        pytest.param(
            ("2023-05-01", "2023-05-16", "2023-05-31"), 3, "2023-07-30", id="3rd waits 60"
        ),
    ],
)
def test_a_pass_resets_the_failure_count(
    program: Program, failures_after_pass: tuple[str, ...], count: int, retake_on: str
) -> None:
    candidate = history(*BEFORE_THE_PASS, *(failed("safety", on) for on in failures_after_pass))
    assert failures_since_last_pass(candidate, "safety") == count
    assert next_retake_on(candidate, "safety", program) == day(retake_on)


@pytest.mark.parametrize(
    ("days_after", "allowed"),
    [
        pytest.param(14, False, id="day 14: refused"),
        pytest.param(15, True, id="day 15: allowed, not day 60"),
    ],
)
def test_after_a_reset_the_first_failure_waits_15_days_not_60(
    program: Program, days_after: int, allowed: bool
) -> None:
    candidate = history(*BEFORE_THE_PASS, failed("safety", "2023-05-01"))
    now = after("2023-05-01", days_after)
    decision = eligibility(
        candidate, item(program, ItemKind.ASSESSMENT_FEE, "safety"), now, program
    )
    assert decision.allowed is allowed


@pytest.mark.parametrize(
    ("days_after", "status"),
    [
        pytest.param(14, ModuleStatus.WAITING, id="day 14: waiting"),
        pytest.param(15, ModuleStatus.MAY_RETAKE, id="day 15: may retake"),
        pytest.param(400, ModuleStatus.MAY_RETAKE, id="day 400: may retake"),
    ],
)
def test_the_dashboard_shows_a_wait_with_its_retake_date(
    program: Program, days_after: int, status: ModuleStatus
) -> None:
    candidate = history(failed("safety", "2026-03-01"))
    state = module_status(candidate, "safety", after("2026-03-01", days_after), program)
    assert state.status is status
    assert state.retake_on == day("2026-03-16")


def test_attempts_are_read_in_date_order_whatever_order_they_are_given_in(
    program: Program,
) -> None:
    pass_then_fail = (passed("safety", "2025-01-01"), failed("safety", "2025-03-01"))
    backwards = history(*reversed(pass_then_fail))
    assert backwards.attempts == pass_then_fail
    assert next_retake_on(backwards, "safety", program) == day("2025-03-16")


@pytest.mark.parametrize(
    ("fail_id", "pass_id", "retake_on"),
    [
        pytest.param("a1", "a2", None, id="same day, the pass recorded last: no wait"),
        pytest.param("b2", "b1", date(2025, 3, 16), id="same day, the failure recorded last: wait"),
    ],
)
def test_attempts_on_the_same_day_are_ordered_by_their_id(
    program: Program, fail_id: str, pass_id: str, retake_on: date | None
) -> None:
    candidate = history(
        failed("green", "2025-03-01", fail_id), passed("green", "2025-03-01", pass_id)
    )
    assert next_retake_on(candidate, "green", program) == retake_on
