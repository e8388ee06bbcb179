"""How long each document takes to render: `python -m bench.documents`.

Not a test: it renders every document once to warm up (fonts, templates, the mark), then
`--runs` more times (10 by default) and prints the median milliseconds of each, the site's KWA
document of one module too. With `--batch N` it then renders N different certificates on 1
and on 2 processes and prints the wall time of each batch. The rows are built in memory (never
saved), so it needs no database and no app.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import multiprocessing
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT
from shop.documents import render
from shop.domain.program import Program, load_program
from shop.models import Attempt, Candidate, Credential, Order, OrderItem

SAMPLE_URL = "https://cpt.example.org/shop/verify/7KQ2-9XDM-4HTV-PA3R-7"
_AT = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)


def sample_documents(program: Program) -> dict[str, Callable[[], bytes]]:
    """A renderer of each document, for a made-up candidate (nothing touches a database)."""
    candidate = Candidate(
        id=1, reference="C-00001", name="Ana Lopez", email="ana@example.com", created_at=_AT
    )

    def credential(kind: str, module: str) -> Credential:
        return Credential(
            verify_id="7KQ2-9XDM-4HTV-PA3R-7",
            candidate_id=1,
            kind=kind,
            module=module,
            earned_on=dt.date(2026, 6, 1),
            holder_name=candidate.name,
            issued_at=_AT,
            edition=1,
        )

    module = program.modules[0]
    attempt = Attempt(
        reference="A-00042",
        candidate_id=1,
        module=module.id,
        taken_on=dt.date(2026, 6, 1),
        score=81.0,
        passed=True,
        kwa_scores={kwa.slug: 55.0 + 5 * i for i, kwa in enumerate(module.kwas)},
        recorded_at=_AT,
    )
    order = Order(
        public_id="ord_0123456789abcdef",
        candidate_id=1,
        status="paid",
        currency="usd",
        total_cents=8000,
        created_at=_AT,
        paid_at=_AT,
        updated_at=_AT,
        shipping_address={
            "name": "Ana Lopez",
            "address": {
                "line1": "1 Main St",
                "city": "Dayton",
                "state": "OH",
                "postal_code": "45402",
                "country": "US",
            },
        },
        items=[
            OrderItem(
                sku="assessment-fee-quality",
                kind="assessment_fee",
                module="quality",
                name="Quality Practices & Measurement assessment fee",
                unit_price_cents=6000,
                quantity=1,
                physical=False,
            ),
            OrderItem(
                sku="certificate-print-safety",
                kind="certificate_print",
                module="safety",
                name="Safety certificate, printed",
                unit_price_cents=2000,
                quantity=1,
                physical=True,
            ),
        ],
    )
    certificate = credential("module_certificate", module.id)
    full = credential("full_certification", "")
    return {
        "certificate": lambda: render.certificate_pdf(certificate, program, SAMPLE_URL),
        "full-certification": lambda: render.full_certification_pdf(full, program, SAMPLE_URL),
        "wallet-card": lambda: render.wallet_card_pdf(full, program, SAMPLE_URL),
        "diagnostic-report": lambda: render.diagnostic_report_pdf(
            attempt, module, candidate, program
        ),
        "receipt": lambda: render.receipt_pdf(order, candidate, program),
    }


def kwa_document(module_id: str) -> Callable[[], bytes]:
    """The site's KWA document of one module, rendered afresh each time (no cache)."""
    from sitegen.app import create_app

    app = create_app({"PDF_CACHE_DIR": None})
    client = app.test_client()

    def make() -> bytes:
        pdf: bytes = client.get(f"/documents/kwa-{module_id}.pdf").data
        return pdf

    return make


@functools.cache
def _program() -> Program:
    return load_program(PROJECT_ROOT / "content" / "program.toml")


def _certificate(number: int) -> int:
    """Render the certificate of made-up holder `number`; returns its size (worker function)."""
    program = _program()
    credential = Credential(
        verify_id=f"{number:04d}-9XDM-4HTV-PA3R-W",
        candidate_id=number,
        kind="module_certificate",
        module=program.modules[number % len(program.modules)].id,
        earned_on=dt.date(2026, 6, 1),
        holder_name=f"Holder Number {number}",
        issued_at=_AT,
        edition=1,
    )
    return len(render.certificate_pdf(credential, program, SAMPLE_URL))


def batch(count: int, processes: int) -> float:
    """Seconds to render `count` different certificates on `processes` processes."""
    start = time.perf_counter()
    if processes == 1:
        for number in range(count):
            _certificate(number)
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_certificate, range(count), chunksize=10)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed renders of each document")
    parser.add_argument("--batch", type=int, default=0, help="also render N certificates")
    parser.add_argument("--program", type=Path, default=PROJECT_ROOT / "content" / "program.toml")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    program = load_program(args.program)
    print(f"median of {args.runs} renders after one warm-up, per document")
    documents = sample_documents(program)
    documents[f"kwa-{program.modules[0].id} (site)"] = kwa_document(program.modules[0].id)
    figures: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": args.runs,
        "documents": {},
        "batch": {},
    }
    for name, make in documents.items():
        size = len(make())  # warm-up
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            make()
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        figures["documents"][name] = {"median_ms": round(median, 1), "kib": round(size / 1024)}
        print(f"{name:22} {median:7.1f} ms  ({size / 1024:.0f} KiB)")
    if args.batch:
        _certificate(0)  # warm-up before forking, so both runs start from the same state
        figures["batch"] = {"count": args.batch, "seconds": {}}
        for processes in (1, 2):
            seconds = batch(args.batch, processes)
            figures["batch"]["seconds"][str(processes)] = round(seconds, 2)
            print(
                f"{args.batch} certificates on {processes} process(es): {seconds:6.1f} s "
                f"({args.batch / seconds:.1f} per second)"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"written to {args.json}")


if __name__ == "__main__":
    main()
