"""Reading a staff results file (CSV, UTF-8): records and problems, each naming its line."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shop.domain.program import Program

from . import fields
from .fields import SURROGATE
from .record import COLUMNS, Batch, RecordProblem, ResultRecord, in_order

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

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_csv(
    lines: Iterable[str], program: Program, today: dt.date
) -> tuple[list[ResultRecord], list[RecordProblem]]:
    """The records of a results file and every problem in it, each naming its line.

    `lines` is a text stream (a file opened with newline=""), read one row at a time. Records
    with a problem are left out; a record given twice with the same data is kept once.
    """
    kwa_module = fields.kwa_modules(program)
    problems: list[RecordProblem] = []
    batch = Batch()
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
    if any(SURROGATE.search(name) for name in names):
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
        if any(SURROGATE.search(value) for value in values):
            problems.append(RecordProblem(where, _NOT_UTF8))
            continue
        if extra or any(value is None for value in row.values()):
            count = len(values)
            problems.append(
                RecordProblem(where, f"{count} values, but the header has {len(names)} columns")
            )
            continue
        checks = fields.Checks(where)
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
    checks: fields.Checks,
    program: Program,
    kwa_module: Mapping[str, str],
    today: dt.date,
) -> ResultRecord | None:
    """The row as a record, or None when a check failed (each failure is in `checks`).

    A missing column was reported once, on line 1: its value is not reported again here.
    """

    def text(column: str) -> str | None:
        return row[column].strip() if column in columns else None

    attempt_id = fields.identifier(text("attempt_id"), "attempt_id", checks)
    candidate_id = fields.identifier(text("candidate_id"), "candidate_id", checks)
    name = fields.name(row["name"] if "name" in columns else None, checks)
    email = fields.email(text("email"), checks)
    module = fields.module(text("module"), program, checks)
    taken_on = fields.date(text("date"), today, checks)
    score = _csv_percent(text("score"), "score", checks)
    passed = _csv_passed(text("passed"), checks)
    given = {
        slug: row[slug].strip() for slug in kwa_module if slug in columns and row[slug].strip()
    }
    kwa_scores = None
    if module is not None:
        missing = [k.slug for k in module.kwas if k.slug not in given]
        kwa_scores = fields.kwa_scores(module, given, missing, kwa_module, checks, _csv_number)
    return fields.complete_record(
        checks, attempt_id, candidate_id, name, email, module, taken_on, score, passed, kwa_scores
    )


def _csv_number(value: str, label: str, checks: fields.Checks) -> float | None:
    if not _NUMBER.fullmatch(value):
        checks.fail(f"{label} {value!r} is not a number")
        return None
    return fields.in_range(float(value), value, label, checks)


def _csv_percent(value: str | None, label: str, checks: fields.Checks) -> float | None:
    if value is None:
        return None
    if not value:
        checks.fail(f"{label} is empty")
        return None
    return _csv_number(value, label, checks)


def _csv_passed(value: str | None, checks: fields.Checks) -> bool | None:
    if value is None:
        return None
    if not value:
        checks.fail("passed is empty")
        return None
    passed = PASSED_WORDS.get(value.lower())
    if passed is None:
        checks.fail(f"passed {value!r} is not one of true/false, pass/fail, yes/no, 1/0")
    return passed
