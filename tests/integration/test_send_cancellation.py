"""Send Event Cancellation against a mocked account."""

from __future__ import annotations

import json
import threading
from unittest import mock

from botocore.exceptions import ClientError
from icalendar import Calendar

from lambdas.adapters.expressions import to_attribute_values
from lambdas.adapters.mailer import Mailer
from lambdas.domain.keys import event_key
from lambdas.domain.vocabulary import AttendeeStatus, EventStatus, Method
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX
from local.samples import RSVP, invite_body, record
from tests.support.oracles import check_imip

UID = "evt-42@example.com"
GUESTS = ["a@example.org", "b@example.org", "c@example.org"]


def invite_guests(account, guests=GUESTS, sequence=0):
    account.invoke("invite", invite_body(attendee=list(guests), sequence=sequence))
    account.drain("invite")


def cancellations(account):
    return [s for s in account.sent() if "CANCEL" in s.calendar_text().split("METHOD:")[1][:7]]


def test_cancelling_the_whole_event_sends_one_cancel_per_invited_attendee(account):
    invite_guests(account)
    invite_guests(account, sequence=1)  # an update: every guest now has SEQUENCE 1

    response = account.invoke("cancel", {"event": {"uid": UID}})
    assert response == {"batchItemFailures": []}
    account.drain("cancel")

    sent = cancellations(account)
    assert sorted(s.recipient for s in sent) == GUESTS
    for email in sent:
        assert email.message["Subject"] == f"{DEFAULT_SUBJECT_PREFIX} Event Cancelled: Quarterly planning"
        vevent = check_imip(email.raw, "CANCEL").walk("VEVENT")[0]
        assert str(vevent["UID"]) == UID
        assert vevent["SEQUENCE"] == 2  # strictly above every sequence sent before
        assert str(vevent["STATUS"]) == "CANCELLED"
        assert str(vevent["ORGANIZER"]) == f"mailto:{RSVP}"
        assert vevent["ORGANIZER"].params["CN"] == "Alice Example"
        assert str(vevent["ATTENDEE"]) == f"mailto:{email.recipient}"
        assert str(vevent["SUMMARY"]) == "Quarterly planning"
        text = email.message.get_body(("plain",)).get_content()
        assert "cancelled" in text.lower()

    event = account.event_item(UID)
    assert event.status is EventStatus.CANCELLED
    assert event.cancellations_sent == 3
    for guest in GUESTS:
        item = account.attendee_item(UID, guest)
        assert item.status is AttendeeStatus.CANCELLED
        assert item.sequence == 2
        assert item.cancelled_at
        assert [h.method for h in item.history] == [Method.REQUEST, Method.REQUEST, Method.CANCEL]


def test_a_cancellation_carrying_only_the_uid_is_rebuilt_from_the_stored_event(account):
    account.invoke("invite", invite_body(location="Room 9"))

    account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": "bob@example.org"}})

    [cancel] = cancellations(account)
    vevent = check_imip(cancel.raw, "CANCEL").walk("VEVENT")[0]
    assert str(vevent["SUMMARY"]) == "Quarterly planning"
    assert str(vevent["LOCATION"]) == "Room 9"
    assert vevent.decoded("DTSTART").isoformat() == "2026-12-01T15:00:00+00:00"
    assert vevent["SEQUENCE"] == 1
    assert vevent["ATTENDEE"].params["CN"] == "Bob"


def test_a_uid_with_no_stored_event_and_no_details_is_invalid(account):
    response = account.invoke("cancel", records=[record({"event": {"uid": "nobody"}}, "m1")])

    assert response == {"batchItemFailures": []}
    [dead] = account.dead_letters("cancel")
    assert "event.uid" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert account.sent() == []


def test_duplicate_cancellations_send_one_email(account):
    account.invoke("invite", invite_body())
    body = {"event": {"uid": UID}, "attendee": {"email": "bob@example.org"}}

    assert account.invoke("cancel", body) == {"batchItemFailures": []}
    assert account.invoke("cancel", body) == {"batchItemFailures": []}
    assert len(cancellations(account)) == 1
    assert account.event_item(UID).cancellations_sent == 1


def test_concurrent_cancellations_send_one_email(account):
    account.invoke("invite", invite_body())
    body = {"event": {"uid": UID}, "attendee": {"email": "bob@example.org"}}
    barrier = threading.Barrier(6)

    def deliver():
        barrier.wait()
        account.invoke("cancel", body)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    with account.environment_of("cancel"):  # once, before the threads start
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(cancellations(account)) == 1


def test_cancelling_the_whole_event_twice_sends_nothing_more(account):
    invite_guests(account)
    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")
    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")

    assert len(cancellations(account)) == 3
    assert account.event_item(UID).cancellations_sent == 3


def test_a_cancellation_for_someone_never_invited_is_skipped_not_retried(account, caplog):
    account.invoke("invite", invite_body())
    body = {"event": {"uid": UID}, "attendee": {"email": "stranger@example.org"}}

    assert account.invoke("cancel", body) == {"batchItemFailures": []}
    assert cancellations(account) == []
    assert account.dead_letters("cancel") == []
    assert [r.outcome for r in caplog.records if hasattr(r, "outcome")][-1] == "skipped"


def test_an_invite_arriving_after_the_cancellation_is_stale(account):
    invite_guests(account, guests=["a@example.org"])
    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")

    # A late invite for a new guest, at the old sequence: not sent.
    assert account.invoke("invite", invite_body(attendee="late@example.org")) == {"batchItemFailures": []}
    assert [s.recipient for s in account.sent()].count("late@example.org") == 0
    # A re-scheduled event (a sequence above the cancellation's) goes out again.
    account.invoke("invite", invite_body(attendee="late@example.org", sequence=5))
    assert [s.recipient for s in account.sent()].count("late@example.org") == 1
    assert account.event_item(UID).status is EventStatus.CONFIRMED


def test_an_event_re_scheduled_before_its_cancellation_fanned_out_is_not_cancelled(account):
    invite_guests(account)
    account.invoke("cancel", {"event": {"uid": UID}})  # sequence 1, fanned out but not yet sent
    invite_guests(account, sequence=5)  # re-scheduled above the cancellation: sent

    account.drain("cancel")

    assert cancellations(account) == []  # every share is stale: each guest holds sequence 5
    assert account.event_item(UID).status is EventStatus.CONFIRMED
    for guest in GUESTS:
        item = account.attendee_item(UID, guest)
        assert (item.status, item.sequence, item.pending) == (AttendeeStatus.INVITED, 5, None)


def test_removing_one_attendee_sends_cancel_without_status_and_keeps_the_event(account):
    invite_guests(account)
    body = {"event": {"uid": UID}, "attendee": {"email": "b@example.org"}, "scope": "attendee"}

    account.invoke("cancel", body)

    [cancel] = cancellations(account)
    vevent = check_imip(cancel.raw, "CANCEL").walk("VEVENT")[0]
    assert "STATUS" not in vevent
    assert account.event_item(UID).status is EventStatus.CONFIRMED
    assert account.attendee_item(UID, "b@example.org").status is AttendeeStatus.REMOVED
    assert account.attendee_item(UID, "a@example.org").status is AttendeeStatus.INVITED


def test_a_failure_on_one_cancellation_is_retried_alone(account):
    invite_guests(account)
    records = [
        record({"event": {"uid": UID}, "attendee": {"email": guest}}, f"m{i}")
        for i, guest in enumerate(GUESTS)
    ]
    real_send = Mailer.send

    def flaky_send(self, recipient, raw):
        if recipient == "b@example.org":
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "SendEmail")
        return real_send(self, recipient, raw)

    with mock.patch.object(Mailer, "send", flaky_send):
        response = account.invoke("cancel", records=records)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert sorted(s.recipient for s in cancellations(account)) == ["a@example.org", "c@example.org"]

    assert account.invoke("cancel", records=[records[1]]) == {"batchItemFailures": []}
    assert sorted(s.recipient for s in cancellations(account)) == GUESTS


def test_cancellation_with_full_details_needs_no_stored_event(account):
    body = invite_body()
    account.invoke("invite", body)
    account.dynamodb.delete_item(TableName=account.table, Key=to_attribute_values(event_key(UID)))

    account.invoke("cancel", {"event": body["event"], "attendee": body["attendee"]})

    [cancel] = cancellations(account)
    assert check_imip(cancel.raw, "CANCEL").walk("VEVENT")[0]["SEQUENCE"] == 1


def test_whole_event_cancellation_reaches_an_attendee_whose_invite_send_was_never_recorded(account):
    import time

    from lambdas.domain.contract import Person
    from lambdas.runtime.config import DEFAULT_CLAIM_LEASE_SECONDS

    account.invoke("invite", invite_body(attendee="a@example.org"))
    # A function claimed b, may have sent, and died before recording it (its lease has run out).
    stale = time.time() - DEFAULT_CLAIM_LEASE_SECONDS - 1
    assert account.store.claim_invite(
        UID, Person("b@example.org"), 0, "t", stale, DEFAULT_CLAIM_LEASE_SECONDS
    )

    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")

    assert sorted(s.recipient for s in cancellations(account)) == ["a@example.org", "b@example.org"]


# ------------------------------------------------------------------------- cancellation intent

BOB, CAROL = "bob@example.org", "carol@example.org"


def test_naming_one_attendee_removes_them_and_the_event_goes_on_for_the_others(account):
    """This request once cancelled the event for everyone, and carol's update went stale."""
    invite_guests(account, guests=[BOB, CAROL])

    assert account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": BOB}}) == {
        "batchItemFailures": []
    }
    assert account.invoke("invite", invite_body(attendee=CAROL, sequence=1, location="Room 7")) == {
        "batchItemFailures": []
    }

    [removal] = cancellations(account)
    assert removal.recipient == BOB
    assert "STATUS" not in check_imip(removal.raw, "CANCEL").walk("VEVENT")[0]  # RFC 5546 §3.2.5
    [update] = [s for s in account.sent() if s.recipient == CAROL and "SEQUENCE:1" in s.calendar_text()]
    assert str(check_imip(update.raw, "REQUEST").walk("VEVENT")[0]["STATUS"]) == "CONFIRMED"
    event = account.event_item(UID)
    assert event.status is EventStatus.CONFIRMED and not event.is_cancelled
    assert event.cancelled_sequence is None
    assert (event.sequence, event.location, event.cancellations_sent) == (1, "Room 7", 1)
    assert account.attendee_item(UID, BOB).status is AttendeeStatus.REMOVED
    carol = account.attendee_item(UID, CAROL)
    assert (carol.status, carol.sequence) == (AttendeeStatus.INVITED, 1)


def test_a_whole_event_cancellation_after_a_removal_reaches_every_invited_attendee(account):
    invite_guests(account, guests=[BOB, *GUESTS])
    account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": BOB}})

    account.invoke("cancel", {"event": {"uid": UID}, "scope": "event"})
    account.drain("cancel")

    sent = cancellations(account)
    assert sorted(s.recipient for s in sent) == sorted([BOB, *GUESTS])  # bob once: his removal
    for email in sent:
        status = check_imip(email.raw, "CANCEL").walk("VEVENT")[0].get("STATUS")
        assert (str(status) if status else None) == (None if email.recipient == BOB else "CANCELLED")
    assert account.event_item(UID).status is EventStatus.CANCELLED
    assert account.attendee_item(UID, BOB).status is AttendeeStatus.REMOVED
    assert {account.attendee_item(UID, g).status for g in GUESTS} == {AttendeeStatus.CANCELLED}


def test_scope_event_with_an_attendee_of_an_event_that_goes_on_is_refused_naming_scope(account):
    invite_guests(account, guests=[BOB, CAROL])
    body = {"event": {"uid": UID}, "attendee": {"email": BOB}, "scope": "event"}

    assert account.invoke("cancel", records=[record(body, "m1")]) == {"batchItemFailures": []}

    [dead] = account.dead_letters("cancel")
    assert json.loads(dead["MessageAttributes"]["errors"]["StringValue"])[0]["field"] == "scope"
    assert cancellations(account) == []
    assert account.event_item(UID).status is EventStatus.CONFIRMED
    assert account.attendee_item(UID, BOB).status is AttendeeStatus.INVITED


def test_fan_out_requests_of_the_previous_version_still_reach_their_attendees(account):
    """Requests an earlier version fanned out (scope "event" and an attendee) may be queued at the
    deployment: they are honoured, because the event they belong to is cancelled."""
    invite_guests(account, guests=[BOB, CAROL])
    account.invoke("cancel", {"event": {"uid": UID}})
    queue, _ = account.queues["cancel"]
    account.sqs.purge_queue(QueueUrl=queue)  # this version's fan-out, replaced by the old one's
    event = {**invite_body()["event"], "sequence": 1}

    for who in (BOB, CAROL):
        account.invoke("cancel", {"event": event, "attendee": {"email": who}, "scope": "event"})

    sent = cancellations(account)
    assert sorted(s.recipient for s in sent) == [BOB, CAROL]
    for email in sent:
        assert str(check_imip(email.raw, "CANCEL").walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert {account.attendee_item(UID, who).status for who in (BOB, CAROL)} == {AttendeeStatus.CANCELLED}


def test_an_event_stored_under_older_looser_rules_can_still_be_cancelled_by_uid(account):
    invite_guests(account, guests=[BOB])
    # Stored before display names with a backslash were refused by the contract.
    account.dynamodb.update_item(
        TableName=account.table,
        Key=to_attribute_values(event_key(UID)),
        UpdateExpression="SET organizer = :organizer",
        ExpressionAttributeValues=to_attribute_values(
            {":organizer": {"email": "alice@example.com", "name": "Alice \\ Example"}}
        ),
    )

    assert account.invoke("cancel", {"event": {"uid": UID}}) == {"batchItemFailures": []}
    account.drain("cancel")

    [cancel] = cancellations(account)
    assert cancel.recipient == BOB
    assert account.dead_letters("cancel") == []
    vevent = Calendar.from_ical(cancel.calendar_text()).walk("VEVENT")[0]
    assert (str(vevent["SUMMARY"]), vevent["SEQUENCE"]) == ("Quarterly planning", 1)
    assert account.attendee_item(UID, BOB).status is AttendeeStatus.CANCELLED


def test_a_cancellation_ses_refuses_as_suppressed_ends_suppressed_not_in_the_dlq(account):
    invite_guests(account, guests=["a@example.org"])

    def refused(self, recipient, raw):
        message = "Amazon SES has suppressed sending to this address"
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": message}}, "x")

    with mock.patch.object(Mailer, "send", refused):
        response = account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": "a@example.org"}})

    assert response == {"batchItemFailures": []}
    assert account.dead_letters("cancel") == []
    assert cancellations(account) == []
    item = account.attendee_item(UID, "a@example.org")
    assert item.status is AttendeeStatus.INVITED and item.pending is None
