"""What a candidate's account page shows, gathered in one place for the template."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.domain.credentials import Credential, credentials
from shop.domain.program import Kwa, Module, Program
from shop.domain.progress import Progress, progress
from shop.domain.status import ModuleState, module_status
from shop.models import Attempt

from .history import history_of


@dataclass(frozen=True, slots=True)
class KwaScore:
    kwa: Kwa
    score: float


@dataclass(frozen=True, slots=True)
class AttemptView:
    reference: str
    taken_on: dt.date
    score: float
    passed: bool
    report: tuple[KwaScore, ...]  # the diagnostic report, weakest KWA first


@dataclass(frozen=True, slots=True)
class ModuleView:
    module: Module
    state: ModuleState
    attempts: tuple[AttemptView, ...]  # newest first


@dataclass(frozen=True, slots=True)
class Dashboard:
    modules: tuple[ModuleView, ...]
    progress: Progress
    credentials: tuple[Credential, ...]
    unused_authorizations: frozenset[str]
    today: dt.date  # the day it was drawn for: its pictures mark it


def diagnostic_report(module: Module, kwa_scores: dict[str, float]) -> tuple[KwaScore, ...]:
    """Scores per KWA of the module, weakest first (ties in the program's order)."""
    order = {kwa.slug: index for index, kwa in enumerate(module.kwas)}
    scored = [
        KwaScore(kwa, float(kwa_scores[kwa.slug])) for kwa in module.kwas if kwa.slug in kwa_scores
    ]
    return tuple(sorted(scored, key=lambda s: (s.score, order[s.kwa.slug])))


def dashboard(
    session: Session,
    candidate_id: int,
    today: dt.date,
    program: Program,
    time_zone: dt.tzinfo = dt.UTC,
) -> Dashboard:
    """The page's view; `time_zone` is the program's, for the dates of revocations."""
    history = history_of(session, candidate_id, time_zone=time_zone)
    rows = session.scalars(
        select(Attempt)
        .where(Attempt.candidate_id == candidate_id)
        .order_by(Attempt.taken_on.desc(), Attempt.reference.desc())
    ).all()
    modules = tuple(
        ModuleView(
            module=module,
            state=module_status(history, module.id, today, program),
            attempts=tuple(
                AttemptView(
                    a.reference,
                    a.taken_on,
                    a.score,
                    a.passed,
                    diagnostic_report(module, a.kwa_scores),
                )
                for a in rows
                if a.module == module.id
            ),
        )
        for module in program.modules
    )
    return Dashboard(
        modules=modules,
        progress=progress(history, today, program),
        credentials=credentials(history, program),
        unused_authorizations=history.unused_authorizations,
        today=today,
    )
