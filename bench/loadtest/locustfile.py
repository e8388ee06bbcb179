"""The virtual users of `make reliability`, for locust (`locust -f bench/loadtest/locustfile.py`).

Loaded by locust only (it patches the standard library with gevent); `bench.loadtest.reliability`
runs it and sets its environment:

    LOADTEST_DATA     folder with candidates.json, verify_ids.json and site_pages.json (seed.py)
    LOADTEST_OUTBOX   the SMTP sink's folder: one sub-folder of token files per address
    LOADTEST_SITE     the static site's address (python -m http.server over build/site)
    LOADTEST_STRIPE   the offline Stripe's address: where checkout must send the visitor
    LOADTEST_THINK    think time between steps, "min,max" seconds (default 0.2,0.6)

Each virtual user is one candidate (user n takes candidate n: there must be at least as many
candidates as users, so that two users never share a mailbox) and goes round this journey for
as long as the run lasts, a think time before each step:

1. reads 3 pages of the static site (chosen at random);
2. signs in for real: the form, asks for a link (the shop mails it through SMTP to the sink),
   takes the token from its mailbox, opens the link and confirms, landing on its dashboard
   (GET /shop/account, as a browser follows the redirect); the cookie jar is emptied first, so
   each round is a new visit;
3. the catalogue (/shop/);
4. adds a printed certificate of a module it passed to the cart, and sees the cart;
5. starts checkout: a 303 to the offline Stripe's pay page, which it does not follow;
6. verifies 2 credential ids picked at random from every credential seeded.

Every answer is checked (status, and the page it should be); anything else is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any, cast

from locust import SequentialTaskSet, between, task
from locust.contrib.fasthttp import FastHttpUser

# locust puts this file's folder first on the import path: no module beside it may share a
# top-level package's name (bench, shop, sitegen), or it would stand in for that package here.
from bench.loadtest.mailsink import take_token

DATA = Path(os.environ.get("LOADTEST_DATA", "."))
OUTBOX = Path(os.environ.get("LOADTEST_OUTBOX", "outbox"))
SITE = os.environ.get("LOADTEST_SITE", "http://127.0.0.1:8000").rstrip("/")
STRIPE = os.environ.get("LOADTEST_STRIPE", "http://127.0.0.1:8420").rstrip("/")
THINK_MIN, THINK_MAX = (float(x) for x in os.environ.get("LOADTEST_THINK", "0.2,0.6").split(","))
TOKEN_WAIT_SECONDS = 5.0

CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]+)"')


def _load(name: str, default: Any) -> Any:
    path = DATA / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


CANDIDATES: list[dict[str, str]] = _load("candidates.json", [])
VERIFY_IDS: list[str] = _load("verify_ids.json", [])
SITE_PAGES: list[str] = _load("site_pages.json", ["/"])
_numbers = itertools.count()


def csrf_token(html: str) -> str | None:
    tag = CSRF.search(html)
    if tag is None:
        return None
    value = VALUE.search(tag.group(0))
    return value.group(1) if value else None


class Journey(SequentialTaskSet):
    csrf: str | None = None
    token: str | None = None

    @property
    def candidate(self) -> dict[str, str]:
        user = cast(Candidate, self.user)
        return user.candidate

    def _abandon(self) -> None:
        """Something failed: start a new round from the first step."""
        self.interrupt(reschedule=True)  # type: ignore[no-untyped-call]

    # 1. the static site ---------------------------------------------------------------------
    @task(3)
    def browse(self) -> None:
        path = random.choice(SITE_PAGES)
        with self.client.get(SITE + path, name="site: page", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{path}: {response.status_code}")

    # 2. sign in with a one-time link -----------------------------------------------------------
    @task
    def signin_form(self) -> None:
        self.client.cookiejar.clear()
        with self.client.get("/shop/signin", catch_response=True) as response:
            self.csrf = csrf_token(response.text or "") if response.status_code == 200 else None
            if self.csrf is None:
                response.failure(f"sign-in form: {response.status_code}, no form")
                self._abandon()

    @task
    def signin_request(self) -> None:
        data = {"email": self.candidate["email"], "next": "", "csrf_token": self.csrf or ""}
        with self.client.post(
            "/shop/signin", data=data, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or not _location(response).endswith("/signin/sent"):
                response.failure(f"asking for a link: {response.status_code}")
                self._abandon()
        self.token = self._wait_for_token()
        if self.token is None:
            self.user.environment.events.request.fire(
                request_type="MAIL",
                name="sign-in mail",
                response_time=TOKEN_WAIT_SECONDS * 1000,
                response_length=0,
                exception=RuntimeError("no sign-in link arrived"),
                context={},
            )
            self._abandon()

    def _wait_for_token(self) -> str | None:
        deadline = time.monotonic() + TOKEN_WAIT_SECONDS
        while True:
            token = take_token(OUTBOX, self.candidate["email"])
            if token is not None or time.monotonic() > deadline:
                return token
            time.sleep(0.05)

    @task
    def signin_confirm(self) -> None:
        path = f"/shop/signin/{self.token}"
        name = "/shop/signin/[token]"
        with self.client.get(path, name=name, catch_response=True) as response:
            self.csrf = csrf_token(response.text or "") if response.status_code == 200 else None
            if self.csrf is None:
                response.failure(f"the link's page: {response.status_code}")
                self._abandon()
        with self.client.post(
            path,
            name=name,
            data={"csrf_token": self.csrf or "", "next": ""},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or not _location(response).endswith("/shop/account"):
                response.failure(f"confirming: {response.status_code} {_location(response)}")
                self._abandon()
        with self.client.get("/shop/account", catch_response=True) as response:
            if response.status_code != 200 or "Sign in" in _title(response.text or ""):
                response.failure(f"dashboard: {response.status_code}")
                self._abandon()

    # 3. the catalogue ----------------------------------------------------------------------
    @task
    def catalogue(self) -> None:
        sku = self.candidate["sku"]
        with self.client.get("/shop/", catch_response=True) as response:
            html = response.text or ""
            self.csrf = csrf_token(html)
            if response.status_code != 200 or f'value="{sku}"' not in html:
                response.failure(f"catalogue: {response.status_code}, {sku} not for sale")
                self._abandon()

    # 4. the cart ---------------------------------------------------------------------------
    @task
    def add_to_cart(self) -> None:
        data = {"sku": self.candidate["sku"], "quantity": "1", "csrf_token": self.csrf or ""}
        with self.client.post(
            "/shop/cart", data=data, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"adding to the cart: {response.status_code}")
                self._abandon()
        with self.client.get("/shop/cart", catch_response=True) as response:
            html = response.text or ""
            self.csrf = csrf_token(html)
            if response.status_code != 200 or "/shop/checkout" not in html:
                response.failure(f"cart: {response.status_code}, no checkout button")
                self._abandon()

    # 5. checkout starts: a 303 to the pay page --------------------------------------------------
    @task
    def checkout(self) -> None:
        with self.client.post(
            "/shop/checkout",
            data={"csrf_token": self.csrf or ""},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 303 or not _location(response).startswith(STRIPE):
                response.failure(f"checkout: {response.status_code} {_location(response)}")

    # 6. employers verify two credentials ---------------------------------------------------------
    @task(2)
    def verify(self) -> None:
        verify_id = random.choice(VERIFY_IDS)
        with self.client.get(
            f"/shop/verify/{verify_id}", name="/shop/verify/[id]", catch_response=True
        ) as response:
            if response.status_code != 200 or verify_id not in (response.text or ""):
                response.failure(f"verify {verify_id}: {response.status_code}")


def _location(response: Any) -> str:
    return str(response.headers.get("Location") or response.headers.get("location") or "")


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    return found.group(1) if found else ""


class Candidate(FastHttpUser):
    """One candidate going round the journey; `host` is the shop's address (--host)."""

    tasks = [Journey]  # noqa: RUF012  (locust's own declaration: a list)
    wait_time = between(THINK_MIN, THINK_MAX)

    def on_start(self) -> None:
        number = next(_numbers)
        if number >= len(CANDIDATES):
            raise RuntimeError(
                f"user {number + 1} has no candidate of its own: seed at least as many "
                "candidates as users"
            )
        self.candidate = CANDIDATES[number]
