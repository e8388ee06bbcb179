"""An SMTP server on 127.0.0.1 that keeps each sign-in link's token, one file per message.

The shop under gunicorn mails its sign-in links through SMTP_HOST/SMTP_PORT, as in production
(the outbox folder is not configurable from the environment, and `instance/outbox/` is the
developers' own). For every message the sink writes the token of the link it carries to
`<folder>/<recipient>/<time_ns>.token` (written aside, then renamed: a reader never sees half a
file). The shop sends the mail before it answers the sign-in POST, so the file is there when the
virtual user gets the answer; the user takes the newest file of its own address and deletes it.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# The link in the mail: https?://host/shop/signin/<token>[?next=...]
TOKEN = re.compile(r"/shop/signin/([A-Za-z0-9_-]{20,})")


class _Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received = 0
        self.without_link = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw: Any = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = message.get_content() if isinstance(message, EmailMessage) else ""
        found = TOKEN.search(str(body))
        with self._lock:
            self.received += 1
            if found is None:
                self.without_link += 1
        if found is None:
            return "250 Message accepted (no sign-in link in it)"
        for recipient in envelope.rcpt_tos:
            folder = self.folder / recipient.lower()
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns()}-{os.getpid()}"
            aside = folder / f".{name}.tmp"
            aside.write_text(found.group(1), encoding="ascii")
            aside.rename(folder / f"{name}.token")
        return "250 Message accepted for delivery"


class MailSink:
    """`with MailSink(folder) as sink:` SMTP on 127.0.0.1:`sink.port` until the block ends."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self._handler = _Handler(folder)
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=port)

    @property
    def received(self) -> int:
        return self._handler.received

    def __enter__(self) -> MailSink:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def take_token(folder: Path, address: str) -> str | None:
    """The newest token mailed to `address`, removed from the folder; None if there is none."""
    mailbox = folder / address.lower()
    try:
        names = sorted(p for p in os.listdir(mailbox) if p.endswith(".token"))
    except FileNotFoundError:
        return None
    if not names:
        return None
    path = mailbox / names[-1]
    token = path.read_text(encoding="ascii")
    for name in names:
        (mailbox / name).unlink(missing_ok=True)
    return token
