"""The VEVENTs of a recurring series, in the forms docs/recurrence.md chooses.

- The master: the event's own VEVENT with its RRULE and EXDATEs (:func:`add_recurrence`).
- An override: the master's copy for one occurrence, with RECURRENCE-ID (the occurrence's original
  start, written as DTSTART is) and its own times and details, without the recurrence
  (:func:`override_vevent`). Sent alone for an occurrence change, with the master otherwise.
- A cancelled occurrence: the same, for METHOD:CANCEL, with STATUS:CANCELLED and the occurrence's
  own times (:func:`cancelled_occurrence_vevent`).
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from icalendar import Event, vRecur

from lambdas.domain.frozen import frozen
from lambdas.domain.icaltime import add_time

if TYPE_CHECKING:
    from lambdas.domain.recurrence import Recurrence

# What a copy of the master for one occurrence must not keep (RFC 5545 §3.8.4.4: an override is one
# instance, not a second series).
_SERIES_ONLY = ("RRULE", "RDATE", "EXDATE")
_OWN = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE", "STATUS")


@frozen
class Override:
    """One occurrence changed: ``occurrence`` is its original start (the RECURRENCE-ID)."""

    occurrence: date | datetime
    start: date | datetime
    end: date | datetime
    sequence: int
    summary: str | None = None  # None: the series' own
    description: str | None = None
    location: str | None = None


def add_recurrence(vevent: Event, recurrence: Recurrence, timezone: str) -> None:
    """RRULE and EXDATE on the master, each EXDATE in DTSTART's own form (RFC 5545 §3.8.5.1)."""
    vevent.add("rrule", vRecur.from_ical(recurrence.rrule))
    for exdate in recurrence.exdates:
        add_time(vevent, "exdate", exdate, timezone)


def override_vevent(master: Event, override: Override, timezone: str, status: str = "CONFIRMED") -> Event:
    vevent = _one_occurrence(master, override.occurrence, timezone)
    vevent.add("sequence", override.sequence)
    add_time(vevent, "dtstart", override.start, timezone)
    add_time(vevent, "dtend", override.end, timezone)
    for name, value in (
        ("summary", override.summary),
        ("description", override.description),
        ("location", override.location),
    ):
        if value is not None:
            vevent.pop(name.upper(), None)
            if value:
                vevent.add(name, value)
    vevent.add("status", status)
    return vevent


def cancelled_occurrence_vevent(
    master: Event,
    occurrence: date | datetime,
    duration: timedelta,
    sequence: int,
    timezone: str,
    status: str | None = "CANCELLED",
) -> Event:
    """The VEVENT of a CANCEL of one occurrence: its own start and end, so clients can show it.
    ``status`` None: only this attendee leaves that occurrence (RFC 5546 §3.2.5, no STATUS)."""
    vevent = _one_occurrence(master, occurrence, timezone)
    vevent.add("sequence", sequence)
    add_time(vevent, "dtstart", occurrence, timezone)
    add_time(vevent, "dtend", occurrence + duration, timezone)
    if status:
        vevent.add("status", status)
    return vevent


def earliest_time(recurrence: Recurrence, overrides: tuple[Override, ...] = ()) -> date | datetime:
    """The earliest time the series' calendar writes: how far back its VTIMEZONE must reach."""
    return min([recurrence.start, *(o.start for o in overrides)])  # all dates or all date-times


def _one_occurrence(master: Event, occurrence: date | datetime, timezone: str) -> Event:
    vevent = copy.deepcopy(master)
    for name in (*_SERIES_ONLY, *_OWN):
        vevent.pop(name, None)
    add_time(vevent, "recurrence-id", occurrence, timezone)
    return vevent
