"""Mail to the event address, through the runtime's SES receiving (the template's second receipt
rule), handed to the organizer function as its event source mapping would; and what came of it."""

from __future__ import annotations

import json
from pathlib import Path

from icalendar import Calendar

from local.driver import Driver
from local.lambda_logs import json_lines
from local.resources.lambda_function import LambdaContext
from local.samples import EVENTS, record
from local.sandbox import function_environment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "organizer"
OUTLOOK_CREATE = "comm-central/outlook-test-invite.eml"
OUTLOOK_UPDATE = "derived/outlook-update.eml"
OUTLOOK_CANCEL = "derived/outlook-cancel.eml"
GOOGLE_CREATE = "comm-central/meet-meeting-invite.eml"
SERIES = "comm-central/repeat-event.eml"
OCCURRENCE_MOVED = "comm-central/exception-major.eml"
THUNDERBIRD_SINGLE = "comm-central/single-event.eml"
HANDLER = "lambdas.follow_organizer.handler.lambda_handler"
LOGGER = "follow-organizer"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ics_mail(name: str, sender: str, method: str) -> bytes:
    """A bare .ics fixture as a client would mail it: From: its ORGANIZER, the calendar inline."""
    calendar = (FIXTURES / name).read_text(encoding="utf-8").replace("\r\n", "\n").replace("\n", "\r\n")
    return (
        f"From: {sender}\r\nTo: {EVENTS}\r\nSubject: {name}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: text/calendar; charset="utf-8"; method={method}\r\n\r\n{calendar}'
    ).encode()


def sent_from(raw: bytes, sender: str) -> bytes:
    """`raw` with its From: header replaced by `sender` (the only header changed)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    (at,) = [i for i, line in enumerate(lines) if line.lower().startswith(b"from:")]
    lines[at] = b"From: " + sender.encode()
    return b"\r\n".join(lines) + sep + body


class EventAddress:
    """The organizer function of `account`'s deployment, fed by the event address's receipt rule."""

    def __init__(self, account: Driver):
        self.account = account
        self.function = next(f for f in account.runtime.functions if f.handler == HANDLER)
        self.queue = self.function.environment["SQS_URL"]
        self.dlq = self.function.environment["DLQ_URL"]

    def receive(self, raw: bytes, verdicts: dict[str, str] | None = None) -> list[dict]:
        """SES receives `raw` for the event address: the records its notification puts on the queue."""
        self.account.runtime.receive_email(raw, recipient=EVENTS, verdicts=verdicts)
        sqs = self.account.sqs
        messages = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)["Messages"]
        for message in messages:
            sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        return [record(message["Body"], message["MessageId"]) for message in messages]

    def invoke(self, *records: dict) -> dict:
        with function_environment(self.function.lambda_environment(self.account.overrides)):
            return self.function.entry({"Records": list(records)}, LambdaContext(self.function))

    def mail(self, raw: bytes, verdicts: dict[str, str] | None = None) -> dict:
        return self.invoke(*self.receive(raw, verdicts))

    def dead_letters(self) -> list[dict]:
        return self.account.sqs.receive_message(
            QueueUrl=self.dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])


def outcomes(caplog) -> list[dict]:
    return [line for line in json_lines(caplog.records, LOGGER) if "outcome" in line]


def invite_by_stored_event(account: Driver, uid: str, attendees: list[str]) -> None:
    """Invite attendees to the stored event (its details as the table holds them), and deliver."""
    details = account.event_item(uid).details()
    people = [{"email": a, "name": a.split("@")[0].title()} for a in attendees]
    account.invoke("invite", {"event": details.as_dict(), "attendees": people})
    account.drain("invite")


def calendar_of(sent) -> Calendar:
    """The email's calendar, read by icalendar as a client would."""
    return Calendar.from_ical(sent.ics)


def dead_letter_fields(message: dict) -> set[str]:
    return {e["field"] for e in json.loads(message["MessageAttributes"]["errors"]["StringValue"])}
