"""Every reply fixture is read with the answer a person reading it sees, and Mozilla's ical.js,
reading the calendars the stdlib's own (unbounded) MIME walk finds, sees the same answers."""

from __future__ import annotations

import email
from dataclasses import asdict
from email import policy
from pathlib import Path

import pytest

from lambdas.domain.inbound.email import CALENDAR_TYPES
from lambdas.domain.inbound.itip import read_email
from tests.support.icaljs import run_node
from tests.unit.inbound.expectations import EXPECTED
from tests.unit.inbound.ses import FIXTURES, fixture

ICALJS = Path(__file__).with_name("read_with_icaljs.js")


def test_every_fixture_has_an_expectation():
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_read_right(name):
    expected = EXPECTED[name]
    email_ = read_email(fixture(name))
    assert email_.from_address == expected["from_address"]
    assert email_.automatic_reason == expected["automatic_reason"]
    assert email_.automatic is bool(expected["automatic_reason"])
    if expected["calendar_error"] is None:
        assert email_.calendar_error is None
    else:
        assert expected["calendar_error"] in (email_.calendar_error or "")
    assert [asdict(a) for a in email_.answers] == expected["answers"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_read_from_a_stream_is_read_the_same(name):
    with (FIXTURES / name).open("rb") as stream:
        assert read_email(stream) == read_email(fixture(name))


# ------------------------------------------------------------------------ the independent reading


def stdlib_calendar_texts(raw: bytes) -> list[str]:
    """Calendar parts as the stdlib's full parse finds them (not descending into attached
    messages, which are someone else's mail: the bounced invitation inside a DSN)."""
    message = email.message_from_bytes(raw, policy=policy.default)
    texts: list[str] = []

    def visit(part):
        if part.get_content_maintype() == "message":
            return
        if part.is_multipart():
            for child in part.iter_parts():
                visit(child)
            return
        if part.get_content_type() in CALENDAR_TYPES or (part.get_filename() or "").endswith(".ics"):
            if part.get_content_maintype() == "text":
                texts.append(part.get_content())
            else:
                texts.append(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))

    visit(message)
    return texts


def icaljs(texts: list[str]) -> list[dict]:
    return run_node([str(ICALJS)], texts)


@pytest.fixture(scope="module")
def icaljs_readings() -> dict[str, list[dict]]:
    names = sorted(EXPECTED)
    texts = {name: stdlib_calendar_texts(fixture(name)) for name in names}
    flat = [text for name in names for text in texts[name]]
    readings = iter(icaljs(flat))
    return {name: [next(readings) for _ in texts[name]] for name in names}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_icaljs_sees_the_same_answers(name, icaljs_readings):
    ours = read_email(fixture(name))
    readings = icaljs_readings[name]
    events, times = {}, {}
    for reading in readings:
        for event in reading.get("events", []):
            key = (event["method"], event["uid"], event["sequence"], event["dtstamp"], event["prodid"])
            events[key] = {(a["address"], a["partstat"]) for a in event["attendees"]}
            times[key] = (event["start"], event["end"])
    if ours.calendar_error and not ours.answers:
        assert readings and all("error" in r or not r["events"] for r in readings)
    assert len(events) == len(ours.answers)
    for answer in ours.answers:
        key = (
            answer.method,
            answer.uid,
            answer.sequence,
            answer.dtstamp.isoformat().replace("+00:00", ".000Z"),
            answer.prodid,
        )
        assert key in events, (key, list(events))
        attendees = events[key]
        assert (answer.attendee, answer.partstat) in attendees
        if len(attendees) == 1:
            assert {(answer.attendee, answer.partstat)} == attendees
        if answer.method == "COUNTER":  # the proposed time, zone resolved by each parser
            proposed = tuple(answer.proposed[k].replace("+00:00", ".000Z") for k in ("start", "end"))
            assert proposed == times[key]
