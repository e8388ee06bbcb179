"""Recording a checked batch in one transaction, and the summary of what it did."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.config import DEFAULT_TIME_ZONE
from shop.domain.program import Program
from shop.models import ApiRequest, Candidate, ResultsImport
from shop.services.credentials import issue_credentials

from .attempts import record_attempts
from .conflicts import examine
from .record import (
    MAX_SOURCE_LENGTH,
    Batch,
    RecordProblem,
    ResultRecord,
    chunks,
    digest,
    in_order,
    is_newer,
    newest_per_candidate,
    recency,
)


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
    batch = Batch()
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
    problems, recorded = examine(session, records)
    if problems:
        raise ResultsRejected(problems)

    candidates: dict[str, Candidate] = {}
    for chunk in chunks(sorted({r.candidate_id for r in records})):
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
    for reference, record in newest_per_candidate(records).items():
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
    used = record_attempts(session, new, {r: c.id for r, c in candidates.items()}, now, zone)
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
    if not is_newer(record, (candidate.details_from_date, candidate.details_from_attempt)):
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
