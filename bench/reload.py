"""From saving a Markdown file to the answer that shows it, on the live site of `make run`.

`python -m bench.reload [--edits 20]` copies the real content to build/bench/reload-content,
serves it with `python -m sitegen serve` (the app and live reload that `make run` mounts at /),
then, for each edit: requests a page once (as the open tab has it), appends a sentence to its
Markdown file, and requests the page until the sentence is in the answer. The time runs from
the file's close to that answer. The pages edited take turns: a KWA, a module page, a blog post
and the FAQ. Results: build/bench/reload.json; issue 18's goal is under 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT as ROOT

BENCH = ROOT / "build" / "bench"
RESULTS = BENCH / "reload.json"
CONTENT = BENCH / "reload-content"
GOAL_MS = 300
# Markdown files of the real content and the page that shows each.
PAGES = [
    ("kwa/green/recycling-reuse.md", "/modules/green/recycling-reuse/"),
    ("modules/safety.md", "/modules/safety/"),
    ("faq.md", "/faq/"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        body: bytes = answer.read()
        return body


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the site server stopped before it answered")
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url} within 60 s")


def one_edit(base: str, file: Path, page: str, number: int) -> tuple[float, int]:
    """Milliseconds from saving `file` to the first answer of `page` showing the edit; tries."""
    _get(base + page)  # the page as it was, served (and its content loaded) before the edit
    marker = f"Edited for the reload benchmark, number {number}."
    text = file.read_text(encoding="utf-8")
    with file.open("w", encoding="utf-8") as out:
        out.write(text.rstrip("\n") + f"\n\n{marker}\n")
    saved = time.perf_counter()
    tries = 0
    while True:
        tries += 1
        if marker.encode() in _get(base + page):
            return (time.perf_counter() - saved) * 1000, tries


def run(edits: int) -> dict[str, Any]:
    shutil.rmtree(CONTENT, ignore_errors=True)
    shutil.copytree(ROOT / "content", CONTENT)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "sitegen", "serve", "--content", str(CONTENT)]
    command += ["--port", str(port)]
    load_start = [round(x, 2) for x in os.getloadavg()]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    times: dict[str, list[float]] = {page: [] for _, page in PAGES}
    try:
        _wait_until_up(base + "/", server)
        for number in range(edits):
            name, page = PAGES[number % len(PAGES)]
            ms, tries = one_edit(base, CONTENT / name, page, number)
            times[page].append(ms)
            print(f"  edit {number + 1}: {name} -> {page} in {ms:.0f} ms ({tries} requests)")
    finally:
        server.terminate()
        server.wait(timeout=10)
    every = [ms for values in times.values() for ms in values]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": load_start,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "edits": edits,
        "median_ms": round(statistics.median(every), 1),
        "max_ms": round(max(every), 1),
        "by_page_median_ms": {p: round(statistics.median(v), 1) for p, v in times.items() if v},
        "all_ms": [round(ms, 1) for ms in every],
        "goal_ms": GOAL_MS,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reload", description=__doc__)
    parser.add_argument("--edits", type=int, default=21)
    args = parser.parse_args(argv)
    BENCH.mkdir(parents=True, exist_ok=True)
    results = run(args.edits)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(
        f"saved -> shown: median {results['median_ms']:.0f} ms, max {results['max_ms']:.0f} ms "
        f"over {results['edits']} edits (goal under {GOAL_MS} ms); load average "
        f"{results['load_average_at_start']} -> {results['load_average_at_end']}"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
