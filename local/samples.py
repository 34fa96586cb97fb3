"""Sample requests and mails, as the tests and the benchmark send them to the functions.

They deploy the app with ``CONTEXT`` (an RSVP address of its own, as a deployment that receives
replies at another mailbox than it sends from, so that a test tells the sender from the RSVP
address; and an event address, with the organizers of tests/fixtures/organizer allowed by their
domains); the sender is cdk.json's placeholder.
"""

from __future__ import annotations

import json
from email.message import EmailMessage

from lambdas.runtime import config
from local.sandbox import REGION
from local.shapes import sqs_record

SENDER = config.PLACEHOLDER_SENDER
RSVP = "rsvp@example.com"
EVENTS = "events@example.com"  # the event address organizers invite (docs/organizer.md)
# The domains of the organizers of tests/fixtures/organizer (Outlook's example.org, Google's
# gmail.com, Thunderbird's example.com).
ALLOWED_ORGANIZERS = "example.org,gmail.com,example.com"
CONTEXT = {
    "rsvpEmail": RSVP,
    "eventEmail": EVENTS,
    "allowedOrganizers": ALLOWED_ORGANIZERS,
}  # on top of cdk.json's
UID = "evt-42@example.com"  # the event of invite_body

__all__ = [
    "ALLOWED_ORGANIZERS",
    "CONTEXT",
    "EVENTS",
    "REGION",
    "RSVP",
    "SENDER",
    "UID",
    "invite_body",
    "plain_mail",
    "record",
    "reply_mail",
]


def record(body, message_id: str | None = None) -> dict:
    """An SQS record for a request body (a dict is sent as its JSON), as Lambda passes it."""
    if not isinstance(body, str):
        body = json.dumps(body)
    return sqs_record(body, message_id, region=REGION)


def invite_body(uid="evt-42@example.com", attendee="bob@example.org", sequence=0, **event_overrides) -> dict:
    event = {
        "uid": uid,
        "sequence": sequence,
        "summary": "Quarterly planning",
        "description": "Agenda: numbers, then lunch.",
        "location": "Room 4",
        "start": "2026-12-01T15:00:00Z",
        "end": "2026-12-01T16:00:00Z",
        "organizer": {"email": "alice@example.com", "name": "Alice Example"},
        **event_overrides,
    }
    body = {"event": event}
    if isinstance(attendee, list):
        body["attendees"] = [{"email": a, "name": a.split("@")[0].title()} for a in attendee]
    else:
        body["attendee"] = {"email": attendee, "name": attendee.split("@")[0].title()}
    return body


def reply_mail(
    attendee: str = "bob@example.org",
    partstat: str | None = "ACCEPTED",
    *,
    uid: str = UID,
    sequence: int = 0,
    dtstamp: str | None = "20261124T120000Z",
    sender: str | None = None,
    method: str = "REPLY",
    comment: str = "",
    prodid: str = "-//Test Client//EN",
    event_lines: tuple[str, ...] = (),
    attachments: tuple[bytes, ...] = (),
    headers: dict[str, str] | None = None,
    rsvp: str = RSVP,
    summary: str = "Quarterly planning",
) -> bytes:
    """A reply as a calendar client sends it: a text part and an inline text/calendar, to ``rsvp``."""
    params = f";PARTSTAT={partstat}" if partstat else ""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{prodid}",
        "VERSION:2.0",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        *([f"DTSTAMP:{dtstamp}"] if dtstamp else []),
        f"SEQUENCE:{sequence}",
        f"ORGANIZER:mailto:{rsvp}",
        f"ATTENDEE{params};CN={attendee.split('@')[0].title()}:mailto:{attendee}",
        *([f"COMMENT:{comment}"] if comment else []),
        *event_lines,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    message = EmailMessage()
    message["From"] = sender or attendee
    message["To"] = rsvp
    message["Subject"] = f"{(partstat or method).title()}: {summary}"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(f"{attendee} answered.")
    message.add_alternative("\r\n".join(lines) + "\r\n", subtype="calendar", params={"method": method})
    for index, data in enumerate(attachments):
        message.add_attachment(data, maintype="application", subtype="pdf", filename=f"scan-{index}.pdf")
    return message.as_bytes()


def plain_mail(sender: str, subject: str, text: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, RSVP, subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()
