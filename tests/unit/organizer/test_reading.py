"""Each organizer fixture is read into the event a person reading it sees, in the queue contract's
model: the contract accepts it as it is, the table model keeps it, and the calendar send invite
writes from the stored item says the same."""

from __future__ import annotations

import email
import email.utils
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, vRecur

from lambdas.domain.calendar import ItipMessage, build_calendar
from lambdas.domain.contract import Person, parse_invite
from lambdas.domain.items import EventItem
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from lambdas.domain.organizer.reading import ChangeKind, read_organizer_calendar, read_organizer_email
from lambdas.domain.vocabulary import EventStatus, Method
from tests.unit.organizer.fixtures import FIXTURES, OWA_SERIES_UID, fixture_path, message, reading

KYIV = ZoneInfo("Europe/Kiev")  # what icalendar's table maps Outlook's "FLE Standard Time" to
PARIS = ZoneInfo("Europe/Paris")  # "Romance Standard Time"
BERLIN = ZoneInfo("Europe/Berlin")
PACIFIC = ZoneInfo("US/Pacific")  # CalendarServer's TZID, a link zoneinfo knows
OUTLOOK_UID = (
    "030000008200E00074C5B7101A82E0080000000060B608D090DDD701000000000000000"
    "0100000004BE0CFFA54BCF64E956E34143362C3C0"
)
SENDER = Person("sender@example.com", "Sender")
MARGE_ORG = Person("marge@example.org", "Marge")
THUNDERBIRD_ORG = Person("markus.brechtel@thengo.net", "Markus Katharina Brechtel")
THUNDERBIRD_UID = "0e4a0959-e1c7-4c5a-b353-d7abbd8ca8ac"
# iCloud writes ORGANIZER;EMAIL=<the person>:mailto:<a routing token>; the person is EMAIL='s.
ICLOUD_ORG = Person("user01@example.com", "User 01")
ICLOUD_UID = "1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C"  # CalendarServer's invitation's, kept
# calmailproc's Outlook mails: Exchange on premises (OWA, test 7) and Exchange Online (test 11).
OWA_ORG = Person("markus.brechtel@uk-koeln.de", "Markus Brechtel")
OWA_UID = (
    "040000008200E00074C5B7101A82E0080000000040BD843EA893DB01000000000000000"
    "010000000FD5688352A1F9347AAD14BB6A7C46727"
)
OWA_CANCELLED_UID = (  # test 11 as the repository first published it (commit 7c68e39), from OWA
    "040000008200E00074C5B7101A82E008000000004B29EFDB85AFDB01000000000000000"
    "010000000A19D105B180BBB4DBB52F6037454ABBF"
)
EXCHANGE_ONLINE_ORG = Person("sender@example.org")  # CN is the address itself: no name
EXCHANGE_ONLINE_UID = (
    "040000008200E00074C5B7101A82E0080000000071F706FA87AFDB01000000000000000"
    "0100000004BEAA256602AD04DB92DF1261AC49A16"
)

# What a person reading each REQUEST sees: the event (or the moved occurrence), in the contract's form.
REQUESTS = {
    "comm-central/outlook-test-invite.eml": dict(
        kind=ChangeKind.EVENT,
        uid=OUTLOOK_UID,
        organizer=MARGE_ORG,
        sequence=0,
        dtstamp=datetime(2021, 11, 19, 20, 0, 29, tzinfo=UTC),
        summary="Testaus",
        location="",
        start=datetime(2021, 11, 27, 9, 0, tzinfo=KYIV),
        end=datetime(2021, 11, 27, 9, 30, tzinfo=KYIV),
        timezone="Europe/Kiev",
        rrule="",
        attendees=("homer@example.org",),
    ),
    "comm-central/teams-meeting-invite.eml": dict(
        kind=ChangeKind.EVENT,
        uid="056000008200E00074C5B7101A82E008000000001AF84C64CBC8D601000000000000000010000000403B5AC10A0EB444A947D2B499A4B98C",
        organizer=Person("marge@example.com", "Marge"),
        sequence=0,
        dtstamp=datetime(2020, 12, 2, 16, 51, 34, tzinfo=UTC),
        summary="Teams meeting",
        location="",
        start=datetime(2020, 12, 2, 19, 0, tzinfo=KYIV),
        end=datetime(2020, 12, 2, 21, 0, tzinfo=KYIV),
        timezone="Europe/Kiev",
        rrule="",
        attendees=("bart@example.com", "homer@example.com"),
    ),
    "comm-central/meet-meeting-invite.eml": dict(
        kind=ChangeKind.EVENT,
        uid="65m17hsdolmotv3kvmrtg40ont@google.com",
        organizer=Person("example@gmail.com"),  # Google's CN is the address itself: no name
        sequence=0,
        dtstamp=datetime(2021, 3, 22, 9, 12, 20, tzinfo=UTC),
        summary="Meeeeet me HTML",
        location="",
        start=datetime(2021, 3, 22, 9, 30, tzinfo=UTC),
        end=datetime(2021, 3, 22, 10, 30, tzinfo=UTC),
        timezone="",
        rrule="",
        attendees=("example@gmail.com", "homer@example.com"),
    ),
    "comm-central/single-event.eml": dict(
        kind=ChangeKind.EVENT,
        uid="b0c0b197",
        organizer=SENDER,
        sequence=0,
        dtstamp=datetime(2022, 3, 16, 19, 16, 2, tzinfo=UTC),
        summary="Single Event",
        location="Somewhere",
        # DTEND and DURATION both (against RFC 5545): DTEND, what clients show, is kept.
        start=datetime(2022, 3, 16, 11, 0, tzinfo=UTC),
        end=datetime(2022, 3, 16, 11, 30, tzinfo=UTC),
        timezone="",
        rrule="",
        attendees=("sender@example.com", "receiver@example.com", "other@example.com"),
    ),
    "comm-central/update-major.eml": dict(
        kind=ChangeKind.EVENT,
        uid="02e79b96",
        organizer=SENDER,
        sequence=2,
        dtstamp=datetime(2022, 3, 16, 19, 16, 2, tzinfo=UTC),
        summary="Single Event",
        location="Somewhere",
        start=datetime(2022, 3, 16, 5, 0, tzinfo=UTC),
        end=datetime(2022, 3, 16, 5, 30, tzinfo=UTC),
        timezone="",
        rrule="",
        attendees=("sender@example.com", "receiver@example.com", "other@example.com"),
    ),
    "comm-central/repeat-event.eml": dict(
        kind=ChangeKind.EVENT,
        uid="02e79b96",
        organizer=SENDER,
        sequence=0,
        dtstamp=datetime(2022, 3, 16, 19, 16, 2, tzinfo=UTC),
        summary="Repeat Event",
        location="Somewhere",
        start=datetime(2022, 3, 16, 11, 0, tzinfo=UTC),
        end=datetime(2022, 3, 16, 11, 30, tzinfo=UTC),
        timezone="",
        rrule="FREQ=DAILY;INTERVAL=1;COUNT=3;WKST=SU",
        attendees=("sender@example.com", "receiver@example.com", "other@example.com"),
    ),
    "comm-central/repeat-update-major.eml": dict(
        kind=ChangeKind.EVENT,
        uid="02e79b96",
        organizer=SENDER,
        sequence=2,
        dtstamp=datetime(2022, 3, 16, 19, 16, 2, tzinfo=UTC),
        summary="Repeat Event",
        location="Somewhere",
        start=datetime(2022, 3, 16, 5, 0, tzinfo=UTC),
        end=datetime(2022, 3, 16, 5, 30, tzinfo=UTC),
        timezone="",
        rrule="FREQ=DAILY;INTERVAL=1;COUNT=3;WKST=SU",
        attendees=("sender@example.com", "receiver@example.com", "other@example.com"),
    ),
    "sabre-vobject/recurring-series-romance.ics": dict(
        kind=ChangeKind.EVENT,
        uid="uid",
        organizer=Person("test@linagora.com", "Test"),
        sequence=0,
        dtstamp=datetime(2018, 3, 16, 13, 26, 15, tzinfo=UTC),
        summary="Rec Test",
        location="",
        start=datetime(2018, 3, 19, 16, 0, tzinfo=PARIS),
        end=datetime(2018, 3, 19, 16, 30, tzinfo=PARIS),
        timezone="Europe/Paris",
        rrule="FREQ=DAILY;INTERVAL=1;UNTIL=20180323T150000Z",
        attendees=("one@example.org",),
    ),
    "derived/outlook-update.eml": dict(
        kind=ChangeKind.EVENT,
        uid=OUTLOOK_UID,
        organizer=MARGE_ORG,
        sequence=1,
        dtstamp=datetime(2021, 11, 22, 8, 15, tzinfo=UTC),
        summary="Testaus",
        location="Room 4, Main Library",
        start=datetime(2021, 11, 28, 14, 0, tzinfo=KYIV),
        end=datetime(2021, 11, 28, 15, 0, tzinfo=KYIV),
        timezone="Europe/Kiev",
        rrule="",
        attendees=("homer@example.org",),
    ),
    "derived/repeat-event-exdate.eml": dict(
        kind=ChangeKind.EVENT,
        uid="02e79b96",
        organizer=SENDER,
        sequence=1,
        dtstamp=datetime(2022, 3, 16, 19, 16, 2, tzinfo=UTC),
        summary="Repeat Event",
        location="Somewhere",
        start=datetime(2022, 3, 16, 11, 0, tzinfo=UTC),
        end=datetime(2022, 3, 16, 11, 30, tzinfo=UTC),
        timezone="",
        rrule="FREQ=DAILY;INTERVAL=1;COUNT=3;WKST=SU",
        exdates=(datetime(2022, 3, 17, 11, 0, tzinfo=UTC),),
        attendees=("sender@example.com", "receiver@example.com", "other@example.com"),
    ),
    "calmailproc/test-05-1.eml": dict(
        kind=ChangeKind.EVENT,
        uid=THUNDERBIRD_UID,
        organizer=THUNDERBIRD_ORG,
        sequence=0,  # Thunderbird writes no SEQUENCE on a new event
        dtstamp=datetime(2025, 3, 10, 21, 5, 31, tzinfo=UTC),
        summary="Test 5",
        location="",
        start=datetime(2025, 3, 19, 10, 0, tzinfo=BERLIN),
        end=datetime(2025, 3, 19, 11, 0, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        rrule="",
        attendees=("markus.brechtel@thengo.net", "markus.brechtel@uk-koeln.de"),
    ),
    # Exchange Online's REQUEST: no SEQUENCE, a calendar in 8 bit, Windows' zone name.
    "calmailproc/test-11-2.eml": dict(
        kind=ChangeKind.EVENT,
        uid=EXCHANGE_ONLINE_UID,
        organizer=EXCHANGE_ONLINE_ORG,
        sequence=0,
        dtstamp=datetime(2025, 4, 17, 11, 0, 49, tzinfo=UTC),
        summary="Test 11",
        location="",
        start=datetime(2025, 4, 18, 8, 0, tzinfo=BERLIN),
        end=datetime(2025, 4, 18, 8, 30, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        rrule="",
        attendees=("markus.brechtel@uk-koeln.de",),
    ),
    # OWA names its zone by Windows' display name, "(UTC+01:00) Amsterdam, Berlin, Bern, Rome,
    # Stockholm, Vienna": Berlin, the first place listed that is a Windows zone's, at +01:00.
    "calmailproc/test-07-1.eml": dict(
        kind=ChangeKind.EVENT,
        uid=OWA_UID,
        organizer=OWA_ORG,
        sequence=0,
        dtstamp=datetime(2025, 3, 12, 23, 41, 30, tzinfo=UTC),
        summary="Test 7",
        location="",
        start=datetime(2025, 3, 17, 13, 0, tzinfo=BERLIN),
        end=datetime(2025, 3, 17, 14, 0, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        rrule="",
        attendees=("brechtel@med.uni-frankfurt.de",),
    ),
    # The same event moved by its organizer in OWA: a day later, an hour later, SEQUENCE 1.
    "calmailproc/test-07-5.eml": dict(
        kind=ChangeKind.EVENT,
        uid=OWA_UID,
        organizer=OWA_ORG,
        sequence=1,
        dtstamp=datetime(2025, 3, 12, 23, 41, 59, tzinfo=UTC),
        summary="Test 7",
        location="",
        start=datetime(2025, 3, 18, 14, 0, tzinfo=BERLIN),
        end=datetime(2025, 3, 18, 15, 0, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        rrule="",
        attendees=("brechtel@med.uni-frankfurt.de",),
    ),
    "calmailproc/7c68e39/test-11-2.eml": dict(
        kind=ChangeKind.EVENT,
        uid=OWA_CANCELLED_UID,
        organizer=OWA_ORG,
        sequence=0,
        dtstamp=datetime(2025, 4, 17, 10, 45, 39, tzinfo=UTC),
        summary="Test 11",
        location="",
        start=datetime(2025, 4, 17, 16, 0, tzinfo=BERLIN),  # OWA's display-name zone, as test-07-1
        end=datetime(2025, 4, 17, 17, 0, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        rrule="",
        attendees=("brechtel@med.uni-frankfurt.de",),
    ),
    "apple-calendarserver/dsn_failure_with_ics.invitation.eml": dict(
        kind=ChangeKind.EVENT,
        uid="1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C",
        # The server's own address with its reply token: the person is only in Reply-To: (and CN).
        organizer=Person("xyzzy+8e16b897-d544-4217-88e9-a363d0846f6c@example.com", "User 01"),
        sequence=2,
        dtstamp=datetime(2008, 8, 12, 19, 19, 32, tzinfo=UTC),
        summary="New Event",
        location="",
        start=datetime(2008, 8, 12, 9, 45, tzinfo=PACIFIC),
        end=datetime(2008, 8, 12, 10, 45, tzinfo=PACIFIC),
        timezone="US/Pacific",
        rrule="",
        attendees=("user01@example.com", "nonexistant@example.com"),
    ),
    # CalendarServer's invitation as iCloud mails it: the same event, the person named by EMAIL=.
    "derived/icloud-request.eml": dict(
        kind=ChangeKind.EVENT,
        uid=ICLOUD_UID,
        organizer=ICLOUD_ORG,
        sequence=2,
        dtstamp=datetime(2008, 8, 12, 19, 19, 32, tzinfo=UTC),
        summary="New Event",
        location="",
        start=datetime(2008, 8, 12, 9, 45, tzinfo=PACIFIC),
        end=datetime(2008, 8, 12, 10, 45, tzinfo=PACIFIC),
        timezone="US/Pacific",
        rrule="",
        attendees=("user01@example.com", "nonexistant@example.com"),
    ),
    # iCloud's all-day event: its organizer's token is 79 characters, folded inside; EMAIL= names him.
    "derived/icloud-all-day.eml": dict(
        kind=ChangeKind.EVENT,
        uid="4B0E2A51-7C3D-4F8E-9A16-2D5C8B7E0F43",
        organizer=Person("user02@example.net", "User 02"),
        sequence=0,
        dtstamp=datetime(2008, 8, 12, 19, 22, 40, tzinfo=UTC),
        summary="All-day planning",
        location="Building 4, Room 101",
        start=date(2008, 8, 15),
        end=date(2008, 8, 16),
        timezone="",
        rrule="",
        attendees=("user02@example.net", "nonexistant@example.com"),
    ),
}

CANCELS = {
    "comm-central/cancel-single-event.eml": dict(
        kind=ChangeKind.CANCEL_EVENT, uid="02e79b96", sequence=1, cancelled=(), organizer=SENDER
    ),
    "comm-central/cancel-repeat-event.eml": dict(
        kind=ChangeKind.CANCEL_EVENT, uid="02e79b96", sequence=1, cancelled=(), organizer=SENDER
    ),
    "derived/outlook-cancel.eml": dict(
        kind=ChangeKind.CANCEL_EVENT, uid=OUTLOOK_UID, sequence=2, cancelled=(), organizer=MARGE_ORG
    ),
    # The occurrence of 20 March 16:00 in Paris (15:00 UTC), its RECURRENCE-ID in Outlook's zone name.
    # Thunderbird cancels a deleted event as it was: the same SEQUENCE and DTSTAMP, no STATUS.
    "derived/thunderbird-cancel.eml": dict(
        kind=ChangeKind.CANCEL_EVENT,
        uid=THUNDERBIRD_UID,
        sequence=0,
        cancelled=(),
        organizer=THUNDERBIRD_ORG,
    ),
    # Exchange Online's CANCEL of test-11-2: still no SEQUENCE (0), a later DTSTAMP, STATUS:CANCELLED.
    "calmailproc/test-11-1.eml": dict(
        kind=ChangeKind.CANCEL_EVENT,
        uid=EXCHANGE_ONLINE_UID,
        sequence=0,
        cancelled=(),
        organizer=EXCHANGE_ONLINE_ORG,
    ),
    # OWA's CANCEL ("Abgesagt: Test 11"): SEQUENCE one up, STATUS:CANCELLED, the whole VEVENT again.
    "calmailproc/7c68e39/test-11-1.eml": dict(
        kind=ChangeKind.CANCEL_EVENT,
        uid=OWA_CANCELLED_UID,
        sequence=1,
        cancelled=(),
        organizer=OWA_ORG,
    ),
    # OWA's own CANCEL of one occurrence of a weekly series: 27 March 15:00 in Berlin (14:00 UTC).
    "calmailproc/test-03-2.eml": dict(
        kind=ChangeKind.CANCEL_OCCURRENCES,
        uid=OWA_SERIES_UID,
        sequence=2,
        cancelled=(datetime(2025, 3, 27, 14, 0, tzinfo=UTC),),
        organizer=OWA_ORG,
    ),
    # iCloud's CANCEL (CalendarServer's generateCancel): SEQUENCE one up, no STATUS.
    "derived/icloud-cancel.eml": dict(
        kind=ChangeKind.CANCEL_EVENT, uid=ICLOUD_UID, sequence=3, cancelled=(), organizer=ICLOUD_ORG
    ),
    "sabre-vobject/cancel-instance-of-recurring.ics": dict(
        kind=ChangeKind.CANCEL_OCCURRENCES,
        uid="uid",
        sequence=1,
        cancelled=(datetime(2018, 3, 20, 15, 0, tzinfo=UTC),),
        organizer=Person("test@linagora.com", "Test"),
    ),
}


def test_every_fixture_has_an_expectation():
    found = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.suffix in (".eml", ".ics"))
    expected = sorted([*REQUESTS, *CANCELS, "comm-central/exception-major.eml"])
    assert found == expected


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_request_is_read_as_its_event(name):
    expected = REQUESTS[name]
    msg = message(name)
    assert msg.method is Method.REQUEST
    assert msg.kind is expected["kind"]
    assert (msg.uid, msg.organizer, msg.sequence, msg.dtstamp) == (
        expected["uid"],
        expected["organizer"],
        expected["sequence"],
        expected["dtstamp"],
    )
    event = msg.event
    assert (event.uid, event.sequence, event.summary, event.location) == (
        expected["uid"],
        expected["sequence"],
        expected["summary"],
        expected["location"],
    )
    assert event.organizer == expected["organizer"]
    # The same instants, and the organizer's zone: a series recurs at its local time there.
    assert (event.start, event.end) == (expected["start"], expected["end"])
    assert event.timezone == expected["timezone"]
    if expected["timezone"]:
        assert event.start.utcoffset() == expected["start"].utcoffset()
    assert event.rrule == expected["rrule"]
    assert event.exdates == expected.get("exdates", ())
    assert tuple(p.email for p in msg.attendees) == expected["attendees"]


@pytest.mark.parametrize("name", sorted(CANCELS))
def test_cancel_is_read_as_what_it_cancels(name):
    expected = CANCELS[name]
    msg = message(name)
    assert msg.method is Method.CANCEL
    assert msg.kind is expected["kind"]
    assert (msg.uid, msg.sequence, msg.organizer) == (
        expected["uid"],
        expected["sequence"],
        expected["organizer"],
    )
    assert msg.cancelled == expected["cancelled"]
    assert msg.event is None


def test_moved_occurrence_is_read_with_its_original_start():
    msg = message("comm-central/exception-major.eml")
    assert msg.kind is ChangeKind.OCCURRENCES
    assert msg.event is None
    (moved,) = msg.occurrences
    assert moved.occurrence == datetime(2022, 3, 17, 11, 0, tzinfo=UTC)
    assert (moved.start, moved.end) == (
        datetime(2022, 3, 17, 5, 0, tzinfo=UTC),
        datetime(2022, 3, 17, 5, 30, tzinfo=UTC),
    )
    assert (moved.sequence, moved.summary, moved.uid) == (2, "Repeat Event", "02e79b96")


def test_google_inline_calendar_and_its_attachment_are_one_message():
    """Google mails the calendar twice (inline and invite.ics): one message, not two."""
    email, found = read_organizer_email((FIXTURES / "comm-central/meet-meeting-invite.eml").read_bytes())
    assert email.from_address == "example@gmail.com"
    assert email.sender_address == "calendar-notification@google.com"
    assert found.message is not None and found.problems == ()


@pytest.mark.parametrize("name", sorted(n for n in REQUESTS if n.endswith(".eml")))
def test_read_from_a_stream_is_read_the_same(name):
    with (FIXTURES / name).open("rb") as stream:
        assert read_organizer_email(stream) == read_organizer_email((FIXTURES / name).read_bytes())


# ------------------------------------------------------------- the model send invite renders from


@pytest.mark.parametrize("name", sorted([*REQUESTS, "comm-central/exception-major.eml"]))
def test_every_event_read_is_one_the_queue_contract_accepts_unchanged(name):
    msg = message(name)
    for event in (msg.event, *msg.occurrences):
        if event is None:
            continue
        body = json.dumps({"event": event.as_dict(), "attendee": {"email": "ana@example.org"}})
        assert parse_invite(body).event == event


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_stored_event_renders_the_invitation_send_invite_sends(name):
    """Stored as the table model keeps it (contract form), read back, rendered: the attendee's
    calendar carries the organizer's times, zone, rule and exclusions."""
    event = message(name).event
    stored = EventItem.read({**event.as_dict(), "status": EventStatus.CONFIRMED.value}, uid=event.uid)
    details = stored.details()
    assert details is not None
    assert (details.start, details.end, details.rrule, details.exdates) == (
        event.start,
        event.end,
        event.rrule,
        event.exdates,
    )
    itip = ItipMessage(
        method=Method.REQUEST,
        event=details,
        attendee=Person("ana@example.org", "Ana"),
        sequence=details.sequence,
        organizer_mailbox="rsvp@cis.example.com",
        dtstamp=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        status=EventStatus.CONFIRMED,
    )
    calendar = Calendar.from_ical(build_calendar(itip))
    assert calendar.get_missing_tzids() == set()
    (vevent,) = calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART") == event.start
    assert vevent.decoded("DTEND") == event.end
    assert str(vevent["UID"]) == event.uid
    assert vevent.get("RRULE") == (vRecur.from_ical(event.rrule) if event.rrule else None)
    assert [x.dt for d in _list(vevent.get("EXDATE")) for x in d.dts] == list(event.exdates)


def _list(value):
    return value if isinstance(value, list) else [value] if value is not None else []


# ------------------------------------------------------------------------- what cannot be read


def _calendar(*lines: str, method: str = "REQUEST") -> str:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", f"METHOD:{method}", "BEGIN:VEVENT"]
    return "\r\n".join([*head, *lines, "END:VEVENT", "END:VCALENDAR", ""])


GOOD = (
    "UID:u-1",
    "DTSTAMP:20260101T000000Z",
    "SEQUENCE:0",
    "ORGANIZER;CN=Alice:mailto:alice@example.org",
    "ATTENDEE:mailto:events@cis.example.com",
    "SUMMARY:Kick-off",
    "DTSTART;TZID=Europe/Berlin:20260310T100000",
    "DTEND;TZID=Europe/Berlin:20260310T110000",
)


def _without(name: str, *extra: str) -> tuple[str, ...]:
    return tuple(line for line in GOOD if not line.startswith(name)) + extra


def test_a_good_calendar_reads():
    msg = read_organizer_calendar(_calendar(*GOOD)).message
    assert msg.event.start == datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert msg.event.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("lines", "field", "reason"),
    [
        (_without("DTSTART", "DTSTART:20260310T100000"), "VEVENT.DTSTART", "floating"),
        (_without("ORGANIZER"), "ORGANIZER", "is required"),
        (_without("ORGANIZER", "ORGANIZER:urn:uuid:1234"), "ORGANIZER", "is required"),
        (_without("SUMMARY"), "VEVENT.summary", "is required"),
        (_without("DTEND"), "VEVENT.DTEND", "no length"),
        ((*GOOD, "RDATE:20260320T090000Z"), "RDATE", "not supported"),
        ((*GOOD, "RRULE:FREQ=HOURLY"), "VEVENT.rrule", "FREQ"),
        (_without("SEQUENCE", "SEQUENCE:-1"), "SEQUENCE", "integer"),
        (_without("DTEND", "DTEND;TZID=Europe/Berlin:20260310T090000"), "VEVENT.end", "after start"),
    ],
)
def test_what_cannot_be_stored_is_refused_with_the_property_named(lines, field, reason):
    found = read_organizer_calendar(_calendar(*lines))
    assert found.message is None
    assert any(p.field == field and reason in p.reason for p in found.problems), found.problems


@pytest.mark.parametrize(
    ("lines", "method", "outcome"),
    [
        (GOOD, "PUBLISH", OrganizerOutcome.UNSUPPORTED),
        ((*GOOD, "RDATE:20260320T090000Z"), "REQUEST", OrganizerOutcome.UNSUPPORTED),
        (_without("ORGANIZER"), "REQUEST", OrganizerOutcome.MALFORMED_CALENDAR),
        (_without("DTSTART", "DTSTART:20260310T100000"), "REQUEST", OrganizerOutcome.MALFORMED_CALENDAR),
    ],
)
def test_a_calendar_without_a_message_ends_unsupported_or_malformed(lines, method, outcome):
    found = read_organizer_calendar(_calendar(*lines, method=method))
    assert found.refusal.outcome is outcome
    assert found.refusal.reason == found.reason != ""
    assert read_organizer_calendar(_calendar(*GOOD)).refusal is None


def test_recurrence_id_and_exdate_in_other_zones_name_the_same_instants():
    """A series in Berlin; its EXDATE in UTC and an occurrence's RECURRENCE-ID in New York time."""
    series = (*GOOD, "RRULE:FREQ=WEEKLY;COUNT=4", "EXDATE:20260317T090000Z")
    moved = (
        *_without("DTSTART", "DTSTART;TZID=Europe/Berlin:20260324T140000"),
        "RECURRENCE-ID;TZID=America/New_York:20260324T050000",
    )
    moved = (
        *(line for line in moved if not line.startswith("DTEND")),
        "DTEND;TZID=Europe/Berlin:20260324T150000",
    )
    text = _calendar(*series).replace(
        "END:VCALENDAR", "BEGIN:VEVENT\r\n" + "\r\n".join(moved) + "\r\nEND:VEVENT\r\nEND:VCALENDAR"
    )
    msg = read_organizer_calendar(text).message
    berlin = ZoneInfo("Europe/Berlin")
    assert msg.event.exdates == (datetime(2026, 3, 17, 10, 0, tzinfo=berlin),)
    (occurrence,) = msg.occurrences
    assert occurrence.occurrence == datetime(2026, 3, 24, 10, 0, tzinfo=berlin)
    assert occurrence.start == datetime(2026, 3, 24, 14, 0, tzinfo=berlin)


def test_a_vevent_for_another_uid_in_the_same_message_is_refused():
    text = _calendar(*GOOD).replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\n" + "\r\n".join(_without("UID", "UID:u-2")) + "\r\nEND:VEVENT\r\nEND:VCALENDAR",
    )
    found = read_organizer_calendar(text)
    assert found.message is None and found.problems[0].field == "UID"


@pytest.mark.parametrize("method", ["PUBLISH", "REPLY", "COUNTER"])
def test_other_methods_are_not_an_organizer_message(method):
    found = read_organizer_calendar(_calendar(*GOOD, method=method))
    assert found.message is None
    assert found.method == method
    assert found.problems[0].field == "METHOD"


def test_the_mime_method_stands_in_for_a_calendar_without_one():
    text = _calendar(*GOOD).replace("METHOD:REQUEST\r\n", "")
    assert read_organizer_calendar(text).message is None
    assert read_organizer_calendar(text, "request").message.method is Method.REQUEST


def test_apple_calendarserver_organizer_is_read_from_its_email_parameter():
    """CalendarServer writes ORGANIZER as urn:uuid with EMAIL= (ccs-calendarserver's test_outbound)."""
    organizer = (
        "ORGANIZER;CN=Th\u00e9 Organizer;EMAIL=organizer@example.com"
        ":urn:uuid:C3B38B00-4166-11DD-B22C-A07C87E02F6A"
    )
    msg = read_organizer_calendar(_calendar(*_without("ORGANIZER", organizer))).message
    assert msg.organizer == Person("organizer@example.com", "Th\u00e9 Organizer")


def test_the_email_parameter_names_the_organizer_when_the_address_only_routes():
    """iCloud mails ORGANIZER;EMAIL=<the person>:mailto:<a token at imip.me.com>, a token per
    attendee: the person is EMAIL='s, quoted or not, in any case."""
    organizer = 'ORGANIZER;CN=Ann;EMAIL="Ann@Example.org":mailto:2_HEZDSOJZGEZTSMJZ@imip.me.com'
    msg = read_organizer_calendar(_calendar(*_without("ORGANIZER", organizer))).message
    assert msg.organizer == Person("ann@example.org", "Ann")
    unusable = "ORGANIZER;CN=Ann;EMAIL=not-an-address:mailto:ann@example.org"
    msg = read_organizer_calendar(_calendar(*_without("ORGANIZER", unusable))).message
    assert msg.organizer == Person("ann@example.org", "Ann")  # the value, when EMAIL= is no address


@pytest.mark.parametrize(
    "name", ["derived/icloud-request.eml", "derived/icloud-cancel.eml", "derived/icloud-all-day.eml"]
)
def test_icloud_mail_is_read_for_the_person_email_names_not_its_routing_token(name):
    """In iCloud's mail the ORGANIZER's value is a routing token at imip.me.com (folded, 79
    characters in the all-day one): the organizer read is the person EMAIL= names."""
    mail = email.message_from_bytes(fixture_path(name).read_bytes())
    (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    (vevent,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    value = str(vevent["ORGANIZER"])
    assert value.startswith("mailto:2_") and value.endswith("@imip.me.com")
    assert message(name).organizer.email == vevent["ORGANIZER"].params["EMAIL"]
    assert message(name).organizer.email == email.utils.parseaddr(mail["From"])[1]


def test_names_the_contract_would_refuse_are_dropped_not_the_event():
    lines = _without("ORGANIZER", 'ORGANIZER;CN="Ali\\\\ce =?utf-8?q?x?=":mailto:ALICE@Example.org')
    msg = read_organizer_calendar(_calendar(*lines)).message
    assert msg.organizer == Person("alice@example.org", "")


def test_long_texts_are_cut_to_the_contract_limits():
    lines = _without("SUMMARY", "SUMMARY:" + "x" * 400, "DESCRIPTION:" + "y" * 9000)
    event = read_organizer_calendar(_calendar(*lines)).message.event
    assert (len(event.summary), len(event.description)) == (255, 8000)


def test_an_all_day_event_without_dtend_lasts_one_day():
    lines = _without("DTSTART", "DTSTART;VALUE=DATE:20260310")
    lines = tuple(line for line in lines if not line.startswith("DTEND"))
    event = read_organizer_calendar(_calendar(*lines)).message.event
    assert (event.start, event.end, event.timezone) == (date(2026, 3, 10), date(2026, 3, 11), "")


def test_an_unknown_zone_is_kept_as_utc_instants():
    vtimezone = (
        "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        "TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    lines = _without("DTSTART", "DTSTART;TZID=Customized Time Zone:20260310T100000")
    lines = (
        *(line for line in lines if not line.startswith("DTEND")),
        "DTEND;TZID=Customized Time Zone:20260310T110000",
    )
    text = _calendar(*lines).replace("BEGIN:VEVENT", vtimezone + "BEGIN:VEVENT", 1)
    event = read_organizer_calendar(text).message.event
    assert (event.start, event.end, event.timezone) == (
        datetime(2026, 3, 10, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 10, 8, 0, tzinfo=UTC),
        "",
    )


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
        ("(UTC+01:00) Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"),
        ("(UTC+00:00) Dublin, Edinburgh, Lisbon, London", "Europe/London"),  # +01:00 in summer
        ("(UTC+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),  # +11:00 in January
        ("(UTC-05:00) Eastern Time (US & Canada)", ""),  # no place a Windows zone is named after
        ("(UTC+05:00) Berlin", ""),  # the offset is not Berlin's
    ],
)
def test_windows_display_names_are_read_as_the_zone_of_the_first_place_they_list(tzid, zone):
    """OWA writes TZID as Windows' display name (calmailproc's test-07-1.eml): kept in that IANA zone,
    the organizer's wall-clock time; a name that does not say which is kept as UTC instants."""
    escaped = tzid.replace(",", "\\,")  # as the VTIMEZONE's TZID value writes commas
    # The VTIMEZONE's rules do not matter once the name is known: the wall-clock time is kept.
    vtimezone = (
        f"BEGIN:VTIMEZONE\r\nTZID:{escaped}\r\nBEGIN:STANDARD\r\n"
        "DTSTART:16010101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    lines = _without("DTSTART", f'DTSTART;TZID="{tzid}":20260310T100000')
    lines = (
        *(line for line in lines if not line.startswith("DTEND")),
        f'DTEND;TZID="{tzid}":20260310T110000',
    )
    event = read_organizer_calendar(
        _calendar(*lines).replace("BEGIN:VEVENT", vtimezone + "BEGIN:VEVENT", 1)
    ).message.event
    assert event.timezone == zone
    if zone:
        assert event.start == datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo(zone))


def test_mail_without_a_calendar_has_no_message():
    raw = b"From: alice@example.org\r\nTo: events@cis.example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    email, found = read_organizer_email(raw)
    assert email.from_address == "alice@example.org" and found is None


def test_an_unreadable_calendar_is_a_problem_not_an_error():
    raw = (
        b"From: alice@example.org\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2026\r\n"
    )
    _, found = read_organizer_email(raw)
    assert found.message is None and found.problems


def test_reading_the_fixtures_finds_no_problem():
    for name in [*REQUESTS, *CANCELS]:
        assert reading(name).problems == (), name


def _two_vevents(first: tuple[str, ...], second: tuple[str, ...], method: str) -> str:
    return _calendar(*first, method=method).replace(
        "END:VCALENDAR", "BEGIN:VEVENT\r\n" + "\r\n".join(second) + "\r\nEND:VEVENT\r\nEND:VCALENDAR"
    )


def test_every_vevent_must_name_the_same_organizer():
    moved = (
        *_without("ORGANIZER", "ORGANIZER:mailto:mallory@example.net"),
        "RECURRENCE-ID;TZID=Europe/Berlin:20260317T100000",
    )
    found = read_organizer_calendar(_two_vevents((*GOOD, "RRULE:FREQ=WEEKLY;COUNT=4"), moved, "REQUEST"))
    assert found.message is None
    assert any(p.field == "ORGANIZER" and "differs" in p.reason for p in found.problems)


def test_a_cancel_carrying_the_event_cancels_all_of_it():
    instance = (*GOOD, "RECURRENCE-ID;TZID=Europe/Berlin:20260317T100000")
    msg = read_organizer_calendar(_two_vevents((*GOOD, "STATUS:CANCELLED"), instance, "CANCEL")).message
    assert (msg.kind, msg.cancelled, msg.status) == (ChangeKind.CANCEL_EVENT, (), "CANCELLED")


def test_a_cancel_without_status_is_read_and_says_so():
    msg = read_organizer_calendar(_calendar(*GOOD, method="CANCEL")).message
    assert (msg.kind, msg.status) == (ChangeKind.CANCEL_EVENT, "")
