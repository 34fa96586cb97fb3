"""The steps the functions share: dead-lettering, putting a throttled record back, and sending one
iTIP email (the send functions' send-then-record for a claimed attendee is ``runtime.sends``)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lambdas.adapters.mailer import SendThrottled
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.runtime.batch import AddressSuppressed
from lambdas.runtime.services import Services

if TYPE_CHECKING:
    from lambdas.domain.calendar import ItipMessage

# SES refuses these for good (e.g. an unverified recipient in the sandbox): retrying cannot help,
# so the request goes to the DLQ with SES's reason, to be redriven once the cause is fixed.
PERMANENT_SES_ERRORS = frozenset(
    {"MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException"}
)
# SES v2 documents that it *accepts* a send to an address on the account-level suppression list and
# then publishes a Permanent bounce (subtype OnAccountSuppressionList), which the feedback path
# records. Should SES refuse one instead (SES v1 and SMTP said "Address blacklisted"), that is the
# same end: not sent, not retried, and not an invalid request (docs/feedback.md).
_SUPPRESSION_REFUSAL = re.compile(r"suppress|blacklist", re.IGNORECASE)
# How many times SES may refuse one request for its rate or daily quota before the request is
# treated as failed (SQS retries it, then dead-letters it with the DLQ alarm). Rate throttling
# clears in seconds and the daily quota within 24 hours (at most ~96 delays of 15 minutes), so only
# a refusal that never clears gets there: throttling is retried for long, never forever.
MAX_SES_REFUSALS = 200
SES_REFUSALS_ATTRIBUTE = "sesRefusals"


class RefusedTooOften(RuntimeError):
    """SES refused this request for its quota more than MAX_SES_REFUSALS times."""


def dead_letter(services: Services, record: dict[str, Any], invalid: InvalidRequest) -> None:
    services.queues.dead_letter(
        body=record.get("body") or "",
        source_message_id=record.get("messageId", ""),
        reason=str(invalid),
        errors=[e.as_dict() for e in invalid.errors],
    )


def put_back(services: Services, record: dict[str, Any], throttled: SendThrottled) -> int:
    """The record's body back on its queue after ``throttled.retry_after`` seconds; the delay given.

    The original is then reported as done: a new message starts at receive count 0, so waiting for
    the rate never moves a request to the DLQ, and the claim was given back, so the copy (or a
    redelivery of the original, should the function die now) finds the attendee free, or already
    sent to (``duplicate``)."""
    refusals = _ses_refusals(record) + (1 if throttled.by_ses else 0)
    if refusals > MAX_SES_REFUSALS:
        raise RefusedTooOften(f"SES refused this request {refusals} times: {throttled.reason}")
    attributes = {SES_REFUSALS_ATTRIBUTE: str(refusals)} if refusals else {}
    return services.queues.put_back(record.get("body") or "", throttled.retry_after, attributes)


def _ses_refusals(record: dict[str, Any]) -> int:
    attribute = (record.get("messageAttributes") or {}).get(SES_REFUSALS_ATTRIBUTE) or {}
    try:
        return max(0, int(attribute.get("stringValue") or 0))
    except (TypeError, ValueError):
        return 0


def ses_suppression_refusal(error: Exception) -> str:
    """SES's message when it refused a send because the address is suppressed; "" otherwise."""
    if not isinstance(error, ClientError):
        return ""
    details = error.response.get("Error", {})
    message = details.get("Message") or ""
    refused = details.get("Code") == "MessageRejected" and _SUPPRESSION_REFUSAL.search(message)
    return message if refused else ""


def send_itip(services: Services, itip: ItipMessage, *, release: Callable[[], None]) -> str:
    """Render and send one iTIP email; returns the SES message id.

    On failure the claim is given back (``release``) so a redelivery need not wait for its lease,
    and a permanent SES refusal becomes InvalidRequest (the DLQ, with SES's reason)."""
    # Loaded by the first email sent, not at import: this module's dead-lettering serves every
    # function, and record feedback never renders an email (docs/performance.md, "Cold start").
    from lambdas.domain.message import render_email

    try:
        rendered = render_email(itip, services.envelope)
        return services.mailer.send(itip.attendee.email, rendered.raw)
    except Exception as error:
        # Best effort: the lease expires on its own; the send error is what gets reported.
        with contextlib.suppress(Exception):
            release()
        if refused := ses_suppression_refusal(error):
            fields = {"uid": itip.event.uid, "attendee": itip.attendee.email, "method": itip.method}
            raise AddressSuppressed(f"SES: {refused}", fields) from error
        if (
            isinstance(error, ClientError)
            and error.response.get("Error", {}).get("Code") in PERMANENT_SES_ERRORS
        ):
            reason = error.response["Error"].get("Message") or error.response["Error"]["Code"]
            raise InvalidRequest(
                [FieldError("attendee.email", f"SES refused the message: {reason}")]
            ) from error
        raise
