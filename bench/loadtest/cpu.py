"""CPU time per request of a page, measured in this process through Flask's test client.

wrk's figures mix the page's own cost with queueing, gunicorn and the other processes on the
machine; this is the cost alone: no socket, no HTTP parsing, one thread. Dividing the
machine's CPUs by it bounds the requests per second any server setting could reach.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from flask import Flask

from shop import db
from shop.clock import now
from shop.services import sessions
from shop.web.session import cookie_for

BATCHES = 5
PER_BATCH = 200
WARM_UP = 20


@dataclass(frozen=True, slots=True)
class CpuCost:
    name: str
    path: str
    ms: float  # CPU milliseconds per request, median of the batches

    @property
    def bound_rps(self) -> float:
        """The most requests per second this machine's CPUs allow at this cost."""
        return (os.cpu_count() or 1) * 1000.0 / self.ms if self.ms else 0.0


def cpu_cost(app: Flask, name: str, path: str, candidate_id: int | None = None) -> CpuCost:
    """The median CPU time of GET `path` (signed in as `candidate_id` when given)."""
    client = app.test_client()
    if candidate_id is not None:
        with app.app_context(), db.transaction() as tx:
            at = now()
            cookie = cookie_for(sessions.start(tx, candidate_id, at), at)
        with client.session_transaction("/shop/") as session:
            session.update(cookie)
    for _ in range(WARM_UP):
        status = client.get(path).status_code
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}, not 200: nothing to measure")
    batches = []
    for _ in range(BATCHES):
        start = time.process_time()
        for _ in range(PER_BATCH):
            client.get(path)
        batches.append((time.process_time() - start) * 1000.0 / PER_BATCH)
    return CpuCost(name, path, statistics.median(batches))
