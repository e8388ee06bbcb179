"""`make reliability` (issue #6): locust against gunicorn, with SQLite and with PostgreSQL.

For each database: a fresh database, migrated and seeded; the offline Stripe, the SMTP sink,
the static site and gunicorn serving the shop; a short warm-up; then locust, headless, at
10, 20, 40, 80... users, one step after the other, until a step misses the goal (p95 under
300 ms and no error) or the users would outnumber the candidates. The highest step meeting the
goal is the answer: its requests per second. The memory is gunicorn's master and workers
together, sampled every half second, the peak of each step. The figures, the machine and how
to run it again are written to docs/reliability.md (and as JSON to build/bench/reliability.json).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import PROJECT_ROOT
from shop.db import normalise_url

from . import machine, seed, stack
from .mailsink import MailSink

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
SITE = PROJECT_ROOT / "build" / "site"
PROGRAM_FILE = PROJECT_ROOT / "content" / "program.toml"
P95_GOAL_MS = 300.0
# Percent of all CPUs used by processes the run did not start, above which a step is marked
# disturbed (a missed goal is then tried once more, and the machine waited for first).
DISTURBED_ABOVE = 25.0
RESET_STATS_FROM = 10  # seconds: shorter steps (smoke tests) count their start too
SITE_PAGES = (
    "/",
    "/about/",
    "/modules/",
    "/modules/safety/",
    "/modules/quality/",
    "/credentials/",
    "/employers/",
    "/policies/",
    "/faq/",
    "/assessments/",
)


@dataclass
class Settings:
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    steps: tuple[int, ...] = (10, 20, 40, 80, 160)
    duration: int = 30  # seconds per step
    candidates: int = 200
    think: tuple[float, float] = (0.2, 0.6)
    warm_up: int = 5  # seconds of locust before the steps, not counted
    refine: bool = True  # one more step between the last met and the first missed
    budget: int = 340  # seconds for the whole run: no step starts that would overrun it
    # Seconds to wait for a quieter machine before a database's run (not counted in the
    # budget), and before running a disturbed step again (counted).
    quiet_wait: int = 15
    site: Path = SITE  # the built static site (built first when it is the default and missing)
    out: Path | None = PROJECT_ROOT / "docs" / "reliability.md"
    json_out: Path | None = PROJECT_ROOT / "build" / "bench" / "reliability.json"


@dataclass
class Endpoint:
    name: str
    requests: int
    failures: int
    median: float
    p95: float
    p99: float
    rps: float


@dataclass
class Step:
    users: int
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    peak_rss: int = 0
    peak_pss: int = 0
    cpu_busy: float = 0.0  # the machine's CPUs, all processes, % busy during the step
    cpu_others: float = 0.0  # of which processes this run did not start
    superseded: bool = False  # a disturbed try that missed, run again after it
    endpoints: list[Endpoint] = field(default_factory=list)
    failure_messages: list[str] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 1.0

    @property
    def meets_goal(self) -> bool:
        return self.requests > 0 and self.failures == 0 and self.p95 < P95_GOAL_MS

    @property
    def disturbed(self) -> bool:
        """Other processes (not this run's) used much of the CPUs meanwhile."""
        return self.cpu_others > DISTURBED_ABOVE


@dataclass
class DatabaseRun:
    kind: str
    steps: list[Step] = field(default_factory=list)
    skipped: str | None = None
    server: str = ""
    idle_rss: int = 0
    idle_pss: int = 0
    mails: int = 0
    server_errors: int = 0  # tracebacks in gunicorn's log
    load_before: float = 0.0  # the machine's 1-minute load average when the run began
    notes: list[str] = field(default_factory=list)  # why steps stopped early, and the like
    seconds: float = 0.0

    @property
    def best(self) -> Step | None:
        passing = [s for s in self.steps if s.meets_goal]
        return max(passing, key=lambda s: s.users) if passing else None


def ensure_site(site: Path) -> None:
    """build/site, built once if it is missing (never rebuilt: others may be editing it)."""
    if (site / "index.html").exists():
        return
    if site != SITE:
        raise SystemExit(f"{site} has no index.html: not a built site")
    print("build/site is missing: building the site first", flush=True)
    subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--out", str(SITE)], cwd=PROJECT_ROOT, check=True
    )


def site_pages(site: Path) -> list[str]:
    return [p for p in SITE_PAGES if (site / p.lstrip("/") / "index.html").exists()] or ["/"]


def run(settings: Settings) -> list[DatabaseRun]:
    ensure_site(settings.site)
    runs = []
    for kind in settings.databases:
        if kind == "postgresql" and (problem := stack.postgres_problem()):
            print(f"PostgreSQL skipped: not reachable at {stack.POSTGRES_URL} ({problem})")
            runs.append(DatabaseRun(kind, skipped=f"not reachable at {stack.POSTGRES_URL}"))
            continue
        try:
            runs.append(_run_database(kind, settings))
        except (sa.exc.OperationalError, RuntimeError) as error:
            # A server gone (a fault test restarting PostgreSQL, say): the other database's
            # figures are still worth writing down, with the reason this one has none.
            reason = str(error).splitlines()[0][:300]
            print(f"{kind}: the run failed: {error}")
            runs.append(DatabaseRun(kind, skipped=f"the run failed: {reason}"))
    info = machine.describe()
    if settings.json_out is not None:
        settings.json_out.parent.mkdir(parents=True, exist_ok=True)
        data = {"machine": info, "settings": _settings_dict(settings), "runs": _runs_dict(runs)}
        settings.json_out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if settings.out is not None:
        settings.out.parent.mkdir(parents=True, exist_ok=True)
        settings.out.write_text(report(runs, settings, info), encoding="utf-8")
        print(f"written: {settings.out}")
    return runs


def _run_database(kind: str, settings: Settings) -> DatabaseRun:
    started = time.monotonic()
    result = DatabaseRun(kind, load_before=os.getloadavg()[0])
    with tempfile.TemporaryDirectory(prefix=f"cpt-load-{kind}-") as temp:
        folder = Path(temp)
        print(f"\n== {kind}: migrating and seeding {settings.candidates} candidates", flush=True)
        with stack.database(kind, folder) as url:
            result.server = _server_version(url)
            server_started = _server_started(url)
            seeded = seed.seed(url, settings.candidates, PROGRAM_FILE, dt.datetime.now(dt.UTC))
            data = folder / "data"
            seeded.write(data)
            (data / "site_pages.json").write_text(
                json.dumps(site_pages(settings.site)), encoding="utf-8"
            )
            outbox = folder / "outbox"
            with (
                MailSink(outbox, stack.free_port()) as sink,
                stack.FakeStripeProcess(folder / "stripe.log") as stripe,
                stack.StaticSite(settings.site, folder / "static.log") as site,
            ):
                port = stack.free_port()
                env = stack.shop_env(url, stripe.url, sink.port, f"http://{stack.HOST}:{port}")
                log = folder / "gunicorn.log"
                with stack.Gunicorn(env, log, port=port) as gunicorn:
                    locust_env = {
                        "LOADTEST_DATA": str(data),
                        "LOADTEST_OUTBOX": str(outbox),
                        "LOADTEST_SITE": site.url,
                        "LOADTEST_STRIPE": stripe.url,
                        "LOADTEST_THINK": f"{settings.think[0]},{settings.think[1]}",
                    }
                    with stack.MemorySampler(gunicorn.master()) as memory:
                        result.idle_rss, result.idle_pss = memory.sample()
                        waited = time.monotonic()
                        if settings.quiet_wait:
                            stack.wait_for_quiet(DISTURBED_ABOVE, patience=settings.quiet_wait)
                        started += time.monotonic() - waited
                        if settings.warm_up:
                            print(f"   warming up for {settings.warm_up} s", flush=True)
                            _locust(gunicorn.url, 4, settings.warm_up, folder / "warm", locust_env)
                        deadline = started + settings.budget / len(settings.databases)

                        def step_at(users: int, attempt: int) -> Step:
                            memory.reset()
                            cpu = stack.CpuMeter()
                            prefix = folder / f"u{users}-{attempt}"
                            step = _locust(
                                gunicorn.url, users, settings.duration, prefix, locust_env
                            )
                            step.cpu_busy, step.cpu_others = cpu.read()
                            step.peak_rss, step.peak_pss = memory.peak_rss, memory.peak_pss
                            print(_step_line(step), flush=True)
                            return step

                        def room_for(users: int, again: bool = False) -> bool:
                            wait = settings.quiet_wait if again else 0
                            if time.monotonic() + wait + settings.duration + 5 <= deadline:
                                return True
                            what = f"{users} users again" if again else f"{users} users"
                            note = f"the time budget left no room for {what}"
                            result.notes.append(note)
                            print(f"   {note}")
                            return False

                        for users in _plan(settings, result.steps):
                            if not room_for(users):
                                break
                            step = step_at(users, 1)
                            if (
                                step.disturbed
                                and not step.meets_goal
                                and room_for(users, again=True)
                            ):
                                # Missed while other processes had the CPUs: once more, when
                                # the machine is quieter; the first try stays in the table.
                                step.superseded = True
                                result.steps.append(step)
                                if settings.quiet_wait:
                                    stack.wait_for_quiet(
                                        DISTURBED_ABOVE, patience=settings.quiet_wait
                                    )
                                print(f"   {users} users again: the first try was disturbed")
                                step = step_at(users, 2)
                            result.steps.append(step)
                    result.mails = sink.received
                if _server_started(url) != server_started:
                    note = (
                        "PostgreSQL's server restarted during the run (not this run's doing: "
                        "something else on the machine restarted it), so its errors are the "
                        "restart's"
                    )
                    result.notes.append(note)
                    print(f"   {note}")
                result.server_errors = log.read_text(errors="replace").count("Traceback")
                if result.server_errors:
                    keep = PROJECT_ROOT / "build" / "bench" / f"reliability-{kind}-gunicorn.log"
                    keep.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(log, keep)
                    print(f"   {result.server_errors} tracebacks in gunicorn's log: kept in {keep}")
    result.seconds = time.monotonic() - started
    return result


def _plan(settings: Settings, done: list[Step]) -> Iterator[int]:
    """The user counts to run, given the steps `done` so far (read again before each step).

    The steps in order until one misses the goal; then, once, halfway between the last step
    that met it and the one that missed (when they are more than 10 users apart), for a closer
    figure. Never more users than candidates.
    """
    for users in settings.steps:
        if users > settings.candidates:
            print(f"   stopping before {users} users: only {settings.candidates} candidates")
            return
        yield users
        if not done[-1].meets_goal:
            break
    if not done or done[-1].meets_goal or not settings.refine:
        return
    below = [s.users for s in done if s.meets_goal]
    if below and done[-1].users - below[-1] > 10:
        yield (below[-1] + done[-1].users) // 2


def _server_started(url: str) -> str:
    """When PostgreSQL's server started ("" for SQLite, or when it cannot be asked)."""
    if url.startswith("sqlite"):
        return ""
    engine = sa.create_engine(normalise_url(url), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("select pg_postmaster_start_time()")).scalar())
    except sa.exc.OperationalError:
        return "unreachable"
    finally:
        engine.dispose()


def _server_version(url: str) -> str:
    if url.startswith("sqlite"):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (a file, WAL)"
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            return f"PostgreSQL {connection.execute(sa.text('show server_version')).scalar()}"
    finally:
        engine.dispose()


def _locust(host: str, users: int, seconds: int, prefix: Path, env: dict[str, str]) -> Step:
    """One headless locust run; its aggregated and per-endpoint figures."""
    rate = max(users // 2, min(users, 10))  # every user started within two seconds
    # Counted from when every user has started; a run too short to spare that counts it all.
    reset = ["--reset-stats"] if seconds >= RESET_STATS_FROM else []
    argv = [
        str(stack.BIN / "locust"), "-f", str(LOCUSTFILE), "--headless",
        "-u", str(users), "-r", str(rate), "-t", f"{seconds}s", "--host", host,
        "--csv", str(prefix), *reset, "--only-summary", "--loglevel", "ERROR",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    completed = subprocess.run(
        argv,
        cwd=PROJECT_ROOT,
        env={**stack.base_env(), **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=seconds + 90,
        check=False,
    )
    stats = Path(f"{prefix}_stats.csv")
    if completed.returncode != 0 or not stats.exists():
        raise RuntimeError(
            f"locust failed ({completed.returncode}):\n{completed.stdout[-2000:]}\n"
            f"{completed.stderr[-4000:]}"
        )
    return _read_stats(users, stats, Path(f"{prefix}_failures.csv"))


def _read_stats(users: int, stats: Path, failures: Path) -> Step:
    endpoints: list[Endpoint] = []
    total: Step | None = None
    with stats.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                total = Step(
                    users=users,
                    requests=int(row["Request Count"]),
                    failures=int(row["Failure Count"]),
                    rps=float(row["Requests/s"]),
                    p50=_ms(row["50%"]),
                    p95=_ms(row["95%"]),
                    p99=_ms(row["99%"]),
                )
            else:
                endpoints.append(
                    Endpoint(
                        name=f"{row['Type']} {row['Name']}",
                        requests=int(row["Request Count"]),
                        failures=int(row["Failure Count"]),
                        median=_ms(row["50%"]),
                        p95=_ms(row["95%"]),
                        p99=_ms(row["99%"]),
                        rps=float(row["Requests/s"]),
                    )
                )
    if total is None:
        raise RuntimeError(f"{stats}: no Aggregated row")
    total.endpoints = endpoints
    if failures.exists():
        with failures.open(newline="", encoding="utf-8") as f:
            total.failure_messages = [
                f"{r['Method']} {r['Name']}: {r['Error']} ({r['Occurrences']}x)"
                for r in csv.DictReader(f)
            ]
    return total


def _ms(text: str) -> float:
    return float(text) if text not in ("", "N/A") else float("nan")


def _step_line(step: Step) -> str:
    verdict = "meets the goal" if step.meets_goal else "misses the goal"
    return (
        f"   {step.users:>4} users: {step.rps:7.1f} req/s, p50 {step.p50:.0f} ms, "
        f"p95 {step.p95:.0f} ms, p99 {step.p99:.0f} ms, {step.failures} errors "
        f"of {step.requests}, peak RSS {stack.mib(step.peak_rss)} MiB, CPUs "
        f"{step.cpu_busy:.0f}% busy (others {step.cpu_others:.0f}%): {verdict}"
    )


# -- the report ---------------------------------------------------------------------------------


def report(runs: list[DatabaseRun], settings: Settings, info: dict[str, str]) -> str:
    lines = [
        "# Reliability: the shop under load",
        "",
        "<!-- Written by `make reliability` (python -m bench.loadtest reliability): "
        "edit the tool, not this file. -->",
        "",
        "Issue #6. Virtual users (locust, headless) browse the static site, sign in with a "
        "one-time link, open the catalogue, put an item in the cart, start checkout and "
        "verify two credentials, against gunicorn on 127.0.0.1, once with SQLite and once "
        "with PostgreSQL. The load steps up until a step misses the goal: "
        f"**p95 under {P95_GOAL_MS:.0f} ms and no error**.",
        "",
        "## Results",
        "",
    ]
    summary = [
        "| database | users | requests/s | p95 | errors | peak memory (RSS / PSS) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run_ in runs:
        best = run_.best
        if run_.skipped:
            summary.append(f"| {run_.kind} | skipped: {run_.skipped} | | | | |")
        elif best is None:
            summary.append(f"| {run_.kind} | no step met the goal | | | | |")
        else:
            summary.append(
                f"| {run_.kind} | {best.users} | **{best.rps:.1f}** | {best.p95:.0f} ms | "
                f"{best.failures} ({best.error_rate:.2%}) | "
                f"{stack.mib(best.peak_rss)} / {stack.mib(best.peak_pss)} MiB |"
            )
    lines += [
        "The highest load that met the goal, per database (requests per second over the "
        "whole mix, static pages included):",
        "",
        *summary,
        "",
    ]
    for run_ in runs:
        lines += _database_section(run_, settings)
    think = f"{settings.think[0]:g} to {settings.think[1]:g} s"
    lines += [
        "## How it was measured",
        "",
        *machine.markdown_lines(info),
        f"- the shop: {stack.gunicorn_settings()}, `-b 127.0.0.1:PORT 'shop:create_app()'`, "
        "as deployed, with "
        "`DATABASE_URL`, `SECRET_KEY`, `STRIPE_API_BASE` (the offline Stripe, "
        "`python -m shop.payments.offline`), `SHOP_URL`, `REDIS_URL` (the rate limiter's "
        f"counters, `{stack.REDIS_URL}`), `SMTP_HOST`/`SMTP_PORT` (below) and "
        f'**`VERIFY_RATE_LIMIT` and `SIGNIN_RATE_LIMIT` raised to "{stack.HIGH_RATE_LIMIT}"**: '
        "every virtual user comes from 127.0.0.1, so the production limits (30 verify pages a "
        "minute, 10 sign-in links an hour per address) would refuse nearly all of them",
        f"- data: a fresh database per run (SQLite: a file in a temporary folder; PostgreSQL: a "
        f"database created for the run and dropped after), migrated, with {settings.candidates} "
        "candidates: each passed one to four modules (a third fully certified), some after a "
        "failure, some in a retake wait; their credentials issued with `issue_credentials`",
        "- the static site: Python's http.server over `build/site`, with keep-alive and a "
        "backlog of 1024 (`bench/loadtest/static.py`; a stand-in for the production web "
        "server: its time counts in the figures)",
        "- signing in is real: each virtual user is its own candidate, asks for a link, the shop "
        "mails it through SMTP to a sink on 127.0.0.1 (the harness: aiosmtpd) which keeps the "
        "link's token in a file per address; the user takes it, opens the link and confirms "
        "(POST), then lands on its dashboard. No token is made in advance",
        f"- each user goes round: 3 static pages, sign-in form, ask for a link, open the link, "
        "confirm, dashboard, catalogue, add to cart, the cart, checkout (a 303 to the offline "
        f"Stripe's pay page, not followed), 2 verify pages; a think time of {think} before "
        "each step; the cookie jar is emptied at each sign-in (a new visit)",
        f"- each step: {settings.duration} s, the users started within about two seconds, the "
        f"figures counted from when all have started (`--reset-stats`); a {settings.warm_up} s "
        "warm-up with 4 users first (not counted); an error is any request whose answer is not "
        "the expected one (status, redirect target, page content)",
        "- the steps: " + ", ".join(str(u) for u in settings.steps) + " users, in order, "
        "until one misses the goal; then one more halfway between the last that met it and "
        'the one that missed. "CPUs busy" is the whole machine during the step, in percent '
        'of all its CPUs; "others" is the part of it used by processes the run did not '
        "start (the databases' servers, and anything else running on the machine then: on a "
        "shared machine, the figures are only as good as that number is small). Above "
        f"{DISTURBED_ABOVE:.0f}% a step is marked disturbed; a disturbed step that missed the "
        "goal is run once more (both rows are shown), after waiting up to "
        f"{settings.quiet_wait} s for the machine to quieten; each database's run also waits "
        f"up to {settings.quiet_wait} s for it first",
        "- memory: the resident set (RSS) of gunicorn's master and its 4 workers added up, "
        "sampled every 0.5 s, the peak during the step; RSS counts the pages the workers share "
        "with the master once per process, PSS shares them out",
        "",
        "## Running it again",
        "",
        "```sh",
        "make reliability      # at most about six minutes; rewrites this file",
        "# or choose: databases, steps, seconds per step, candidates, think time",
        ".venv/bin/python -m bench.loadtest reliability --databases sqlite "
        "--steps 10,20,40 --duration 30 --candidates 200 --think 0.2,0.6 --budget 340",
        "```",
        "",
        "PostgreSQL is found at `LOADTEST_POSTGRES_URL` (default "
        "`postgresql://postgres@127.0.0.1:5432/test`; the run creates and drops its own "
        "database there, so the role needs CREATEDB); Redis at `LOADTEST_REDIS_URL`. The raw "
        "figures of the last run are in `build/bench/reliability.json`.",
        "",
    ]
    return "\n".join(lines)


def _verdict(step: Step) -> str:
    verdict = "met" if step.meets_goal else "missed"
    if step.superseded:
        return f"{verdict} (disturbed: run again, next row)"
    return f"{verdict} (disturbed)" if step.disturbed else verdict


def _database_section(run_: DatabaseRun, settings: Settings) -> list[str]:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(run_.kind, run_.kind)
    lines = [f"### {title}", ""]
    if run_.skipped:
        return [*lines, f"No figures: {run_.skipped}.", ""]
    lines += [
        f"{run_.server}. Gunicorn at rest after start: {stack.mib(run_.idle_rss)} MiB RSS, "
        f"{stack.mib(run_.idle_pss)} MiB PSS. {run_.mails} sign-in mails sent; "
        f"{run_.server_errors} tracebacks in gunicorn's log; {run_.seconds:.0f} s in all. "
        f"The machine's load average when it began: {run_.load_before:.1f}.",
        "",
        "| users | requests | requests/s | p50 | p95 | p99 | errors | error rate | "
        "peak RSS | peak PSS | CPUs busy (others) | goal |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for step in sorted(run_.steps, key=lambda s: (s.users, not s.superseded)):
        lines.append(
            f"| {step.users} | {step.requests} | {step.rps:.1f} | {step.p50:.0f} ms | "
            f"{step.p95:.0f} ms | {step.p99:.0f} ms | {step.failures} | {step.error_rate:.2%} | "
            f"{stack.mib(step.peak_rss)} MiB | {stack.mib(step.peak_pss)} MiB | "
            f"{step.cpu_busy:.0f}% ({step.cpu_others:.0f}%) | {_verdict(step)} |"
        )
    lines.append("")
    best = run_.best
    if run_.notes:
        lines += [f"Note: {note}." for note in run_.notes] + [""]
    if best is not None and all(step.meets_goal for step in run_.steps):
        lines += [
            f"No step missed the goal: {best.users} users is the most that was tried, not "
            "the limit.",
            "",
        ]
    shown = best or (run_.steps[0] if run_.steps else None)
    if shown is not None:
        which = "the highest step that met the goal" if best else "the first step"
        lines += [
            f"Per request at {shown.users} users ({which}):",
            "",
            "| request | count | requests/s | median | p95 | p99 | errors |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for e in shown.endpoints:
            lines.append(
                f"| {e.name} | {e.requests} | {e.rps:.1f} | {e.median:.0f} ms | "
                f"{e.p95:.0f} ms | {e.p99:.0f} ms | {e.failures} |"
            )
        lines.append("")
    for step in run_.steps:
        if step.failure_messages:
            lines += [f"Errors at {step.users} users:", ""]
            lines += [f"- {m}" for m in step.failure_messages[:10]]
            lines.append("")
    return lines


def _settings_dict(settings: Settings) -> dict[str, Any]:
    data = asdict(settings)
    data["out"] = str(settings.out) if settings.out else None
    data["site"] = str(settings.site)
    data["json_out"] = str(settings.json_out) if settings.json_out else None
    return data


def _runs_dict(runs: list[DatabaseRun]) -> list[dict[str, Any]]:
    out = []
    for run_ in runs:
        data = asdict(run_)
        for step, raw in zip(run_.steps, data["steps"], strict=True):
            raw["error_rate"] = step.error_rate
            raw["meets_goal"] = step.meets_goal
        best = run_.best
        data["best_users"] = best.users if best else None
        data["best_rps"] = best.rps if best else None
        out.append(data)
    return out
