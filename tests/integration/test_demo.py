"""Demo data: `shop.demo.seed` and `flask --app shop demo seed`."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import factories
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shop import db
from shop.clock import now, today
from shop.demo import DEFAULT_CUT_SCORE, DemoCandidate, seed
from shop.domain.credentials import CredentialKind, credentials
from shop.domain.dates import window_last_day
from shop.domain.program import Program
from shop.domain.progress import progress
from shop.domain.retakes import failures_since_last_pass
from shop.domain.status import ModuleStatus, module_status
from shop.models import Attempt, Candidate
from shop.services import program as program_service
from shop.services.history import history_of

TODAY = dt.date(2026, 6, 15)  # the conftest clock's day in the program's time zone
STATES = [
    "new", "one pass", "retake wait", "three failures", "certified", "pass expired", "staff",
]  # fmt: skip


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def run_seed(app: Flask) -> list[DemoCandidate]:
    with database(app) as session:
        assert today() == TODAY
        return seed(session, today(), now(), program_service.current())


def rows(app: Flask) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with database(app) as session:
        candidates = session.execute(
            select(Candidate.id, Candidate.reference, Candidate.name, Candidate.email).order_by(
                Candidate.id
            )
        ).all()
        attempts = session.execute(
            select(
                Attempt.id,
                Attempt.reference,
                Attempt.candidate_id,
                Attempt.module,
                Attempt.taken_on,
                Attempt.score,
                Attempt.passed,
                Attempt.kwa_scores,
            ).order_by(Attempt.id)
        ).all()
    return [tuple(c) for c in candidates], [tuple(a) for a in attempts]


@pytest.fixture
def seeded(app: Flask) -> dict[str, DemoCandidate]:
    return {c.state: c for c in run_seed(app)}


@pytest.fixture
def program(app: Flask) -> Program:
    with app.app_context():
        return program_service.current()


def history(app: Flask, demo: DemoCandidate) -> Any:
    with database(app) as session:
        candidate = session.scalars(
            select(Candidate).where(Candidate.reference == demo.reference)
        ).one()
        return history_of(session, candidate.id)


def statuses(app: Flask, demo: DemoCandidate, program: Program) -> dict[str, ModuleStatus]:
    found = history(app, demo)
    return {m.id: module_status(found, m.id, TODAY, program).status for m in program.modules}


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


# -- what is created ----------------------------------------------------------------------------


def test_one_candidate_per_state_with_example_addresses(seeded: dict[str, DemoCandidate]) -> None:
    assert list(seeded) == STATES
    assert len({c.reference for c in seeded.values()}) == len(STATES)
    assert len({c.email for c in seeded.values()}) == len(STATES)
    for candidate in seeded.values():
        assert candidate.email.endswith("@example.com")
        assert candidate.name and candidate.reference
        assert candidate.description and "\n" not in candidate.description
        assert candidate.created


def test_seeding_twice_creates_the_same_rows_once(app: Flask) -> None:
    first = run_seed(app)
    after_first = rows(app)
    second = run_seed(app)
    assert rows(app) == after_first
    assert [c.reference for c in second] == [c.reference for c in first]
    assert all(c.created for c in first)
    assert not any(c.created for c in second)
    candidates, attempts = after_first
    assert len(candidates) == 7
    assert len(attempts) == 11


def test_the_scores_are_the_same_every_time(app: Flask) -> None:
    run_seed(app)
    _, before = rows(app)
    with database(app) as session:
        session.execute(delete(Attempt))
    run_seed(app)
    _, after = rows(app)
    assert [a[1:] for a in after] == [a[1:] for a in before]


def test_the_scores_are_realistic(app: Flask, seeded: dict[str, DemoCandidate]) -> None:
    _, attempts = rows(app)
    with app.app_context():
        program = program_service.current()
    for _, reference, _, module_id, _, score, passed, kwa_scores in attempts:
        module = program.module(module_id)
        cut = module.cut_score_percent or DEFAULT_CUT_SCORE
        assert (score >= cut) is passed, reference
        assert 30 <= score <= 99
        assert set(kwa_scores) == {kwa.slug for kwa in module.kwas}
        assert all(0 <= value <= 100 for value in kwa_scores.values())
        assert len(set(kwa_scores.values())) > 1  # a report with something to read


# -- each candidate is in the state its description names ---------------------------------------


def test_new_has_no_attempts(
    app: Flask, seeded: dict[str, DemoCandidate], program: Program
) -> None:
    assert history(app, seeded["new"]).attempts == ()
    assert set(statuses(app, seeded["new"], program).values()) == {ModuleStatus.NOT_TAKEN}


def test_one_pass_passed_safety_ten_days_ago(
    app: Flask, seeded: dict[str, DemoCandidate], program: Program
) -> None:
    found = history(app, seeded["one pass"])
    assert [(a.module, a.taken_on, a.passed) for a in found.attempts] == [
        ("safety", days_ago(10), True)
    ]
    assert statuses(app, seeded["one pass"], program)["safety"] is ModuleStatus.PASSED
    state = progress(found, TODAY, program)
    assert state.missing == ("quality", "processes", "maintenance")
    assert state.window_closes_on == window_last_day(days_ago(10), 2)
    assert not state.certified


def test_retake_wait_failed_quality_five_days_ago(
    app: Flask, seeded: dict[str, DemoCandidate], program: Program
) -> None:
    found = history(app, seeded["retake wait"])
    state = module_status(found, "quality", TODAY, program)
    assert state.status is ModuleStatus.WAITING
    assert state.retake_on == days_ago(5) + dt.timedelta(days=15)
    assert "Quality Practices & Measurement" in seeded["retake wait"].description


def test_three_failures_at_processes_wait_sixty_days(
    app: Flask, seeded: dict[str, DemoCandidate], program: Program
) -> None:
    found = history(app, seeded["three failures"])
    assert [(a.module, a.passed) for a in found.attempts] == [("processes", False)] * 3
    assert failures_since_last_pass(found, "processes") == 3
    state = module_status(found, "processes", TODAY, program)
    assert state.status is ModuleStatus.WAITING
    assert found.attempts[-1].taken_on == days_ago(20)
    assert state.retake_on == days_ago(20) + dt.timedelta(days=60)
    # Each earlier retake respected the wait before it.
    first, second, third = (a.taken_on for a in found.attempts)
    assert (second - first).days >= 15 and (third - second).days >= 15


def test_certified_passed_the_four_required_modules_within_eighteen_months(
    app: Flask, seeded: dict[str, DemoCandidate], program: Program
) -> None:
    found = history(app, seeded["certified"])
    state = progress(found, TODAY, program)
    assert state.certified
    assert state.missing == ()
    passes = {a.module: a.taken_on for a in found.attempts if a.passed}
    assert set(passes) == {"safety", "quality", "processes", "maintenance"}
    assert min(passes.values()) >= dt.date(2024, 12, 15)  # 18 months before TODAY
    assert state.certified_on == max(passes.values())
    held = statuses(app, seeded["certified"], program)
    assert {held[m] for m in passes} == {ModuleStatus.PASSED}
    kinds = [c.kind for c in credentials(found, program)]
    assert kinds.count(CredentialKind.FULL_CERTIFICATION) == 1


def test_pass_expired_passed_maintenance_two_years_and_three_months_ago(
    app: Flask, seeded: dict[str, DemoCandidate], program: Program
) -> None:
    found = history(app, seeded["pass expired"])
    assert [(a.module, a.taken_on, a.passed) for a in found.attempts] == [
        ("maintenance", dt.date(2024, 3, 15), True)
    ]
    assert statuses(app, seeded["pass expired"], program)["maintenance"] is (
        ModuleStatus.PASS_EXPIRED
    )
    assert [(c.kind, c.module) for c in credentials(found, program)] == [
        (CredentialKind.MODULE_CERTIFICATE, "maintenance")
    ]
    assert progress(found, TODAY, program).passes == ()


def test_every_demo_candidate_has_a_dashboard(app: Flask, seeded: dict[str, DemoCandidate]) -> None:
    with database(app) as session:
        ids = {
            c.reference: c.id
            for c in session.scalars(select(Candidate).where(Candidate.reference.like("DEMO-%")))
        }
    expected = {
        "new": "Not taken yet.",
        "one pass": "The pass counts toward full certification until",
        "retake wait": "You may retake it from June 25, 2026",
        "three failures": "You may retake it from July 25, 2026",
        "certified": "You earned full CPT certification on",
        "pass expired": "that pass no longer counts toward full certification",
        "staff": "Staff: orders",
    }
    for state, demo in seeded.items():
        client = app.test_client()
        factories.sign_in_as(client, ids[demo.reference])
        page = client.get("/shop/account")
        assert page.status_code == 200
        assert demo.name in page.text
        words = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page.text)).split())
        assert expected[state] in words, state


# -- the command --------------------------------------------------------------------------------


def test_the_command_prints_who_to_sign_in_as(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["EMAIL", "STATE"]
    for state, address in zip(
        STATES,
        [
            "new@example.com",
            "one-pass@example.com",
            "retake-wait@example.com",
            "third-failure@example.com",
            "certified@example.com",
            "pass-expired@example.com",
            "staff@example.com",
        ],
        strict=True,
    ):
        assert any(line.startswith(address) and f"  {state}  " in line for line in lines), state
    assert "7 demo candidates: 7 created now, 0 already there." in result.output
    assert f"Sign in at {app.config['SHOP_URL']}/shop/signin with the address" in result.output
    assert "outbox/ (no SMTP server is configured)" in result.output
    with database(app) as session:
        count = session.scalar(select(func.count()).select_from(Candidate))
        taken = session.scalars(
            select(Attempt.taken_on).where(Attempt.reference == "DEMO-ONE-PASS-SAFETY-1")
        ).one()
    assert count == 7
    assert taken == dt.date(2026, 6, 5)  # ten days before the app clock's day

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "7 demo candidates: 0 created now, 7 already there." in again.output
