"""Send Event Invite: one record in, one outcome out."""

from __future__ import annotations

from typing import Any

from lambdas.domain.calendar import ItipMessage
from lambdas.domain.contract import InviteFanOut, parse_invite
from lambdas.domain.decisions import Outcome, classify_refused_invite, itip_status, suppression_fields
from lambdas.domain.vocabulary import Method
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.delivery import fan_out, send_claimed
from lambdas.runtime.services import Services


def handle_invite(services: Services, record: dict[str, Any]) -> RecordResult:
    request = parse_invite(record.get("body"))
    event = request.event
    if isinstance(request, InviteFanOut):
        details = event.as_dict()
        count = fan_out(services, [{"event": details, "attendee": p.as_dict()} for p in request.attendees])
        return RecordResult(Outcome.FANNED_OUT, fields={"uid": event.uid, "attendees": count})

    attendee, lease = request.attendee, services.settings.claim_lease_seconds
    now, token = services.clock(), services.new_token()
    claim = services.store.claim_invite(event.uid, attendee, event.sequence, token, now.timestamp(), lease)
    if not claim.claimed:
        outcome = classify_refused_invite(
            claim.attendee, claim.event_refused, event.sequence, now.timestamp(), lease
        )
        fields = {"uid": event.uid, "attendee": attendee.email, "sequence": event.sequence}
        if outcome is Outcome.SUPPRESSED:
            fields |= suppression_fields(claim.attendee)
        return RecordResult(outcome, fields=fields)

    itip = ItipMessage(
        method=Method.REQUEST,
        event=event,
        attendee=attendee,
        sequence=event.sequence,
        organizer_mailbox=services.settings.rsvp_email,
        dtstamp=now,
        status=itip_status(Method.REQUEST),
    )
    return send_claimed(services, record.get("messageId", ""), itip, token)
