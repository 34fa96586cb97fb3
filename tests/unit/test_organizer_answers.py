"""What the organizer function writes and mails: its DynamoDB requests (organizer_expressions) and
its two answers as emails (message.render_reply, message.render_note)."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime
from email import policy

import pytest
from icalendar import Calendar

from lambdas.adapters import organizer_expressions as organizer
from lambdas.domain.message import Envelope, render_note, render_reply
from lambdas.domain.organizer.answer import acceptance
from lambdas.domain.organizer.decisions import OrganizerRecord, decide
from lambdas.domain.organizer.pending import CONFIRMATION, FAN_OUT, REPLY, VERSION, fan_out_of
from tests.unit.organizer.fixtures import message

OUTLOOK_CREATE = "comm-central/outlook-test-invite.eml"
OUTLOOK_CANCEL = "derived/outlook-cancel.eml"
ENVELOPE = Envelope(sender="events@example.com", reply_to="events@example.com", subject_prefix="P")
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def placeholders_only(request: dict) -> None:
    """Every name and value of a request goes through a placeholder."""
    for part in ("UpdateExpression", "ConditionExpression"):
        text = request.get(part, "")
        assert "@" not in text and "event#" not in text, text


def test_a_new_event_is_written_only_where_there_is_no_item_with_what_it_owes():
    created = decide(message(OUTLOOK_CREATE), None, OrganizerRecord(), "cal-x@example.com")
    (update,) = [
        item["Update"]
        for item in organizer.change_write(
            "t", "cal-x@example.com", created, None, None, {REPLY: "m1"}, "now"
        )
    ]
    placeholders_only(update)
    assert update["ConditionExpression"] == "attribute_not_exists(#pk)"
    values = {k: v for k, v in update["ExpressionAttributeValues"].items()}
    assert {"M": {"message": {"S": "m1"}}} in values.values()
    assert update["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    names = set(update["ExpressionAttributeNames"].values())
    assert {VERSION, REPLY, "organizer_uid", "organizer_sequence", "source"} <= names
    assert FAN_OUT not in names  # a new event owes the attendees nothing: it has none yet


def test_a_change_is_written_only_on_the_version_read_and_when_nothing_is_owed():
    created = decide(message(OUTLOOK_CREATE), None, OrganizerRecord(), "cal-x@example.com")
    stored = _stored(created)
    cancelled = decide(message(OUTLOOK_CANCEL), *stored, "cal-x@example.com")
    owed = fan_out_of(cancelled)
    (update,) = [
        item["Update"]
        for item in organizer.change_write("t", "cal-x@example.com", cancelled, 1, owed, {}, "now")
    ]
    placeholders_only(update)
    version, owed_nothing = update["ConditionExpression"].split(" AND ")
    placeholder = version.removeprefix("#organizer_version = ")
    assert update["ExpressionAttributeValues"][placeholder] == {"N": "1"}  # the version read
    assert owed_nothing == "attribute_not_exists(#organizer_fan_out)"
    assert update["ExpressionAttributeValues"][":version"] == {"N": "2"}
    assert update["ExpressionAttributeValues"][":cs"] == {"N": str(cancelled.attendee_sequence)}
    assert {"S": "CANCELLED"} in update["ExpressionAttributeValues"].values()


def _stored(created):
    """The event item as the create wrote it."""
    from lambdas.domain.items import EventItem

    details = created.event.as_dict()
    item = {**details, "status": "CONFIRMED", "organizer_sequence": 0, "source": created.record.source}
    return EventItem.read(item, uid=created.event.uid), OrganizerRecord.read(item)


def test_what_is_owed_is_cleared_by_its_own_sequence_or_claim_only():
    done = organizer.fan_out_done("t", "u", 3)
    assert done["ConditionExpression"] == "#organizer_fan_out.#sequence = :seq"
    claim = organizer.answer_claim("t", "u", CONFIRMATION, "m1", "tok", 100.0, 90)
    assert claim["ConditionExpression"] == (
        "#organizer_confirmation.#message = :inbound AND"
        " (attribute_not_exists(#organizer_confirmation.#claim) OR #organizer_confirmation.#since < :cutoff)"
    )
    assert claim["ExpressionAttributeValues"][":cutoff"] == {"N": "10.0"}
    assert (
        organizer.answer_done("t", "u", REPLY, "tok")["ConditionExpression"]
        == "#organizer_reply.#claim = :token"
    )
    released = organizer.answer_release("t", "u", REPLY, "tok")
    assert released["UpdateExpression"] == "REMOVE #organizer_reply.#claim, #organizer_reply.#since"


def test_the_reply_is_an_imip_reply_any_parser_reads():
    ics = acceptance(message(OUTLOOK_CREATE), "events@example.com", NOW, "Calendar Invite Server")
    raw = render_reply(
        ics, ENVELOPE, to="marge@example.org", to_name="Marge", subject="P Accepted", text="ok\n", when=NOW
    )
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.defects == [] and all(part.defects == [] for part in parsed.walk())
    assert (parsed["From"], parsed["To"]) == ("events@example.com", "Marge <marge@example.org>")
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/calendar"]
    calendar_part = list(parsed.iter_parts())[1]
    assert calendar_part.get_param("method") == "REPLY"
    calendar = Calendar.from_ical(calendar_part.get_payload(decode=True))
    (vevent,) = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REPLY" and vevent["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"


def test_only_a_reply_calendar_is_rendered_as_a_reply():
    with pytest.raises(ValueError, match="METHOD:REPLY"):
        render_reply(
            b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
            ENVELOPE,
            to="a@b.org",
            to_name="",
            subject="s",
            text="t",
            when=NOW,
        )


@pytest.mark.parametrize(
    ("to_name", "subject"),
    [("Marge\r\nBcc: eve@evil.example", "Held"), ("Marge", "Held\r\nBcc: eve@evil.example")],
)
def test_no_name_or_subject_can_add_a_header(to_name, subject):
    with pytest.raises(ValueError):
        render_note(ENVELOPE, to="marge@example.org", to_name=to_name, subject=subject, text="t\n", when=NOW)


def test_the_confirmation_is_plain_text_from_the_event_address():
    raw = render_note(
        ENVELOPE,
        to="marge@example.org",
        to_name="Marge",
        subject="P Event held",
        text="Its id: x\n",
        when=NOW,
    )
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.get_content_type() == "text/plain" and parsed.get_content().strip() == "Its id: x"
    assert parsed["Reply-To"] == "events@example.com"
    assert json.dumps(str(parsed["Subject"])) == '"P Event held"'
