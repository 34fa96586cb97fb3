"""Idempotency decisions, kept pure so every rule is testable without AWS.

Each delivery of one iTIP message to one attendee first *claims* the attendee item with a
conditional write (the atomic primitive: two concurrent copies cannot both win). When the claim is
refused, the item as it was (``ReturnValuesOnConditionCheckFailure=ALL_OLD``) says why, and the
functions here turn that into an outcome. The rules only a cancellation needs (who receives one,
its SEQUENCE) are ``cancellation_decisions``, which send invite never loads (docs/performance.md,
"Cold start").
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
