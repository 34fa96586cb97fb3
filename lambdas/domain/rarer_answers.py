"""What the rarer answers change, decided like a REPLY (``replies``) from the event and attendee
items as they were read: an answer not proven to be the attendee's (kept apart, never counted), a
COUNTER's proposal (kept for the organizer) and a REFRESH (the latest REQUEST sent again). Loaded by
the first such answer: most answers are verified REPLYs (docs/performance.md, "Cold start")."""

from __future__ import annotations

from datetime import datetime

from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.replies import (
    MAX_REFRESHES,
    Answer,
    Refusal,
    ReplyOutcome,
    event_refusal,
    invited_sequence,
    recordable_partstat,
)
from lambdas.domain.suppression import suppression_fields
from lambdas.domain.vocabulary import AttendeeStatus


def decide_unverified(answer: Answer, event: EventItem | None, attendee: AttendeeItem | None):
    """None to keep an unverified answer (docs/replies.md, "Trust") apart on the attendee item, or
    the Refusal. Kept only for invited attendees: an unproven answer never creates an item."""
    refused = event_refusal(event)
    if refused:
        return refused
    not_an_answer = recordable_partstat(answer)
    if isinstance(not_an_answer, Refusal):
        return not_an_answer
    sent = invited_sequence(attendee)
    if sent is None or attendee.status is not AttendeeStatus.INVITED:
        return Refusal(ReplyOutcome.SKIPPED, "an unverified answer for someone the organizer did not invite")
    if answer.sequence < sent:
        return Refusal(ReplyOutcome.STALE, f"answers SEQUENCE {answer.sequence}; {sent} was sent since")
    return _dtstamp_refusal(answer, attendee.unverified, "unverified answer", "kept")


def decide_counter(answer: Answer, event: EventItem | None, attendee: AttendeeItem | None):
    """None to record the proposal, or the Refusal. Proposals only come from invited attendees."""
    refused = event_refusal(event)
    if refused:
        return refused
    sent = invited_sequence(attendee)
    if sent is None:
        return Refusal(ReplyOutcome.SKIPPED, "a proposal from someone the organizer did not invite")
    if answer.sequence < sent:
        return Refusal(
            ReplyOutcome.STALE, f"proposes a change to SEQUENCE {answer.sequence}; {sent} was sent since"
        )
    return _dtstamp_refusal(answer, attendee.counter, "proposal", "recorded")


def _dtstamp_refusal(answer: Answer, stored, what: str, kept: str) -> Refusal | None:
    """A copy of the stored message is a duplicate, an earlier one is stale (ordered by DTSTAMP)."""
    if stored is None or not stored.dtstamp:
        return None
    recorded = datetime.fromisoformat(stored.dtstamp)
    if answer.dtstamp == recorded:
        return Refusal(ReplyOutcome.DUPLICATE, f"this {what} is already {kept}")
    if answer.dtstamp < recorded:
        return Refusal(ReplyOutcome.STALE, f"a later {what} (DTSTAMP) is {kept}")
    return None


def decide_refresh(
    event: EventItem | None,
    attendee: AttendeeItem | None,
    ses_message_id: str,
    now: float,
    lease_seconds: int,
):
    """The sequence to send again, or the Refusal (RFC 5546 §3.2.6: the latest REQUEST, same SEQUENCE).

    The same rules decide before the claim and on the item a refused claim returns, so what the
    claim's condition refuses (``refresh_expressions.refresh_claim``) is named here."""
    refused = event_refusal(event)
    if refused:
        return refused
    sent = invited_sequence(attendee)
    if sent is None or attendee.status is not AttendeeStatus.INVITED:
        return Refusal(ReplyOutcome.SKIPPED, "a refresh from someone the organizer did not invite")
    if ses_message_id in attendee.refreshed:
        return Refusal(ReplyOutcome.DUPLICATE, "this refresh request was already answered")
    claimed = attendee.refresh_pending
    if claimed is not None and claimed.since > now - lease_seconds:
        return Refusal(ReplyOutcome.IN_FLIGHT, "another delivery is answering a refresh for this attendee")
    if len(attendee.refreshed) >= MAX_REFRESHES:
        return Refusal(ReplyOutcome.SKIPPED, f"{MAX_REFRESHES} refresh requests were already answered")
    if attendee.suppressed is not None:  # a hard bounce or a complaint: nothing more is sent
        return Refusal(ReplyOutcome.SUPPRESSED, suppression_fields(attendee)["reason"])
    if sent < (event.sequence or 0):
        # Only the stored details' own version can be rendered; the update is on its way to them.
        return Refusal(ReplyOutcome.STALE, f"an update (SEQUENCE {event.sequence}) is being sent")
    return sent
