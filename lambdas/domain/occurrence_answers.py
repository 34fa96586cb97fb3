"""Answers for one occurrence of a series (a REPLY whose VEVENT has a RECURRENCE-ID), decided from
the items as read. Pure, like lambdas.domain.replies, whose rules it follows per occurrence.

What real calendars do, and what is followed here (docs/replies.md, "Answers per occurrence"):
sabre/vobject's ``ITip/Broker::processMessageReply`` (Nextcloud, Baikal, Roundcube) reads every
VEVENT of a REPLY, matches each RECURRENCE-ID to an instance by its instant (whatever zone it is
written in), sets the attendee's PARTSTAT on that instance only (creating the exception from the
master when there is none yet), leaves the master's answer alone, and skips a RECURRENCE-ID that
is not an occurrence of the series. Google Calendar sends the series answer and the instance
answers in one message; Outlook and Apple send "this event only" as one VEVENT with RECURRENCE-ID.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lambdas.domain.events import EventDetails
from lambdas.domain.frozen import frozen
from lambdas.domain.items import AttendeeItem, EventItem, OccurrenceAnswersItem, occurrence_text
from lambdas.domain.replies import (
    COUNTED_ANSWERS,
    INVITED_PREFIX,
    Answer,
    Counts,
    Refusal,
    ReplyOutcome,
    answered_partstat,
    count_moves,
    invited_sequence,
)
from lambdas.domain.vocabulary import AttendeeStatus

if TYPE_CHECKING:
    from lambdas.domain.series import Override

# An occurrence's counters: only invited attendees answer single occurrences (below).
OCCURRENCE_COUNTERS = tuple(INVITED_PREFIX + name for name in COUNTED_ANSWERS.values())
# Occurrences one attendee may answer separately: a weekly series answered occurrence by occurrence
# for four years. The bound keeps the attendee item far from DynamoDB's 400 KB.
MAX_OCCURRENCE_REPLIES = 200
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@frozen
class OccurrenceChange:
    occurrence: str  # the original start, as in the keys
    version: int
    counted_as: str | None
    counts: Counts | None


def answered_occurrence(recurrence_id: str, event: EventItem, attendee: AttendeeItem | None) -> str | Refusal:
    """The occurrence a RECURRENCE-ID names, in the table's form, or why it names none.

    Matched by instant, as sabre/vobject does: a RECURRENCE-ID read as UTC, or floating (its TZID
    did not resolve) and then taken in the series' zone, names the occurrence starting then."""
    details = event.details()
    recurrence = details.recurrence if details is not None else None
    if recurrence is None:
        return Refusal(
            ReplyOutcome.UNSUPPORTED, "an answer for one occurrence of an event that does not repeat"
        )
    try:
        value = _read(recurrence_id, details.start, details.timezone)
    except (ValueError, OverflowError):
        return Refusal(ReplyOutcome.MALFORMED_CALENDAR, f"RECURRENCE-ID {recurrence_id} is out of range")
    if value is None or not recurrence.includes(value):
        return Refusal(
            ReplyOutcome.STALE, f"RECURRENCE-ID {recurrence_id} is not an occurrence of the series"
        )
    if value in recurrence.exdates:
        return Refusal(ReplyOutcome.STALE, "the occurrence is cancelled")
    occurrence = occurrence_text(value)
    if attendee is not None and occurrence in attendee.excluded_occurrences:
        return Refusal(ReplyOutcome.STALE, "the attendee was removed from this occurrence")
    return occurrence


def _read(text: str, start: date | datetime, timezone: str) -> date | datetime | None:
    if _DATE_ONLY.fullmatch(text):
        value: date | datetime = date.fromisoformat(text)
        return value if not isinstance(start, datetime) else None
    moment = datetime.fromisoformat(text)
    if not isinstance(start, datetime):
        return moment.date()  # an all-day series answered with a time: the day is the occurrence
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone) if timezone else UTC)
    return moment.astimezone(start.tzinfo)


def decide_occurrence_reply(
    answer: Answer,
    occurrence: str,
    event: EventItem | None,
    attendee: AttendeeItem | None,
    tally: OccurrenceAnswersItem | None,
):
    """OccurrenceChange, or Refusal. The rules of a series answer (lambdas.domain.replies), applied
    to the occurrence's own answer and counts; the series answer is never touched."""
    partstat = answered_partstat(answer, event, attendee)
    if isinstance(partstat, Refusal):
        return partstat
    sent = invited_sequence(attendee)
    if sent is None or attendee.status is not AttendeeStatus.INVITED:
        # A forwarded invitation's guest has no occurrences of their own to answer.
        return Refusal(
            ReplyOutcome.SKIPPED, "an answer for one occurrence from someone the organizer did not invite"
        )
    if answer.sequence < sent:
        return Refusal(ReplyOutcome.STALE, f"answers SEQUENCE {answer.sequence}; {sent} was sent since")
    version = sent
    entry = attendee.occurrence_replies.get(occurrence)
    if entry is None and len(attendee.occurrence_replies) >= MAX_OCCURRENCE_REPLIES:
        return Refusal(
            ReplyOutcome.SKIPPED, f"{MAX_OCCURRENCE_REPLIES} occurrences were already answered apart"
        )
    if entry is not None and entry.sequence == version and entry.dtstamp:
        recorded = datetime.fromisoformat(entry.dtstamp)
        if answer.dtstamp == recorded:
            return Refusal(ReplyOutcome.DUPLICATE, "this answer for the occurrence is already recorded")
        if answer.dtstamp < recorded:
            return Refusal(ReplyOutcome.STALE, "a later answer (DTSTAMP) for this occurrence is recorded")
    name = COUNTED_ANSWERS.get(partstat)
    counted_as = INVITED_PREFIX + name if name else None
    epoch = -1 if tally is None or tally.replies_sequence is None else tally.replies_sequence
    previous = entry.counted_as if entry else ""
    previous_version = entry.counted_sequence if entry else None
    counts = count_moves(epoch, previous, previous_version, version, counted_as, OCCURRENCE_COUNTERS)
    return OccurrenceChange(
        occurrence=occurrence,
        version=version,
        counted_as=counted_as if version >= epoch else None,
        counts=counts,
    )


def one_occurrence(series: EventDetails, overrides: tuple[Override, ...], occurrence: str) -> EventDetails:
    """The details of one occurrence as it stands (its change, if any), for a REQUEST of that
    occurrence alone: what an instance REFRESH is answered with (RFC 5546 §3.2.6)."""
    original = next(
        (o for o in overrides if occurrence_text(o.occurrence) == occurrence),
        None,
    )
    if original is not None:
        return dataclasses.replace(
            series,
            rrule="",
            exdates=(),
            occurrence=original.occurrence,
            start=original.start,
            end=original.end,
            summary=original.summary or series.summary,
            description=series.description if original.description is None else original.description,
            location=series.location if original.location is None else original.location,
        )
    start = _read(occurrence, series.start, series.timezone)
    return dataclasses.replace(
        series, rrule="", exdates=(), occurrence=start, start=start, end=start + (series.end - series.start)
    )


def occurrence_uncounted(entry, tally: OccurrenceAnswersItem | None) -> dict[str, int] | None:
    """As replies.uncounted, for an attendee's answer to one occurrence: ``{counter: -1}`` when
    it counts in the version the occurrence's counts describe, ``{}`` when in none, None when the
    entry is not counted at all."""
    if entry is None or not entry.counted_as:
        return None
    epoch = None if tally is None else tally.replies_sequence
    if epoch is None or entry.counted_sequence != epoch or entry.counted_as not in OCCURRENCE_COUNTERS:
        return {}
    return {entry.counted_as: -1}
