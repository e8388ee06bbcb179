"""Rule 6: each module's status on the candidate's dashboard."""

from datetime import date

import pytest
from histories import day, failed, four_passes, history, passed

from shop.domain.history import History
from shop.domain.program import Program
from shop.domain.status import ModuleState, ModuleStatus, module_status, module_statuses

CERTIFIED_2020 = history(*four_passes("2020-01-10", "2020-02-10", "2020-03-10", "2020-04-10"))


@pytest.mark.parametrize(
    ("candidate", "module", "now", "expected"),
    [
        pytest.param(
            history(),
            "safety",
            "2025-01-01",
            ModuleState("safety", ModuleStatus.NOT_TAKEN),
            id="never attempted: not taken",
        ),
        pytest.param(
            history(passed("safety", "2024-03-10")),
            "safety",
            "2026-03-10",
            ModuleState("safety", ModuleStatus.PASSED, date(2024, 3, 10), date(2026, 3, 10)),
            id="passed, on the window's last day: passed",
        ),
        pytest.param(
            history(passed("safety", "2024-03-10")),
            "safety",
            "2026-03-11",
            ModuleState("safety", ModuleStatus.PASS_EXPIRED, date(2024, 3, 10)),
            id="passed, the day after the window closes: pass expired",
        ),
        pytest.param(
            history(passed("safety", "2024-02-29")),
            "safety",
            "2026-03-01",
            ModuleState("safety", ModuleStatus.PASS_EXPIRED, date(2024, 2, 29)),
            id="passed on 29 Feb, on 1 Mar two years on: pass expired",
        ),
        pytest.param(
            history(passed("green", "2015-05-05")),
            "green",
            "2040-01-01",
            ModuleState("green", ModuleStatus.PASSED, date(2015, 5, 5)),
            id="Green passed long ago: still passed, for ever",
        ),
        pytest.param(
            CERTIFIED_2020,
            "safety",
            "2040-01-01",
            ModuleState("safety", ModuleStatus.PASSED, date(2020, 1, 10)),
            id="certified: required passes count for ever",
        ),
        pytest.param(
            history(passed("safety", "2021-01-01"), failed("safety", "2024-05-01")),
            "safety",
            "2024-05-10",
            ModuleState(
                "safety", ModuleStatus.WAITING, date(2021, 1, 1), retake_on=date(2024, 5, 16)
            ),
            id="an expired pass then a failure: waiting",
        ),
        pytest.param(
            history(passed("safety", "2021-01-01"), failed("safety", "2024-05-01")),
            "safety",
            "2024-05-16",
            ModuleState(
                "safety", ModuleStatus.MAY_RETAKE, date(2021, 1, 1), retake_on=date(2024, 5, 16)
            ),
            id="an expired pass then a failure, wait over: may retake",
        ),
        pytest.param(
            history(failed("safety", "2024-04-01"), passed("safety", "2024-05-01")),
            "safety",
            "2024-05-02",
            ModuleState("safety", ModuleStatus.PASSED, date(2024, 5, 1), date(2026, 5, 1)),
            id="a failure then a pass: passed",
        ),
    ],
)
def test_the_dashboard_shows_each_module_with_its_dates(
    program: Program, candidate: History, module: str, now: str, expected: ModuleState
) -> None:
    assert module_status(candidate, module, day(now), program) == expected


def test_the_dashboard_lists_every_module_in_the_program_order(program: Program) -> None:
    states = module_statuses(history(passed("green", "2024-01-01")), day("2024-02-01"), program)
    assert [s.module for s in states] == ["safety", "quality", "processes", "maintenance", "green"]
    assert [s.status for s in states] == [ModuleStatus.NOT_TAKEN] * 4 + [ModuleStatus.PASSED]
