"""What SES accepted, read from moto's backend, and written out as files.

``sent_emails`` is the one reader of the emulated outbox (the local runtime, the tests and the
benchmark use it). ``Outbox`` writes each email as ``<n>-<attendee>-<method>.eml`` beside its
``.ics``: the ``.eml`` is the raw MIME message SES accepted (open it in a mail client); the
``.ics`` is its text/calendar part (import it into a calendar).
"""

from __future__ import annotations

import contextlib
import email
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property
from pathlib import Path

from moto.backends import get_backend

from local.sandbox import ACCOUNT, REGION

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")
# The iTIP identity of a calendar, read from its unfolded text.
_PROPERTY = re.compile(r"^(UID|SEQUENCE|METHOD):(.*?)\r?$", re.MULTILINE)


@dataclass(frozen=True)
class SentEmail:
    recipient: str
    raw: bytes
    ses_id: str = ""

    @cached_property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)

    @cached_property
    def calendar_part(self) -> EmailMessage | None:
        return next((p for p in self.message.walk() if p.get_content_type() == "text/calendar"), None)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def message_id_header(self) -> str:
        return str(self.message["Message-ID"] or "")

    @property
    def ics(self) -> bytes:
        part = self.calendar_part
        return part.get_payload(decode=True) if part is not None else b""

    def calendar_text(self) -> str:
        part = self.calendar_part
        return part.get_content() if part is not None else ""

    @cached_property
    def _properties(self) -> dict[str, str]:
        unfolded = re.sub(r"\r?\n[ \t]", "", self.ics.decode("utf-8", "replace"))
        found: dict[str, str] = {}
        for name, value in _PROPERTY.findall(unfolded):
            found.setdefault(name, value.strip())  # the first: VCALENDAR's METHOD, the VEVENT's UID
        return found

    @property
    def method(self) -> str:
        part = self.calendar_part
        return str(part.get_param("method") or "").upper() if part is not None else ""

    @property
    def uid(self) -> str:
        return self._properties.get("UID", "")

    @property
    def sequence(self) -> int | None:
        value = self._properties.get("SEQUENCE")
        return int(value) if value is not None and value.isdigit() else None


def sent_emails(
    region: str = REGION, lock: AbstractContextManager | None = None, account: str = ACCOUNT
) -> list[SentEmail]:
    """Every raw email SES accepted in that region, in order.

    ``lock``: held while moto's backend is read (a served moto's request lock), so that a send on
    another thread does not change the list under the reader.
    """
    return emails_after(0, region, lock, account)[0]


def emails_after(
    position: int, region: str = REGION, lock: AbstractContextManager | None = None, account: str = ACCOUNT
) -> tuple[list[SentEmail], int]:
    """The emails SES accepted after ``position`` in its outbox, and the position after them.

    Reads only what is new: a reader that polls (``python -m local serve``) must not rescan, and
    copy, every email of the run at each poll (that made a 1,000-attendee run quadratic).
    """
    backend = get_backend("ses")[account][region]
    with lock or contextlib.nullcontext():
        messages = backend.sent_messages[position:]
    return [email for message in messages if (email := _sent_email(message))], position + len(messages)


def forget_sent(
    region: str = REGION, lock: AbstractContextManager | None = None, account: str = ACCOUNT
) -> None:
    """Empty SES's outbox (LocalRuntime.empty)."""
    backend = get_backend("ses")[account][region]
    with lock or contextlib.nullcontext():
        backend.sent_messages.clear()


def _sent_email(message) -> SentEmail | None:
    raw = getattr(message, "raw_data", None)
    if raw is None:
        return None
    destinations = message.destinations
    recipient = destinations[0] if isinstance(destinations, list) and destinations else ""
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    return SentEmail(recipient, data, ses_id=message.id)


@dataclass(frozen=True)
class WrittenEmail:
    number: int
    email: SentEmail
    eml: Path
    ics: Path


class Outbox:
    """Writes emails as files; it keeps no copy of them (``serve`` runs for as long as one likes)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.count = 0

    def clear(self) -> None:
        """Remove the files of a previous run (and nothing else)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for pattern in ("*.eml", "*.ics"):
            for path in self.directory.glob(pattern):
                path.unlink()
        self.count = 0

    def write(self, sent: SentEmail) -> WrittenEmail:
        self.count += 1
        number = self.count
        stem = f"{number:02d}-{_UNSAFE.sub('_', sent.recipient.lower())}-{(sent.method or 'email').lower()}"
        eml, ics = self.directory / f"{stem}.eml", self.directory / f"{stem}.ics"
        eml.write_bytes(sent.raw)
        ics.write_bytes(sent.ics)
        return WrittenEmail(number, sent, eml, ics)


def defects(raw: bytes) -> list[str]:
    """What a standards-following parser objects to in a message; empty for a clean one."""
    message = email.message_from_bytes(raw, policy=policy.default)
    return [f"{part.get_content_type()}: {defect!r}" for part in message.walk() for defect in part.defects]
