"""Reading one iTIP calendar: which METHOD wins, which ATTENDEE speaks, what is required."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdas.domain.inbound.itip import MAX_VEVENTS, read_calendar
from tests.unit.inbound.mails import calendar


def read(cal: bytes, mime_method: str = "", replier: str = "ana@example.org"):
    return read_calendar(cal.decode("utf-8"), mime_method, replier)


def test_calendar_method_wins_over_the_mime_parameter():
    reading = read(calendar(method="REPLY"), mime_method="REQUEST")
    assert [a.method for a in reading.answers] == ["REPLY"]


def test_mime_method_is_used_when_the_calendar_has_none():
    reading = read(calendar(method=None), mime_method="reply")
    assert [a.method for a in reading.answers] == ["REPLY"]
    assert reading.error is None


def test_a_calendar_without_any_method_is_not_a_message():
    reading = read(calendar(method=None))
    assert reading.answers == ()
    assert "no METHOD" in reading.error


@pytest.mark.parametrize("method", ["COUNTER", "REFRESH", "DECLINECOUNTER", "REQUEST", "x-custom"])
def test_other_methods_are_named_for_the_caller(method):
    assert read(calendar(method=method)).answers[0].method == method.upper()


def test_upper_case_mailto_and_address_are_normalised():
    answer = read(calendar(attendee="MAILTO:Ana@Example.ORG")).answers[0]
    assert answer.attendee == "ana@example.org"


def test_partstat_absent_and_lower_case():
    assert read(calendar(params="CN=Ana")).answers[0].partstat is None
    assert read(calendar(params="PARTSTAT=accepted")).answers[0].partstat == "ACCEPTED"


def test_quoted_cn_with_separators():
    answer = read(calendar(params='CN="Lima, Ana: PhD; MBA";PARTSTAT=DECLINED')).answers[0]
    assert answer.attendee_name == "Lima, Ana: PhD; MBA"
    assert answer.partstat == "DECLINED"
    assert answer.attendee == "ana@example.org"


def test_the_from_address_picks_the_speaking_attendee():
    cal = calendar(
        params='PARTSTAT=NEEDS-ACTION;DELEGATED-FROM="mailto:dan@example.net"',
        attendee="mailto:jane@example.net",
        extra='ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:jane@example.net":mailto:dan@example.net',
    )
    by_dan = read(cal, replier="dan@example.net").answers[0]
    assert (by_dan.attendee, by_dan.partstat, by_dan.delegated_to) == (
        "dan@example.net",
        "DELEGATED",
        ("jane@example.net",),
    )
    # The delegate answering later, with the same calendar shape: From: decides.
    by_jane = read(cal, replier="jane@example.net").answers[0]
    assert (by_jane.attendee, by_jane.partstat, by_jane.delegated_to) == (
        "jane@example.net",
        "NEEDS-ACTION",
        (),
    )
    # Nobody listed sent it: the one that answers.
    assert read(cal, replier="mallory@example.net").answers[0].attendee == "dan@example.net"


def test_recurrence_id_of_one_instance_is_utc_iso():
    cal = calendar(extra="RECURRENCE-ID;TZID=Europe/Berlin:20261208T160000")
    assert read(cal).answers[0].recurrence_id == "2026-12-08T15:00:00+00:00"
    cal = calendar(extra="RECURRENCE-ID;VALUE=DATE:20261208")
    assert read(cal).answers[0].recurrence_id == "2026-12-08"


def test_one_answer_per_instance():
    cal = calendar().replace(
        b"END:VCALENDAR",
        b"BEGIN:VEVENT\r\nUID:kickoff-2026@example.com\r\nRECURRENCE-ID:20261208T150000Z\r\n"
        b"DTSTAMP:20261124T120000Z\r\nATTENDEE;PARTSTAT=DECLINED:mailto:ana@example.org\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR",
    )
    answers = read(cal).answers
    assert [(a.recurrence_id, a.partstat) for a in answers] == [
        (None, "ACCEPTED"),
        ("2026-12-08T15:00:00+00:00", "DECLINED"),
    ]


def test_dtstamp_is_aware_utc_even_when_floating():
    # RFC 5545 §3.8.7.2: DTSTAMP MUST be UTC; a client that forgets the Z meant UTC.
    floating = calendar().replace(b"DTSTAMP:20261124T120000Z", b"DTSTAMP:20261124T120000")
    assert read(floating).answers[0].dtstamp == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ((b"UID:kickoff-2026@example.com\r\n", b""), "without UID"),
        ((b"UID:kickoff-2026@example.com", b"UID:" + b"u" * 256), "UID longer"),
        ((b"SEQUENCE:0", b"SEQUENCE:abc"), "invalid SEQUENCE"),
        ((b"SEQUENCE:0", b"SEQUENCE:-1"), "invalid SEQUENCE"),
        ((b"ATTENDEE;PARTSTAT=ACCEPTED;CN=Ana Lima:mailto:ana@example.org\r\n", b""), "no ATTENDEE"),
        ((b"mailto:ana@example.org", b"urn:uuid:1234"), "no ATTENDEE"),
    ],
)
def test_an_unusable_vevent_is_skipped_with_its_reason(change, reason):
    reading = read(calendar().replace(*change))
    assert reading.answers == ()
    assert reason in reading.error


@pytest.mark.parametrize(
    "change", [(b"DTSTAMP:20261124T120000Z\r\n", b""), (b"20261124T120000Z", b"yesterday")]
)
def test_an_answer_without_a_readable_dtstamp_is_read_and_left_to_be_ordered_otherwise(change):
    # sabre/vobject accepts it; read_email orders it by the mail's Date:, the workflow by receipt.
    (answer,) = read(calendar().replace(*change)).answers
    assert (answer.partstat, answer.dtstamp) == ("ACCEPTED", None)


@pytest.mark.parametrize("folder", ["Pacific", "America", "US", "Etc", "Europe", "/Pacific", '"Pacific"'])
def test_a_tzid_naming_a_tzdata_folder_reads_as_floating(folder):
    # zoneinfo opens tzdata's folder and raises IsADirectoryError inside icalendar's parser.
    cal = calendar(
        method="COUNTER",
        extra=f"DTSTART;TZID={folder}:20261201T110000\r\nRECURRENCE-ID;TZID={folder}:20261201T110000",
    )
    reading = read(cal)
    (answer,) = reading.answers
    assert reading.error is None
    assert answer.partstat == "ACCEPTED"
    assert answer.proposed["start"] == "2026-12-01T11:00:00"
    assert answer.recurrence_id == "2026-12-01T11:00:00"


def test_a_tzid_that_resolves_is_kept():
    cal = calendar(method="COUNTER", extra="DTSTART;TZID=Europe/Berlin:20261201T110000")
    assert read(cal).answers[0].proposed["start"] == "2026-12-01T10:00:00+00:00"


def test_an_escaped_tzid_in_a_text_value_is_left_alone():
    cal = calendar(extra="COMMENT:see\\;TZID=Pacific:here")
    assert read(cal).answers[0].comment == "see;TZID=Pacific:here"


@pytest.mark.parametrize(
    ("extra", "method", "name"),
    [
        ("DTSTART:99991231T000000Z\r\nDURATION:P2D", "COUNTER", "DURATION"),
        ("RECURRENCE-ID;TZID=Asia/Tokyo:00010101T000000", "REPLY", "RECURRENCE-ID"),
        ("DTSTART;TZID=Asia/Tokyo:00010101T000000", "COUNTER", "DTSTART"),
    ],
)
def test_a_date_out_of_any_range_is_malformed_naming_the_property(extra, method, name):
    reading = read(calendar(method=method, extra=extra))
    assert reading.answers == ()
    assert f"out-of-range {name}" in reading.error


def test_absent_sequence_is_zero():
    assert read(calendar().replace(b"SEQUENCE:0\r\n", b"")).answers[0].sequence == 0


def test_counter_proposal_with_duration():
    cal = calendar(
        method="COUNTER",
        extra="DTSTART;TZID=America/New_York:20261201T110000\r\nDURATION:PT90M\r\n"
        "SUMMARY:Kickoff\r\nLOCATION:Room 5",
    )
    answer = read(cal).answers[0]
    assert answer.proposed == {
        "start": "2026-12-01T16:00:00+00:00",
        "end": "2026-12-01T17:30:00+00:00",
        "summary": "Kickoff",
        "location": "Room 5",
    }


def test_proposed_is_only_read_for_counter():
    cal = calendar(extra="DTSTART:20261201T150000Z\r\nSUMMARY:Kickoff")
    assert read(cal).answers[0].proposed == {}


def test_comment_is_unescaped_and_control_characters_dropped():
    cal = calendar(extra="COMMENT:Late\\, sorry\\nAna\x07")
    assert read(cal).answers[0].comment == "Late, sorry\nAna"


def test_vevents_are_capped():
    reading = read(calendar(events=MAX_VEVENTS + 5))
    assert len(reading.answers) == MAX_VEVENTS
    assert f"more than {MAX_VEVENTS}" in reading.error


@pytest.mark.parametrize(
    "text",
    ["", "hello", "BEGIN:VCALENDAR\r\n", "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "\x00\xff" * 100],
)
def test_garbage_never_raises(text):
    reading = read_calendar(text)
    assert reading.answers == ()
    assert reading.error


def test_a_calendar_without_vevent():
    reading = read_calendar(
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    assert reading.answers == ()
    assert "without a VEVENT" in reading.error


def test_a_vtimezone_no_time_zone_can_be_built_from_loses_no_answer():
    # A VTIMEZONE whose rules lack DTSTART makes icalendar's parser raise as it caches the zone,
    # unless a zone of that TZID is already cached in the process: whether the answer was read
    # depended on which mail came first. A REPLY needs no zone; the zone is read as unknown.
    broken_zone = (
        "BEGIN:VTIMEZONE\r\nTZID:Broken Rules Zone\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\n"
        "TZOFFSETTO:-0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    cal = calendar(method="COUNTER", extra="DTSTART;TZID=Broken Rules Zone:20261201T110000")
    cal = cal.replace(b"BEGIN:VEVENT", broken_zone.encode() + b"BEGIN:VEVENT", 1)
    reading = read(cal)
    (answer,) = reading.answers
    assert (answer.partstat, answer.proposed["start"]) == ("ACCEPTED", "2026-12-01T11:00:00")
    assert "VTIMEZONE" in reading.error
