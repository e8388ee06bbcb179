"""`make bench`: our build against Hugo, Pelican and MkDocs on one synthetic corpus.

Each tool builds the same Markdown files (`python -m bench.corpus`) with an equivalent minimal
template: one HTML page per file and one list of all pages. Every build is a fresh process,
timed from start to exit; the tools take turns, so a busy machine slows them all alike. It
installs nothing: `make bench` provides Hugo (Debian) and a venv with Pelican and MkDocs.
Results: build/bench/results.json and docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT as ROOT
from bench.corpus import page_path, write_corpus
from sitegen import TEMPLATES
from sitegen.render import EXTENSIONS as OUR_EXTENSIONS

BENCH = ROOT / "build" / "bench"
VENV_BIN = BENCH / "venv" / "bin"
RESULTS = BENCH / "results.json"
DOCUMENTS = BENCH / "documents.json"  # written by bench.documents (make bench)
FLOOR = BENCH / "floor.json"  # by bench.floor
RELOAD = BENCH / "reload.json"  # by bench.reload
REPORT = ROOT / "docs" / "performance.md"
SIZES = (200, 1_000, 5_000)
RUNS = {200: 5, 1_000: 5, 5_000: 3}
OURS = "sitegen"
REBUILDS = {
    "unchanged": "sitegen: rebuild, nothing changed",
    "one_page": "sitegen: rebuild, one page edited",
    "template": "sitegen: rebuild, template changed",
}


@dataclass(frozen=True)
class Tool:
    """A generator under test: how to make it ready for a corpus, and the command of one build."""

    name: str
    version: str
    prepare: Callable[[Path, int], None]
    command: Callable[[Path, int, Path], list[str]]


@dataclass(frozen=True)
class Measure:
    runs: tuple[float, ...]  # wall seconds
    cpu: tuple[float, ...]  # CPU seconds (user and system) of all its processes
    peak_mb: float  # the most memory all its processes held at once, over the runs

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


# -- running one build ---------------------------------------------------------------------------


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak memory (MB) of one command, which must succeed.

    CPU time is the kernel's count for the command and every process it waited for: less
    disturbed than wall time by other work on the machine.

    Memory is the resident size summed over the command's processes, sampled every 20 ms
    from /proc/<pid>/statm (counters only: reading smaps would stall a busy process), and at
    least the largest process's peak, which the kernel reports exactly. The sum counts pages
    that forked workers share with their parent once per process: an upper bound for ours.
    """
    log = BENCH / "last-command.log"
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        done = threading.Event()
        peak = [0]

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], sum(_rss_kb(pid) for pid in _tree(process.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{log.read_text(errors='replace')}")
    return seconds, usage.ru_utime + usage.ru_stime, max(peak[0], usage.ru_maxrss) / 1024


def _tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
                pending += [int(child) for child in children.split()]
        except OSError:
            continue  # it ended meanwhile
    return found


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0  # it ended meanwhile


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    if done.returncode != 0:
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0].split(" from /")[0]


# -- the tools -----------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <meta name="description" content="{description}">
</head>
<body>
  <nav><a href="/">All pages</a></nav>
  <main>
    <h1>{title}</h1>
    <p>{description}</p>
    {content}
  </main>
</body>
</html>
"""
LIST = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>All pages</title>
</head>
<body>
  <main>
    <h1>All pages</h1>
    <ul>
      {loop}
      <li><a href="{url}">{title}</a> {description}</li>
      {end}
    </ul>
  </main>
</body>
</html>
"""
# The Markdown extensions our build uses, for the two tools that use Python-Markdown too.
EXTENSIONS = list(OUR_EXTENSIONS)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _hugo_prepare(corpus: Path, pages: int) -> None:
    site = BENCH / "hugo"
    _write(
        site / "config.toml",
        'baseURL = "https://example.org/"\n'
        # Only the pages and the home page's list: no feeds, sitemap, taxonomies or sections.
        'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404", "section"]\n',
    )
    layouts = site / "layouts" / "_default"
    _write(
        layouts / "single.html",
        PAGE.format(
            title="{{ .Title }}", description="{{ .Description }}", content="{{ .Content }}"
        ),
    )
    loop = "{{- range .Site.RegularPages }}"
    _write(
        layouts / "list.html",
        LIST.format(
            loop=loop,
            url="{{ .RelPermalink }}",
            title="{{ .Title }}",
            description="{{ .Description }}",
            end="{{- end }}",
        ),
    )


def _hugo_command(corpus: Path, pages: int, out: Path) -> list[str]:
    site = BENCH / "hugo"
    return [
        "hugo", "--quiet", "--source", str(site), "--contentDir", str(corpus / "pages"),
        "--destination", str(out),
    ]  # fmt: skip


def _pelican_prepare(corpus: Path, pages: int) -> None:
    site = BENCH / "pelican"
    _write(
        site / "theme" / "templates" / "page.html",
        PAGE.format(
            title="{{ page.title }}",
            description="{{ page.description }}",
            content="{{ page.content }}",
        ),
    )
    _write(
        site / "theme" / "templates" / "index.html",
        LIST.format(
            loop="{%- for page in pages %}",
            url="/{{ page.url }}",
            title="{{ page.title }}",
            description="{{ page.description }}",
            end="{%- endfor %}",
        ),
    )
    markdown: dict[str, dict[str, Any]] = {f"markdown.extensions.{n}": {} for n in EXTENSIONS}
    settings = {
        "AUTHOR": "bench",
        "SITENAME": "bench",
        "SITEURL": "",
        "TIMEZONE": "UTC",
        "DEFAULT_LANG": "en",
        "PAGE_PATHS": ["pages"],
        "ARTICLE_PATHS": [],
        "STATIC_PATHS": [],
        "PATH_METADATA": r"pages/(?P<slug>.*)\.md",  # a page at the path of its file, like ours
        "PAGE_URL": "{slug}/",
        "PAGE_SAVE_AS": "{slug}/index.html",
        "THEME": str(site / "theme"),
        "THEME_STATIC_PATHS": [],
        "DIRECT_TEMPLATES": ["index"],
        "DEFAULT_PAGINATION": False,
        "CACHE_CONTENT": False,
        "LOAD_CONTENT_CACHE": False,
        "MARKDOWN": {"extension_configs": markdown, "output_format": "html"},
    }
    off = ["FEED_ALL_ATOM", "CATEGORY_FEED_ATOM", "TRANSLATION_FEED_ATOM", "AUTHOR_FEED_ATOM"]
    settings |= dict.fromkeys([*off, "AUTHOR_FEED_RSS"])
    for kind in ("TAG", "CATEGORY", "AUTHOR", "ARCHIVES", "CATEGORIES", "TAGS", "AUTHORS"):
        settings[f"{kind}_SAVE_AS"] = ""
    for period in ("YEAR", "MONTH", "DAY"):
        settings[f"{period}_ARCHIVE_SAVE_AS"] = ""
    _write(site / "pelicanconf.py", "".join(f"{k} = {v!r}\n" for k, v in settings.items()))


def _pelican_command(corpus: Path, pages: int, out: Path) -> list[str]:
    conf = BENCH / "pelican" / "pelicanconf.py"
    return [str(VENV_BIN / "pelican"), str(corpus), "-s", str(conf), "-o", str(out), "-q"]


def _mkdocs_prepare(corpus: Path, pages: int) -> None:
    site = BENCH / "mkdocs"
    theme = site / "theme"
    _write(
        theme / "main.html",
        PAGE.format(
            title="{{ page.title }}",
            description="{{ page.meta.description }}",
            content="{{ page.content }}",
        ),
    )
    _write(
        theme / "index.html",
        LIST.format(
            loop="{%- for file in pages %}",
            url="/{{ file.url }}",
            title="{{ file.page.title }}",
            description="{{ file.page.meta.description }}",
            end="{%- endfor %}",
        ),
    )
    config = {
        "site_name": "bench",
        "docs_dir": str(corpus / "pages"),
        "use_directory_urls": True,
        "theme": {"name": None, "custom_dir": str(theme), "static_templates": ["index.html"]},
        "plugins": [],  # no search index, as for the others
        "markdown_extensions": EXTENSIONS,
    }
    _write(site / f"mkdocs-{pages}.yml", json.dumps(config, indent=2) + "\n")  # JSON is YAML


def _mkdocs_command(corpus: Path, pages: int, out: Path) -> list[str]:
    config = BENCH / "mkdocs" / f"mkdocs-{pages}.yml"
    return [str(VENV_BIN / "mkdocs"), "build", "-q", "-f", str(config), "-d", str(out)]


def _ours_command(corpus: Path, pages: int, out: Path, *, search: bool = False) -> list[str]:
    command = [sys.executable, "-m", "sitegen", "build", "--content", str(corpus)]
    command += ["--out", str(out), "--cache", str(out.parent / f"{out.name}-cache")]
    command += ["--templates", str(BENCH / "templates")]
    return command if search else [*command, "--no-search"]


def _tools() -> list[Tool]:
    from importlib.metadata import version

    ours = f"sitegen (Python {platform.python_version()}, Markdown {version('Markdown')})"
    tools = [
        Tool(OURS, ours, lambda c, n: None, _ours_command),
        Tool(
            "sitegen + search index",
            f"{ours}, pagefind {version('pagefind')}",
            lambda c, n: None,
            lambda c, n, o: _ours_command(c, n, o, search=True),
        ),
        Tool("hugo", _version(["hugo", "version"]), _hugo_prepare, _hugo_command),
        Tool(
            "pelican",
            _version([str(VENV_BIN / "pelican"), "--version"]),
            _pelican_prepare,
            _pelican_command,
        ),
        Tool(
            "mkdocs",
            _version([str(VENV_BIN / "mkdocs"), "--version"]),
            _mkdocs_prepare,
            _mkdocs_command,
        ),
    ]
    missing = [t.name for t in tools if not t.version]
    if missing:
        raise SystemExit(f"missing: {', '.join(missing)}; `make bench` installs them")
    return tools


# -- the runs ------------------------------------------------------------------------------------


def _fresh(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _cold(tools: list[Tool], corpus: Path, pages: int) -> dict[str, Measure]:
    """Clean builds, the tools taking turns."""
    times: dict[str, list[float]] = {t.name: [] for t in tools}
    cpus: dict[str, list[float]] = {t.name: [] for t in tools}
    peaks: dict[str, float] = dict.fromkeys(times, 0.0)
    for tool in tools:
        tool.prepare(corpus, pages)
    for run in range(RUNS[pages]):
        for tool in tools:
            out = BENCH / "out" / tool.name.replace(" ", "-")
            _fresh(out, out.parent / f"{out.name}-cache")
            seconds, cpu, peak = measure(tool.command(corpus, pages, out))
            times[tool.name].append(seconds)
            cpus[tool.name].append(cpu)
            peaks[tool.name] = max(peaks[tool.name], peak)
            print(f"  {pages} pages, run {run + 1}: {tool.name} {seconds:.2f} s", flush=True)
    return {name: Measure(tuple(times[name]), tuple(cpus[name]), peaks[name]) for name in times}


def _rebuilds(corpus: Path, pages: int) -> tuple[dict[str, Measure], bool]:
    """Our rebuilds over the last clean build; and whether each equals a clean build."""
    out = BENCH / "out" / OURS
    command = _ours_command(corpus, pages, out)
    measure(command)  # the cache the rebuilds start from
    edited = corpus / "pages" / page_path(pages // 2 + 1)
    template = BENCH / "templates" / "plain" / "page.html"
    original_page, original_template = edited.read_text(), template.read_text()
    results: dict[str, Measure] = {}
    identical = True
    edits: dict[str, Callable[[int], object]] = {
        "unchanged": lambda run: None,
        "one_page": lambda run: edited.write_text(original_page + f"\nEdited in run {run}.\n"),
        "template": lambda run: template.write_text(original_template + f"<!-- {run} -->\n"),
    }
    try:
        for name, edit in edits.items():
            times, cpus, peak = [], [], 0.0
            for run in range(RUNS[pages]):
                edit(run)
                seconds, cpu, used = measure(command)
                times.append(seconds)
                cpus.append(cpu)
                peak = max(peak, used)
            results[name] = Measure(tuple(times), tuple(cpus), peak)
            identical &= _same_as_clean(corpus, pages, out)
            print(f"  {pages} pages: {REBUILDS[name]} {statistics.median(times):.2f} s", flush=True)
    finally:
        edited.write_text(original_page)
        template.write_text(original_template)
    return results, identical


def _same_as_clean(corpus: Path, pages: int, out: Path) -> bool:
    clean = BENCH / "out" / "clean"
    _fresh(clean, clean.parent / "clean-cache")
    measure(_ours_command(corpus, pages, clean))
    return _digest(out) == _digest(clean)


def _markdown_alone(corpus: Path) -> float:
    """CPU seconds per page to convert the corpus's Markdown with our renderer, one process."""
    from sitegen.content import load_plain_site
    from sitegen.render import BodyRenderer

    sources = [page.source for page in load_plain_site(corpus).pages]
    renderer = BodyRenderer(None)
    started = time.process_time()
    for source in sources:
        renderer.render(source)
    return (time.process_time() - started) / len(sources)


def _stock_markdown_alone(corpus: Path) -> float:
    """CPU seconds per page for Python-Markdown as it comes, with no extension (so no tables,
    no heading ids) and nothing else: what any build that converts with it pays, at the least."""
    import markdown

    from sitegen.content import load_plain_site

    bodies = [page.source.body for page in load_plain_site(corpus).pages]
    md = markdown.Markdown()
    started = time.process_time()
    for body in bodies:
        md.reset()
        md.convert(body)
    return (time.process_time() - started) / len(bodies)


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- the report ----------------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    memory = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_mb": memory,
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _row(name: str, pages: int, m: Measure, hugo: Measure) -> dict[str, Any]:
    return {
        "tool": name,
        "pages": pages,
        "median_s": round(m.median, 3),
        "runs_s": [round(r, 3) for r in m.runs],
        "cpu_median_s": round(statistics.median(m.cpu), 3),
        "pages_per_s": round(pages / m.median),
        "peak_mb": round(m.peak_mb),
        "ratio_to_hugo": round(m.median / hugo.median, 2),
    }


def _goals(rows: list[dict[str, Any]], identical: bool) -> list[dict[str, Any]]:
    at = {(r["tool"], r["pages"]): r["median_s"] for r in rows}
    cpu = {(r["tool"], r["pages"]): r["cpu_median_s"] for r in rows}
    n = max(SIZES)

    def goal(text: str, value: str, met: bool) -> dict[str, Any]:
        return {"goal": text, "measured": value, "met": met}

    ours, hugo = at[(OURS, n)], at[("hugo", n)]
    pelican, mkdocs = at[("pelican", n)], at[("mkdocs", n)]
    template = at[(REBUILDS["template"], n)]
    unchanged, one = at[(REBUILDS["unchanged"], n)], at[(REBUILDS["one_page"], n)]
    return [
        goal(
            f"cold full build of {n:,} pages within 2 times Hugo's time",
            f"{ours:.2f} s vs Hugo {hugo:.2f} s: {ours / hugo:.2f} times (CPU time: "
            f"{cpu[(OURS, n)]:.1f} s vs {cpu[('hugo', n)]:.1f} s)",
            ours <= 2 * hugo,
        ),
        goal(
            "at least twice as fast as Pelican and MkDocs",
            f"Pelican {pelican / ours:.1f} times our time, MkDocs {mkdocs / ours:.1f} times",
            pelican >= 2 * ours and mkdocs >= 2 * ours,
        ),
        goal(
            "after a template change (Markdown cached), faster than Hugo's full build",
            f"{template:.2f} s vs Hugo {hugo:.2f} s",
            template < hugo,
        ),
        goal(
            f"at {n:,} pages, a rebuild with nothing changed under 1 s",
            f"{unchanged:.2f} s",
            unchanged < 1,
        ),
        goal(
            f"at {n:,} pages, a rebuild after editing one page under 1 s", f"{one:.2f} s", one < 1
        ),
        goal(
            "every rebuild byte-identical to a clean build",
            "identical" if identical else "DIFFERENT",
            identical,
        ),
    ]


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| tool | pages | wall time, median (s) | pages/s | ratio to Hugo | CPU time (s) "
        "| peak memory (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['tool']} | {r['pages']:,} | {r['median_s']:.2f} | {r['pages_per_s']:,} "
            f"| {r['ratio_to_hugo']:.2f} | {r['cpu_median_s']:.2f} | {r['peak_mb']:,} |"
        )
    return lines


def _reading(results: dict[str, Any]) -> list[str]:
    """What bounds a clean build, in this run's own numbers."""
    n = SIZES[-1]
    row = {r["tool"]: r for r in results["rows"] if r["pages"] == n}
    ours, hugo = row[OURS], row["hugo"]
    markdown = results["markdown_cpu_ms_per_page"]
    floor = markdown * n / 1000
    return [
        f"At {n:,} pages our clean build used {ours['cpu_median_s']:.1f} s of CPU in "
        f"{ours['median_s']:.1f} s, so {ours['cpu_median_s'] / ours['median_s']:.1f} CPUs on "
        f"average, of {results['machine']['cpus']} (it keeps them all busy when nothing else "
        "runs). "
        f"Converting the Markdown alone took {markdown:.2f} ms of CPU per page (Python-Markdown "
        f"with our extensions, then nh3, in one process): {floor:.1f} s for {n:,} pages, so at "
        f"least {floor / results['machine']['cpus']:.1f} s on {results['machine']['cpus']} CPUs "
        f"before anything else, against {hugo['cpu_median_s']:.1f} s of CPU for Hugo's whole "
        f"build. Pelican and MkDocs convert the same Markdown in one process.",
        "",
        *_floor(results, hugo["median_s"]),
    ]


def _floor(results: dict[str, Any], hugo: float) -> list[str]:
    """What Python-Markdown costs as it comes, against the cold-build goal."""
    n, cpus = SIZES[-1], results["machine"]["cpus"]
    stock = results["stock_markdown_cpu_ms_per_page"]
    wall = stock * n / 1000 / cpus
    verdict = (
        "more than the whole goal allows, before a page is written"
        if wall > 2 * hugo
        else "within the goal, with the rest of the build to fit beside it"
    )
    return [
        f"Python-Markdown as it comes, with no extension at all (no tables, no heading ids), "
        f"converting the same pages in one process reset between them, takes {stock:.2f} ms "
        f"of CPU per page: {wall:.1f} s on {cpus} CPUs for {n:,} pages if they shared the work "
        f"perfectly, against {2 * hugo:.1f} s for twice Hugo's build: {verdict}. While "
        "Python-Markdown parses every page with its own code (the issue keeps it as the "
        "engine), a cold build is bounded by this figure, whatever the rest of the build does.",
    ]


def _documents(figures: dict[str, Any] | None) -> list[str]:
    """The PDF documents' timings, from `python -m bench.documents --json` (make bench)."""
    lines = ["## Documents", ""]
    if not figures:
        return [*lines, f"Not measured in this run ({DOCUMENTS.name} was missing).", ""]
    lines += [
        f"`python -m bench.documents`, run by `make bench` just before the builds "
        f"(measured {figures['date']}): each "
        f"document rendered once to warm up, then {figures['runs']} times; the median wall "
        "time of one render (WeasyPrint, fonts and templates loaded, no cache). The KWA "
        "document is the site's, of one module; the others are the shop's, for one holder.",
        "",
        "| document | render time, median | size |",
        "|---|---:|---:|",
        *(
            f"| {name} | {d['median_ms']:.0f} ms | {d['kib']} KiB |"
            for name, d in figures["documents"].items()
        ),
        "",
    ]
    batch = figures.get("batch")
    if batch:
        count, seconds = batch["count"], batch["seconds"]
        lines += [
            f"{count:,} different certificates (a name and a verify id each): "
            + "; ".join(
                f"{seconds[p]:.1f} s on {p} process{'es' if p != '1' else ''} "
                f"({count / seconds[p]:.1f} a second)"
                for p in sorted(seconds)
            )
            + ".",
            "",
        ]
    lines += [
        "The site's KWA documents are rendered again only when their inputs change: they are "
        "cached by a hash of their HTML and the files it loads, so a rebuild that changes no "
        "module's pages renders none (the build tests count the renders).",
        "",
    ]
    return lines


def _floor_section(floor: dict[str, Any] | None) -> list[str]:
    """Ours against the floor (stock Python-Markdown on 2 processes), from bench.floor."""
    from bench.floor import table

    lines = ["## The floor: stock Python-Markdown on 2 processes (issue 18)", ""]
    if not floor:
        return [*lines, f"Not measured in this run ({FLOOR.name} was missing).", ""]
    return [
        *lines,
        f"`python -m bench.floor`, run by `make bench` (measured {floor['date']}, load average "
        f"{floor['load_average_at_start']} at the start, {floor['load_average_at_end']} at the "
        f"end, on {floor['cpus']} CPUs). The floor is {floor['cpus']} fresh Python processes, "
        "each converting every other page body with one `markdown.Markdown()` (no extension) "
        "reset between pages, writing nothing. Ours is a cold `python -m sitegen build "
        "--no-cache --no-search --jobs 2` of the same corpus: front matter, our extensions, "
        "nh3, templates, every file written and every link checked. The three take turns, "
        f"{floor['rows'][0]['runs']} times; the ratio is the median of each turn's ratio, "
        "and CPU time (all processes) is the steadier figure on a busy machine. The goal: "
        "ours / floor at most 1.15.",
        "",
        *table(floor),
        "",
    ]


def _reload_section(reload: dict[str, Any] | None) -> list[str]:
    """From saving a Markdown file to the live site's answer, from bench.reload."""
    lines = ["## Live reload (`make run`)", ""]
    if not reload:
        return [*lines, f"Not measured in this run ({RELOAD.name} was missing).", ""]
    pages = ", ".join(f"{p} {ms:.0f} ms" for p, ms in reload["by_page_median_ms"].items())
    return [
        *lines,
        f"`python -m bench.reload` (measured {reload['date']}, load average "
        f"{reload['load_average_at_start']}): {reload['edits']} edits of the real content, "
        "each timed from closing the saved Markdown file to the first answer of its page that "
        f"shows the edit. Median {reload['median_ms']:.0f} ms, at most "
        f"{reload['max_ms']:.0f} ms (goal: under {reload['goal_ms']} ms); by page: {pages}.",
        "",
    ]


def _report(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        "# Build performance",
        "",
        "Written by `make bench` (`python -m bench.site_build`); do not edit by hand.",
        "",
        f"Measured {results['date']} on {machine['cpus']} CPUs ({machine['cpu']}), "
        f"{machine['memory_mb']:,} MB of memory, Python {machine['python']}, {machine['system']}. "
        f"Load average at the start {machine['load_average_at_start']}, at the end "
        f"{machine['load_average_at_end']}: other work on the machine slows every tool; the "
        "tools take turns, so the ratios hold better than the times.",
        "",
        "Tools: " + "; ".join(f"{name}: {v}" for name, v in results["versions"].items()) + ".",
        "",
        "## Results",
        "",
        "Each tool builds the same synthetic corpus (`python -m bench.corpus --pages N`): "
        "module- and KWA-style Markdown pages with YAML front matter, headings, lists, a table "
        "and internal links, into one HTML page per file with an equivalent minimal template, "
        "plus one list of all pages. Wall time runs from process start to exit; median of "
        f"{RUNS[SIZES[0]]} runs at {SIZES[0]:,} and {SIZES[1]:,} pages, {RUNS[SIZES[-1]]} at "
        f"{SIZES[-1]:,}. Peak memory is the resident size summed over a tool's processes (ours "
        "forks two workers that share most pages with their parent, so its sum is an upper "
        "bound). CPU time (median, user and system, all processes) is less disturbed than wall "
        "time by other work on the machine. "
        "`sitegen` runs with `--no-search`, as the others build no search index; "
        "`sitegen + search index` adds pagefind, as the real site's build does. Rebuilds "
        "start from the last build and its cache (`--cache`); each is checked byte for byte "
        "against a clean build.",
        "",
        *_table(results["rows"]),
        "",
        *_reading(results),
        "",
        "## The goals of issue #7",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
        *(
            f"| {g['goal']} | {g['measured']} | {'yes' if g['met'] else '**no**'} |"
            for g in results["goals"]
        ),
        "",
        *_floor_section(results.get("floor")),
        *_reload_section(results.get("reload")),
        *_documents(results.get("documents")),
        "## What makes it fast",
        "",
        "- Pages are rendered straight from their templates (`sitegen.build`), not requested one "
        "by one from Flask through Frozen-Flask; the views are the app's own (`app.ROUTES`), "
        "and a test holds the output to Frozen-Flask's, byte for byte.",
        "- Two worker processes, forked from the loaded site, each with one Python-Markdown "
        "instance reset between pages; Markdown is most of a clean build's time. They are sent "
        "work in chunks that shrink as it runs out: few messages, and no worker left alone "
        "with a long chunk at the end.",
        "- Before each page is parsed, a plan (`sitegen.render`) gives Python-Markdown only "
        "the inline patterns, block processors and treeprocessors that the page's text can "
        "use: a code span "
        "needs a backtick, a link a bracket, an HTML tag a `<`, a reference link a definition. "
        "Python-Markdown tries every pattern on every run of text otherwise; the plan gives "
        "the same HTML (a test holds it to Markdown's own) for about 40% fewer instructions "
        "on this corpus.",
        "- A cache keyed by content (`--cache`, default build/cache/): each converted body in a "
        "file of its own, named by a hash of its text; each output by a hash of the generator's "
        "code, the templates, the program data, the Markdown it shows and, for lists and menus, "
        "every file's front matter. A template change renders every page without converting "
        "any Markdown; an edited body renders that page (and the feed or documents that include "
        "it); an edited title renders the pages that list it.",
        "- Files are written only when their bytes change, and checked by size and time "
        "against the cache, so an unchanged tree costs a read of the sources and a stat of "
        "each output; links are checked from each page's cached links and ids, in memory. A "
        "changed file is written over its old bytes, not truncated first: ext4 flushes a file "
        "truncated to nothing to the disk when it is closed, which made rewriting every page "
        "after a template change several times slower.",
        "- Parsed front matter is cached by its text; WeasyPrint and Flask are imported only "
        "when a build needs them; pagefind runs only when a page changed.",
        "",
        "## Reproduce",
        "",
        "```sh",
        ".venv/bin/python -m bench.corpus --pages 5000 --out /tmp/corpus",
        ".venv/bin/python -m sitegen build --content /tmp/corpus --out /tmp/site --no-search",
        "make bench   # the documents, then every tool at every size: about thirteen minutes",
        "```",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    BENCH.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    tools = _tools()
    _fresh(BENCH / "templates", BENCH / "out")
    shutil.copytree(TEMPLATES, BENCH / "templates")  # the rebuilds change this copy
    rows: list[dict[str, Any]] = []
    identical = True
    for pages in SIZES:
        corpus = BENCH / f"corpus-{pages}"
        write_corpus(pages, corpus)
        cold = _cold(tools, corpus, pages)
        rebuilds, same = _rebuilds(corpus, pages)
        identical &= same
        hugo = cold["hugo"]
        rows += [_row(name, pages, m, hugo) for name, m in cold.items()]
        rows += [_row(REBUILDS[name], pages, m, hugo) for name, m in rebuilds.items()]
    markdown = _markdown_alone(BENCH / f"corpus-{SIZES[-1]}")
    stock = _stock_markdown_alone(BENCH / f"corpus-{SIZES[-1]}")
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    goals = _goals(rows, identical)
    documents = json.loads(DOCUMENTS.read_text()) if DOCUMENTS.is_file() else None
    floor = json.loads(FLOOR.read_text()) if FLOOR.is_file() else None
    reload = json.loads(RELOAD.read_text()) if RELOAD.is_file() else None
    results = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "versions": {t.name: t.version for t in tools if t.name != "sitegen + search index"},
        "runs": RUNS,
        "rows": rows,
        "identical_to_clean_builds": identical,
        "markdown_cpu_ms_per_page": round(markdown * 1000, 3),
        "stock_markdown_cpu_ms_per_page": round(stock * 1000, 3),
        "documents": documents,
        "floor": floor,
        "reload": reload,
        "goals": goals,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    REPORT.write_text(_report(results), encoding="utf-8")
    print("\n".join(_table(rows)))
    print()
    for g in goals:
        print(f"{'met' if g['met'] else 'NOT MET':>8}: {g['goal']}: {g['measured']}")
    print(f"written to {RESULTS} and {REPORT}")


if __name__ == "__main__":
    main()
