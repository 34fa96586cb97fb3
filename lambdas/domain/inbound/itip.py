"""An iTIP calendar that came back (RFC 5546), read with icalendar into one answer per VEVENT, and
the answers of a raw email (``read_email``: its calendar parts, found by ``email``).

The calendar is untrusted input: nothing here raises for bad content. What cannot be read is
returned as a reason next to whatever could be read.

Which METHOD wins: the VCALENDAR's own ``METHOD``. iTIP defines its semantics on that property
(RFC 5546 §1.4); the MIME ``method=`` parameter is only a transport hint that RFC 6047 §2.4 says
must repeat it, and an ``.ics`` attachment has no MIME parameter at all. So the calendar decides
and the MIME parameter is used only when the calendar has no METHOD (it still says what the
sender meant). A calendar with neither is a plain event, not a message: it is not read.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import field
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar

from lambdas.domain.frozen import frozen
from lambdas.domain.inbound.email import InboundEmail, read_calendar_parts
from lambdas.domain.inbound.properties import address_of, decoded, floating_unresolvable_tzids
from lambdas.domain.inbound.properties import text as _text

MAX_VEVENTS = 50  # a reply to a series carries one VEVENT per answered instance; more is not a reply
MAX_UID = 255  # as in the message contract: a longer UID cannot be one of ours
MAX_NAME = 128
MAX_TEXT = 255  # PRODID, proposed SUMMARY / LOCATION
MAX_COMMENT = 2000


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


# A whole VTIMEZONE component, in unfolded text with "\n" line ends.
_VTIMEZONE = re.compile(r"^BEGIN:VTIMEZONE\n.*?^END:VTIMEZONE\n?", re.MULTILINE | re.DOTALL | re.IGNORECASE)


@frozen
class CalendarReading:
    answers: tuple[CalendarAnswer, ...]
    error: str | None


def read_email(source: bytes | typing.BinaryIO) -> InboundEmail:
    """The mail with the answers of its calendar parts, each once (a calendar's inline copy and
    its attachment say the same). An answer without a DTSTAMP is ordered by the mail's Date:.
    Never raises for bad content: a problem shows up as fewer answers and a ``calendar_error``."""
    email, parts = read_calendar_parts(source)
    answers: dict[tuple, CalendarAnswer] = {}
    errors = [email.calendar_error] if email.calendar_error else []
    for part in parts:
        reading = read_calendar(part.text, part.mime_method, replier=email.from_address)
        if reading.error:
            errors.append(reading.error)
        for answer in reading.answers:
            if answer.dtstamp is None and email.sent_at is not None:
                answer = dataclasses.replace(answer, dtstamp=email.sent_at, dtstamp_from="Date")
            answers.setdefault(answer.identity(), answer)
    return dataclasses.replace(
        email, answers=tuple(answers.values()), calendar_error=errors[0] if errors else None
    )


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


def _addresses(raw) -> tuple[str, ...]:
    values = raw if isinstance(raw, list) else [raw] if raw else []
    found = []
    for value in values:
        for piece in str(value).split(","):
            if address := address_of(piece):
                found.append(address)
    return tuple(found)


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


def _comment(raw) -> str:
    values = raw if isinstance(raw, list) else [raw] if raw is not None else []
    text = "\n".join(_text(value, MAX_COMMENT, multiline=True) for value in values).strip()
    return text[:MAX_COMMENT]


def _short(error: Exception) -> str:
    return _text(f"{type(error).__name__}: {error}", 200)
