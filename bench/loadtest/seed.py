"""Candidates for a load run: realistic histories, their credentials, and what users need.

Each candidate has passed at least one module (so a printed certificate of it is always for
sale: the checkout step can start), some have failed and retaken modules, some are fully
certified; credentials are issued with `issue_credentials`, as results do, so the verify ids
are real. The same `count` gives the same candidates on every run (dates relative to today).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from shop.db import make_engine
from shop.domain.program import Module, Program, load_program
from shop.models import Attempt, Candidate
from shop.services.credentials import issue_credentials

REQUIRED_FALLBACK_CUT = 70  # a module without a published cut score (Green)


@dataclass(frozen=True, slots=True)
class LoadCandidate:
    email: str
    sku: str  # something this candidate may buy: a printed certificate of a passed module
    verify_ids: list[str]  # the candidate's credentials

    @property
    def credentials(self) -> int:
        return len(self.verify_ids)


@dataclass(frozen=True, slots=True)
class Seeded:
    candidates: list[LoadCandidate]
    verify_ids: list[str]

    def write(self, folder: Path) -> None:
        """candidates.json and verify_ids.json, read by the locust users."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "candidates.json").write_text(
            json.dumps([asdict(c) for c in self.candidates]), encoding="utf-8"
        )
        (folder / "verify_ids.json").write_text(json.dumps(self.verify_ids), encoding="utf-8")


def seed(database_url: str, count: int, program_file: Path, now: dt.datetime) -> Seeded:
    """Add `count` candidates to the (migrated, empty) database at `database_url`."""
    program = load_program(program_file)
    today = now.date()
    engine = make_engine(database_url)
    candidates: list[LoadCandidate] = []
    verify_ids: list[str] = []
    try:
        with Session(engine) as session, session.begin():
            for number in range(count):
                rng = random.Random(number)
                candidate = Candidate(
                    reference=f"LOAD-{number:05d}",
                    name=f"Load Candidate {number}",
                    email=f"load{number:05d}@example.com",
                    is_staff=False,
                    created_at=now,
                )
                session.add(candidate)
                session.flush()
                passed = _add_attempts(session, candidate, program, today, now, rng)
                session.flush()
                issued = issue_credentials(session, candidate.id, now=now, program=program)
                ids = [c.verify_id for c in issued]
                verify_ids.extend(ids)
                candidates.append(
                    LoadCandidate(candidate.email, f"certificate-print-{passed}", ids)
                )
    finally:
        engine.dispose()
    return Seeded(candidates, verify_ids)


def _add_attempts(
    session: Session,
    candidate: Candidate,
    program: Program,
    today: dt.date,
    now: dt.datetime,
    rng: random.Random,
) -> str:
    """A history for one candidate; returns the id of a module they passed."""
    modules = list(program.modules)
    required = [m for m in modules if m.required]
    # A third are fully certified (every required module passed within the window).
    if rng.random() < 1 / 3:
        chosen = list(required)
        spread = 500
    else:
        chosen = rng.sample(modules, rng.randint(1, 3))
        spread = 700
    sequence = 0
    for module in chosen:
        passed_days_ago = rng.randint(10, spread)
        if rng.random() < 0.3:  # a failure first, retaken after the wait
            sequence += 1
            fail_day = today - dt.timedelta(days=passed_days_ago + rng.randint(61, 120))
            session.add(_attempt(candidate, module, sequence, fail_day, False, now, rng))
        sequence += 1
        pass_day = today - dt.timedelta(days=passed_days_ago)
        session.add(_attempt(candidate, module, sequence, pass_day, True, now, rng))
    # Some are in a retake wait for a module they have not passed.
    others = [m for m in modules if m not in chosen]
    if others and rng.random() < 0.25:
        sequence += 1
        recent = today - dt.timedelta(days=rng.randint(1, 14))
        session.add(_attempt(candidate, rng.choice(others), sequence, recent, False, now, rng))
    return chosen[0].id


def _attempt(
    candidate: Candidate,
    module: Module,
    sequence: int,
    taken_on: dt.date,
    passed: bool,
    now: dt.datetime,
    rng: random.Random,
) -> Attempt:
    cut = module.cut_score_percent or REQUIRED_FALLBACK_CUT
    score = float(min(cut + rng.randint(1, 16), 99) if passed else max(cut - rng.randint(3, 20), 0))
    recorded_at = min(now, dt.datetime.combine(taken_on, dt.time(22, 0), tzinfo=dt.UTC))
    return Attempt(
        reference=f"{candidate.reference}-{sequence}",
        candidate_id=candidate.id,
        module=module.id,
        taken_on=taken_on,
        score=score,
        passed=passed,
        kwa_scores={
            kwa.slug: float(min(100, max(0, round(score + rng.uniform(-18, 18)))))
            for kwa in module.kwas
        },
        recorded_at=recorded_at,
    )
