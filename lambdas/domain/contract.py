"""Message contract v1: parse and validate SQS bodies into typed requests. This module reads an
invitation and the fields every request shares (``read_event``, ``read_person``, ...); a
cancellation is read by ``cancellation_contract``, which only send cancellation loads
(docs/performance.md, "Cold start").

Every problem is reported as a :class:`FieldError` naming the offending field, and all of them are
collected before raising, so a producer sees every mistake at once. Accepted values are guaranteed
free of control characters (single-line fields) or of anything but LF/TAB (``description``), which
is what makes header and iCalendar injection impossible further down.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lambdas.domain.envelopes import decode_body
from lambdas.domain.events import MAX_EMAIL, EventDetails, Person
from lambdas.domain.frozen import frozen
from lambdas.domain.readers import ErrorCollector, header_text, read_text, read_timezone, read_when
from lambdas.domain.validation import FieldError

MAX_ATTENDEES = 1000
MAX_UID = 255
MAX_SUMMARY = 255
MAX_LOCATION = 255
MAX_NAME = 128
MAX_DESCRIPTION = 8000
MAX_SEQUENCE = 2**31 - 1  # RFC 5545 SEQUENCE is an INTEGER (signed 32-bit)

# Dot-atom addresses only (RFC 5322 §3.4.1 without quoted strings or comments). Rejecting the exotic
# forms keeps every accepted address safe to put in a header and in a mailto: URI unchanged. A
# pattern, compiled (and cached by `re`) by the first address read: the functions that read no
# requests never pay for it (docs/performance.md, "Cold start").
_EMAIL = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


@frozen
class InviteRequest:
    """Send (or update) one attendee's invitation.

    ``event`` is None when the request named only the event's uid (an attendee added by uid): the
    attendee is then sent the event as stored, at its stored sequence (docs/message-contract.md).
    """

    uid: str
    event: EventDetails | None
    attendee: Person


@frozen
class InviteFanOut:
    """An invitation to many attendees, split into one InviteRequest per attendee (``event`` None:
    by uid, as for one attendee)."""

    uid: str
    event: EventDetails | None
    attendees: tuple[Person, ...]


# An invite by uid sends the event as stored: a sequence of the producer's would either repeat the
# stored one or name a version nobody stored.
SEQUENCE_BY_UID = (
    "an invite naming only the uid sends the stored event at its stored sequence:"
    " leave sequence out, or give the event's details to update it"
)


# ------------------------------------------------------------------------------------------ invites


def parse_invite(body: Any) -> InviteRequest | InviteFanOut:
    document = decode_body(body)
    errors = ErrorCollector()
    uid, event = _invited_event(document.get("event"), errors)
    has_one, has_many = "attendee" in document, "attendees" in document
    if has_one and has_many:
        errors.add("attendees", "give either attendee or attendees, not both")
    elif has_many:
        attendees = _attendee_list(document["attendees"], errors)
        errors.raise_if_any()
        return InviteFanOut(uid=uid, event=event, attendees=attendees)
    elif not has_one:
        errors.add("attendee", "is required")
    attendee = read_person(document.get("attendee"), "attendee", errors)
    errors.raise_if_any()
    return InviteRequest(uid=uid, event=event, attendee=attendee)


def _invited_event(raw: Any, errors: ErrorCollector) -> tuple[str | None, EventDetails | None]:
    """(uid, event): the event's details, or only its uid (event None), as a uid-only cancellation.

    Any field besides uid (and sequence, refused by uid) makes it a full event, read and checked as
    one: a producer who meant to give details is told which are missing."""
    if isinstance(raw, dict) and raw and set(raw) <= {"uid", "sequence"}:
        uid = read_uid(raw.get("uid"), "event.uid", errors)
        if "sequence" in raw:
            errors.add("event.sequence", SEQUENCE_BY_UID)
        return uid, None
    event = read_event(raw, "event", errors)
    return (event.uid if event else None), event


# --------------------------------------------------------------------------------------- the fields


def read_event(
    raw: Any, name: str, errors: ErrorCollector, *, stored_names: bool = False
) -> EventDetails | None:
    if not isinstance(raw, dict):
        errors.add(name, "is required and must be an object")
        return None
    uid = read_uid(raw.get("uid"), f"{name}.uid", errors)
    sequence = read_sequence(raw.get("sequence", 0), f"{name}.sequence", errors)
    summary = header_text(
        read_text(raw.get("summary"), f"{name}.summary", errors, MAX_SUMMARY, required=True),
        f"{name}.summary",
        errors,
    )
    description = read_text(
        raw.get("description"), f"{name}.description", errors, MAX_DESCRIPTION, multiline=True
    )
    location = read_text(raw.get("location"), f"{name}.location", errors, MAX_LOCATION)
    timezone = read_timezone(raw.get("timezone"), f"{name}.timezone", errors)
    organizer = read_person(raw.get("organizer"), f"{name}.organizer", errors, stored_name=stored_names)
    start = read_when(raw.get("start"), f"{name}.start", errors)
    end = read_when(raw.get("end"), f"{name}.end", errors)
    series = None
    if start is not None and end is not None:
        start, end = _check_interval(start, end, timezone, name, errors)
        if start is not None and timezone is not None:
            series = _series(raw, name, start, timezone, errors)
    if None in (uid, sequence, summary, organizer, start, end, series) or timezone is None:
        return None
    rrule, exdates, occurrence = series
    return EventDetails(
        rrule=rrule,
        exdates=exdates,
        occurrence=occurrence,
        uid=uid,
        sequence=sequence,
        summary=summary,
        description=description or "",
        location=location or "",
        timezone=timezone,
        start=start,
        end=end,
        organizer=organizer,
    )


def _series(raw: dict, name: str, start, timezone: str, errors: ErrorCollector) -> tuple | None:
    """(rrule, exdates, occurrence): a series, one of its occurrences, or neither."""
    has_rule = raw.get("rrule") not in (None, "")
    if not has_rule and raw.get("occurrence") in (None, ""):
        if raw.get("exdates") not in (None, []):
            errors.add(f"{name}.exdates", "needs event.rrule")
            return None
        return "", (), None
    from lambdas.domain.recurrence import parse_recurrence, read_occurrence_start  # series only

    if raw.get("occurrence") not in (None, ""):
        if has_rule:
            errors.add(f"{name}.occurrence", "give rrule (the series) or occurrence (one of it), not both")
            return None
        value = read_occurrence_start(raw["occurrence"], start, timezone)
        if isinstance(value, str):
            errors.add(f"{name}.occurrence", value)
            return None
        return "", (), value
    recurrence, found = parse_recurrence(raw["rrule"], raw.get("exdates"), start, timezone)
    errors.errors.extend(FieldError(e.field.replace("event.", f"{name}.", 1), e.reason) for e in found)
    return None if recurrence is None else (recurrence.rrule, recurrence.exdates, None)


def read_uid(raw: Any, name: str, errors: ErrorCollector) -> str | None:
    uid = read_text(raw, name, errors, MAX_UID, required=True)
    if uid is not None and uid != uid.strip():
        errors.add(name, "must not start or end with white space")
        return None
    return uid


def read_sequence(raw: Any, name: str, errors: ErrorCollector) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors.add(name, "must be an integer")
        return None
    if not 0 <= raw <= MAX_SEQUENCE:
        errors.add(name, f"must be between 0 and {MAX_SEQUENCE}")
        return None
    return raw


def _display_name(
    value: str | None, name: str, errors: ErrorCollector, *, stored: bool = False
) -> str | None:
    """A name shown in a mail header and as the CN parameter of ORGANIZER or ATTENDEE.

    iCalendar parameter values have no escapes, yet parsers (icalendar's among them) read a
    backslash before ':' or ';' as one, which moves the boundary between CN and the address.
    ``stored``: a name the function repeats from the table (its fan-out), accepted if it was when
    written: the backslash rule is younger than some stored names (docs/message-contract.md).
    """
    value = header_text(value, name, errors)
    if value and "\\" in value and not stored:
        errors.add(name, "must not contain a backslash (calendar clients read it as an escape in CN)")
        return None
    return value


def _email(raw: Any, name: str, errors: ErrorCollector) -> str | None:
    if raw is None or raw == "":
        errors.add(name, "is required")
        return None
    if not isinstance(raw, str):
        errors.add(name, "must be a string")
        return None
    if len(raw) > MAX_EMAIL or not re.fullmatch(_EMAIL, raw):
        errors.add(name, "is not a valid email address")
        return None
    return raw


def read_person(raw: Any, name: str, errors: ErrorCollector, *, stored_name: bool = False) -> Person | None:
    if not isinstance(raw, dict):
        errors.add(name, "is required and must be an object")
        return None
    email = _email(raw.get("email"), f"{name}.email", errors)
    text = read_text(raw.get("name"), f"{name}.name", errors, MAX_NAME)
    display = _display_name(text, f"{name}.name", errors, stored=stored_name)
    if email is None or display is None:
        return None
    return Person(email=email, name=display.strip())


def _attendee_list(raw: Any, errors: ErrorCollector) -> tuple[Person, ...]:
    if not isinstance(raw, list) or not raw:
        errors.add("attendees", "must be a non-empty list")
        return ()
    if len(raw) > MAX_ATTENDEES:
        errors.add("attendees", f"must have at most {MAX_ATTENDEES} entries")
        return ()
    people: dict[str, Person] = {}
    for index, item in enumerate(raw):
        person = read_person(item, f"attendees[{index}]", errors)
        if person is not None:
            people.setdefault(person.email.lower(), person)  # first spelling of an address wins
    return tuple(people.values())


def _check_interval(start, end, timezone: str | None, name: str, errors: ErrorCollector):
    start_is_date, end_is_date = not isinstance(start, datetime), not isinstance(end, datetime)
    if start_is_date != end_is_date:
        errors.add(f"{name}.end", "start and end must both be dates or both be date-times")
        return None, None
    if not start_is_date:
        for label, value in (("start", start), ("end", end)):
            if value.tzinfo is None and not timezone:
                errors.add(f"{name}.{label}", "a local time needs event.timezone (or give an offset or Z)")
                return None, None
        zone = ZoneInfo(timezone) if timezone else None
        start = start if start.tzinfo else start.replace(tzinfo=zone)
        end = end if end.tzinfo else end.replace(tzinfo=zone)
        for label, value in (("start", start), ("end", end)):
            # The calendar is written in UTC or in the event's zone: both must exist (year 1..9999).
            try:
                value.astimezone(UTC)
                if zone is not None:
                    value.astimezone(zone)
            except (OverflowError, ValueError):
                errors.add(f"{name}.{label}", "is out of the range a calendar can represent")
                return None, None
        if zone is not None:
            # The same instants, in the event's zone: a series recurs at its local time there.
            start, end = start.astimezone(zone), end.astimezone(zone)
    if end <= start:
        errors.add(f"{name}.end", "must be after start")
        return None, None
    return start, end
