"""`make bench`: time the site build of the real content, cold and with nothing changed.

Wall times are medians of several runs in this process; results go to build/bench/results.json.
"""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from .app import DEFAULT_CONTENT
from .build import build

RUNS = 3
RESULTS = DEFAULT_CONTENT.parent / "build" / "bench" / "results.json"


def _time_build(content: Path, out: Path, cache: Path) -> tuple[float, int]:
    started = time.perf_counter()
    result = build(content, out, cache_dir=cache)
    return time.perf_counter() - started, result.pages


def main() -> None:
    cold: list[float] = []
    warm: list[float] = []
    pages = 0
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            seconds, pages = _time_build(DEFAULT_CONTENT, root / "out", root / "cache")
            cold.append(seconds)
            warm.append(_time_build(DEFAULT_CONTENT, root / "out", root / "cache")[0])
            shutil.rmtree(root / "out")
    results = {
        "machine": f"{platform.node()} ({platform.machine()}, Python {platform.python_version()})",
        "pages": pages,
        "runs": RUNS,
        "cold_build_median_s": round(statistics.median(cold), 3),
        "unchanged_rebuild_median_s": round(statistics.median(warm), 3),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"{'build':<28}{'median (s)':>12}{'pages/s':>10}")
    for label, times in (("cold (no document cache)", cold), ("nothing changed", warm)):
        median = statistics.median(times)
        print(f"{label:<28}{median:>12.2f}{pages / median:>10.0f}")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
