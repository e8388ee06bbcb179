"""Outgoing mail: over SMTP when SMTP_HOST is set, else written to instance/outbox/ and logged."""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    username: str = ""
    password: str = ""
    starttls: bool = False

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


@dataclass(frozen=True)
class OutboxMailer:
    """Development and `make run` without a mail server: each message becomes a .eml file."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Named by time, then a random part: names sort in sending order and never collide.
        path = self.folder / f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
        path.write_bytes(bytes(message))
        log.warning("mail to %s written to %s (no SMTP_HOST set)", message["To"], path)


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def mailer_from_config(config: dict[str, object]) -> Mailer:
    if config.get("SMTP_HOST"):
        return SmtpMailer(
            host=str(config["SMTP_HOST"]),
            port=int(str(config["SMTP_PORT"])),
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            starttls=bool(config.get("SMTP_STARTTLS")),
        )
    return OutboxMailer(Path(str(config["OUTBOX_DIR"])))


def init_app(app: Flask) -> None:
    """Mail from threads of their own (MAIL_IN_BACKGROUND), except under TESTING, where a test
    reads the outbox as soon as the request is answered."""
    app.config.setdefault("MAIL_IN_BACKGROUND", not app.testing)
    app.extensions["shop.outgoing_mail"] = Outgoing()


def deliver(message: EmailMessage) -> None:
    """Send `message` with the current app's mailer: from a thread of its own when
    MAIL_IN_BACKGROUND (so the request does not wait on the mail server), else at once."""
    from flask import current_app

    mailer = mailer_from_config(current_app.config)
    if current_app.config["MAIL_IN_BACKGROUND"]:
        current_app.extensions["shop.outgoing_mail"].submit(mailer, message)
    else:
        send_logged(mailer, message)


def send_logged(mailer: Mailer, message: EmailMessage) -> None:
    """Send `message`; a failure is logged for staff, never raised to a visitor."""
    try:
        mailer.send(message)
    except (smtplib.SMTPException, OSError):
        log.exception("mail to %s could not be sent", message["To"])


class Outgoing:
    """Mail sent by threads of their own, so that a request never waits on the mail server.

    A visitor asking for a sign-in link gets the same answer as fast for an address on file
    (a message to send) as for one that is not (nothing to send): the time to answer does
    not tell which addresses are known. Each process has its own threads, started on first
    use (after gunicorn forks); a process that exits sends what is queued first.
    """

    WORKERS = 2
    # The thread waits this long before it sends: its work (smtplib, the outbox file) would
    # otherwise compete for the interpreter with the end of the very request that asked for
    # the link, and make an address on file answer slower than one that is not (issue 13).
    START_DELAY_SECONDS = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0

    def submit(self, mailer: Mailer, message: EmailMessage) -> Future[None]:
        return self._for_this_process().submit(self._send_later, mailer, message)

    def _send_later(self, mailer: Mailer, message: EmailMessage) -> None:
        time.sleep(self.START_DELAY_SECONDS)
        send_logged(mailer, message)

    def _for_this_process(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(self.WORKERS, thread_name_prefix="mail")
                self._pid = os.getpid()
            return self._executor
