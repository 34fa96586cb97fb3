"""Mail arriving at the RSVP address, as SES receiving delivers it: the raw email stored in the
inbound bucket, and the SNS-wrapped receipt notification that points at it."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import boto3

from tests.support.aws import REGION, RSVP, Account
from tests.unit.inbound.ses import ses_notification, sns_envelope

BUCKET = "cis-inbox-test"
UID = "evt-42@example.com"  # the event of tests.support.aws.invite_body


def reply_mail(
    attendee: str = "bob@example.org",
    partstat: str | None = "ACCEPTED",
    *,
    uid: str = UID,
    sequence: int = 0,
    dtstamp: str = "20261124T120000Z",
    sender: str | None = None,
    method: str = "REPLY",
    comment: str = "",
    prodid: str = "-//Test Client//EN",
    event_lines: tuple[str, ...] = (),
    attachments: tuple[bytes, ...] = (),
) -> bytes:
    """A reply as a calendar client sends it: a text part and an inline text/calendar."""
    params = f";PARTSTAT={partstat}" if partstat else ""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{prodid}",
        "VERSION:2.0",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{dtstamp}",
        f"SEQUENCE:{sequence}",
        f"ORGANIZER:mailto:{RSVP}",
        f"ATTENDEE{params};CN={attendee.split('@')[0].title()}:mailto:{attendee}",
        *([f"COMMENT:{comment}"] if comment else []),
        *event_lines,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    message = EmailMessage()
    message["From"] = sender or attendee
    message["To"] = RSVP
    message["Subject"] = f"{(partstat or method).title()}: Quarterly planning"
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


class Inbox:
    """The inbound bucket, and SES receiving's notification for each stored email."""

    def __init__(self, account: Account):
        self.account = account
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET)

    def store(self, raw: bytes, message_id: str | None = None, **notification) -> str:
        """Store the email; returns the SQS body that announces it."""
        message_id = message_id or uuid.uuid4().hex
        key = f"inbound/{message_id}"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=raw)
        return sns_envelope(ses_notification(message_id=message_id, bucket=BUCKET, key=key, **notification))

    def deliver(self, raw: bytes, **notification) -> dict:
        return self.account.invoke("reply", self.store(raw, **notification))
