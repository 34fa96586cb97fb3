"""Send Event Invite: one record in, one outcome out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdas.domain.calendar import ItipMessage
from lambdas.domain.contract import InviteFanOut, parse_invite
from lambdas.domain.decisions import SendOutcome, classify_refused_invite, itip_status
from lambdas.domain.suppression import suppression_fields
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.domain.vocabulary import Method
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.sends import fan_out, send_claimed
from lambdas.runtime.services import Services

if TYPE_CHECKING:
    from lambdas.domain.events import EventDetails
    from lambdas.domain.items import EventItem

# An invite naming only the uid needs the event a full invite (or the organizer's calendar) stored.
NO_STORED_EVENT = FieldError("event.uid", "no stored event has this uid: send the event's details first")
EVENT_CANCELLED = "the event is cancelled: it takes no more attendees"
REMOVED_FROM_OCCURRENCE = "removed from this occurrence"
INVITED_BY_ORGANIZER = "the organizer's own calendar invites this attendee: one copy of the event is enough"


def handle_invite(services: Services, record: dict[str, Any]) -> RecordResult:
    request = parse_invite(record.get("body"))
    if isinstance(request, InviteFanOut):
        return _fan_out(services, request)
    attendee, lease = request.attendee, services.settings.claim_lease_seconds
    event = request.event
    if event is None:
        stored, details = _stored_event(services, request.uid)
        fields = {"uid": request.uid, "attendee": attendee.email}
        if details is None:
            return RecordResult(SendOutcome.STALE, fields={**fields, "reason": EVENT_CANCELLED})
        if stored.invited_by_organizer(attendee.email):
            return RecordResult(SendOutcome.SKIPPED, fields={**fields, "reason": INVITED_BY_ORGANIZER})
        event = details
    fields = {"uid": event.uid, "attendee": attendee.email, "sequence": event.sequence}
    if event.occurrence is not None:
        # One occurrence of a series: the series path (send_invite/series.py) is loaded by the first
        # series or occurrence, never by a single event's cold start (docs/performance.md).
        from lambdas.send_invite.series import occurrence_is_stale

        if occurrence_is_stale(services, event):
            return RecordResult(SendOutcome.STALE, fields=fields)
    now, token = services.clock(), services.new_token()
    claim = services.store.claim_invite(event.uid, attendee, event.sequence, token, now.timestamp(), lease)
    if not claim.claimed:
        outcome = classify_refused_invite(
            claim.attendee, claim.event_refused, event.sequence, now.timestamp(), lease
        )
        if outcome is SendOutcome.SUPPRESSED:
            fields |= suppression_fields(claim.attendee)
        return RecordResult(outcome, fields=fields)

    overrides = ()
    if event.recurrence is not None or event.occurrence is not None:
        from lambdas.send_invite.series import as_carried

        carried = as_carried(services, event, attendee.email)
        if carried is None:
            services.store.release(event.uid, attendee.email, token)
            return RecordResult(SendOutcome.STALE, fields={**fields, "reason": REMOVED_FROM_OCCURRENCE})
        event, overrides = carried
    itip = ItipMessage(
        method=Method.REQUEST,
        event=event,
        attendee=attendee,
        sequence=event.sequence,
        organizer_mailbox=services.settings.rsvp_email,
        dtstamp=now,
        status=itip_status(Method.REQUEST),
        overrides=overrides,
    )
    return send_claimed(services, record.get("messageId", ""), itip, token)


def _fan_out(services: Services, request: InviteFanOut) -> RecordResult:
    """One request per attendee. By uid, each stays by uid (its attendee gets the event as stored
    when sent, a later update included); the stored event is checked once here, so a wrong uid
    dead-letters one request rather than one per attendee."""
    if request.event is not None:
        event = request.event.as_dict()
    elif _stored_event(services, request.uid)[1] is None:
        return RecordResult(SendOutcome.STALE, fields={"uid": request.uid, "reason": EVENT_CANCELLED})
    else:
        event = {"uid": request.uid}
    count = fan_out(services, [{"event": event, "attendee": p.as_dict()} for p in request.attendees])
    return RecordResult(SendOutcome.FANNED_OUT, fields={"uid": request.uid, "attendees": count})


def _stored_event(services: Services, uid: str) -> tuple[EventItem, EventDetails | None]:
    """The stored event an invite by uid sends, and its details (at its stored sequence); None
    once it is cancelled: it takes no attendees (a new event needs a new uid). Without a stored
    event to send, the request is invalid."""
    stored = services.store.get_event(uid)
    details = None if stored is None or stored.is_cancelled else stored.details()
    if stored is None or (details is None and not stored.is_cancelled):
        raise InvalidRequest([NO_STORED_EVENT])
    return stored, details
