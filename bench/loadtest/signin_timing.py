"""python -m bench.loadtest.signin_timing: how long POST /shop/signin takes for an address on
file and for one that is not, in process (the Flask test client, SQLite in a temporary folder),
with mail sent as in production: over SMTP from the shop's mail thread, to an SMTP server in a
process of its own (aiosmtpd's discarding Sink on 127.0.0.1).

Requests for the two addresses are interleaved in a shuffled order (seeded: the same each
run), so that both see the same warm caches and neither always follows the other, with a pause
after each (PAUSE_SECONDS) so that the mail a known address sends from its thread has left
before the next request is timed. Printed, in milliseconds: the medians (and the 90th
percentiles) of the wall time, and the median CPU time of the thread that answered (which a
busy machine's other processes do not disturb).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.loadtest.stack import free_port
from shop import create_app, db, migrate
from shop.models import Candidate

PAUSE_SECONDS = 0.06  # longer than the mail thread's start delay (shop.mail.Outgoing)
KNOWN = "known@example.com"
UNKNOWN = "unknown@example.com"


@contextlib.contextmanager
def smtp_sink() -> Iterator[int]:
    """An SMTP server that accepts and discards every message, in another process; its port."""
    port = free_port()
    argv = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
    process = subprocess.Popen([*argv, "-l", f"127.0.0.1:{port}"])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def measure(requests: int, folder: Path, smtp_port: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, thread CPU) milliseconds per sign-in request, by kind of address."""
    url = f"sqlite:///{folder / 'shop.sqlite3'}"
    migrate.upgrade(url)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SHOP_URL": "http://localhost",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
            "WTF_CSRF_ENABLED": False,
            "MAIL_IN_BACKGROUND": True,
            "SIGNIN_RATE_LIMIT": "1000000 per hour",
        }
    )
    with app.app_context(), db.transaction() as session:
        session.add(
            Candidate(
                reference="C-TIMING",
                name="Tim Ing",
                email=KNOWN,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    client = app.test_client()
    times: dict[str, list[tuple[float, float]]] = {"known": [], "unknown": []}
    order = [("known", KNOWN), ("unknown", UNKNOWN)] * (requests + 10)
    random.Random(13).shuffle(order)
    for number, (kind, address) in enumerate(order):
        start, cpu = time.perf_counter(), time.thread_time()
        response = client.post("/shop/signin", data={"email": address})
        elapsed = (time.perf_counter() - start) * 1000, (time.thread_time() - cpu) * 1000
        assert response.status_code == 302, response.status_code
        time.sleep(PAUSE_SECONDS)
        if number >= 20:  # the first ones warm up imports and caches
            times[kind].append(elapsed)
    app.extensions["shop.outgoing_mail"]._for_this_process().shutdown(wait=True)
    app.extensions["db.engine"].dispose()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest.signin_timing")
    parser.add_argument("--requests", type=int, default=300, help="per kind of address")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, smtp_sink() as port:
        times = measure(args.requests, Path(folder), port)
    for kind, pairs in times.items():
        wall = [w for w, _ in pairs]
        p90 = statistics.quantiles(wall, n=10)[-1]
        cpu = statistics.median(c for _, c in pairs)
        print(
            f"{kind:8} median {statistics.median(wall):.2f} ms, p90 {p90:.2f} ms, "
            f"CPU {cpu:.2f} ms ({len(pairs)} requests)"
        )


if __name__ == "__main__":
    main()
