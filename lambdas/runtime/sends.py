"""Sending iTIP email: render and send one (``send_itip``: every record of the send functions, and
record reply's answer to a REFRESH), and the send functions' own steps: fan a request out onto
their queue, and send-then-record for an attendee this delivery claimed, whose completion
(``send_expressions``) the batch's one write records. The send functions load this module at
their cold start; record reply at its first REFRESH; record feedback never (docs/performance.md,
"Cold start")."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lambdas.adapters.mailer import ses_permanent_refusal
from lambdas.adapters.send_expressions import Completion
from lambdas.domain.decisions import SendOutcome, attendee_status_after
from lambdas.domain.items import occurrence_text
from lambdas.domain.message import render_email
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.runtime.batch import AddressSuppressed, RecordResult
from lambdas.runtime.services import Services

if TYPE_CHECKING:
    from lambdas.domain.calendar import ItipMessage

# SES v2 documents that it *accepts* a send to an address on the account-level suppression list and
# then publishes a Permanent bounce (subtype OnAccountSuppressionList), which the feedback path
# records. Should SES refuse one instead (SES v1 and SMTP said "Address blacklisted"), that is the
# same end: not sent, not retried, and not an invalid request (docs/feedback.md).
_SUPPRESSION_REFUSAL = re.compile(r"suppress|blacklist", re.IGNORECASE)


def fan_out(services: Services, bodies: list[dict[str, Any]]) -> int:
    """Enqueue single-attendee requests on the function's own queue."""
    return services.queues.enqueue([json.dumps(body) for body in bodies])


def send_claimed(services: Services, record_id: str, itip: ItipMessage, token: str) -> RecordResult:
    """Render and send for an attendee this delivery has claimed; the record is written per batch."""
    uid, email = itip.event.uid, itip.attendee.email
    fields = {"uid": uid, "attendee": email, "method": itip.method, "sequence": itip.sequence}
    message_id = send_itip(services, itip, release=lambda: services.store.release(uid, email, token))
    occurrence = "" if itip.event.occurrence is None else occurrence_text(itip.event.occurrence)
    completion = Completion(
        record_id=record_id,
        method=itip.method,
        uid=uid,
        email=email,
        name=itip.attendee.name,
        token=token,
        sequence=itip.sequence,
        message_id=message_id,
        sent_at=itip.dtstamp.isoformat(timespec="seconds"),
        attendee_status=attendee_status_after(itip.method, itip.status, one_occurrence=occurrence != ""),
        event=itip.event.as_dict(),
        occurrence=occurrence,
    )
    return RecordResult(
        SendOutcome.SENT, completion=completion, fields={**fields, "sesMessageId": message_id}
    )


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
        if reason := ses_permanent_refusal(error):
            raise InvalidRequest(
                [FieldError("attendee.email", f"SES refused the message: {reason}")]
            ) from error
        raise
