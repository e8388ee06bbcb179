"""The candidate's dashboard at /shop/account: results, reports, progress and credentials.

The clock stands on 15 June 2026 (noon in New York) for every test here.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import factories
import pytest
from factories import add_attempt, add_authorization, add_candidate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shop import db
from shop.models import Candidate
from shop.services import program
from shop.services.credentials import issue_credentials

D = dt.date


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.transaction() as session:
        yield session


def sign_in_as(client: FlaskClient, candidate: Candidate) -> None:
    # The session cookie lives under /shop/: write it there.
    factories.sign_in_as(client, candidate.id)  # a server-side session, as the link makes


def text(page: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def module_block(page: str, module: str) -> str:
    found = re.search(
        rf'<article class="module-result" aria-labelledby="module-{module}">.*?</article>',
        page,
        re.S,
    )
    assert found is not None, page
    return found.group(0)


def section(page: str, heading_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert found is not None, page
    return found.group(0)


Dash = Callable[[], str]


@pytest.fixture
def ana(app: Flask) -> Candidate:
    with database(app) as session:
        return add_candidate(session, name="Ana Lopez", email="ana@example.com")


@pytest.fixture
def dash(client: FlaskClient, ana: Candidate) -> Dash:
    sign_in_as(client, ana)

    def page() -> str:
        response = client.get("/shop/account")
        assert response.status_code == 200
        return response.text

    return page


def attempts(app: Flask, candidate: Candidate, *rows: tuple[str, dt.date, bool], **kw: Any) -> None:
    """Record attempts and issue the credentials they earn, as a results import does."""
    with database(app) as session:
        for module, taken_on, passed in rows:
            add_attempt(session, candidate, module, taken_on, passed=passed, **kw)
        now = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
        issue_credentials(session, candidate.id, now=now, program=program.current())


# -- nothing yet --------------------------------------------------------------------------------


def test_a_new_candidate_sees_every_module_not_taken(dash: Dash) -> None:
    page = dash()
    assert "Hello Ana Lopez" in page
    for module in ("safety", "quality", "processes", "maintenance", "green"):
        assert "Not taken yet." in text(module_block(page, module))
        assert "<table" not in module_block(page, module)
    assert "None yet: each module you pass earns its certificate." in page
    assert "0 of 4 required modules passed" in text(section(page, "progress-heading"))
    assert "optional" in text(module_block(page, "green"))
    assert "optional" not in text(module_block(page, "safety"))


# -- retakes ------------------------------------------------------------------------------------


def test_a_failed_module_shows_its_retake_date(app: Flask, ana: Candidate, dash: Dash) -> None:
    attempts(app, ana, ("quality", D(2026, 6, 10), False))
    block = text(module_block(dash(), "quality"))
    assert "Not passed yet. You may retake it from June 25, 2026." in block
    assert '<time datetime="2026-06-25">' in module_block(dash(), "quality")


def test_the_third_failure_waits_sixty_days(app: Flask, ana: Candidate, dash: Dash) -> None:
    attempts(
        app,
        ana,
        ("processes", D(2026, 3, 2), False),
        ("processes", D(2026, 3, 20), False),
        ("processes", D(2026, 5, 26), False),
    )
    block = text(module_block(dash(), "processes"))
    assert "You may retake it from July 25, 2026." in block


def test_a_wait_that_is_over_says_retake_now(app: Flask, ana: Candidate, dash: Dash) -> None:
    attempts(app, ana, ("safety", D(2026, 5, 31), False))  # retake from 15 June: today
    assert "Not passed yet. You may retake it now." in text(module_block(dash(), "safety"))


# -- attempts and diagnostic reports ------------------------------------------------------------


def test_attempts_show_date_score_and_result_newest_first(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    with database(app) as session:
        add_attempt(session, ana, "quality", D(2026, 3, 2), passed=False, score=68.5)
        add_attempt(session, ana, "quality", D(2026, 3, 20), passed=True, score=81)
    rows = re.findall(
        r"<tr>\s*<td><time[^>]*>([^<]+)</time></td>\s*<td>([^<]+)</td>"
        r'\s*<td><span class="([^"]+)">(\w+)</span>',
        module_block(dash(), "quality"),
    )
    assert rows == [
        ("March 20, 2026", "81%", "result-pass", "Pass"),
        ("March 2, 2026", "68.5%", "result-fail", "Fail"),
    ]


def test_the_diagnostic_report_puts_the_weakest_kwa_first_with_links(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    scores = {
        "safe-productive-workplace": 91,
        "safety-environmental-inspections": 58,
        "emergency-drills-teams": 77.5,
        "unsafe-conditions": 64,
        "safety-orientation": 88,
        "equipment-safety-training": 64,  # a tie with unsafe-conditions: program order
        "safety-improvements": 95,
        "maintenance-safety-requirements": 70,
        "monitor-equipment-operators": 83,
    }
    with database(app) as session:
        add_attempt(
            session, ana, "safety", D(2026, 5, 4), passed=False, score=72, kwa_scores=scores
        )
    block = module_block(dash(), "safety")
    report = re.search(r'<table class="report">.*?</table>', block, re.S)
    assert report is not None
    assert "Weakest first" in report.group(0)
    rows = re.findall(r'<tr><td><a href="([^"]+)">([^<]+)</a></td><td>([^<]+)</td></tr>', block)
    assert [(href, score) for href, _, score in rows] == [
        ("/modules/safety/safety-environmental-inspections/", "58%"),
        ("/modules/safety/unsafe-conditions/", "64%"),
        ("/modules/safety/equipment-safety-training/", "64%"),
        ("/modules/safety/maintenance-safety-requirements/", "70%"),
        ("/modules/safety/emergency-drills-teams/", "77.5%"),
        ("/modules/safety/monitor-equipment-operators/", "83%"),
        ("/modules/safety/safety-orientation/", "88%"),
        ("/modules/safety/safe-productive-workplace/", "91%"),
        ("/modules/safety/safety-improvements/", "95%"),
    ]
    assert rows[0][1] == "Perform safety and environmental inspections"
    assert "Fail" in text(block)
    assert "72%" in block


def test_kwa_links_point_at_the_static_site_when_it_lives_elsewhere(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    app.config["SITE_URL"] = "https://cpt.example.org/"
    with database(app) as session:
        add_attempt(
            session, ana, "maintenance", D(2026, 5, 4), passed=True, kwa_scores={"housekeeping": 90}
        )
    assert '<a href="https://cpt.example.org/modules/maintenance/housekeeping/">' in module_block(
        dash(), "maintenance"
    )


def test_an_attempt_without_kwa_scores_says_no_report(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    attempts(app, ana, ("green", D(2026, 5, 4), True))
    assert "No score per KWA" in text(module_block(dash(), "green"))


# -- progress toward full certification ---------------------------------------------------------


def test_progress_names_the_missing_modules_and_when_the_window_closes(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    attempts(app, ana, ("safety", D(2025, 3, 1), True), ("quality", D(2025, 9, 10), True))
    page = dash()
    progress = text(section(page, "progress-heading"))
    assert "2 of 4 required modules passed within one 2-year window." in progress
    assert (
        "To earn full certification, pass Manufacturing Processes & Production and "
        "Maintenance Awareness by March 1, 2027, the day your current 2-year window closes."
    ) in progress
    safety = text(module_block(page, "safety"))
    assert "Passed on March 1, 2025." in safety
    assert "The pass counts toward full certification until March 1, 2027." in safety


def test_full_certification_shows_its_date_and_every_credential(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    attempts(
        app,
        ana,
        ("safety", D(2025, 1, 20), True),
        ("quality", D(2025, 4, 2), True),
        ("processes", D(2025, 8, 14), True),
        ("maintenance", D(2025, 8, 1), False),
        ("maintenance", D(2026, 2, 9), True),
        ("green", D(2026, 5, 5), True),
    )
    page = dash()
    assert "You earned full CPT certification on February 9, 2026." in text(
        section(page, "progress-heading")
    )
    credentials = re.findall(r"<li>(.*?)</li>", section(page, "credentials-heading"), re.S)
    assert [text(c) for c in credentials] == [
        "Safety module certificate, earned January 20, 2025",
        "Quality Practices & Measurement module certificate, earned April 2, 2025",
        "Manufacturing Processes & Production module certificate, earned August 14, 2025",
        "Maintenance Awareness module certificate, earned February 9, 2026",
        "Green Production module certificate, earned May 5, 2026",
        "Full CPT certification, earned February 9, 2026",
    ]
    # Once certified, a required module's pass counts for ever: no closing date is shown.
    safety = text(module_block(page, "safety"))
    assert "Passed on January 20, 2025." in safety
    assert "counts toward full certification until" not in safety


def test_a_pass_that_aged_out_says_so_and_keeps_its_certificate(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    attempts(app, ana, ("maintenance", D(2024, 3, 1), True))
    page = dash()
    block = text(module_block(page, "maintenance"))
    assert "status-pass_expired" in module_block(page, "maintenance")
    assert (
        "Passed on March 1, 2024; that pass no longer counts toward full certification, "
        "so you may take this module again. Your certificate stays valid."
    ) in block
    assert "Maintenance Awareness module certificate, earned March 1, 2024" in text(
        section(page, "credentials-heading")
    )
    progress = text(section(page, "progress-heading"))
    assert "0 of 4 required modules passed" in progress
    assert "How the window works" in progress


def test_a_held_authorization_is_noted_on_its_module(
    app: Flask, ana: Candidate, dash: Dash
) -> None:
    with database(app) as session:
        add_authorization(session, ana, "processes")
    page = dash()
    note = "You hold an assessment authorization for this module: your next sitting is paid for."
    assert note in text(module_block(page, "processes"))
    assert note not in text(module_block(page, "safety"))


# -- privacy ------------------------------------------------------------------------------------


def test_another_candidates_attempts_never_appear(app: Flask, ana: Candidate, dash: Dash) -> None:
    with database(app) as session:
        other = add_candidate(session, name="Bo Chen", email="bo@example.com")
        add_attempt(
            session,
            other,
            "safety",
            D(2026, 4, 7),
            passed=True,
            score=93.25,
            kwa_scores={"unsafe-conditions": 12.5},
        )
        add_attempt(session, other, "quality", D(2026, 6, 12), passed=False, score=41.75)
        add_authorization(session, other, "green")
        add_attempt(session, ana, "processes", D(2026, 5, 1), passed=True, score=80)
        now = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
        (others,) = issue_credentials(session, other.id, now=now, program=program.current())
        issue_credentials(session, ana.id, now=now, program=program.current())
    page = dash()
    assert "Bo Chen" not in page
    assert others.verify_id not in page
    for trace in ("93.25", "41.75", "12.5", "April 7, 2026", "June 12, 2026", "authorization"):
        assert trace not in page
    for module in ("safety", "quality", "maintenance", "green"):
        assert "Not taken yet." in text(module_block(page, module))
    assert "Passed on May 1, 2026." in text(module_block(page, "processes"))
