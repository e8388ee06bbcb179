"""How long each stage of a build took: `python -m sitegen build --timings` prints it at the end."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (the build's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def since_process_start() -> float | None:
    """Wall seconds since this process started (Linux), so start-up counts; None elsewhere."""
    try:
        with open("/proc/self/stat", "rb") as file:
            # The command name (field 2) may hold spaces: count the fields after its ")".
            started_ticks = int(file.read().rpartition(b")")[2].split()[19])
        with open("/proc/uptime", "rb") as file:
            uptime = float(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, uptime - started_ticks / os.sysconf("SC_CLK_TCK"))


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    wall: float  # seconds
    cpu: float  # seconds of every process of the build, workers included
    note: str = ""


@dataclass
class Timings:
    """The stages of one build, in the order they ran."""

    stages: list[Stage] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[list[str]]:
        """Time the block as stage `name`; what it appends to the list it gets becomes a note."""
        note: list[str] = []
        wall, cpu = time.perf_counter(), cpu_seconds()
        try:
            yield note
        finally:
            self.add(name, time.perf_counter() - wall, cpu_seconds() - cpu, "; ".join(note))

    def add(self, name: str, wall: float, cpu: float, note: str = "") -> None:
        self.stages.append(Stage(name, wall, cpu, note))

    def table(self) -> str:
        """The stages as aligned lines, then their total."""
        width = max([len(s.name) for s in self.stages] + [len("total")])
        lines = [f"{'stage':<{width}}  {'wall':>8}  {'cpu':>8}"]
        for s in self.stages:
            note = f"  {s.note}" if s.note else ""
            lines.append(f"{s.name:<{width}}  {s.wall:7.3f}s  {s.cpu:7.3f}s{note}")
        wall = sum(s.wall for s in self.stages)
        cpu = sum(s.cpu for s in self.stages)
        lines.append(f"{'total':<{width}}  {wall:7.3f}s  {cpu:7.3f}s")
        return "\n".join(lines)
