"""Outgoing mail: over SMTP when SMTP_HOST is set, else written to instance/outbox/ and logged."""

from __future__ import annotations

import logging
import secrets
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

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
