"""The assessment system posts results as signed JSON: a bad signature or record writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shop import db
from shop.domain.program import load_program
from shop.models import Candidate
from shop.services.results import conflicts

PROGRAM = load_program(Path(__file__).parents[2] / "content" / "program.toml")
SECRET = "test-results-secret"  # what the `app` fixture configures
URL = "/shop/api/results"
TABLES = ("candidate", "attempt", "authorization", "results_import")


def kwa_scores(module: str) -> dict[str, float]:
    return {kwa.slug: 70.0 + i for i, kwa in enumerate(PROGRAM.module(module).kwas)}


def record(**fields: Any) -> dict[str, Any]:
    """A valid record of Ana's maintenance attempt, with `fields` changed."""
    module = fields.get("module", "maintenance")
    return {
        "attempt_id": "A-1",
        "candidate_id": "C-1",
        "name": "Ana Lopez",
        "email": "ana@example.com",
        "module": module,
        "date": "2026-05-01",
        "score": 81.5,
        "passed": True,
        "kwa_scores": kwa_scores(module) if module in {"maintenance", "green"} else {},
        **fields,
    }


def batch(*records: dict[str, Any]) -> bytes:
    return json.dumps({"results": list(records)}).encode()


GOOD = batch(
    record(),
    record(attempt_id="A-2", module="green", score=55, passed=False),
    record(attempt_id="B-1", candidate_id="C-2", name="Ben Okafor", email="ben@example.org"),
)


def signed(body: bytes, timestamp: int | str, secret: str = SECRET) -> dict[str, str]:
    """The headers the assessment system sends: HMAC-SHA256 over "<timestamp>." + body."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {"X-CPT-Timestamp": str(timestamp), "X-CPT-Signature": f"sha256={digest}"}


def now_seconds(app: Flask) -> int:
    return int(app.config["CLOCK"]().timestamp())


def post(client: FlaskClient, body: bytes, headers: dict[str, str]) -> TestResponse:
    return client.post(URL, data=body, headers=headers, content_type="application/json")


def counts(app: Flask) -> dict[str, int]:
    with app.extensions["db.engine"].connect() as connection:
        return {
            table: connection.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            for table in TABLES
        }


NOTHING = {table: 0 for table in TABLES}


def test_a_signed_batch_is_recorded_and_counted(app: Flask, client: FlaskClient) -> None:
    response = post(client, GOOD, signed(GOOD, now_seconds(app)))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "records": 3,
        "created": 3,
        "already_recorded": 0,
        "authorizations_used": 0,
        "names_kept": 0,
        "details_changed": [],
        "older_details_ignored": [],
    }
    assert counts(app) == {"candidate": 2, "attempt": 3, "authorization": 0, "results_import": 1}


def test_the_same_batch_posted_again_records_nothing_new(app: Flask, client: FlaskClient) -> None:
    assert post(client, GOOD, signed(GOOD, now_seconds(app))).status_code == 200
    app.config["CLOCK"].advance(seconds=30)

    response = post(client, GOOD, signed(GOOD, now_seconds(app)))

    assert response.status_code == 200
    assert response.get_json()["created"] == 0
    assert response.get_json()["already_recorded"] == 3
    assert counts(app) == {"candidate": 2, "attempt": 3, "authorization": 0, "results_import": 1}


def test_an_empty_batch_is_answered_with_zero_counts(app: Flask, client: FlaskClient) -> None:
    body = batch()

    response = post(client, body, signed(body, now_seconds(app)))

    assert response.status_code == 200
    assert response.get_json() == {
        "records": 0,
        "created": 0,
        "already_recorded": 0,
        "authorizations_used": 0,
        "names_kept": 0,
        "details_changed": [],
        "older_details_ignored": [],
    }
    assert counts(app) == NOTHING


@pytest.mark.parametrize("age", [-300, 0, 300], ids=["300 s ahead", "now", "300 s old"])
def test_a_timestamp_within_the_allowed_age_is_accepted(
    app: Flask, client: FlaskClient, age: int
) -> None:
    response = post(client, GOOD, signed(GOOD, now_seconds(app) - age))

    assert response.status_code == 200


def _headers(change: str, app: Flask) -> dict[str, str]:
    now = now_seconds(app)
    good = signed(GOOD, now)
    if change == "no timestamp":
        return {"X-CPT-Signature": good["X-CPT-Signature"]}
    if change == "no signature":
        return {"X-CPT-Timestamp": good["X-CPT-Timestamp"]}
    if change == "wrong secret":
        return signed(GOOD, now, secret="not-the-secret")
    if change == "tampered body":
        return signed(GOOD.replace(b"81.5", b"91.5"), now)
    if change == "stale":
        return signed(GOOD, now - 301)
    if change == "from the future":
        return signed(GOOD, now + 301)
    if change == "fractional timestamp":
        return signed(GOOD, f"{now}.5")
    if change == "word timestamp":
        return signed(GOOD, "yesterday")
    if change == "no sha256= prefix":
        return {**good, "X-CPT-Signature": good["X-CPT-Signature"].removeprefix("sha256=")}
    if change == "signature of another timestamp":
        return {**good, "X-CPT-Timestamp": str(now - 1)}
    raise AssertionError(change)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("no timestamp", "missing X-CPT-Timestamp header"),
        ("no signature", "missing X-CPT-Signature header"),
        ("wrong secret", "bad signature"),
        ("tampered body", "bad signature"),
        ("stale", "stale timestamp"),
        ("from the future", "stale timestamp"),
        ("fractional timestamp", "X-CPT-Timestamp must be whole unix seconds"),
        ("word timestamp", "X-CPT-Timestamp must be whole unix seconds"),
        ("no sha256= prefix", "bad signature"),
        ("signature of another timestamp", "bad signature"),
    ],
)
def test_a_request_without_a_good_fresh_signature_gets_401_and_writes_nothing(
    app: Flask, client: FlaskClient, change: str, error: str
) -> None:
    response = post(client, GOOD, _headers(change, app))

    assert response.status_code == 401
    assert response.get_json()["error"].startswith(error)
    assert counts(app) == NOTHING


def test_no_request_is_accepted_when_no_secret_is_configured(
    app: Flask, client: FlaskClient
) -> None:
    app.config["RESULTS_API_SECRET"] = ""

    response = post(client, GOOD, signed(GOOD, now_seconds(app), secret=""))

    assert response.status_code == 401
    assert counts(app) == NOTHING


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"results": [', id="not JSON"),
        pytest.param(b"\xff\xfe{}", id="not text"),
        pytest.param(b'{"results": [{"score": NaN}]}', id="NaN"),
        pytest.param(b"[]", id="a list"),
        pytest.param(b'{"records": []}', id="no results key"),
        pytest.param(b'{"results": {}}', id="results not a list"),
        pytest.param(b'{"results": [], "extra": 1}', id="another key"),
    ],
)
def test_a_signed_body_that_is_not_a_results_object_gets_400(
    app: Flask, client: FlaskClient, body: bytes
) -> None:
    response = post(client, body, signed(body, now_seconds(app)))

    assert response.status_code == 400
    assert "error" in response.get_json()
    assert counts(app) == NOTHING


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (
            record(attempt_id="X-3", module="welding"),
            "record 3: unknown module 'welding' (expected one of safety, quality, processes, "
            "maintenance, green)",
        ),
        (record(attempt_id="X-3", passed="yes"), "record 3: passed must be true or false"),
        (record(attempt_id="X-3", score="81.5"), "record 3: score must be a number, not a string"),
        (record(attempt_id="X-3", score=100.5), "record 3: score 100.5 is out of range"),
        (record(attempt_id="X-3", date="2026-06-16"), "record 3: date 2026-06-16 is after today"),
        (record(attempt_id="X-3", email="nobody"), "record 3: email 'nobody' is not a valid"),
        (
            {k: v for k, v in record(attempt_id="X-3").items() if k != "name"},
            "record 3: missing field 'name'",
        ),
        (record(attempt_id="X-3", notes="hi"), "record 3: unknown field 'notes'"),
        (
            record(attempt_id="X-3", kwa_scores={**kwa_scores("maintenance"), "welds": 50}),
            "record 3: unknown KWA 'welds' in kwa_scores",
        ),
        (
            record(
                attempt_id="X-3", kwa_scores={**kwa_scores("maintenance"), "waste-reduction": 9}
            ),
            "record 3: KWA 'waste-reduction' belongs to module green, not maintenance",
        ),
        (
            record(attempt_id="X-3", kwa_scores={}),
            "record 3: missing score for KWA 'preventive-maintenance', 'monitor-indicators'",
        ),
        (record(attempt_id="A-1", score=12), "record 3: attempt 'A-1' is given again"),
        ("A-1", "record 3: expected an object"),
        (
            record(attempt_id="X-3", name="Ana \u202eZepol"),
            "record 3: name contains a character a name cannot hold: U+202E RIGHT-TO-LEFT "
            "OVERRIDE (an invisible formatting character) at character 5",
        ),
    ],
    ids=[
        "unknown module",
        "passed as a string",
        "score as a string",
        "score over 100",
        "date after today",
        "bad email",
        "missing field",
        "unknown field",
        "unknown KWA",
        "a KWA score of another module",
        "no KWA scores",
        "attempt id repeated with other data",
        "not an object",
        "a bidirectional override in the name",
    ],
)
def test_an_invalid_record_gets_422_with_its_number_and_nothing_is_written(
    app: Flask, client: FlaskClient, bad: Any, error: str
) -> None:
    body = batch(record(), record(attempt_id="A-2"), bad)

    response = post(client, body, signed(body, now_seconds(app)))

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert len(errors) == 1
    assert errors[0].startswith(error)
    assert counts(app) == NOTHING


def test_a_record_that_disagrees_with_the_database_gets_422_and_nothing_is_written(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context(), db.transaction() as session:
        session.add(
            Candidate(
                reference="C-9",
                name="Someone Else",
                email="ben@example.org",
                created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        )
    body = batch(
        record(),
        record(attempt_id="B-1", candidate_id="C-2", name="Ben Okafor", email="ben@example.org"),
    )

    response = post(client, body, signed(body, now_seconds(app)))

    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        "record 2: email 'ben@example.org' belongs to another candidate ('C-9')"
    ]
    assert counts(app) == {**NOTHING, "candidate": 1}


def test_every_invalid_record_is_reported_at_once(app: Flask, client: FlaskClient) -> None:
    body = batch(
        record(module="welding"),
        record(attempt_id="A-2"),
        record(attempt_id="A-3", score=-1, passed=None),
    )

    response = post(client, body, signed(body, now_seconds(app)))

    assert response.status_code == 422
    assert [e.split(":")[0] for e in response.get_json()["errors"]] == [
        "record 1",
        "record 3",
        "record 3",
    ]
    assert counts(app) == NOTHING


# -- replays and older records -----------------------------------------------------------------

OLDER = batch(record(attempt_id="A-1", date="2026-05-01"))
NEWER = batch(
    record(
        attempt_id="A-2",
        module="green",
        date="2026-05-20",
        name="Ana Smith",
        email="ana.smith@example.com",
    )
)


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row an import may write, the remembered requests included."""
    with app.extensions["db.engine"].connect() as connection:
        return {
            table: [
                tuple(r)
                for r in connection.execute(sa.text(f'SELECT * FROM "{table}" ORDER BY id'))
            ]
            for table in (*TABLES, "api_request")
        }


def ana(app: Flask) -> tuple[str, str]:
    with app.app_context():
        found = db.session().scalars(sa.select(Candidate).where(Candidate.reference == "C-1"))
        candidate = found.one()
        return (candidate.name, candidate.email)


def remembered(app: Flask) -> list[str]:
    with app.extensions["db.engine"].connect() as connection:
        rows = connection.execute(sa.text("SELECT request_id FROM api_request ORDER BY id"))
        return [request_id for (request_id,) in rows]


@pytest.mark.parametrize(
    ("signed_ahead", "replayed_after"),
    [(0, 0), (0, 300), (300, 600)],
    ids=["at once", "300 s later", "signed 300 s ahead, replayed 600 s later"],
)
def test_a_request_replayed_while_its_timestamp_is_fresh_gets_409_and_writes_nothing(
    app: Flask, client: FlaskClient, signed_ahead: int, replayed_after: int
) -> None:
    headers = signed(GOOD, now_seconds(app) + signed_ahead)
    assert post(client, GOOD, headers).status_code == 200
    before = snapshot(app)
    app.config["CLOCK"].advance(seconds=replayed_after)

    replay = post(client, GOOD, headers)

    assert replay.status_code == 409
    error = replay.get_json()["error"]
    assert error.startswith("this request (the same signature) was already recorded at ")
    assert "sign it again with a new timestamp" in error
    assert snapshot(app) == before


def test_a_replay_with_the_signature_written_otherwise_is_the_same_request(
    app: Flask, client: FlaskClient
) -> None:
    headers = signed(GOOD, now_seconds(app))
    assert post(client, GOOD, headers).status_code == 200
    before = snapshot(app)
    disguised = {**headers, "X-CPT-Signature": f" {headers['X-CPT-Signature'].upper()} "}

    replay = post(client, GOOD, disguised)

    assert replay.status_code == 409
    assert snapshot(app) == before


def test_a_request_replayed_once_its_timestamp_is_stale_gets_401(
    app: Flask, client: FlaskClient
) -> None:
    headers = signed(GOOD, now_seconds(app))
    assert post(client, GOOD, headers).status_code == 200
    app.config["CLOCK"].advance(seconds=301)

    assert post(client, GOOD, headers).status_code == 401


def test_a_replay_of_an_older_request_cannot_roll_back_a_candidates_details(
    app: Flask, client: FlaskClient
) -> None:
    older = signed(OLDER, now_seconds(app))
    assert post(client, OLDER, older).status_code == 200
    app.config["CLOCK"].advance(seconds=10)
    newer = post(client, NEWER, signed(NEWER, now_seconds(app)))
    assert newer.status_code == 200
    assert newer.get_json()["details_changed"] == ["C-1"]
    app.config["CLOCK"].advance(seconds=10)
    before = snapshot(app)

    replay = post(client, OLDER, older)

    assert replay.status_code == 409
    assert snapshot(app) == before
    assert ana(app) == ("Ana Smith", "ana.smith@example.com")


def test_the_older_batch_signed_anew_is_already_recorded_and_changes_no_details(
    app: Flask, client: FlaskClient
) -> None:
    assert post(client, OLDER, signed(OLDER, now_seconds(app))).status_code == 200
    app.config["CLOCK"].advance(seconds=10)
    assert post(client, NEWER, signed(NEWER, now_seconds(app))).status_code == 200
    app.config["CLOCK"].advance(seconds=10)

    again = post(client, OLDER, signed(OLDER, now_seconds(app)))  # a new request id

    assert again.status_code == 200
    answer = again.get_json()
    assert (answer["created"], answer["already_recorded"]) == (0, 1)
    assert answer["details_changed"] == []
    assert answer["older_details_ignored"] == ["C-1"]
    assert ana(app) == ("Ana Smith", "ana.smith@example.com")


def test_remembered_requests_are_forgotten_once_they_could_not_be_accepted_again(
    app: Flask, client: FlaskClient
) -> None:
    first = signed(OLDER, now_seconds(app))
    assert post(client, OLDER, first).status_code == 200
    app.config["CLOCK"].advance(seconds=600)
    second = signed(NEWER, now_seconds(app))
    assert post(client, NEWER, second).status_code == 200
    assert remembered(app) == [
        first["X-CPT-Signature"].removeprefix("sha256="),
        second["X-CPT-Signature"].removeprefix("sha256="),
    ]
    app.config["CLOCK"].advance(seconds=1)
    ben = batch(
        record(attempt_id="B-1", candidate_id="C-2", name="Ben Okafor", email="ben@example.org")
    )
    third = signed(ben, now_seconds(app))

    assert post(client, ben, third).status_code == 200

    # 601 s after it came, the first request's timestamp is stale whichever way it was set.
    assert remembered(app) == [
        second["X-CPT-Signature"].removeprefix("sha256="),
        third["X-CPT-Signature"].removeprefix("sha256="),
    ]


def test_a_rejected_request_is_not_remembered(app: Flask, client: FlaskClient) -> None:
    body = batch(record(module="welding"))
    headers = signed(body, now_seconds(app))

    assert post(client, body, headers).status_code == 422
    assert post(client, body, headers).status_code == 422
    assert remembered(app) == []


def test_the_same_request_twice_at_once_is_recorded_once_and_refused_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Everything in the batch is already recorded: only the request id can tell the two apart.
    assert post(app.test_client(), GOOD, signed(GOOD, now_seconds(app))).status_code == 200
    app.config["CLOCK"].advance(seconds=5)
    headers = signed(GOOD, now_seconds(app))
    real = conflicts._recorded_attempts
    # On PostgreSQL both requests look before either writes, so both pass the replay check and
    # one of them meets the unique request id. SQLite queues writers: no barrier there.
    postgres = app.config["DATABASE_URL"].startswith("postgres")
    both_looked = threading.Barrier(2, timeout=20)
    looked: set[int] = set()

    def look_together(session: Any, attempt_ids: list[str]) -> Any:
        found = real(session, attempt_ids)
        if postgres and threading.get_ident() not in looked:
            looked.add(threading.get_ident())
            both_looked.wait()
        return found

    monkeypatch.setattr(conflicts, "_recorded_attempts", look_together)
    statuses: list[int] = []

    def send() -> None:
        statuses.append(post(app.test_client(), GOOD, headers).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200, 409]
    assert len(remembered(app)) == 2
    assert counts(app) == {"candidate": 2, "attempt": 3, "authorization": 0, "results_import": 1}


def test_the_api_needs_no_csrf_token_or_session(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()

    response = post(client, GOOD, signed(GOOD, now_seconds(app)))

    assert response.status_code == 200


def test_the_documented_example_request_is_accepted(app: Flask, client: FlaskClient) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "results-import.md").read_text(encoding="utf-8")
    example = docs.split("POST /shop/api/results\n", 1)[1].split("```", 1)[0]
    head, body = example.split("\n\n", 1)
    headers = dict(line.split(": ", 1) for line in head.splitlines())
    app.config["RESULTS_API_SECRET"] = "example-secret"
    assert int(headers["X-CPT-Timestamp"]) == now_seconds(app)

    response = post(client, body.strip().encode(), headers)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["created"] == 1
