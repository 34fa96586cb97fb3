"""Send Event Cancellation: one record in, one outcome out."""

from __future__ import annotations

from typing import Any

from lambdas.domain.calendar import ItipMessage
from lambdas.domain.contract import (
    CancelIntent,
    CancelRequest,
    EventDetails,
    FieldError,
    InvalidRequest,
    Person,
    event_cancellation_share,
    parse_cancellation,
)
from lambdas.domain.decisions import (
    Outcome,
    attendee_cancellation_sequence,
    classify_refused_cancellation,
    event_cancellation_sequence,
    itip_status,
    receives_event_cancellation,
    superseded_by_update,
    suppression_fields,
)
from lambdas.domain.items import EventItem
from lambdas.domain.vocabulary import Method
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.delivery import fan_out, send_claimed
from lambdas.runtime.services import Services

# A cancellation that carries only the uid needs the event the invite function stored.
NO_STORED_EVENT = FieldError("event.uid", "no stored event has this uid; give the event's details")
# scope "event" with an attendee once cancelled the whole event while naming one attendee
# (docs/message-contract.md, "Migration"); it is now honoured only as the share of a
# cancellation that already happened.
EVENT_NOT_CANCELLED = FieldError(
    "scope",
    "'event' with an attendee only tells that attendee of a cancelled event, and this event is not"
    " cancelled: leave scope out to remove the attendee, or give the uid alone to cancel the event",
)


def handle_cancellation(services: Services, record: dict[str, Any]) -> RecordResult:
    request = parse_cancellation(record.get("body"))
    if request.intent is CancelIntent.CANCEL_EVENT:
        return _cancel_whole_event(services, request)
    return _cancel_for_attendee(services, request, record.get("messageId", ""))


def _details(request: CancelRequest, stored: EventItem | None) -> EventDetails:
    event = request.event or (stored.details() if stored else None)
    if event is None:
        raise InvalidRequest([NO_STORED_EVENT])
    return event


def _cancel_whole_event(services: Services, request: CancelRequest) -> RecordResult:
    stored = services.store.get_event(request.uid)
    event = _details(request, stored)
    sequence = event_cancellation_sequence(request.sequence, stored)
    services.store.mark_event_cancelled(request.uid, sequence, services.clock().isoformat(timespec="seconds"))
    invited = [a.person for a in services.store.attendees(request.uid) if receives_event_cancellation(a)]
    details = {**event.as_dict(), "sequence": sequence}
    count = fan_out(services, [event_cancellation_share(details, person) for person in invited])
    fields = {"uid": request.uid, "intent": request.intent, "attendees": count, "sequence": sequence}
    return RecordResult(Outcome.FANNED_OUT, fields=fields)


def _cancel_for_attendee(services: Services, request: CancelRequest, record_id: str) -> RecordResult:
    unverified_share = request.intent is CancelIntent.NOTIFY_CANCELLED and not request.from_fan_out
    stored = services.store.get_event(request.uid) if request.event is None or unverified_share else None
    if unverified_share and not (stored and stored.is_cancelled):
        raise InvalidRequest([EVENT_NOT_CANCELLED])
    event = _details(request, stored)
    attendee, lease = request.attendee, services.settings.claim_lease_seconds
    fields = {"uid": request.uid, "attendee": attendee.email, "intent": request.intent}
    now, token = services.clock(), services.new_token()
    claim = services.store.claim_cancellation(request.uid, attendee.email, token, now.timestamp(), lease)
    if not claim.claimed:
        outcome = classify_refused_cancellation(claim.attendee, now.timestamp(), lease)
        if outcome is Outcome.SUPPRESSED:
            fields |= suppression_fields(claim.attendee)
        return RecordResult(outcome, fields=fields)

    before = claim.attendee
    if request.intent is CancelIntent.NOTIFY_CANCELLED and superseded_by_update(before, request.sequence):
        services.store.release(request.uid, attendee.email, token)
        return RecordResult(Outcome.STALE, fields=fields)
    sequence = attendee_cancellation_sequence(request.sequence, before, stored.sequence if stored else None)
    itip = ItipMessage(
        method=Method.CANCEL,
        event=event,
        attendee=Person(email=attendee.email, name=attendee.name or (before.name if before else "")),
        sequence=sequence,
        organizer_mailbox=services.settings.rsvp_email,
        dtstamp=now,
        status=itip_status(Method.CANCEL, request.intent),
    )
    return send_claimed(services, record_id, itip, token)
