"""Reading a results API body (decoded JSON): records and problems, each naming its record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from shop.domain.program import Program

from . import fields
from .fields import SURROGATE
from .record import JSON_FIELDS, Batch, RecordProblem, ResultRecord, in_order


class MalformedPayload(ValueError):
    """A JSON body that is not an object of the form {"results": [...]}."""


def parse_json(
    payload: Any, program: Program, today: dt.date
) -> tuple[list[ResultRecord], list[RecordProblem]]:
    """The records of a decoded JSON body `{"results": [...]}` and every problem, by record number.

    Raises MalformedPayload when the body does not have that shape at all.
    """
    if not isinstance(payload, dict) or set(payload) != {"results"}:
        raise MalformedPayload('expected a JSON object {"results": [...]}')
    results = payload["results"]
    if not isinstance(results, list):
        raise MalformedPayload('"results" must be a list of records')
    kwa_module = fields.kwa_modules(program)
    problems: list[RecordProblem] = []
    batch = Batch()
    for number, raw in enumerate(results, start=1):
        checks = fields.Checks(f"record {number}")
        record = _json_record(raw, checks, program, kwa_module, today)
        problems.extend(checks.problems)
        if record is not None:
            batch.add(record)
    return batch.records, in_order([*problems, *batch.problems])


def _json_record(
    raw: Any,
    checks: fields.Checks,
    program: Program,
    kwa_module: Mapping[str, str],
    today: dt.date,
) -> ResultRecord | None:
    if not isinstance(raw, dict):
        checks.fail("expected an object with the fields " + ", ".join(JSON_FIELDS))
        return None
    for key in raw:
        if key not in JSON_FIELDS:
            checks.fail(f"unknown field {key!r}")
    for key in JSON_FIELDS:
        if key not in raw:
            checks.fail(f"missing field {key!r}")

    def string(key: str, *, strip: bool = True) -> str | None:
        if key not in raw:
            return None
        value = raw[key]
        if not isinstance(value, str):
            checks.fail(f"{key} must be a string, not {_json_kind(value)}")
            return None
        if SURROGATE.search(value):
            # JSON may escape half of a character ("\\udfff"); no database can store it.
            checks.fail(f"{key} is not valid Unicode text (it has a lone surrogate)")
            return None
        return value.strip() if strip else value

    attempt_id = fields.identifier(string("attempt_id"), "attempt_id", checks)
    candidate_id = fields.identifier(string("candidate_id"), "candidate_id", checks)
    name = fields.name(string("name", strip=False), checks)
    email = fields.email(string("email"), checks)
    module = fields.module(string("module"), program, checks)
    taken_on = fields.date(string("date"), today, checks)
    score = _json_percent(raw["score"], "score", checks) if "score" in raw else None
    passed: bool | None = None
    if "passed" in raw:
        if isinstance(raw["passed"], bool):
            passed = raw["passed"]
        else:
            checks.fail(f"passed must be true or false, not {_json_kind(raw['passed'])}")
    kwa_scores = None
    if "kwa_scores" in raw:
        given = raw["kwa_scores"]
        if not isinstance(given, dict):
            checks.fail(f"kwa_scores must be an object, not {_json_kind(given)}")
        elif module is not None:
            for slug in given:
                if slug not in kwa_module:
                    checks.fail(f"unknown KWA {slug!r} in kwa_scores")
            known = {slug: value for slug, value in given.items() if slug in kwa_module}
            missing = [k.slug for k in module.kwas if k.slug not in given]
            kwa_scores = fields.kwa_scores(
                module, known, missing, kwa_module, checks, _json_percent
            )
    return fields.complete_record(
        checks, attempt_id, candidate_id, name, email, module, taken_on, score, passed, kwa_scores
    )


def _json_percent(value: Any, label: str, checks: fields.Checks) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        checks.fail(f"{label} must be a number, not {_json_kind(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer past what a float holds (JSON allows any length)
        checks.fail(f"{label} is out of range (expected a percent from 0 to 100)")
        return None
    return fields.in_range(number, repr(value), label, checks)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
