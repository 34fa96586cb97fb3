"""Record Feedback: one SES event-publishing record in, one outcome out.

record -> its email, by SES message id (the message item) -> the attendee item -> what the event
changes (lambdas.domain.feedback), written conditionally on what it was decided from, and decided
again on the item a refusal returns (lambdas.domain.decide_again). The rules and their reasons:
docs/feedback.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lambdas.domain.decide_again import decide_and_write
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
    settled = decide_and_write(
        attendee,
        decide=lambda attendee: plan_feedback(attendee, event) if attendee is not None else None,
        writes=lambda plan: plan is not None and not plan.changes_nothing,
        write=lambda plan, _: services.store.record_feedback(message.uid, message.email, plan),
    )
    if settled is None:
        return RecordResult(SharedOutcome.RETRY_LATER, fields={**fields, "reason": "contended: redelivered"})
    plan = settled.decision
    if plan is None:
        return RecordResult(
            FeedbackOutcome.UNKNOWN_MESSAGE, fields={**fields, "reason": "attendee item gone"}
        )
    if not settled.written:
        return RecordResult(unneeded_outcome(settled.items, event), fields=fields)
    written = {
        "counted": plan.counter or "",
        "stateUpdated": plan.delivery is not None,
        "suppressed": plan.suppression is not None,
    }
    return RecordResult(FeedbackOutcome.FEEDBACK_RECORDED, fields={**fields, **written})
