"""The steps every function shares: dead-lettering an invalid record, and putting back one SES
throttled (sending an email is ``runtime.sends``: the functions that never send do not load it)."""

from __future__ import annotations

from typing import Any

from lambdas.adapters.mailer import SendThrottled
from lambdas.domain.validation import InvalidRequest
from lambdas.runtime.services import Services

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
