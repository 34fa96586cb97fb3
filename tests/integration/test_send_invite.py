"""Send Event Invite against a mocked account: every processing rule of the contract."""

from __future__ import annotations

import json
import threading
import time
from unittest import mock

from botocore.exceptions import ClientError

from lambdas.adapters.mailer import Mailer
from lambdas.adapters.store import Store
from lambdas.domain.contract import Person
from lambdas.domain.vocabulary import AttendeeStatus, EventStatus, Method
from lambdas.runtime.config import DEFAULT_CLAIM_LEASE_SECONDS, DEFAULT_SUBJECT_PREFIX
from lambdas.send_invite.handler import lambda_handler as invite_handler
from local.lambda_logs import json_lines
from local.samples import RSVP, SENDER, invite_body, record
from local.shapes import sns_envelope
from tests.support.oracles import check_imip

UID = "evt-42@example.com"


def json_log_lines(caplog) -> list[dict]:
    """The function's log records as the JSON lines Lambda's JSON log format writes to CloudWatch."""
    return json_lines(caplog.records, invite_handler.logger.name)


def test_an_invite_is_sent_recorded_and_parses_cleanly(account):
    response = account.invoke("invite", invite_body())

    assert response == {"batchItemFailures": []}
    [sent] = account.sent()
    assert sent.recipient == "bob@example.org"
    message = sent.message
    assert message["Subject"] == f"{DEFAULT_SUBJECT_PREFIX} Event Invite: Quarterly planning"
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["From"].addresses[0].display_name == "Alice Example"
    assert message["Reply-To"].addresses[0].addr_spec == RSVP
    assert message["To"].addresses[0].addr_spec == "bob@example.org"

    vevent = check_imip(sent.raw, "REQUEST").walk("VEVENT")[0]
    assert str(vevent["UID"]) == UID
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["ORGANIZER"]) == f"mailto:{RSVP}"
    assert vevent["ORGANIZER"].params["CN"] == "Alice Example"
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == "mailto:bob@example.org"
    assert dict(attendee.params) == {
        "CN": "Bob",
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }

    item = account.attendee_item(UID, "bob@example.org")
    assert item.status is AttendeeStatus.INVITED
    assert item.partstat == "NEEDS-ACTION"
    assert item.sequence == 0
    assert item.message_id
    assert item.pending is None
    assert [h.method for h in item.history] == [Method.REQUEST]
    event = account.event_item(UID)
    assert event.status is EventStatus.CONFIRMED
    assert event.summary == "Quarterly planning"
    assert event.organizer == Person("alice@example.com", "Alice Example")
    assert (event.invites_sent, event.updates_sent) == (1, 0)


def test_local_time_with_timezone_carries_tzid_and_its_vtimezone(account):
    body = invite_body(start="2026-12-01T10:00:00", end="2026-12-01T11:00:00", timezone="America/New_York")
    account.invoke("invite", body)

    calendar = check_imip(account.sent()[0].raw, "REQUEST")
    vevent = calendar.walk("VEVENT")[0]
    assert vevent["DTSTART"].params["TZID"] == "America/New_York"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]


def test_all_day_event_uses_date_values(account):
    account.invoke("invite", invite_body(start="2026-12-24", end="2026-12-25"))

    vevent = check_imip(account.sent()[0].raw, "REQUEST").walk("VEVENT")[0]
    assert vevent["DTSTART"].params.get("VALUE") == "DATE"
    assert vevent.decoded("DTSTART").isoformat() == "2026-12-24"


def test_subject_prefix_comes_from_the_environment(account):
    account.overrides["SUBJECT_PREFIX"] = "Acme"
    account.invoke("invite", invite_body())
    assert account.sent()[0].message["Subject"] == "Acme Event Invite: Quarterly planning"


def test_a_duplicate_delivery_sends_nothing_more(account):
    account.invoke("invite", invite_body())
    response = account.invoke("invite", invite_body())

    assert response == {"batchItemFailures": []}
    assert len(account.sent()) == 1
    assert account.event_item(UID).invites_sent == 1


def test_a_duplicate_inside_one_batch_sends_one_email_and_retries_the_copy_later(account):
    response = account.invoke("invite", invite_body(), invite_body())

    assert len(account.sent()) == 1
    # The copy met a live claim: it is reported, and its redelivery finds the record.
    assert len(response["batchItemFailures"]) == 1
    assert account.invoke("invite", invite_body()) == {"batchItemFailures": []}
    assert len(account.sent()) == 1


def test_concurrent_deliveries_of_the_same_request_send_one_email(account):
    barrier = threading.Barrier(8)
    responses = []

    def deliver():
        barrier.wait()
        responses.append(account.invoke("invite", invite_body()))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    with account.environment_of("invite"):  # once, before the threads start
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(account.sent()) == 1
    assert account.event_item(UID).invites_sent == 1
    assert sum(len(r["batchItemFailures"]) for r in responses) <= 7


def test_a_higher_sequence_is_an_update_and_is_sent(account):
    account.invoke("invite", invite_body())
    account.invoke(
        "invite", invite_body(sequence=1, start="2026-12-02T15:00:00Z", end="2026-12-02T16:00:00Z")
    )

    _, update = account.sent()
    assert update.message["Subject"] == f"{DEFAULT_SUBJECT_PREFIX} Event Updated: Quarterly planning"
    vevent = check_imip(update.raw, "REQUEST").walk("VEVENT")[0]
    assert vevent["SEQUENCE"] == 1
    assert str(vevent["UID"]) == UID
    item = account.attendee_item(UID, "bob@example.org")
    assert item.sequence == 1
    assert [h.sequence for h in item.history] == [0, 1]
    event = account.event_item(UID)
    assert (event.invites_sent, event.updates_sent, event.sequence) == (1, 1, 1)
    assert event.start.startswith("2026-12-02T15:00:00")


def test_a_lower_sequence_is_stale_and_skipped(account):
    account.invoke("invite", invite_body(sequence=2))
    response = account.invoke("invite", invite_body(sequence=1))

    assert response == {"batchItemFailures": []}
    assert len(account.sent()) == 1
    assert account.attendee_item(UID, "bob@example.org").sequence == 2


def test_attendee_addresses_are_one_attendee_whatever_their_case(account):
    account.invoke("invite", invite_body(attendee="Bob@Example.org"))
    account.invoke("invite", invite_body(attendee="bob@example.org"))
    assert len(account.sent()) == 1


def test_fan_out_enqueues_one_request_per_attendee_and_sends_nothing_itself(account):
    response = account.invoke(
        "invite", invite_body(attendee=["a@example.org", "b@example.org", "c@example.org"])
    )

    assert response == {"batchItemFailures": []}
    assert account.sent() == []
    account.drain("invite")
    assert sorted(s.recipient for s in account.sent()) == ["a@example.org", "b@example.org", "c@example.org"]
    assert account.event_item(UID).invites_sent == 3


def test_one_ses_failure_in_ten_is_retried_alone(account):
    bodies = [invite_body(attendee=f"guest{i}@example.org") for i in range(10)]
    records = [record(body, message_id=f"m{i}") for i, body in enumerate(bodies)]
    real_send = Mailer.send

    def flaky_send(self, recipient, raw):
        if recipient == "guest3@example.org":
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}}, "SendEmail"
            )
        return real_send(self, recipient, raw)

    with mock.patch.object(Mailer, "send", flaky_send):
        response = account.invoke("invite", records=records)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    assert len(account.sent()) == 9
    item = account.attendee_item(UID, "guest3@example.org")
    assert item is None or item.pending is None  # claim given back

    assert account.invoke("invite", records=[records[3]]) == {"batchItemFailures": []}
    assert sorted(s.recipient for s in account.sent())[3] == "guest3@example.org"
    assert len(account.sent()) == 10
    assert account.event_item(UID).invites_sent == 10


def test_invalid_request_goes_to_the_dlq_with_its_reason_and_the_batch_goes_on(account, caplog):
    bad = invite_body(end="2026-12-01T14:00:00Z")
    response = account.invoke("invite", records=[record(bad, "bad-1"), record(invite_body(), "good-1")])

    assert response == {"batchItemFailures": []}
    assert len(account.sent()) == 1
    [dead] = account.dead_letters("invite")
    assert json.loads(dead["Body"]) == bad
    assert "event.end: must be after start" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert dead["MessageAttributes"]["source_message_id"]["StringValue"] == "bad-1"


def test_invalid_request_is_logged_as_structured_json_naming_the_field(account, caplog):
    account.invoke("invite", records=[record(invite_body(timezone="Mars/Olympus_Mons"), "bad-tz")])

    lines = json_log_lines(caplog)
    [line] = [entry for entry in lines if entry.get("outcome") == "invalid"]
    assert line["messageId"] == "bad-tz"
    assert line["uid"] == UID
    assert line["attendee"] == "bob@example.org"
    assert line["fields"] == ["event.timezone"]


def test_every_outcome_is_one_structured_log_line(account, caplog):
    account.invoke("invite", records=[record(invite_body(), "first")])
    account.invoke("invite", records=[record(invite_body(), "again")])
    account.invoke("invite", records=[record(invite_body(sequence=0), "older-or-same")])

    lines = json_log_lines(caplog)
    outcomes = [(entry["messageId"], entry["outcome"]) for entry in lines if "outcome" in entry]
    assert outcomes == [("first", "sent"), ("again", "duplicate"), ("older-or-same", "duplicate")]
    assert all(
        entry["uid"] == UID and entry["attendee"] == "bob@example.org"
        for entry in lines
        if "outcome" in entry
    )


def test_sns_envelope_is_unwrapped(account):
    assert account.invoke("invite", sns_envelope(invite_body())) == {"batchItemFailures": []}
    assert len(account.sent()) == 1


def test_ses_rejection_is_dead_lettered_with_the_ses_reason(account):
    def rejected(self, recipient, raw):
        raise ClientError(
            {"Error": {"Code": "MessageRejected", "Message": "Email address is not verified."}}, "x"
        )

    with mock.patch.object(Mailer, "send", rejected):
        response = account.invoke("invite", invite_body())

    assert response == {"batchItemFailures": []}
    [dead] = account.dead_letters("invite")
    assert "Email address is not verified" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert (item := account.attendee_item(UID, "bob@example.org")) is None or item.pending is None


def test_a_claim_left_by_a_crashed_delivery_is_taken_over_after_its_lease(account):
    store = Store(account.dynamodb, account.table)
    lease = DEFAULT_CLAIM_LEASE_SECONDS
    assert store.claim_invite(UID, Person("bob@example.org"), 0, "live-run", time.time(), lease).claimed

    # Within the lease another delivery must not send: it is reported and retried later.
    response = account.invoke("invite", records=[record(invite_body(), "m1")])
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert account.sent() == []

    # A claim whose lease ran out belongs to a run that died: the redelivery takes over and sends.
    assert store.claim_invite(
        UID, Person("carol@example.org"), 0, "dead-run", time.time() - lease - 1, lease
    ).claimed
    response = account.invoke("invite", records=[record(invite_body(attendee="carol@example.org"), "m2")])
    assert response == {"batchItemFailures": []}
    assert [s.recipient for s in account.sent()] == ["carol@example.org"]
    assert account.attendee_item(UID, "carol@example.org").status is AttendeeStatus.INVITED


def test_an_address_ses_refuses_as_suppressed_ends_suppressed_not_in_the_dlq(account, caplog):
    def refused(self, recipient, raw):
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "Address blacklisted."}}, "x")

    with mock.patch.object(Mailer, "send", refused):
        response = account.invoke("invite", records=[record(invite_body(), "m1")])

    assert response == {"batchItemFailures": []}  # not retried
    assert account.dead_letters("invite") == []
    assert account.sent() == []
    [line] = [entry for entry in json_log_lines(caplog) if entry.get("outcome")]
    assert (line["outcome"], line["reason"]) == ("suppressed", "SES: Address blacklisted.")
    item = account.attendee_item(UID, "bob@example.org")
    assert item is None or item.pending is None  # the claim is given back
