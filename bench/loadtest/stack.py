"""The servers of a run, all on 127.0.0.1, each stopped when its block ends.

- `database(kind, folder)`: a migrated, empty database made for the run: a SQLite file in
  `folder`, or a PostgreSQL database `cpt_load_<random>` created on the server at
  LOADTEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) and dropped after;
- `FakeStripeProcess`: `python -m shop.payments.offline` on a free port;
- `Gunicorn`: `gunicorn -w 4 -k gthread --threads 4 'shop:create_app()'` (or another app);
- `StaticSite`: Python's http.server over build/site, for the browsing part (`static`);
- `MemorySampler`: the RSS (and PSS) of gunicorn's master and workers, sampled in a thread.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psutil
import sqlalchemy as sa

from bench import PROJECT_ROOT
from shop import migrate
from shop.db import normalise_url

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get("LOADTEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Rate-limit counters of load runs live in their own Redis database (the tests use 15).
REDIS_URL = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/14")
# High enough that no virtual user is ever limited: every user comes from 127.0.0.1.
HIGH_RATE_LIMIT = "1000000 per minute"
# The deployment's gunicorn settings: every load run serves the shop (and the bare route) with them.
GUNICORN_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


def gunicorn_settings() -> str:
    """The deployment's gunicorn settings in words, for a report."""
    conf = runpy.run_path(str(GUNICORN_CONFIG))
    keepalive = conf.get("keepalive", 2)
    kept = f"keep-alive {keepalive} s" if keepalive else "no keep-alive"
    return (
        f"gunicorn -c deploy/gunicorn.conf.py: {conf['workers']} workers of "
        f"{conf['worker_class']} with {conf['threads']} threads each, {kept}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_http(
    url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Until `url` answers at all (any HTTP status), or raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError as error:
            last = error
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s: {last}")


# -- the database -------------------------------------------------------------------------------


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for a run, or None when it can."""
    try:
        engine = sa.create_engine(normalise_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means: not usable here
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return None


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'shop.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"cpt_load_{secrets.token_hex(5)}"
    admin = sa.create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = str(sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(url)
        yield url
    finally:
        admin.dispose()
        _drop_database(name)


def _drop_database(name: str, patience: float = 60.0) -> None:
    """DROP DATABASE, trying again while the server restarts (a fault test may restart it)."""
    deadline = time.monotonic() + patience
    while True:
        admin = sa.create_engine(
            normalise_url(POSTGRES_URL),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except sa.exc.OperationalError as error:
            if time.monotonic() > deadline:
                print(f"could not drop the database {name} (drop it by hand): {error}")
                return
            time.sleep(1)
        finally:
            admin.dispose()


# -- processes ------------------------------------------------------------------------------------


class _Process:
    """A child process in its own process group, stopped (INT, then KILL) on exit.

    SIGINT is a quick shutdown for gunicorn, http.server and aiohttp alike, and makes py-spy
    write its profile before it exits.
    """

    process: subprocess.Popen[bytes]

    def _spawn(self, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                argv,
                cwd=PROJECT_ROOT,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        process = getattr(self, "process", None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def base_env() -> dict[str, str]:
    """This environment without anything that would point the shop elsewhere, and with the
    checkout on the import path: `bench` is not installed, and locust and gunicorn start from
    scripts in the venv, which put only their own folder there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "STRIPE_"))}
    for key in ("DATABASE_URL", "SHOP_URL", "SITE_URL", "REDIS_URL", "SHOP_ENV", "SECRET_KEY"):
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if part
    )
    return env


class FakeStripeProcess(_Process):
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log

    def __enter__(self) -> FakeStripeProcess:
        argv = [sys.executable, "-m", "shop.payments.offline", "--port", str(self.port)]
        self._spawn(argv, base_env(), self.log)
        wait_for_http(f"{self.url}/v1/customers", process=self.process)
        return self


class StaticSite(_Process):
    """Python's http.server over the built site, with keep-alive and a real backlog (see
    bench.loadtest.static): a stand-in for the production web server."""

    def __init__(self, root: Path, log: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log

    def __enter__(self) -> StaticSite:
        argv = [
            sys.executable,
            "-m",
            "bench.loadtest.static",
            "--directory",
            str(self.root),
            str(self.port),
        ]
        self._spawn(argv, base_env(), self.log)
        wait_for_http(self.url + "/", process=self.process)
        return self


@dataclass
class Gunicorn(_Process):
    """gunicorn with the deployment's settings, serving `app` (default: the shop)."""

    env: dict[str, str]
    log: Path
    app: str = "shop:create_app()"
    ready_path: str = "/shop/signin"
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Gunicorn:
        argv = [
            str(BIN / "gunicorn"),
            "-c",
            str(GUNICORN_CONFIG),
            "-b",
            f"{HOST}:{self.port}",
            self.app,
        ]
        self._spawn(argv, {**base_env(), **self.env}, self.log)
        try:
            wait_for_http(self.url + self.ready_path, timeout=60, process=self.process)
        except RuntimeError as error:
            self.stop()
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{error}; the end of gunicorn's log:\n{tail}") from None
        return self

    def master(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def worker_pids(self) -> list[int]:
        return [p.pid for p in self.master().children()]


def shop_env(database_url: str, stripe_url: str, smtp_port: int, shop_url: str) -> dict[str, str]:
    """The environment gunicorn serves the shop with, for a run."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "loadtest-" + secrets.token_hex(16),
        "STRIPE_SECRET_KEY": "sk_test_offline",
        "STRIPE_API_BASE": stripe_url,
        "SHOP_URL": shop_url,
        "SMTP_HOST": HOST,
        "SMTP_PORT": str(smtp_port),
        "REDIS_URL": REDIS_URL,
        "VERIFY_RATE_LIMIT": HIGH_RATE_LIMIT,
        "SIGNIN_RATE_LIMIT": HIGH_RATE_LIMIT,
    }


# -- memory -----------------------------------------------------------------------------------


class MemorySampler:
    """Samples the summed RSS and PSS of a process and its children every `interval` seconds.

    RSS counts the pages the forked workers share with the master once per process (an upper
    bound); PSS shares them out (what the processes really cost together).
    """

    def __init__(self, root: psutil.Process, interval: float = 0.5) -> None:
        self.root = root
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def reset(self) -> None:
        self.peak_rss = 0
        self.peak_pss = 0

    def sample(self) -> tuple[int, int]:
        rss = pss = 0
        with contextlib.suppress(psutil.Error):
            for process in [self.root, *self.root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    info = process.memory_full_info()
                    rss += info.rss
                    pss += getattr(info, "pss", info.rss)
        return rss, pss

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = self.sample()
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


class CpuMeter:
    """How busy the machine's CPUs were over a stretch of time, and how much of that was
    other processes' doing (not this process, nor any process it started).

    Ours: user and system time of this process and its descendants, with the time of children
    already waited for (locust, wrk); the machine's: /proc/stat. Percent of all the CPUs.
    """

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._machine = self._machine_busy()
        self._ours = self._our_time()

    @staticmethod
    def _machine_busy() -> float:
        t = psutil.cpu_times()
        return float(
            t.user
            + t.nice
            + t.system
            + getattr(t, "irq", 0.0)
            + getattr(t, "softirq", 0.0)
            + getattr(t, "steal", 0.0)
        )

    @staticmethod
    def _our_time() -> float:
        me = psutil.Process()
        total = 0.0
        for process in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = process.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def read(self) -> tuple[float, float]:
        """(the machine busy, other processes busy), in percent of all CPUs, so far."""
        capacity = (time.monotonic() - self._started) * (psutil.cpu_count() or 1)
        if capacity <= 0:
            return 0.0, 0.0
        busy = self._machine_busy() - self._machine
        ours = self._our_time() - self._ours
        return 100 * busy / capacity, 100 * max(0.0, busy - ours) / capacity


def wait_for_quiet(threshold: float, patience: float, sample: float = 3.0) -> float:
    """Wait (at most `patience` seconds) until other processes use less than `threshold`
    percent of the CPUs over `sample` seconds; the last share measured."""
    deadline = time.monotonic() + patience
    while True:
        meter = CpuMeter()
        time.sleep(sample)
        others = meter.read()[1]
        if others < threshold or time.monotonic() + sample > deadline:
            if others >= threshold:
                print(f"   the machine stayed busy: other processes use {others:.0f}% of it")
            return others


def mib(n: int) -> float:
    return round(n / 2**20, 1)
