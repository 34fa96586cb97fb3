"""iTIP calendar and iMIP email rendering, checked with the stdlib and icalendar parsers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from lambdas.domain.calendar import ItipMessage, build_calendar
from lambdas.domain.contract import Person, parse_invite
from lambdas.domain.message import Envelope, render_email, subject_for
from lambdas.domain.vocabulary import EventStatus, Method
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX
from local.samples import RSVP, SENDER, invite_body
from tests.support.icaljs import event_times
from tests.support.oracles import check_imip

ENVELOPE = Envelope(sender=SENDER, reply_to=RSVP, subject_prefix=DEFAULT_SUBJECT_PREFIX)
STAMP = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def itip(method=Method.REQUEST, sequence=0, status=EventStatus.CONFIRMED, **event_changes) -> ItipMessage:
    body = invite_body()
    body["event"].update(event_changes)
    request = parse_invite(json.dumps(body))
    return ItipMessage(method, request.event, request.attendee, sequence, "rsvp@example.com", STAMP, status)


def test_request_email_has_the_imip_structure_and_matching_methods():
    rendered = render_email(itip(), ENVELOPE)
    calendar = check_imip(rendered.raw, "REQUEST")
    assert calendar["PRODID"]
    assert str(calendar["VERSION"]) == "2.0"


def test_cancel_email_has_method_cancel_everywhere():
    rendered = render_email(itip(Method.CANCEL, sequence=1, status=EventStatus.CANCELLED), ENVELOPE)
    vevent = check_imip(rendered.raw, "CANCEL").walk("VEVENT")[0]
    assert str(vevent["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize(
    ("method", "sequence", "expected"),
    [
        (Method.REQUEST, 0, f"{DEFAULT_SUBJECT_PREFIX} Event Invite: Quarterly planning"),
        (Method.REQUEST, 3, f"{DEFAULT_SUBJECT_PREFIX} Event Updated: Quarterly planning"),
        (Method.CANCEL, 1, f"{DEFAULT_SUBJECT_PREFIX} Event Cancelled: Quarterly planning"),
    ],
)
def test_subjects(method, sequence, expected):
    assert subject_for(itip(method, sequence), "CalendarSnack") == expected


def test_non_ascii_names_are_encoded_words_and_survive_a_round_trip():
    message = itip(summary="Réunion — 計画", organizer={"email": "a@example.com", "name": "Zoë Ünal"})
    rendered = render_email(message, ENVELOPE)
    headers = rendered.raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()
    parsed = check_imip(rendered.raw, "REQUEST")
    assert str(parsed.walk("VEVENT")[0]["SUMMARY"]) == "Réunion — 計画"

    assert (
        message_from_bytes(rendered.raw, policy=policy.default)["From"].addresses[0].display_name
        == "Zoë Ünal"
    )


def test_icalendar_special_characters_are_escaped_not_interpreted():
    rendered = render_email(
        itip(summary="a;b,c\\d", description="line\nATTENDEE:mailto:evil@example.net"), ENVELOPE
    )
    vevent = check_imip(rendered.raw, "REQUEST").walk("VEVENT")[0]
    assert str(vevent["SUMMARY"]) == "a;b,c\\d"
    assert str(vevent["DESCRIPTION"]) == "line\nATTENDEE:mailto:evil@example.net"
    assert not isinstance(vevent["ATTENDEE"], list)  # still exactly one attendee


def test_quotes_and_separators_in_names_stay_inside_the_cn_parameter():
    message = itip(organizer={"email": "a@example.com", "name": 'Alice "A;B:C" Example'})
    vevent = check_imip(render_email(message, ENVELOPE).raw, "REQUEST").walk("VEVENT")[0]
    assert str(vevent["ORGANIZER"]) == "mailto:rsvp@example.com"
    assert set(vevent["ORGANIZER"].params) == {"CN"}


def test_header_values_cannot_smuggle_headers_even_if_validation_is_bypassed():
    message = itip()
    evil = ItipMessage(
        message.method,
        message.event,
        Person(email="bob@example.org", name="Bob\r\nBcc: victim@example.net"),
        0,
        "rsvp@example.com",
        STAMP,
        "CONFIRMED",
    )
    try:
        raw = render_email(evil, ENVELOPE).raw
    except ValueError:
        return  # refused outright: fine
    headers = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert "\r\nBcc:" not in headers


def test_utc_times_without_timezone_are_never_floating():
    ics = build_calendar(itip()).decode()
    assert "DTSTART:20261201T150000Z" in ics
    assert "VTIMEZONE" not in ics


def test_all_day_times_in_body_show_the_inclusive_last_day():
    rendered = render_email(itip(start="2026-12-24", end="2026-12-26"), ENVELOPE)
    assert b"2026-12-24 to 2026-12-25 (all day)" in rendered.raw


def test_long_lines_are_folded_at_75_octets_without_splitting_characters():
    ics = build_calendar(itip(description="é" * 300))
    for line in ics.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a fold never splits a UTF-8 sequence


ZONED_EVENTS = [
    ("Europe/Paris", "2026-12-01T09:00:00"),
    ("Europe/Paris", "2026-03-29T09:00:00"),  # the day summer time begins
    ("Europe/Paris", "2045-07-04T09:00:00"),  # past 2038
    ("Europe/Paris", "2100-10-31T09:00:00"),
    ("Europe/Paris", "1985-06-01T09:00:00"),  # before the current EU rule (1996): history too
    ("America/New_York", "2040-11-04T09:00:00"),  # the day the clocks go back
    ("Australia/Sydney", "2061-04-03T08:00:00"),
    ("Africa/Casablanca", "2044-09-01T10:00:00"),  # Ramadan changes, listed until 2087
    ("America/Sao_Paulo", "2050-01-10T10:00:00"),  # dropped DST in 2019
    ("Asia/Kolkata", "2200-01-01T10:00:00"),
]


def test_zoned_events_keep_their_zone_in_any_year_as_ical_js_reads_them():
    messages = [itip(start=start, end=_plus_hour(start), timezone=tzid) for tzid, start in ZONED_EVENTS]
    calendars = [build_calendar(message) for message in messages]
    for ics in calendars:
        assert Calendar.from_ical(ics).get_missing_tzids() == set()
    for (tzid, start), times in zip(ZONED_EVENTS, event_times(calendars), strict=True):
        instant = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(tzid))
        assert times["dtstart"]["tzid"] == tzid
        assert times["dtstart"]["local"] == start
        assert times["dtstart"]["instant"] == instant.timestamp()
        assert times["dtend"]["instant"] == instant.timestamp() + 3600


def _plus_hour(start: str) -> str:
    return (datetime.fromisoformat(start) + timedelta(hours=1)).isoformat()


def test_the_second_run_of_a_repeated_hour_is_written_in_utc():
    # 01:30 happens twice in New York on 2026-11-01; -05:00 is the second one.
    ics = build_calendar(
        itip(start="2026-11-01T01:30:00-05:00", end="2026-11-01T03:00:00-05:00", timezone="America/New_York")
    )
    vevent = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert b"DTSTART:20261101T063000Z" in ics
    assert vevent["DTEND"].params["TZID"] == "America/New_York"
    [times] = event_times([ics])
    assert times["dtstart"]["instant"] == datetime(2026, 11, 1, 6, 30, tzinfo=UTC).timestamp()


def test_a_zone_icalendar_deems_utc_keeps_its_tzid_and_local_time():
    # Africa/Abidjan was 16 minutes behind UTC until 1912: "Z" after the local time would be wrong.
    ics = build_calendar(
        itip(start="1911-06-01T09:00:00", end="1911-06-01T10:00:00", timezone="Africa/Abidjan")
    )
    assert b"DTSTART;TZID=Africa/Abidjan:19110601T090000" in ics
    assert b"TZOFFSETTO:-001608" in ics
    reader = Calendar.from_ical(ics).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    assert datetime(1911, 6, 1, 9, tzinfo=reader).astimezone(UTC) == datetime(
        1911, 6, 1, 9, 16, 8, tzinfo=UTC
    )
    # ical.js reads offsets to the minute only (its convert_tzoffset drops the seconds).
    [times] = event_times([ics])
    assert times["dtstart"]["instant"] == datetime(1911, 6, 1, 9, 16, tzinfo=UTC).timestamp()


def test_a_zone_whose_rule_no_rrule_expresses_is_written_in_utc(monkeypatch):
    import lambdas.domain.timezones as timezones_module
    from lambdas.domain.timezones import UnsupportedZone

    def unsupported(tzid, since):
        raise UnsupportedZone("day-of-year rule 'J60'")

    # calendar imports vtimezone when it writes a zoned event, so the module's is the one it calls.
    monkeypatch.setattr(timezones_module, "vtimezone", unsupported)
    ics = build_calendar(
        itip(start="2026-12-01T10:00:00", end="2026-12-01T11:00:00", timezone="Europe/Paris")
    )
    assert b"VTIMEZONE" not in ics
    assert b"DTSTART:20261201T090000Z" in ics


def test_each_multipart_has_its_own_random_boundary_that_no_part_contains():
    # A description made of lines that look like delimiters: written quoted-printable, its "=" is
    # "=3D", so no line of it can end a part.
    text = "=_" + "0" * 32 + "\n--=_" + "f" * 32 + "--"
    boundaries = []
    for _ in range(2):
        raw = render_email(itip(description=text), ENVELOPE).raw
        message = message_from_bytes(raw, policy=policy.SMTP)
        multiparts = [part for part in message.walk() if part.is_multipart()]
        assert [part.get_content_type() for part in multiparts] == [
            "multipart/mixed",
            "multipart/alternative",
        ]
        for part in multiparts:
            boundary = part.get_boundary().encode()
            assert re.fullmatch(rb"=_[0-9a-f]{32}", boundary)
            carrying = [line for line in raw.split(b"\r\n") if boundary in line]
            delimiters = [line for line in carrying if line in (b"--" + boundary, b"--" + boundary + b"--")]
            assert len(carrying) == len(delimiters) + 1  # the delimiters, and the header that names it
            boundaries.append(boundary)
        assert not any(part.defects for part in message.walk())
        plain = next(part for part in message.walk() if part.get_content_type() == "text/plain")
        assert text in plain.get_content().replace("\r\n", "\n")
    assert len(set(boundaries)) == 4  # none reused, within an email or between two
