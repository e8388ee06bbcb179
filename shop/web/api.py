"""Machine APIs: the assessment system posts results here (see docs/results-import.md).

`POST /shop/api/results` is authenticated by an HMAC-SHA256 signature over the raw body and a
timestamp, with a secret shared with the assessment system (config RESULTS_API_SECRET):

    X-CPT-Timestamp: 1781539200
    X-CPT-Signature: sha256=<hex of HMAC-SHA256(secret, b"1781539200." + body)>

The signature is checked on the raw bytes before anything is parsed, and a timestamp further than
RESULTS_API_MAX_AGE_SECONDS from now (either way) is refused, so a captured request cannot be
replayed later. Inside that window the signature is the request's id: a request recorded once is
refused the second time (409), so a replay cannot put back a candidate's older details. Nothing
is written unless the signature and every record are valid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from shop import db
from shop.clock import now, today
from shop.services import program, results

blueprint = Blueprint("api", __name__, url_prefix="/shop/api")

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-CPT-Timestamp"
SIGNATURE_HEADER = "X-CPT-Signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")


@blueprint.post("/results")
def post_results() -> ResponseReturnValue:
    """Record a batch of results: 200 with counts, or an error and nothing written."""
    body = request.get_data(cache=False)
    max_age = int(current_app.config["RESULTS_API_MAX_AGE_SECONDS"])
    refusal = signature_problem(
        body,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        secret=current_app.config["RESULTS_API_SECRET"],
        now=int(now().timestamp()),
        max_age=max_age,
    )
    if refusal is not None:
        log.warning("results API: refused a request from %s: %s", request.remote_addr, refusal)
        return jsonify(error=refusal), 401
    request_id = _signature_hex(request.headers[SIGNATURE_HEADER])

    try:
        payload = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return jsonify(error="the body is not JSON"), 400
    current = program.current()
    try:
        records, problems = results.parse_json(payload, current, today())
    except results.MalformedPayload as error:
        return jsonify(error=str(error)), 400

    session = db.session()
    if problems:
        # Report the conflicts of the valid records too, so one round trip shows every problem.
        problems = [*problems, *results.find_conflicts(session, records)]
        session.rollback()
        return _rejected(problems)
    try:
        summary = results.import_records(
            session,
            records,
            now=now(),
            program=current,
            source="api",
            time_zone=current_app.config["TIME_ZONE"],
            request=results.SignedRequest(
                request_id,
                # A timestamp up to max_age ahead of the clock stays acceptable for 2 x max_age.
                remembered_for=dt.timedelta(seconds=2 * max_age),
            ),
        )
    except results.ResultsRejected as rejected:
        return _rejected(rejected.problems)
    except results.RequestReplayed as replayed:
        log.warning("results API: refused a replayed request from %s", request.remote_addr)
        return jsonify(
            error=f"this request (the same signature) was already recorded at "
            f"{replayed.received_at.isoformat()}: nothing was written. To send the batch "
            "again, sign it again with a new timestamp."
        ), 409
    log.info(
        "results API: %d records, %d new, %d already recorded, details changed for %d",
        summary.records,
        summary.created,
        summary.already_recorded,
        len(summary.details_changed),
    )
    return jsonify(
        records=summary.records,
        created=summary.created,
        already_recorded=summary.already_recorded,
        authorizations_used=summary.authorizations_used,
        names_kept=summary.names_kept,
        details_changed=list(summary.details_changed),
        older_details_ignored=list(summary.older_details_ignored),
    )


def signature_problem(
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    secret: str,
    now: int,
    max_age: int,
) -> str | None:
    """Why the request's signature is not acceptable, or None when it is."""
    if not secret:
        return "the results API has no secret configured"
    if timestamp is None:
        return f"missing {TIMESTAMP_HEADER} header"
    if signature is None:
        return f"missing {SIGNATURE_HEADER} header"
    if not _TIMESTAMP.fullmatch(timestamp):
        return f"{TIMESTAMP_HEADER} must be whole unix seconds"
    given = _SIGNATURE.fullmatch(signature.strip().lower())
    expected = hmac.new(
        secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256
    ).hexdigest()
    if given is None or not hmac.compare_digest(given.group(1), expected):
        return "bad signature"
    if abs(now - int(timestamp)) > max_age:
        return f"stale timestamp: more than {max_age} seconds from the server's clock"
    return None


def _signature_hex(signature: str) -> str:
    """The hex digest of a signature header signature_problem accepted."""
    found = _SIGNATURE.fullmatch(signature.strip().lower())
    if found is None:
        raise ValueError("the signature was not checked first")  # signature_problem matched it
    return found.group(1)


def _rejected(problems: list[results.RecordProblem]) -> ResponseReturnValue:
    return jsonify(errors=[str(p) for p in results.in_order(problems)]), 422


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
