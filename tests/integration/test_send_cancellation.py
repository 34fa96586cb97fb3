"""Send Event Cancellation against a mocked account."""

from __future__ import annotations

import threading
from unittest import mock

from botocore.exceptions import ClientError

from lambdas.adapters.mailer import Mailer
from local.account import RSVP, invite_body, record
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
        assert email.message["Subject"] == "CalendarSnack Event Cancelled: Quarterly planning"
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
    assert event["status"] == "CANCELLED"
    assert event["cancellations_sent"] == 3
    for guest in GUESTS:
        item = account.attendee_item(UID, guest)
        assert item["status"] == "cancelled"
        assert item["sequence"] == 2
        assert item["cancelled_at"]
        assert [h["method"] for h in item["history"]] == ["REQUEST", "REQUEST", "CANCEL"]


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
    assert account.event_item(UID)["cancellations_sent"] == 1


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
    assert account.event_item(UID)["cancellations_sent"] == 3


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
    assert account.event_item(UID)["status"] == "CONFIRMED"


def test_removing_one_attendee_sends_cancel_without_status_and_keeps_the_event(account):
    invite_guests(account)
    body = {"event": {"uid": UID}, "attendee": {"email": "b@example.org"}, "scope": "attendee"}

    account.invoke("cancel", body)

    [cancel] = cancellations(account)
    vevent = check_imip(cancel.raw, "CANCEL").walk("VEVENT")[0]
    assert "STATUS" not in vevent
    assert account.event_item(UID)["status"] == "CONFIRMED"
    assert account.attendee_item(UID, "b@example.org")["status"] == "cancelled"
    assert account.attendee_item(UID, "a@example.org")["status"] == "invited"


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
    account.dynamodb.delete_item(
        TableName="calendar-invites", Key={"pk": {"S": f"event#{UID}"}, "sk": {"S": f"event#{UID}"}}
    )

    account.invoke("cancel", {"event": body["event"], "attendee": body["attendee"]})

    [cancel] = cancellations(account)
    assert check_imip(cancel.raw, "CANCEL").walk("VEVENT")[0]["SEQUENCE"] == 1


def test_whole_event_cancellation_reaches_an_attendee_whose_invite_send_was_never_recorded(account):
    import time

    from lambdas.adapters.store import Store
    from lambdas.domain.contract import Person
    from lambdas.runtime.config import DEFAULT_CLAIM_LEASE_SECONDS

    account.invoke("invite", invite_body(attendee="a@example.org"))
    # A function claimed b, may have sent, and died before recording it (its lease has run out).
    stale = time.time() - DEFAULT_CLAIM_LEASE_SECONDS - 1
    assert Store(account.dynamodb, "calendar-invites").claim_invite(
        UID, Person("b@example.org"), 0, "t", stale, 60
    )

    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")

    assert sorted(s.recipient for s in cancellations(account)) == ["a@example.org", "b@example.org"]
