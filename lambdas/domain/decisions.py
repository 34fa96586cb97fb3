"""Idempotency decisions, kept pure so every rule is testable without AWS.

Each delivery of one iTIP message to one attendee first *claims* the attendee item with a
conditional write (the atomic primitive: two concurrent copies cannot both win). When the claim is
refused, the item as it was (``ReturnValuesOnConditionCheckFailure=ALL_OLD``) says why, and the
functions here turn that into an outcome.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """One structured log line per record carries one of these."""

    SENT = "sent"  # the email left through SES and the records were written
    FANNED_OUT = "fanned_out"  # a multi-attendee request was split onto the queue
    DUPLICATE = "duplicate"  # this attendee already has exactly this message
    STALE = "stale"  # a newer message (or the event's cancellation) already went out
    SKIPPED = "skipped"  # a cancellation for someone who was never invited
    IN_FLIGHT = "in_flight"  # another delivery holds the claim: retry later (reported as a failure)
    INVALID = "invalid"  # can never succeed: sent to the DLQ with its reason
    FAILED = "failed"  # transient error: reported so SQS redelivers this record alone
    # Record reply (docs/replies.md, "Recording"): what an email to the RSVP mailbox led to.
    RECORDED = "recorded"  # an invited attendee's answer is recorded and counted
    SHARED = "shared"  # an answer from someone not invited (a forwarded invitation), counted apart
    COUNTER_RECORDED = "counter_recorded"  # a proposed change is kept for the organizer
    REFRESHED = "refreshed"  # the current version was sent again to the attendee who asked
    UNTRUSTED = "untrusted"  # forged or failed SES's checks: not recorded
    UNKNOWN_EVENT = "unknown_event"  # no event with that UID was sent from here
    CANCELLED_EVENT = "cancelled_event"  # an answer for a cancelled event
    NOT_CALENDAR = "not_calendar"  # no calendar in the mail: kept in the bucket, logged
    MALFORMED_CALENDAR = "malformed_calendar"  # a calendar that cannot be read or is not an answer
    UNSUPPORTED = "unsupported"  # an iTIP method (or instance answer) this server does not take

    @property
    def retry(self) -> bool:
        return self in (Outcome.IN_FLIGHT, Outcome.FAILED)


INVITED = "invited"
CANCELLED = "cancelled"


def claim_is_live(item: dict[str, Any] | None, now: float, lease_seconds: int) -> bool:
    """True while another delivery may still be sending (its lease has not run out)."""
    pending = (item or {}).get("pending")
    return bool(pending) and float(pending.get("since", 0)) > now - lease_seconds


def classify_refused_invite(
    attendee: dict[str, Any] | None,
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
        return Outcome.STALE
    if claim_is_live(attendee, now, lease_seconds):
        return Outcome.IN_FLIGHT
    sent = int((attendee or {}).get("sequence", -1))
    if sent == sequence and (attendee or {}).get("status") == INVITED:
        return Outcome.DUPLICATE
    if sent >= sequence:
        return Outcome.STALE
    # The claim was refused but nothing explains it (a concurrent change between the write and the
    # read of ALL_OLD): let SQS redeliver and decide again.
    return Outcome.IN_FLIGHT


def classify_refused_cancellation(attendee: dict[str, Any] | None, now: float, lease_seconds: int) -> Outcome:
    """Why a cancellation claim was refused."""
    if attendee is None:
        return Outcome.SKIPPED  # never invited: nothing to cancel, nothing to retry
    if claim_is_live(attendee, now, lease_seconds):
        return Outcome.IN_FLIGHT
    if attendee.get("status") == CANCELLED:
        return Outcome.DUPLICATE
    return Outcome.SKIPPED


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
