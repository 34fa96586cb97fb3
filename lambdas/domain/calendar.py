"""iTIP (RFC 5546) calendar objects for REQUEST and CANCEL, built with icalendar.

icalendar escapes TEXT values and quotes parameters, and the contract has already rejected control
characters, so no field can add a property. The ORGANIZER is the RSVP mailbox (replies from calendar
clients go there); the human organizer is its CN, as Apple's CalendarServer does it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress

from lambdas.domain.contract import EventDetails, Person
from lambdas.domain.vocabulary import EventStatus, Method, PartStat

PRODID = "-//Calendar Invite Server//iTIP 1.0//EN"


@dataclass(frozen=True)
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


def build_calendar(message: ItipMessage) -> bytes:
    """The VCALENDAR: its fixed head and the zone's VTIMEZONE are serialised once per container
    (a VTIMEZONE walks the zone's transitions: ~2 ms, four times the rest); the VEVENT each time."""
    event = message.event
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", message.sequence)
    vevent.add("dtstamp", message.dtstamp.astimezone(UTC))
    timezone = event.timezone if uses_vtimezone(event) else ""
    vevent.add("dtstart", _calendar_time(event.start, timezone))
    vevent.add("dtend", _calendar_time(event.end, timezone))
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
        parts.append(_vtimezone(event.timezone))
    parts += [vevent.to_ical(), _CALENDAR_END]
    return b"".join(parts)


_CALENDAR_END = b"END:VCALENDAR\r\n"


@lru_cache(maxsize=4)
def _calendar_head(method: Method) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar.to_ical().removesuffix(_CALENDAR_END)


# icalendar's VTIMEZONE describes a zone from 1970 to 2037 only; outside, a client reading TZID
# would place the event at the wrong instant. Such events are written in UTC, which is exact.
VTIMEZONE_FROM = datetime(1970, 1, 2, tzinfo=UTC)
VTIMEZONE_UNTIL = datetime(2037, 12, 31, tzinfo=UTC)


def uses_vtimezone(event: EventDetails) -> bool:
    """Whether the event's times are written with TZID and its VTIMEZONE (else in UTC, or dates)."""
    return (
        bool(event.timezone)
        and not event.all_day
        and event.start >= VTIMEZONE_FROM
        and event.end <= VTIMEZONE_UNTIL
    )


def _calendar_time(value: date | datetime, timezone: str) -> date | datetime:
    if not isinstance(value, datetime):
        return value  # VALUE=DATE: an all-day event
    if timezone:
        return value.astimezone(ZoneInfo(timezone))  # TZID=<zone>, with its VTIMEZONE
    return value.astimezone(UTC)  # no zone given: UTC ("Z") is never floating


@lru_cache(maxsize=64)
def _vtimezone(tzid: str) -> bytes:
    # Building a VTIMEZONE walks the zone's transitions; it is the same for every message.
    return Timezone.from_tzid(tzid).to_ical()


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
