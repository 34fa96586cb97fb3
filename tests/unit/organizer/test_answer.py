"""The event address's REPLY to each organizer REQUEST fixture is one that calendars read as the
event address ACCEPTED, for the organizer's UID and SEQUENCE: icalendar, Mozilla's ical.js, and this
server's own reader of answers (as the organizer's calendar would read it) agree."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from lambdas.domain.inbound.itip import read_calendar
from lambdas.domain.organizer.answer import acceptance, confirmation
from tests.support.icaljs import run_icaljs
from tests.unit.organizer.fixtures import message
from tests.unit.organizer.test_reading import REQUESTS

EVENT_ADDRESS = "events@cis.example.com"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
EVENTS = sorted(name for name, expected in REQUESTS.items() if expected["kind"] == "event")


@pytest.mark.parametrize("name", EVENTS)
def test_the_reply_is_read_as_the_event_address_accepting(name):
    msg = message(name)
    text = acceptance(msg, EVENT_ADDRESS, NOW, "Calendar Invite Server").decode()
    calendar = Calendar.from_ical(text)
    assert str(calendar["METHOD"]) == "REPLY"
    assert calendar.get_missing_tzids() == set()
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["ORGANIZER"]) == f"mailto:{msg.organizer.email}"
    assert vevent.decoded("DTSTART") == msg.event.start
    (answer,) = read_calendar(text, replier=EVENT_ADDRESS).answers
    assert (answer.method, answer.uid, answer.sequence, answer.attendee, answer.partstat) == (
        "REPLY",
        msg.uid,
        msg.sequence,
        EVENT_ADDRESS,
        "ACCEPTED",
    )
    assert answer.dtstamp == NOW


def test_icaljs_reads_every_reply_the_same():
    texts = [acceptance(message(name), EVENT_ADDRESS, NOW).decode() for name in EVENTS]
    read = run_icaljs(
        """
        return input.map((text) => {
          const calendar = new ICAL.Component(ICAL.parse(text));
          const vevent = calendar.getFirstSubcomponent('vevent');
          const attendee = vevent.getFirstProperty('attendee');
          return {
            method: calendar.getFirstPropertyValue('method'),
            uid: vevent.getFirstPropertyValue('uid'),
            sequence: vevent.getFirstPropertyValue('sequence'),
            attendee: attendee.getFirstValue(),
            partstat: attendee.getParameter('partstat'),
            // an all-day start is a date, in no zone: compared as the date itself
            start: ((d) => (d.isDate ? d.toString() : d.toJSDate().toISOString()))(
              new ICAL.Event(vevent).startDate),
          };
        });
        """,
        texts,
    )
    for name, theirs in zip(EVENTS, read, strict=True):
        msg = message(name)
        start = msg.event.start
        if isinstance(start, datetime):
            start = start.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        else:
            start = start.isoformat()
        assert theirs == {
            "method": "REPLY",
            "uid": msg.uid,
            "sequence": msg.sequence,
            "attendee": f"mailto:{EVENT_ADDRESS}",
            "partstat": "ACCEPTED",
            "start": start,
        }


def test_the_reply_carries_the_organizers_uid_when_the_attendees_copies_have_their_own():
    msg = message("comm-central/outlook-test-invite.eml")
    translated = dataclasses.replace(msg, uid="cal-x@cis.example.com", organizer_uid=msg.uid)
    (answer,) = read_calendar(acceptance(translated, EVENT_ADDRESS, NOW).decode()).answers
    assert answer.uid == msg.uid


@pytest.mark.parametrize("name", ["derived/outlook-cancel.eml", "comm-central/exception-major.eml"])
def test_only_a_request_carrying_the_event_is_accepted(name):
    with pytest.raises(ValueError):
        acceptance(message(name), EVENT_ADDRESS, NOW)


def test_the_confirmation_says_the_id_and_how_to_invite():
    msg = message("comm-central/meet-meeting-invite.eml")
    sent = confirmation(msg, "cal-abc@cis.example.com", "https://sqs.example/invite")
    assert sent.subject == "Event held: Meeeeet me HTML"
    assert "Its id: cal-abc@cis.example.com" in sent.text
    assert "cisctl invite --uid cal-abc@cis.example.com" in sent.text
    (body,) = [line.strip() for line in sent.text.splitlines() if line.strip().startswith("{")]
    assert json.loads(body) == {
        "event": {"uid": "cal-abc@cis.example.com"},
        "attendee": {"email": "someone@example.org"},
    }
