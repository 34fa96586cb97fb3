"""Idempotency decisions, kept pure so every rule is testable without AWS.

Each delivery of one iTIP message to one attendee first *claims* the attendee item with a
conditional write (the atomic primitive: two concurrent copies cannot both win). When the claim is
refused, the item as it was (``ReturnValuesOnConditionCheckFailure=ALL_OLD``) says why, and the
functions here turn that into an outcome.
"""

from __future__ import annotations

import logging

from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.outcomes import RETRIED, Outcome, SharedOutcome
from lambdas.domain.vocabulary import (
    AttendeeStatus,
    CancelIntent,
    EventStatus,
    Method,
)


class SendOutcome(Outcome):
    """What one record of send invite or send cancellation ended as (docs/idempotency.md)."""

    SENT = "sent"  # the email left through SES and the records were written
    FANNED_OUT = "fanned_out"  # a multi-attendee request was split onto the queue
    DUPLICATE = "duplicate"  # this attendee already has exactly this message
    STALE = "stale"  # a newer message (or the event's cancellation) already went out
    # Nothing to send: a cancellation for someone never invited, or an invite by uid for someone
    # the organizer's own calendar invites (docs/organizer.md, "Identity").
    SKIPPED = "skipped"
    # Another delivery holds the claim, its lease not yet run out: retried after the visibility timeout.
    IN_FLIGHT = "in_flight", RETRIED, logging.WARNING
    SUPPRESSED = "suppressed"  # not sent: the address hard-bounced or complained (docs/feedback.md)


def claim_is_live(attendee: AttendeeItem | None, now: float, lease_seconds: int) -> bool:
    """True while another delivery may still be sending (its lease has not run out)."""
    pending = attendee.pending if attendee else None
    return pending is not None and pending.since > now - lease_seconds


def classify_refused_invite(
    attendee: AttendeeItem | None,
    event_refused: bool,
    sequence: int,
    now: float,
    lease_seconds: int,
) -> Outcome:
    """Why an invite claim for ``sequence`` was refused.

    ``event_refused``: the event item's check failed, i.e. the event was cancelled at a sequence
    at least as high as this request's.
    """
    if event_refused:
        return SendOutcome.STALE
    if claim_is_live(attendee, now, lease_seconds):
        return SendOutcome.IN_FLIGHT
    sent = -1 if attendee is None or attendee.sequence is None else attendee.sequence
    if sent == sequence and attendee.status is AttendeeStatus.INVITED:
        return SendOutcome.DUPLICATE
    if sent >= sequence:
        return SendOutcome.STALE
    if attendee is not None and attendee.suppressed is not None:
        return SendOutcome.SUPPRESSED
    # The claim was refused but nothing explains it (a concurrent change between the write and the
    # read of ALL_OLD): let SQS redeliver and decide again.
    return SharedOutcome.RETRY_LATER


def classify_refused_cancellation(attendee: AttendeeItem | None, now: float, lease_seconds: int) -> Outcome:
    """Why a cancellation claim was refused."""
    if attendee is None:
        return SendOutcome.SKIPPED  # never invited: nothing to cancel, nothing to retry
    if claim_is_live(attendee, now, lease_seconds):
        return SendOutcome.IN_FLIGHT
    if attendee.status in (AttendeeStatus.CANCELLED, AttendeeStatus.REMOVED):
        return SendOutcome.DUPLICATE
    if attendee.suppressed is not None:
        return SendOutcome.SUPPRESSED
    return SendOutcome.SKIPPED


def superseded_by_update(before: AttendeeItem | None, cancel_sequence: int | None) -> bool:
    """Whether one attendee's share of a whole-event cancellation came after the event was
    re-scheduled: the attendee was sent a REQUEST above the cancellation's sequence (which the
    event item lets through), so cancelling now would cancel the new event."""
    sent = before.sequence if before else None
    return sent is not None and cancel_sequence is not None and sent > cancel_sequence


def receives_event_cancellation(attendee: AttendeeItem) -> bool:
    """Whether a whole-event cancellation is sent to this attendee.

    An expired claim without a status is an invite that may have been sent before its function
    died: it is cancelled too rather than left in a calendar. Removed attendees already had theirs.
    """
    invited = attendee.status is AttendeeStatus.INVITED or attendee.pending is not None
    return invited and bool(attendee.email)


# ------------------------------------------------------------------------------------ sequences


def cancellation_sequence(
    requested: int | None, attendee_sent: int | None, event_sequence: int | None
) -> int:
    """SEQUENCE for a CANCEL: strictly above anything this attendee or the event was sent.

    Receivers ignore a cancellation whose SEQUENCE did not go up (RFC 5546 §2.1.4).
    """
    floor = max(
        -1 if attendee_sent is None else attendee_sent, -1 if event_sequence is None else event_sequence
    )
    return max(requested or 0, floor + 1)


def event_cancellation_sequence(requested: int | None, event: EventItem | None) -> int:
    """SEQUENCE of a whole-event cancellation, the same for every attendee.

    A repeated cancellation keeps the first one's sequence, so its fan-out repeats it exactly (and
    attendees already cancelled at it end as duplicates).
    """
    if event is None:
        return cancellation_sequence(requested, None, None)
    sequence = cancellation_sequence(requested, None, event.sequence)
    return sequence if event.cancelled_sequence is None else max(sequence, event.cancelled_sequence)


def attendee_cancellation_sequence(
    requested: int | None, before: AttendeeItem | None, event_sequence: int | None
) -> int:
    """SEQUENCE of a CANCEL to one attendee, given the attendee item as its claim found it.

    An expired claim counts as sent: its function may have sent that sequence before it died.
    """
    sent = [before.sequence, before.pending.sequence if before.pending else None] if before else []
    known = [s for s in sent if s is not None]
    return cancellation_sequence(requested, max(known) if known else None, event_sequence)


# --------------------------------------------------------------------------------------- statuses


def itip_status(method: Method, intent: CancelIntent | None = None) -> EventStatus | None:
    """The VEVENT STATUS of an email: none when a CANCEL only removes the attendee (RFC 5546 §3.2.5)."""
    if method is Method.REQUEST:
        return EventStatus.CONFIRMED
    return None if intent is CancelIntent.REMOVE_ATTENDEE else EventStatus.CANCELLED


def attendee_status_after(
    method: Method, itip_status: EventStatus | None, *, one_occurrence: bool = False
) -> AttendeeStatus:
    """What the attendee item records once the email was sent. One occurrence cancelled leaves
    the attendee invited to the rest of the series."""
    if method is Method.REQUEST or one_occurrence:
        return AttendeeStatus.INVITED
    return AttendeeStatus.CANCELLED if itip_status is EventStatus.CANCELLED else AttendeeStatus.REMOVED


def stale_occurrence_change(sequence: int, event: EventItem | None) -> bool:
    """An occurrence change at or below the series' last change (the stored sequence) is stale:
    the series message that went out after it already says what that occurrence is."""
    series = event.sequence if event else None
    return series is not None and sequence <= series


def occurrence_already_cancelled(before: AttendeeItem | None, occurrence: str) -> bool:
    """Whether this attendee was already sent the CANCEL of this occurrence (every later series
    message carries it as an EXDATE, so it stays cancelled)."""
    history = before.history if before else ()
    return any(e.method is Method.CANCEL and e.occurrence == occurrence for e in history)


def occurrence_cancellation_sequence(
    requested: int | None, event_sequence: int | None, override_sequence: int | None
) -> int:
    """SEQUENCE of a CANCEL of one occurrence: above that occurrence's own (the series', or its
    override's when it was changed), so receivers take it; not above the other occurrences', so
    the producer's next series update, one above the series, still goes out."""
    floors = [s for s in (event_sequence, override_sequence) if s is not None]
    return max(requested or 0, max(floors, default=-1) + 1)
