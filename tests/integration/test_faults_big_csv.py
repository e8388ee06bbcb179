"""A huge results file: read a row at a time, and imported in bounded memory.

The import is all or nothing (docs/results-import.md): every row is checked before anything is
written, so the records of the whole file are held at once; that is the design. What must not
happen is holding more than that: the file's text (it is read line by line), or an ORM object
per row while writing (rows go in with bulk INSERTs, a chunk at a time).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from shop import migrate
from shop.domain.program import load_program
from shop.services import results
from shop.services.results import from_csv

PROJECT = Path(__file__).parents[2]
PROGRAM = load_program(PROJECT / "content" / "program.toml")
GREEN = [kwa.slug for kwa in PROGRAM.module("green").kwas]
ROWS = 200_000
CANDIDATES = 2_000  # 100 attempts each: a credential per candidate is issued once per import
# What one row may cost while the import runs: its record (a slotted dataclass: ids, name,
# email, date, score and a dict of 5 KWA scores, about 0.8 KB measured) and the import's own
# bookkeeping per row; an ORM object per row (about 4 KB more) would not fit.
BYTES_PER_ROW = 1_280


def write_results(path: Path, rows: int, first: int = 0, candidates: int = CANDIDATES) -> None:
    """`rows` valid rows of Green Production attempts, spread over `candidates` candidates."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([*results.COLUMNS, *GREEN])
        for number in range(first, first + rows):
            person = number % candidates
            writer.writerow(
                [
                    f"A-{number:07d}",
                    f"C-{person:05d}",
                    f"Candidate {person}",
                    f"candidate{person}@example.com",
                    "green",
                    "2026-05-01",
                    "81.5",
                    "true" if number % 3 else "false",
                    70,
                    71.5,
                    72,
                    73,
                    74,
                ]
            )


class LineByLine:
    """A text file that may only be iterated, and checks that each row is handled as soon as it
    is read: a parser that read the whole file first (read(), readlines(), list(file)) fails."""

    def __init__(self, stream: Any, handled: list[int]) -> None:
        self._stream = stream
        self._handled = handled
        self.lines = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._stream:
            self.lines += 1
            # Line 1 is the header; by the time line n is read, rows up to n - 2 are handled.
            assert self._handled[0] >= self.lines - 2, (
                f"line {self.lines} read while only {self._handled[0]} rows were handled"
            )
            yield line

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the parser used {name!r} on the file instead of reading lines")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # reading: no database
def test_the_import_command_reads_the_file_a_row_at_a_time(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "results.csv"
    write_results(path, 3_000, candidates=30)
    handled = [0]
    wrapped: list[LineByLine] = []
    real_parse, real_record = results.parse_csv, from_csv._csv_record

    def count_rows(*args: Any, **kwargs: Any) -> Any:
        handled[0] += 1
        return real_record(*args, **kwargs)

    def parse_line_by_line(stream: Any, *args: Any) -> Any:
        assert hasattr(stream, "fileno")  # the file the command opened, not a copy of its text
        wrapped.append(LineByLine(stream, handled))
        return real_parse(wrapped[0], *args)

    # Seams: the command calls results.parse_csv, which calls from_csv._csv_record once per row.
    monkeypatch.setattr(results, "parse_csv", parse_line_by_line)
    monkeypatch.setattr(from_csv, "_csv_record", count_rows)

    outcome = runner.invoke(args=["results", "import", str(path)])

    assert outcome.exit_code == 0, outcome.output
    assert "3000 records: 3000 new" in outcome.output
    assert wrapped[0].lines == 3_001 and handled[0] == 3_000


def peak_rss_of(command: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """Run `command`; its peak resident memory in bytes (Linux reports KiB), output, seconds."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    with process.stdout:
        output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, output
    return usage.ru_maxrss * 1024, output, time.monotonic() - started


def test_200000_rows_import_in_bounded_memory(tmp_path: Path) -> None:
    """The real command in its own process, so that its peak memory is its own: once with one
    row (the baseline: Python, Flask, the shop), once with 200,000 rows (about 18 MB)."""
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate.upgrade(url)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FLASK_APP")}
    env["DATABASE_URL"] = url
    command = [sys.executable, "-m", "flask", "--app", "shop", "results", "import"]
    small, big = tmp_path / "one.csv", tmp_path / "big.csv"
    write_results(small, 1, first=ROWS)
    write_results(big, ROWS)

    baseline, _, _ = peak_rss_of([*command, str(small)], env)
    peak, output, seconds = peak_rss_of([*command, str(big)], env)

    growth = peak - baseline
    print(
        f"\n{ROWS} rows ({big.stat().st_size / 1e6:.1f} MB) imported in {seconds:.1f} s; "
        f"peak memory {peak / 1e6:.0f} MB, baseline {baseline / 1e6:.0f} MB, "
        f"{growth / ROWS:.0f} bytes a row"
    )
    assert f"{ROWS} records: {ROWS} new" in output
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from attempt")).scalar() == ROWS + 1
    engine.dispose()
    assert growth < ROWS * BYTES_PER_ROW, f"{growth / ROWS:.0f} bytes a row"
