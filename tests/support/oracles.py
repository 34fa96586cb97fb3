"""Offline oracles every sent email must satisfy (see docs/message-contract.md, "The email")."""

from __future__ import annotations

import email
from email import policy

from icalendar import Calendar


def check_imip(raw: bytes, method: str) -> Calendar:
    """Parse an iMIP email the way a client would, assert its invariants, return the calendar."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.defects == []
    for part in message.walk():
        assert part.defects == [], (part.get_content_type(), part.defects)
    assert message.get_content_type() == "multipart/mixed"
    alternative = message.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    types = [p.get_content_type() for p in alternative.get_payload()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    calendar_part = alternative.get_payload()[2]
    assert calendar_part.get_param("method") == method
    assert calendar_part.get_content_charset() == "utf-8"
    attachment = message.get_payload()[1]
    assert attachment.get_filename() == "invite.ics"

    calendar = Calendar.from_ical(calendar_part.get_content())
    assert calendar["METHOD"] == method
    assert calendar.get_missing_tzids() == set()
    events = calendar.walk("VEVENT")
    # One event, or a series: its master and its overrides, one UID (RFC 5546 §2.1.5).
    assert len(events) >= 1
    assert len({str(e["UID"]) for e in events}) == 1
    assert sum("RECURRENCE-ID" not in e for e in events) <= 1
    for event in events:
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "ORGANIZER", "ATTENDEE"):
            assert name in event, name
        assert str(event["ORGANIZER"]).startswith("mailto:")
        assert str(event["ATTENDEE"]).startswith("mailto:")
        assert event.decoded("DTSTAMP").utcoffset().total_seconds() == 0
    assert Calendar.from_ical(attachment.get_content()) == calendar
    return calendar
