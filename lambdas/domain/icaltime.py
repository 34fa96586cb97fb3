"""How a time goes into an iCalendar property: one rule for DTSTART, DTEND, EXDATE, RECURRENCE-ID."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def add_time(component, name: str, value: date | datetime, timezone: str) -> None:
    """A date as VALUE=DATE; a date-time with ``TZID=<timezone>`` (its VTIMEZONE goes in the same
    calendar), or in UTC when there is no zone. The same instant is always written the same way,
    so an EXDATE or a RECURRENCE-ID matches the DTSTART it names (RFC 5545 §3.8.5.1, §3.8.4.4)."""
    if not isinstance(value, datetime):
        component.add(name, value)  # VALUE=DATE: an all-day event
        return
    if timezone:
        local = value.astimezone(ZoneInfo(timezone))
        # A wall time that happens twice names its first occurrence (RFC 5545 §3.3.5): the second
        # one can only be written in UTC.
        if local.replace(fold=0).utcoffset() == local.utcoffset():
            # TZID=<zone> as given, with its VTIMEZONE. icalendar would write a zone it deems the
            # same as UTC (Africa/Abidjan) as "Z" after the local time: wrong before 1912.
            component.add(name, local.replace(tzinfo=None), parameters={"TZID": timezone})
            return
    component.add(name, value.astimezone(UTC))  # no zone given: UTC ("Z") is never floating
