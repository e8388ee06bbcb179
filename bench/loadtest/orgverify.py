"""The time of a 5,000-row bulk verification (issue 16): `python -m bench.loadtest.orgverify`.

A fresh database (SQLite in a temporary folder, or --database URL, e.g. an empty PostgreSQL
schema) is migrated and given 3,000 credentials (one in ten revoked); an organisation's member
then posts a 5,000-row CSV (3,000 found with names and emails to match, 1,000 typos in the check
character, 500 unknown ids, 500 that are not ids) to the page, asking for the CSV download,
through Flask's test client: the whole request, from the multipart body to the CSV answer, with
the lookup counted. The same rows are timed through the JSON API. Prints the median, minimum
and maximum of --runs runs of each, after one run not counted.

A benchmark to run by hand, not a timed test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from shop import create_app, db, migrate
from shop.domain import verify_id
from shop.models import Candidate, Credential
from shop.services import organisations

NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
FOUND, TYPOS, UNKNOWN, NOT_IDS = 3000, 1000, 500, 500


def _seed(app: Flask) -> tuple[str, str, list[str]]:
    """The organisation's id, an API key and the CSV's lines."""
    lines = ["id,name,email"]
    with app.app_context(), db.transaction() as session:
        organisation = organisations.create(
            session, "Bench Co", "hr@bench.example", "hr@bench.example", by="bench", now=NOW
        )
        _, key = organisations.create_api_key(session, organisation, by="bench", now=NOW)
        for n in range(FOUND):
            person = Candidate(
                reference=f"B-{n}", name=f"Person {n}", email=f"p{n}@example.com", created_at=NOW
            )
            session.add(person)
            session.flush()
            credential = Credential(
                verify_id=verify_id.make(secrets.randbits(80)),
                candidate_id=person.id,
                kind="module_certificate",
                module="safety",
                earned_on=dt.date(2026, 3, 2),
                holder_name=f"Person {n}",
                issued_at=NOW,
                status_index=n,
                identity_salt=secrets.token_hex(16),
                revoked_at=NOW if n % 10 == 0 else None,
            )
            session.add(credential)
            lines.append(f"{credential.verify_id},Person {n},p{n}@example.com")
            if n < TYPOS:
                lines.append(f"{_mistyped(credential.verify_id)},,")
        lines += [f"{verify_id.make(secrets.randbits(80))},," for _ in range(UNKNOWN)]
        lines += [f"not-an-id-{n},," for n in range(NOT_IDS)]
        return organisation.public_id, key, lines


def _mistyped(real: str) -> str:
    """`real` with its check character mistyped."""
    return real[:-1] + ("A" if real[-1] != "A" else "B")


def _timed(work: Callable[[], None], runs: int) -> list[float]:
    work()  # warm: templates compiled, caches filled
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-secret-key-bench-secret-key",
                "WTF_CSRF_ENABLED": False,
                "OUTBOX_DIR": Path(folder) / "outbox",
                "ORG_VERIFY_RATE_LIMIT": "1000 per minute",
            }
        )
        public_id, key, lines = _seed(app)
        body = "\n".join(lines).encode()
        rows = [
            dict(zip(("id", "name", "email"), line.split(","), strict=True)) for line in lines[1:]
        ]
        client = app.test_client()
        with client.session_transaction("/shop/") as cookie:
            cookie["member_email"] = "hr@bench.example"

        def page() -> None:
            answer = client.post(
                f"/shop/org/{public_id}/verify",
                data={"file": (io.BytesIO(body), "staff.csv"), "format": "csv"},
                content_type="multipart/form-data",
            )
            assert answer.status_code == 200 and answer.data.count(b"\n") == len(lines)

        def api() -> None:
            answer = client.post(
                "/shop/api/org/verify",
                json={"rows": rows},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert answer.status_code == 200 and len(answer.get_json()["rows"]) == len(rows)

        print(
            f"bulk verification of {len(rows):,} rows on {url.split(':')[0]}, {arguments.runs} runs"
        )
        for name, work in (("page, CSV download", page), ("JSON API", api)):
            seconds = _timed(work, arguments.runs)
            print(
                f"  {name:<20} median {statistics.median(seconds) * 1000:7.0f} ms"
                f"  (min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f})"
            )
        app.extensions["db.engine"].dispose()


if __name__ == "__main__":
    main()
