"""A hand-built emulated account with the resources the functions expect, and a way to drive them.

What the stack deploys (the table, a work queue and DLQ per function, a verified sender), created
directly on moto (in-process ``mock_aws`` or a served moto), without synthesizing the CDK app:
the tests and the benchmark invoke the real handlers against it. ``tests/local`` checks that the
local runtime, which reads the synthesized template instead, behaves the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import boto3

from lambdas.domain.keys import PARTITION_KEY, SORT_KEY
from lambdas.record_reply.handler import lambda_handler as reply_handler
from lambdas.runtime import config
from lambdas.send_cancellation.handler import lambda_handler as cancellation_handler
from lambdas.send_invite.handler import lambda_handler as invite_handler
from local.outbox import SentEmail, sent_emails
from local.sandbox import REGION, function_environment
from local.sources.sqs import QueuePoller, sqs_record

SENDER = config.PLACEHOLDER_SENDER
RSVP = "rsvp@example.com"
TABLE = "calendar-invites"
HANDLERS = {"invite": invite_handler, "cancel": cancellation_handler, "reply": reply_handler}


@dataclass
class Account:
    """One emulated AWS account: the table, a work queue and DLQ per function, a verified sender.

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

    def environment_of(self, function: str):
        """The process environment of one function, for the duration of the block (entered once,
        before any threads start, by tests that invoke concurrently)."""
        return function_environment(self.environment(function))

    def handler(self, function: str):
        """The function as its event source mapping calls it: the event, in its environment."""

        def call(event: dict):
            with self.environment_of(function):
                return HANDLERS[function](event, None)

        return call

    def invoke(self, function: str, *bodies, records: list[dict] | None = None) -> dict:
        """Invoke a handler in process with that function's environment, as Lambda would."""
        records = records if records is not None else [record(body) for body in bodies]
        return self.handler(function)({"Records": records})

    def drain(self, function: str, max_rounds: int = 50) -> list[dict]:
        """Feed the function's own queue back to it (fan-out) until it is empty.

        Records the function reports as failed stay invisible for the queue's visibility timeout,
        as in SQS (a test that wants them again waits for it or invokes them itself).
        """
        queue, _ = self.queues[function]
        poller = QueuePoller(self.sqs, queue, region=REGION, redeliver_now=False)
        responses = []
        for _ in range(max_rounds):
            messages, outcome, _deleted = poller.poll(self.handler(function))
            if not messages:
                return responses
            if outcome.error:
                raise AssertionError(f"{function} raised: {outcome.error}")
            responses.append(outcome.response)
        raise AssertionError("queue did not drain")

    # ------------------------------------------------------------------------------ inspection

    def sent(self) -> list[SentEmail]:
        return sent_emails(REGION)

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
