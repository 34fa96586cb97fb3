"""An organizer's iTIP message (RFC 5546 §3.2.2 REQUEST, §3.2.5 CANCEL), read into the event the
queue contract builds.

The calendar is read with icalendar as the answers are (lambdas.domain.inbound: the same MIME walk,
the same unfolding, the same care for TZIDs icalendar cannot look up). Each VEVENT becomes the
contract form of an event (``EventDetails.as_dict``) and is validated by the contract itself, so
what the organizer's calendar stores is exactly what a producer could have put on the queue, and
send invite and send cancellation render it as they render any event. A problem is never raised:
it comes back as a ``FieldError`` naming the property, with nothing read.

Times keep the organizer's zone: a TZID that is an IANA name or a Windows name (Outlook's
``W. Europe Standard Time``, mapped with icalendar's table) or Windows' display name (OWA's
``(UTC+01:00) Amsterdam, Berlin, …``) is stored as the IANA zone with the same wall-clock time; a
zone no table knows is stored as UTC instants (exact for a single event; a series
then recurs in UTC, which the reason says). A floating time (no zone, no Z) is refused: nobody can
tell which instant the organizer meant.
"""

from __future__ import annotations

import json
import typing
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar

from lambdas.domain.contract import (
    MAX_ATTENDEES,
    MAX_DESCRIPTION,
    MAX_LOCATION,
    MAX_NAME,
    MAX_SUMMARY,
    EventDetails,
    Person,
    parse_invite,
)
from lambdas.domain.frozen import frozen
from lambdas.domain.inbound.email import InboundEmail, read_calendar_parts
from lambdas.domain.inbound.properties import address_of, decoded, floating_unresolvable_tzids
from lambdas.domain.organizer.outcomes import OrganizerOutcome, Refused
from lambdas.domain.validation import CONTROL, CONTROL_EXCEPT_NEWLINE_TAB, FieldError, InvalidRequest
from lambdas.domain.vocabulary import Method

MAX_VEVENTS = 50  # a series with its changed occurrences; more is not an organizer's message
ORGANIZER_METHODS = frozenset({Method.REQUEST, Method.CANCEL})
_UNSUPPORTED_FIELDS = frozenset({"METHOD", "RDATE"})


class ChangeKind(StrEnum):
    """What an organizer's message asks for, before the stored event says whether it is new."""

    EVENT = "event"  # REQUEST carrying the event: a single event, or a series with its changed occurrences
    OCCURRENCES = "occurrences"  # REQUEST carrying only changed occurrences (RECURRENCE-ID)
    CANCEL_EVENT = "cancel-event"  # CANCEL of the whole event
    CANCEL_OCCURRENCES = "cancel-occurrences"  # CANCEL of occurrences of a series (RECURRENCE-ID)


@frozen
class OrganizerMessage:
    """One organizer's message about one UID, in the queue contract's model."""

    method: Method
    uid: str
    organizer: Person  # the ORGANIZER: its address lower-cased, its CN as the name
    sequence: int  # the highest SEQUENCE of its VEVENTs (0 when absent)
    dtstamp: datetime | None  # the latest DTSTAMP of its VEVENTs, UTC; None if none has one
    # REQUEST: the event (a series' master); CANCEL of the whole event: None.
    event: EventDetails | None = None
    # REQUEST: changed occurrences, each an EventDetails whose ``occurrence`` is its RECURRENCE-ID.
    occurrences: tuple[EventDetails, ...] = ()
    # CANCEL: the original starts (RECURRENCE-ID) of the cancelled occurrences; empty: the whole event.
    cancelled: tuple[date | datetime, ...] = ()
    attendees: tuple[Person, ...] = ()  # the organizer's own ATTENDEEs (the event address among them)
    prodid: str = ""
    # STATUS as sent. A CANCEL without STATUS:CANCELLED is what a client sends an attendee it removed
    # from an event that goes on (RFC 5546 §3.2.5): here, the event address removed. It cancels all
    # the same (docs/organizer.md, "What is read"); kept so the log line can tell.
    status: str = ""
    # Set when ``uid`` was replaced by the attendees' one (decisions): the organizer's own UID.
    organizer_uid: str = ""

    @property
    def kind(self) -> ChangeKind:
        if self.method is Method.CANCEL:
            return ChangeKind.CANCEL_OCCURRENCES if self.cancelled else ChangeKind.CANCEL_EVENT
        return ChangeKind.EVENT if self.event is not None else ChangeKind.OCCURRENCES


@frozen
class OrganizerReading:
    """The message, or why there is none: ``method`` is what the calendar said (for the log line),
    ``problems`` every field that could not be read."""

    message: OrganizerMessage | None
    method: str = ""
    problems: tuple[FieldError, ...] = ()

    @property
    def reason(self) -> str:
        return "; ".join(f"{p.field}: {p.reason}" for p in self.problems)

    @property
    def refusal(self) -> Refused | None:
        """How a record without a message ends: ``unsupported`` for another METHOD or an RDATE
        (what this server does not take), ``malformed_calendar`` for the rest."""
        if self.message is not None:
            return None
        unsupported = any(p.field in _UNSUPPORTED_FIELDS for p in self.problems)
        outcome = OrganizerOutcome.UNSUPPORTED if unsupported else OrganizerOutcome.MALFORMED_CALENDAR
        return Refused(outcome, self.reason or "no organizer's message")


def read_organizer_email(source: bytes | typing.BinaryIO) -> tuple[InboundEmail, OrganizerReading | None]:
    """The mail's headers and the organizer's message in it; None when the mail has no calendar.
    Of several calendar parts (besides the attached copy of the inline one), the first that reads
    as an organizer's message is the one: clients send one message per mail (RFC 6047 §2.4)."""
    email, parts = read_calendar_parts(source)
    readings = [read_organizer_calendar(part.text, part.mime_method) for part in parts]
    if not readings:
        if email.calendar_error:
            return email, _refused("calendar", email.calendar_error)
        return email, None
    return email, next((r for r in readings if r.message is not None), readings[0])


def read_organizer_calendar(text: str, mime_method: str = "") -> OrganizerReading:
    """The organizer's message in one calendar text. The calendar's METHOD decides; the MIME
    ``method=`` only stands in for a calendar without one (as for answers: lambdas.domain.inbound.itip)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = floating_unresolvable_tzids(text.replace("\n ", "").replace("\n\t", ""))
    try:
        calendars = [c for c in Calendar.from_ical(text, multiple=True) if c.name == "VCALENDAR"]
    except Exception as error:  # icalendar raises ValueError, and worse on hostile input
        return _refused("calendar", f"unreadable ({type(error).__name__}: {str(error)[:200]})")
    if len(calendars) != 1:
        return _refused("calendar", "must hold exactly one VCALENDAR")
    calendar = calendars[0]
    method = _line(calendar.get("METHOD"), 32).upper() or mime_method.strip().upper()
    if method not in ORGANIZER_METHODS:
        return OrganizerReading(
            None, method, (FieldError("METHOD", f"{method or 'none'}: not REQUEST or CANCEL"),)
        )
    vevents = calendar.walk("VEVENT")
    if not vevents:
        return _refused("VEVENT", "is required", method)
    if len(vevents) > MAX_VEVENTS:
        return _refused("VEVENT", f"at most {MAX_VEVENTS} in one message", method)
    uids = {_line(v.get("UID"), 1000) for v in vevents}
    if len(uids) != 1 or "" in uids:
        return _refused("UID", "every VEVENT must have the same UID (one event per message)", method)
    return _Message(Method(method), calendar, vevents).read()


def _refused(field: str, reason: str, method: str = "") -> OrganizerReading:
    return OrganizerReading(None, method, (FieldError(field, reason),))


class _Message:
    """One message's VEVENTs, read in turn; problems collected, each named by property."""

    def __init__(self, method: Method, calendar: Calendar, vevents: list):
        self.method = method
        self.calendar = calendar
        self.vevents = vevents
        self.problems: list[FieldError] = []

    def read(self) -> OrganizerReading:
        masters = [v for v in self.vevents if "RECURRENCE-ID" not in v]
        instances = [v for v in self.vevents if "RECURRENCE-ID" in v]
        if len(masters) > 1:
            return _refused("VEVENT", "more than one without RECURRENCE-ID", self.method)
        master = masters[0] if masters else None
        organizer = self._organizer(master if master is not None else self.vevents[0])
        named = {p.email for p in (_person(v.get("ORGANIZER")) for v in self.vevents) if p is not None}
        if organizer is not None and named != {organizer.email}:
            # Each VEVENT is checked against From: through the one ORGANIZER the message names.
            self.problems.append(FieldError("ORGANIZER", "differs between the VEVENTs of one message"))
        for vevent in self.vevents:
            if "RDATE" in vevent:
                # The contract has no RDATE (lambdas.domain.recurrence): refused rather than dropped,
                # since attendees would miss the extra dates.
                self.problems.append(FieldError("RDATE", "is not supported: only RRULE and EXDATE"))
        sequences = [self._sequence(v) for v in self.vevents]
        stamps = [s for s in (_utc(decoded(v, "DTSTAMP")) for v in self.vevents) if s is not None]
        event, occurrences, cancelled = None, (), ()
        if organizer is not None and not self.problems:
            if self.method is Method.REQUEST:
                event = self._event(master, organizer) if master is not None else None
                occurrences = tuple(
                    o for o in (self._event(v, organizer, event) for v in instances) if o is not None
                )
            elif master is None:  # with the event itself, a CANCEL cancels all of it
                cancelled = tuple(t for t in (self._occurrence(v) for v in instances) if t is not None)
        if self.problems or organizer is None:
            return OrganizerReading(None, self.method, tuple(self.problems))
        message = OrganizerMessage(
            method=self.method,
            uid=_line(self.vevents[0].get("UID"), 1000),
            organizer=organizer,
            sequence=max(sequences),
            dtstamp=max(stamps) if stamps else None,
            event=event,
            occurrences=occurrences,
            cancelled=cancelled,
            attendees=self._attendees(master if master is not None else self.vevents[0]),
            prodid=_line(self.calendar.get("PRODID"), 255),
            status=_line((master if master is not None else self.vevents[0]).get("STATUS"), 32).upper(),
        )
        return OrganizerReading(message, self.method)

    # ------------------------------------------------------------------------------ the people

    def _organizer(self, vevent) -> Person | None:
        person = _person(vevent.get("ORGANIZER"))
        if person is None:
            self.problems.append(FieldError("ORGANIZER", "is required, with a mailto: address"))
        return person

    def _attendees(self, vevent) -> tuple[Person, ...]:
        raw = vevent.get("ATTENDEE")
        values = raw if isinstance(raw, list) else [raw] if raw is not None else []
        people = [p for p in (_person(v) for v in values[:MAX_ATTENDEES]) if p is not None]
        return tuple(people)

    # ----------------------------------------------------------------------------- the event

    def _sequence(self, vevent) -> int:
        if "SEQUENCE" not in vevent:
            return 0
        value = decoded(vevent, "SEQUENCE")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
            self.problems.append(FieldError("SEQUENCE", "must be an integer from 0 to 2147483647"))
            return 0
        return value

    def _event(self, vevent, organizer: Person, master: EventDetails | None = None) -> EventDetails | None:
        """A VEVENT as the contract reads it: the master, or (with RECURRENCE-ID) one occurrence."""
        label = (
            "VEVENT"
            if "RECURRENCE-ID" not in vevent
            else f"VEVENT[RECURRENCE-ID={_raw(vevent, 'RECURRENCE-ID')}]"
        )
        start, zone = self._time(vevent, "DTSTART", label)
        if start is None:
            return None
        end = self._end(vevent, start, label)
        if end is None:
            return None
        document: dict = {
            "uid": _line(vevent.get("UID"), 1000),
            "sequence": self._sequence(vevent),
            # A changed occurrence may leave out what it shares with the series (RFC 5545 §3.8.4.4).
            "summary": _line(vevent.get("SUMMARY"), MAX_SUMMARY) or (master.summary if master else ""),
            "description": _multiline(vevent.get("DESCRIPTION"), MAX_DESCRIPTION),
            "location": _line(vevent.get("LOCATION"), MAX_LOCATION),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "timezone": zone,
            "organizer": organizer.as_dict(),
        }
        if "RECURRENCE-ID" in vevent:
            occurrence, _ = self._time(vevent, "RECURRENCE-ID", label)
            if occurrence is None:
                return None
            document["occurrence"] = _in_zone(occurrence, zone).isoformat()
        elif "RRULE" in vevent:
            document["rrule"] = _rrule(vevent)
            document["exdates"] = [t.isoformat() for t in self._exdates(vevent, zone, label)]
        try:
            # The contract's own rules (sizes, characters, the series): with the organizer as the
            # one attendee the request form needs. Only the event is kept.
            request = parse_invite(json.dumps({"event": document, "attendee": organizer.as_dict()}))
        except InvalidRequest as invalid:
            self.problems.extend(
                FieldError(f"{label}.{e.field.removeprefix('event.')}", e.reason) for e in invalid.errors
            )
            return None
        return request.event

    def _time(self, vevent, name: str, label: str) -> tuple[date | datetime | None, str]:
        """The time, and the IANA zone it is kept in ("" for UTC or a date)."""
        value = decoded(vevent, name)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self.problems.append(FieldError(f"{label}.{name}", "is a floating time: give a TZID or UTC"))
                return None, ""
            return _kept(value, _tzid(vevent.get(name)))
        if isinstance(value, date):
            return value, ""
        self.problems.append(FieldError(f"{label}.{name}", "is required and must be a date or date-time"))
        return None, ""

    def _end(self, vevent, start: date | datetime, label: str) -> date | datetime | None:
        if "DTEND" in vevent:  # with DURATION too (against RFC 5545), DTEND wins: it is what clients show
            end, _ = self._time(vevent, "DTEND", label)
            if end is not None and isinstance(start, datetime) and start.tzinfo is not UTC:
                end = end.astimezone(start.tzinfo)
            return end
        duration = decoded(vevent, "DURATION")
        if isinstance(duration, timedelta):
            return start + duration
        if not isinstance(start, datetime):
            return start + timedelta(days=1)  # RFC 5545 §3.6.1: an all-day event of one day
        self.problems.append(
            FieldError(f"{label}.DTEND", "is required (or DURATION): the event has no length")
        )
        return None

    def _exdates(self, vevent, zone: str, label: str) -> list[date | datetime]:
        raw = vevent.get("EXDATE")
        found: list[date | datetime] = []
        for values in raw if isinstance(raw, list) else [raw] if raw is not None else []:
            tzid = _tzid(values)
            for item in getattr(values, "dts", []):
                value = item.dt
                if isinstance(value, datetime):
                    if value.tzinfo is None:
                        self.problems.append(FieldError(f"{label}.EXDATE", "is a floating time"))
                        continue
                    value = _in_zone(_kept(value, tzid)[0], zone)
                found.append(value)
        return found

    def _occurrence(self, vevent) -> date | datetime | None:
        occurrence, _ = self._time(vevent, "RECURRENCE-ID", "VEVENT")
        return occurrence


# ------------------------------------------------------------------------------------ the values


def _person(value) -> Person | None:
    """A calendar user as the contract holds it. ``EMAIL=`` (RFC 7986 §6.2) names the person when
    the value only routes: Apple's CalendarServer writes ``urn:uuid:``, and iCloud's mail a token
    address per attendee (``mailto:2_…@imip.me.com``), so the same organizer would otherwise be
    someone else in each mail and never the From: address."""
    if value is None:
        return None
    params = getattr(value, "params", {}) or {}
    address = address_of(params.get("EMAIL", "")) or address_of(value)
    if not address:
        return None
    name = _line(params.get("CN"), MAX_NAME).strip('"').strip()
    # The contract refuses a backslash in a name (clients read it as an escape in CN) and "=?" (an
    # encoded word in a header): the name is only shown, so those are left out, not the person.
    name = name.replace("\\", "")
    if "=?" in name or name.lower() == address:
        name = ""
    return Person(email=address, name=name)


def _kept(value: datetime, tzid: str) -> tuple[datetime, str]:
    """An aware date-time as it is kept: the organizer's wall-clock time in the IANA zone its TZID
    names (whatever rules the mail's VTIMEZONE wrote), else the same instant in UTC."""
    iana = _iana(tzid) if tzid else ""
    if iana:
        return value.replace(tzinfo=ZoneInfo(iana)), iana
    return value.astimezone(UTC), ""


def _in_zone(value: date | datetime, zone: str) -> date | datetime:
    """A RECURRENCE-ID or EXDATE in the event's own zone (it may name another): the same instant."""
    return value.astimezone(ZoneInfo(zone)) if isinstance(value, datetime) and zone else value


def _tzid(value) -> str:
    params = getattr(value, "params", None) or {}
    return _line(params.get("TZID"), 64).strip('"')


def _iana(tzid: str) -> str:
    """The IANA name for a TZID: itself if zoneinfo knows it, else Windows' name mapped by
    icalendar's table; "" when neither (the time is then kept in UTC)."""
    for candidate in (tzid, _windows_to_iana(tzid)):
        if (candidate and "/" in candidate) or candidate == "UTC":
            try:
                ZoneInfo(candidate)
                return candidate
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return ""


def _windows_to_iana(tzid: str) -> str:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON  # only for Outlook's zone names

    return WINDOWS_TO_OLSON.get(tzid, "") or _display_name_to_iana(tzid, WINDOWS_TO_OLSON.values())


def _display_name_to_iana(tzid: str, zones: typing.Iterable[str]) -> str:
    """OWA names a zone by Windows' display name, "(UTC+01:00) Amsterdam, Berlin, Bern, …": the
    first place listed that is the IANA zone of a Windows zone, if that zone's standard offset is
    the one the name gives; "" otherwise (the time is then kept in UTC)."""
    head, sep, places = tzid.partition(") ")
    if not (sep and head.startswith("(UTC")):
        return ""
    by_place = {zone.rpartition("/")[2].replace("_", " "): zone for zone in zones}
    for place in places.split(","):
        zone = by_place.get(place.strip(), "")
        if zone and _standard_offset(zone) == head.removeprefix("(UTC"):
            return zone
    return ""


def _standard_offset(zone: str) -> str:
    """The zone's offset without daylight saving, written as display names write it ("+01:00")."""
    tz = ZoneInfo(zone)
    minutes = int(min(datetime(2025, m, 15, tzinfo=tz).utcoffset() for m in (1, 7)).total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _rrule(vevent) -> str:
    raw = vevent.get("RRULE")
    if isinstance(raw, list):
        raw = raw[0] if len(raw) == 1 else None  # several RRULEs (deprecated): the contract refuses ""
    try:
        return raw.to_ical().decode("ascii") if raw is not None else ""
    except Exception:
        return ""


def _raw(vevent, name: str) -> str:
    value = vevent.get(name)
    try:
        return value.to_ical().decode("ascii", "replace")[:40]
    except Exception:
        return "?"


def _utc(value) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def _line(value, max_len: int) -> str:
    """Single-line text without control characters, cut to ``max_len`` (an organizer's long title
    is shortened, not refused: the event is still theirs to run)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return CONTROL.sub(" ", str(value)).strip()[:max_len]


def _multiline(value, max_len: int) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_EXCEPT_NEWLINE_TAB.sub("", text).strip()[:max_len]
