"""SES "Received" notifications for tests, shaped like the shared fixture (an S3 action with a topic),
built by local/shapes.py as the local runtime's SES receiving builds them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local import shapes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "replies"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:cis-inbound"
RECEIVED_AT = datetime(2026, 11, 24, 12, 0, 5, tzinfo=UTC)


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
    dmarc_policy: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The bare SES notification (what SNS carries in ``Message``); every verdict PASS unless given,
    ``timestamp`` the mail's (when SES received it)."""
    received = datetime.fromisoformat(timestamp) if timestamp else RECEIVED_AT
    return shapes.receipt_notification(
        shapes.received_mail(message_id, sender, recipients, received),
        verdicts={name: "PASS" for name in shapes.VERDICTS} | (verdicts or {}),
        bucket=bucket,
        key=key if key is not None else f"inbound/{message_id}",
        prefix="inbound/",
        topic_arn=TOPIC_ARN,
        at=RECEIVED_AT,
        dmarc_policy=dmarc_policy,
    )


def sns_envelope(notification: dict[str, Any] | str, topic_arn: str = TOPIC_ARN) -> str:
    """The SQS body a queue subscribed to the topic (the inbound one by default) receives (raw
    message delivery off)."""
    return shapes.sns_envelope(notification, topic_arn=topic_arn, subject=shapes.RECEIPT_SUBJECT)
