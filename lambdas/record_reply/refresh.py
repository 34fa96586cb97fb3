"""Record Reply, a REFRESH: the latest REQUEST sent again (same SEQUENCE), once per REFRESH mail,
whatever redelivers it. The one answer that sends an email: this module, with the rendering and
the send decisions, is loaded by the first REFRESH (docs/performance.md, "Cold start")."""

from __future__ import annotations

from lambdas.adapters.reply_expressions import Received
from lambdas.domain.calendar import ItipMessage
from lambdas.domain.decisions import itip_status
from lambdas.domain.inbound.itip import CalendarAnswer
from lambdas.domain.occurrence_answers import answered_occurrence, one_occurrence
from lambdas.domain.outcomes import SharedOutcome
from lambdas.domain.rarer_answers import decide_refresh
from lambdas.domain.replies import Refusal, ReplyOutcome
from lambdas.domain.series_overrides import series_with_overrides, without_excluded
from lambdas.domain.vocabulary import Method, PartStat
from lambdas.record_reply.answers import Answered, refused
from lambdas.runtime.sends import send_itip
from lambdas.runtime.services import Services


def send_again(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    """Send the latest REQUEST again (same SEQUENCE), once per REFRESH mail, whatever redelivers it."""
    uid, email, inbound = answer.uid, answer.attendee, received.ses_message_id
    now, token, lease = services.clock(), services.new_token(), services.settings.claim_lease_seconds
    event, attendee = services.store.event_and_attendee(uid, email)
    sequence = decide_refresh(event, attendee, inbound, now.timestamp(), lease)
    if isinstance(sequence, Refusal):
        return refused(sequence)
    details = event.details()  # before the claim: stored details too thin to render hold nothing
    if details is None:
        return ReplyOutcome.UNKNOWN_EVENT, {"reason": "the stored event has too few details to send again"}
    occurrence = None
    if answer.recurrence_id:  # "this event only": that occurrence is sent again, as it stands
        occurrence = answered_occurrence(answer.recurrence_id, event, attendee)
        if isinstance(occurrence, Refusal):
            return refused(occurrence)
    claim = services.store.claim_refresh(uid, email, sequence, inbound, token, now.timestamp(), lease)
    if not claim.claimed:
        # Refused: the same rules, on the attendee item as the refusal returned it. Not claimed
        # again here: the details to send were read with the item before it changed.
        again = decide_refresh(event, claim.attendee, inbound, now.timestamp(), lease)
        if isinstance(again, Refusal):
            return refused(again)
        return SharedOutcome.RETRY_LATER, {"reason": "the attendee item changed: decide again later"}
    overrides = ()
    if details.recurrence is not None:  # the series as it stands: its changed and cancelled occurrences
        details, overrides = series_with_overrides(details, services.store.overrides(uid))
        details, overrides = without_excluded(details, overrides, attendee.excluded_occurrences)
    if occurrence is not None:
        details, overrides = one_occurrence(details, overrides, occurrence), ()
    itip = ItipMessage(
        method=Method.REQUEST,
        event=details,
        attendee=attendee.person,
        sequence=sequence,
        organizer_mailbox=services.settings.rsvp_email,
        dtstamp=now,
        status=itip_status(Method.REQUEST),
        attendee_partstat=_partstat_for(attendee, occurrence) or PartStat.NEEDS_ACTION,
        overrides=overrides,
    )
    release = lambda: services.store.release_refresh(uid, email, token)  # noqa: E731
    message_id = send_itip(services, itip, release=release)
    entry = {
        "method": Method.REQUEST,
        "sequence": sequence,
        "at": now.isoformat(timespec="seconds"),
        "message_id": message_id,
        "refresh_of": inbound,
    }
    # Refused only if the lease ran out and a redelivery took over: it records its own send.
    services.store.record_refresh(uid, email, inbound, token, entry)
    return ReplyOutcome.REFRESHED, {"sentMessageId": message_id}


def _partstat_for(attendee, occurrence: str | None) -> PartStat | None:
    """The answer the organizer has from the attendee: for one occurrence, its own if any."""
    reply = attendee.occurrence_replies.get(occurrence) if occurrence else None
    return reply.partstat if reply is not None and reply.partstat else attendee.partstat
