"""Send Event Cancellation: one record in, one outcome out."""

from __future__ import annotations

import dataclasses
from typing import Any

from lambdas.domain.calendar import ItipMessage
from lambdas.domain.cancellation_contract import CancelRequest, event_cancellation_share, parse_cancellation
from lambdas.domain.cancellation_decisions import (
    attendee_cancellation_sequence,
    classify_refused_cancellation,
    event_cancellation_sequence,
    occurrence_already_cancelled,
    occurrence_cancellation_sequence,
    receives_event_cancellation,
    superseded_by_update,
)
from lambdas.domain.decisions import SendOutcome, itip_status
from lambdas.domain.events import EventDetails, Person
from lambdas.domain.items import AttendeeItem, EventItem, occurrence_text
from lambdas.domain.suppression import suppression_fields
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.domain.vocabulary import CancelIntent, Method
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.sends import fan_out, send_claimed
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


NOT_A_SERIES = FieldError("event.occurrence", "the event is not a series")
NOT_AN_OCCURRENCE = FieldError("event.occurrence", "is not an occurrence of the series")


def handle_cancellation(services: Services, record: dict[str, Any]) -> RecordResult:
    request = parse_cancellation(record.get("body"))
    if request.intent is CancelIntent.CANCEL_EVENT and request.occurrence is not None:
        return _cancel_occurrence_for_everyone(services, request)
    if request.intent is CancelIntent.CANCEL_EVENT:
        return _cancel_whole_event(services, request)
    return _cancel_for_attendee(services, request, record.get("messageId", ""))


def _details(request: CancelRequest, stored: EventItem | None) -> EventDetails:
    event = request.event or (stored.details() if stored else None)
    if event is None:
        raise InvalidRequest([NO_STORED_EVENT])
    if request.occurrence is not None and event.occurrence is None:
        return _one_occurrence(event, request.occurrence)
    return event


def _one_occurrence(series: EventDetails, written: str) -> EventDetails:
    """The series' details for one of its occurrences, read like the series' start."""
    if series.recurrence is None:
        raise InvalidRequest([NOT_A_SERIES])
    from lambdas.domain.recurrence import read_occurrence_start  # series only: see EventDetails.recurrence

    occurrence = read_occurrence_start(written, series.start, series.timezone)
    if isinstance(occurrence, str):
        raise InvalidRequest([FieldError("event.occurrence", occurrence)])
    if not series.recurrence.includes(occurrence):
        raise InvalidRequest([NOT_AN_OCCURRENCE])
    return dataclasses.replace(series, rrule="", exdates=(), occurrence=occurrence)


def _cancel_occurrence_for_everyone(services: Services, request: CancelRequest) -> RecordResult:
    """Record the occurrence as cancelled (later series messages leave it out), then tell every
    invited attendee with a CANCEL of that occurrence (docs/recurrence.md)."""
    stored = services.store.get_event(request.uid)
    event = _details(request, stored)
    occurrence = occurrence_text(event.occurrence)
    sequence = _occurrence_sequence(services, request, stored, occurrence)
    services.store.record_override(
        request.uid, {"occurrence": occurrence, "sequence": sequence, "cancelled": True}
    )
    invited = [a.person for a in services.store.attendees(request.uid) if receives_event_cancellation(a)]
    details = {**event.as_dict(), "sequence": sequence}
    count = fan_out(services, [event_cancellation_share(details, person) for person in invited])
    fields = {"uid": request.uid, "occurrence": occurrence, "attendees": count, "sequence": sequence}
    return RecordResult(SendOutcome.FANNED_OUT, fields=fields)


def _cancel_whole_event(services: Services, request: CancelRequest) -> RecordResult:
    stored = services.store.get_event(request.uid)
    event = _details(request, stored)
    sequence = event_cancellation_sequence(request.sequence, stored)
    services.store.mark_event_cancelled(request.uid, sequence, services.clock().isoformat(timespec="seconds"))
    invited = [a.person for a in services.store.attendees(request.uid) if receives_event_cancellation(a)]
    details = {**event.as_dict(), "sequence": sequence}
    count = fan_out(services, [event_cancellation_share(details, person) for person in invited])
    fields = {"uid": request.uid, "intent": request.intent, "attendees": count, "sequence": sequence}
    return RecordResult(SendOutcome.FANNED_OUT, fields=fields)


def _occurrence_sequence(
    services: Services, request: CancelRequest, stored: EventItem | None, occurrence: str
) -> int:
    changed = [o.sequence for o in services.store.overrides(request.uid) if o.occurrence == occurrence]
    series = stored.sequence if stored else None
    return occurrence_cancellation_sequence(request.sequence, series, max(changed, default=None))


def _uncounted(services: Services, uid: str, email: str, before: AttendeeItem, one_occurrence: str) -> bool:
    """Take the removed attendee's answers out of the counts: for one occurrence, their answer to
    it; for the event, the series answer and every occurrence's. True when nothing was counted."""
    if one_occurrence and one_occurrence not in before.occurrence_replies:
        return True
    if not one_occurrence and not before.counted_as and not before.occurrence_replies:
        return True
    # Imported when an answer is to be taken out: a cancellation's cold start never loads the rules.
    from lambdas.send_cancellation import uncount

    if one_occurrence:
        return uncount.uncount_occurrence(services.store, uid, email, one_occurrence)
    return uncount.uncount(services.store, uid, email)


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
        if outcome is SendOutcome.SUPPRESSED:
            fields |= suppression_fields(claim.attendee)
        return RecordResult(outcome, fields=fields)

    before = claim.attendee
    one_occurrence = "" if event.occurrence is None else occurrence_text(event.occurrence)
    if one_occurrence and occurrence_already_cancelled(before, one_occurrence):
        services.store.release(request.uid, attendee.email, token)
        return RecordResult(SendOutcome.DUPLICATE, fields=fields)
    # A later series update carries a cancelled occurrence as an EXDATE: it never supersedes it.
    superseded = not one_occurrence and superseded_by_update(before, request.sequence)
    if request.intent is CancelIntent.NOTIFY_CANCELLED and superseded:
        services.store.release(request.uid, attendee.email, token)
        return RecordResult(SendOutcome.STALE, fields=fields)
    if one_occurrence and request.from_fan_out:
        sequence = request.sequence  # the one the whole occurrence's cancellation chose
    elif one_occurrence:
        sequence = _occurrence_sequence(services, request, stored, one_occurrence)
    else:
        sequence = attendee_cancellation_sequence(
            request.sequence, before, stored.sequence if stored else None
        )
    itip = ItipMessage(
        method=Method.CANCEL,
        event=event,
        attendee=Person(email=attendee.email, name=attendee.name or (before.name if before else "")),
        sequence=sequence,
        organizer_mailbox=services.settings.rsvp_email,
        dtstamp=now,
        status=itip_status(Method.CANCEL, request.intent),
    )
    result = send_claimed(services, record_id, itip, token)
    # Counts follow the attendees: a removed attendee's answers no longer count (docs/replies.md).
    # After the send, so an email that never left changes no count; a failure here is retried.
    if (
        request.intent is CancelIntent.REMOVE_ATTENDEE
        and before
        and not _uncounted(services, request.uid, attendee.email, before, one_occurrence)
    ):
        raise RuntimeError("the removed attendee's answer could not be taken out of the counts")
    return result
