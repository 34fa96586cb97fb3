"""Send Event Cancellation: one record in, one outcome out."""

from __future__ import annotations

from typing import Any

from lambdas.domain.calendar import CANCEL, ItipMessage
from lambdas.domain.contract import (
    CancelRequest,
    EventDetails,
    FieldError,
    InvalidRequest,
    Person,
    event_from_dict,
    parse_cancellation,
)
from lambdas.domain.decisions import INVITED, Outcome, cancellation_sequence, classify_refused_cancellation
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.delivery import fan_out, send_claimed
from lambdas.runtime.services import Services

# A cancellation that carries only the uid needs the event the invite function stored.
NO_STORED_EVENT = FieldError("event.uid", "no stored event has this uid; give the event's details")


def handle_cancellation(services: Services, record: dict[str, Any]) -> RecordResult:
    request = parse_cancellation(record.get("body"))
    if request.attendee is None:
        return _cancel_whole_event(services, request)
    return _cancel_for_attendee(services, request, record.get("messageId", ""))


def _stored_event(services: Services, uid: str) -> tuple[dict[str, Any] | None, EventDetails | None]:
    stored = services.store.get_event(uid)
    if stored is None or "summary" not in stored:
        return stored, None
    return stored, event_from_dict(stored)


def _cancel_whole_event(services: Services, request: CancelRequest) -> RecordResult:
    stored, stored_details = _stored_event(services, request.uid)
    event = request.event or stored_details
    if event is None:
        raise InvalidRequest([NO_STORED_EVENT])
    stored = stored or {}
    sequence = cancellation_sequence(request.sequence, None, stored.get("sequence"))
    # A repeated cancellation keeps the first one's sequence, so its fan-out repeats it exactly.
    sequence = max(sequence, int(stored.get("cancelled_sequence", -1)))
    services.store.mark_event_cancelled(request.uid, sequence, services.clock().isoformat(timespec="seconds"))
    invited = [
        Person(email=item["email"], name=item.get("name", ""))
        for item in services.store.attendees(request.uid)
        if "email" in item and (item.get("status") == INVITED or "pending" in item)
    ]
    details = {**event.as_dict(), "sequence": sequence}
    count = fan_out(services, details, invited, scope="event") if invited else 0
    return RecordResult(
        Outcome.FANNED_OUT, fields={"uid": request.uid, "attendees": count, "sequence": sequence}
    )


def _cancel_for_attendee(services: Services, request: CancelRequest, record_id: str) -> RecordResult:
    stored, event = None, request.event
    if event is None:
        stored, event = _stored_event(services, request.uid)
        if event is None:
            raise InvalidRequest([NO_STORED_EVENT])
    attendee, lease = request.attendee, services.settings.claim_lease_seconds
    fields = {"uid": request.uid, "attendee": attendee.email}
    now, token = services.clock(), services.new_token()
    claim = services.store.claim_cancellation(request.uid, attendee.email, token, now.timestamp(), lease)
    if not claim.claimed:
        return RecordResult(
            classify_refused_cancellation(claim.attendee, now.timestamp(), lease), fields=fields
        )

    before = claim.attendee or {}
    sent = max(int(before.get("sequence", -1)), int((before.get("pending") or {}).get("sequence", -1)))
    sequence = cancellation_sequence(
        request.sequence, sent if sent >= 0 else None, (stored or {}).get("sequence")
    )
    itip = ItipMessage(
        method=CANCEL,
        event=event,
        attendee=Person(email=attendee.email, name=attendee.name or before.get("name", "")),
        sequence=sequence,
        organizer_mailbox=services.settings.rsvp_email,
        dtstamp=now,
        status="CANCELLED" if request.scope == "event" else None,
    )
    return send_claimed(services, record_id, itip, token, cancels_event=request.scope == "event")
