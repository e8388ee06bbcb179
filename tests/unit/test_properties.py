"""Properties over random histories, checked against brute-force oracles written from the rules."""

from datetime import date, timedelta

from histories import REQUIRED, item
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shop.domain.certification import full_certification_date
from shop.domain.eligibility import Reason, eligibility
from shop.domain.history import Attempt, History
from shop.domain.program import ItemKind, Program
from shop.domain.status import ModuleStatus, module_status

MODULES = (*REQUIRED, "green")
FIRST_DAY = date(2022, 1, 1)
SPAN_DAYS = 4 * 366  # four years, with 29 February 2024 inside
# No example database: the tests must not write into the working tree.
PROPERTY = settings(database=None, deadline=None, max_examples=150)


@st.composite
def histories(
    draw: st.DrawFn, min_attempts: int = 0, max_attempts: int = 16, pass_weight: float = 0.5
) -> History:
    count = draw(st.integers(min_attempts, max_attempts))
    attempts: list[Attempt] = []
    for n in range(count):
        attempts.append(
            Attempt(
                attempt_id=f"a{n:03d}",
                module=draw(st.sampled_from(MODULES)),
                taken_on=draw(_days(tuple(a.taken_on for a in attempts))),
                passed=draw(st.floats(0, 1)) < pass_weight,
            )
        )
    return History(tuple(attempts))


def _days(earlier: tuple[date, ...]) -> st.SearchStrategy[date]:
    """Mostly any day of the span; sometimes one at an edge: around leap day, or a day either
    side of the second anniversary of an earlier attempt (where off-by-one mistakes live)."""
    anywhere = st.integers(0, SPAN_DAYS).map(lambda n: FIRST_DAY + timedelta(days=n))
    leap = st.sampled_from([date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)])
    edges = st.tuples(st.sampled_from(earlier or (FIRST_DAY,)), st.integers(-1, 1)).map(
        lambda pair: _second_anniversary(pair[0]) + timedelta(days=pair[1])
    )
    return st.integers(0, 9).flatmap(lambda n: anywhere if n < 6 else leap if n < 7 else edges)


@st.composite
def window_edge_histories(draw: st.DrawFn) -> History:
    """Required passes packed around one window, often on its first or last day or just
    outside it, with a few random attempts besides."""
    # Mostly the starts where calendar years and 730 days part ways.
    start = draw(
        st.sampled_from([date(2024, 2, 29), date(2023, 3, 1), date(2022, 2, 28)])
        if draw(st.integers(0, 3))
        else st.integers(0, SPAN_DAYS).map(lambda n: FIRST_DAY + timedelta(days=n))
    )
    end = _second_anniversary(start)
    one = timedelta(days=1)
    edge = st.sampled_from([start - one, start, end - one, end, end + one])
    inside = st.integers(0, (end - start).days).map(lambda n: start + timedelta(days=n))
    # A window worth testing starts on a pass.
    anchor = Attempt("w-anchor", draw(st.sampled_from(REQUIRED)), start, passed=True)
    attempts = [
        Attempt(f"w{module}{n}", module, draw(edge if draw(st.booleans()) else inside), True)
        for module in REQUIRED
        for n in range(draw(st.integers(0 if module == anchor.module else 1, 2)))
    ]
    noise = draw(histories(max_attempts=4))
    return History((anchor, *attempts, *noise.attempts))


def _second_anniversary(day: date) -> date:
    return date(day.year + 2, day.month, 28 if (day.month, day.day) == (2, 29) else day.day)


def _holds(start: date, day: date) -> bool:
    """Whether a window starting on `start` holds `day`: on or after the start, and not past the
    second anniversary. Comparing (year, month, day) tuples puts 29 February 2026, which does
    not exist, between 28 February and 1 March, so no date arithmetic is needed here."""
    last = (start.year + 2, start.month, start.day)
    return start <= day and (day.year, day.month, day.day) <= last


def oracle_certification_date(history: History) -> date | None:
    """Try every start day from the first pass to the last; keep the earliest completion."""
    passes = [a for a in history.attempts if a.passed and a.module in REQUIRED]
    if not passes:
        return None
    first, last = min(a.taken_on for a in passes), max(a.taken_on for a in passes)
    best = None
    for offset in range((last - first).days + 1):
        start = first + timedelta(days=offset)
        inside = [a for a in passes if _holds(start, a.taken_on)]
        if {a.module for a in inside} != set(REQUIRED):
            continue
        completed = max(min(a.taken_on for a in inside if a.module == m) for m in REQUIRED)
        best = completed if best is None else min(best, completed)
    return best


@PROPERTY
@given(histories(pass_weight=0.3))
def test_no_assessment_fee_is_allowed_on_any_day_of_a_retake_wait(
    program: Program, history: History
) -> None:
    for index, failure in enumerate(history.attempts):
        if failure.passed:
            continue
        # The history as it stood right after this failure; the waits are the program's
        # text (15, 15, 60, then 60 again), counted afresh after every pass.
        so_far = History(history.attempts[: index + 1])
        earlier = [a for a in so_far.attempts if a.module == failure.module]
        failures = 0
        for attempt in earlier:
            failures = 0 if attempt.passed else failures + 1
        retake_on = failure.taken_on + timedelta(days=(15, 15, 60)[min(failures, 3) - 1])
        fee = item(program, ItemKind.ASSESSMENT_FEE, failure.module)
        day = failure.taken_on
        while day < retake_on:
            decision = eligibility(so_far, fee, day, program)
            assert not decision.allowed
            assert Reason.RETAKE_WAIT in decision.reasons
            if decision.reasons == (Reason.RETAKE_WAIT,):
                assert decision.available_on == retake_on
            day += timedelta(days=1)
        assert Reason.RETAKE_WAIT not in eligibility(so_far, fee, retake_on, program).reasons


def _passes(*days: str) -> History:
    return History(
        tuple(
            Attempt(f"x{module}", module, date.fromisoformat(on), passed=True)
            for module, on in zip(REQUIRED, days, strict=True)
        )
    )


@settings(PROPERTY, max_examples=400)
@given(window_edge_histories() | histories(min_attempts=4, max_attempts=16, pass_weight=0.85))
# The leap-day edges, always tried, whatever the random draw.
@example(history=_passes("2024-02-29", "2025-01-01", "2025-06-01", "2026-02-28"))
@example(history=_passes("2024-02-29", "2025-01-01", "2025-06-01", "2026-03-01"))
@example(history=_passes("2023-03-01", "2024-02-29", "2024-06-01", "2025-03-01"))
@example(history=_passes("2023-03-01", "2024-02-29", "2024-06-01", "2025-03-02"))
def test_full_certification_is_held_exactly_when_a_brute_force_search_finds_a_window(
    program: Program, history: History
) -> None:
    assert full_certification_date(history, program) == oracle_certification_date(history)


@PROPERTY
@given(histories(), st.integers(0, SPAN_DAYS + 800), st.sampled_from(MODULES))
def test_the_dashboard_and_the_shop_agree_about_every_module(
    program: Program, history: History, offset: int, module: str
) -> None:
    now = FIRST_DAY + timedelta(days=offset)
    status = module_status(history, module, now, program).status
    reasons = eligibility(
        history, item(program, ItemKind.ASSESSMENT_FEE, module), now, program
    ).reasons
    assert (status is ModuleStatus.PASSED) == (Reason.MODULE_PASSED in reasons)
    # A counting pass outranks a later failure on the dashboard (the module stays done).
    waiting = Reason.RETAKE_WAIT in reasons and Reason.MODULE_PASSED not in reasons
    assert (status is ModuleStatus.WAITING) == waiting
