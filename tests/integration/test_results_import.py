"""Staff import assessment results from a CSV file: all of it or nothing, and never twice."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from shop import db
from shop.domain.program import load_program
from shop.models import Attempt, Authorization, Candidate, Credential, ResultsImport
from shop.services import credentials, results
from shop.services.results import COLUMNS, conflicts

PROGRAM = load_program(Path(__file__).parents[2] / "content" / "program.toml")
MAINTENANCE = [kwa.slug for kwa in PROGRAM.module("maintenance").kwas]
GREEN = [kwa.slug for kwa in PROGRAM.module("green").kwas]
HEADER = [*COLUMNS, *MAINTENANCE, *GREEN]
TABLES = ("candidate", "attempt", "authorization", "results_import")
SEEDED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOTHING = "nothing was imported"


# -- files ---------------------------------------------------------------------------------------


def scores(module: str, value: float = 80) -> dict[str, str]:
    slugs = MAINTENANCE if module == "maintenance" else GREEN
    return {slug: f"{value + index:g}" for index, slug in enumerate(slugs)}


def row(**fields: Any) -> dict[str, str]:
    """A valid row of Ana's maintenance attempt, with `fields` changed."""
    module = fields.get("module", "maintenance")
    values = {
        "attempt_id": "A-1",
        "candidate_id": "C-1",
        "name": "Ana Lopez",
        "email": "ana@example.com",
        "module": module,
        "date": "2026-05-01",
        "score": "81.5",
        "passed": "pass",
        **scores(module),
    }
    values.update({key: str(value) for key, value in fields.items()})
    return values


def ben(**fields: Any) -> dict[str, str]:
    defaults = {"attempt_id": "B-1", "candidate_id": "C-2", "name": "Ben Okafor"}
    return row(**{"email": "ben@example.org", **defaults, **fields})


def csv_bytes(*rows: dict[str, str], header: Sequence[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(column, "") for column in header])
    return buffer.getvalue().encode("utf-8")


def without(column: str) -> list[str]:
    return [name for name in HEADER if name != column]


def import_file(runner: FlaskCliRunner, tmp_path: Path, content: bytes) -> tuple[Result, str]:
    path = tmp_path / "results.csv"
    path.write_bytes(content)
    return runner.invoke(args=["results", "import", str(path)]), str(path)


# -- the database ---------------------------------------------------------------------------------


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import writes to."""
    with app.extensions["db.engine"].connect() as connection:
        return {
            table: [
                tuple(r)
                for r in connection.execute(sa.text(f'SELECT * FROM "{table}" ORDER BY id'))
            ]
            for table in TABLES
        }


def counts(app: Flask) -> dict[str, int]:
    return {table: len(rows) for table, rows in snapshot(app).items()}


def seed_candidate(app: Flask, reference: str, name: str, email: str) -> int:
    with app.app_context(), db.transaction() as session:
        candidate = Candidate(reference=reference, name=name, email=email, created_at=SEEDED_AT)
        session.add(candidate)
        session.flush()
        return candidate.id


def seed_attempt(app: Flask, candidate_id: int, reference: str, **fields: Any) -> int:
    values: dict[str, Any] = {
        "module": "maintenance",
        "taken_on": dt.date(2026, 4, 1),
        "score": 70.0,
        "passed": False,
        "kwa_scores": {slug: float(v) for slug, v in scores("maintenance").items()},
        **fields,
    }
    with app.app_context(), db.transaction() as session:
        attempt = Attempt(
            reference=reference, candidate_id=candidate_id, recorded_at=SEEDED_AT, **values
        )
        session.add(attempt)
        session.flush()
        return attempt.id


def seed_authorization(
    app: Flask, candidate_id: int, module: str, granted_at: dt.datetime = SEEDED_AT
) -> int:
    with app.app_context(), db.transaction() as session:
        authorization = Authorization(
            candidate_id=candidate_id, module=module, granted_at=granted_at, source="test"
        )
        session.add(authorization)
        session.flush()
        return authorization.id


def authorization(app: Flask, authorization_id: int) -> Authorization:
    with app.app_context():
        found = db.session().get(Authorization, authorization_id)
        assert found is not None
        return found


def attempt_id_of(app: Flask, reference: str) -> int:
    with app.app_context():
        found = db.session().scalars(sa.select(Attempt.id).where(Attempt.reference == reference))
        return found.one()


def candidate(app: Flask, reference: str) -> Candidate:
    with app.app_context():
        found = db.session().scalars(sa.select(Candidate).where(Candidate.reference == reference))
        return found.one()


@pytest.fixture
def seeded(app: Flask) -> dict[str, int]:
    """A candidate C-0 already on file with one recorded attempt, A-0."""
    candidate_id = seed_candidate(app, "C-0", "Seeded Person", "seeded@example.com")
    return {"candidate": candidate_id, "attempt": seed_attempt(app, candidate_id, "A-0")}


# -- a good import ------------------------------------------------------------------------------


def test_a_good_file_records_candidates_and_attempts_and_says_how_many(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    content = csv_bytes(
        row(email="Ana@Example.COM"),
        row(attempt_id="A-2", module="green", date="2026-05-02", score="60", passed="FAIL"),
        ben(),
    )

    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    assert (
        result.stdout == "3 records: 3 new, 0 already recorded, 0 assessment authorizations used\n"
    )
    assert result.stderr == ""
    assert counts(app) == {"candidate": 2, "attempt": 3, "authorization": 0, "results_import": 1}
    ana = candidate(app, "C-1")
    assert (ana.name, ana.email) == ("Ana Lopez", "ana@example.com")
    with app.app_context():
        green = db.session().scalars(sa.select(Attempt).where(Attempt.reference == "A-2")).one()
        assert green.module == "green"
        assert green.taken_on == dt.date(2026, 5, 2)
        assert (green.score, green.passed) == (60.0, False)
        assert green.kwa_scores == {slug: float(v) for slug, v in scores("green").items()}
        assert green.recorded_at == app.config["CLOCK"]()


def test_the_same_file_imported_twice_records_nothing_the_second_time(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    content = csv_bytes(row(), row(attempt_id="A-2", module="green"), ben())
    first, _ = import_file(runner, tmp_path, content)
    assert first.exit_code == 0, first.output
    after_first = snapshot(app)

    second, _ = import_file(runner, tmp_path, content)

    assert second.exit_code == 0, second.output
    assert second.stdout == (
        "3 records: 0 new, 3 already recorded, 0 assessment authorizations used\n"
    )
    assert snapshot(app) == after_first


def test_a_row_given_twice_with_the_same_data_is_recorded_once(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result, _ = import_file(runner, tmp_path, csv_bytes(row(), ben(), row()))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 records: 2 new, 0 already recorded")
    assert counts(app)["attempt"] == 2


def test_a_file_needs_only_the_kwa_columns_of_its_modules(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    header = [*COLUMNS, *MAINTENANCE]

    result, _ = import_file(runner, tmp_path, csv_bytes(row(), header=header))

    assert result.exit_code == 0, result.output
    assert counts(app)["attempt"] == 1


def test_an_excel_style_file_with_a_byte_order_mark_and_crlf_lines_is_read(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    content = b"\xef\xbb\xbf" + csv_bytes(row(), ben()).replace(b"\n", b"\r\n")

    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    assert counts(app)["attempt"] == 2


def test_a_changed_name_and_email_update_the_known_candidate(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, seeded: dict[str, int]
) -> None:
    content = csv_bytes(
        row(attempt_id="A-9", candidate_id="C-0", name="Seeded Q. Person", email="new@example.com")
    )

    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    updated = candidate(app, "C-0")
    assert (updated.id, updated.name, updated.email) == (
        seeded["candidate"],
        "Seeded Q. Person",
        "new@example.com",
    )
    assert counts(app)["candidate"] == 1


def test_a_name_staff_reissued_in_is_kept_by_later_imports(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row()))[0].exit_code == 0
    with app.app_context(), db.transaction() as session:
        (held,) = session.scalars(sa.select(Credential)).all()
        credentials.reissue(
            session, held.verify_id, "Ana Smith", "Married", app.config["CLOCK"](), by="staff"
        )

    # The assessment system still has the old name; a new pass arrives with it.
    later = row(attempt_id="A-2", module="green", email="ana.smith@example.com")
    result, _ = import_file(runner, tmp_path, csv_bytes(later))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "name or email changed for 1 candidate: C-1",  # the email
        "1 candidate sent with another name than the one staff set on a reissue: "
        "the name staff set was kept",
    ]
    ana = candidate(app, "C-1")
    assert (ana.name, ana.email) == ("Ana Smith", "ana.smith@example.com")
    with app.app_context():
        holders = db.session().scalars(sa.select(Credential.holder_name)).all()
    assert sorted(holders) == ["Ana Smith", "Ana Smith"]  # the new green certificate too


def test_an_import_counts_the_names_it_kept(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row(), ben()))[0].exit_code == 0
    with app.app_context(), db.transaction() as session:
        ana = session.scalars(sa.select(Candidate).where(Candidate.reference == "C-1")).one()
        ana.name, ana.name_set_by_staff_at = "Ana Smith", app.config["CLOCK"]()
    with app.app_context():
        summary = results.import_records(
            db.session(),
            parsed(row(attempt_id="A-3"), ben(attempt_id="B-3", name="Ben O. Okafor")),
            now=app.config["CLOCK"](),
            program=PROGRAM,
            source="results.csv",
        )
    assert (summary.names_kept, summary.candidates_updated) == (1, 1)  # Ana kept; Ben renamed
    assert candidate(app, "C-1").name == "Ana Smith"
    assert candidate(app, "C-2").name == "Ben O. Okafor"


def test_a_name_change_alone_updates_the_candidate_but_records_no_import(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, seeded: dict[str, int]
) -> None:
    # A-0 exactly as recorded by the `seeded` fixture, under a new name.
    content = csv_bytes(
        row(
            attempt_id="A-0",
            candidate_id="C-0",
            name="Seeded Renamed",
            email="seeded@example.com",
            date="2026-04-01",
            score="70",
            passed="no",
        )
    )

    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 record: 0 new, 1 already recorded")
    assert candidate(app, "C-0").name == "Seeded Renamed"
    assert counts(app) == {"candidate": 1, "attempt": 1, "authorization": 0, "results_import": 0}


# -- whose details are newer: the latest date, then the greatest attempt id --------------------

OLD = {"attempt_id": "A-1", "date": "2026-05-01", "name": "Ana Lopez", "email": "ana@example.com"}
NEW = {
    "attempt_id": "A-2",
    "module": "green",
    "date": "2026-05-20",
    "name": "Ana Smith",
    "email": "ana.smith@example.com",
}


def details(app: Flask, reference: str = "C-1") -> tuple[str, str]:
    found = candidate(app, reference)
    return (found.name, found.email)


def test_a_newer_file_changes_the_name_and_email_and_says_whose(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row(**OLD), ben()))[0].exit_code == 0

    result, _ = import_file(runner, tmp_path, csv_bytes(row(**NEW), ben(attempt_id="B-2")))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2 records: 2 new, 0 already recorded, 0 assessment authorizations used",
        "name or email changed for 1 candidate: C-1",
    ]
    assert details(app) == ("Ana Smith", "ana.smith@example.com")
    ana = candidate(app, "C-1")
    assert (ana.details_from_date, ana.details_from_attempt) == (dt.date(2026, 5, 20), "A-2")


def test_an_older_file_after_a_newer_one_keeps_the_newer_name_and_email_and_says_none_changed(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row(**OLD)))[0].exit_code == 0
    assert import_file(runner, tmp_path, csv_bytes(row(**NEW)))[0].exit_code == 0
    before = snapshot(app)

    result, _ = import_file(runner, tmp_path, csv_bytes(row(**OLD)))  # the old file again

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "1 record: 0 new, 1 already recorded, 0 assessment authorizations used",
        "name or email kept for 1 candidate, sent in records older than the one they came "
        "from: C-1",
    ]
    assert "changed" not in result.stdout
    assert details(app) == ("Ana Smith", "ana.smith@example.com")
    assert snapshot(app) == before


def test_an_older_file_naming_an_address_that_has_since_moved_to_another_candidate_imports(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row(**OLD)))[0].exit_code == 0
    assert import_file(runner, tmp_path, csv_bytes(row(**NEW)))[0].exit_code == 0
    # Ben now has the address Ana had.
    assert import_file(runner, tmp_path, csv_bytes(ben(email="ana@example.com")))[0].exit_code == 0

    result, _ = import_file(runner, tmp_path, csv_bytes(row(**OLD)))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 record: 0 new, 1 already recorded")
    assert details(app) == ("Ana Smith", "ana.smith@example.com")
    assert details(app, "C-2") == ("Ben Okafor", "ana@example.com")


def test_a_newer_record_still_cannot_take_another_candidates_address(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row(**OLD), ben()))[0].exit_code == 0
    before = snapshot(app)

    result, path = import_file(
        runner, tmp_path, csv_bytes(row(**{**NEW, "email": "ben@example.org"}))
    )

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path} line 2: email 'ben@example.org' belongs to another candidate ('C-2')",
        NOTHING,
    ]
    assert snapshot(app) == before


def test_a_late_result_is_recorded_but_leaves_the_newer_details(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row(**NEW)))[0].exit_code == 0

    # An attempt never sent before, but taken before the one the details came from.
    late = row(**{**OLD, "attempt_id": "A-0"})
    result, _ = import_file(runner, tmp_path, csv_bytes(late))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 record: 1 new, 0 already recorded")
    assert "name or email kept for 1 candidate" in result.stdout
    assert details(app) == ("Ana Smith", "ana.smith@example.com")
    assert counts(app)["attempt"] == 2


@pytest.mark.parametrize(
    ("first", "second", "kept"),
    [
        (("A-1", "2026-05-01"), ("A-2", "2026-05-02"), "second"),
        (("A-2", "2026-05-02"), ("A-1", "2026-05-01"), "first"),
        (("B-9", "2026-05-01"), ("A-1", "2026-05-02"), "second"),  # the date comes first
        (("A-1", "2026-05-01"), ("A-2", "2026-05-01"), "second"),
        (("A-2", "2026-05-01"), ("A-1", "2026-05-01"), "first"),
        (("A-9", "2026-05-01"), ("A-10", "2026-05-01"), "first"),  # ids compare as text
        (("A-1", "2026-05-01"), ("A-1", "2026-05-01"), "first"),  # the same attempt again
    ],
    ids=[
        "a later day wins",
        "an earlier day loses",
        "a later day wins whatever its id",
        "the same day: the greater id wins",
        "the same day: the smaller id loses",
        "the same day: A-9 is after A-10",
        "the same attempt sent again with other details changes nothing",
    ],
)
def test_the_newer_record_sets_the_details_whichever_comes_first(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    first: tuple[str, str],
    second: tuple[str, str],
    kept: str,
) -> None:
    (first_id, first_day), (second_id, second_day) = first, second
    one = row(attempt_id=first_id, date=first_day, name="First Name", email="first@example.com")
    # Another module, unless it is the same attempt again (the same data but the details).
    module = "maintenance" if first_id == second_id else "green"
    two = row(
        attempt_id=second_id,
        module=module,
        date=second_day,
        name="Second Name",
        email="second@example.com",
    )
    assert import_file(runner, tmp_path, csv_bytes(one))[0].exit_code == 0

    result, _ = import_file(runner, tmp_path, csv_bytes(two))

    assert result.exit_code == 0, result.output
    assert details(app) == (
        ("First Name", "first@example.com")
        if kept == "first"
        else ("Second Name", "second@example.com")
    )
    shown = "name or email changed" if kept == "second" else "name or email kept"
    assert f"{shown} for 1 candidate" in result.stdout


def test_a_batch_is_as_new_as_its_candidates_newest_record(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    middle = row(attempt_id="A-5", date="2026-05-10")
    assert import_file(runner, tmp_path, csv_bytes(middle))[0].exit_code == 0
    renamed = {"name": "Ana Smith", "email": "ana.smith@example.com"}

    # One record older than A-5 and one newer, both with the new details: the newer counts.
    content = csv_bytes(
        row(attempt_id="A-1", date="2026-05-01", **renamed),
        row(attempt_id="A-9", module="green", date="2026-05-12", **renamed),
    )
    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    assert details(app) == ("Ana Smith", "ana.smith@example.com")
    ana = candidate(app, "C-1")
    assert (ana.details_from_date, ana.details_from_attempt) == (dt.date(2026, 5, 12), "A-9")


def test_an_older_record_does_not_count_as_a_name_staff_set_being_kept(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_file(runner, tmp_path, csv_bytes(row(**NEW)))[0].exit_code == 0
    with app.app_context(), db.transaction() as session:
        ana = session.scalars(sa.select(Candidate).where(Candidate.reference == "C-1")).one()
        ana.name, ana.name_set_by_staff_at = "Ana Smith-Jones", app.config["CLOCK"]()

    result, _ = import_file(runner, tmp_path, csv_bytes(row(**OLD)))

    assert result.exit_code == 0, result.output
    assert "staff set" not in result.stdout
    assert "name or email kept for 1 candidate" in result.stdout
    assert details(app) == ("Ana Smith-Jones", "ana.smith@example.com")


def test_a_date_is_checked_against_today_in_the_programs_time_zone(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    # 02:00 UTC on June 16 is still the evening of June 15 in New York.
    app.config["CLOCK"].current = dt.datetime(2026, 6, 16, 2, 0, tzinfo=dt.UTC)

    refused, path = import_file(runner, tmp_path, csv_bytes(row(date="2026-06-16")))
    accepted, _ = import_file(runner, tmp_path, csv_bytes(row(date="2026-06-15")))

    assert refused.exit_code == 1
    assert f"{path} line 2: date 2026-06-16 is after today (2026-06-15)" in refused.stderr
    assert accepted.exit_code == 0, accepted.output


# -- assessment authorizations ------------------------------------------------------------------


def test_the_next_attempt_of_a_module_uses_the_candidates_authorization_for_it(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, seeded: dict[str, int]
) -> None:
    held = seed_authorization(app, seeded["candidate"], "maintenance")
    of_c0 = {"candidate_id": "C-0", "name": "Seeded Person", "email": "seeded@example.com"}

    other_module, _ = import_file(
        runner, tmp_path, csv_bytes(row(attempt_id="G-1", module="green", **of_c0))
    )
    assert other_module.exit_code == 0, other_module.output
    assert other_module.stdout.endswith("0 assessment authorizations used\n")
    assert authorization(app, held).used_by_attempt_id is None

    same_module, _ = import_file(runner, tmp_path, csv_bytes(row(attempt_id="M-1", **of_c0)))

    assert same_module.exit_code == 0, same_module.output
    assert same_module.stdout == (
        "1 record: 1 new, 0 already recorded, 1 assessment authorization used\n"
    )
    used = authorization(app, held)
    assert used.used_by_attempt_id == attempt_id_of(app, "M-1")
    assert used.used_at == app.config["CLOCK"]()


def test_only_the_earliest_new_attempt_uses_the_one_authorization(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, seeded: dict[str, int]
) -> None:
    held = seed_authorization(app, seeded["candidate"], "maintenance")
    of_c0 = {"candidate_id": "C-0", "name": "Seeded Person", "email": "seeded@example.com"}
    content = csv_bytes(
        row(attempt_id="M-2", date="2026-05-20", **of_c0),
        row(attempt_id="M-1", date="2026-05-05", **of_c0),
    )

    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("1 assessment authorization used\n")
    assert authorization(app, held).used_by_attempt_id == attempt_id_of(app, "M-1")


# Bought at 23:30 on June 10 in New York: already June 11 in UTC.
BOUGHT_LATE_ON_JUNE_10 = dt.datetime(2026, 6, 11, 3, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("taken_on", "uses_it"),
    [
        ("2026-05-01", False),  # weeks before the fee was bought: imported late
        ("2026-06-09", False),  # the day before
        ("2026-06-10", True),  # the day it was bought, in the program's calendar
        ("2026-06-11", True),
    ],
)
def test_an_attempt_uses_only_an_authorization_bought_by_the_day_it_was_taken(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    seeded: dict[str, int],
    taken_on: str,
    uses_it: bool,
) -> None:
    app.config["CLOCK"].current = dt.datetime(2026, 6, 20, 16, 0, tzinfo=dt.UTC)
    held = seed_authorization(app, seeded["candidate"], "maintenance", BOUGHT_LATE_ON_JUNE_10)
    of_c0 = {"candidate_id": "C-0", "name": "Seeded Person", "email": "seeded@example.com"}

    result, _ = import_file(
        runner, tmp_path, csv_bytes(row(attempt_id="M-1", date=taken_on, **of_c0))
    )

    assert result.exit_code == 0, result.output
    expected = attempt_id_of(app, "M-1") if uses_it else None
    assert authorization(app, held).used_by_attempt_id == expected


def test_a_late_result_leaves_the_new_fee_for_the_attempt_it_was_bought_for(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, seeded: dict[str, int]
) -> None:
    app.config["CLOCK"].current = dt.datetime(2026, 6, 20, 16, 0, tzinfo=dt.UTC)
    held = seed_authorization(app, seeded["candidate"], "maintenance", BOUGHT_LATE_ON_JUNE_10)
    of_c0 = {"candidate_id": "C-0", "name": "Seeded Person", "email": "seeded@example.com"}
    content = csv_bytes(
        row(attempt_id="M-1", date="2026-05-01", **of_c0),  # an old result, sent late
        row(attempt_id="M-2", date="2026-06-15", **of_c0),  # the retake the fee paid for
    )

    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    assert authorization(app, held).used_by_attempt_id == attempt_id_of(app, "M-2")


def test_an_attempt_already_recorded_uses_no_authorization(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, seeded: dict[str, int]
) -> None:
    held = seed_authorization(app, seeded["candidate"], "maintenance")
    content = csv_bytes(
        row(
            attempt_id="A-0",
            candidate_id="C-0",
            name="Seeded Person",
            email="seeded@example.com",
            date="2026-04-01",
            score="70",
            passed="false",
        )
    )

    result, _ = import_file(runner, tmp_path, content)

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 assessment authorizations used\n")
    assert authorization(app, held).used_by_attempt_id is None


# -- bad files: every problem named by its line, nothing written ------------------------------


def _bad(content: bytes, expected: str, id: str) -> Any:
    return pytest.param(content, expected, id=id)


WELDING = (
    "unknown module 'welding' (expected one of safety, quality, processes, maintenance, green)"
)
BAD_FILES = [
    _bad(csv_bytes(row(), ben(module="welding")), f"line 3: {WELDING}", "unknown module"),
    _bad(
        csv_bytes(row(), ben(date="15/05/2026")),
        "line 3: date '15/05/2026' is not in the form YYYY-MM-DD",
        "a date not in the form YYYY-MM-DD",
    ),
    _bad(
        csv_bytes(row(), ben(date="2026-02-30")),
        "line 3: date '2026-02-30' is not a day of the calendar",
        "February 30",
    ),
    _bad(
        csv_bytes(row(), ben(date="2026-06-16")),
        "line 3: date 2026-06-16 is after today (2026-06-15)",
        "a date after today",
    ),
    _bad(
        csv_bytes(row(), ben(score="101")),
        "line 3: score 101 is out of range (expected a percent from 0 to 100)",
        "a score of 101",
    ),
    _bad(
        csv_bytes(row(), ben(score="-1")),
        "line 3: score -1 is out of range (expected a percent from 0 to 100)",
        "a score of -1",
    ),
    _bad(csv_bytes(row(), ben(score="abc")), "line 3: score 'abc' is not a number", "score abc"),
    _bad(
        csv_bytes(row(), ben(passed="maybe")),
        "line 3: passed 'maybe' is not one of true/false, pass/fail, yes/no, 1/0",
        "passed maybe",
    ),
    _bad(
        csv_bytes(row(), ben(), header=without("email")),
        "line 1: missing column 'email'",
        "a missing column",
    ),
    _bad(
        csv_bytes(row(), ben(), header=[*HEADER, "notes"]),
        "line 1: unknown column 'notes'",
        "an unknown column",
    ),
    _bad(
        csv_bytes(row(), ben(), header=[*HEADER, "score"]),
        "line 1: duplicate column 'score'",
        "a duplicate column",
    ),
    _bad(
        csv_bytes(row(), ben(**{MAINTENANCE[2]: ""})),
        f"line 3: missing score for KWA '{MAINTENANCE[2]}' of maintenance",
        "a missing KWA score of the row's module",
    ),
    _bad(
        csv_bytes(row(module="green"), ben(), header=[*COLUMNS, *MAINTENANCE[:-1], *GREEN]),
        f"line 3: missing score for KWA '{MAINTENANCE[-1]}' of maintenance",
        "no column for a KWA of the row's module",
    ),
    _bad(
        csv_bytes(row(), ben(**{GREEN[0]: "50"})),
        f"line 3: KWA '{GREEN[0]}' belongs to module green, not maintenance: leave it empty",
        "a KWA score of another module",
    ),
    _bad(
        csv_bytes(row(), ben(**{MAINTENANCE[0]: "120"})),
        f"line 3: KWA '{MAINTENANCE[0]}' score 120 is out of range",
        "a KWA score over 100",
    ),
    _bad(
        csv_bytes(row(), ben(), row(score="90")),
        "line 4: attempt 'A-1' is given again with other data (first at line 2)",
        "an attempt id repeated in the file with other data",
    ),
    _bad(
        csv_bytes(row(), ben(attempt_id="A-0", candidate_id="C-0", email="seeded@example.com")),
        "line 3: attempt 'A-0' is already recorded with other data: ",
        "an attempt id already recorded with other data",
    ),
    _bad(
        csv_bytes(row(), ben(email="SEEDED@example.com")),
        "line 3: email 'seeded@example.com' belongs to another candidate ('C-0')",
        "an email used by another candidate",
    ),
    _bad(
        csv_bytes(row(), ben(candidate_id="C-1")),
        "line 3: candidate 'C-1' is given with another name or email (first at line 2)",
        "a candidate given with two names",
    ),
    _bad(
        csv_bytes(row(), ben(email="ben.example.org")),
        "line 3: email 'ben.example.org' is not a valid address",
        "a bad email",
    ),
    _bad(csv_bytes(row(), ben(name="  ")), "line 3: name is empty", "an empty name"),
    _bad(
        csv_bytes(row(), ben(name="Ben\u200bOkafor")),
        "line 3: name contains a character a name cannot hold: U+200B ZERO WIDTH SPACE "
        "(an invisible formatting character) at character 4",
        "a zero-width space in a name",
    ),
    _bad(
        csv_bytes(row(), ben(name="Ben Okafor\u2029")),
        "line 3: name contains a character a name cannot hold: U+2029 PARAGRAPH SEPARATOR",
        "a paragraph separator at the end of a name",
    ),
    _bad(
        csv_bytes(row(), ben()).replace(b"Ben Okafor", b"Ben Ok\xe1for"),
        "line 3: not UTF-8 text",
        "bytes that are not UTF-8",
    ),
    _bad(
        csv_bytes(row()) + b"B-1,C-2,Ben,ben@example.org,green\n", "line 3: 5 values", "a short row"
    ),
    _bad(b"", "line 1: the file is empty", "an empty file"),
    _bad(csv_bytes(), "line 2: no results after the header row", "a header and no rows"),
]


@pytest.mark.parametrize(("content", "expected"), BAD_FILES)
def test_a_bad_file_names_the_line_of_its_problem_and_writes_nothing(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    seeded: dict[str, int],
    content: bytes,
    expected: str,
) -> None:
    before = snapshot(app)

    result, path = import_file(runner, tmp_path, content)

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    problem, last = result.stderr.splitlines()
    assert problem.startswith(f"{path} {expected}")
    assert last == NOTHING
    assert "Traceback" not in result.output
    assert snapshot(app) == before


def test_every_problem_of_a_file_is_reported_at_once_in_line_order(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, seeded: dict[str, int]
) -> None:
    content = csv_bytes(
        ben(score="abc", passed="maybe"),
        row(),
        row(attempt_id="A-3", module="welding"),
        row(
            attempt_id="A-0",
            candidate_id="C-0",
            email="seeded@example.com",
            date="2026-04-01",
            score="99",
            passed="0",
        ),
        header=[*HEADER, "notes"],
    )

    result, path = import_file(runner, tmp_path, content)

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{path} line 1",
        f"{path} line 2",
        f"{path} line 2",
        f"{path} line 4",
        f"{path} line 5",
        NOTHING,
    ]
    assert "unknown column 'notes'" in lines[0]
    assert "score 'abc'" in lines[1]
    assert "passed 'maybe'" in lines[2]
    assert "unknown module 'welding'" in lines[3]
    assert "'A-0' is already recorded with other data: score 70.0 recorded, 99.0 given" in lines[4]
    assert counts(app) == {"candidate": 1, "attempt": 1, "authorization": 0, "results_import": 0}


def test_a_missing_file_is_a_clear_error_without_a_traceback(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(args=["results", "import", str(tmp_path / "nowhere.csv")])

    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.output
    assert counts(app) == {table: 0 for table in TABLES}


# -- the service --------------------------------------------------------------------------------


def parsed(*rows: dict[str, str]) -> list[results.ResultRecord]:
    records, problems = results.parse_csv(
        io.StringIO(csv_bytes(*rows).decode()), PROGRAM, dt.date(2026, 6, 15)
    )
    assert problems == []
    return records


def test_an_import_that_records_something_keeps_its_source_digest_and_counts(
    app: Flask,
) -> None:
    records = parsed(row(), ben())
    now = app.config["CLOCK"]()

    with app.app_context():
        summary = results.import_records(
            db.session(), records, now=now, program=PROGRAM, source="results.csv"
        )
        kept = db.session().scalars(sa.select(ResultsImport)).one()

    assert summary == results.ImportSummary(
        records=2,
        created=2,
        already_recorded=0,
        authorizations_used=0,
        candidates_created=2,
    )
    assert (kept.source, kept.records, kept.created, kept.received_at) == (
        "results.csv",
        2,
        2,
        now,
    )
    assert kept.digest == results.digest(reversed(records))


def test_an_import_that_loses_a_race_retries_once_and_finds_everything_recorded(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = parsed(row(), ben())
    now = app.config["CLOCK"]()
    with app.app_context():
        results.import_records(db.session(), records, now=now, program=PROGRAM, source="first")
    before = snapshot(app)
    real = conflicts._recorded_attempts
    calls: list[int] = []

    def blind_at_first(session: Any, attempt_ids: list[str]) -> Any:
        # The first look misses what a concurrent import has just committed.
        calls.append(1)
        return {} if len(calls) == 1 else real(session, attempt_ids)

    monkeypatch.setattr(conflicts, "_recorded_attempts", blind_at_first)
    with app.app_context():
        summary = results.import_records(
            db.session(), records, now=now, program=PROGRAM, source="second"
        )

    assert len(calls) == 2
    assert (summary.created, summary.already_recorded) == (0, 2)
    assert snapshot(app) == before


def test_two_imports_of_the_same_records_at_once_record_them_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = parsed(row(), ben(), row(attempt_id="A-2", module="green"))
    now = app.config["CLOCK"]()
    real = conflicts._recorded_attempts
    # On PostgreSQL both imports look before either writes (the barrier), so one of them hits the
    # unique constraints and retries. SQLite queues writers (BEGIN IMMEDIATE): no barrier there.
    both_looked = threading.Barrier(2, timeout=20)
    postgres = app.config["DATABASE_URL"].startswith("postgres")
    looked: set[int] = set()
    calls: list[int] = []

    def look_together(session: Any, attempt_ids: list[str]) -> Any:
        calls.append(threading.get_ident())
        found = real(session, attempt_ids)
        if postgres and threading.get_ident() not in looked:
            looked.add(threading.get_ident())
            both_looked.wait()
        return found

    monkeypatch.setattr(conflicts, "_recorded_attempts", look_together)
    summaries: list[results.ImportSummary] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                summaries.append(
                    results.import_records(
                        db.session(), records, now=now, program=PROGRAM, source="race"
                    )
                )
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted((s.created, s.already_recorded) for s in summaries) == [(0, 3), (3, 0)]
    # On PostgreSQL the loser looked twice: once before the race, once on its retry.
    assert len(calls) == (3 if postgres else 2)
    assert counts(app) == {"candidate": 2, "attempt": 3, "authorization": 0, "results_import": 1}


def test_an_import_that_keeps_hitting_the_unique_constraint_gives_up_and_writes_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = parsed(row(), ben())
    now = app.config["CLOCK"]()
    with app.app_context():
        results.import_records(db.session(), records, now=now, program=PROGRAM, source="first")
    before = snapshot(app)
    monkeypatch.setattr(conflicts, "_recorded_attempts", lambda session, ids: {})

    with app.app_context(), pytest.raises(sa.exc.IntegrityError):
        results.import_records(db.session(), records, now=now, program=PROGRAM, source="second")

    assert snapshot(app) == before


def test_the_service_refuses_records_that_disagree_with_each_other(app: Flask) -> None:
    first = parsed(row())[0]
    changed = dataclasses.replace(first, score=12.0, where="line 9")

    with app.app_context(), pytest.raises(results.ResultsRejected) as rejected:
        results.import_records(
            db.session(),
            [first, changed],
            now=app.config["CLOCK"](),
            program=PROGRAM,
            source="test",
        )

    assert [str(p) for p in rejected.value.problems] == [
        "line 9: attempt 'A-1' is given again with other data (first at line 2)"
    ]
    assert counts(app) == {table: 0 for table in TABLES}


# -- the documentation -------------------------------------------------------------------------

DOCS = Path(__file__).parents[2] / "docs" / "results-import.md"


def _block(kind: str) -> str:
    """The first fenced block of `kind` in docs/results-import.md."""
    return DOCS.read_text(encoding="utf-8").split(f"```{kind}\n", 1)[1].split("```", 1)[0]


def test_the_documented_example_file_imports_as_the_documentation_says(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    ana = seed_candidate(app, "C-2041", "Ana Lopez", "ana.lopez@example.com")
    seed_authorization(app, ana, "maintenance")
    console = [line for line in _block("console").splitlines() if not line.startswith("$")]

    first, _ = import_file(runner, tmp_path, _block("csv").encode())
    second, _ = import_file(runner, tmp_path, _block("csv").encode())

    assert first.exit_code == 0, first.output
    assert [first.stdout.strip(), second.stdout.strip()] == console
    assert candidate(app, "C-3307").name == "Okafor, Ben"
