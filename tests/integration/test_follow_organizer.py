"""An event run from the organizer's calendar, end to end through the local SES receiving: real
organizer messages (tests/fixtures/organizer) mailed to the event address create the event, and
its updates and cancellations reach every attendee invited, once (docs/organizer.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from lambdas.adapters.mailer import Mailer
from lambdas.domain.organizer.decisions import CALENDAR_SOURCE
from lambdas.domain.organizer.identity import attendee_uid
from local.lambda_logs import json_lines
from local.samples import EVENTS
from tests.integration.organizer_mail import (
    GOOGLE_CREATE,
    OCCURRENCE_MOVED,
    OUTLOOK_CANCEL,
    OUTLOOK_CREATE,
    OUTLOOK_UPDATE,
    SERIES,
    EventAddress,
    calendar_of,
    fixture,
    ics_mail,
    invite_by_stored_event,
    outcomes,
)

MARGE = "marge@example.org"  # the Outlook organizer
OUTLOOK_UID = (
    "040000008200E00074C5B7101A82E0080000000060B608D090DDD701000000000000000010000000"
    + "4BE0CFFA54BCF64E956E34143362C3C0"
)
ATTENDEES = ["ann@example.net", "ben@example.net", "cy@example.net"]


@pytest.fixture
def events(account) -> EventAddress:
    return EventAddress(account)


def uid_of(organizer: str, organizer_uid: str) -> str:
    return attendee_uid(organizer, organizer_uid, EVENTS.rpartition("@")[2])


def stored_uid(account, organizer: str) -> str:
    """The one event the organizer's calendar created (its UID is derived: identity.attendee_uid)."""
    (line,) = [
        item
        for item in account.dynamodb.scan(TableName=account.table)["Items"]
        if item["sk"]["S"].startswith("event#")
    ]
    assert line["organizer"]["M"]["email"]["S"] == organizer
    return line["pk"]["S"].removeprefix("event#")


def test_an_outlook_request_creates_the_event_and_the_organizer_is_answered_twice(account, events, caplog):
    assert events.mail(fixture(OUTLOOK_CREATE)) == {"batchItemFailures": []}

    uid = stored_uid(account, MARGE)
    stored = account.event_item(uid)
    assert (stored.summary, stored.sequence, stored.timezone) == (
        "Testaus",
        0,
        "Europe/Kiev",
    )  # FLE Standard Time, by icalendar's table
    line = outcomes(caplog)[-1]
    assert (line["outcome"], line["uid"], line["answered"]) == (
        "event_created",
        uid,
        ["confirmation", "reply"],
    )
    reply, note = account.sent()
    assert reply.recipient == note.recipient == MARGE
    assert reply.message["From"] == note.message["From"] == EVENTS
    # The REPLY answers the organizer's own calendar: their UID and SEQUENCE, the event address ACCEPTED.
    calendar = calendar_of(reply)
    assert calendar["METHOD"] == "REPLY" and reply.method == "REPLY"
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == events_uid(account, uid)
    assert int(vevent["SEQUENCE"]) == 0
    (attendee,) = [vevent["ATTENDEE"]]
    assert str(attendee) == f"mailto:{EVENTS}" and attendee.params["PARTSTAT"] == "ACCEPTED"
    assert str(vevent["ORGANIZER"]) == f"mailto:{MARGE}"
    # whom the organizer's own calendar invites, for the invite path to tell (docs/organizer.md)
    item = account.dynamodb.get_item(
        TableName=account.table, Key={"pk": {"S": f"event#{uid}"}, "sk": {"S": f"event#{uid}"}}
    )["Item"]
    assert item["organizer_attendees"] == {"L": [{"S": "homer@example.org"}]}
    # The confirmation names the event's id and how attendees are added.
    assert note.message.get_content_type() == "text/plain"
    text = note.message.get_content()
    assert uid in text and f"cisctl invite --uid {uid}" in text


def test_an_attendee_the_organizers_calendar_invites_is_not_sent_a_second_copy(account, events, caplog):
    events.mail(fixture(OUTLOOK_CREATE))  # Marge's calendar invites homer@example.org itself
    uid = stored_uid(account, MARGE)
    before = len(account.sent())

    people = [{"email": "Homer@Example.org"}, {"email": "ann@example.net"}]
    account.invoke("invite", {"event": {"uid": uid}, "attendees": people})
    account.drain("invite")

    assert [s.recipient for s in account.sent()[before:]] == ["ann@example.net"]
    skipped = [line for line in json_lines(caplog.records, "send-invite") if line.get("outcome") == "skipped"]
    assert [(line["attendee"], line["reason"]) for line in skipped] == [
        (
            "Homer@Example.org",
            "the organizer's own calendar invites this attendee: one copy of the event is enough",
        )
    ]
    assert account.dead_letters("invite") == []


def events_uid(account, uid: str) -> str:
    """The organizer's own UID, as the event item remembers it (OrganizerRecord.organizer_uid)."""
    item = account.dynamodb.get_item(
        TableName=account.table, Key={"pk": {"S": f"event#{uid}"}, "sk": {"S": f"event#{uid}"}}
    )
    return item["Item"]["organizer_uid"]["S"]


def test_a_google_request_creates_the_event(account, events, caplog):
    events.mail(fixture(GOOGLE_CREATE))

    uid = stored_uid(account, "example@gmail.com")
    record = account.dynamodb.get_item(
        TableName=account.table, Key={"pk": {"S": f"event#{uid}"}, "sk": {"S": f"event#{uid}"}}
    )["Item"]
    assert record["source"]["S"] == CALENDAR_SOURCE
    assert outcomes(caplog)[-1]["outcome"] == "event_created"
    assert sorted(e.recipient for e in account.sent()) == ["example@gmail.com"] * 2


def test_the_organizer_s_update_reaches_every_attendee_once_at_a_higher_sequence(account, events, caplog):
    events.mail(fixture(OUTLOOK_CREATE))
    uid = stored_uid(account, MARGE)
    invite_by_stored_event(account, uid, ATTENDEES)
    before, created = len(account.sent()), account.event_item(uid).details()

    assert events.mail(fixture(OUTLOOK_UPDATE)) == {"batchItemFailures": []}
    line = outcomes(caplog)[-1]
    assert (line["outcome"], line["handedOver"]) == ("event_updated", True)
    account.drain("invite")

    sent = account.sent()[before:]
    to_attendees = [e for e in sent if e.recipient in ATTENDEES]
    assert sorted(e.recipient for e in to_attendees) == ATTENDEES  # one each
    updated = account.event_item(uid).details()
    assert updated.sequence == 1 and updated.start != created.start  # the organizer moved it
    for email in to_attendees:
        assert email.method == "REQUEST" and email.sequence == 1 and email.uid == uid
        (vevent,) = calendar_of(email).walk("VEVENT")
        assert vevent.decoded("DTSTART") == updated.start
    # the organizer's calendar is told the server still accepts the new version
    assert [e.method for e in sent if e.recipient == MARGE] == ["REPLY"]


def test_the_organizer_s_cancel_reaches_every_attendee_once(account, events, caplog):
    events.mail(fixture(OUTLOOK_CREATE))
    uid = stored_uid(account, MARGE)
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    events.mail(fixture(OUTLOOK_CANCEL))
    assert outcomes(caplog)[-1]["outcome"] == "event_cancelled"
    assert account.event_item(uid).is_cancelled
    account.drain("cancel")

    cancels = account.sent()[before:]
    assert sorted(e.recipient for e in cancels) == ATTENDEES
    assert {(e.method, e.uid) for e in cancels} == {("CANCEL", uid)}
    assert all(e.sequence >= 1 for e in cancels)
    assert {str(calendar_of(e).walk("VEVENT")[0]["STATUS"]) for e in cancels} == {"CANCELLED"}


def test_an_occurrence_the_organizer_moves_reaches_every_attendee_as_that_occurrence(account, events, caplog):
    events.mail(fixture(SERIES))
    uid = stored_uid(account, "sender@example.com")
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    events.mail(fixture(OCCURRENCE_MOVED))
    assert outcomes(caplog)[-1]["outcome"] == "occurrences_changed"
    account.drain("invite")

    moved = [e for e in account.sent()[before:] if e.recipient in ATTENDEES]
    assert sorted(e.recipient for e in moved) == ATTENDEES
    for email in moved:
        (vevent,) = calendar_of(email).walk("VEVENT")
        assert vevent.decoded("RECURRENCE-ID") == datetime(2022, 3, 17, 11, 0, tzinfo=UTC)
        assert vevent.decoded("DTSTART").astimezone(UTC) == datetime(2022, 3, 17, 5, 0, tzinfo=UTC)


def test_one_occurrence_the_organizer_cancels_reaches_every_attendee(account, events, caplog):
    organizer = "Test <test@linagora.com>"
    account.overrides["ALLOWED_ORGANIZERS"] = "linagora.com"
    events.mail(ics_mail("sabre-vobject/recurring-series-romance.ics", organizer, "REQUEST"))
    uid = stored_uid(account, "test@linagora.com")
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    events.mail(ics_mail("sabre-vobject/cancel-instance-of-recurring.ics", organizer, "CANCEL"))
    assert outcomes(caplog)[-1]["outcome"] == "occurrences_cancelled"
    account.drain("cancel")

    cancels = account.sent()[before:]
    assert sorted(e.recipient for e in cancels) == ATTENDEES
    for email in cancels:
        (vevent,) = calendar_of(email).walk("VEVENT")
        assert email.method == "CANCEL"
        assert vevent.decoded("RECURRENCE-ID").astimezone(UTC) == datetime(2018, 3, 20, 15, 0, tzinfo=UTC)
    assert not account.event_item(uid).is_cancelled


# ------------------------------------------------------------------------- what changes nothing


def test_a_stale_and_a_duplicate_request_change_nothing_and_send_nothing(account, events, caplog):
    events.mail(fixture(OUTLOOK_CREATE))
    uid = stored_uid(account, MARGE)
    invite_by_stored_event(account, uid, ATTENDEES)
    events.mail(fixture(OUTLOOK_UPDATE))
    account.drain("invite")
    before, stored = len(account.sent()), account.event_item(uid)

    events.mail(fixture(OUTLOOK_UPDATE))  # the same version again (another SES message)
    events.mail(fixture(OUTLOOK_CREATE))  # an older version
    account.drain("invite")

    assert [line["outcome"] for line in outcomes(caplog)[-2:]] == ["duplicate", "stale"]
    assert account.sent()[before:] == []
    assert account.event_item(uid) == stored


def test_a_redelivered_create_answers_the_organizer_once(account, events, caplog):
    (delivered,) = events.receive(fixture(OUTLOOK_CREATE))
    events.invoke(delivered)
    events.invoke(delivered)  # SQS delivers it again

    assert [line["outcome"] for line in outcomes(caplog)] == ["event_created", "duplicate"]
    assert len(account.sent()) == 2  # the REPLY and the confirmation, once


def test_twelve_concurrent_copies_of_one_update_send_each_attendee_one_update(account, events, caplog):
    events.mail(fixture(OUTLOOK_CREATE))
    uid = stored_uid(account, MARGE)
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    copies = [record for _ in range(12) for record in events.receive(fixture(OUTLOOK_UPDATE))]
    assert len(copies) == 12
    assert events.invoke(*copies) == {"batchItemFailures": []}  # one batch, on the batch's threads
    account.drain("invite")

    found = sorted(line["outcome"] for line in outcomes(caplog)[-12:])
    assert found == ["duplicate"] * 11 + ["event_updated"]
    # the duplicates leave the change's hand-over to the copy that wrote it: one fan-out
    fanned = [
        line for line in json_lines(caplog.records, "send-invite") if line.get("outcome") == "fanned_out"
    ]
    assert len(fanned) == 2  # the invitation by the stored event, then the update
    sent = account.sent()[before:]
    assert sorted(e.recipient for e in sent if e.recipient in ATTENDEES) == ATTENDEES
    assert [e.method for e in sent if e.recipient == MARGE] == ["REPLY"]


def test_a_crash_between_the_write_and_the_hand_over_still_reaches_every_attendee_once(
    account, events, caplog, monkeypatch
):
    from lambdas.adapters.queues import QueueError, Queues

    events.mail(fixture(OUTLOOK_CREATE))
    uid = stored_uid(account, MARGE)
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())
    enqueue, failures = Queues.enqueue, []

    def fails_once(self, bodies):
        if not failures:
            failures.append(bodies)
            raise QueueError("SQS unavailable")
        return enqueue(self, bodies)

    monkeypatch.setattr(Queues, "enqueue", fails_once)
    (delivered,) = events.receive(fixture(OUTLOOK_UPDATE))
    assert events.invoke(delivered) == {"batchItemFailures": [{"itemIdentifier": delivered["messageId"]}]}
    assert account.event_item(uid).sequence == 1  # written: the change is stored, its hand-over owed
    account.drain("invite")
    assert [e for e in account.sent()[before:] if e.recipient in ATTENDEES] == []

    assert events.invoke(delivered) == {"batchItemFailures": []}  # SQS delivers it again
    account.drain("invite")

    assert failures and outcomes(caplog)[-1]["outcome"] == "duplicate"
    sent = account.sent()[before:]
    assert sorted(e.recipient for e in sent if e.recipient in ATTENDEES) == ATTENDEES
    assert [e.method for e in sent if e.recipient == MARGE] == ["REPLY"]  # answered once


def test_a_hand_over_repeated_after_a_crash_sends_no_attendee_a_second_update(account, events, monkeypatch):
    from lambdas.adapters.store import Store

    events.mail(fixture(OUTLOOK_CREATE))
    uid = stored_uid(account, MARGE)
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())
    done, crashed = Store.organizer_fan_out_done, []

    def crashes_once(self, *args):
        if not crashed:
            crashed.append(args)
            raise RuntimeError("the function died after enqueueing")
        return done(self, *args)

    monkeypatch.setattr(Store, "organizer_fan_out_done", crashes_once)
    (delivered,) = events.receive(fixture(OUTLOOK_UPDATE))
    events.invoke(delivered)
    events.invoke(delivered)  # redelivered: the hand-over is still owed, and is done again
    account.drain("invite")

    sent = [e for e in account.sent()[before:] if e.recipient in ATTENDEES]
    assert sorted(e.recipient for e in sent) == ATTENDEES


def test_a_whole_request_without_the_moved_occurrence_brings_it_back_to_the_series(account, events, caplog):
    events.mail(fixture(SERIES))
    uid = stored_uid(account, "sender@example.com")
    invite_by_stored_event(account, uid, ATTENDEES)
    events.mail(fixture(OCCURRENCE_MOVED))
    account.drain("invite")
    before = len(account.sent())

    # The organizer undoes the move: the series again, as first sent, at a higher SEQUENCE.
    events.mail(fixture(SERIES).replace(b"SEQUENCE:0", b"SEQUENCE:3"))
    assert outcomes(caplog)[-1]["outcome"] == "event_updated"
    account.drain("invite")

    updates = [e for e in account.sent()[before:] if e.recipient in ATTENDEES]
    assert sorted(e.recipient for e in updates) == ATTENDEES
    for email in updates:
        (master,) = calendar_of(email).walk("VEVENT")  # no RECURRENCE-ID: the 17th is the series' own
        assert "RECURRENCE-ID" not in master and email.sequence == 3


ICALJS_READ = """
return input.map((text) => {
  const root = new ICAL.Component(ICAL.parse(text));
  const vevent = root.getFirstSubcomponent('vevent');
  const attendee = vevent.getFirstProperty('attendee');
  return {
    method: root.getFirstPropertyValue('method'),
    uid: String(vevent.getFirstPropertyValue('uid')),
    sequence: Number(vevent.getFirstPropertyValue('sequence') || 0),
    organizer: String(vevent.getFirstPropertyValue('organizer')),
    attendee: String(attendee.getFirstValue()),
    partstat: attendee.getParameter('partstat') || '',
  };
});
"""


def test_the_reply_and_the_attendees_update_read_the_same_in_icaljs(account, events):
    from tests.support.icaljs import run_icaljs

    events.mail(fixture(OUTLOOK_CREATE))
    uid = stored_uid(account, MARGE)
    invite_by_stored_event(account, uid, ATTENDEES[:1])
    events.mail(fixture(OUTLOOK_UPDATE))
    account.drain("invite")
    reply = next(e for e in account.sent() if e.method == "REPLY")
    update = next(e for e in account.sent() if e.recipient == ATTENDEES[0] and e.sequence == 1)

    theirs = run_icaljs(ICALJS_READ, [reply.ics.decode(), update.ics.decode()])

    assert theirs[0] == {
        "method": "REPLY",
        "uid": events_uid(account, uid),  # the organizer's own UID: their calendar matches it
        "sequence": 0,
        "organizer": f"mailto:{MARGE}",
        "attendee": f"mailto:{EVENTS}",
        "partstat": "ACCEPTED",
    }
    assert {k: theirs[1][k] for k in ("method", "uid", "sequence", "attendee")} == {
        "method": "REQUEST",
        "uid": uid,  # the attendees' own
        "sequence": 1,
        "attendee": f"mailto:{ATTENDEES[0]}",
    }


def test_an_answer_ses_refuses_for_good_dead_letters_the_mail_and_stays_owed(account, events, caplog):
    """SES refuses the REPLY to the organizer for good (an unverified event address, say): the
    notification goes to the DLQ with SES's reason, the event stays created, and the answer stays
    owed, its claim given back, for the redrive once the cause is fixed."""

    def rejected(self, recipient, raw):
        raise ClientError(
            {"Error": {"Code": "MessageRejected", "Message": "Email address is not verified."}}, "x"
        )

    with mock.patch.object(Mailer, "send", rejected):
        assert events.mail(fixture(OUTLOOK_CREATE)) == {"batchItemFailures": []}

    (dead,) = events.dead_letters()
    reason = dead["MessageAttributes"]["reason"]["StringValue"]
    assert "SES refused the reply: Email address is not verified." in reason
    uid = stored_uid(account, MARGE)
    state = account.dynamodb.get_item(
        TableName=account.table, Key={"pk": {"S": f"event#{uid}"}, "sk": {"S": f"event#{uid}"}}
    )["Item"]
    assert "claim" not in state["organizer_reply"]["M"]  # owed, and free to claim at once
    assert account.sent() == []
