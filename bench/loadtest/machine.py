"""What a run was measured on: the machine, the date and the versions."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sqlite3
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = ("Flask", "gunicorn", "SQLAlchemy", "psycopg", "Jinja2", "Werkzeug", "locust")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu_model": cpu_model(),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **{f"version:{k}": v for k, v in versions.items()},
    }


def markdown_lines(info: dict[str, str], extra: dict[str, str] | None = None) -> list[str]:
    """The machine as a short list, for the reports."""
    versions = ", ".join(
        f"{k.removeprefix('version:')} {v}" for k, v in info.items() if k.startswith("version:")
    )
    lines = [
        f"- measured: {info['date']}",
        f"- machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory']} of memory, "
        f"{info['system']}; the load generator runs on the same CPUs as the servers",
        f"- software: Python {info['python']}, SQLite {info['sqlite']}, {versions}",
    ]
    for key, value in (extra or {}).items():
        lines.append(f"- {key}: {value}")
    return lines
