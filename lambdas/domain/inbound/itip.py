"""An iTIP calendar that came back (RFC 5546), read with icalendar into one answer per VEVENT.

The calendar is untrusted input: nothing here raises for bad content. What cannot be read is
returned as a reason next to whatever could be read.

Which METHOD wins: the VCALENDAR's own ``METHOD``. iTIP defines its semantics on that property
(RFC 5546 §1.4); the MIME ``method=`` parameter is only a transport hint that RFC 6047 §2.4 says
must repeat it, and an ``.ics`` attachment has no MIME parameter at all. So the calendar decides
and the MIME parameter is used only when the calendar has no METHOD (it still says what the
sender meant). A calendar with neither is a plain event, not a message: it is not read.
"""

from __future__ import annotations

import re
from dataclasses import field
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar
from icalendar.timezone import tzp

from lambdas.domain.frozen import frozen
from lambdas.domain.validation import CONTROL, CONTROL_EXCEPT_NEWLINE_TAB

MAX_VEVENTS = 50  # a reply to a series carries one VEVENT per answered instance; more is not a reply
MAX_UID = 255  # as in the message contract: a longer UID cannot be one of ours
MAX_NAME = 128
MAX_TEXT = 255  # PRODID, proposed SUMMARY / LOCATION
MAX_COMMENT = 2000

_MAILTO = re.compile(r"^\s*mailto:", re.IGNORECASE)


@frozen
class CalendarAnswer:
    """One VEVENT of an iTIP message that came back: what one attendee says about one event."""

    method: str  # "REPLY", "COUNTER", "REFRESH", ... upper-case
    uid: str
    attendee: str  # the ATTENDEE address, mailto: stripped, lower-cased
    attendee_name: str  # CN, "" if none
    partstat: str | None  # upper-case PARTSTAT, None if absent
    sequence: int  # SEQUENCE, 0 when absent
    dtstamp: datetime | None  # aware, UTC; None without a DTSTAMP (read_email orders it by Date:)
    recurrence_id: str | None  # RECURRENCE-ID as ISO 8601 (UTC when it has a zone), else None
    comment: str  # COMMENT(s), "" if none
    prodid: str  # the VCALENDAR's PRODID, "" if none
    proposed: dict[str, str] = field(default_factory=dict)  # COUNTER: "start", "end", "summary", "location"
    delegated_to: tuple[str, ...] = ()  # DELEGATED-TO addresses of a PARTSTAT=DELEGATED answer
    dtstamp_from: str = "DTSTAMP"  # what orders it: "DTSTAMP", else the mail's "Date", else "received"

    def identity(self) -> tuple:
        """Equal for the same answer read twice (inline and attached copies of one calendar)."""
        return (
            self.method,
            self.uid,
            self.recurrence_id,
            self.attendee,
            self.partstat,
            self.sequence,
            self.dtstamp,
            self.comment,
            tuple(sorted(self.proposed.items())),
            self.delegated_to,
        )


@frozen
class CalendarReading:
    answers: tuple[CalendarAnswer, ...]
    error: str | None


def read_calendar(text: str, mime_method: str = "", replier: str = "") -> CalendarReading:
    """Answers in an iCalendar text. ``replier`` (the From: address) picks the ATTENDEE that speaks
    when a VEVENT lists several (a delegation names the delegate too)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = floating_unresolvable_tzids(text.replace("\n ", "").replace("\n\t", ""))
    errors: list[str] = []
    try:
        components = Calendar.from_ical(text, multiple=True)
    except Exception as error:  # icalendar raises ValueError, and worse on hostile input
        # A VTIMEZONE icalendar cannot build a zone from (rules without DTSTART) stops the whole
        # parse, unless that TZID happens to be cached from an earlier calendar in the process. An
        # answer needs no zone: read it again without them, their TZIDs then as unknown zones.
        unreadable = CalendarReading((), f"unreadable calendar: {_short(error)}")
        without_zones = _VTIMEZONE.sub("", text)
        if without_zones == text:
            return unreadable
        try:
            components = Calendar.from_ical(floating_unresolvable_tzids(without_zones), multiple=True)
        except Exception:
            return unreadable
        errors.append(f"VTIMEZONE not read ({_short(error)}): its times read without their zone")
    calendars = [c for c in components if getattr(c, "name", None) == "VCALENDAR"]
    if not calendars:
        return CalendarReading(
            (), "no complete VCALENDAR (BEGIN:VCALENDAR to END:VCALENDAR) in the calendar part"
        )
    answers: list[CalendarAnswer] = []
    seen_events = 0
    for calendar in calendars:
        method = _text(calendar.get("METHOD"), MAX_TEXT).upper() or mime_method.strip().upper()
        if not method:
            errors.append("calendar has no METHOD: a plain event, not an iTIP message")
            continue
        prodid = _text(calendar.get("PRODID"), MAX_TEXT)
        for event in calendar.walk("VEVENT"):
            seen_events += 1
            if seen_events > MAX_VEVENTS:
                errors.append(f"more than {MAX_VEVENTS} VEVENTs: the rest is not read")
                break
            try:
                answer = _answer(event, method, prodid, replier, errors)
            except _OutOfRange as bad:
                errors.append(str(bad))
                continue
            if answer is not None:
                answers.append(answer)
        if seen_events == 0:
            errors.append(f"METHOD:{method} calendar without a VEVENT")
    return CalendarReading(tuple(answers), errors[0] if errors else None)


def _answer(event, method: str, prodid: str, replier: str, errors: list[str]) -> CalendarAnswer | None:
    uid = _text(event.get("UID"), MAX_UID + 1)
    if not uid:
        errors.append("VEVENT without UID")
        return None
    if len(uid) > MAX_UID:
        errors.append(f"UID longer than {MAX_UID} characters")
        return None
    attendee = _speaking_attendee(event.get("ATTENDEE"), replier)
    if attendee is None:
        errors.append(f"VEVENT {uid} has no ATTENDEE with an address")
        return None
    address, params = attendee
    # sabre/vobject accepts an answer without DTSTAMP; the mail's Date: orders it instead.
    dtstamp = _bounded(uid, "DTSTAMP", lambda: _utc(decoded(event, "DTSTAMP")))
    sequence = _sequence(event)
    if sequence is None:
        errors.append(f"VEVENT {uid} has an invalid SEQUENCE")
        return None
    partstat = _text(params.get("PARTSTAT"), 32).upper() or None
    recurrence_id = _bounded(uid, "RECURRENCE-ID", lambda: _iso(decoded(event, "RECURRENCE-ID")))
    return CalendarAnswer(
        method=method,
        uid=uid,
        attendee=address,
        attendee_name=_text(params.get("CN"), MAX_NAME).strip().strip('"').strip(),
        partstat=partstat,
        sequence=sequence,
        dtstamp=dtstamp,
        recurrence_id=recurrence_id,
        # Google Calendar carries the attendee's note as an ATTENDEE parameter instead of COMMENT.
        comment=_comment(event.get("COMMENT")) or _comment(params.get("X-RESPONSE-COMMENT")),
        prodid=prodid,
        proposed=_proposed(uid, event) if method == "COUNTER" else {},
        delegated_to=_addresses(params.get("DELEGATED-TO")) if partstat == "DELEGATED" else (),
    )


def _speaking_attendee(raw, replier: str) -> tuple[str, dict] | None:
    """The one ATTENDEE this VEVENT speaks for: the From: address if listed, else the only one, else
    the first that gives an answer (a delegation also lists the delegate, who has not answered)."""
    candidates = []
    for value in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        address = address_of(value)
        if address:
            candidates.append((address, dict(getattr(value, "params", {}) or {})))
    if not candidates:
        return None
    for candidate in candidates:
        if candidate[0] == replier:
            return candidate
    if len(candidates) == 1:
        return candidates[0]
    for candidate in candidates:
        if _text(candidate[1].get("PARTSTAT"), 32).upper() not in ("", "NEEDS-ACTION"):
            return candidate
    return candidates[0]


def address_of(value) -> str:
    """A calendar user address as an email address: mailto: (any case) stripped, lower-cased."""
    text = _MAILTO.sub("", _text(value, 320)).strip().strip('"').strip()
    return text.lower() if "@" in text else ""


def _addresses(raw) -> tuple[str, ...]:
    values = raw if isinstance(raw, list) else [raw] if raw else []
    found = []
    for value in values:
        for piece in str(value).split(","):
            if address := address_of(piece):
                found.append(address)
    return tuple(found)


def decoded(event, name: str):
    """The property's decoded value, or None when it is missing or broken."""
    if name not in event:
        return None
    try:
        return event.decoded(name)
    except Exception:  # a broken value: icalendar keeps it as vBroken, decoding may raise
        return None


def _sequence(event) -> int | None:
    if "SEQUENCE" not in event:
        return 0
    value = decoded(event, "SEQUENCE")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        return None
    return int(value)


def _utc(value) -> datetime | None:
    if isinstance(value, datetime):
        # A floating DTSTAMP breaks RFC 5545 (it MUST be UTC); read it as the UTC it should have been.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _iso(value) -> str | None:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None


def _proposed(uid: str, event) -> dict[str, str]:
    proposed: dict[str, str] = {}
    start = decoded(event, "DTSTART")
    if (start_iso := _bounded(uid, "DTSTART", lambda: _iso(start))) is not None:
        proposed["start"] = start_iso
    end = decoded(event, "DTEND")
    duration = decoded(event, "DURATION") if end is None else None
    if isinstance(start, date) and isinstance(duration, timedelta):
        end = _bounded(uid, "DURATION", lambda: start + duration)
    if (end_iso := _bounded(uid, "DTEND" if duration is None else "DURATION", lambda: _iso(end))) is not None:
        proposed["end"] = end_iso
    for name in ("SUMMARY", "LOCATION"):
        if value := _text(event.get(name), MAX_TEXT):
            proposed[name.lower()] = value
    return proposed


class _OutOfRange(Exception):
    """A date in the mail that no arithmetic can hold: the VEVENT is malformed, for good."""


def _bounded(uid: str, name: str, compute):
    """``compute()``, with a date past year 9999 or before year 1 (OverflowError, or ValueError
    from datetime) turned into a reason naming the property. Anyone can send such a date, so it
    must end as ``malformed_calendar`` rather than as an error retried until the DLQ."""
    try:
        return compute()
    except (OverflowError, ValueError) as error:
        raise _OutOfRange(f"VEVENT {uid} has an out-of-range {name}: {_short(error)}") from None


# TZID=<value> as a parameter (an escaped "\\;" in a TEXT value is not one).
_TZID_PARAMETER = re.compile(r'(?<!\\);TZID=("[^"]*"|[^;:\n]*)', re.IGNORECASE)
# A whole VTIMEZONE component, in unfolded text with "\n" line ends.
_VTIMEZONE = re.compile(r"^BEGIN:VTIMEZONE\n.*?^END:VTIMEZONE\n?", re.MULTILINE | re.DOTALL | re.IGNORECASE)


def floating_unresolvable_tzids(text: str) -> str:
    """The calendar with every TZID parameter that makes icalendar's zone lookup raise removed,
    so the time reads as floating.

    icalendar looks a TZID up in tzdata while parsing and lets OSErrors through: ``TZID=Pacific``
    (as old Lotus Notes and iCal 1.5 write it) opens tzdata's ``Pacific/`` folder and raises
    IsADirectoryError, which would drop a whole answer whose ATTENDEE, PARTSTAT, UID and SEQUENCE
    are all readable. A TZID that merely does not exist already reads as floating; these now do too.
    Unfolded text in, unfolded text out."""
    poison = {value for value in set(_TZID_PARAMETER.findall(text)) if not _lookup_is_safe(value.strip('"'))}
    if not poison:
        return text
    return _TZID_PARAMETER.sub(lambda m: "" if m.group(1) in poison else m.group(0), text)


def _lookup_is_safe(tzid: str) -> bool:
    try:
        tzp.timezone(tzid)
    except Exception:  # IsADirectoryError, PermissionError, UnicodeError...: anything but "not found"
        return False
    return True


def _comment(raw) -> str:
    values = raw if isinstance(raw, list) else [raw] if raw is not None else []
    text = "\n".join(_text(value, MAX_COMMENT, multiline=True) for value in values).strip()
    return text[:MAX_COMMENT]


def _text(value, max_len: int, *, multiline: bool = False) -> str:
    """Single-line (or LF/TAB-only) text without control characters, at most max_len characters."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n")
    text = (CONTROL_EXCEPT_NEWLINE_TAB if multiline else CONTROL).sub("" if multiline else " ", text)
    return text.strip()[:max_len]


def _short(error: Exception) -> str:
    return _text(f"{type(error).__name__}: {error}", 200)
