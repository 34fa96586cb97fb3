"""The AWS message shapes the functions receive, each built here and nowhere else.

* ``sqs_record``: an SQS message as Lambda passes it to a handler (local/sources/sqs.py's poller,
  and the tests and benchmark that invoke a handler directly);
* ``sns_envelope``: the body a queue subscribed to a topic receives (raw message delivery off);
* ``receipt_notification`` (with ``received_mail``): the "Received" notification an SES receipt
  rule's S3 action publishes (local/sources/ses_receiving.py, and the tests' inbox);
* ``bounce``, ``complaint``, ``delivery``, ``delivery_delay``, ``reject``: the event-publishing
  records of a configuration set, in the shapes of the SES developer guide ("Examples of event
  data that Amazon SES publishes to Amazon SNS"); local/sources/ses_feedback.py publishes them
  for the emails moto accepted, the tests build them directly. Each takes the email's SES message
  id, its recipient, the event's time and the send's, and optionally the ``Sender`` (source
  address, account, region, configuration set) the email went out with.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lambdas.runtime.config import PLACEHOLDER_SENDER

ACCOUNT_ID = "123456789012"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:calendar-invite-feedback"
CONFIGURATION_SET = "calendar-invites"
EVENT_TYPES = ("Bounce", "Complaint", "Delivery", "DeliveryDelay", "Reject")


@dataclass(frozen=True)
class Sender:
    """What SES knows of the send: who sent it, from which account, through which configuration set."""

    source: str = PLACEHOLDER_SENDER
    account: str = ACCOUNT_ID
    region: str = "us-east-1"
    configuration_set: str = CONFIGURATION_SET
    subject: str = "CalendarSnack Event Invite: Quarterly planning"


DEFAULT_SENDER = Sender()


def iso(when: datetime) -> str:
    """SES's own format: milliseconds and a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def mail(message_id: str, recipient: str, sent: datetime, sender: Sender = DEFAULT_SENDER) -> dict:
    source = sender.source
    return {
        "timestamp": iso(sent),
        "source": source,
        "sourceArn": f"arn:aws:ses:{sender.region}:{sender.account}:identity/{source}",
        "sendingAccountId": sender.account,
        "messageId": message_id,
        "destination": [recipient],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": source},
            {"name": "To", "value": recipient},
            {"name": "Subject", "value": sender.subject},
            {"name": "MIME-Version", "value": "1.0"},
        ],
        "commonHeaders": {"from": [source], "to": [recipient], "messageId": message_id},
        "tags": {
            "ses:configuration-set": [sender.configuration_set],
            "ses:source-ip": ["192.0.2.0"],
            "ses:from-domain": [source.rpartition("@")[2]],
            "ses:caller-identity": ["send-invite"],
        },
    }


def _record(event_type: str, name: str, details: dict, message_id, recipient, sent, sender) -> dict:
    return {"eventType": event_type, name: details, "mail": mail(message_id, recipient, sent, sender)}


def _feedback_id() -> str:
    return f"0100{uuid.uuid4().hex}-000000"


def bounce(
    message_id, recipient, at, sent, bounce_type="Permanent", subtype="General", sender=DEFAULT_SENDER
) -> dict:
    hard = bounce_type == "Permanent"
    status = "5.1.1" if hard else "4.2.2"
    code = "smtp; 550 5.1.1 user unknown" if hard else "smtp; 452 4.2.2 mailbox full"
    failed = {"emailAddress": recipient, "action": "failed", "status": status, "diagnosticCode": code}
    details = {"bounceType": bounce_type, "bounceSubType": subtype, "bouncedRecipients": [failed]}
    details |= {"timestamp": iso(at), "feedbackId": _feedback_id(), "reportingMTA": "dsn; mta.example.org"}
    return _record("Bounce", "bounce", details, message_id, recipient, sent, sender)


def complaint(message_id, recipient, at, sent, sender=DEFAULT_SENDER) -> dict:
    details = {"complainedRecipients": [{"emailAddress": recipient}], "timestamp": iso(at)}
    details |= {"feedbackId": _feedback_id(), "userAgent": "Mozilla/5.0", "complaintFeedbackType": "abuse"}
    details["arrivalDate"] = iso(at)
    return _record("Complaint", "complaint", details, message_id, recipient, sent, sender)


def delivery(message_id, recipient, at, sent, sender=DEFAULT_SENDER) -> dict:
    details = {"timestamp": iso(at), "processingTimeMillis": 1234, "recipients": [recipient]}
    details |= {"smtpResponse": "250 2.6.0 Message received", "reportingMTA": "mta.example.org"}
    return _record("Delivery", "delivery", details, message_id, recipient, sent, sender)


def delivery_delay(message_id, recipient, at, sent, sender=DEFAULT_SENDER) -> dict:
    delayed = {"emailAddress": recipient, "status": "4.2.2", "diagnosticCode": "smtp; 452 4.2.2 Mailbox full"}
    details = {
        "timestamp": iso(at),
        "delayType": "MailboxFull",
        "expirationTime": iso(at + timedelta(hours=12)),
    }
    details |= {"delayedRecipients": [delayed], "reportingMTA": "mta.example.org"}
    return _record("DeliveryDelay", "deliveryDelay", details, message_id, recipient, sent, sender)


def reject(message_id, recipient, at, sent, sender=DEFAULT_SENDER) -> dict:
    # A Reject record has no time of its own: the email's is used.
    return _record("Reject", "reject", {"reason": "Bad content"}, message_id, recipient, sent, sender)


BUILDERS = {
    "Bounce": bounce,
    "Complaint": complaint,
    "Delivery": delivery,
    "DeliveryDelay": delivery_delay,
    "Reject": reject,
}


def sns_envelope(message: dict | str, *, topic_arn: str = TOPIC_ARN, subject: str | None = None) -> str:
    """The SQS body when the subscription is not raw: SNS's Notification around the message."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            **({"Subject": subject} if subject is not None else {}),
            "Message": message if isinstance(message, str) else json.dumps(message),
            "Timestamp": iso(datetime.now(UTC)),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
    )


def sqs_record(
    body: str,
    message_id: str | None = None,
    *,
    queue_arn: str = "",
    region: str = "",
    message: dict | None = None,
) -> dict:
    """The SQS record as Lambda passes it to the handler; ``message`` is ReceiveMessage's entry."""
    message = message or {}
    record = {
        "messageId": message.get("MessageId") or message_id or str(uuid.uuid4()),
        "receiptHandle": message.get("ReceiptHandle", ""),
        "body": body,
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


# ------------------------------------------------------------------ SES receiving

RECEIPT_SUBJECT = "Amazon SES Email Receipt Notification"  # the SNS subject of a receipt notification
VERDICTS = ("spam", "virus", "spf", "dkim", "dmarc")


def received_mail(
    message_id: str,
    source: str,
    recipients: list[str] | tuple[str, ...],
    at: datetime,
    *,
    common_headers: dict | None = None,
    headers: list[dict] | None = None,
) -> dict:
    """The ``mail`` object of a receipt notification (``headers``: every header, name and value)."""
    mail = {
        "timestamp": iso(at),
        "source": source,
        "messageId": message_id,
        "destination": list(recipients),
        "headersTruncated": False,
        **({"headers": headers} if headers is not None else {}),
        "commonHeaders": common_headers or {"returnPath": source, "from": [source], "to": list(recipients)},
    }
    return mail


def receipt_notification(
    mail: dict,
    *,
    verdicts: dict[str, str],
    bucket: str,
    key: str,
    prefix: str = "",
    topic_arn: str | None = None,
    at: datetime,
    processing_ms: int = 400,
    dmarc_policy: str | None = None,
) -> dict:
    """The "Received" notification of an S3 action (``verdicts``: status per check of VERDICTS;
    ``dmarc_policy``: the From: domain's, which SES sends only with a FAIL verdict)."""
    receipt = {
        "timestamp": iso(at),
        "processingTimeMillis": processing_ms,
        "recipients": list(mail["destination"]),
        **{f"{name}Verdict": {"status": status} for name, status in verdicts.items()},
        **({"dmarcPolicy": dmarc_policy} if dmarc_policy is not None else {}),
        "action": {
            "type": "S3",
            **({"topicArn": topic_arn} if topic_arn else {}),
            "bucketName": bucket,
            "objectKeyPrefix": prefix,
            "objectKey": key,
        },
    }
    return {"notificationType": "Received", "mail": mail, "receipt": receipt}
