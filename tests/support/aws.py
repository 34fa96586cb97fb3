"""A moto-backed account with the resources the functions expect, and a way to drive them."""

from __future__ import annotations

import email
import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from unittest import mock

import boto3
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from lambdas.domain.keys import PARTITION_KEY, SORT_KEY
from lambdas.record_feedback.handler import lambda_handler as feedback_handler
from lambdas.record_reply.handler import lambda_handler as reply_handler
from lambdas.runtime import config
from lambdas.runtime import services as runtime
from lambdas.send_cancellation.handler import lambda_handler as cancellation_handler
from lambdas.send_invite.handler import lambda_handler as invite_handler

REGION = "us-east-1"
SENDER = config.PLACEHOLDER_SENDER
RSVP = "rsvp@example.com"
TABLE = "calendar-invites"
HANDLERS = {
    "invite": invite_handler,
    "cancel": cancellation_handler,
    "reply": reply_handler,
    "feedback": feedback_handler,
}


@dataclass
class SentEmail:
    recipient: str
    raw: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)

    def calendar_text(self) -> str:
        part = next(p for p in self.message.walk() if p.get_content_type() == "text/calendar")
        return part.get_content()


@dataclass
class Account:
    """One mocked AWS account: the table, a work queue and DLQ per function, a verified sender.

    (The reply function's "work queue" is the one SES receiving feeds; it never enqueues onto it.)"""

    queues: dict[str, tuple[str, str]] = field(default_factory=dict)  # function -> (queue, dlq)
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": SORT_KEY, "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for function in HANDLERS:
            dlq = self.sqs.create_queue(QueueName=f"{function}-dlq")["QueueUrl"]
            queue = self.sqs.create_queue(QueueName=f"{function}-queue")["QueueUrl"]
            self.queues[function] = (queue, dlq)
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)

    def environment(self, function: str) -> dict[str, str]:
        queue, dlq = self.queues[function]
        return {
            config.ENV_REGION: REGION,
            config.ENV_TABLE: TABLE,
            config.ENV_SENDER: SENDER,
            config.ENV_RSVP_EMAIL: RSVP,
            config.ENV_QUEUE_URL: queue,
            config.ENV_DLQ_URL: dlq,
            **self.extra_env,
        }

    # ------------------------------------------------------------------------------ invocation

    @contextmanager
    def environment_of(self, function: str):
        """The process environment of one function, for the duration of the block.

        Tests that invoke from several threads enter it once, before the threads start:
        patching os.environ from concurrent threads would restore it out of order.
        """
        with mock.patch.dict(os.environ, self.environment(function)):
            yield

    def invoke(self, function: str, *bodies, records: list[dict] | None = None) -> dict:
        """Invoke a handler in process with that function's environment, as Lambda would."""
        records = records if records is not None else [record(body) for body in bodies]
        wanted = self.environment(function)
        if all(os.environ.get(name) == value for name, value in wanted.items()):
            return HANDLERS[function]({"Records": records}, None)
        with self.environment_of(function):
            return HANDLERS[function]({"Records": records}, None)

    def drain(self, function: str, max_rounds: int = 50) -> list[dict]:
        """Feed the function's own queue back to it (fan-out) until it is empty."""
        queue, _ = self.queues[function]
        responses = []
        for _ in range(max_rounds):
            messages = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return responses
            records = [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]
            response = self.invoke(function, records=records)
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            for m in messages:
                if m["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
            responses.append(response)
        raise AssertionError("queue did not drain")

    # ------------------------------------------------------------------------------ inspection

    def sent(self) -> list[SentEmail]:
        backend = get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION]
        return [
            SentEmail(m.destinations[0] if m.destinations else "", _bytes(m.raw_data))
            for m in backend.sent_messages
        ]

    def dead_letters(self, function: str) -> list[dict]:
        _, dlq = self.queues[function]
        messages = self.sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])
        return messages

    @property
    def store(self):
        from lambdas.adapters.store import Store

        return Store(self.dynamodb, TABLE)

    def event_item(self, uid: str):
        """The event item, typed (lambdas.domain.items.EventItem), or None."""
        return self.store.get_event(uid)

    def attendee_item(self, uid: str, email_address: str):
        """The attendee item, typed (lambdas.domain.items.AttendeeItem), or None."""
        return self.store.get_attendee(uid, email_address)


def _bytes(raw) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode("utf-8")


def record(body, message_id: str | None = None) -> dict:
    if not isinstance(body, str):
        body = json.dumps(body)
    return {"messageId": message_id or str(uuid.uuid4()), "body": body, "eventSource": "aws:sqs"}


@contextmanager
def fresh_services():
    runtime.reset()
    try:
        yield
    finally:
        runtime.reset()


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
