"""Sent emails as files: ``<n>-<attendee>-<method>.eml`` beside its ``.ics``.

The ``.eml`` is the raw MIME message SES accepted (open it in a mail client); the ``.ics`` is its
text/calendar part (import it into a calendar).
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from pathlib import Path

from local.runtime import SentEmail

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


@dataclass(frozen=True)
class WrittenEmail:
    number: int
    email: SentEmail
    eml: Path
    ics: Path


class Outbox:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.written: list[WrittenEmail] = []

    def clear(self) -> None:
        """Remove the files of a previous run (and nothing else)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for pattern in ("*.eml", "*.ics"):
            for path in self.directory.glob(pattern):
                path.unlink()
        self.written = []

    def write(self, sent: SentEmail) -> WrittenEmail:
        number = len(self.written) + 1
        stem = f"{number:02d}-{_UNSAFE.sub('_', sent.recipient.lower())}-{(sent.method or 'email').lower()}"
        eml, ics = self.directory / f"{stem}.eml", self.directory / f"{stem}.ics"
        eml.write_bytes(sent.raw)
        ics.write_bytes(sent.ics)
        written = WrittenEmail(number, sent, eml, ics)
        self.written.append(written)
        return written


def defects(raw: bytes) -> list[str]:
    """What a standards-following parser objects to in a message; empty for a clean one."""
    message = email.message_from_bytes(raw, policy=policy.default)
    return [f"{part.get_content_type()}: {defect!r}" for part in message.walk() for defect in part.defects]
