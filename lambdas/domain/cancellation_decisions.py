"""The idempotency decisions only a cancellation needs, kept pure like those of ``decisions``: why a
cancellation claim was refused, which attendees a whole-event cancellation reaches, and the
SEQUENCE of each CANCEL. Send invite never loads them (docs/performance.md, "Cold start").
"""

from __future__ import annotations

from lambdas.domain.decisions import SendOutcome, claim_is_live
from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.outcomes import Outcome
from lambdas.domain.vocabulary import AttendeeStatus, Method


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
