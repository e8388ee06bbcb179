"""How long signing and verifying take, and how big the status list is:
`python -m bench.openbadges`.

Not a test: with a key made for the run (never saved), it signs one module credential, built
in memory as the verify page builds it, `--runs` times (after one warm-up run) and verifies it
as many times, and prints the median milliseconds of each; then the size of the status list,
empty and with `--revoked` random indexes set, encoded and as the signed JSON served.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shop.openbadges import status_list
from shop.openbadges.contexts import pinned_loader
from shop.openbadges.credential import Achievement, Holder, signed, unsigned_credential
from shop.openbadges.eddsa import only_proof, verify_proof
from shop.openbadges.keys import SigningKey

DID = "did:web:cpt.example.org"
LIST_URL = "https://cpt.example.org/shop/credentials/status/1"
AT = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)


def _median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: contexts read and resolved, code paths loaded
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def sample_credential() -> dict[str, object]:
    return unsigned_credential(
        credential_id="https://cpt.example.org/shop/verify/7KQ2-9XDM-4HTV-PA3R-W",
        title="Certified Production Technician: Safety module certificate",
        valid_from=dt.date(2026, 6, 1),
        achievement=Achievement(
            id="https://cpt.example.org/modules/safety/",
            name="Certified Production Technician: Safety module certificate",
            description="A module certificate of the CPT program.",
            criteria="Pass the Safety assessment. Its Key Work Activities: "
            + "; ".join(f"Key work activity {n}" for n in range(1, 8)),
            image="https://cpt.example.org/shop/badges/safety.png",
        ),
        holder=Holder("Ana Lopez", "ana@example.com", "0f" * 16),
        issuer_did=DID,
        issuer_name="Certified Production Technician program",
        site_url="https://cpt.example.org",
        status=status_list.entry(LIST_URL, 4242),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--revoked", type=int, default=1000)
    args = parser.parse_args(argv)
    key = SigningKey(Ed25519PrivateKey.generate(), development=True)
    loader = pinned_loader()
    document = sample_credential()

    def sign() -> dict[str, object]:
        return signed(document, key, issuer_did=DID, created=AT, loader=loader)

    badge = sign()
    proof = only_proof(badge)
    assert verify_proof(badge, proof, key.public, loader)
    print(f"sign one credential:   median {_median_ms(sign, args.runs):.1f} ms ({args.runs} runs)")
    verify_ms = _median_ms(lambda: verify_proof(badge, proof, key.public, loader), args.runs)
    print(f"verify one credential: median {verify_ms:.1f} ms ({args.runs} runs)")
    print(f"signed credential: {len(json.dumps(badge))} bytes of JSON")
    chosen = random.Random(1).sample(range(status_list.MIN_ENTRIES), args.revoked)
    for label, revoked in (("empty", []), (f"{args.revoked} revoked", chosen)):
        unsigned = status_list.list_credential(LIST_URL, DID, revoked, AT)
        encoded = unsigned["credentialSubject"]["encodedList"]
        made = signed(unsigned, key, issuer_did=DID, created=AT, loader=loader)
        print(
            f"status list ({status_list.MIN_ENTRIES} entries, {label}): encodedList "
            f"{len(encoded)} characters, signed JSON {len(json.dumps(made))} bytes"
        )


if __name__ == "__main__":
    main()
