"""SES event-publishing records, in the shapes of the SES developer guide ("Examples of event data
that Amazon SES publishes to Amazon SNS"), and the SNS envelope the feedback queue receives."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from local.account import SENDER

ACCOUNT_ID = "123456789012"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:calendar-invite-feedback"
CONFIGURATION_SET = "calendar-invites"


def iso(when: datetime) -> str:
    """SES's own format: milliseconds and a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def mail(message_id: str, recipient: str, sent: datetime) -> dict:
    return {
        "timestamp": iso(sent),
        "source": SENDER,
        "sourceArn": f"arn:aws:ses:us-east-1:{ACCOUNT_ID}:identity/{SENDER}",
        "sendingAccountId": ACCOUNT_ID,
        "messageId": message_id,
        "destination": [recipient],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": SENDER},
            {"name": "To", "value": recipient},
            {"name": "Subject", "value": "CalendarSnack Event Invite: Quarterly planning"},
            {"name": "MIME-Version", "value": "1.0"},
        ],
        "commonHeaders": {"from": [SENDER], "to": [recipient], "messageId": message_id},
        "tags": {
            "ses:configuration-set": [CONFIGURATION_SET],
            "ses:source-ip": ["192.0.2.0"],
            "ses:from-domain": ["example.com"],
            "ses:caller-identity": ["send-invite"],
        },
    }


def _record(event_type: str, name: str, details: dict, message_id: str, recipient: str, sent) -> dict:
    return {"eventType": event_type, name: details, "mail": mail(message_id, recipient, sent)}


def _feedback_id() -> str:
    return f"0100{uuid.uuid4().hex}-000000"


def bounce(message_id, recipient, at, sent, bounce_type="Permanent", subtype="General") -> dict:
    hard = bounce_type == "Permanent"
    status = "5.1.1" if hard else "4.2.2"
    code = "smtp; 550 5.1.1 user unknown" if hard else "smtp; 452 4.2.2 mailbox full"
    failed = {"emailAddress": recipient, "action": "failed", "status": status, "diagnosticCode": code}
    details = {"bounceType": bounce_type, "bounceSubType": subtype, "bouncedRecipients": [failed]}
    details |= {"timestamp": iso(at), "feedbackId": _feedback_id(), "reportingMTA": "dsn; mta.example.org"}
    return _record("Bounce", "bounce", details, message_id, recipient, sent)


def complaint(message_id, recipient, at, sent) -> dict:
    details = {"complainedRecipients": [{"emailAddress": recipient}], "timestamp": iso(at)}
    details |= {"feedbackId": _feedback_id(), "userAgent": "Mozilla/5.0", "complaintFeedbackType": "abuse"}
    details["arrivalDate"] = iso(at)
    return _record("Complaint", "complaint", details, message_id, recipient, sent)


def delivery(message_id, recipient, at, sent) -> dict:
    details = {"timestamp": iso(at), "processingTimeMillis": 1234, "recipients": [recipient]}
    details |= {"smtpResponse": "250 2.6.0 Message received", "reportingMTA": "mta.example.org"}
    return _record("Delivery", "delivery", details, message_id, recipient, sent)


def delivery_delay(message_id, recipient, at, sent) -> dict:
    delayed = {"emailAddress": recipient, "status": "4.2.2", "diagnosticCode": "smtp; 452 4.2.2 Mailbox full"}
    details = {
        "timestamp": iso(at),
        "delayType": "MailboxFull",
        "expirationTime": iso(at + timedelta(hours=12)),
    }
    details |= {"delayedRecipients": [delayed], "reportingMTA": "mta.example.org"}
    return _record("DeliveryDelay", "deliveryDelay", details, message_id, recipient, sent)


def reject(message_id, recipient, at, sent) -> dict:
    # A Reject record has no time of its own: the email's is used.
    return _record("Reject", "reject", {"reason": "Bad content"}, message_id, recipient, sent)


def sns_envelope(record: dict) -> str:
    """The SQS body when the subscription is not raw: SNS's Notification around the record."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": TOPIC_ARN,
            "Message": json.dumps(record),
            "Timestamp": iso(datetime.now(UTC)),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
    )
