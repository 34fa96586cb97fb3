"""The SES "Received" notification of an S3 receipt action, as the reply queue delivers it.

Only what locates the stored email and what SES concluded about it is read. A notification that
can never lead to an email (not JSON, another notification type, another action, no bucket or key)
raises :class:`InvalidRequest` naming every bad field, so the batch loop dead-letters it with its
reason. Everything else is read leniently: a missing verdict is "", a missing recipient list is
empty, extra fields are ignored (SES adds fields over time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from lambdas.domain.envelopes import decode_sns_body
from lambdas.domain.frozen import frozen
from lambdas.domain.validation import CONTROL, FieldError, InvalidRequest

MAX_KEY = 1024  # S3's own limit on an object key, in UTF-8 bytes
MAX_BUCKET = 63
MAX_ADDRESS = 320  # RFC 5321: 64 for the local part, 255 for the domain, and the "@"
MAX_SUBJECT = 998  # RFC 5322's line limit; the log line cuts it shorter


@frozen
class Verdicts:
    """SES receipt verdicts, upper-case ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED"); "" when absent."""

    spf: str = ""
    dkim: str = ""
    dmarc: str = ""
    spam: str = ""
    virus: str = ""
    # receipt.dmarcPolicy, lower-cased: the From: domain's policy, sent by SES with a dmarc FAIL
    # ("none", "quarantine", "reject"); "" when absent.
    dmarc_policy: str = ""


@frozen
class ReceivedMail:
    """What the notification says: where the raw email is stored, and SES's verdicts on it."""

    ses_message_id: str  # mail.messageId: the stored object's key ends with it
    bucket: str
    object_key: str
    recipients: tuple[str, ...]  # receipt.recipients, lower-cased
    verdicts: Verdicts
    # mail.timestamp: when SES received it, the same on every redelivery; None if absent or unreadable
    received_at: datetime | None = None
    # The SNS envelope's TopicArn: "" for a bare notification (lambdas.domain.inbound.origin).
    topic_arn: str = ""
    # mail.commonHeaders, as SES read them: the one From: address (lower-cased; "" unless exactly one)
    # and the Subject:. Only for the log line of mail refused before it is read.
    sender: str = ""
    subject: str = ""


# When a receipt rule with a topic is created, SES proves it can deliver: it publishes a test
# notification to the topic and writes a test object named so into the bucket. Neither is mail.
SETUP_NOTIFICATION_TYPE = "AmazonSnsSubscriptionSucceeded"
SETUP_OBJECT = "AMAZON_SES_SETUP_NOTIFICATION"


class SetupNotification(Exception):
    """SES's own test notification for a new receipt rule: nothing to read, nothing to retry."""


def parse_receipt_notification(body: str | bytes | None) -> ReceivedMail:
    """The SQS record body: an SNS envelope around the SES notification, or the bare notification.

    Raises ``SetupNotification`` for SES's test notification of a new rule (it arrives once per
    deployment, and must neither reach the DLQ nor raise its alarm)."""
    document, topic_arn = decode_sns_body(body)
    if _is_setup(document):
        raise SetupNotification(str(document.get("message") or SETUP_OBJECT)[:300])
    errors: list[FieldError] = []
    if document.get("notificationType") != "Received":
        errors.append(FieldError("notificationType", "must be 'Received'"))
    mail = _object(document, "mail", "mail", errors)
    receipt = _object(document, "receipt", "receipt", errors)
    action = _object(receipt, "action", "receipt.action", errors) if receipt is not None else None
    message_id = _string(mail, "messageId", "mail.messageId", errors, 256) if mail is not None else None
    bucket = key = None
    if action is not None:
        if action.get("type") != "S3":
            errors.append(FieldError("receipt.action.type", "must be 'S3' (the raw email is read from S3)"))
        bucket = _string(action, "bucketName", "receipt.action.bucketName", errors, MAX_BUCKET)
        key = _string(action, "objectKey", "receipt.action.objectKey", errors, MAX_KEY)
    if errors:
        raise InvalidRequest(errors)
    common = mail.get("commonHeaders")
    common = common if isinstance(common, dict) else {}
    return ReceivedMail(
        ses_message_id=message_id,
        bucket=bucket,
        object_key=key,
        recipients=_recipients(receipt.get("recipients")),
        received_at=_timestamp(mail.get("timestamp")),
        verdicts=Verdicts(
            spf=_verdict(receipt, "spfVerdict"),
            dkim=_verdict(receipt, "dkimVerdict"),
            dmarc=_verdict(receipt, "dmarcVerdict"),
            spam=_verdict(receipt, "spamVerdict"),
            virus=_verdict(receipt, "virusVerdict"),
            dmarc_policy=_policy(receipt.get("dmarcPolicy")),
        ),
        topic_arn=topic_arn,
        sender=_sender(common.get("from")),
        subject=common["subject"][:MAX_SUBJECT] if isinstance(common.get("subject"), str) else "",
    )


def _is_setup(document: dict[str, Any]) -> bool:
    if document.get("notificationType") == SETUP_NOTIFICATION_TYPE:
        return True
    mail, receipt = document.get("mail"), document.get("receipt")
    action = receipt.get("action") if isinstance(receipt, dict) else None
    return (isinstance(mail, dict) and mail.get("messageId") == SETUP_OBJECT) or (
        isinstance(action, dict) and str(action.get("objectKey", "")).endswith(SETUP_OBJECT)
    )


def _object(parent: dict[str, Any], name: str, path: str, errors: list[FieldError]) -> dict | None:
    value = parent.get(name)
    if not isinstance(value, dict):
        errors.append(FieldError(path, "is required and must be an object"))
        return None
    return value


def _string(parent: dict[str, Any], name: str, path: str, errors: list[FieldError], max_len: int):
    value = parent.get(name)
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(path, "is required and must be a non-empty string"))
        return None
    if len(value) > max_len or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        errors.append(FieldError(path, f"must be at most {max_len} characters, without control characters"))
        return None
    return value


def _recipients(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(item.strip().lower() for item in raw if isinstance(item, str) and item.strip())


def _sender(raw: Any) -> str:
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], str):
        return ""
    address = parseaddr(raw[0])[1].strip().lower()
    return address if "@" in address and len(address) <= MAX_ADDRESS and not CONTROL.search(address) else ""


def _verdict(receipt: dict[str, Any], name: str) -> str:
    verdict = receipt.get(name)
    status = verdict.get("status") if isinstance(verdict, dict) else None
    return status.strip().upper() if isinstance(status, str) else ""


def _timestamp(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _policy(raw: Any) -> str:
    return raw.strip().lower()[:32] if isinstance(raw, str) else ""
