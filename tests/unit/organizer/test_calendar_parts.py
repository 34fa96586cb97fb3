"""``read_calendar_parts`` (the export the organizer's reader uses) reads a mail's headers exactly
as ``read_email`` does, and finds the calendars ``read_email`` reads its answers from: checked on
every reply fixture, whose shapes are the widest this repository has."""

from __future__ import annotations

import dataclasses

import pytest

from lambdas.domain.inbound.email import MAX_CALENDAR_PARTS, read_calendar_parts
from lambdas.domain.inbound.itip import read_calendar, read_email
from tests.unit.inbound.ses import FIXTURES

REPLIES = sorted(p.name for p in FIXTURES.glob("*.eml"))


@pytest.mark.parametrize("name", REPLIES)
def test_headers_are_read_as_read_email_reads_them(name):
    raw = (FIXTURES / name).read_bytes()
    answers = read_email(raw)
    headers, _ = read_calendar_parts(raw)
    assert headers == dataclasses.replace(answers, answers=(), calendar_error=headers.calendar_error)


@pytest.mark.parametrize("name", REPLIES)
def test_the_answers_come_from_the_parts_found(name):
    raw = (FIXTURES / name).read_bytes()
    email, parts = read_calendar_parts(raw)
    found = {
        a.identity() for p in parts for a in read_calendar(p.text, p.mime_method, email.from_address).answers
    }
    # read_email also orders an answer without DTSTAMP by the Date: header: compare without it.
    expected = {a.identity() for a in read_email(raw).answers if a.dtstamp_from == "DTSTAMP"}
    assert expected <= found


def test_a_mail_of_many_calendar_parts_is_bounded():
    part = (
        "--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nUID:{n}\r\nEND:VCALENDAR\r\n"
    )
    raw = (
        "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + "".join(part.format(n=n) for n in range(MAX_CALENDAR_PARTS + 3))
        + "--b--\r\n"
    ).encode()
    email, parts = read_calendar_parts(raw)
    assert len(parts) == MAX_CALENDAR_PARTS
    assert "calendar parts" in email.calendar_error
