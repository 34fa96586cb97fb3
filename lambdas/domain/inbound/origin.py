"""Where a receipt notification may come from: this deployment's own receipt rule, and nowhere else.

The reply queue accepts messages from the inbound topic, but any principal of the account allowed
to send to the queue could put a notification there, with every verdict set to PASS and a bucket
of its choosing. So before anything is read, the notification must say what only the receipt rule
says: delivered by the inbound topic (the SNS envelope's ``TopicArn``), stored in the inbound
bucket under the rule's key prefix, for the RSVP address (the rule's only recipient). Anything else
is dead-lettered with every mismatch named, and the mail it points at is never read.
docs/replies.md, "The notification".
"""

from __future__ import annotations

from lambdas.domain.frozen import frozen
from lambdas.domain.inbound.notification import ReceivedMail
from lambdas.domain.validation import FieldError, InvalidRequest

# Echoed in the DLQ reason: enough to recognise a value, never a whole forged document.
_SHOWN = 200


@frozen
class ReceiptOrigin:
    """What the receipt rule of this deployment puts in every notification it sends."""

    topic_arn: str
    bucket: str
    key_prefix: str
    recipient: str  # the RSVP address


def check_origin(mail: ReceivedMail, origin: ReceiptOrigin) -> None:
    """Raises ``InvalidRequest`` naming every field that the receipt rule would not have written."""
    errors = []
    if not mail.topic_arn:
        errors.append(
            FieldError("TopicArn", "is missing: the notification did not come through the inbound topic")
        )
    elif mail.topic_arn != origin.topic_arn:
        errors.append(FieldError("TopicArn", f"{mail.topic_arn[:_SHOWN]!r} is not the inbound topic"))
    if mail.bucket != origin.bucket:
        errors.append(
            FieldError("receipt.action.bucketName", f"{mail.bucket[:_SHOWN]!r} is not the inbound bucket")
        )
    if not mail.object_key.startswith(origin.key_prefix):
        errors.append(
            FieldError(
                "receipt.action.objectKey", f"does not start with the inbound prefix {origin.key_prefix!r}"
            )
        )
    if origin.recipient.strip().lower() not in mail.recipients:
        errors.append(FieldError("receipt.recipients", "do not include the RSVP address"))
    if errors:
        raise InvalidRequest(errors)
