"""Rules 3, 4, 5, 7, 8: the window, full certification, counting passes, progress, credentials."""

from datetime import date

import pytest
from histories import day, failed, four_passes, history, passed

from shop.domain.certification import (
    counting_passes,
    full_certification_date,
    is_fully_certified,
    pass_counts,
)
from shop.domain.credentials import Credential, CredentialKind, credentials
from shop.domain.history import Attempt
from shop.domain.program import Program
from shop.domain.progress import progress

CERTIFICATION_CASES = [
    pytest.param(
        four_passes("2024-05-01", "2024-05-01", "2024-05-01", "2024-05-01"),
        "2024-05-01",
        id="four passes on one day",
    ),
    pytest.param(
        four_passes("2024-03-10", "2024-06-01", "2025-01-01", "2026-03-10"),
        "2026-03-10",
        id="the last pass on the window's last day: certified",
    ),
    pytest.param(
        four_passes("2024-03-10", "2024-06-01", "2025-01-01", "2026-03-11"),
        None,
        id="the last pass the day after the window closes: not certified",
    ),
    pytest.param(
        four_passes("2024-02-29", "2024-06-01", "2025-01-01", "2026-02-28"),
        "2026-02-28",
        id="a window from 29 Feb 2024 holds 28 Feb 2026",
    ),
    pytest.param(
        four_passes("2024-02-29", "2024-06-01", "2025-01-01", "2026-03-01"),
        None,
        id="a window from 29 Feb 2024 does not hold 1 Mar 2026",
    ),
    pytest.param(
        four_passes("2023-03-01", "2024-02-29", "2024-03-01", "2025-03-01"),
        "2025-03-01",
        id="a window from 1 Mar 2023 across a leap day holds 1 Mar 2025 (day 731)",
    ),
    pytest.param(
        four_passes("2023-03-01", "2024-02-29", "2024-03-01", "2025-03-02"),
        None,
        id="a window from 1 Mar 2023 does not hold 2 Mar 2025",
    ),
    pytest.param(
        (
            *four_passes("2024-01-10", "2024-02-10", "2024-03-10", "2024-05-01"),
            passed("green", "2024-09-01"),
            passed("safety", "2025-02-01"),
        ),
        "2024-05-01",
        id="the date is the completing pass, not a later one",
    ),
    pytest.param(
        (
            passed("safety", "2020-01-01"),
            passed("quality", "2021-06-01"),
            passed("processes", "2021-07-01"),
            passed("maintenance", "2022-02-01"),
            passed("safety", "2022-03-01"),
        ),
        "2022-03-01",
        id="a later window completes when the first one could not",
    ),
    pytest.param(
        four_passes("2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10")[:3],
        None,
        id="three required modules are not enough",
    ),
    pytest.param(
        (
            *four_passes("2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10")[:3],
            passed("green", "2024-04-10"),
        ),
        None,
        id="Green does not stand in for a required module",
    ),
    pytest.param(
        (
            *four_passes("2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10")[:3],
            failed("maintenance", "2024-04-10"),
        ),
        None,
        id="a failure does not complete a window",
    ),
    pytest.param((), None, id="no attempts"),
]


@pytest.mark.parametrize(("attempts", "certified_on"), CERTIFICATION_CASES)
def test_full_certification_is_dated_by_the_pass_that_completes_a_window(
    program: Program, attempts: tuple[Attempt, ...], certified_on: str | None
) -> None:
    expected = None if certified_on is None else day(certified_on)
    assert full_certification_date(history(*attempts), program) == expected
    assert full_certification_date(history(*reversed(attempts)), program) == expected


def test_green_is_not_needed_for_full_certification(program: Program) -> None:
    candidate = history(*four_passes("2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10"))
    assert is_fully_certified(candidate, program)
    assert not candidate.has_passed("green")


# A lone Safety pass on 10 March 2024: its window closes on 10 March 2026.
LONE_PASS = history(passed("safety", "2024-03-10"))


@pytest.mark.parametrize(
    ("candidate", "module", "now", "counts"),
    [
        pytest.param(LONE_PASS, "safety", "2024-03-10", True, id="the day of the pass"),
        pytest.param(LONE_PASS, "safety", "2026-03-10", True, id="the window's last day"),
        pytest.param(LONE_PASS, "safety", "2026-03-11", False, id="the day after"),
        pytest.param(
            history(passed("quality", "2024-02-29")),
            "quality",
            "2026-02-28",
            True,
            id="a pass on 29 Feb counts on 28 Feb two years on",
        ),
        pytest.param(
            history(passed("quality", "2024-02-29")),
            "quality",
            "2026-03-01",
            False,
            id="a pass on 29 Feb no longer counts on 1 Mar two years on",
        ),
        pytest.param(
            history(passed("green", "2015-05-05")),
            "green",
            "2040-01-01",
            True,
            id="a pass of Green never expires",
        ),
        pytest.param(
            history(*four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2020-04-10")),
            "safety",
            "2040-01-01",
            True,
            id="once certified, required passes count for ever",
        ),
    ],
)
def test_a_pass_counts_while_its_window_is_open(
    program: Program, candidate, module: str, now: str, counts: bool
) -> None:
    (the_pass,) = candidate.passes_of(module)
    assert pass_counts(the_pass, candidate, day(now), program) is counts
    assert bool(counting_passes(candidate, module, day(now), program)) is counts


def test_a_failed_attempt_never_counts(program: Program) -> None:
    attempt = failed("safety", "2025-01-01")
    assert not pass_counts(attempt, history(attempt), day("2025-01-01"), program)


def test_full_certification_once_achieved_is_held_for_ever(program: Program) -> None:
    candidate = history(
        *four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2020-04-10"),
        failed("safety", "2030-01-01"),
    )
    assert full_certification_date(candidate, program) == date(2020, 4, 10)


# Progress: counting passes of required modules, what is missing, and when the window closes.


def test_progress_of_a_new_candidate_is_all_missing(program: Program) -> None:
    result = progress(history(), day("2025-01-01"), program)
    assert result.passes == ()
    assert result.missing == ("safety", "quality", "processes", "maintenance")
    assert result.window_closes_on is None
    assert not result.certified


def test_progress_window_closes_two_years_after_the_earliest_counting_pass(
    program: Program,
) -> None:
    candidate = history(passed("quality", "2024-06-01"), passed("safety", "2024-03-10"))
    result = progress(candidate, day("2025-01-01"), program)
    assert [p.module for p in result.passes] == ["safety", "quality"]
    assert result.missing == ("processes", "maintenance")
    assert result.window_closes_on == date(2026, 3, 10)


def test_progress_drops_a_pass_that_no_longer_counts(program: Program) -> None:
    candidate = history(passed("safety", "2022-01-01"), passed("quality", "2024-06-01"))
    result = progress(candidate, day("2025-01-01"), program)
    assert [p.module for p in result.passes] == ["quality"]
    assert result.missing == ("safety", "processes", "maintenance")
    assert result.window_closes_on == date(2026, 6, 1)


def test_progress_keeps_the_most_recent_counting_pass_of_a_module(program: Program) -> None:
    candidate = history(passed("safety", "2024-01-01"), passed("safety", "2025-01-01"))
    result = progress(candidate, day("2025-06-01"), program)
    assert [p.taken_on for p in result.passes] == [date(2025, 1, 1)]
    assert result.window_closes_on == date(2027, 1, 1)


def test_progress_window_from_29_february_closes_on_28_february(program: Program) -> None:
    result = progress(history(passed("safety", "2024-02-29")), day("2025-01-01"), program)
    assert result.window_closes_on == date(2026, 2, 28)


def test_progress_ignores_green(program: Program) -> None:
    result = progress(history(passed("green", "2024-06-01")), day("2025-01-01"), program)
    assert result.passes == ()
    assert result.window_closes_on is None


def test_progress_when_certified_has_nothing_missing_and_no_deadline(program: Program) -> None:
    candidate = history(*four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2020-04-10"))
    result = progress(candidate, day("2030-01-01"), program)
    assert len(result.passes) == 4
    assert result.missing == ()
    assert result.window_closes_on is None
    assert result.certified_on == date(2020, 4, 10)


# Credentials.


def test_a_new_candidate_holds_no_credential(program: Program) -> None:
    assert credentials(history(), program) == ()


def test_a_module_certificate_is_dated_by_the_first_pass_and_never_expires(
    program: Program,
) -> None:
    candidate = history(
        failed("safety", "2019-12-01"),
        passed("safety", "2020-01-01"),
        passed("safety", "2023-01-01"),
        passed("green", "2021-05-05"),
    )
    assert credentials(candidate, program) == (
        Credential(CredentialKind.MODULE_CERTIFICATE, date(2020, 1, 1), "safety"),
        Credential(CredentialKind.MODULE_CERTIFICATE, date(2021, 5, 5), "green"),
    )


def test_full_certification_is_a_credential_with_its_date(program: Program) -> None:
    candidate = history(*four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2020-04-10"))
    held = credentials(candidate, program)
    assert [c.module for c in held[:4]] == ["safety", "quality", "processes", "maintenance"]
    assert held[-1] == Credential(CredentialKind.FULL_CERTIFICATION, date(2020, 4, 10))
    assert len(held) == 5


def test_a_history_works_out_each_derived_answer_once_per_program(program: Program) -> None:
    candidate = history(*four_passes("2024-05-01", "2024-05-01", "2024-05-01", "2024-05-01"))
    other_program = Program(**{f: getattr(program, f) for f in program.__dataclass_fields__})
    runs: list[Program] = []

    def count(for_program: Program) -> str:
        runs.append(for_program)
        return "answer"

    for _ in range(3):
        assert candidate.derived("rule", program, lambda: count(program)) == "answer"
    assert candidate.derived("rule", other_program, lambda: count(other_program)) == "answer"
    assert candidate.derived("another rule", program, lambda: count(program)) == "answer"
    assert runs == [program, other_program, program]


def test_the_remembered_date_is_the_date(program: Program) -> None:
    candidate = history(*four_passes("2024-03-10", "2024-06-01", "2025-01-01", "2026-03-10"))
    first = full_certification_date(candidate, program)
    assert first == day("2026-03-10")
    assert full_certification_date(candidate, program) == first
    assert full_certification_date(history(*candidate.attempts[:3]), program) is None
