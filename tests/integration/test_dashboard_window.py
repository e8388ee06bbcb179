"""The dashboard's picture of the candidate's own window: first counting pass to closing day,
each pass and each missing module's first possible date marked, and today.

The clock stands on 15 June 2026 (noon in New York), as for the rest of the dashboard's tests.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from factories import add_attempt, add_candidate, sign_in_as
from flask import Flask
from flask.testing import FlaskClient

from shop import db

D = dt.date


def dashboard_of(app: Flask, client: FlaskClient, *rows: tuple[str, dt.date, bool]) -> str:
    """Ana's dashboard after the given attempts (module, date, passed)."""
    with app.app_context(), db.transaction() as session:
        ana = add_candidate(session, name="Ana Lopez", email="ana@example.com")
        for module, taken_on, passed in rows:
            add_attempt(session, ana, module, taken_on, passed=passed)
        ana_id = ana.id
    sign_in_as(client, ana_id)
    response = client.get("/shop/account")
    assert response.status_code == 200
    return response.text


def picture(page: str) -> str | None:
    found = re.search(r'<figure class="picture personal-window">.*?</figure>', page, re.S)
    return found.group(0) if found else None


def words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def legend(figure: str) -> list[str]:
    items = re.findall(r"<li>(.*?)</li>", figure, re.S)
    return [words(item).replace(" ,", ",") for item in items]


def circles(figure: str, kind: str) -> list[float]:
    return [
        float(x) for x in re.findall(rf'<circle class="{kind}[^"]*" cx="([\d.]+)" cy="64"', figure)
    ]


def today_x(figure: str) -> float:
    found = re.search(r'<path class="pic-today" d="M([\d.]+) 40', figure)
    assert found, figure
    return float(found.group(1))


def test_the_window_runs_from_the_first_pass_to_its_closing_day_with_today_and_next_dates(
    app: Flask, client: FlaskClient
) -> None:
    page = dashboard_of(
        app, client, ("safety", D(2025, 3, 1), True), ("quality", D(2026, 6, 10), False)
    )
    figure = picture(page)
    assert figure is not None
    assert "Your window for full CPT: from Mar 1, 2025 to Mar 1, 2027, today marked" in figure
    assert legend(figure) == [
        "Safety: passed on Mar 1, 2025",
        "Quality Practices & Measurement: you may sit it from Jun 25, 2026",
        "Manufacturing Processes & Production: you may sit it now",
        "Maintenance Awareness: you may sit it now",
    ]
    (passed,) = circles(figure, "pic-pass")  # on the bar (cy 64): the key's dots are below it
    # Only the retake date to come is on the bar: the modules that may be sat now are at today.
    (retake,) = circles(figure, "pic-next")
    assert passed < today_x(figure) < retake  # 10 days after today, of a 730-day window
    assert 'class="pic-next pic-late"' not in figure


def test_a_retake_date_after_the_window_closes_is_drawn_late_and_said(
    app: Flask, client: FlaskClient
) -> None:
    page = dashboard_of(
        app,
        client,
        ("safety", D(2024, 7, 1), True),
        ("quality", D(2026, 3, 1), False),
        ("quality", D(2026, 3, 20), False),
        ("quality", D(2026, 6, 10), False),  # the third failure: 60 days, to 9 August
    )
    figure = picture(page)
    assert figure is not None
    assert (
        "Quality Practices & Measurement: you may sit it from Aug 9, 2026, after the window closes"
        in legend(figure)
    )
    assert 'class="pic-next pic-late"' in figure


@pytest.mark.parametrize(
    "rows",
    [
        (),
        (("quality", D(2026, 6, 10), False),),
        (("green", D(2026, 1, 10), True),),
        tuple((m, D(2026, 1, 10), True) for m in ("safety", "quality", "processes", "maintenance")),
    ],
    ids=["nothing-yet", "only-a-failure", "only-green", "certified"],
)
def test_no_window_is_drawn_without_a_counting_pass_or_once_certified(
    app: Flask, client: FlaskClient, rows: tuple[tuple[str, dt.date, bool], ...]
) -> None:
    assert picture(dashboard_of(app, client, *rows)) is None
