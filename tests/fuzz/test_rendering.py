"""Every email built from accepted input parses without defects, and no input adds a header, a MIME
part or an iCalendar property: the names are exactly the expected ones, the values round-trip."""

from __future__ import annotations

import email
import email.header
from datetime import UTC, datetime
from email import policy

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from icalendar import Calendar

from lambdas.domain.calendar import ItipMessage
from lambdas.domain.contract import InviteRequest, parse_invite
from lambdas.domain.message import Envelope, render_email, subject_for
from lambdas.domain.validation import InvalidRequest
from lambdas.domain.vocabulary import EventStatus, Method
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX
from local.samples import RSVP, SENDER
from tests.fuzz.strategies import FUZZ, body_of, invite_documents
from tests.support.oracles import check_imip

ENVELOPE = Envelope(sender=SENDER, reply_to=RSVP, subject_prefix=DEFAULT_SUBJECT_PREFIX)
HEADERS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"]
CALENDAR_PROPERTIES = {"PRODID", "VERSION", "CALSCALE", "METHOD"}
ATTENDEE_PARAMETERS = {"CUTYPE", "ROLE", "PARTSTAT", "RSVP"}


def accepted(document) -> InviteRequest:
    try:
        request = parse_invite(body_of(document))
    except InvalidRequest:
        assume(False)
    assume(isinstance(request, InviteRequest) and request.event is not None)
    return request


def itip_for(request: InviteRequest, method: str, sequence: int, status: str | None) -> ItipMessage:
    return ItipMessage(
        method=method,
        event=request.event,
        attendee=request.attendee,
        sequence=sequence,
        organizer_mailbox=ENVELOPE.reply_to,
        dtstamp=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        status=status,
    )


def check(itip: ItipMessage) -> None:
    rendered = render_email(itip, ENVELOPE)
    assert rendered.raw.isascii()
    calendar = check_imip(rendered.raw, itip.method)  # structure, no defects anywhere
    message = email.message_from_bytes(rendered.raw, policy=policy.default)

    # Headers: exactly these, once each, and every value decodes to what was meant.
    assert list(message.keys()) == HEADERS
    assert message["Subject"] == subject_for(itip, ENVELOPE.subject_prefix)
    assert mailbox(message, "From") == (itip.event.organizer.name, ENVELOPE.sender)
    assert mailbox(message, "To") == (itip.attendee.name, itip.attendee.email)
    assert [a.addr_spec for a in message["Reply-To"].addresses] == [ENVELOPE.reply_to]
    # Parts: exactly the four, each with only the headers it was given.
    parts = [p for p in message.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parts] == [
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    for part in parts:
        assert set(part.keys()) <= {"Content-Type", "Content-Transfer-Encoding", "Content-Disposition"}

    # Calendar: exactly the expected properties, components and parameters; values round-trip.
    event = itip.event
    assert set(calendar.keys()) == CALENDAR_PROPERTIES
    zoned = bool(event.timezone) and not event.all_day  # in any year: the VTIMEZONE holds for all
    assert sorted(c.name for c in calendar.subcomponents) == (
        ["VEVENT", "VTIMEZONE"] if zoned else ["VEVENT"]
    )
    [vevent] = calendar.walk("VEVENT")
    expected = {"UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "ATTENDEE"}
    expected |= {"DESCRIPTION"} if event.description else set()
    expected |= {"LOCATION"} if event.location else set()
    expected |= {"STATUS"} if itip.status else set()
    expected |= {"RRULE"} if event.rrule else set()
    assert set(vevent.keys()) == expected
    assert vevent.subcomponents == []
    assert str(vevent["UID"]) == event.uid
    assert str(vevent["SUMMARY"]) == event.summary
    if event.description:
        assert str(vevent["DESCRIPTION"]) == event.description.replace("\r\n", "\n")
    if event.location:
        assert str(vevent["LOCATION"]) == event.location
    assert vevent["SEQUENCE"] == itip.sequence
    assert str(vevent["ATTENDEE"]) == f"mailto:{itip.attendee.email}"
    parameters = set(vevent["ATTENDEE"].params)
    assert parameters == ATTENDEE_PARAMETERS | ({"CN"} if itip.attendee.name else set())
    if itip.attendee.name:
        assert vevent["ATTENDEE"].params["CN"] == itip.attendee.name
    assert set(vevent["ORGANIZER"].params) <= {"CN"}
    # iCalendar DATE-TIME has whole seconds: the instant, less its microseconds.
    start = event.start.replace(microsecond=0) if isinstance(event.start, datetime) else event.start
    assert vevent.decoded("DTSTART") == start
    if zoned:
        for name, value in (("DTSTART", event.start), ("DTEND", event.end)):
            assert instant_through_vtimezone(calendar, vevent[name]) == value.replace(microsecond=0)
    assert Calendar.from_ical(rendered.ics) == calendar


def instant_through_vtimezone(calendar: Calendar, written) -> datetime:
    """The instant a TZID'd time names when read through the calendar's own VTIMEZONE (dateutil's
    reader, not zoneinfo by name): the VTIMEZONE must cover the event, in whatever year."""
    if "TZID" not in written.params:
        return written.dt  # an instant in the second run of a repeated hour goes out in UTC
    [vtimezone] = calendar.walk("VTIMEZONE")
    reader = vtimezone.to_tz(lookup_tzid=False)
    local = written.dt.replace(tzinfo=None)
    return local.replace(tzinfo=reader).astimezone(UTC)


def mailbox(message, name: str) -> tuple[str, str]:
    """(display name, address) of a one-mailbox header.

    Python's address parser puts a space between adjacent encoded-words of a display name (a long
    non-ASCII name is several words, on folded lines); RFC 2047 §6.2 says to drop that white space,
    as decode_header does. Anything else must parse as it was written.
    """
    [address] = message[name].addresses
    display = address.display_name
    raw = message.get_all(name)[0].__str__()
    if "=?" in message.as_string().split("\n\n", 1)[0]:
        encoded = email.header.decode_header(_raw_header(message, name).rsplit("<", 1)[0])
        if any(charset for _, charset in encoded):
            display = str(email.header.make_header(encoded)).strip()
    assert raw
    return display, address.addr_spec


def _raw_header(message, name: str) -> str:
    for key, value in message.raw_items():
        if key == name:
            return value
    raise KeyError(name)


@pytest.mark.scale
@FUZZ
@given(invite_documents(plausible=True))
def test_accepted_invites_render_exactly_what_was_asked(document):
    request = accepted(document)
    check(itip_for(request, Method.REQUEST, request.event.sequence, EventStatus.CONFIRMED))


@pytest.mark.scale
@FUZZ
@given(invite_documents(plausible=True), st.sampled_from([EventStatus.CANCELLED, None]))
def test_accepted_cancellations_render_exactly_what_was_asked(document, status):
    request = accepted(document)
    check(itip_for(request, Method.CANCEL, request.event.sequence + 1, status))
