"""iTIP calendar and iMIP email rendering, checked with the stdlib and icalendar parsers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from lambdas.domain.calendar import ItipMessage, build_calendar
from lambdas.domain.contract import Person, parse_invite
from lambdas.domain.message import Envelope, render_email, subject_for
from lambdas.domain.vocabulary import EventStatus, Method
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX
from tests.support.aws import RSVP, SENDER, invite_body
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
