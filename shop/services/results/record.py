"""One result record as read from a file or the API, the problems found in a batch, and
what the records of a batch are compared by (their recency, their digest)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

# The columns every file has, in the documented order; one column per KWA slug follows.
COLUMNS = ("attempt_id", "candidate_id", "name", "email", "module", "date", "score", "passed")
# The fields of one JSON record.
JSON_FIELDS = (*COLUMNS, "kwa_scores")
# Column sizes of the tables the records go into.
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_SOURCE_LENGTH = 300

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


def in_order(problems: Iterable[RecordProblem]) -> list[RecordProblem]:
    """Problems sorted by their line or record number; the order of each one's checks is kept."""
    return sorted(problems, key=_position)


def _position(problem: RecordProblem) -> int:
    found = _POSITION.search(problem.where)
    return int(found.group()) if found else 0


class Batch:
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


def recency(record: ResultRecord) -> tuple[dt.date, str]:
    """How new a record is: by its date, and on the same date by its attempt id (as text)."""
    return (record.taken_on, record.attempt_id)


def is_newer(record: ResultRecord, source: tuple[dt.date | None, str | None] | None) -> bool:
    """Whether `record` is newer than the record a candidate's details came from (`source`:
    its date and attempt id; None, or NULLs, when no record set them)."""
    if source is None or source[0] is None or source[1] is None:
        return True
    return recency(record) > (source[0], source[1])


def newest_per_candidate(records: Iterable[ResultRecord]) -> dict[str, ResultRecord]:
    """{candidate id: their newest record}, in the order the candidates first appear."""
    newest: dict[str, ResultRecord] = {}
    for record in records:
        kept = newest.get(record.candidate_id)
        if kept is None or recency(record) > recency(kept):
            newest[record.candidate_id] = record
    return newest


def digest(records: Iterable[ResultRecord]) -> str:
    """sha256 of the records in a canonical form: the same records give the same digest.

    The canonical form is the JSON list of the records sorted by attempt id (sorted keys, no
    spaces); it is hashed a chunk of records at a time, never built whole in memory.
    """
    hasher = hashlib.sha256(b"[")
    for number, chunk in enumerate(chunks(sorted(records, key=lambda r: r.attempt_id))):
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


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
