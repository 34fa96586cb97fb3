"""What an attendee's answer changes, decided from the event and attendee items as they were read.

Pure: the adapter reads both items, these rules decide, and the adapter writes the decision in one
transaction conditioned on the items still being as read (optimistic concurrency). When another
writer got there first the transaction is refused and the answer is decided again on the items as
that writer left them, so every rule here sees a consistent pair of items.

Counts (docs/replies.md, "Recording"): ``replies_<answer>`` and ``shared_<answer>`` count the attendees
whose current answer is that answer *to the event's version in* ``replies_sequence``. An update
(a higher SEQUENCE) asks every attendee for a fresh answer and resets their ``partstat``; the first
answer to the new version restarts the counts at that version, so an answer to an older version is
never counted with answers to the current one.

The rules of the rarer answers (an unverified answer, a COUNTER's proposal, a REFRESH) are
``rarer_answers``, loaded by the first such answer (docs/performance.md, "Cold start").
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from lambdas.domain.frozen import frozen
from lambdas.domain.items import REFRESHED_CAP, AttendeeItem, EventItem
from lambdas.domain.outcomes import RETRIED, Outcome
from lambdas.domain.vocabulary import AttendeeStatus, Method, Origin, PartStat


class ReplyOutcome(Outcome):
    """What an email to the RSVP mailbox led to (docs/replies.md, "Recording")."""

    RECORDED = "recorded"  # an invited attendee's answer is recorded and counted
    SHARED = "shared"  # an answer from someone not invited (a forwarded invitation), counted apart
    COUNTER_RECORDED = "counter_recorded"  # a proposed change is kept for the organizer
    REFRESHED = "refreshed"  # the current version was sent again to the attendee who asked
    UNTRUSTED = "untrusted", False, logging.WARNING  # forged or failed SES's checks: not recorded
    UNVERIFIED = "unverified"  # maybe the attendee's (relayed, DMARC p=none): kept apart, not counted
    UNKNOWN_EVENT = "unknown_event"  # no event with that UID was sent from here
    CANCELLED_EVENT = "cancelled_event"  # an answer for a cancelled event
    NOT_CALENDAR = "not_calendar"  # no calendar in the mail: kept in the bucket, logged
    MALFORMED_CALENDAR = "malformed_calendar"  # a calendar that cannot be read or is not an answer
    UNSUPPORTED = "unsupported"  # an iTIP method (or instance answer) this server does not take
    DUPLICATE = "duplicate"  # this answer, proposal or refresh request is already recorded
    STALE = "stale"  # it answers an older version, or a later answer is recorded
    SKIPPED = "skipped"  # not for the organizer's attendees, or automatic mail never answered
    # Another delivery is answering the same REFRESH, its lease not yet run out.
    IN_FLIGHT = "in_flight", RETRIED, logging.WARNING
    SUPPRESSED = "suppressed"  # a REFRESH from an address that hard-bounced or complained
    IGNORED = "ignored"  # SES's setup notification: not an email


# Answers a REPLY may record (RFC 5546 §3.2.3); NEEDS-ACTION or an X- value is not an answer.
RECORDABLE_PARTSTATS = frozenset(
    {PartStat.ACCEPTED, PartStat.DECLINED, PartStat.TENTATIVE, PartStat.DELEGATED}
)
# Answers that are counted on the event item. DELEGATED hands the seat to someone else, whose own
# reply is the one counted.
COUNTED_ANSWERS = {
    PartStat.ACCEPTED: "accepted",
    PartStat.DECLINED: "declined",
    PartStat.TENTATIVE: "tentative",
}
INVITED_PREFIX = "replies_"  # the organizer's attendees
SHARED_PREFIX = "shared_"  # people who answered a forwarded invitation
# EventItem's counter fields, by name.
COUNTERS = tuple(
    prefix + name for prefix in (INVITED_PREFIX, SHARED_PREFIX) for name in COUNTED_ANSWERS.values()
)
# REFRESH requests answered per attendee: each one sends an email, and the request comes from the
# internet. A client asks again only when it lost the event; more than this is not a client.
MAX_REFRESHES = REFRESHED_CAP  # the cap on `refreshed`, defined with the table model


class Answer(Protocol):
    """The fields of lambdas.domain.inbound.email.CalendarAnswer these rules read."""

    method: str
    uid: str
    attendee: str
    partstat: str | None
    sequence: int
    dtstamp: datetime


@frozen
class Refusal:
    """The answer changes nothing; ``reason`` goes into its log line."""

    outcome: ReplyOutcome
    reason: str


@frozen
class Counts:
    """How the event's counters move: ``reset_to`` starts a new version's counts (all counters SET,
    ``replies_sequence`` moves forward); otherwise ``deltas`` are ADDed (a change of mind is -1/+1)."""

    version: int
    reset_to: dict[str, int] | None = None
    deltas: dict[str, int] | None = None


@frozen
class ReplyChange:
    """Record the answer: the attendee item's new reply state, and the event's counters."""

    outcome: ReplyOutcome  # RECORDED (an invited attendee) or SHARED (a forwarded invitation)
    origin: Origin | None  # SHARED, or None for an invited attendee
    version: int  # the event version this answer answers: the attendee's reply_sequence
    counted_as: str | None  # the counter the attendee now adds one to, None when not counted
    counts: Counts | None  # None: the counters do not move (and the event item is only checked)


def event_refusal(event: EventItem | None) -> Refusal | None:
    """Answers are recorded only for an event this system sent and has not cancelled."""
    if event is None:
        return Refusal(ReplyOutcome.UNKNOWN_EVENT, "no event with this UID was sent from here")
    if event.is_cancelled:
        return Refusal(ReplyOutcome.CANCELLED_EVENT, "the event is cancelled")
    return None


def invited_sequence(attendee: AttendeeItem | None) -> int | None:
    """The sequence last sent to an invited attendee, or None when the organizer did not invite them.

    An item with a ``pending`` REQUEST claim and no status is an invitation being sent right now.
    """
    if attendee is None:
        return None
    if attendee.status is AttendeeStatus.INVITED and attendee.sequence is not None:
        return attendee.sequence
    pending = attendee.pending
    if attendee.status is None and pending is not None and pending.method is Method.REQUEST:
        return pending.sequence or 0
    return None


def answered_partstat(answer: Answer, event: EventItem | None, attendee: AttendeeItem | None):
    """The PartStat an answer records, or the Refusal every answer meets first (the series' and
    one occurrence's alike): the event is gone, the PARTSTAT is no answer, the attendee was removed."""
    refused = event_refusal(event)
    if refused:
        return refused
    partstat = recordable_partstat(answer)
    if isinstance(partstat, Refusal):
        return partstat
    if attendee is not None and attendee.status in (AttendeeStatus.CANCELLED, AttendeeStatus.REMOVED):
        return Refusal(ReplyOutcome.STALE, "the attendee was removed from the event (a CANCEL was sent)")
    return partstat


def recordable_partstat(answer: Answer):
    """The answer's PartStat, or the Refusal of a PARTSTAT that is no answer (NEEDS-ACTION, none)."""
    partstat = PartStat._value2member_map_.get(answer.partstat or "")
    if partstat not in RECORDABLE_PARTSTATS:
        return Refusal(
            ReplyOutcome.MALFORMED_CALENDAR, f"PARTSTAT {answer.partstat or '(none)'} is not an answer"
        )
    return partstat


def decide_reply(answer: Answer, event: EventItem | None, attendee: AttendeeItem | None):
    """ReplyChange, or Refusal with the reason the answer is not recorded."""
    partstat = answered_partstat(answer, event, attendee)
    if isinstance(partstat, Refusal):
        return partstat

    sent = invited_sequence(attendee)
    origin = None if sent is not None else Origin.SHARED
    # Forwarded invitations answer the event's current version; they were never sent one of their own.
    current = sent if sent is not None else (event.sequence or 0)
    if answer.sequence < current:
        return Refusal(ReplyOutcome.STALE, f"answers SEQUENCE {answer.sequence}; {current} was sent since")
    # An attendee must not raise SEQUENCE (RFC 5546 §2.1.4): a higher one still answers what was sent,
    # and cannot move the event's counts to a version that does not exist.
    version = current

    if attendee is not None and attendee.reply_sequence == version and attendee.reply_dtstamp:
        recorded = datetime.fromisoformat(attendee.reply_dtstamp)
        if answer.dtstamp == recorded:
            return Refusal(ReplyOutcome.DUPLICATE, "this answer is already recorded")
        if answer.dtstamp < recorded:
            return Refusal(ReplyOutcome.STALE, "a later answer (DTSTAMP) to this version is recorded")

    prefix = SHARED_PREFIX if origin is Origin.SHARED else INVITED_PREFIX
    name = COUNTED_ANSWERS.get(partstat)
    counted_as = prefix + name if name else None
    return ReplyChange(
        outcome=ReplyOutcome.SHARED if origin is Origin.SHARED else ReplyOutcome.RECORDED,
        origin=origin,
        version=version,
        counted_as=counted_as if version >= _epoch(event) else None,
        counts=_counts(event, attendee, version, counted_as),
    )


def _counts(event: EventItem, attendee: AttendeeItem | None, version: int, counted_as: str | None):
    previous = attendee.counted_as if attendee else ""
    previous_version = attendee.counted_sequence if attendee else None
    return count_moves(_epoch(event), previous, previous_version, version, counted_as, COUNTERS)


def count_moves(
    epoch: int,
    previous: str,
    previous_version: int | None,
    version: int,
    counted_as: str | None,
    counters: tuple[str, ...],
) -> Counts | None:
    """How counters describing version ``epoch`` (-1: none yet) move when an answer to ``version``
    counted as ``counted_as`` replaces one counted as ``previous`` at ``previous_version``."""
    if version < epoch:
        return None  # the counts already describe a newer version; this answer is not part of it
    if version > epoch:
        reset = dict.fromkeys(counters, 0)
        if counted_as:
            reset[counted_as] = 1
        return Counts(version=version, reset_to=reset)
    deltas: dict[str, int] = {}
    if previous and previous_version == epoch:
        deltas[previous] = deltas.get(previous, 0) - 1
    if counted_as:
        deltas[counted_as] = deltas.get(counted_as, 0) + 1
    deltas = {counter: delta for counter, delta in deltas.items() if delta}
    return Counts(version=version, deltas=deltas) if deltas else None


def uncounted(event: EventItem | None, attendee: AttendeeItem | None) -> dict[str, int] | None:
    """What taking a removed attendee's answer out of the counts moves: ``{counter: -1}`` when it
    counts in the version the counts describe, ``{}`` when it is counted in none (only the
    attendee's mark is cleared), None when there is nothing to take out."""
    if event is None or attendee is None or not attendee.counted_as:
        return None
    if attendee.counted_sequence != _epoch(event) or attendee.counted_as not in COUNTERS:
        return {}
    return {attendee.counted_as: -1}


def _epoch(event: EventItem) -> int:
    """The version the event's counts describe; -1 before the first answer."""
    return -1 if event.replies_sequence is None else event.replies_sequence
