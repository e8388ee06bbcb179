"""Demo candidates in the states worth looking at, for development and `make run`.

`seed()` adds them with attempts dated relative to the day it runs, so each lands in the state
its description names on that day. It is idempotent: candidates and attempts are found by their
references, and nothing that is already there is created again or changed (an older seed keeps
its older dates: its states may have moved on since).

Scores are made up but realistic and the same on every run: a pass is at or above the module's
cut score, a failure below it, and each KWA score is derived from a hash of the attempt and KWA.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.domain.program import Module, Program
from shop.models import Attempt, Candidate
from shop.services.credentials import issue_credentials

# A module with no published cut score (Green) is shown against this one.
DEFAULT_CUT_SCORE = 70


@dataclass(frozen=True, slots=True)
class DemoCandidate:
    reference: str
    name: str
    email: str
    state: str  # a short label: "new", "retake wait", ...
    description: str  # one line: what the dashboard shows for this candidate
    created: bool  # False when an earlier seed had already created the candidate


@dataclass(frozen=True, slots=True)
class _Sitting:
    module: str
    passed: bool
    days_ago: int = 0
    months_ago: int = 0

    def taken_on(self, today: dt.date) -> dt.date:
        return _months_before(today, self.months_ago) - dt.timedelta(days=self.days_ago)


@dataclass(frozen=True, slots=True)
class _Plan:
    reference: str
    name: str
    email: str
    state: str
    description: str
    sittings: tuple[_Sitting, ...]
    staff: bool = False


def _plans(program: Program) -> tuple[_Plan, ...]:
    name = {module.id: module.name for module in program.modules}
    waits = program.policy.retake_waits_days
    years = program.policy.window_years
    return (
        _Plan(
            "DEMO-NEW",
            "Noor Haddad",
            "new@example.com",
            "new",
            "No attempts yet: every module is not taken.",
            (),
        ),
        _Plan(
            "DEMO-ONE-PASS",
            "Bao Tran",
            "one-pass@example.com",
            "one pass",
            f"Passed {name['safety']} 10 days ago; "
            f"{years}-year window open for the other required modules.",
            (_Sitting("safety", passed=True, days_ago=10),),
        ),
        _Plan(
            "DEMO-RETAKE-WAIT",
            "Carmen Ortiz",
            "retake-wait@example.com",
            "retake wait",
            f"Failed {name['quality']} 5 days ago: "
            f"waiting {waits[0]} days after a first failure to retake it.",
            (_Sitting("quality", passed=False, days_ago=5),),
        ),
        _Plan(
            "DEMO-THIRD-FAILURE",
            "Dmitri Volkov",
            "third-failure@example.com",
            "three failures",
            f"Failed {name['processes']} three times, the last 20 days ago: "
            f"in the {program.policy.wait_after_failure(3)}-day wait after a third failure.",
            (
                _Sitting("processes", passed=False, days_ago=53),
                _Sitting("processes", passed=False, days_ago=36),
                _Sitting("processes", passed=False, days_ago=20),
            ),
        ),
        _Plan(
            "DEMO-CERTIFIED",
            "Efua Mensah",
            "certified@example.com",
            "certified",
            "Passed the four required modules within the last 18 months: fully certified.",
            (
                _Sitting("safety", passed=True, days_ago=510),
                _Sitting("quality", passed=False, days_ago=430),
                _Sitting("quality", passed=True, days_ago=400),
                _Sitting("processes", passed=True, days_ago=260),
                _Sitting("maintenance", passed=True, days_ago=90),
            ),
        ),
        _Plan(
            "DEMO-PASS-EXPIRED",
            "Farid Rahimi",
            "pass-expired@example.com",
            "pass expired",
            f"Passed {name['maintenance']} 2 years and 3 months ago, nothing since: "
            "the pass no longer counts toward full certification (the certificate stays).",
            (_Sitting("maintenance", passed=True, months_ago=27),),
        ),
        _Plan(
            "DEMO-STAFF",
            "Grace Lindqvist",
            "staff@example.com",
            "staff",
            "Program staff: the shop's admin pages (orders, shipping queue, refunds).",
            (),
            staff=True,
        ),
    )


def seed(
    session: Session, today: dt.date, now: dt.datetime, program: Program
) -> list[DemoCandidate]:
    """Add the demo candidates and their attempts that are not there yet, and issue the
    credentials they earn; all of them, in order."""
    seeded = []
    for plan in _plans(program):
        candidate = session.scalars(
            select(Candidate).where(Candidate.reference == plan.reference)
        ).one_or_none()
        created = candidate is None
        if candidate is None:
            candidate = Candidate(
                reference=plan.reference,
                name=plan.name,
                email=plan.email,
                is_staff=plan.staff,
                created_at=now,
            )
            session.add(candidate)
            session.flush()
        present = set(
            session.scalars(select(Attempt.reference).where(Attempt.candidate_id == candidate.id))
        )
        for number, sitting in enumerate(plan.sittings, start=1):
            reference = f"{plan.reference}-{sitting.module.upper()}-{number}"
            if reference not in present:
                session.add(
                    _attempt(
                        reference, candidate.id, program.module(sitting.module), sitting, today, now
                    )
                )
        session.flush()
        # Each credential the attempts earn gets its row and verify id (none twice).
        issue_credentials(session, candidate.id, now=now, program=program)
        seeded.append(
            DemoCandidate(
                plan.reference, plan.name, plan.email, plan.state, plan.description, created
            )
        )
    session.flush()
    return seeded


def _attempt(
    reference: str,
    candidate_id: int,
    module: Module,
    sitting: _Sitting,
    today: dt.date,
    now: dt.datetime,
) -> Attempt:
    taken_on = sitting.taken_on(today)
    score = _score(reference, module, sitting.passed)
    # Results arrive the evening of the sitting (never after `now`).
    recorded_at = min(now, dt.datetime.combine(taken_on, dt.time(22, 0), tzinfo=dt.UTC))
    return Attempt(
        reference=reference,
        candidate_id=candidate_id,
        module=module.id,
        taken_on=taken_on,
        score=score,
        passed=sitting.passed,
        kwa_scores=_kwa_scores(reference, module, score),
        recorded_at=recorded_at,
    )


def _unit(*parts: str) -> float:
    """A number in [0, 1) fixed by `parts`: the same on every run and every machine."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _score(reference: str, module: Module, passed: bool) -> float:
    """A whole-percent score: 1 to 16 points above the cut score for a pass, 3 to 20 below."""
    cut = module.cut_score_percent or DEFAULT_CUT_SCORE
    spread = round(_unit(reference, "score") * 15)
    return float(min(cut + 1 + spread, 99) if passed else max(cut - 3 - spread, 0))


def _kwa_scores(reference: str, module: Module, score: float) -> dict[str, float]:
    """Each KWA within 18 points of the overall score, whole percents between 0 and 100."""
    return {
        kwa.slug: float(min(100, max(0, round(score + (_unit(reference, kwa.slug) - 0.5) * 36))))
        for kwa in module.kwas
    }


def _months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (the month's last day if it has none)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month_index + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
