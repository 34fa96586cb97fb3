"""What a function fed by SES receiving decides from the notification alone, before reading any mail.

Record reply and follow organizer both start here: a forgery (another topic, bucket, prefix or
recipient) goes to the DLQ with its reason, and mail SES condemned is refused unread, so S3 is
never read for either (docs/replies.md, "One record").
"""

from __future__ import annotations

from typing import Any

from lambdas.domain.inbound.notification import ReceivedMail, SetupNotification, parse_receipt_notification
from lambdas.domain.inbound.origin import check_origin
from lambdas.domain.inbound.trust import condemned_by_verdicts
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.services import Services

MAX_SUBJECT_LOGGED = 200


def screened(services: Services, record: dict[str, Any], outcomes) -> ReceivedMail | RecordResult:
    """The notified mail, still unread; or the record's end, as ``outcomes.IGNORED`` (an SES setup
    notification) or ``outcomes.UNTRUSTED`` (condemned by SES's verdicts). A notification that is
    not one, or a forgery, raises InvalidRequest: the DLQ, with its reason."""
    try:
        mail = parse_receipt_notification(record.get("body"))
    except SetupNotification as setup:
        return RecordResult(outcomes.IGNORED, fields={"reason": f"SES setup notification: {setup}"})
    check_origin(mail, services.settings.required_receipt_origin())
    condemned = condemned_by_verdicts(mail.verdicts)
    if condemned:
        # From: and Subject: as SES read them (mail.commonHeaders): the mail itself is never opened.
        fields = {**where(mail), "from": mail.sender, "subject": mail.subject[:MAX_SUBJECT_LOGGED]}
        return RecordResult(outcomes.UNTRUSTED, fields={**fields, "reason": condemned})
    return mail


def where(mail: ReceivedMail) -> dict[str, str]:
    """Where the mail is, for every outcome line: the bucket keeps it until it expires."""
    return {"sesMessageId": mail.ses_message_id, "bucket": mail.bucket, "key": mail.object_key}
