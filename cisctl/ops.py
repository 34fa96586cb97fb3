"""What the commands do, as functions the demo and the tests call too."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cisctl.target import LOCAL_RECEIVE_PATH, OPTIONAL_QUEUES, QUEUES, CliError, Target
from lambdas.adapters.expressions import from_item, read_event
from lambdas.adapters.store import Store
from lambdas.domain.items import AttendeeItem, EventItem, OccurrenceAnswersItem, OverrideItem, as_dict
from lambdas.domain.organizer.decisions import OrganizerRecord

# Attributes the functions add when they dead-letter an invalid request (lambdas/adapters/queues.py).
DEAD_LETTER_ATTRIBUTES = ("reason", "errors", "source_message_id", "body_encoding")
PEEK_VISIBILITY_SECONDS = 30  # how long a listed message stays hidden if the listing is interrupted
# Long polling asks every SQS server, so an empty answer means an empty queue; a local endpoint
# has one server and need not wait.
PEEK_WAIT_SECONDS = 1
RECEIVE_LIMIT = 10


# ------------------------------------------------------------------------------------- enqueue


@dataclass(frozen=True)
class Enqueued:
    queue_url: str
    message_id: str
    body: dict[str, Any]


def enqueue(target: Target, kind: str, bodies: list[dict[str, Any]]) -> list[Enqueued]:
    url = target.queue_url(kind)
    sqs = target.client("sqs")
    sent = []
    for body in bodies:
        response = sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, ensure_ascii=False))
        sent.append(Enqueued(url, response["MessageId"], body))
    return sent


# -------------------------------------------------------------------------------------- status


@dataclass
class EventReport:
    """An event item and its attendee items, as the store reads them."""

    uid: str
    event: EventItem | None
    attendees: list[AttendeeItem] = field(default_factory=list)
    overrides: list[OverrideItem] = field(default_factory=list)  # a series' changed occurrences
    # The counts of the occurrences answered apart from the series (RECURRENCE-ID answers).
    occurrence_answers: list[OccurrenceAnswersItem] = field(default_factory=list)
    # Where the event came from: the organizer's calendar (with their UID and last SEQUENCE) or the
    # queue (an empty record); attributes of the event item, named by the organizer domain.
    organizer_record: OrganizerRecord | None = None

    @property
    def found(self) -> bool:
        return self.event is not None or bool(self.attendees)

    def as_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "event": as_dict(self.event) if self.event else None,
            "attendees": [as_dict(a) for a in self.attendees],
            "overrides": [as_dict(o) for o in self.overrides],
            "occurrence_answers": [as_dict(o) for o in self.occurrence_answers],
            "organizer_record": as_dict(self.organizer_record) if self.organizer_record else None,
        }


def event_status(target: Target, uid: str) -> EventReport:
    client, table = target.client("dynamodb"), target.table_name()
    store = Store(client, table)
    # The event item read as stored, once: the table model reads the event, the organizer domain
    # its record (OrganizerRecord.read), so neither spells the other's attribute names.
    stored = from_item(client.get_item(**read_event(table, uid)).get("Item"))
    return EventReport(
        uid=uid,
        event=EventItem.read(stored, uid=uid) if stored else None,
        attendees=list(store.attendees(uid)),
        overrides=store.overrides(uid),
        occurrence_answers=store.occurrence_answers(uid),
        organizer_record=OrganizerRecord.read(stored) if stored else None,
    )


def suppressed(target: Target, uid: str) -> list[AttendeeItem]:
    """The attendees of an event nothing more is sent to (a hard bounce or a complaint)."""
    return Store(target.client("dynamodb"), target.table_name()).suppressed(uid)


# ----------------------------------------------------------------------------------------- DLQ


@dataclass
class DeadLetter:
    kind: str  # a key of QUEUES: invite | cancellation | reply | feedback
    message_id: str
    receipt_handle: str
    body: str
    reason: str | None
    errors: list[dict[str, str]] | None
    source_message_id: str | None
    receive_count: int
    sent_at: datetime | None
    attributes: dict[str, dict] = field(default_factory=dict)  # the request's own message attributes

    @property
    def summary(self) -> str | None:
        """What an SNS-wrapped SES notification (the reply and feedback queues) is about."""
        return ses_summary(self.body)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.kind,
            "message_id": self.message_id,
            "reason": self.reason,
            "summary": self.summary,
            "errors": self.errors,
            "source_message_id": self.source_message_id,
            "receive_count": self.receive_count,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "body": self.body,
        }


def ses_summary(body: str) -> str | None:
    """ "SES Received from <sender>, SES message <id>" or "SES Bounce for <recipients>, ...", read
    from an SNS notification's Message; None for anything else (an invite request, a garbled body)."""
    try:
        envelope = json.loads(body)
        notification = json.loads(envelope["Message"])
        mail = notification["mail"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(mail, dict):
        return None
    kind = notification.get("notificationType") or notification.get("eventType") or "notification"
    if kind == "Received":
        party = f"from {mail.get('source', '?')}"
    else:
        destination = mail.get("destination")
        party = f"for {', '.join(map(str, destination)) if isinstance(destination, list) else '?'}"
    return f"SES {kind} {party}, SES message {mail.get('messageId', '?')}"


def _dead_letter(kind: str, message: dict) -> DeadLetter:
    attributes = message.get("MessageAttributes", {})

    def text(name: str) -> str | None:
        return attributes.get(name, {}).get("StringValue")

    body = message.get("Body", "")
    if text("body_encoding") == "json-string":
        body = json.loads(body)
    errors = text("errors")
    system = message.get("Attributes", {})
    sent = system.get("SentTimestamp")
    return DeadLetter(
        kind=kind,
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=body,
        reason=text("reason"),
        errors=json.loads(errors) if errors else None,
        source_message_id=text("source_message_id"),
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        attributes={
            name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
            for name, value in attributes.items()
            if name not in DEAD_LETTER_ATTRIBUTES
        },
    )


def _peek(target: Target, kind: str, limit: int) -> list[DeadLetter]:
    """Receive every message of a DLQ (up to ``limit``), hidden until released or deleted."""
    url, sqs = target.dlq_url(kind), target.client("sqs")
    wait = 0 if target.endpoint_url else PEEK_WAIT_SECONDS
    letters: dict[str, DeadLetter] = {}
    while len(letters) < limit:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(RECEIVE_LIMIT, limit - len(letters)),
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=wait,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            letters.setdefault(message["MessageId"], _dead_letter(kind, message))
    return sorted(letters.values(), key=lambda letter: letter.sent_at or datetime.min.replace(tzinfo=UTC))


def _release(target: Target, kind: str, letters: list[DeadLetter]) -> None:
    sqs, url = target.client("sqs"), target.dlq_url(kind)
    for start in range(0, len(letters), RECEIVE_LIMIT):
        chunk = letters[start : start + RECEIVE_LIMIT]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                for i, letter in enumerate(chunk)
            ],
        )


def dead_letters(target: Target, kinds: list[str], limit: int = 100) -> dict[str, list[DeadLetter]]:
    """The messages of each DLQ, left in place."""
    listed = {}
    for kind in kinds:
        letters = _peek(target, kind, limit)
        _release(target, kind, letters)
        listed[kind] = letters
    return listed


@dataclass
class Redriven:
    kind: str
    source_url: str
    moved: list[DeadLetter]
    left: int


def redrive(target: Target, kind: str, message_ids: set[str] | None = None, limit: int = 100) -> Redriven:
    """Move DLQ messages back, unchanged, to the queue they came from (without the rejection reason)."""
    source, dlq = target.queue_url(kind), target.dlq_url(kind)
    sqs = target.client("sqs")
    letters = _peek(target, kind, limit)
    chosen = [letter for letter in letters if message_ids is None or letter.message_id in message_ids]
    if message_ids is not None:
        unknown = message_ids - {letter.message_id for letter in letters}
        if unknown:
            _release(target, kind, letters)
            raise CliError(f"not in the {kind} DLQ: {', '.join(sorted(unknown))}")
    moved = []
    for letter in chosen:
        request = {"QueueUrl": source, "MessageBody": letter.body}
        if letter.attributes:
            request["MessageAttributes"] = letter.attributes
        sqs.send_message(**request)
        # Sent before it is deleted: a crash in between re-sends a request, which the functions
        # recognise (idempotency on the attendee and sequence), rather than losing one.
        sqs.delete_message(QueueUrl=dlq, ReceiptHandle=letter.receipt_handle)
        moved.append(letter)
    rest = [letter for letter in letters if letter not in moved]
    _release(target, kind, rest)
    return Redriven(kind=kind, source_url=source, moved=moved, left=len(rest))


def queue_kinds(choice: str | None) -> list[str]:
    if choice in (None, "all"):
        return list(QUEUES)
    return ["cancellation" if choice == "cancel" else choice]


def deployed_kinds(target: Target, kinds: list[str]) -> tuple[list[str], list[str]]:
    """``kinds`` split into those the stack has queues for and the optional ones it lacks
    (no reply queue without receiveReplies); a required one missing still fails clearly."""
    absent = [kind for kind in kinds if kind in OPTIONAL_QUEUES and not target.has_queues(kind)]
    return [kind for kind in kinds if kind not in absent], absent


# -------------------------------------------------------------------------------------- receive


def require_emulated(target: Target) -> None:
    """Receiving is played only on an emulator: on a deployed account it would forge SES's notification."""
    if not target.endpoint_url:
        raise CliError(
            "receive plays SES receiving on the local runtime (--local) or a test endpoint"
            " (--endpoint-url); on a deployed stack, send the email to the RSVP address instead",
            code=2,
        )


@dataclass(frozen=True)
class Received:
    """Where SES receiving stored one email, and the topic it notified."""

    recipient: str
    bucket: str
    key: str
    topic_arn: str | None


def receive(target: Target, raw: bytes, *, recipient: str | None, verdicts: dict[str, str]) -> list[Received]:
    """SES receiving played by the local runtime (``python -m local serve``), one HTTP call to its
    endpoint: the active receipt rule stores the raw email and publishes its notification; the
    runtime then delivers it."""
    require_emulated(target)
    query = urllib.parse.urlencode(
        [("verdict", f"{check}={status}") for check, status in verdicts.items()]
        + ([("recipient", recipient)] if recipient else [])
    )
    url = f"{target.endpoint_url.rstrip('/')}{LOCAL_RECEIVE_PATH}?{query}"
    request = urllib.request.Request(url, data=raw, method="POST")  # noqa: S310 - the emulator's endpoint
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        answer = _json_or_none(error.read())
        if answer is None or "error" not in answer:
            raise CliError(
                f"{target.endpoint_url} does not play SES receiving (HTTP {error.code});"
                " start the local runtime with `make serve`"
            ) from None
        raise CliError(answer["error"], code=1 if answer.get("rejected") else 2) from None
    except urllib.error.URLError as error:
        raise CliError(f"cannot reach {target.endpoint_url}: {error.reason}") from None
    receipts = [Received(**receipt) for receipt in answer["receipts"]]
    if not receipts:
        raise CliError("the receipt rule stopped before any S3 action: nothing was stored")
    return receipts


def _json_or_none(data: bytes) -> dict | None:
    try:
        answer = json.loads(data)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
