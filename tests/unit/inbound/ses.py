"""SES "Received" notifications for tests, shaped like the shared fixture (an S3 action with a topic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "replies"

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:cis-inbound"
PASS_ALL = {"spf": "PASS", "dkim": "PASS", "dmarc": "PASS", "spam": "PASS", "virus": "PASS"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ses_notification(
    *,
    message_id: str = "12f9a75d526842fa9b85754d0919db91",
    bucket: str = "cis-inbox-123456789012",
    key: str | None = None,
    sender: str = "ana@example.org",
    recipients: tuple[str, ...] = ("rsvp@cis.example.com",),
    verdicts: dict[str, str] | None = None,
    timestamp: str = "2026-11-24T12:00:05.000Z",
    dmarc_policy: str | None = None,
) -> dict[str, Any]:
    """The bare SES notification (what SNS carries in ``Message``)."""
    verdicts = {**PASS_ALL, **(verdicts or {})}
    return {
        "notificationType": "Received",
        "mail": {
            "timestamp": timestamp,
            "source": sender,
            "messageId": message_id,
            "destination": list(recipients),
            "headersTruncated": False,
            "commonHeaders": {"returnPath": sender, "from": [sender], "to": list(recipients)},
        },
        "receipt": {
            "timestamp": "2026-11-24T12:00:05.000Z",
            "processingTimeMillis": 400,
            "recipients": list(recipients),
            **{f"{name}Verdict": {"status": status} for name, status in verdicts.items()},
            # SES sends the From: domain's DMARC policy only with a FAIL verdict.
            **({"dmarcPolicy": dmarc_policy} if dmarc_policy is not None else {}),
            "action": {
                "type": "S3",
                "topicArn": TOPIC_ARN,
                "bucketName": bucket,
                "objectKeyPrefix": "inbound/",
                "objectKey": key if key is not None else f"inbound/{message_id}",
            },
        },
    }


def sns_envelope(notification: dict[str, Any] | str, topic_arn: str = TOPIC_ARN) -> str:
    """The SQS body a queue subscribed to the topic receives (raw message delivery off)."""
    message = notification if isinstance(notification, str) else json.dumps(notification)
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "20d761e764214d408a51799020c47766",
            "TopicArn": topic_arn,
            "Subject": "Amazon SES Email Receipt Notification",
            "Message": message,
            "Timestamp": "2026-11-24T12:00:05.500Z",
            "SignatureVersion": "1",
        }
    )
