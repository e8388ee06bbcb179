"""The floor of a build: stock Python-Markdown converting every page body, on 2 processes.

`python -m bench.floor [--pages 1000 5000] [--runs 5]` times, in turns within one run, three
commands on the same corpus (`bench.corpus`): our cold build (`--no-search`, no cache), the
floor, and Hugo. The floor is what any build with Python-Markdown as its engine pays at the
least: `--jobs` fresh Python processes (start-up and `import markdown` included), each reading
every `jobs`-th page, with one `markdown.Markdown()` (no extension) reset between pages, and
nothing written. Each command's wall time runs from its start to the exit of all its processes;
CPU time is the kernel's count for them all. Results: build/bench/floor.json; the median of
ours / floor is what issue 18 holds to 1.15.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT as ROOT
from bench.corpus import write_corpus

BENCH = ROOT / "build" / "bench"
RESULTS = BENCH / "floor.json"
JOBS = 2


# One converting process: only the standard library and Markdown, so the floor pays no more
# start-up than any build must.
_WORKER = """
import sys
from pathlib import Path
import markdown
part, parts, corpus = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
md = markdown.Markdown()
for path in sorted((corpus / "pages").rglob("*.md"))[part::parts]:
    text = path.read_text(encoding="utf-8")
    if text.startswith("---\\n"):
        text = text.split("\\n---\\n", 1)[1]
    md.reset()
    md.convert(text)
"""


def floor_command(corpus: Path, jobs: int = JOBS) -> list[str]:
    """One command that starts the `jobs` converting processes and waits for them."""
    code = (
        "import subprocess, sys\n"
        f"workers = [subprocess.Popen([sys.executable, '-c', {_WORKER!r}, str(i), '{jobs}', "
        f"{str(corpus)!r}]) for i in range({jobs})]\n"
        "sys.exit(max(w.wait() for w in workers))\n"
    )
    return [sys.executable, "-c", code]


def ours_command(corpus: Path, out: Path, jobs: int = JOBS) -> list[str]:
    return [
        sys.executable, "-m", "sitegen", "build", "--content", str(corpus), "--out", str(out),
        "--no-cache", "--no-search", "--jobs", str(jobs),
    ]  # fmt: skip


def hugo_command(corpus: Path, out: Path) -> list[str] | None:
    """Hugo's build of the same pages, with the site `bench.site_build` prepares, if present."""
    from bench.site_build import _hugo_command, _hugo_prepare

    if shutil.which("hugo") is None:
        return None
    _hugo_prepare(corpus, 0)
    return _hugo_command(corpus, 0, out)


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user and system, every process it waited for) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, usage.ru_utime + usage.ru_stime


def compare(pages: int, runs: int) -> dict[str, Any]:
    """Ours, the floor and Hugo at `pages`, taking turns `runs` times; medians and ratios."""
    corpus = BENCH / f"corpus-{pages}"
    write_corpus(pages, corpus)
    out = BENCH / "out" / "floor-run"
    commands = {
        "ours": ours_command(corpus, out / "ours"),
        "floor": floor_command(corpus),
    }
    hugo = hugo_command(corpus, out / "hugo")
    if hugo is not None:
        commands["hugo"] = hugo
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    ratios: list[float] = []
    for run in range(runs):
        for name, command in commands.items():
            shutil.rmtree(out, ignore_errors=True)
            wall, cpu = timed(command)
            walls[name].append(wall)
            cpus[name].append(cpu)
        ratios.append(walls["ours"][-1] / walls["floor"][-1])
        print(
            f"  {pages} pages, run {run + 1}: "
            + ", ".join(f"{n} {walls[n][-1]:.2f} s" for n in commands)
            + f"; ours / floor {ratios[-1]:.3f}",
            flush=True,
        )
    result: dict[str, Any] = {"pages": pages, "runs": runs}
    for name in commands:
        result[name] = {
            "wall_s": [round(w, 3) for w in walls[name]],
            "median_s": round(statistics.median(walls[name]), 3),
            "cpu_median_s": round(statistics.median(cpus[name]), 3),
        }
    result["ratio_runs"] = [round(r, 3) for r in ratios]
    result["ratio_median"] = round(statistics.median(ratios), 3)
    result["cpu_ratio"] = round(result["ours"]["cpu_median_s"] / result["floor"]["cpu_median_s"], 3)
    return result


def run(sizes: list[int], runs: int) -> dict[str, Any]:
    load_start = [round(x, 2) for x in os.getloadavg()]
    rows = [compare(pages, runs) for pages in sizes]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": len(os.sched_getaffinity(0)),
        "load_average_at_start": load_start,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
    }


def table(results: dict[str, Any]) -> list[str]:
    """The Markdown table of ours, the floor, their ratio and Hugo at each size."""
    lines = [
        "| pages | ours (s) | floor (s) | ours / floor, median of runs | CPU: ours / floor "
        "| Hugo (s) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        hugo = f"{row['hugo']['median_s']:.2f}" if "hugo" in row else "-"
        lines.append(
            f"| {row['pages']:,} | {row['ours']['median_s']:.2f} | {row['floor']['median_s']:.2f} "
            f"| {row['ratio_median']:.3f} | {row['cpu_ratio']:.3f} | {hugo} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--pages", type=int, nargs="+", default=[1_000, 5_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    BENCH.mkdir(parents=True, exist_ok=True)
    results = run(args.pages, args.runs)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"load average {results['load_average_at_start']} -> {results['load_average_at_end']}")
    print("\n".join(table(results)))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
