"""The checks of one field of a record, shared by the CSV and the JSON readers.

Each returns the field's value, or None after reporting what is wrong in `checks`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from email_validator import EmailNotValidError, validate_email

from shop.domain import names as name_rules
from shop.domain.program import Module, Program

from .record import MAX_EMAIL_LENGTH, MAX_ID_LENGTH, MAX_NAME_LENGTH, RecordProblem, ResultRecord

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")  # what errors="surrogateescape" makes of bad bytes

T = TypeVar("T")


class Checks:
    """The problems found while one record's fields are read."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[RecordProblem] = []

    def fail(self, message: str) -> None:
        self.problems.append(RecordProblem(self.where, message))


def kwa_modules(program: Program) -> dict[str, str]:
    """{KWA slug: module id}; slugs are unique across modules."""
    return {kwa.slug: module.id for module in program.modules for kwa in module.kwas}


def identifier(value: str | None, label: str, checks: Checks) -> str | None:
    if value is None:
        return None
    if not value:
        checks.fail(f"{label} is empty")
    elif len(value) > MAX_ID_LENGTH:
        checks.fail(f"{label} is longer than {MAX_ID_LENGTH} characters")
    elif _CONTROL.search(value) or any(c.isspace() for c in value):
        checks.fail(f"{label} {value!r} contains spaces or control characters")
    else:
        return value
    return None


def name(value: str | None, checks: Checks) -> str | None:
    """The name as given (unstripped), checked, trimmed of spaces and NFC-normalised."""
    if value is None:
        return None
    # Checked before trimming: str.strip() would quietly drop a line separator at either end.
    refused = name_rules.refused_character(value)
    trimmed = name_rules.normalised(value.strip())
    if refused is not None:
        checks.fail(f"name contains a character a name cannot hold: {refused}")
    elif not trimmed:
        checks.fail("name is empty")
    elif len(trimmed) > MAX_NAME_LENGTH:
        checks.fail(f"name is longer than {MAX_NAME_LENGTH} characters")
    else:
        return trimmed
    return None


def email(value: str | None, checks: Checks) -> str | None:
    if value is None:
        return None
    if not value:
        checks.fail("email is empty")
        return None
    if len(value) > MAX_EMAIL_LENGTH:
        checks.fail(f"email is longer than {MAX_EMAIL_LENGTH} characters")
        return None
    problem = _email_problem(value)
    if problem is not None:
        checks.fail(f"email {value!r} is not a valid address ({problem})")
        return None
    return value.lower()


@functools.lru_cache(maxsize=4096)
def _email_problem(value: str) -> str | None:
    """Why `value` is not an email address, or None. Remembered: a file names a candidate's
    address on each of their rows, and checking one costs more than reading the rest of a row."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


def module(value: str | None, program: Program, checks: Checks) -> Module | None:
    if value is None:
        return None
    for known in program.modules:
        if known.id == value.lower():
            return known
    ids = ", ".join(m.id for m in program.modules)
    checks.fail(f"unknown module {value!r} (expected one of {ids})")
    return None


def date(value: str | None, today: dt.date, checks: Checks) -> dt.date | None:
    if value is None:
        return None
    if not _DATE.fullmatch(value):
        checks.fail(f"date {value!r} is not in the form YYYY-MM-DD")
        return None
    try:
        taken_on = dt.date.fromisoformat(value)
    except ValueError:
        checks.fail(f"date {value!r} is not a day of the calendar")
        return None
    if taken_on > today:
        checks.fail(f"date {value} is after today ({today.isoformat()})")
        return None
    return taken_on


def in_range(number: float, shown: str, label: str, checks: Checks) -> float | None:
    if not math.isfinite(number) or not 0 <= number <= 100:
        checks.fail(f"{label} {shown} is out of range (expected a percent from 0 to 100)")
        return None
    return number + 0.0  # -0.0 and 0.0 are the same score


def kwa_scores(
    module: Module,
    given: Mapping[str, T],
    missing: list[str],
    kwa_module: Mapping[str, str],
    checks: Checks,
    number: Callable[[T, str, Checks], float | None],
) -> dict[str, float] | None:
    """The module's KWA scores from `given` ({known slug: value}); `number` reads one value."""
    if missing:
        checks.fail(f"missing score for KWA {', '.join(repr(s) for s in missing)} of {module.id}")
    foreign = [slug for slug in given if kwa_module[slug] != module.id]
    for other in dict.fromkeys(kwa_module[slug] for slug in foreign):
        slugs = [slug for slug in foreign if kwa_module[slug] == other]
        named = ", ".join(repr(slug) for slug in slugs)
        if len(slugs) == 1:
            checks.fail(f"KWA {named} belongs to module {other}, not {module.id}: leave it empty")
        else:
            checks.fail(f"KWAs {named} belong to module {other}, not {module.id}: leave them empty")
    scores: dict[str, float] = {}
    for kwa in module.kwas:
        if kwa.slug in given:
            value = number(given[kwa.slug], f"KWA {kwa.slug!r} score", checks)
            if value is not None:
                scores[kwa.slug] = value
    if missing or foreign or len(scores) != len(module.kwas):
        return None
    return scores


def complete_record(
    checks: Checks,
    attempt_id: str | None,
    candidate_id: str | None,
    name: str | None,
    email: str | None,
    module: Module | None,
    taken_on: dt.date | None,
    score: float | None,
    passed: bool | None,
    kwa_scores: dict[str, float] | None,
) -> ResultRecord | None:
    """The record, when every field passed its check (each failed one has been reported)."""
    if (
        checks.problems
        or attempt_id is None
        or candidate_id is None
        or name is None
        or email is None
        or module is None
        or taken_on is None
        or score is None
        or passed is None
        or kwa_scores is None
    ):
        return None  # a failed check, or a missing column (reported on line 1)
    return ResultRecord(
        attempt_id,
        candidate_id,
        name,
        email,
        module.id,
        taken_on,
        score,
        passed,
        kwa_scores,
        where=checks.where,
    )
