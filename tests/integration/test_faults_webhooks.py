"""Stripe webhooks under fault: forged, stale and re-serialised requests, events in every order,
a storm of redeliveries, a handler that fails half-way, a refund Stripe cannot take.

The shop is served on a real socket (webhooks are HTTP); its orders are made straight in the
database with a Checkout Session id, as checkout leaves them, so no Stripe is needed: every
order here is eligible when paid, so nothing is refunded and Stripe is never called (it points
at a closed port: a call fails the request), except in the test of a refund that cannot be made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from factories import shop_config
from fault_helpers import MadeOrder, checkout_event, count_rows, pending_orders, statuses
from flask import Flask
from sqlalchemy import select
from stripe_helpers import WEBHOOK_SECRET, serving, signed

from shop import create_app, db
from shop.models import Authorization, Order, OrderItem, OrderStatus, Shipment, StripeEvent
from shop.payments import webhooks

COMPLETED = "checkout.session.completed"
SUCCEEDED = "checkout.session.async_payment_succeeded"
FAILED = "checkout.session.async_payment_failed"


@pytest.fixture
def shop(
    database_url: str, clock: Callable[[], dt.datetime], tmp_path: Path
) -> Iterator[tuple[Flask, str]]:
    """The shop on 127.0.0.1, with Stripe unreachable (these tests must never need it)."""
    app = create_app(
        shop_config(
            database_url,
            clock,
            tmp_path,
            STRIPE_API_BASE="http://127.0.0.1:9",
            STRIPE_SECRET_KEY="sk_test_shop",
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
    )
    with serving(app) as base:
        yield app, base
    app.extensions["db.engine"].dispose()


def deliver(base: str, body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return requests.post(
        f"{base}/shop/stripe/webhook", data=body, headers=headers, timeout=60
    ).status_code


def nothing_written(app: Flask, order: MadeOrder) -> bool:
    return (
        count_rows(app, StripeEvent) == 0
        and count_rows(app, Authorization) == 0
        and statuses(app, [order.public_id]) == {order.public_id: OrderStatus.PENDING}
    )


def mac(body: bytes, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def forged_signatures(body: bytes, now: int) -> list[str | None]:
    """100 Stripe-Signature headers that must all be refused for `body`."""
    good = mac(body, now)
    flipped = [
        f"t={now},v1={good[:i]}{'0' if good[i] != '0' else '1'}{good[i + 1 :]}" for i in range(64)
    ]
    other_body = mac(body + b" ", now)
    made: list[str | None] = [
        None,  # no header at all
        "",
        "t=0,v1=0",
        "t=,v1=",
        f"t={now}",
        f"v1={good}",  # no timestamp
        f"t={now},v0={good}",  # a scheme Stripe does not sign with
        f"t={now},v1={good.upper()}",
        f"t={now},v1={good[:-1]}",  # one digit short
        f"t={now},v1={good}0",  # one digit long
        f"t={now + 1},v1={good}",  # the mac of another timestamp
        f"t={now - 1},v1={good}",
        f"t={now},v1={other_body}",  # the mac of another body
        f"t={now},v1={mac(body, now, 'whsec_wrong')}",
        f"t={now},v1={mac(body, now, WEBHOOK_SECRET + 'x')}",
        f"t={now},v1={mac(body, now, WEBHOOK_SECRET[:-1])}",
        f"t={now},v1={mac(body, now, '')}",
        f"t={now},v1={hashlib.sha256(body).hexdigest()}",  # a plain hash, no key
        f"t={now},v1={'0' * 64}",
        f"t=abc,v1={good}",
        f"t={now};v1={good}",  # wrong separator
        f"v1={good},t=x",
        f"t={now},v1=",
        "garbage",
        "t=1,v1=1,v1=2,v1=3",
        f"t={now},v1={good.encode().hex()[:64]}",
        f"t={now},v2={good}",
        f"T={now},V1={good}",  # header keys are lowercase
        f"t={now} ,v1={good}x",
        f"t={now},v1={'g' * 64}",  # not hex
        f"t={now},v1={'é' * 32}",
        f"t=-{now},v1={good}",
        f"t={now}.0,v1={good}",
        f"t={now},v1=,v1={other_body}",  # (one good v1 among several would pass: rotation)
        f"t={now},v1={mac(body, now, 'whsec_offline')}",  # the shop's default secret
        f"t={now},v1={mac(b'', now)}",  # the mac of an empty body
    ]
    made += flipped[: 100 - len(made)]
    assert len(made) == 100 and len(set(made)) == 100
    return made


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before the DB
def test_100_bad_or_missing_signatures_get_400_and_write_nothing(
    shop: tuple[Flask, str], clock: Callable[[], dt.datetime]
) -> None:
    app, base = shop
    [order] = pending_orders(app, 1, clock(), sku="assessment-fee-safety")
    body = json.dumps(checkout_event(order, COMPLETED, paid=True)).encode()
    now = int(time.time())  # Stripe's library checks the timestamp against the real clock

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda s: deliver(base, body, s), forged_signatures(body, now)))

    assert answers == [400] * 100
    assert nothing_written(app, order)
    # The same body, signed properly, is accepted: what was refused was only the signature.
    assert deliver(base, body, f"t={now},v1={mac(body, now)}") == 200
    assert count_rows(app, Authorization) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before the DB
def test_stale_timestamps_get_400_and_write_nothing(
    shop: tuple[Flask, str], clock: Callable[[], dt.datetime]
) -> None:
    app, base = shop
    [order] = pending_orders(app, 1, clock(), sku="assessment-fee-safety")
    event = checkout_event(order, COMPLETED, paid=True)
    now = int(time.time())
    # Correctly signed, but too long ago: Stripe's tolerance is 300 s.
    for at in (now - 301, now - 3600, now - 86_400, 0):
        body, signature = signed(event, at=at)
        assert deliver(base, body, signature) == 400, at
    assert nothing_written(app, order)
    body, signature = signed(event, at=now - 240)  # within the tolerance
    assert deliver(base, body, signature) == 200


def reserialised(body: bytes) -> list[bytes]:
    """The same event as other bytes: what a proxy that re-encodes JSON would forward."""
    event = json.loads(body)
    return [
        json.dumps(event, indent=2).encode(),
        json.dumps(event, sort_keys=True).encode(),
        json.dumps(event, separators=(",", ":")).encode(),
        json.dumps(dict(reversed(list(event.items())))).encode(),
        body + b"\n",
        b" " + body,
        body.replace(b": ", b":"),
        json.dumps(event, ensure_ascii=False).encode("utf-16"),
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before the DB
def test_a_reserialised_body_gets_400_and_writes_nothing(
    shop: tuple[Flask, str], clock: Callable[[], dt.datetime]
) -> None:
    app, base = shop
    [order] = pending_orders(app, 1, clock(), sku="assessment-fee-safety")
    body, signature = signed(checkout_event(order, COMPLETED, paid=True))
    variants = reserialised(body)
    assert all(v != body for v in variants)
    assert all(
        json.loads(v.decode("utf-16" if v[:2] == b"\xff\xfe" else "utf-8")) == json.loads(body)
        for v in variants
    )

    assert [deliver(base, v, signature) for v in variants] == [400] * len(variants)
    assert nothing_written(app, order)
    assert deliver(base, body, signature) == 200  # the bytes as signed


# -- events in every order ----------------------------------------------------------------------

PERMUTATIONS = list(itertools.permutations((COMPLETED, SUCCEEDED, FAILED)))
PAIRS = [
    *itertools.permutations((COMPLETED, SUCCEEDED)),
    *itertools.permutations((COMPLETED, FAILED)),
    *itertools.permutations((SUCCEEDED, FAILED)),
]


def expected_outcome(events: tuple[str, ...]) -> str:
    """Paid if the payment succeeded before any failure; failed if it failed first.

    `completed` here is a delayed payment's (payment_status "unpaid"): it only says "processing".
    Stripe sends one of succeeded/failed per session; should both come, the first decides and
    the other is a late message: a paid order is never undone by it, a failed one never filled.
    """
    decisive = [e for e in events if e in (SUCCEEDED, FAILED)]
    return OrderStatus.PAID if decisive[0] == SUCCEEDED else OrderStatus.FAILED


def expected_answers(events: tuple[str, ...]) -> list[int]:
    """The webhook's answer to each event, sent twice over: 200, except for a payment that
    succeeds after the order failed. That money cannot be kept, so the shop refunds it at once;
    Stripe is unreachable here, so the event is refused (503) and waits for redelivery."""
    decisive = [e for e in events if e in (SUCCEEDED, FAILED)]
    too_late = decisive == [FAILED, SUCCEEDED]
    answers = [503 if too_late and e == SUCCEEDED else 200 for e in events]
    return answers + answers


def short(events: tuple[str, ...]) -> str:
    return "-then-".join(e.rsplit(".", 1)[1] for e in events)


def deliver_in_order(base: str, order: MadeOrder, events: tuple[str, ...]) -> list[int]:
    """Each event of the sequence, then each once more: Stripe redelivers what it is unsure of."""
    sent = [
        signed(
            checkout_event(
                order, kind, paid=kind == SUCCEEDED, event_id=f"evt_{order.public_id}_{i}"
            )
        )
        for i, kind in enumerate(events)
    ]
    return [deliver(base, body, signature) for body, signature in sent + sent]


def fulfilled(app: Flask, order: MadeOrder) -> int:
    """Authorizations given for the order (its only item is an assessment fee)."""
    with app.app_context():
        return len(
            db.session()
            .scalars(select(Authorization).where(Authorization.candidate_id == order.candidate_id))
            .all()
        )


def check_outcome(app: Flask, order: MadeOrder, events: tuple[str, ...]) -> None:
    expected = expected_outcome(events)
    assert statuses(app, [order.public_id]) == {order.public_id: expected}, short(events)
    assert fulfilled(app, order) == (1 if expected == OrderStatus.PAID else 0), short(events)
    with app.app_context():
        paid_at = (
            db.session()
            .scalars(select(Order.paid_at).where(Order.public_id == order.public_id))
            .one()
        )
    assert (paid_at is not None) == (expected == OrderStatus.PAID), short(events)


# One event after the other: a state machine, the same on both databases (the pairs below and
# the storm run on both).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("events", PERMUTATIONS, ids=[short(o) for o in PERMUTATIONS])
def test_the_three_events_in_any_order_leave_the_right_state_and_fulfil_at_most_once(
    shop: tuple[Flask, str], clock: Callable[[], dt.datetime], events: tuple[str, ...]
) -> None:
    app, base = shop
    [order] = pending_orders(app, 1, clock(), sku="assessment-fee-safety")
    assert deliver_in_order(base, order, events) == expected_answers(events)
    check_outcome(app, order, events)
    assert count_rows(app, StripeEvent) == expected_answers(events).count(200) // 2


def test_two_of_the_events_in_either_order_leave_the_right_state_and_fulfil_at_most_once(
    shop: tuple[Flask, str], clock: Callable[[], dt.datetime]
) -> None:
    """completed(unpaid)+succeeded: paid once; completed(unpaid)+failed: failed; succeeded then
    failed: paid stays paid (and failed then succeeded: failed, never filled, its money to be
    refunded when Stripe can be reached)."""
    app, base = shop
    orders = pending_orders(app, len(PAIRS), clock(), sku="assessment-fee-safety")
    for order, events in zip(orders, PAIRS, strict=True):
        assert deliver_in_order(base, order, events) == expected_answers(events), short(events)
    for order, events in zip(orders, PAIRS, strict=True):
        check_outcome(app, order, events)
    recorded = sum(expected_answers(events).count(200) // 2 for events in PAIRS)
    assert count_rows(app, StripeEvent) == recorded


# -- a storm --------------------------------------------------------------------------------------


def storm_events(orders: list[MadeOrder]) -> tuple[list[dict[str, Any]], set[str], set[str]]:
    """200 distinct events about 150 orders; the orders that end paid and those that end failed.

    100 orders: `completed`, paid at once. 40: `completed` (delayed payment) then
    `async_payment_succeeded`. 10: `completed` (delayed) then `async_payment_failed`.
    """
    assert len(orders) == 150
    events: list[dict[str, Any]] = []
    for order in orders[:100]:
        events.append(checkout_event(order, COMPLETED, paid=True))
    for order in orders[100:140]:
        events.append(checkout_event(order, COMPLETED, paid=False))
        events.append(checkout_event(order, SUCCEEDED, paid=True))
    for order in orders[140:]:
        events.append(checkout_event(order, COMPLETED, paid=False))
        events.append(checkout_event(order, FAILED, paid=False))
    paid = {o.public_id for o in orders[:140]}
    failed = {o.public_id for o in orders[140:]}
    return events, paid, failed


def test_a_storm_of_2000_deliveries_of_200_events_fulfils_each_paid_order_once(
    shop: tuple[Flask, str], clock: Callable[[], dt.datetime]
) -> None:
    app, base = shop
    orders = pending_orders(app, 150, clock())  # small patches: a Shipment is a fulfilment
    events, paid, failed = storm_events(orders)
    assert len({e["id"] for e in events}) == 200
    deliveries = [signed(e) for e in events] * 10  # 2,000 deliveries, each event 10 times
    random.Random(6).shuffle(deliveries)
    local = threading.local()

    def send(delivery: tuple[bytes, str]) -> int:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        body, signature = delivery
        return int(
            local.http.post(
                f"{base}/shop/stripe/webhook",
                data=body,
                headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                timeout=120,
            ).status_code
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:  # 20 deliveries in flight at a time
        answers = Counter(pool.map(send, deliveries))
    elapsed = time.monotonic() - started
    print(
        f"\nstorm ({app.config['DATABASE_URL'].split(':')[0]}): 2000 deliveries of 200 events "
        f"in {elapsed:.1f} s, answers {dict(answers)}"
    )

    assert answers == {200: 2000}
    assert count_rows(app, StripeEvent) == 200
    final = statuses(app, [o.public_id for o in orders])
    assert {p for p, s in final.items() if s == OrderStatus.PAID} == paid
    assert {p for p, s in final.items() if s == OrderStatus.FAILED} == failed
    with app.app_context():
        shipped = db.session().scalars(
            select(Order.public_id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .join(Shipment, Shipment.order_item_id == OrderItem.id)
        )
        per_order = Counter(shipped)
    assert per_order == dict.fromkeys(paid, 1)  # fulfilments = the unique paid sessions


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refund_that_cannot_reach_stripe_gets_503_and_writes_nothing(
    shop: tuple[Flask, str], clock: Callable[[], dt.datetime]
) -> None:
    """Paid, but for another amount than the order's: the shop refunds at once. Stripe is
    unreachable here, so the event is answered 503 and rolled back: Stripe delivers it again."""
    app, base = shop
    [order] = pending_orders(app, 1, clock(), sku="assessment-fee-safety")
    event = checkout_event(order, COMPLETED, paid=True)
    event["data"]["object"]["amount_total"] = order.total_cents - 1
    body, signature = signed(event)

    assert deliver(base, body, signature) == 503
    assert nothing_written(app, order)


# -- a handler that fails after it wrote ----------------------------------------------------------


def test_a_handler_failing_after_its_writes_rolls_everything_back_and_redelivery_fulfils_once(
    shop: tuple[Flask, str],
    clock: Callable[[], dt.datetime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, base = shop
    [order] = pending_orders(app, 1, clock(), sku="assessment-fee-safety")
    body, signature = signed(checkout_event(order, COMPLETED, paid=True))
    real = webhooks.HANDLERS[COMPLETED]
    wrote: list[int] = []

    def fulfil_then_fail(context: webhooks.Context, data: Mapping[str, Any]) -> None:
        # The fault is injected through the dispatch table (webhooks.HANDLERS), a real seam:
        # the real handler runs (fulfilment flushes the paid order and its authorization into
        # the transaction), then this raises, as a crash or a lost database connection would.
        real(context, data)
        wrote.append(len(context.session.scalars(select(Authorization)).all()))
        raise RuntimeError("injected after fulfilment's flush")

    monkeypatch.setitem(webhooks.HANDLERS, COMPLETED, fulfil_then_fail)
    assert deliver(base, body, signature) == 500
    assert wrote == [1]  # the authorization had been written inside the transaction...
    assert nothing_written(app, order)  # ...and is gone with the event id and the status

    monkeypatch.undo()  # the fault is gone; Stripe redelivers the same event
    assert deliver(base, body, signature) == 200
    assert deliver(base, body, signature) == 200
    assert statuses(app, [order.public_id]) == {order.public_id: OrderStatus.PAID}
    assert count_rows(app, Authorization) == 1
    assert count_rows(app, StripeEvent) == 1
