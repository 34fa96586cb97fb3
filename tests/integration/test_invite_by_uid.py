"""Attendees added by uid (issue 19): an invite naming only the event's uid is sent the stored event."""

from __future__ import annotations

from datetime import datetime

from local.lambda_logs import json_lines
from local.samples import invite_body, record
from tests.integration.test_series import GUESTS, PARIS, WEEKLY, occurrence_body, series_body, starts_of
from tests.support.oracles import check_imip

UID = "evt-42@example.com"
CAROL, DAN = "carol@example.org", "dan@example.org"


def by_uid(uid: str, *emails: str) -> dict:
    """The queue body that adds attendees to a stored event by its uid alone."""
    if len(emails) == 1:
        return {"event": {"uid": uid}, "attendee": {"email": emails[0], "name": "Carol"}}
    return {"event": {"uid": uid}, "attendees": [{"email": e} for e in emails]}


def outcomes(account, caplog) -> list[dict]:
    from lambdas.send_invite.handler import lambda_handler

    return [line for line in json_lines(caplog.records, lambda_handler.logger.name) if "outcome" in line]


def test_an_attendee_added_by_uid_gets_the_event_as_stored_at_its_sequence(account):
    account.invoke("invite", invite_body(location="Room 9"))
    account.invoke("invite", invite_body(sequence=2, location="Room 12", summary="Planning (moved)"))
    [_invite, update] = account.sent()

    assert account.invoke("invite", by_uid(UID, CAROL)) == {"batchItemFailures": []}
    [added] = account.sent()[2:]
    assert added.recipient == CAROL
    vevent = check_imip(added.raw, "REQUEST").walk("VEVENT")[0]
    expected = check_imip(update.raw, "REQUEST").walk("VEVENT")[0]
    for name in ("UID", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS"):
        assert str(vevent[name]) == str(expected[name])
    assert vevent["SEQUENCE"] == 2
    assert vevent.decoded("DTSTART") == expected.decoded("DTSTART")
    assert vevent["ORGANIZER"].params["CN"] == "Alice Example"
    assert vevent["ATTENDEE"].params["CN"] == "Carol"
    assert account.attendee_item(UID, CAROL).sequence == 2

    account.invoke("invite", by_uid(UID, CAROL))  # the producer's retry: nothing more is sent
    assert len(account.sent()) == 3
    event = account.event_item(UID)
    # Counted by sequence, as any invite: Carol's first message, at sequence 2, is counted as an update.
    assert (event.invites_sent, event.updates_sent) == (1, 2)


def test_the_fan_out_form_by_uid_reaches_every_attendee(account):
    account.invoke("invite", invite_body())
    assert account.invoke("invite", by_uid(UID, CAROL, DAN)) == {"batchItemFailures": []}
    assert len(account.sent()) == 1  # the fan-out itself sends nothing
    account.drain("invite")
    added = account.sent()[1:]
    assert sorted(s.recipient for s in added) == [CAROL, DAN]
    for email in added:
        assert str(check_imip(email.raw, "REQUEST").walk("VEVENT")[0]["SUMMARY"]) == "Quarterly planning"


def test_a_series_added_by_uid_carries_its_changed_and_cancelled_occurrences(account):
    account.invoke("invite", series_body())
    account.drain("invite")
    account.invoke("invite", occurrence_body("2037-10-20T09:00:00", "2037-10-22T14:00:00", sequence=1))
    account.drain("invite")
    account.invoke(
        "cancel", {"event": {"uid": "weekly-sync@example.com", "occurrence": "2037-11-03T09:00:00"}}
    )
    account.drain("cancel")
    before = len(account.sent())

    account.invoke("invite", by_uid("weekly-sync@example.com", CAROL))
    [added] = account.sent()[before:]
    assert added.recipient == CAROL
    master, override = check_imip(added.raw, "REQUEST").walk("VEVENT")
    assert master["SEQUENCE"] == 0  # the series as stored
    assert master.decoded("EXDATE").dts[0].dt == WEEKLY[4]
    assert override.decoded("RECURRENCE-ID") == WEEKLY[2]
    expected = [s for s in WEEKLY if s != WEEKLY[4]]
    expected[2] = datetime(2037, 10, 22, 14, tzinfo=PARIS)
    assert starts_of(added.raw, "REQUEST") == sorted(expected)
    assert sorted(a.email for a in account.store.attendees("weekly-sync@example.com")) == sorted(
        [*GUESTS, CAROL]
    )


def test_a_uid_with_no_stored_event_goes_to_the_dlq_naming_event_uid(account):
    records = [
        record(by_uid("nobody@example.com", CAROL), "one"),
        record(by_uid("nobody", CAROL, DAN), "many"),
    ]
    assert account.invoke("invite", records=records) == {"batchItemFailures": []}

    dead = account.dead_letters("invite")
    assert sorted(m["MessageAttributes"]["source_message_id"]["StringValue"] for m in dead) == ["many", "one"]
    for message in dead:
        reason = message["MessageAttributes"]["reason"]["StringValue"]
        assert "event.uid: no stored event has this uid: send the event's details first" in reason
    assert account.sent() == []
    account.drain("invite")  # the fan-out enqueued nothing
    assert account.sent() == []


def test_a_cancelled_event_takes_no_attendee_by_uid(account, caplog):
    account.invoke("invite", invite_body())
    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")
    before = len(account.sent())

    assert account.invoke("invite", records=[record(by_uid(UID, CAROL), "one")]) == {"batchItemFailures": []}
    assert account.invoke("invite", records=[record(by_uid(UID, CAROL, DAN), "many")]) == {
        "batchItemFailures": []
    }
    account.drain("invite")

    assert account.sent()[before:] == []
    assert account.dead_letters("invite") == []
    assert account.attendee_item(UID, CAROL) is None
    refused = [line for line in outcomes(account, caplog) if line["messageId"] in ("one", "many")]
    assert [(line["outcome"], line["reason"]) for line in refused] == [
        ("stale", "the event is cancelled: it takes no more attendees")
    ] * 2
