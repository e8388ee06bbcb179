"""Valid records against what the database holds already: an attempt recorded with other
data, an email that belongs to another candidate."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.models import Attempt, Candidate

from .record import RecordProblem, ResultRecord, chunks, is_newer, newest_per_candidate


def find_conflicts(session: Session, records: Sequence[ResultRecord]) -> list[RecordProblem]:
    """Problems of valid records with what is recorded already: an attempt id recorded with
    other data, an email that belongs to another candidate."""
    problems, _ = examine(session, records)
    return problems


def examine(
    session: Session, records: Sequence[ResultRecord]
) -> tuple[list[RecordProblem], set[str]]:
    """The conflicts of `records` with the database, and the attempt ids already recorded.

    An email is checked only where it would be taken: from a candidate's newest record, when
    that is newer than the one their details came from (an old file sent again may name an
    address that has since moved to someone else).
    """
    problems: list[RecordProblem] = []
    recorded: set[str] = set()
    newest = newest_per_candidate(records)
    for chunk in chunks(records):
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
            r.email for r in chunk if is_newer(newest[r.candidate_id], sources.get(r.candidate_id))
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
