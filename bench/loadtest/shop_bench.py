"""`make shop-bench` (issue #7, item 4): the shop's pages beside the framework's ceiling.

gunicorn with the deployment's settings serves the shop (SQLite, seeded) and, on another port
with the same settings, a bare Flask route (`bench.loadtest.bare`). wrk (-t2 -c20 -d10s
--latency; a 2 s run first, not counted) measures, one after the other: the bare route, the
catalogue (/shop/) and the dashboard (/shop/account) with the session cookie of a candidate who
signed in through the one-time link, and a public verify page. Each page's requests per second
are compared to the bare route's. Goals: at least half the ceiling, and p99 under 50 ms.

When a goal is missed (or with --profile always), the slowest page is measured once more
under py-spy (`py-spy record --subprocesses`, gunicorn and its workers) and the samples are
summed by where they fall: which library, which template, which function of the shop.

Results: build/bench/shop.json and docs/shop-performance.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT

from . import machine, seed, stack
from .cpu import BATCHES, PER_BATCH, WARM_UP, CpuCost, cpu_cost
from .mailsink import MailSink, take_token

PROGRAM_FILE = PROJECT_ROOT / "content" / "program.toml"
RATIO_GOAL = 0.5
P99_GOAL_MS = 50.0
WARM_UP_SECONDS = 2
CANDIDATES = 200
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Settings:
    duration: int = 10
    connections: int = 20
    threads: int = 2
    # The figures are SQLite's; PostgreSQL's beside them tell the database's part.
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    profile: str = "auto"  # auto: when a goal is missed; always; never
    out: Path | None = PROJECT_ROOT / "docs" / "shop-performance.md"
    json_out: Path | None = PROJECT_ROOT / "build" / "bench" / "shop.json"


@dataclass
class WrkResult:
    name: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors (wrk's timeout is 2 s), and answers neither 2xx nor 3xx
    timeouts: int = 0  # of which: no answer within wrk's 2 s
    non_2xx: int = 0  # of which: answers neither 2xx nor 3xx
    database: str = ""
    ratio: float = 1.0  # to the ceiling's requests per second
    cpu_busy: float = 0.0  # the machine, % of all CPUs, during the run
    cpu_others: float = 0.0  # of which processes this bench did not start

    @property
    def meets_ratio(self) -> bool:
        return self.ratio >= RATIO_GOAL

    @property
    def meets_p99(self) -> bool:
        return self.p99_ms < P99_GOAL_MS


@dataclass
class Profile:
    endpoint: str
    samples: int
    by_area: list[tuple[str, float]] = field(default_factory=list)  # self time, % of samples
    shop_functions: list[tuple[str, float]] = field(default_factory=list)  # inclusive %
    templates: list[tuple[str, float]] = field(default_factory=list)  # inclusive %
    hot_leaves: list[tuple[str, float]] = field(default_factory=list)  # self time %


@dataclass
class Bench:
    ceiling: WrkResult  # the bare route: the mean of a run before the pages and one after
    ceiling_runs: list[WrkResult]
    pages: list[WrkResult]
    skipped: dict[str, str] = field(default_factory=dict)  # database: why
    profile: Profile | None = None
    cpu: list[CpuCost] = field(default_factory=list)  # SQLite's pages, in this process
    machine: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make shop-bench does)")
    return found


def run(settings: Settings) -> Bench:
    wrk_path()
    print(
        f"{stack.gunicorn_settings()}; "
        f"wrk -t{settings.threads} -c{settings.connections} -d{settings.duration}s"
    )
    pages: list[WrkResult] = []
    skipped: dict[str, str] = {}
    profile = None
    cpu: list[CpuCost] = []
    with tempfile.TemporaryDirectory(prefix="cpt-bench-") as temp:
        folder = Path(temp)
        bare_app = "bench.loadtest.bare:create_app()"
        with stack.Gunicorn({}, folder / "bare.log", app=bare_app, ready_path="/bare") as bare:
            first = wrk("bare Flask route", bare.url, "/bare", None, settings)
            for kind in settings.databases:
                if kind == "postgresql" and (problem := stack.postgres_problem()):
                    print(f"PostgreSQL skipped: not reachable at {stack.POSTGRES_URL} ({problem})")
                    skipped[kind] = f"not reachable at {stack.POSTGRES_URL}"
                    continue
                measured, profiled, costs = _bench_database(
                    kind, folder / kind, settings, first.rps
                )
                pages += measured
                profile = profiled or profile
                cpu += costs
            last = wrk("bare Flask route", bare.url, "/bare", None, settings)
    ceiling = WrkResult(
        first.name,
        first.path,
        (first.rps + last.rps) / 2,
        (first.p50_ms + last.p50_ms) / 2,
        max(first.p99_ms, last.p99_ms),
        first.requests + last.requests,
        first.errors + last.errors,
        cpu_busy=(first.cpu_busy + last.cpu_busy) / 2,
        cpu_others=(first.cpu_others + last.cpu_others) / 2,
    )
    for page in pages:
        page.ratio = page.rps / ceiling.rps if ceiling.rps else 0.0
    result = Bench(ceiling, [first, last], pages, skipped, profile, cpu, machine.describe())
    result.settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()}
    write(result, settings)
    return result


def _bench_database(
    kind: str, folder: Path, settings: Settings, ceiling_rps: float
) -> tuple[list[WrkResult], Profile | None, list[CpuCost]]:
    """The shop's pages on a fresh database of `kind`; with SQLite, their CPU time per request
    and the profile of the slowest page when one misses a goal (`--profile auto`) or always."""
    folder.mkdir(parents=True)
    with stack.database(kind, folder) as url:
        seeded = seed.seed(url, CANDIDATES, PROGRAM_FILE, dt.datetime.now(dt.UTC))
        outbox = folder / "outbox"
        with MailSink(outbox, stack.free_port()) as sink:
            port = stack.free_port()
            # Nothing here starts checkout: Stripe's address only has to be local.
            env = stack.shop_env(
                url, "http://127.0.0.1:9", sink.port, f"http://{stack.HOST}:{port}"
            )
            with stack.Gunicorn(env, folder / "shop.log", port=port) as shop:
                # The fullest dashboard: a fully certified candidate, every credential.
                chosen = max(seeded.candidates, key=lambda c: c.credentials)
                cookie = sign_in(shop.url, chosen.email, outbox)
                targets = [
                    (NO_DATABASE, "/shop/verify", None),
                    ("catalogue", "/shop/", cookie),
                    ("dashboard", "/shop/account", cookie),
                    ("verify page", f"/shop/verify/{chosen.verify_ids[0]}", None),
                ]
                pages = []
                for name, path, with_cookie in targets:
                    check_page(shop.url + path, with_cookie)
                    page = wrk(f"{name} ({kind})", shop.url, path, with_cookie, settings)
                    page.database = kind
                    check_page(shop.url + path, with_cookie)
                    pages.append(page)
            missed = any(p.rps < RATIO_GOAL * ceiling_rps or not p.meets_p99 for p in pages)
            profile = None
            if kind == "sqlite" and (
                settings.profile == "always" or (settings.profile == "auto" and missed)
            ):
                slowest = min(pages, key=lambda p: p.rps)
                with_cookie = next(c for _, path, c in targets if path == slowest.path)
                profile = profile_endpoint(env, folder, slowest, with_cookie, settings)
            costs = _cpu_costs(env, chosen.email, targets) if kind == "sqlite" else []
    return pages, profile, costs


# The verify form reads no database: the shop's floor (the session cookie, the rate limiter,
# the shared layout with its links, the security headers).
NO_DATABASE = "a page without the database (the verify form)"
# The bare route's string answered by the shop's own app (its session, request hooks and
# headers, but no template and no database): what a cache of whole pages would cost at best.
FIXED = "the bare route's string, answered by the shop's app"
FIXED_PATH = "/shop/bench-fixed"


def _cpu_costs(
    env: dict[str, str], email: str, targets: list[tuple[str, str, str | None]]
) -> list[CpuCost]:
    """CPU per request in this process: the bare route, and the shop's pages."""
    from sqlalchemy import select

    from shop import create_app, db
    from shop.models import Candidate

    from .bare import PAGE
    from .bare import create_app as create_bare

    print("CPU per request, in process (Flask's test client)")
    # Flask's test client names localhost: the shop answers only its SHOP_URL (shop.hosts).
    app = create_app({**env, "SHOP_URL": "http://localhost"})
    app.add_url_rule(FIXED_PATH, "bench_fixed", lambda: PAGE)  # on this instance only
    with app.app_context():
        candidate_id = db.session().scalar(select(Candidate.id).where(Candidate.email == email))
    costs = [
        cpu_cost(create_bare(), "bare Flask route", "/bare"),
        cpu_cost(app, FIXED, FIXED_PATH),
    ]
    for name, path, with_cookie in targets:
        costs.append(cpu_cost(app, name, path, candidate_id if with_cookie else None))
    app.extensions["db.engine"].dispose()
    for cost in costs:
        print(f"  {cost.name:52s} {cost.ms:6.2f} ms  at most {cost.bound_rps:7.0f} req/s")
    return costs


# -- signing in once, and checking a page ---------------------------------------------------


def sign_in(base: str, email: str, outbox: Path) -> str:
    """Sign in as `email` through the one-time link; the Cookie header of the session."""
    import requests

    session = requests.Session()
    form = session.get(f"{base}/shop/signin", timeout=10)
    asked = session.post(
        f"{base}/shop/signin",
        data={"email": email, "csrf_token": _csrf(form.text), "next": ""},
        allow_redirects=False,
        timeout=10,
    )
    if asked.status_code != 302:
        raise RuntimeError(f"asking for a sign-in link: {asked.status_code}")
    token = None
    deadline = time.monotonic() + 10
    while token is None and time.monotonic() < deadline:
        token = take_token(outbox, email)
        time.sleep(0.05)
    if token is None:
        raise RuntimeError("no sign-in link arrived")
    page = session.get(f"{base}/shop/signin/{token}", timeout=10)
    confirmed = session.post(
        f"{base}/shop/signin/{token}",
        data={"csrf_token": _csrf(page.text), "next": ""},
        allow_redirects=False,
        timeout=10,
    )
    if confirmed.status_code != 302 or not confirmed.headers["Location"].endswith("/account"):
        raise RuntimeError(f"confirming the sign-in: {confirmed.status_code}")
    value = session.cookies.get("cpt_shop")
    if not value:
        raise RuntimeError("no session cookie after signing in")
    return f"cpt_shop={value}"


def _csrf(html: str) -> str:
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    value = re.search(r'value="([^"]+)"', tag.group(0)) if tag else None
    if value is None:
        raise RuntimeError("no CSRF token on the page")
    return value.group(1)


def check_page(url: str, cookie: str | None) -> None:
    """The page answers 200 with this cookie (a stale cookie would measure a redirect)."""
    import requests

    headers = {"Cookie": cookie} if cookie else {}
    answer = requests.get(url, headers=headers, allow_redirects=False, timeout=10)
    if answer.status_code != 200:
        raise RuntimeError(f"{url}: {answer.status_code}, not the page")


# -- wrk ----------------------------------------------------------------------------------------


def wrk(name: str, base: str, path: str, cookie: str | None, settings: Settings) -> WrkResult:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    common = [wrk_path(), f"-t{settings.threads}", f"-c{settings.connections}", *headers]
    subprocess.run(
        [*common, f"-d{WARM_UP_SECONDS}s", base + path],
        capture_output=True,
        check=True,
        timeout=WARM_UP_SECONDS + 30,
    )
    cpu = stack.CpuMeter()
    completed = subprocess.run(
        [*common, f"-d{settings.duration}s", "--latency", base + path],
        capture_output=True,
        text=True,
        check=True,
        timeout=settings.duration + 30,
    )
    result = parse_wrk(name, path, completed.stdout)
    result.cpu_busy, result.cpu_others = cpu.read()
    print(
        f"  {name:<18} {path:<34} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.1f} ms  "
        f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}  CPUs busy "
        f"{result.cpu_busy:.0f}% (others {result.cpu_others:.0f}%)",
        flush=True,
    )
    return result


def _duration_ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if found is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * UNITS[found.group(2)]


def parse_wrk(name: str, path: str, output: str) -> WrkResult:
    def find(pattern: str) -> str:
        found = re.search(pattern, output, re.M)
        if found is None:
            raise RuntimeError(f"wrk's output has no {pattern!r}:\n{output}")
        return found.group(1)

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    timeouts = re.search(r"timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        name=name,
        path=path,
        rps=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_duration_ms(find(r"^\s+50%\s+(\S+)")),
        p99_ms=_duration_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
        timeouts=int(timeouts.group(1)) if timeouts else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


# -- profiling ----------------------------------------------------------------------------------


def profile_endpoint(
    env: dict[str, str], folder: Path, page: WrkResult, cookie: str | None, settings: Settings
) -> Profile | None:
    """The page under load once more, gunicorn's workers sampled by py-spy meanwhile.

    py-spy attaches to the running master (`--subprocesses`: its workers too) after the
    warm-up, for the wrk run only: starting the workers (imports) is not in the profile.
    """
    py_spy = stack.BIN / "py-spy"
    if not py_spy.exists():
        print("py-spy is not installed in the virtualenv: no profile")
        return None
    raw = folder / "profile.txt"
    print(f"profiling {page.name} ({page.path}) with py-spy", flush=True)
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    common = [wrk_path(), f"-t{settings.threads}", f"-c{settings.connections}", *headers]
    port = stack.free_port()  # a server of its own, whose address is its SHOP_URL
    profiled = {**env, "SHOP_URL": f"http://{stack.HOST}:{port}"}
    with stack.Gunicorn(profiled, folder / "profiled.log", port=port) as shop:
        url = shop.url + page.path
        subprocess.run([*common, f"-d{WARM_UP_SECONDS}s", url], capture_output=True, check=True)
        spy = subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--pid",
                str(shop.process.pid),
                "--subprocesses",
                "--nonblocking",
                "--full-filenames",
                "--rate",
                "200",
                "--format",
                "raw",
                "--duration",
                str(settings.duration),
                "--output",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1)  # py-spy attaching
        subprocess.run([*common, f"-d{settings.duration}s", url], capture_output=True, check=True)
        try:
            _, error = spy.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, error = spy.communicate()
    if not raw.exists():
        print(f"py-spy wrote no profile: {error.decode(errors='replace')[-500:]}")
        return None
    keep = PROJECT_ROOT / "build" / "bench" / "shop-profile.txt"
    keep.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw, keep)
    return summarise(page.name + " " + page.path, raw.read_text(encoding="utf-8"))


FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _area(file: str) -> str:
    """Where a frame's file belongs: a library, the shop, a template, the standard library."""
    if file.endswith((".html", ".xml", ".j2")):
        return "templates (Jinja, rendering)"
    if "site-packages/" in file:
        package = file.split("site-packages/", 1)[1].split("/", 1)[0]
        return package.removesuffix(".py")
    if "/shop/" in file and "/site-packages/" not in file:
        return "shop"
    if "/sitegen/" in file:
        return "sitegen"
    if "/lib/python3" in file:
        return "stdlib: " + file.rsplit("/", 1)[-1]
    return file or "?"


def summarise(endpoint: str, raw: str) -> Profile:
    """Sums py-spy's raw (collapsed) stacks: self time by area, inclusive time of the shop's
    functions and of each template, and the functions where most samples end."""
    by_area: Counter[str] = Counter()
    shop_inclusive: Counter[str] = Counter()
    templates: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [FRAME.match(f) for f in stack_text.split(";")]
        parsed = [(m["function"], m["file"]) for m in frames if m is not None]
        if not any("gunicorn" in file for _, file in parsed):
            continue  # py-spy's own process lines, or a thread outside the server
        total += count
        function, file = parsed[-1]
        by_area[_area(file)] += count
        leaves[f"{function} ({_short(file)})"] += count
        seen_shop: set[str] = set()
        seen_templates: set[str] = set()
        for function, file in parsed:
            if _area(file) == "shop":
                seen_shop.add(f"{_short(file)}:{function}")
            elif _area(file).startswith("templates"):
                seen_templates.add(_short(file))
        for name in seen_shop:
            shop_inclusive[name] += count
        for name in seen_templates:
            templates[name] += count
    if not total:
        return Profile(endpoint, 0)

    def share(counter: Counter[str], n: int) -> list[tuple[str, float]]:
        return [(name, round(100 * c / total, 1)) for name, c in counter.most_common(n)]

    return Profile(
        endpoint,
        total,
        share(by_area, 12),
        share(shop_inclusive, 15),
        share(templates, 8),
        share(leaves, 12),
    )


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/", str(PROJECT_ROOT) + "/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file.rsplit("/", 1)[-1]


# -- the results --------------------------------------------------------------------------------


def write(result: Bench, settings: Settings) -> None:
    if settings.json_out is not None:
        settings.json_out.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(result)
        for page, raw in zip(result.pages, data["pages"], strict=True):
            raw["meets_ratio"] = page.meets_ratio
            raw["meets_p99"] = page.meets_p99
        data["goals"] = {"ratio_to_ceiling": RATIO_GOAL, "p99_ms": P99_GOAL_MS}
        settings.json_out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"written: {_relative(settings.json_out)}")
    if settings.out is not None:
        settings.out.parent.mkdir(parents=True, exist_ok=True)
        settings.out.write_text(markdown(result, settings), encoding="utf-8")
        print(f"written: {_relative(settings.out)}")


def _errors(page: WrkResult) -> str:
    if not page.errors:
        return "0"
    parts = []
    if page.timeouts:
        parts.append(f"{page.timeouts} over 2 s")
    if page.non_2xx:
        parts.append(f"{page.non_2xx} not 2xx/3xx")
    other = page.errors - page.timeouts - page.non_2xx
    if other:
        parts.append(f"{other} socket")
    return f"{page.errors} ({', '.join(parts)})"


def _comparison(result: Bench) -> list[str]:
    """Each page's requests per second on PostgreSQL against SQLite, when both ran."""
    by_key = {(p.path.split("/verify/")[0], p.database): p for p in result.pages}
    lines = []
    for (path, kind), sqlite in sorted(by_key.items()):
        other = by_key.get((path, "postgresql"))
        if kind != "sqlite" or other is None or not sqlite.rps:
            continue
        name = sqlite.name.removesuffix(" (sqlite)")
        lines.append(
            f"- {name}: PostgreSQL {other.rps:.0f} requests/s against SQLite's {sqlite.rps:.0f} "
            f"(x{other.rps / sqlite.rps:.2f}); p99 {other.p99_ms:.0f} ms against "
            f"{sqlite.p99_ms:.0f} ms"
        )
    return ["The same pages, PostgreSQL against SQLite:", "", *lines, ""] if lines else []


def _cpu_text(result: Bench) -> list[str]:
    """CPU per request in process, and what it bounds."""
    if not result.cpu:
        return []
    cpus = os.cpu_count() or 1
    bare = result.cpu[0]
    lines = [
        "## CPU per request, without the network",
        "",
        "The same SQLite database, measured in the bench's own process through Flask's test "
        f"client: the median of {BATCHES} batches of {PER_BATCH} requests (after "
        f"{WARM_UP} not counted), CPU time of one thread. No socket, no HTTP parsing, no "
        f"queueing: the page's own cost. {cpus} CPUs divided by it bound the requests per "
        "second of any server setting on this machine.",
        "",
        "| page | CPU per request | at most (requests/s) | bound as a share of the bare route's |",
        "|---|---:|---:|---:|",
    ]
    for cost in result.cpu:
        share = cost.bound_rps / bare.bound_rps if bare.bound_rps else 0.0
        lines.append(
            f"| {cost.name} `{cost.path}` | {cost.ms:.2f} ms | {cost.bound_rps:,.0f} | "
            f"{share:.2f} |"
        )
    return [*lines, "", *_floor_text(result)]


def _floor_text(result: Bench) -> list[str]:
    """What the page without the database says about the ratio goal, when it misses it."""
    costs = {c.name: c for c in result.cpu}
    bare, layout, fixed = costs["bare Flask route"], costs.get(NO_DATABASE), costs.get(FIXED)
    served = next((p for p in result.pages if p.name == f"{NO_DATABASE} (sqlite)"), None)
    if served is None or served.meets_ratio or not bare.ms or layout is None:
        return []
    lines = [
        f"The verify form reads no database: it is the shop's floor (the session cookie, the "
        f"rate limiter, the shared layout with its links, the security headers). It costs "
        f"{layout.ms / bare.ms:.1f} times the bare route's CPU in process, and under wrk it "
        f"reaches {served.ratio:.2f} of the ceiling: a page that renders the layout misses the "
        "ratio goal before its first query. Meeting it would take serving stored bytes "
        "instead of rendering (a cache of whole pages in front of the shop), which this shop "
        "does not do: its pages are per candidate and change with the date.",
    ]
    if fixed is not None:
        lines += [
            "",
            f"Stored bytes would not come free either: the bare route's own string, answered "
            f"by the shop's app (its session, request hooks and security headers; no "
            f"template, no database, no rate limit), costs {fixed.ms:.2f} ms, "
            f"{fixed.ms / bare.ms:.1f} times the bare route, before any lookup of the page "
            "to serve.",
        ]
    return [*lines, ""]


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def markdown(result: Bench, settings: Settings) -> str:
    c = result.ceiling
    workers = stack.gunicorn_settings()
    runs = " and ".join(f"{r.rps:.0f}" for r in result.ceiling_runs)
    lines = [
        "# The shop's pages beside the framework's ceiling",
        "",
        "<!-- Written by `make shop-bench` (python -m bench.loadtest bench): edit the tool, "
        "not this file. -->",
        "",
        f"Issue #7, item 4. The deployment's settings ({workers}) on 127.0.0.1 serving the "
        "shop (a fresh "
        f"database with {CANDIDATES} seeded candidates) and, with the same settings, a bare "
        "Flask route returning a small HTML string (`bench/loadtest/bare.py`): the framework's "
        f"ceiling on this machine. `wrk -t{settings.threads} -c{settings.connections} "
        f"-d{settings.duration}s --latency` against each, one after the other (a "
        f"{WARM_UP_SECONDS} s run first, not counted). Goals: **at least "
        f"{RATIO_GOAL:.0%} of the ceiling's requests per second, and p99 under "
        f"{P99_GOAL_MS:.0f} ms**. The issue's figures are SQLite's; the same pages on "
        "PostgreSQL follow, to tell the database's part from the rest.",
        "",
        "| page | database | requests/s | p50 | p99 | errors | ratio to ceiling | goals | "
        "CPUs busy (others) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
        f"| bare Flask route `{c.path}` (the ceiling) | none | {c.rps:.1f} | {c.p50_ms:.1f} ms | "
        f"{c.p99_ms:.1f} ms | {c.errors} | 1.00 | | {c.cpu_busy:.0f}% ({c.cpu_others:.0f}%) |",
    ]
    for p in result.pages:
        goals = [
            "ratio met" if p.meets_ratio else "ratio missed",
            "p99 met" if p.meets_p99 else "p99 missed",
        ]
        name = p.name.removesuffix(f" ({p.database})")
        lines.append(
            f"| {name} `{p.path}` | {p.database} | {p.rps:.1f} | {p.p50_ms:.1f} ms | "
            f"{p.p99_ms:.1f} ms | {_errors(p)} | {p.ratio:.2f} | {', '.join(goals)} | "
            f"{p.cpu_busy:.0f}% ({p.cpu_others:.0f}%) |"
        )
    for kind, why in result.skipped.items():
        lines.append(f"| (every page) | {kind} | skipped: {why} | | | | | | |")
    lines += [
        "",
        f"The ceiling is the mean of two runs of the bare route, before the pages and after "
        f"them ({runs} requests/s; its p99 is the larger of the two). Errors are wrk's socket "
        "errors (its timeout is 2 s) and answers that are neither 2xx nor 3xx; each page is "
        "also fetched before and after its run to check that it answers 200 (a stale cookie "
        'would measure a redirect). "CPUs busy" is the whole machine during the run, in '
        'percent of all its CPUs; "others" is the part used by processes the bench did not '
        "start (PostgreSQL's server, and anything else running on the machine then).",
        "",
        "The catalogue and the dashboard are measured signed in: the candidate signed in once "
        "through the one-time link (mailed to an SMTP sink on 127.0.0.1), and wrk sends that "
        "session's cookie. The candidate is the one with the most credentials (fully "
        "certified: the fullest dashboard); the verify page shows one of their credentials. "
        f"Rate limits are raised for the run (`VERIFY_RATE_LIMIT`, `SIGNIN_RATE_LIMIT` = "
        f'"{stack.HIGH_RATE_LIMIT}"): wrk\'s connections all come from one address.',
        "",
        *_comparison(result),
        *_cpu_text(result),
    ]
    if result.profile is not None and result.profile.samples:
        prof = result.profile
        lines += [
            f"## Where the time goes: {prof.endpoint}",
            "",
            f"py-spy (`record --subprocesses --nonblocking`, {prof.samples} samples of busy "
            "threads in gunicorn's workers) while wrk ran again against the slowest page. "
            "Percentages are of all samples; the raw stacks are in "
            "`build/bench/shop-profile.txt`.",
            "",
            "Own time, by where the code is (the frame running when sampled):",
            "",
            "| where | share |",
            "|---|---:|",
            *[f"| {name} | {pct}% |" for name, pct in prof.by_area],
            "",
            "The shop's functions, time spent in them and below (inclusive):",
            "",
            "| function | share |",
            "|---|---:|",
            *[f"| `{name}` | {pct}% |" for name, pct in prof.shop_functions],
            "",
        ]
        if prof.templates:
            lines += [
                "Templates, inclusive:",
                "",
                "| template | share |",
                "|---|---:|",
                *[f"| `{name}` | {pct}% |" for name, pct in prof.templates],
                "",
            ]
        lines += [
            "Where samples end (own time of one function):",
            "",
            "| function | share |",
            "|---|---:|",
            *[f"| `{name}` | {pct}% |" for name, pct in prof.hot_leaves],
            "",
        ]
    lines += [
        "## How it was measured",
        "",
        *machine.markdown_lines(result.machine),
        "- the ceiling and the shop run the same gunicorn settings on the same CPUs; wrk runs "
        "there too, and so does anything else busy on the machine at the time",
        "",
        "Run it again: `make shop-bench` (installs wrk with apt-get when it is missing), or "
        "`.venv/bin/python -m bench.loadtest bench [--duration 10] [--connections 20] "
        "[--profile auto|always|never]`. The figures are also in `build/bench/shop.json`.",
        "",
    ]
    return "\n".join(lines)
