"""Assessment results from a staff CSV file or the assessment system's API: all or nothing.

Reading is pure: `parse_csv` and `parse_json` turn their input into `ResultRecord`s and a list of
`RecordProblem`s, each naming where it is ("line 7" in a file, "record 3" in a JSON batch).
`find_conflicts` checks valid records against what the database already holds, and
`import_records` records a batch in one transaction: everything, or nothing at all.

The assessment system is the source of truth: a known candidate's name and email follow it, from
the newest record it has sent (the latest date, then the greatest attempt id), so an older file
or a request sent again never rolls them back. An attempt already recorded with the same data is
skipped, so importing a batch twice changes nothing; one recorded with other data is a problem
the staff must look at, never silently overwritten.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.config import DEFAULT_TIME_ZONE
from shop.domain import names as name_rules
from shop.domain.program import Module, Program
from shop.models import ApiRequest, Attempt, Authorization, Candidate, ResultsImport
from shop.services.credentials import issue_credentials

# The columns every file has, in the documented order; one column per KWA slug follows.
COLUMNS = ("attempt_id", "candidate_id", "name", "email", "module", "date", "score", "passed")
# The fields of one JSON record.
JSON_FIELDS = (*COLUMNS, "kwa_scores")
PASSED_WORDS: Mapping[str, bool] = {
    "true": True,
    "pass": True,
    "yes": True,
    "1": True,
    "false": False,
    "fail": False,
    "no": False,
    "0": False,
}
# Column sizes of the tables the records go into.
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_SOURCE_LENGTH = 300

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # what errors="surrogateescape" makes of bad bytes
_POSITION = re.compile(r"[0-9]+")
_CHUNK = 500  # ids per IN (...) query, well under every database's limit on parameters

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """One attempt as the assessment system reports it, checked and normalised."""

    attempt_id: str
    candidate_id: str
    name: str
    email: str  # lowercased
    module: str
    taken_on: dt.date
    score: float  # percent
    passed: bool
    kwa_scores: dict[str, float]  # {KWA slug of `module`: percent}, every KWA of the module
    # Where the record came from ("line 7", "record 3"), for messages; not part of its data.
    where: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class RecordProblem:
    where: str  # "line 7" (CSV, header problems are line 1) or "record 3" (JSON, 1-based)
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    records: int  # distinct records in the batch
    created: int  # attempts recorded now
    already_recorded: int  # attempts that were already recorded with the same data
    authorizations_used: int
    candidates_created: int
    # Known candidates whose name or email changed (their ids, in the batch's order).
    details_changed: tuple[str, ...] = ()
    # Known candidates sent with other details in records no newer than the one that set
    # theirs: kept as they were.
    older_details_ignored: tuple[str, ...] = ()
    # Known candidates sent with another name than the one staff set on a reissue: kept.
    names_kept: int = 0

    @property
    def candidates_updated(self) -> int:
        return len(self.details_changed)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A results API request, known by its signature: recorded once; the same request again
    within `remembered_for` of the first is a replay (`RequestReplayed`)."""

    request_id: str
    remembered_for: dt.timedelta


class ResultsRejected(Exception):
    """The batch cannot be recorded; nothing was written."""

    def __init__(self, problems: Sequence[RecordProblem]) -> None:
        self.problems = in_order(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class RequestReplayed(Exception):
    """The same signed request was recorded already; nothing was written."""

    def __init__(self, received_at: dt.datetime) -> None:
        self.received_at = received_at
        super().__init__(f"the same request was recorded at {received_at.isoformat()}")


class MalformedPayload(ValueError):
    """A JSON body that is not an object of the form {"results": [...]}."""


def in_order(problems: Iterable[RecordProblem]) -> list[RecordProblem]:
    """Problems sorted by their line or record number; the order of each one's checks is kept."""
    return sorted(problems, key=_position)


def _position(problem: RecordProblem) -> int:
    found = _POSITION.search(problem.where)
    return int(found.group()) if found else 0


# -- reading ---------------------------------------------------------------------------------


class _Checks:
    """The problems found while one record's fields are read."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[RecordProblem] = []

    def fail(self, message: str) -> None:
        self.problems.append(RecordProblem(self.where, message))


def parse_csv(
    lines: Iterable[str], program: Program, today: dt.date
) -> tuple[list[ResultRecord], list[RecordProblem]]:
    """The records of a results file and every problem in it, each naming its line.

    `lines` is a text stream (a file opened with newline=""), read one row at a time. Records
    with a problem are left out; a record given twice with the same data is kept once.
    """
    kwa_module = _kwa_modules(program)
    problems: list[RecordProblem] = []
    batch = _Batch()
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
    except UnicodeDecodeError:
        return [], [RecordProblem("line 1", _NOT_UTF8)]
    except csv.Error as error:
        return [], [RecordProblem("line 1", f"not readable as CSV ({error})")]
    if header is None:
        return [], [
            RecordProblem("line 1", f"the file is empty: expected a header row ({_columns_hint()})")
        ]
    names = [_column_name(name, first=index == 0) for index, name in enumerate(header)]
    if not any(names):
        return [], [
            RecordProblem(
                "line 1", f"the first line is empty: expected a header row ({_columns_hint()})"
            )
        ]
    if any(_SURROGATE.search(name) for name in names):
        return [], [RecordProblem("line 1", _NOT_UTF8)]
    problems.extend(_header_problems(names, kwa_module))
    reader.fieldnames = names
    columns = set(names)

    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except UnicodeDecodeError:
            # A strict stream decodes ahead in blocks: the line is where reading stopped.
            problems.append(RecordProblem(f"line {reader.line_num + 1}", _NOT_UTF8))
            break
        except csv.Error as error:
            problems.append(
                RecordProblem(f"line {reader.line_num}", f"not readable as CSV ({error})")
            )
            break
        where = f"line {reader.line_num}"
        # Values past the header's last column (DictReader keeps them under the key None).
        overflow: Any = row.pop(None, None)
        extra: list[str] = list(overflow or [])
        values = [value for value in row.values() if value is not None] + extra
        if not any(value.strip() for value in values):
            continue  # a blank row (spreadsheets leave them)
        rows += 1
        if any(_SURROGATE.search(value) for value in values):
            problems.append(RecordProblem(where, _NOT_UTF8))
            continue
        if extra or any(value is None for value in row.values()):
            count = len(values)
            problems.append(
                RecordProblem(where, f"{count} values, but the header has {len(names)} columns")
            )
            continue
        checks = _Checks(where)
        record = _csv_record(row, columns, checks, program, kwa_module, today)
        problems.extend(checks.problems)
        if record is not None:
            batch.add(record)
    if rows == 0 and not problems:
        problems.append(RecordProblem("line 2", "no results after the header row"))
    return batch.records, in_order([*problems, *batch.problems])


_NOT_UTF8 = 'not UTF-8 text: save the file as CSV in UTF-8 ("CSV UTF-8" in spreadsheets)'


def _columns_hint() -> str:
    return ", ".join(COLUMNS) + ", then one column per KWA slug"


def _column_name(name: str, *, first: bool) -> str:
    if first:
        name = name.removeprefix("\ufeff")  # the byte order mark spreadsheets put first
    return name.strip().lower()


def _header_problems(names: list[str], kwa_module: Mapping[str, str]) -> list[RecordProblem]:
    problems: list[RecordProblem] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(RecordProblem("line 1", f"column {position} has no name"))
        elif name in seen:
            problems.append(RecordProblem("line 1", f"duplicate column {name!r}"))
        elif name not in COLUMNS and name not in kwa_module:
            problems.append(
                RecordProblem(
                    "line 1",
                    f"unknown column {name!r} (expected {', '.join(COLUMNS)} "
                    "and KWA slugs from the program file)",
                )
            )
        seen.add(name)
    problems.extend(
        RecordProblem("line 1", f"missing column {column!r}")
        for column in COLUMNS
        if column not in seen
    )
    return problems


def _csv_record(
    row: Mapping[str, str],
    columns: set[str],
    checks: _Checks,
    program: Program,
    kwa_module: Mapping[str, str],
    today: dt.date,
) -> ResultRecord | None:
    """The row as a record, or None when a check failed (each failure is in `checks`).

    A missing column was reported once, on line 1: its value is not reported again here.
    """

    def text(column: str) -> str | None:
        return row[column].strip() if column in columns else None

    attempt_id = _identifier(text("attempt_id"), "attempt_id", checks)
    candidate_id = _identifier(text("candidate_id"), "candidate_id", checks)
    name = _name(row["name"] if "name" in columns else None, checks)
    email = _email(text("email"), checks)
    module = _module(text("module"), program, checks)
    taken_on = _date(text("date"), today, checks)
    score = _csv_percent(text("score"), "score", checks)
    passed = _csv_passed(text("passed"), checks)
    given = {
        slug: row[slug].strip() for slug in kwa_module if slug in columns and row[slug].strip()
    }
    kwa_scores = None
    if module is not None:
        missing = [k.slug for k in module.kwas if k.slug not in given]
        kwa_scores = _kwa_scores(module, given, missing, kwa_module, checks, _csv_number)
    return _complete_record(
        checks, attempt_id, candidate_id, name, email, module, taken_on, score, passed, kwa_scores
    )


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
    kwa_module = _kwa_modules(program)
    problems: list[RecordProblem] = []
    batch = _Batch()
    for number, raw in enumerate(results, start=1):
        checks = _Checks(f"record {number}")
        record = _json_record(raw, checks, program, kwa_module, today)
        problems.extend(checks.problems)
        if record is not None:
            batch.add(record)
    return batch.records, in_order([*problems, *batch.problems])


def _json_record(
    raw: Any,
    checks: _Checks,
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
        if _SURROGATE.search(value):
            # JSON may escape half of a character ("\\udfff"); no database can store it.
            checks.fail(f"{key} is not valid Unicode text (it has a lone surrogate)")
            return None
        return value.strip() if strip else value

    attempt_id = _identifier(string("attempt_id"), "attempt_id", checks)
    candidate_id = _identifier(string("candidate_id"), "candidate_id", checks)
    name = _name(string("name", strip=False), checks)
    email = _email(string("email"), checks)
    module = _module(string("module"), program, checks)
    taken_on = _date(string("date"), today, checks)
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
            kwa_scores = _kwa_scores(module, known, missing, kwa_module, checks, _json_percent)
    return _complete_record(
        checks, attempt_id, candidate_id, name, email, module, taken_on, score, passed, kwa_scores
    )


def _complete_record(
    checks: _Checks,
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


# -- the checks of one field, shared by both formats --------------------------------------------


def _kwa_modules(program: Program) -> dict[str, str]:
    """{KWA slug: module id}; slugs are unique across modules."""
    return {kwa.slug: module.id for module in program.modules for kwa in module.kwas}


def _identifier(value: str | None, label: str, checks: _Checks) -> str | None:
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


def _name(value: str | None, checks: _Checks) -> str | None:
    """The name as given (unstripped), checked, trimmed of spaces and NFC-normalised."""
    if value is None:
        return None
    # Checked before trimming: str.strip() would quietly drop a line separator at either end.
    refused = name_rules.refused_character(value)
    name = name_rules.normalised(value.strip())
    if refused is not None:
        checks.fail(f"name contains a character a name cannot hold: {refused}")
    elif not name:
        checks.fail("name is empty")
    elif len(name) > MAX_NAME_LENGTH:
        checks.fail(f"name is longer than {MAX_NAME_LENGTH} characters")
    else:
        return name
    return None


def _email(value: str | None, checks: _Checks) -> str | None:
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


def _module(value: str | None, program: Program, checks: _Checks) -> Module | None:
    if value is None:
        return None
    for module in program.modules:
        if module.id == value.lower():
            return module
    known = ", ".join(m.id for m in program.modules)
    checks.fail(f"unknown module {value!r} (expected one of {known})")
    return None


def _date(value: str | None, today: dt.date, checks: _Checks) -> dt.date | None:
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


def _csv_number(value: str, label: str, checks: _Checks) -> float | None:
    if not _NUMBER.fullmatch(value):
        checks.fail(f"{label} {value!r} is not a number")
        return None
    return _in_range(float(value), value, label, checks)


def _csv_percent(value: str | None, label: str, checks: _Checks) -> float | None:
    if value is None:
        return None
    if not value:
        checks.fail(f"{label} is empty")
        return None
    return _csv_number(value, label, checks)


def _json_percent(value: Any, label: str, checks: _Checks) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        checks.fail(f"{label} must be a number, not {_json_kind(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer past what a float holds (JSON allows any length)
        checks.fail(f"{label} is out of range (expected a percent from 0 to 100)")
        return None
    return _in_range(number, repr(value), label, checks)


def _in_range(number: float, shown: str, label: str, checks: _Checks) -> float | None:
    if not math.isfinite(number) or not 0 <= number <= 100:
        checks.fail(f"{label} {shown} is out of range (expected a percent from 0 to 100)")
        return None
    return number + 0.0  # -0.0 and 0.0 are the same score


def _csv_passed(value: str | None, checks: _Checks) -> bool | None:
    if value is None:
        return None
    if not value:
        checks.fail("passed is empty")
        return None
    passed = PASSED_WORDS.get(value.lower())
    if passed is None:
        checks.fail(f"passed {value!r} is not one of true/false, pass/fail, yes/no, 1/0")
    return passed


def _kwa_scores(
    module: Module,
    given: Mapping[str, T],
    missing: list[str],
    kwa_module: Mapping[str, str],
    checks: _Checks,
    number: Callable[[T, str, _Checks], float | None],
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


class _Batch:
    """The distinct records of one batch; the same record twice is kept once.

    An attempt id given again with other data is a problem, and so is a candidate given with two
    names or emails, or an email given for two candidates: which one to keep cannot be guessed.
    """

    def __init__(self) -> None:
        self.records: list[ResultRecord] = []
        self.problems: list[RecordProblem] = []
        self._attempts: dict[str, ResultRecord] = {}
        self._candidates: dict[str, ResultRecord] = {}
        self._emails: dict[str, ResultRecord] = {}

    def add(self, record: ResultRecord) -> None:
        first = self._attempts.get(record.attempt_id)
        if first is not None:
            if first != record:
                self._fail(
                    record,
                    f"attempt {record.attempt_id!r} is given again with other data "
                    f"(first at {first.where})",
                )
            return
        same_candidate = self._candidates.get(record.candidate_id)
        if same_candidate is not None and (same_candidate.name, same_candidate.email) != (
            record.name,
            record.email,
        ):
            self._fail(
                record,
                f"candidate {record.candidate_id!r} is given with another name or email "
                f"(first at {same_candidate.where})",
            )
            return
        same_email = self._emails.get(record.email)
        if same_email is not None and same_email.candidate_id != record.candidate_id:
            self._fail(
                record,
                f"email {record.email!r} is also given for candidate "
                f"{same_email.candidate_id!r} (at {same_email.where})",
            )
            return
        self._attempts[record.attempt_id] = record
        self._candidates.setdefault(record.candidate_id, record)
        self._emails.setdefault(record.email, record)
        self.records.append(record)

    def _fail(self, record: ResultRecord, message: str) -> None:
        self.problems.append(RecordProblem(record.where, message))


# -- the database ------------------------------------------------------------------------------


def find_conflicts(session: Session, records: Sequence[ResultRecord]) -> list[RecordProblem]:
    """Problems of valid records with what is recorded already: an attempt id recorded with
    other data, an email that belongs to another candidate."""
    problems, _ = _examine(session, records)
    return problems


def _examine(
    session: Session, records: Sequence[ResultRecord]
) -> tuple[list[RecordProblem], set[str]]:
    """The conflicts of `records` with the database, and the attempt ids already recorded.

    An email is checked only where it would be taken: from a candidate's newest record, when
    that is newer than the one their details came from (an old file sent again may name an
    address that has since moved to someone else).
    """
    problems: list[RecordProblem] = []
    recorded: set[str] = set()
    newest = _newest_per_candidate(records)
    for chunk in _chunks(records):
        attempts = _recorded_attempts(session, [r.attempt_id for r in chunk])
        sources = {
            reference: (day, attempt)
            for reference, day, attempt in session.execute(
                select(
                    Candidate.reference,
                    Candidate.details_from_date,
                    Candidate.details_from_attempt,
                ).where(Candidate.reference.in_({r.candidate_id for r in chunk}))
            )
        }
        emails = {
            r.email for r in chunk if _is_newer(newest[r.candidate_id], sources.get(r.candidate_id))
        }
        owners = {
            email: reference
            for email, reference in session.execute(
                select(func.lower(Candidate.email), Candidate.reference).where(
                    func.lower(Candidate.email).in_(emails)
                )
            )
        }
        for record in chunk:
            found = attempts.get(record.attempt_id)
            if found is not None:
                differences = _differences(record, *found)
                if differences:
                    problems.append(
                        RecordProblem(
                            record.where,
                            f"attempt {record.attempt_id!r} is already recorded with other "
                            f"data: {'; '.join(differences)}",
                        )
                    )
                else:
                    recorded.add(record.attempt_id)
            owner = owners.get(record.email)  # only the emails that would be taken
            if owner is not None and owner != record.candidate_id:
                problems.append(
                    RecordProblem(
                        record.where,
                        f"email {record.email!r} belongs to another candidate ({owner!r})",
                    )
                )
    return problems, recorded


def _recorded_attempts(session: Session, attempt_ids: list[str]) -> dict[str, tuple[Attempt, str]]:
    """{attempt id: (the recorded attempt, its candidate's reference)}."""
    rows = session.execute(
        select(Attempt, Candidate.reference)
        .join(Candidate, Attempt.candidate_id == Candidate.id)
        .where(Attempt.reference.in_(attempt_ids))
    )
    return {attempt.reference: (attempt, reference) for attempt, reference in rows}


def _differences(record: ResultRecord, attempt: Attempt, candidate_reference: str) -> list[str]:
    recorded_scores = {slug: float(value) for slug, value in attempt.kwa_scores.items()}
    pairs: list[tuple[str, object, object]] = [
        ("candidate_id", candidate_reference, record.candidate_id),
        ("module", attempt.module, record.module),
        ("date", attempt.taken_on.isoformat(), record.taken_on.isoformat()),
        ("score", float(attempt.score), record.score),
        ("passed", attempt.passed, record.passed),
    ]
    found = [
        f"{label} {_shown(recorded)} recorded, {_shown(given)} given"
        for label, recorded, given in pairs
        if recorded != given
    ]
    if recorded_scores != record.kwa_scores:
        found.append("other KWA scores")
    return found


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def import_records(
    session: Session,
    records: Sequence[ResultRecord],
    *,
    now: dt.datetime,
    program: Program,
    source: str,
    time_zone: str = DEFAULT_TIME_ZONE,
    request: SignedRequest | None = None,
) -> ImportSummary:
    """Record a batch in one transaction and commit it; raises ResultsRejected (nothing written).

    Unknown candidates are created; known ones take the name and email of their newest record
    in the batch when it is newer than the record their details came from (unless staff set
    the name on a reissue: it stays); attempts already recorded with the same data are skipped;
    each new
    attempt uses the candidate's oldest unused authorization for its module that was bought by
    the day it was taken (in `time_zone`, the program's calendar), so a result imported late
    never spends a fee bought after it; each candidate of the batch is issued the credentials
    they now hold (shop.services.credentials). A `ResultsImport` row is kept when anything was
    recorded. A `request` of the API is remembered in the same transaction; one remembered
    already raises RequestReplayed, and nothing is written.
    Two imports racing with the same records (or the same request): the loser's
    unique-constraint violation rolls it back and it runs once more, finding everything
    recorded (or the request remembered).
    """
    batch = _Batch()
    for record in records:
        batch.add(record)
    known = {m.id: m for m in program.modules}
    problems = [
        *batch.problems,
        *(
            RecordProblem(r.where, f"unknown module {r.module!r}")
            for r in batch.records
            if r.module not in known
        ),
    ]
    if problems:
        raise ResultsRejected(problems)
    for attempt in (1, 2):
        try:
            summary = _apply(
                session,
                batch.records,
                now=now,
                source=source,
                program=program,
                zone=ZoneInfo(time_zone),
                request=request,
            )
            session.commit()
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
        except BaseException:
            session.rollback()
            raise
        else:
            return summary
    raise AssertionError("unreachable")


def _apply(
    session: Session,
    records: list[ResultRecord],
    *,
    now: dt.datetime,
    source: str,
    program: Program,
    zone: ZoneInfo,
    request: SignedRequest | None,
) -> ImportSummary:
    if request is not None:
        _refuse_replay(session, request.request_id)
    problems, recorded = _examine(session, records)
    if problems:
        raise ResultsRejected(problems)

    candidates: dict[str, Candidate] = {}
    for chunk in _chunks(sorted({r.candidate_id for r in records})):
        candidates.update(
            (c.reference, c)
            for c in session.scalars(
                # Locked: an import racing this one must not put back details older than ours.
                select(Candidate)
                .where(Candidate.reference.in_(chunk))
                .order_by(Candidate.reference)  # one order for every import: no deadlock
                .with_for_update()
            )
        )
    created_candidates = names_kept = 0
    changed: list[str] = []
    ignored: list[str] = []
    for reference, record in _newest_per_candidate(records).items():
        candidate = candidates.get(reference)
        if candidate is None:
            candidate = Candidate(
                reference=reference,
                name=record.name,
                email=record.email,
                created_at=now,
                details_from_date=record.taken_on,
                details_from_attempt=record.attempt_id,
            )
            session.add(candidate)
            candidates[reference] = candidate
            created_candidates += 1
            continue
        outcome = _take_details(candidate, record)
        if outcome is _Details.CHANGED or outcome is _Details.CHANGED_NAME_KEPT:
            changed.append(reference)
        if outcome is _Details.NAME_KEPT or outcome is _Details.CHANGED_NAME_KEPT:
            names_kept += 1
        if outcome is _Details.OLDER_IGNORED:
            ignored.append(reference)
    session.flush()

    new = sorted(
        (r for r in records if r.attempt_id not in recorded),
        key=lambda r: (r.taken_on, r.attempt_id),
    )
    used = _record_attempts(session, new, {r: c.id for r, c in candidates.items()}, now, zone)
    # Every credential the batch's candidates now hold gets its row and verify id (idempotent).
    for reference in sorted(candidates):
        issue_credentials(session, candidates[reference].id, now=now, program=program)
    if new:
        session.add(
            ResultsImport(
                source=source[:MAX_SOURCE_LENGTH],
                digest=digest(records),
                records=len(records),
                created=len(new),
                received_at=now,
            )
        )
    if request is not None:
        _remember(session, request, now)
    session.flush()
    return ImportSummary(
        records=len(records),
        created=len(new),
        already_recorded=len(records) - len(new),
        authorizations_used=used,
        candidates_created=created_candidates,
        details_changed=tuple(changed),
        older_details_ignored=tuple(ignored),
        names_kept=names_kept,
    )


def recency(record: ResultRecord) -> tuple[dt.date, str]:
    """How new a record is: by its date, and on the same date by its attempt id (as text)."""
    return (record.taken_on, record.attempt_id)


def _is_newer(record: ResultRecord, source: tuple[dt.date | None, str | None] | None) -> bool:
    """Whether `record` is newer than the record a candidate's details came from (`source`:
    its date and attempt id; None, or NULLs, when no record set them)."""
    if source is None or source[0] is None or source[1] is None:
        return True
    return recency(record) > (source[0], source[1])


def _newest_per_candidate(records: Iterable[ResultRecord]) -> dict[str, ResultRecord]:
    """{candidate id: their newest record}, in the order the candidates first appear."""
    newest: dict[str, ResultRecord] = {}
    for record in records:
        kept = newest.get(record.candidate_id)
        if kept is None or recency(record) > recency(kept):
            newest[record.candidate_id] = record
    return newest


class _Details(enum.Enum):
    """What a record did to a known candidate's name and email."""

    UNCHANGED = enum.auto()  # newer, with the same details
    CHANGED = enum.auto()
    NAME_KEPT = enum.auto()  # newer, with another name than the one staff set: kept
    CHANGED_NAME_KEPT = enum.auto()  # the email changed; the name staff set was kept
    OLDER_IGNORED = enum.auto()  # other details, from a record no newer than theirs: kept


def _take_details(candidate: Candidate, record: ResultRecord) -> _Details:
    """Give `candidate` the name and email of `record` when it is newer than their source."""
    name = record.name
    name_kept = candidate.name_set_by_staff_at is not None and name != candidate.name
    if name_kept:
        name = candidate.name  # staff reissued in this name: the import keeps it
    differs = (candidate.name, candidate.email) != (name, record.email)
    if not _is_newer(record, (candidate.details_from_date, candidate.details_from_attempt)):
        return _Details.OLDER_IGNORED if differs else _Details.UNCHANGED
    candidate.details_from_date, candidate.details_from_attempt = recency(record)
    if differs:
        candidate.name = name
        candidate.email = record.email
        return _Details.CHANGED_NAME_KEPT if name_kept else _Details.CHANGED
    return _Details.NAME_KEPT if name_kept else _Details.UNCHANGED


def _refuse_replay(session: Session, request_id: str) -> None:
    received = session.scalar(
        select(ApiRequest.received_at).where(ApiRequest.request_id == request_id)
    )
    if received is not None:
        raise RequestReplayed(received)


def _remember(session: Session, request: SignedRequest, now: dt.datetime) -> None:
    """Keep the request's id, and forget those too old to be accepted again anyway."""
    session.execute(delete(ApiRequest).where(ApiRequest.received_at < now - request.remembered_for))
    session.add(ApiRequest(request_id=request.request_id, received_at=now))


_ATTEMPT_TABLE = cast(Table, Attempt.__table__)  # a declarative model's table


def _record_attempts(
    session: Session,
    new: Sequence[ResultRecord],
    candidate_ids: Mapping[str, int],
    now: dt.datetime,
    zone: ZoneInfo,
) -> int:
    """Insert the new attempts, oldest first, a chunk at a time; returns authorizations used.

    Each new attempt uses its candidate's oldest unused authorization for its module that was
    granted by the day it was taken (in `zone`). Rows go in with bulk INSERTs and no ORM object
    is kept for them, so a file of 200,000 rows costs the records it was read into and one
    chunk, not 200,000 tracked objects.
    """
    unused = _unused_authorizations(session, sorted({candidate_ids[r.candidate_id] for r in new}))
    used = 0
    for chunk in _chunks(new):
        session.execute(
            insert(_ATTEMPT_TABLE),  # Core: no ORM bookkeeping per row
            [
                {
                    "reference": r.attempt_id,
                    "candidate_id": candidate_ids[r.candidate_id],
                    "module": r.module,
                    "taken_on": r.taken_on,
                    "score": r.score,
                    "passed": r.passed,
                    "kwa_scores": dict(r.kwa_scores),
                    "recorded_at": now,
                }
                for r in chunk
            ],
        )
        waiting = [r for r in chunk if unused.get((candidate_ids[r.candidate_id], r.module))]
        if not waiting:
            continue
        ids: dict[str, int] = {
            reference: attempt_id
            for reference, attempt_id in session.execute(
                select(Attempt.reference, Attempt.id).where(
                    Attempt.reference.in_([r.attempt_id for r in waiting])
                )
            )
        }
        for record in waiting:  # still oldest first
            queue = unused[(candidate_ids[record.candidate_id], record.module)]
            authorization = next(
                (a for a in queue if a.granted_at.astimezone(zone).date() <= record.taken_on),
                None,
            )
            if authorization is not None:
                queue.remove(authorization)
                authorization.used_by_attempt_id = ids[record.attempt_id]
                authorization.used_at = now
                used += 1
    return used


def _unused_authorizations(
    session: Session, candidate_ids: Sequence[int]
) -> dict[tuple[int, str], list[Authorization]]:
    """{(candidate id, module): unused authorizations, oldest first}, locked for this import."""
    unused: dict[tuple[int, str], list[Authorization]] = {}
    for chunk in _chunks(candidate_ids):
        for authorization in session.scalars(
            select(Authorization)
            .where(
                Authorization.candidate_id.in_(chunk),
                Authorization.used_by_attempt_id.is_(None),
            )
            .order_by(Authorization.granted_at, Authorization.id)
            .with_for_update()
        ):
            unused.setdefault((authorization.candidate_id, authorization.module), []).append(
                authorization
            )
    return unused


def digest(records: Iterable[ResultRecord]) -> str:
    """sha256 of the records in a canonical form: the same records give the same digest.

    The canonical form is the JSON list of the records sorted by attempt id (sorted keys, no
    spaces); it is hashed a chunk of records at a time, never built whole in memory.
    """
    hasher = hashlib.sha256(b"[")
    for number, chunk in enumerate(_chunks(sorted(records, key=lambda r: r.attempt_id))):
        text = _CANONICAL_JSON.encode(
            [
                {
                    "attempt_id": r.attempt_id,
                    "candidate_id": r.candidate_id,
                    "name": r.name,
                    "email": r.email,
                    "module": r.module,
                    "date": r.taken_on.isoformat(),
                    "score": r.score,
                    "passed": r.passed,
                    "kwa_scores": r.kwa_scores,
                }
                for r in chunk
            ]
        )
        # The chunk's items without its brackets: the bytes of one list over every chunk.
        hasher.update((b"," if number else b"") + text[1:-1].encode("utf-8"))
    hasher.update(b"]")
    return hasher.hexdigest()


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
