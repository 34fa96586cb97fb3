"""Record Feedback: one SES event-publishing record in, one outcome out.

record -> its email, by SES message id (the message item) -> the attendee item -> what the event
changes (lambdas.domain.feedback), written conditionally on what it was decided from. The rules
and their reasons: docs/feedback.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lambdas.domain.feedback import (
    FeedbackOutcome,
    parse_feedback,
    plan_feedback,
    unknown_message_outcome,
    unneeded_outcome,
)
from lambdas.domain.outcomes import SharedOutcome
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.services import Services

# A refused write means another copy (or a newer event) was written first: decide again on the item
# it left (the refusal returns it). Each refusal is someone else's success, so a few settle twelve
# concurrent copies; past them SQS redelivers the record.
DECIDE_ATTEMPTS = 5


def handle_feedback(services: Services, record: dict[str, Any]) -> RecordResult:
    event = parse_feedback(record.get("body"))  # InvalidRequest: the DLQ, with its reason
    fields: dict[str, Any] = {"sesMessageId": event.ses_message_id, "eventType": event.event_type}
    if event.state is None:
        return RecordResult(FeedbackOutcome.IGNORED, fields=fields)
    message = services.store.get_message(event.ses_message_id)
    if message is not None and message.expired(services.clock()):
        # Past its retention, whether or not DynamoDB has deleted it yet (it does so lazily): the
        # attendee may no longer know this email's count keys (items.COUNTED_FEEDBACK_CAP).
        message = None
    attendee = services.store.get_attendee(message.uid, message.email) if message else None
    if message is None or attendee is None:
        # An email is recorded within one invocation of its send: the claim lease bounds it.
        window = timedelta(seconds=2 * services.settings.claim_lease_seconds)
        return RecordResult(unknown_message_outcome(event, services.clock(), window), fields=fields)
    fields |= {"uid": message.uid, "attendee": message.email, "state": event.state, "at": event.at}
    if event.bounce_type:
        fields |= {"bounceType": event.bounce_type, "bounceSubType": event.bounce_subtype}
    if event.diagnostic:
        fields["diagnostic"] = event.diagnostic
    for _ in range(DECIDE_ATTEMPTS):
        plan = plan_feedback(attendee, event)
        if plan.changes_nothing:
            return RecordResult(unneeded_outcome(attendee, event), fields=fields)
        refused = services.store.record_feedback(message.uid, message.email, plan)
        if refused is None:
            written = {
                "counted": plan.counter or "",
                "stateUpdated": plan.delivery is not None,
                "suppressed": plan.suppression is not None,
            }
            return RecordResult(FeedbackOutcome.FEEDBACK_RECORDED, fields={**fields, **written})
        if refused.attendee is None:
            return RecordResult(
                FeedbackOutcome.UNKNOWN_MESSAGE, fields={**fields, "reason": "attendee item gone"}
            )
        attendee = refused.attendee
    return RecordResult(SharedOutcome.RETRY_LATER, fields={**fields, "reason": "contended: redelivered"})
