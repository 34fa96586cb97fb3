"""iTIP (RFC 5546) calendar objects for REQUEST and CANCEL, built with icalendar.

icalendar escapes TEXT values and quotes parameters, and the contract has already rejected control
characters, so no field can add a property. The ORGANIZER is the RSVP mailbox (replies from calendar
clients go there); the human organizer is its CN, as Apple's CalendarServer does it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, vCalAddress

from lambdas.domain.events import EventDetails, Person
from lambdas.domain.frozen import frozen
from lambdas.domain.icaltime import add_time
from lambdas.domain.vocabulary import EventStatus, Method, PartStat

if TYPE_CHECKING:
    # Imported where a series or a zoned event is written: a single UTC event's cold start never
    # loads the series code or the time zone tables (docs/performance.md, "Cold start").
    from lambdas.domain.series import Override

PRODID = "-//Calendar Invite Server//iTIP 1.0//EN"


@frozen
class ItipMessage:
    method: Method
    event: EventDetails
    attendee: Person
    sequence: int
    organizer_mailbox: str  # RSVP_EMAIL
    dtstamp: datetime
    # REQUEST: CONFIRMED. CANCEL of the whole event: CANCELLED. CANCEL that only removes this
    # attendee from an event that goes on: None (RFC 5546 §3.2.5 sends no STATUS then).
    status: EventStatus | None
    # The attendee's answer as the organizer knows it: NEEDS-ACTION for every invitation or update,
    # their recorded answer when a REFRESH asks for the current version (RFC 5546 §3.2.6).
    attendee_partstat: PartStat = PartStat.NEEDS_ACTION
    # A series' changed occurrences, sent with its master (docs/recurrence.md).
    overrides: tuple[Override, ...] = ()


def build_calendar(message: ItipMessage) -> bytes:
    """The VCALENDAR: its fixed head and the zone's VTIMEZONE are serialised once per container
    (lambdas.domain.timezones caches them); the VEVENT each time."""
    event = message.event
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", message.sequence)
    vevent.add("dtstamp", message.dtstamp.astimezone(UTC))
    # A zoned event keeps its zone in any year: the VTIMEZONE carries the zone's current rule.
    timezone = "" if event.all_day else event.timezone
    zone_component = _zone_component(timezone, _earliest(message))
    if zone_component is None:
        timezone = ""
    add_time(vevent, "dtstart", event.start, timezone)
    add_time(vevent, "dtend", event.end, timezone)
    vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if message.status:
        vevent.add("status", message.status)
    vevent.add(
        "organizer", _address(message.organizer_mailbox, event.organizer.name or event.organizer.email)
    )
    vevent.add("attendee", _attendee(message.attendee, message.attendee_partstat))
    parts = [_calendar_head(message.method)]
    if timezone:
        parts.append(zone_component)
    parts += [v.to_ical() for v in _vevents(message, vevent, timezone)] + [_CALENDAR_END]
    return b"".join(parts)


def _vevents(message: ItipMessage, vevent: Event, timezone: str) -> list[Event]:
    """The event alone; a series' master and its overrides; or one occurrence (docs/recurrence.md)."""
    event = message.event
    if not event.rrule and event.occurrence is None:
        return [vevent]
    # Loaded by the first series message only (a single event never needs it).
    from lambdas.domain.series import Override, add_recurrence, cancelled_occurrence_vevent, override_vevent

    if event.rrule:
        add_recurrence(vevent, event.recurrence, timezone)
        return [vevent, *(override_vevent(vevent, o, timezone) for o in message.overrides)]
    if message.method is Method.REQUEST:
        change = Override(event.occurrence, event.start, event.end, message.sequence)
        return [override_vevent(vevent, change, timezone, status=message.status)]
    duration = event.end - event.start
    cancelled = cancelled_occurrence_vevent(
        vevent, event.occurrence, duration, message.sequence, timezone, message.status
    )
    return [cancelled]


def _earliest(message: ItipMessage):
    """How far back the VTIMEZONE must reach: every time the calendar writes."""
    event = message.event
    times = [event.start, *(o.start for o in message.overrides), *(o.occurrence for o in message.overrides)]
    if event.occurrence is not None:
        times.append(event.occurrence)
    return min(times)


_CALENDAR_END = b"END:VCALENDAR\r\n"


def _zone_component(timezone: str, since) -> bytes | None:
    if not timezone:
        return None
    from lambdas.domain.timezones import UnsupportedZone, vtimezone  # zoned events only

    try:
        return vtimezone(timezone, since=since)
    except UnsupportedZone:
        # A rule no yearly RRULE expresses (none in tzdata 2026): UTC times are still exact.
        return None


@lru_cache(maxsize=4)
def _calendar_head(method: Method) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar.to_ical().removesuffix(_CALENDAR_END)


def _address(email: str, common_name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if common_name:
        address.params["CN"] = common_name
    return address


def _attendee(person: Person, partstat: PartStat) -> vCalAddress:
    address = _address(person.email, person.name)
    # RSVP=TRUE and PARTSTAT=NEEDS-ACTION make Outlook and iOS show response buttons.
    address.params.update(
        {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": partstat, "RSVP": "TRUE"}
    )
    return address
