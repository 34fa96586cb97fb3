"""Message contract v1: parse and validate SQS bodies into typed requests.

Every problem is reported as a :class:`FieldError` naming the offending field, and all of them are
collected before raising, so a producer sees every mistake at once. Accepted values are guaranteed
free of control characters (single-line fields) or of anything but LF/TAB (``description``), which
is what makes header and iCalendar injection impossible further down.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_ATTENDEES = 1000
MAX_UID = 255
MAX_SUMMARY = 255
MAX_LOCATION = 255
MAX_NAME = 128
MAX_DESCRIPTION = 8000
MAX_EMAIL = 254
MAX_SEQUENCE = 2**31 - 1  # RFC 5545 SEQUENCE is an INTEGER (signed 32-bit)

# Dot-atom addresses only (RFC 5322 §3.4.1 without quoted strings or comments). Rejecting the exotic
# forms keeps every accepted address safe to put in a header and in a mailto: URI unchanged.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINE_TAB = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class InvalidRequest(ValueError):
    """The request can never succeed: it is dead-lettered at once, never retried."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))

    @property
    def fields(self) -> list[str]:
        return [e.field for e in self.errors]


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"email": self.email, "name": self.name} if self.name else {"email": self.email}


@dataclass(frozen=True)
class EventDetails:
    uid: str
    sequence: int
    summary: str
    start: date | datetime
    end: date | datetime
    organizer: Person
    description: str = ""
    location: str = ""
    timezone: str = ""

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    def as_dict(self) -> dict[str, Any]:
        """The contract form of the event, as stored and as re-enqueued on fan-out."""
        data: dict[str, Any] = {
            "uid": self.uid,
            "sequence": self.sequence,
            "summary": self.summary,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "organizer": self.organizer.as_dict(),
        }
        for name in ("description", "location", "timezone"):
            if value := getattr(self, name):
                data[name] = value
        return data


@dataclass(frozen=True)
class InviteRequest:
    """Send (or update) one attendee's invitation."""

    event: EventDetails
    attendee: Person


@dataclass(frozen=True)
class InviteFanOut:
    """An invitation to many attendees, split into one InviteRequest per attendee."""

    event: EventDetails
    attendees: tuple[Person, ...]


class CancelIntent(StrEnum):
    """What a cancellation asks for; see docs/message-contract.md."""

    # The uid alone, or scope "event" without an attendee: the event is cancelled and every
    # invited attendee is sent a CANCEL with STATUS:CANCELLED (fanned out, one per attendee).
    CANCEL_EVENT = "cancel-event"
    # A producer naming an attendee: that attendee is removed from an event that goes on for
    # everyone else (a CANCEL without STATUS, RFC 5546 §3.2.5); the event item is not cancelled.
    REMOVE_ATTENDEE = "remove-attendee"
    # One attendee's share of a whole-event cancellation: a CANCEL with STATUS:CANCELLED.
    NOTIFY_CANCELLED = "notify-cancelled"


class CancelScope(StrEnum):
    EVENT = "event"
    ATTENDEE = "attendee"


# Written only by the function's own whole-event fan-out, next to the event and the attendee:
# the event item is already cancelled, and the request tells one attendee so.
FAN_OUT_FIELD = "fan_out"
EVENT_CANCELLATION_FAN_OUT = "event-cancellation"


@dataclass(frozen=True)
class CancelRequest:
    """A cancellation; ``intent`` says what it asks for.

    ``event`` is None when the request carried only the uid; the details then come from the stored
    event item. ``sequence`` is the producer's sequence, if it gave one. ``from_fan_out`` is set on
    the requests the function's own fan-out wrote; a NOTIFY_CANCELLED request without it (the
    form ``scope: "event"`` with an attendee) is honoured only for an event already cancelled.
    """

    uid: str
    sequence: int | None
    event: EventDetails | None
    attendee: Person | None
    intent: CancelIntent
    from_fan_out: bool = False


def event_cancellation_share(event: dict[str, Any], attendee: Person) -> dict[str, Any]:
    """The body the whole-event fan-out enqueues for one attendee (contract form of the event)."""
    return {"event": event, "attendee": attendee.as_dict(), FAN_OUT_FIELD: EVENT_CANCELLATION_FAN_OUT}


@dataclass
class _Collector:
    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, reason: str) -> None:
        self.errors.append(FieldError(name, reason))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidRequest(self.errors)


# --------------------------------------------------------------------------------------------- body


def decode_body(body: Any) -> dict[str, Any]:
    """JSON object from an SQS body, unwrapping an SNS notification envelope if present."""
    document = _load_json(body, "body")
    if document.get("Type") == "Notification" and "Message" in document:
        document = _load_json(document["Message"], "Message")
    return document


def _load_json(raw: Any, name: str) -> dict[str, Any]:
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest([FieldError(name, "is not valid UTF-8")]) from None
    if not isinstance(raw, str):
        raise InvalidRequest([FieldError(name, "must be a JSON string")])
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidRequest([FieldError(name, "is not valid JSON")]) from None
    if not isinstance(document, dict):
        raise InvalidRequest([FieldError(name, "must be a JSON object")])
    return document


# ------------------------------------------------------------------------------------------ invites


def parse_invite(body: Any) -> InviteRequest | InviteFanOut:
    document = decode_body(body)
    errors = _Collector()
    event = _event(document.get("event"), "event", errors)
    has_one, has_many = "attendee" in document, "attendees" in document
    if has_one and has_many:
        errors.add("attendees", "give either attendee or attendees, not both")
    elif has_many:
        attendees = _attendee_list(document["attendees"], errors)
        errors.raise_if_any()
        return InviteFanOut(event=event, attendees=attendees)
    elif not has_one:
        errors.add("attendee", "is required")
    attendee = _person(document.get("attendee"), "attendee", errors)
    errors.raise_if_any()
    return InviteRequest(event=event, attendee=attendee)


# ------------------------------------------------------------------------------------ cancellations


def parse_cancellation(body: Any) -> CancelRequest:
    document = decode_body(body)
    errors = _Collector()
    raw_event = document.get("event")
    if not isinstance(raw_event, dict):
        errors.add("event", "is required and must be an object")
        errors.raise_if_any()
    uid = _uid(raw_event.get("uid"), "event.uid", errors)
    sequence = (
        _sequence(raw_event.get("sequence"), "event.sequence", errors) if "sequence" in raw_event else None
    )
    # Only uid (and optionally sequence) given: the details come from the stored event.
    details_given = set(raw_event) - {"uid", "sequence"}
    # The fan-out repeats names as the table holds them, which may predate a rule on names.
    stored_names = FAN_OUT_FIELD in document
    event = _event(raw_event, "event", errors, stored_names=stored_names) if details_given else None
    attendee = None
    if "attendee" in document:
        attendee = _person(document["attendee"], "attendee", errors, stored_name=stored_names)
    intent, from_fan_out = _cancel_intent(document, errors)
    errors.raise_if_any()
    return CancelRequest(
        uid=uid, sequence=sequence, event=event, attendee=attendee, intent=intent, from_fan_out=from_fan_out
    )


def _cancel_intent(document: dict[str, Any], errors: _Collector) -> tuple[CancelIntent, bool]:
    names_attendee = "attendee" in document
    if FAN_OUT_FIELD in document:
        if document[FAN_OUT_FIELD] != EVENT_CANCELLATION_FAN_OUT:
            errors.add(FAN_OUT_FIELD, f"is written by the function only, as {EVENT_CANCELLATION_FAN_OUT!r}")
        elif not names_attendee:
            errors.add("attendee", f"is required with {FAN_OUT_FIELD}")
        elif document.get("scope", CancelScope.EVENT) != CancelScope.EVENT:
            errors.add("scope", f"must be {CancelScope.EVENT!r} (or absent) with {FAN_OUT_FIELD}")
        return CancelIntent.NOTIFY_CANCELLED, True
    scope = document.get("scope")
    if scope is None:
        return (CancelIntent.REMOVE_ATTENDEE if names_attendee else CancelIntent.CANCEL_EVENT), False
    if not isinstance(scope, str) or scope not in CancelScope._value2member_map_:
        errors.add("scope", f"must be one of {', '.join(CancelScope)}")
    elif scope == CancelScope.ATTENDEE and not names_attendee:
        errors.add("scope", "'attendee' needs an attendee")
    elif scope == CancelScope.EVENT and names_attendee:
        # The form that used to cancel the whole event while naming one attendee: kept for the
        # requests an earlier version fanned out, refused by the workflow unless the event is
        # already cancelled (docs/message-contract.md, "Migration").
        return CancelIntent.NOTIFY_CANCELLED, False
    if scope == CancelScope.ATTENDEE:
        return CancelIntent.REMOVE_ATTENDEE, False
    return CancelIntent.CANCEL_EVENT, False


# --------------------------------------------------------------------------------------- the fields


def _event(raw: Any, name: str, errors: _Collector, *, stored_names: bool = False) -> EventDetails | None:
    if not isinstance(raw, dict):
        errors.add(name, "is required and must be an object")
        return None
    uid = _uid(raw.get("uid"), f"{name}.uid", errors)
    sequence = _sequence(raw.get("sequence", 0), f"{name}.sequence", errors)
    summary = _header_text(
        _text(raw.get("summary"), f"{name}.summary", errors, MAX_SUMMARY, required=True),
        f"{name}.summary",
        errors,
    )
    description = _text(
        raw.get("description"), f"{name}.description", errors, MAX_DESCRIPTION, multiline=True
    )
    location = _text(raw.get("location"), f"{name}.location", errors, MAX_LOCATION)
    timezone = _timezone(raw.get("timezone"), f"{name}.timezone", errors)
    organizer = _person(raw.get("organizer"), f"{name}.organizer", errors, stored_name=stored_names)
    start = _when(raw.get("start"), f"{name}.start", errors)
    end = _when(raw.get("end"), f"{name}.end", errors)
    if start is not None and end is not None:
        start, end = _check_interval(start, end, timezone, name, errors)
    if None in (uid, sequence, summary, organizer, start, end) or timezone is None:
        return None
    return EventDetails(
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


def _uid(raw: Any, name: str, errors: _Collector) -> str | None:
    uid = _text(raw, name, errors, MAX_UID, required=True)
    if uid is not None and uid != uid.strip():
        errors.add(name, "must not start or end with white space")
        return None
    return uid


def _sequence(raw: Any, name: str, errors: _Collector) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors.add(name, "must be an integer")
        return None
    if not 0 <= raw <= MAX_SEQUENCE:
        errors.add(name, f"must be between 0 and {MAX_SEQUENCE}")
        return None
    return raw


def _text(
    raw: Any, name: str, errors: _Collector, max_len: int, *, required: bool = False, multiline: bool = False
) -> str | None:
    if raw is None or raw == "":
        if required:
            errors.add(name, "is required")
            return None
        return ""
    if not isinstance(raw, str):
        errors.add(name, "must be a string")
        return None
    if multiline:
        raw = raw.replace("\r\n", "\n")
    forbidden = _CONTROL_EXCEPT_NEWLINE_TAB if multiline else _CONTROL
    if forbidden.search(raw):
        errors.add(name, "must not contain control characters" + ("" if multiline else " or line breaks"))
        return None
    if _has_lone_surrogate(raw):
        errors.add(name, "is not valid Unicode")
        return None
    if len(raw) > max_len:
        errors.add(name, f"must be at most {max_len} characters")
        return None
    if required and not raw.strip():
        errors.add(name, "must not be blank")
        return None
    return raw


def _header_text(value: str | None, name: str, errors: _Collector) -> str | None:
    """Text that also goes into a mail header (Subject, or a display name).

    "=?" starts an RFC 2047 encoded word: the email package writes such text as it is, and every
    mail reader would then decode it into something else.
    """
    if value and "=?" in value:
        errors.add(name, "must not contain '=?' (mail readers would decode it as an encoded word)")
        return None
    return value


def _display_name(value: str | None, name: str, errors: _Collector, *, stored: bool = False) -> str | None:
    """A name shown in a mail header and as the CN parameter of ORGANIZER or ATTENDEE.

    iCalendar parameter values have no escapes, yet parsers (icalendar's among them) read a
    backslash before ':' or ';' as one, which moves the boundary between CN and the address.
    ``stored``: a name the function repeats from the table (its fan-out), accepted if it was when
    written: the backslash rule is younger than some stored names (docs/message-contract.md).
    """
    value = _header_text(value, name, errors)
    if value and "\\" in value and not stored:
        errors.add(name, "must not contain a backslash (calendar clients read it as an escape in CN)")
        return None
    return value


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _email(raw: Any, name: str, errors: _Collector) -> str | None:
    if raw is None or raw == "":
        errors.add(name, "is required")
        return None
    if not isinstance(raw, str):
        errors.add(name, "must be a string")
        return None
    if len(raw) > MAX_EMAIL or not _EMAIL.fullmatch(raw):
        errors.add(name, "is not a valid email address")
        return None
    return raw


def _person(raw: Any, name: str, errors: _Collector, *, stored_name: bool = False) -> Person | None:
    if not isinstance(raw, dict):
        errors.add(name, "is required and must be an object")
        return None
    email = _email(raw.get("email"), f"{name}.email", errors)
    text = _text(raw.get("name"), f"{name}.name", errors, MAX_NAME)
    display = _display_name(text, f"{name}.name", errors, stored=stored_name)
    if email is None or display is None:
        return None
    return Person(email=email, name=display.strip())


def _attendee_list(raw: Any, errors: _Collector) -> tuple[Person, ...]:
    if not isinstance(raw, list) or not raw:
        errors.add("attendees", "must be a non-empty list")
        return ()
    if len(raw) > MAX_ATTENDEES:
        errors.add("attendees", f"must have at most {MAX_ATTENDEES} entries")
        return ()
    people: dict[str, Person] = {}
    for index, item in enumerate(raw):
        person = _person(item, f"attendees[{index}]", errors)
        if person is not None:
            people.setdefault(person.email.lower(), person)  # first spelling of an address wins
    return tuple(people.values())


def _timezone(raw: Any, name: str, errors: _Collector) -> str | None:
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str) or _CONTROL.search(raw) or len(raw) > 64:
        errors.add(name, "must be an IANA time zone name")
        return None
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        errors.add(name, f"unknown time zone {raw!r}")
        return None
    return raw


def _when(raw: Any, name: str, errors: _Collector) -> date | datetime | None:
    if raw is None or raw == "":
        errors.add(name, "is required")
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        errors.add(name, "must be an ISO 8601 date or date-time string")
        return None
    try:
        if _DATE_ONLY.fullmatch(raw):
            return date.fromisoformat(raw)
        return datetime.fromisoformat(raw)
    except ValueError:
        errors.add(name, "must be an ISO 8601 date or date-time string")
        return None


def _check_interval(start, end, timezone: str | None, name: str, errors: _Collector):
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
    if end <= start:
        errors.add(f"{name}.end", "must be after start")
        return None, None
    return start, end
