"""Delivery feedback: SES event-publishing records in, what to record on the attendee out.

Pure. The record is SES's documented shape ("Contents of event data that Amazon SES publishes to
Amazon SNS"): ``eventType``, ``mail`` (``messageId``, ``timestamp``, ``destination``...) and the
event's own object (``bounce``, ``complaint``, ``delivery``, ``reject``, ``deliveryDelay``,
``failure``), in an SNS envelope or bare. What identifies the email and orders the events is
required, and a record without it raises :class:`InvalidRequest` naming each field (the DLQ, with
its reason); the rest is read leniently, since SES adds fields over time. The rules: docs/feedback.md.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.domain.envelopes import decode_body
from lambdas.domain.frozen import frozen
from lambdas.domain.items import AttendeeItem, Delivery, Suppression
from lambdas.domain.outcomes import RETRIED, Outcome
from lambdas.domain.suppression import suppresses
from lambdas.domain.validation import CONTROL_CHARACTERS, FieldError, InvalidRequest
from lambdas.domain.vocabulary import BounceType, DeliveryState

MAX_MESSAGE_ID = 256
MAX_DIAGNOSTIC = 1000  # what an operator needs of an SMTP answer; the rest stays in SES's record
_CONTROL_RUN = re.compile(f"{CONTROL_CHARACTERS}+")  # a run of them becomes one space


class FeedbackOutcome(Outcome):
    """What one SES feedback event led to (docs/feedback.md)."""

    FEEDBACK_RECORDED = "feedback_recorded"  # SES's feedback on an email is on its attendee and counted
    UNKNOWN_MESSAGE = "unknown_message"  # feedback on an email this table does not know: dropped
    NOT_YET_RECORDED = "not_yet_recorded", RETRIED  # ...sent moments ago, maybe not recorded yet: retried
    DUPLICATE = "duplicate"  # this very event is already recorded
    STALE = "stale"  # older than the recorded one: its email counted, the newer state kept
    IGNORED = "ignored"  # not feedback: an SES event type the configuration set does not publish


# eventType -> (the event's own object, the delivery state it leads to). "Rendering Failure" is
# how SES spells it in the record; the event destination's type is RENDERING_FAILURE.
RECORDED_EVENTS: dict[str, tuple[str, DeliveryState]] = {
    "Delivery": ("delivery", DeliveryState.DELIVERED),
    "Bounce": ("bounce", DeliveryState.BOUNCED),
    "Complaint": ("complaint", DeliveryState.COMPLAINED),
    "DeliveryDelay": ("deliveryDelay", DeliveryState.DELAYED),
    "Reject": ("reject", DeliveryState.REJECTED),
    "Rendering Failure": ("failure", DeliveryState.REJECTED),
    "RenderingFailure": ("failure", DeliveryState.REJECTED),
}
# Valid SES records that are not delivery feedback (the configuration set does not publish them).
OTHER_EVENTS = frozenset({"Send", "Open", "Click", "Subscription"})
# The event item's counters: how many emails of the event each befell.
COUNTERS: dict[DeliveryState, str] = {
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.BOUNCED: "bounced",
    DeliveryState.COMPLAINED: "complained",
}


@frozen
class FeedbackEvent:
    event_type: str  # SES's eventType
    ses_message_id: str  # mail.messageId: what SendEmail returned
    state: DeliveryState | None  # None: not delivery feedback (OTHER_EVENTS)
    at: str = ""  # the event's time (its object's timestamp, else mail.timestamp), event_time()
    sent_at: str = ""  # mail.timestamp, event_time()
    bounce_type: BounceType | None = None
    bounce_subtype: str = ""
    diagnostic: str = ""

    @property
    def suppresses(self) -> bool:
        return suppresses(self.state, self.bounce_type)


def parse_feedback(body: str | bytes | None) -> FeedbackEvent:
    """The SQS record body: an SNS envelope around the SES event record, or the bare record."""
    document = decode_body(body)
    errors: list[FieldError] = []
    # Feedback notifications set on the identity (not event publishing) say notificationType.
    event_type = document.get("eventType", document.get("notificationType"))
    mail = document.get("mail")
    if not isinstance(mail, dict):
        errors.append(FieldError("mail", "is required and must be an object"))
        mail = {}
    message_id = _text(mail.get("messageId"), MAX_MESSAGE_ID)
    if not message_id:
        errors.append(FieldError("mail.messageId", "is required: a non-empty string without controls"))
    if event_type in OTHER_EVENTS and not errors:
        return FeedbackEvent(event_type=event_type, ses_message_id=message_id, state=None)
    if event_type not in RECORDED_EVENTS:
        names = ", ".join(sorted({*RECORDED_EVENTS, *OTHER_EVENTS}))
        errors.append(FieldError("eventType", f"must be one of {names}"))
        raise InvalidRequest(errors)
    name, state = RECORDED_EVENTS[event_type]
    details = document.get(name)
    if not isinstance(details, dict):
        errors.append(FieldError(name, f"is required for a {event_type} event and must be an object"))
        details = {}
    sent_at = event_time(mail.get("timestamp"))
    at = event_time(details.get("timestamp")) or sent_at  # Reject and failure carry no time of their own
    if not at:
        errors.append(FieldError(f"{name}.timestamp", "or mail.timestamp is required: an ISO 8601 time"))
    bounce_type = None
    if state is DeliveryState.BOUNCED:
        raw = details.get("bounceType")
        bounce_type = BounceType(raw) if raw in BounceType._value2member_map_ else None
        if bounce_type is None:
            errors.append(FieldError("bounce.bounceType", "must be Permanent, Transient or Undetermined"))
    if errors:
        raise InvalidRequest(errors)
    return FeedbackEvent(
        event_type=event_type,
        ses_message_id=message_id,
        state=state,
        at=at,
        sent_at=sent_at,
        bounce_type=bounce_type,
        bounce_subtype=_text(details.get("bounceSubType"), 64) if bounce_type else "",
        diagnostic=_diagnostic(name, details),
    )


def event_time(raw: Any) -> str:
    """An SES timestamp as fixed-width UTC text (microseconds), so that text order is time order;
    "" when it is not an ISO 8601 time with a zone."""
    if not isinstance(raw, str):
        return ""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        return ""
    if value.tzinfo is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _diagnostic(name: str, details: dict[str, Any]) -> str:
    """What the event says happened, in the words of whoever said it."""
    recipients = details.get(
        {"bounce": "bouncedRecipients", "deliveryDelay": "delayedRecipients"}.get(name, "")
    )
    first = (
        recipients[0]
        if isinstance(recipients, list) and recipients and isinstance(recipients[0], dict)
        else {}
    )
    candidates = {
        "bounce": [first.get("diagnosticCode"), first.get("status")],
        "deliveryDelay": [details.get("delayType"), first.get("diagnosticCode")],
        "complaint": [details.get("complaintFeedbackType"), details.get("complaintSubType")],
        "delivery": [details.get("smtpResponse")],
        "reject": [details.get("reason")],
        "failure": [details.get("errorMessage")],
    }[name]
    return ": ".join(t for t in (_text(c, MAX_DIAGNOSTIC) for c in candidates) if t)[:MAX_DIAGNOSTIC]


def _text(raw: Any, limit: int) -> str:
    if not isinstance(raw, str):
        return ""
    return _CONTROL_RUN.sub(" ", raw).strip()[:limit]


# ------------------------------------------------------------------------------------- decisions


@frozen
class FeedbackPlan:
    """What one feedback event changes on its attendee item and its event's counters."""

    counter: str | None = None  # the event item counter to add one to
    count_key: str = ""  # "<counter>#<ses message id>", recorded so the email is counted once
    delivery: Delivery | None = None  # the new delivery state: the event is newer than the recorded one
    suppression: Suppression | None = None  # set if none is: the first suppressing event wins
    # The counted keys as the plan read them (the write appends to them, or, once they reach
    # items.COUNTED_FEEDBACK_CAP, keeps the newest and conditions on them being as read).
    counted_as_read: tuple[str, ...] = ()

    @property
    def changes_nothing(self) -> bool:
        return self.counter is None and self.delivery is None and self.suppression is None


def plan_feedback(attendee: AttendeeItem, event: FeedbackEvent) -> FeedbackPlan:
    """Decide on the attendee item as it is: the same event twice changes nothing the second time;
    an event older than the recorded one still counts its email, but leaves the newer state."""
    counter = COUNTERS.get(event.state)
    count_key = f"{counter}#{event.ses_message_id}" if counter else ""
    if count_key in attendee.counted_feedback:
        counter = None
    recorded = attendee.delivery
    newer = recorded is None or recorded.at < event.at
    delivery = (
        Delivery(
            state=event.state,
            at=event.at,
            message_id=event.ses_message_id,
            bounce_type=event.bounce_type,
            bounce_subtype=event.bounce_subtype,
            diagnostic=event.diagnostic,
        )
        if newer
        else None
    )
    suppression = None
    if event.suppresses and attendee.suppressed is None:
        detail = "/".join(p for p in (event.bounce_type, event.bounce_subtype) if p)
        suppression = Suppression(
            reason=event.state,
            at=event.at,
            message_id=event.ses_message_id,
            detail=": ".join(p for p in (detail, event.diagnostic) if p),
        )
    return FeedbackPlan(
        counter=counter,
        count_key=count_key if counter else "",
        delivery=delivery,
        suppression=suppression,
        counted_as_read=attendee.counted_feedback if counter else (),
    )


def unneeded_outcome(attendee: AttendeeItem, event: FeedbackEvent) -> FeedbackOutcome:
    """An event that changes nothing: this very event again (DUPLICATE), or an older one (STALE)."""
    recorded = attendee.delivery
    same = recorded is not None and recorded.at == event.at and recorded.message_id == event.ses_message_id
    counter = COUNTERS.get(event.state)
    counted = counter is not None and f"{counter}#{event.ses_message_id}" in attendee.counted_feedback
    return FeedbackOutcome.DUPLICATE if same or counted else FeedbackOutcome.STALE


def unknown_message_outcome(
    event: FeedbackEvent, now: datetime, recording_window: timedelta
) -> FeedbackOutcome:
    """Feedback on a message the table does not know. An email is recorded after its batch's sends,
    so feedback on one sent moments ago may come first: retried (SQS redelivers it after the
    visibility timeout, past the window). Otherwise it is not ours, or its send was never recorded:
    dropped, never retried forever."""
    sent = datetime.fromisoformat(event.sent_at) if event.sent_at else None
    if sent is not None and now - sent < recording_window:
        return FeedbackOutcome.NOT_YET_RECORDED
    return FeedbackOutcome.UNKNOWN_MESSAGE
