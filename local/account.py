"""A hand-built emulated account with the resources the functions expect, and a way to drive them.

What the stack deploys (the table, a work queue and DLQ per function, a verified sender), created
directly on moto (in-process ``mock_aws`` or a served moto), without synthesizing the CDK app:
the tests and the benchmark invoke the real handlers against it. ``tests/local`` checks that the
local runtime, which reads the synthesized template instead, behaves the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import EmailMessage

import boto3

from lambdas.domain.keys import PARTITION_KEY, SORT_KEY
from lambdas.record_feedback.handler import lambda_handler as feedback_handler
from lambdas.record_reply.handler import lambda_handler as reply_handler
from lambdas.runtime import config
from lambdas.send_cancellation.handler import lambda_handler as cancellation_handler
from lambdas.send_invite.handler import lambda_handler as invite_handler
from local.outbox import SentEmail, sent_emails
from local.sandbox import REGION, function_environment
from local.sources.ses_receiving import receive_email
from local.sources.sqs import QueuePoller, sqs_record

SENDER = config.PLACEHOLDER_SENDER
RSVP = "rsvp@example.com"
TABLE = "calendar-invites"
INBOUND_BUCKET = "calendar-invites-inbound"
RULE_SET = "calendar-invites-replies"
UID = "evt-42@example.com"  # the event of invite_body
HANDLERS = {
    "invite": invite_handler,
    "cancel": cancellation_handler,
    "reply": reply_handler,
    "feedback": feedback_handler,
}


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
        poller = QueuePoller(self.sqs, queue, region=REGION)
        responses = []
        for _ in range(max_rounds):
            messages, outcome, _deleted = poller.poll(self.handler(function))
            if not messages:
                return responses
            if outcome.error:
                raise AssertionError(f"{function} raised: {outcome.error}")
            responses.append(outcome.response)
        raise AssertionError("queue did not drain")

    # ------------------------------------------------------------------------------ receiving

    region = REGION

    def client(self, service: str):
        return boto3.client(service, region_name=REGION)

    def receive_replies(self) -> None:
        """SES receiving for RSVP, as the stack builds it: the bucket, the topic the reply queue is
        subscribed to, and the active rule set whose rule stores there and notifies the topic."""
        s3, sns, ses = self.client("s3"), self.client("sns"), self.client("ses")
        s3.create_bucket(Bucket=INBOUND_BUCKET)
        topic = sns.create_topic(Name="calendar-invites-inbound")["TopicArn"]
        queue, _ = self.queues["reply"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["QueueArn"])
        ses.create_receipt_rule_set(RuleSetName=RULE_SET)
        action = {"BucketName": INBOUND_BUCKET, "ObjectKeyPrefix": "inbound/", "TopicArn": topic}
        rule = {"Name": "rsvp", "Enabled": True, "Recipients": [RSVP], "ScanEnabled": True}
        ses.create_receipt_rule(RuleSetName=RULE_SET, Rule={**rule, "Actions": [{"S3Action": action}]})
        ses.set_active_receipt_rule_set(RuleSetName=RULE_SET)

    def receive(self, raw: bytes, *, verdicts: dict[str, str] | None = None) -> str:
        """An email for RSVP through SES receiving (local/sources/ses_receiving.py); the body of the
        message it puts on the reply queue (the SNS envelope), taken off the queue."""
        receive_email(self, raw, recipient=RSVP, verdicts=verdicts)
        queue, _ = self.queues["reply"]
        [message] = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return message["Body"]

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
        *([f"DTSTAMP:{dtstamp}"] if dtstamp else []),
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
