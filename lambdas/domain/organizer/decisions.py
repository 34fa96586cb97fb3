"""What an organizer's message changes, decided from the event item as it was read.

Pure, like lambdas.domain.replies: the adapter reads the event item, ``decide`` says what to write,
and the adapter writes it conditioned on the item still being as read (``Apply.read_sequence``);
refused, it reads again and decides again, so 12 concurrent copies of one REQUEST make one change
and 11 duplicates (docs/organizer.md, "Idempotency").

Order (RFC 5546 §2.1.5, and Thunderbird's ``cal.itip`` compares the same way): the higher SEQUENCE
wins; for an equal SEQUENCE the later DTSTAMP wins (clients change a title or a description without
raising SEQUENCE, and say so with a new DTSTAMP only); equal SEQUENCE and DTSTAMP is a duplicate,
anything older is stale. Neither changes anything. The organizer's SEQUENCE and DTSTAMP are kept
apart from the event's own ``sequence`` (``OrganizerRecord``): the attendees' copies carry the
server's sequence, which must go up at every change it sends them, whatever the organizer's did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from lambdas.domain.events import EventDetails
from lambdas.domain.frozen import frozen
from lambdas.domain.items import EventItem, read
from lambdas.domain.organizer.outcomes import OrganizerOutcome, Refused
from lambdas.domain.organizer.reading import ChangeKind, OrganizerMessage

CALENDAR_SOURCE = "organizer_calendar"  # OrganizerRecord.source of an event created from a calendar


@frozen
class OrganizerRecord:
    """What the event item keeps of the organizer's calendar: attributes of the event item itself
    (read with the table model's lenient reader), written by this function only."""

    source: str = ""  # CALENDAR_SOURCE, or "" for an event created through the queue
    organizer_uid: str = ""  # the UID in the organizer's calendar (answered with it: their REPLY)
    organizer_sequence: int | None = None  # the SEQUENCE of the organizer's latest message
    organizer_dtstamp: str = ""  # its DTSTAMP, ISO 8601 UTC ("" when it had none)
    # The highest sequence a change of it went to the attendees at: an occurrence's change leaves
    # the event's own ``sequence`` (the series') as it was, and the next change must still go higher.
    organizer_sent_sequence: int | None = None

    @classmethod
    def read(cls, stored: Mapping[str, Any]) -> OrganizerRecord:
        return read(cls, stored)


@frozen
class Apply:
    """A change to write, and whom it goes to."""

    outcome: OrganizerOutcome
    record: OrganizerRecord  # the organizer's version, written with the change
    # The event as the attendees' copies carry it (its ``sequence`` is theirs): stored as the event
    # item's details. None for a change of occurrences only (the series stays as stored).
    event: EventDetails | None = None
    occurrences: tuple[EventDetails, ...] = ()  # changed occurrences, each stored as its override
    cancelled: tuple[date | datetime, ...] = ()  # cancelled occurrences (original starts)
    attendee_sequence: int = 0  # the sequence every attendee is sent this change at
    # The stored event's sequence the write must find (None: the item must not exist yet).
    read_sequence: int | None = None
    # Send the change to every attendee invited: an update or a cancellation; a new event has none.
    fan_out: bool = False
    # A whole REQUEST replaces the series: stored changed occurrences it no longer carries revert.
    replaces_occurrences: bool = False


def decide(
    message: OrganizerMessage, stored: EventItem | None, record: OrganizerRecord, uid: str | None = None
) -> Apply | Refused:
    """What ``message`` changes, on the event item (None: not stored) and its organizer record.
    ``uid``: the UID the attendees' copies carry (``identity.attendee_uid``), which the event item
    is stored under; None keeps the organizer's own (the record keeps it either way)."""
    message = _as_attendees_see_it(message, uid or message.uid)
    kind = message.kind
    if stored is None:
        if kind is ChangeKind.EVENT:
            return Apply(
                OrganizerOutcome.CREATED,
                _record(message),
                event=message.event,
                occurrences=message.occurrences,
                attendee_sequence=message.sequence,
            )
        return Refused(
            OrganizerOutcome.UNKNOWN_EVENT, f"no event {message.uid!r} is stored: send the whole event"
        )
    owner = stored.organizer.email.lower() if stored.organizer else ""
    if owner != message.organizer.email:
        return Refused(
            OrganizerOutcome.OWNED_BY_ANOTHER,
            f"event {message.uid!r} is organized by {owner or 'nobody known'}, not {message.organizer.email}",
        )
    if stored.is_cancelled:  # cancelled for good: whatever its version, nothing more to do
        if kind is ChangeKind.CANCEL_EVENT:
            return Refused(OrganizerOutcome.DUPLICATE, "already cancelled")
        return Refused(
            OrganizerOutcome.CANCELLED_EVENT, "the event is cancelled: a new event needs a new UID"
        )
    order = _order(message, stored, record)
    if order == 0 and kind is ChangeKind.CANCEL_EVENT:
        # The version stored is a REQUEST (a CANCEL of it would have cancelled the event above), so
        # this is no copy of it: Thunderbird cancels a deleted event as it was stored, SEQUENCE and
        # DTSTAMP unchanged (its CalItipMessageSender), and that cancellation must not be lost.
        order = 1
    if order == 0:
        return Refused(OrganizerOutcome.DUPLICATE, "this version is already stored")
    if order < 0:
        return Refused(OrganizerOutcome.STALE, "an older version than the one stored")
    if kind in (ChangeKind.OCCURRENCES, ChangeKind.CANCEL_OCCURRENCES):
        refused = _not_occurrences(message, stored)
        if refused is not None:
            return refused
    sent = record.organizer_sent_sequence
    sequence = max(message.sequence, (stored.sequence or 0) + 1, -1 if sent is None else sent + 1)
    change = Apply(
        OrganizerOutcome.UPDATED,
        dataclasses.replace(_record(message, record), organizer_sent_sequence=sequence),
        attendee_sequence=sequence,
        read_sequence=stored.sequence,
        fan_out=True,
    )
    if kind is ChangeKind.EVENT:
        event = dataclasses.replace(message.event, sequence=sequence)
        occurrences = tuple(dataclasses.replace(o, sequence=sequence) for o in message.occurrences)
        return dataclasses.replace(change, event=event, occurrences=occurrences, replaces_occurrences=True)
    if kind is ChangeKind.OCCURRENCES:
        occurrences = tuple(dataclasses.replace(o, sequence=sequence) for o in message.occurrences)
        return dataclasses.replace(
            change, outcome=OrganizerOutcome.OCCURRENCES_CHANGED, occurrences=occurrences
        )
    if kind is ChangeKind.CANCEL_OCCURRENCES:
        return dataclasses.replace(
            change, outcome=OrganizerOutcome.OCCURRENCES_CANCELLED, cancelled=message.cancelled
        )
    return dataclasses.replace(change, outcome=OrganizerOutcome.CANCELLED)


def _as_attendees_see_it(message: OrganizerMessage, uid: str) -> OrganizerMessage:
    if uid == message.uid:
        return message
    event = dataclasses.replace(message.event, uid=uid) if message.event is not None else None
    occurrences = tuple(dataclasses.replace(o, uid=uid) for o in message.occurrences)
    return dataclasses.replace(
        message,
        uid=uid,
        event=event,
        occurrences=occurrences,
        organizer_uid=message.organizer_uid or message.uid,
    )


def _order(message: OrganizerMessage, stored: EventItem, record: OrganizerRecord) -> int:
    """1 newer than what is stored, 0 the same version, -1 older. An event created through the
    queue has no organizer record: its own sequence stands for the organizer's."""
    stored_sequence = (
        record.organizer_sequence if record.organizer_sequence is not None else stored.sequence or 0
    )
    if message.sequence != stored_sequence:
        return 1 if message.sequence > stored_sequence else -1
    stored_stamp = _stamp(record.organizer_dtstamp)
    if message.dtstamp is None or stored_stamp is None or message.dtstamp == stored_stamp:
        return 0  # nothing newer to go by: the same version
    return 1 if message.dtstamp > stored_stamp else -1


def _not_occurrences(message: OrganizerMessage, stored: EventItem) -> Refused | None:
    """A change of occurrences needs a stored series that has them."""
    details = stored.details()
    recurrence = details.recurrence if details is not None else None
    if recurrence is None:
        return Refused(
            OrganizerOutcome.UNKNOWN_EVENT, f"event {message.uid!r} is not a series: no occurrence to change"
        )
    wanted = message.cancelled or tuple(o.occurrence for o in message.occurrences)
    missing = [w for w in wanted if not recurrence.includes(_like(w, recurrence.start))]
    if missing:
        shown = ", ".join(w.isoformat() for w in missing[:5])
        return Refused(OrganizerOutcome.UNKNOWN_EVENT, f"not occurrences of the stored series: {shown}")
    return None


def _like(value: date | datetime, start: date | datetime) -> date | datetime:
    """An occurrence's original start in the series' own terms (its zone), so it compares."""
    if isinstance(value, datetime) and isinstance(start, datetime):
        return value.astimezone(start.tzinfo)
    return value


def _record(message: OrganizerMessage, previous: OrganizerRecord | None = None) -> OrganizerRecord:
    stamp = message.dtstamp.astimezone(UTC).isoformat() if message.dtstamp else ""
    source = previous.source if previous is not None else CALENDAR_SOURCE
    return OrganizerRecord(
        source=source,
        organizer_uid=message.organizer_uid or message.uid,
        organizer_sequence=message.sequence,
        organizer_dtstamp=stamp,
    )


def _stamp(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
