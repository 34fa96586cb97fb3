"""Record Reply against a mocked account: every rule of docs/replies.md, "Recording".

Each test invites through the real send function, stores a raw email in a bucket as SES receiving
does, and delivers the SNS-wrapped receipt notification to the real handler.
"""

from __future__ import annotations

import json
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest

from lambdas.domain.items import Proposal
from lambdas.domain.replies import MAX_REFRESHES
from lambdas.record_reply.handler import lambda_handler as reply_handler
from local.driver import Driver, driven
from local.lambda_logs import json_lines
from local.samples import invite_body, plain_mail, record, reply_mail
from local.server import AttachedMoto
from local.transport import LocalAws, RandomFaults, RemoteAws
from tests.support.inbox import BUCKET, Inbox
from tests.support.oracles import check_imip
from tests.unit.inbound.expectations import EXPECTED
from tests.unit.inbound.expectations import UID as FIXTURE_UID
from tests.unit.inbound.ses import FIXTURES, sns_envelope

UID = "evt-42@example.com"
BOB, CAROL = "bob@example.org", "carol@example.org"


# ------------------------------------------------------------------------------------ helpers


@pytest.fixture
def inbox(account) -> Inbox:
    return Inbox(account)


def invite(account: Driver, attendees=(BOB, CAROL), uid: str = UID, sequence: int = 0, **event) -> None:
    account.invoke("invite", invite_body(uid=uid, attendee=list(attendees), sequence=sequence, **event))
    account.drain("invite")


def counts(account: Driver, uid: str = UID) -> dict[str, int]:
    event = account.event_item(uid)
    names = [
        f"{kind}_{answer}"
        for kind in ("replies", "shared")
        for answer in ("accepted", "declined", "tentative")
    ]
    return {name: getattr(event, name) for name in names if getattr(event, name)}


def outcomes(caplog) -> list[dict]:
    return [line for line in json_lines(caplog.records, reply_handler.logger.name) if "outcome" in line]


def last_outcome(caplog) -> dict:
    return outcomes(caplog)[-1]


# -------------------------------------------------------------------------- what a reply changes


def test_an_accepted_reply_is_recorded_on_the_attendee_and_counted(account, inbox, caplog):
    invite(account)
    response = inbox.deliver(reply_mail(BOB, "ACCEPTED", comment="Looking forward"), message_id="in-1")

    assert response == {"batchItemFailures": []}
    item = account.attendee_item(UID, BOB)
    assert item.partstat == "ACCEPTED"
    assert item.reply_sequence == 0
    assert item.reply_dtstamp == "2026-11-24T12:00:00+00:00"
    assert item.reply_prodid == "-//Test Client//EN"
    assert item.reply_comment == "Looking forward"
    assert item.reply_message_id == "in-1"
    assert item.replied_at
    assert item.status == "invited" and item.origin is None
    assert [h.method for h in item.history] == ["REQUEST", "REPLY"]
    assert item.history[-1].partstat == "ACCEPTED"
    assert counts(account) == {"replies_accepted": 1}
    assert account.event_item(UID).replies_sequence == 0
    assert account.attendee_item(UID, CAROL).partstat == "NEEDS-ACTION"
    line = last_outcome(caplog)
    assert (line["outcome"], line["uid"], line["attendee"], line["partstat"]) == (
        "recorded",
        UID,
        BOB,
        "ACCEPTED",
    )
    assert (line["bucket"], line["key"], line["sesMessageId"]) == (BUCKET, "inbound/in-1", "in-1")


def test_each_answer_is_counted_and_a_change_of_mind_moves_the_count(account, inbox):
    invite(account, attendees=(BOB, CAROL, "dan@example.org"))
    inbox.deliver(reply_mail(BOB, "ACCEPTED", dtstamp="20261124T120000Z"))
    inbox.deliver(reply_mail(CAROL, "TENTATIVE"))
    inbox.deliver(reply_mail("dan@example.org", "DECLINED"))
    assert counts(account) == {"replies_accepted": 1, "replies_tentative": 1, "replies_declined": 1}

    inbox.deliver(reply_mail(BOB, "DECLINED", dtstamp="20261125T090000Z"))
    inbox.deliver(reply_mail(CAROL, "ACCEPTED", dtstamp="20261125T100000Z"))

    assert counts(account) == {"replies_accepted": 1, "replies_declined": 2}
    assert account.attendee_item(UID, BOB).partstat == "DECLINED"
    assert [h.partstat for h in account.attendee_item(UID, BOB).history] == [
        None,
        "ACCEPTED",
        "DECLINED",
    ]


def test_a_delegation_is_recorded_and_leaves_the_answer_counts(account, inbox):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED", dtstamp="20261124T120000Z"))
    inbox.deliver(reply_mail(BOB, "DELEGATED", dtstamp="20261124T130000Z"))

    assert account.attendee_item(UID, BOB).partstat == "DELEGATED"
    assert counts(account) == {}


def test_the_later_dtstamp_wins_whatever_the_arrival_order(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail(BOB, "DECLINED", dtstamp="20261125T090000Z"))  # the later answer first
    inbox.deliver(reply_mail(BOB, "ACCEPTED", dtstamp="20261124T120000Z"))

    assert last_outcome(caplog)["outcome"] == "stale"
    assert "later answer" in last_outcome(caplog)["reason"]
    assert account.attendee_item(UID, BOB).partstat == "DECLINED"
    assert counts(account) == {"replies_declined": 1}


def test_a_reply_to_an_older_sequence_is_stale_after_an_update(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED", sequence=0))
    invite(account, sequence=1, start="2026-12-02T15:00:00Z", end="2026-12-02T16:00:00Z")
    assert account.attendee_item(UID, BOB).partstat == "NEEDS-ACTION"  # the update asks again

    inbox.deliver(reply_mail(BOB, "DECLINED", sequence=0, dtstamp="20261126T120000Z"))

    line = last_outcome(caplog)
    assert line["outcome"] == "stale"
    assert "SEQUENCE 0" in line["reason"]
    assert account.attendee_item(UID, BOB).partstat == "NEEDS-ACTION"


def test_the_counts_answer_the_current_version_and_restart_with_an_update(account, inbox):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED"))
    inbox.deliver(reply_mail(CAROL, "ACCEPTED"))
    assert counts(account) == {"replies_accepted": 2}

    invite(account, sequence=1, start="2026-12-02T15:00:00Z", end="2026-12-02T16:00:00Z")
    inbox.deliver(reply_mail(BOB, "DECLINED", sequence=1, dtstamp="20261126T120000Z"))

    # Carol's yes answered the old time; only answers to sequence 1 are counted now.
    assert account.event_item(UID).replies_sequence == 1
    assert counts(account) == {"replies_declined": 1}
    inbox.deliver(reply_mail(CAROL, "ACCEPTED", sequence=1, dtstamp="20261126T130000Z"))
    inbox.deliver(reply_mail(CAROL, "TENTATIVE", sequence=1, dtstamp="20261126T140000Z"))
    assert counts(account) == {"replies_declined": 1, "replies_tentative": 1}


def test_a_sequence_above_the_one_sent_answers_the_one_sent(account, inbox):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED", sequence=7))

    assert account.attendee_item(UID, BOB).reply_sequence == 0
    assert account.event_item(UID).replies_sequence == 0
    assert counts(account) == {"replies_accepted": 1}


def test_the_same_reply_delivered_again_changes_nothing(account, inbox, caplog):
    invite(account)
    body = inbox.store(reply_mail(BOB, "ACCEPTED"))
    assert account.invoke("reply", body) == {"batchItemFailures": []}
    before = account.attendee_item(UID, BOB)

    assert account.invoke("reply", body) == {"batchItemFailures": []}
    assert account.invoke("reply", inbox.store(reply_mail(BOB, "ACCEPTED"))) == {"batchItemFailures": []}

    assert [line["outcome"] for line in outcomes(caplog)][-2:] == ["duplicate", "duplicate"]
    assert account.attendee_item(UID, BOB) == before
    assert counts(account) == {"replies_accepted": 1}


def test_copies_of_one_reply_in_one_batch_are_recorded_once(account, inbox):
    invite(account)
    body = inbox.store(reply_mail(BOB, "TENTATIVE"))
    response = account.invoke("reply", records=[record(body) for _ in range(5)])

    assert response == {"batchItemFailures": []}
    assert counts(account) == {"replies_tentative": 1}
    assert [h.method for h in account.attendee_item(UID, BOB).history] == ["REQUEST", "REPLY"]


def test_one_email_answering_two_events_records_both_and_logs_each(account, inbox, caplog):
    invite(account)
    invite(account, uid="evt-43@example.com")
    raw = reply_mail(BOB, "ACCEPTED")
    start, end = raw.index(b"BEGIN:VEVENT"), raw.index(b"END:VEVENT") + len(b"END:VEVENT")
    second = raw[start:end].replace(UID.encode(), b"evt-43@example.com").replace(b"ACCEPTED", b"DECLINED")
    inbox.deliver(raw[:end] + b"\n" + second + raw[end:])

    line = last_outcome(caplog)
    assert line["outcome"] == "recorded"
    assert [(a["uid"], a["outcome"], a["partstat"]) for a in line["answers"]] == [
        (UID, "recorded", "ACCEPTED"),
        ("evt-43@example.com", "recorded", "DECLINED"),
    ]
    assert counts(account) == {"replies_accepted": 1}
    assert counts(account, "evt-43@example.com") == {"replies_declined": 1}


# ------------------------------------------------------------------------------- not recorded


def test_a_forged_from_is_not_recorded(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail(BOB, "DECLINED", sender="mallory@example.net"))

    line = last_outcome(caplog)
    assert (line["outcome"], line["reason"], line["attendee"]) == ("untrusted", "from_mismatch", BOB)
    assert line["level"] == "WARNING"
    assert account.attendee_item(UID, BOB).partstat == "NEEDS-ACTION"
    assert counts(account) == {}


@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [({"dmarc": "FAIL"}, "dmarc_fail"), ({"spam": "FAIL"}, "spam"), ({"virus": "FAIL"}, "virus")],
)
def test_a_reply_ses_found_forged_or_infected_is_not_recorded(account, inbox, caplog, verdicts, reason):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED"), verdicts=verdicts)

    assert (last_outcome(caplog)["outcome"], last_outcome(caplog)["reason"]) == ("untrusted", reason)
    assert account.attendee_item(UID, BOB).reply_dtstamp == ""
    assert counts(account) == {}


def test_a_reply_for_an_unknown_uid_is_logged_and_dropped(account, inbox, caplog):
    invite(account)
    response = inbox.deliver(reply_mail(BOB, "ACCEPTED", uid="someone-elses@example.net"))

    assert response == {"batchItemFailures": []}
    assert last_outcome(caplog)["outcome"] == "unknown_event"
    assert account.attendee_item("someone-elses@example.net", BOB) is None


def test_a_reply_for_a_cancelled_event_is_not_recorded(account, inbox, caplog):
    invite(account)
    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")

    response = inbox.deliver(reply_mail(BOB, "ACCEPTED"))

    assert response == {"batchItemFailures": []}
    assert last_outcome(caplog)["outcome"] == "cancelled_event"
    assert account.attendee_item(UID, BOB).reply_dtstamp == ""
    assert counts(account) == {}


def test_a_reply_from_an_attendee_removed_from_the_event_is_stale(account, inbox, caplog):
    invite(account)
    account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": BOB}, "scope": "attendee"})
    inbox.deliver(reply_mail(BOB, "ACCEPTED", sequence=1))

    assert last_outcome(caplog)["outcome"] == "stale"
    assert counts(account) == {}


def test_an_answer_to_a_forwarded_invitation_is_recorded_apart(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail("erin@example.net", "ACCEPTED"))
    inbox.deliver(reply_mail(BOB, "ACCEPTED"))

    assert last_outcome(caplog)["outcome"] == "recorded"
    assert outcomes(caplog)[-2]["outcome"] == "shared"
    erin = account.attendee_item(UID, "erin@example.net")
    assert erin.origin == "shared"
    assert erin.partstat == "ACCEPTED"
    assert erin.status is None  # never treated as invited: a cancellation does not write to her
    assert counts(account) == {"replies_accepted": 1, "shared_accepted": 1}

    inbox.deliver(reply_mail("erin@example.net", "DECLINED", dtstamp="20261125T120000Z"))
    assert counts(account) == {"replies_accepted": 1, "shared_declined": 1}


def test_mail_without_a_calendar_is_kept_in_the_bucket_and_logged_with_where_it_is(account, inbox, caplog):
    invite(account)
    inbox.deliver(plain_mail(BOB, "Re: Quarterly planning", "Running 10 minutes late!"), message_id="m-late")
    inbox.deliver(
        plain_mail(BOB, "Out of office", "Back on Monday.", Auto_Submitted="auto-replied"),
        message_id="m-ooo",
    )

    late, away = outcomes(caplog)[-2:]
    assert late["outcome"] == "not_calendar"
    assert (late["bucket"], late["key"], late["from"], late["subject"]) == (
        BUCKET,
        "inbound/m-late",
        BOB,
        "Re: Quarterly planning",
    )
    assert "not forwarded" in late["reason"]
    assert away["outcome"] == "not_calendar" and away["automatic"]
    assert inbox.s3.get_object(Bucket=BUCKET, Key="inbound/m-late")["Body"].read()
    assert len(account.sent()) == 2  # the two invitations: nothing was forwarded or answered


def test_a_calendar_that_cannot_be_read_is_malformed(account, inbox, caplog):
    invite(account)
    unreadable = plain_mail(BOB, "Accepted", "see attached")
    unreadable = unreadable.replace(b"Content-Type: text/plain", b"Content-Type: text/calendar; method=REPLY")
    inbox.deliver(unreadable)
    out_of_range = reply_mail(BOB, "ACCEPTED", event_lines=("RECURRENCE-ID;TZID=Asia/Tokyo:00010101T000000",))
    inbox.deliver(out_of_range)
    no_answer = reply_mail(BOB, "NEEDS-ACTION")
    inbox.deliver(no_answer)

    unreadable_line, out_of_range_line, no_answer_line = outcomes(caplog)[-3:]
    assert unreadable_line["outcome"] == "malformed_calendar" and unreadable_line["reason"]
    assert out_of_range_line["outcome"] == "malformed_calendar"
    assert "out-of-range RECURRENCE-ID" in out_of_range_line["reason"]
    assert no_answer_line["outcome"] == "malformed_calendar"
    assert "NEEDS-ACTION" in no_answer_line["reason"]
    assert counts(account) == {}


def test_other_methods_are_not_answers(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED", method="PUBLISH"))

    assert last_outcome(caplog)["outcome"] == "unsupported"
    assert "PUBLISH" in last_outcome(caplog)["reason"]


# ------------------------------------------------------------------------------ COUNTER, REFRESH


def test_a_counter_proposal_is_kept_for_the_organizer_and_changes_nothing_else(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED"))
    proposal = reply_mail(
        BOB,
        None,
        method="COUNTER",
        dtstamp="20261125T080000Z",
        comment="Could we start an hour later?",
        event_lines=("DTSTART:20261201T160000Z", "DTEND:20261201T170000Z", "SUMMARY:Quarterly planning"),
    )
    body = inbox.store(proposal)
    account.invoke("reply", body)
    account.invoke("reply", body)  # redelivered

    assert [line["outcome"] for line in outcomes(caplog)][-2:] == ["counter_recorded", "duplicate"]
    item = account.attendee_item(UID, BOB)
    assert item.counter.proposed.start.startswith("2026-12-01T16:00:00")
    assert item.counter.comment == "Could we start an hour later?"
    assert item.counter.dtstamp == "2026-11-25T08:00:00+00:00"
    assert item.partstat == "ACCEPTED"
    assert [h.method for h in item.history] == ["REQUEST", "REPLY", "COUNTER"]
    assert counts(account) == {"replies_accepted": 1}
    assert account.event_item(UID).start == "2026-12-01T15:00:00+00:00"
    assert len(account.sent()) == 2


def test_a_refresh_sends_the_current_version_once(account, inbox, caplog):
    invite(account)
    invite(account, sequence=1, start="2026-12-02T15:00:00Z", end="2026-12-02T16:00:00Z")
    inbox.deliver(reply_mail(BOB, "TENTATIVE", sequence=1))
    sent_before = len(account.sent())
    body = inbox.store(reply_mail(BOB, None, method="REFRESH", sequence=0), message_id="refresh-1")

    assert account.invoke("reply", body) == {"batchItemFailures": []}
    assert account.invoke("reply", body) == {"batchItemFailures": []}  # redelivered: not sent again

    [resent] = account.sent()[sent_before:]
    assert resent.recipient == BOB
    vevent = check_imip(resent.raw, "REQUEST").walk("VEVENT")[0]
    assert vevent["SEQUENCE"] == 1
    assert str(vevent["UID"]) == UID
    assert vevent.decoded("DTSTART").isoformat() == "2026-12-02T15:00:00+00:00"
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"  # the answer the organizer has
    assert [line["outcome"] for line in outcomes(caplog)][-2:] == ["refreshed", "duplicate"]
    item = account.attendee_item(UID, BOB)
    assert item.refreshed == ("refresh-1",)
    assert item.history[-1].refresh_of == "refresh-1"
    assert item.refresh_pending is None
    assert item.sequence == 1 and item.partstat == "TENTATIVE"  # a refresh asks for no new answer
    assert counts(account) == {"replies_tentative": 1}


def test_a_refresh_being_answered_elsewhere_is_retried_and_taken_over_once_its_lease_ran_out(
    account, inbox, caplog
):
    import time

    invite(account)
    body = inbox.store(reply_mail(BOB, None, method="REFRESH"), message_id="refresh-2")

    def claimed_since(since: float) -> None:  # another delivery's claim on this very refresh
        account.dynamodb.update_item(
            TableName=account.table,
            Key={"pk": {"S": f"event#{UID}"}, "sk": {"S": f"attendee#{BOB}"}},
            UpdateExpression="SET refresh_pending = :claim",
            ExpressionAttributeValues={
                ":claim": {
                    "M": {
                        "message_id": {"S": "refresh-2"},
                        "token": {"S": "other"},
                        "since": {"N": str(since)},
                    }
                }
            },
        )

    claimed_since(time.time())
    assert len(account.invoke("reply", body)["batchItemFailures"]) == 1
    assert last_outcome(caplog)["outcome"] == "in_flight"
    claimed_since(time.time() - 3600)  # the other delivery died: its lease ran out
    assert account.invoke("reply", body) == {"batchItemFailures": []}
    assert last_outcome(caplog)["outcome"] == "refreshed"
    assert len(account.sent()) == 3


def test_refresh_requests_are_answered_a_bounded_number_of_times(account, inbox, caplog):
    invite(account)
    for _ in range(MAX_REFRESHES + 1):
        inbox.deliver(reply_mail(BOB, None, method="REFRESH"))

    assert [line["outcome"] for line in outcomes(caplog)][-2:] == ["refreshed", "skipped"]
    assert len(account.sent()) == 2 + MAX_REFRESHES


def test_a_refresh_from_someone_not_invited_sends_nothing(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail("erin@example.net", None, method="REFRESH"))

    assert last_outcome(caplog)["outcome"] == "skipped"
    assert len(account.sent()) == 2


def test_a_refresh_in_automatic_mail_is_never_answered(account, inbox, caplog):
    invite(account)
    raw = reply_mail(BOB, None, method="REFRESH")
    inbox.deliver(b"Auto-Submitted: auto-generated\n" + raw)

    assert (last_outcome(caplog)["outcome"], "automatic" in last_outcome(caplog)["reason"]) == (
        "skipped",
        True,
    )
    assert len(account.sent()) == 2


# ---------------------------------------------------------------------- the notification itself


def test_a_malformed_notification_goes_to_the_dlq_with_its_reason(account, inbox, caplog):
    bad = json.loads(inbox.store(reply_mail()))
    message = json.loads(bad["Message"])
    message["receipt"]["action"] = {"type": "Lambda"}
    bad["Message"] = json.dumps(message)
    response = account.invoke("reply", records=[record(json.dumps(bad), "n-1")])

    assert response == {"batchItemFailures": []}
    [dead] = account.dead_letters("reply")
    assert dead["MessageAttributes"]["source_message_id"]["StringValue"] == "n-1"
    fields = {e["field"] for e in json.loads(dead["MessageAttributes"]["errors"]["StringValue"])}
    assert {"receipt.action.type", "receipt.action.bucketName", "receipt.action.objectKey"} <= fields
    assert last_outcome(caplog)["outcome"] == "invalid"


def test_the_setup_notification_of_a_new_rule_is_ignored_not_dead_lettered(account, caplog):
    # SES publishes it once, when the stack creates the rule: the DLQ alarm must not fire for it.
    setup = {
        "notificationType": "AmazonSnsSubscriptionSucceeded",
        "message": "You have successfully subscribed your Amazon SNS topic"
        " to receive 'Received' notifications from Amazon SES.",
    }
    response = account.invoke("reply", records=[record(sns_envelope(setup), "n-setup")])

    assert response == {"batchItemFailures": []}
    assert account.dead_letters("reply") == []
    line = last_outcome(caplog)
    assert line["outcome"] == "ignored" and line["reason"].startswith("SES setup notification")


def test_a_stored_email_that_is_gone_goes_to_the_dlq_naming_it(account, inbox, caplog):
    body = inbox.store(reply_mail(), message_id="expired-1")
    inbox.s3.delete_object(Bucket=BUCKET, Key="inbound/expired-1")

    assert account.invoke("reply", body) == {"batchItemFailures": []}

    [dead] = account.dead_letters("reply")
    assert "inbound/expired-1" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert json.loads(dead["Body"])["Message"]  # the notification, with sender and subject, is kept
    assert last_outcome(caplog)["fields"] == ["receipt.action.objectKey"]


def test_a_bad_record_does_not_stop_the_batch(account, inbox):
    invite(account)
    good = inbox.store(reply_mail(BOB, "ACCEPTED"))
    response = account.invoke("reply", records=[record("not json", "bad"), record(good, "good")])

    assert response == {"batchItemFailures": []}
    assert counts(account) == {"replies_accepted": 1}
    assert len(account.dead_letters("reply")) == 1


# -------------------------------------------------------------------------------- the fixtures


# What each fixture leads to, read from the fixture by hand: (outcome, attendee whose item changes).
FIXTURE_OUTCOMES = {
    "apple-mail-accepted.eml": ("recorded", "carla@example.org"),
    "dsn-bounce.eml": ("not_calendar", None),
    "evolution-refresh.eml": ("refreshed", "kim@example.com"),
    # Reply-To: names Ben: relayed, so kept apart as unverified and never counted.
    "forged-reply.eml": ("unverified", "ben@example.org"),
    "gmail-accepted.eml": ("recorded", "ana@example.org"),
    "gmail-declined.eml": ("recorded", "fatima.zahra@example.com"),
    "gmail-human-answer.eml": ("not_calendar", None),
    "gmail-tentative.eml": ("recorded", "ana@example.org"),
    "iphone-declined.eml": ("recorded", "carla@example.org"),
    "malformed-calendar.eml": ("malformed_calendar", None),
    "notes-latin1-accepted.eml": ("recorded", "jose@example.org"),
    "outlook-counter.eml": ("counter_recorded", "ben@example.org"),
    "outlook-declined.eml": ("recorded", "ben@example.org"),
    "outlook-out-of-office.eml": ("not_calendar", None),
    "outlook-tentative.eml": ("recorded", "erin@example.org"),
    "thunderbird-accepted.eml": ("recorded", "dan@example.net"),
    "thunderbird-delegated.eml": ("recorded", "dan@example.net"),
}
FIXTURE_GUESTS = (
    "ana@example.org",
    "ben@example.org",
    "carla@example.org",
    "dan@example.net",
    "erin@example.org",
    "fatima.zahra@example.com",
    "jose@example.org",
    "kim@example.com",
)
COUNTER_OF = {
    "ACCEPTED": "replies_accepted",
    "DECLINED": "replies_declined",
    "TENTATIVE": "replies_tentative",
}


def deliver_fixture(inbox: Inbox, name: str) -> dict:
    sender = EXPECTED[name]["from_address"] or "unknown@example.org"
    return inbox.deliver((FIXTURES / name).read_bytes(), sender=sender)


def invite_fixture_guests(account: Driver, update_for: str | None = None) -> None:
    invite(account, attendees=FIXTURE_GUESTS, uid=FIXTURE_UID)
    if update_for:  # Thunderbird's answers are to the update (SEQUENCE:1) this guest was sent
        invite(account, attendees=(update_for,), uid=FIXTURE_UID, sequence=1)


@pytest.mark.parametrize("name", sorted(FIXTURE_OUTCOMES))
def test_every_fixture_ends_in_its_outcome_with_the_right_answer(account, inbox, caplog, name):
    outcome, changed = FIXTURE_OUTCOMES[name]
    answers = EXPECTED[name]["answers"]
    updated = next((a["attendee"] for a in answers if a["sequence"] > 0), None)
    invite_fixture_guests(account, update_for=updated)
    sent_before = len(account.sent())
    before = {guest: account.attendee_item(FIXTURE_UID, guest) for guest in FIXTURE_GUESTS}

    assert deliver_fixture(inbox, name) == {"batchItemFailures": []}

    assert last_outcome(caplog)["outcome"] == outcome
    after = {guest: account.attendee_item(FIXTURE_UID, guest) for guest in FIXTURE_GUESTS}
    assert [g for g in FIXTURE_GUESTS if after[g] != before[g]] == ([changed] if changed else [])
    if outcome == "recorded":
        [expected] = answers
        item = after[changed]
        assert item.partstat == expected["partstat"]
        assert item.reply_prodid == expected["prodid"]
        assert item.reply_comment == expected["comment"]
        assert item.reply_dtstamp == expected["dtstamp"].isoformat()
        assert item.history[-1].delegated_to == tuple(expected["delegated_to"])
        counted = COUNTER_OF.get(expected["partstat"])
        assert counts(account, FIXTURE_UID) == ({counted: 1} if counted else {})
    else:
        assert counts(account, FIXTURE_UID) == {}
    if outcome == "counter_recorded":
        assert after[changed].counter.proposed == Proposal(**answers[0]["proposed"])
        assert after[changed].partstat == "NEEDS-ACTION"
    if outcome == "refreshed":
        [resent] = account.sent()[sent_before:]
        assert resent.recipient == changed
        check_imip(resent.raw, "REQUEST")
    else:
        assert len(account.sent()) == sent_before


def test_every_fixture_file_has_an_outcome():
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(FIXTURE_OUTCOMES)


def test_real_clients_changes_of_mind_in_any_arrival_order(account, inbox):
    invite_fixture_guests(account)
    deliver_fixture(inbox, "gmail-accepted.eml")
    deliver_fixture(inbox, "gmail-tentative.eml")  # Ana, later: maybe
    deliver_fixture(inbox, "iphone-declined.eml")  # Carla's later answer arrives first
    deliver_fixture(inbox, "apple-mail-accepted.eml")
    deliver_fixture(inbox, "outlook-declined.eml")
    deliver_fixture(inbox, "forged-reply.eml")

    assert account.attendee_item(FIXTURE_UID, "ana@example.org").partstat == "TENTATIVE"
    assert account.attendee_item(FIXTURE_UID, "carla@example.org").partstat == "DECLINED"
    assert counts(account, FIXTURE_UID) == {"replies_tentative": 1, "replies_declined": 2}


# ---------------------------------------------------------------- over HTTP: concurrency, memory


@pytest.fixture(scope="module")
def local_aws():
    with LocalAws() as server:
        yield server


@pytest.fixture
def served(local_aws, samples_assembly, tmp_path):
    """The app deployed on moto over loopback HTTP: concurrent requests really interleave."""
    local_aws.reset()
    local_aws.latency = 0.005  # each request waits outside the emulator's lock, as on a network
    with driven(samples_assembly, tmp_path / "served", local_aws.attach()) as account:
        yield account, Inbox(account)
    local_aws.latency = 0.0
    local_aws.faults = None


def test_twelve_concurrent_copies_of_one_reply_keep_the_counts_exact(served):
    account, inbox = served
    invite(account)
    accept = inbox.store(reply_mail(BOB, "ACCEPTED"))
    decline = inbox.store(reply_mail(CAROL, "DECLINED"))
    bodies = [accept] * 12 + [decline] * 12

    with account.environment_of("reply"), ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(lambda body: reply_handler({"Records": [record(body)]}, None), bodies))

    assert all(r == {"batchItemFailures": []} for r in responses)
    assert counts(account) == {"replies_accepted": 1, "replies_declined": 1}
    for attendee in (BOB, CAROL):
        assert [h.method for h in account.attendee_item(UID, attendee).history] == ["REQUEST", "REPLY"]


def test_twelve_concurrent_changes_of_mind_count_only_the_latest(served):
    account, inbox = served
    invite(account)
    answers = ["ACCEPTED", "DECLINED", "TENTATIVE"] * 4
    bodies = [
        inbox.store(reply_mail(BOB, partstat, dtstamp=f"20261124T12{minute:02d}00Z"))
        for minute, partstat in enumerate(answers)
    ]

    with account.environment_of("reply"), ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda body: reply_handler({"Records": [record(body)]}, None), bodies))

    failed = [body for body, r in zip(bodies, responses, strict=True) if r["batchItemFailures"]]
    with account.environment_of("reply"):  # what SQS redelivers
        for body in failed:
            assert reply_handler({"Records": [record(body)]}, None) == {"batchItemFailures": []}
    assert account.attendee_item(UID, BOB).partstat == answers[-1]
    assert counts(account) == {"replies_tentative": 1}


@pytest.mark.scale
def test_counts_stay_exact_when_dynamodb_fails_and_sqs_redelivers(served, local_aws):
    account, inbox = served
    guests = [f"guest{i}@example.org" for i in range(6)]
    invite(account, attendees=guests)
    answers = ["ACCEPTED", "DECLINED", "TENTATIVE"]
    bodies = [
        inbox.store(reply_mail(guest, answers[(i + round_) % 3], dtstamp=f"20261124T1{round_}0000Z"))
        for round_ in range(3)
        for i, guest in enumerate(guests)
    ]
    # Every attempt of a failing call fails: the error reaches the function, the record is retried.
    local_aws.faults = RandomFaults(rate=0.3, seed=9, per_call=True, services=frozenset({"dynamodb"}))
    try:
        with account.environment_of("reply"):
            pending = list(bodies) * 2  # and every one delivered twice
            redelivered = 0
            for _ in range(40):
                if not pending:
                    break
                with ThreadPoolExecutor(max_workers=6) as pool:
                    results = list(pool.map(lambda b: reply_handler({"Records": [record(b)]}, None), pending))
                pending = [b for b, r in zip(pending, results, strict=True) if r["batchItemFailures"]]
                redelivered += len(pending)
    finally:
        faults, local_aws.faults = local_aws.faults, None
    assert not pending
    assert redelivered and sum(faults.injected.values())  # the faults did reach the function
    final = {guest: answers[(i + 2) % 3] for i, guest in enumerate(guests)}
    assert {g: account.attendee_item(UID, g).partstat for g in guests} == final
    assert counts(account) == {"replies_accepted": 2, "replies_declined": 2, "replies_tentative": 2}


def test_a_ten_megabyte_email_is_read_in_bounded_memory(samples_assembly, tmp_path):
    attachments = tuple(uuid.uuid4().bytes * (1024 * 1024 // 16) for _ in range(8))  # 8 MiB, 11 MB in base64
    raw = reply_mail(BOB, "ACCEPTED", attachments=attachments)
    assert len(raw) > 10_000_000
    # moto in a child process: its copy of the object is not measured
    with (
        RemoteAws() as server,
        driven(samples_assembly, tmp_path, AttachedMoto(server.endpoint_url)) as account,
    ):
        inbox = Inbox(account)
        invite(account)
        body = inbox.store(raw)
        del raw, attachments
        with account.environment_of("reply"):
            reply_handler({"Records": [record(inbox.store(reply_mail(CAROL, "DECLINED")))]}, None)
            tracemalloc.start()
            try:
                response = reply_handler({"Records": [record(body)]}, None)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert response == {"batchItemFailures": []}
        assert account.attendee_item(UID, BOB).partstat == "ACCEPTED"
    # ~0.25 MB measured: the attachments stream past, only the calendar part is kept.
    assert peak < 1024 * 1024, f"peak {peak / 1e6:.1f} MB while reading a 10 MB email"


def test_a_refresh_whose_send_fails_is_retried_and_sent_once(account, inbox, caplog):
    from botocore.exceptions import ClientError

    from lambdas.adapters.mailer import Mailer

    invite(account)
    body = inbox.store(reply_mail(BOB, None, method="REFRESH"))
    unavailable = ClientError({"Error": {"Code": "InternalFailure", "Message": "oops"}}, "SendEmail")
    with mock.patch.object(Mailer, "send", side_effect=unavailable):
        assert len(account.invoke("reply", body)["batchItemFailures"]) == 1
    assert account.attendee_item(UID, BOB).refresh_pending is None  # given back at once

    assert account.invoke("reply", body) == {"batchItemFailures": []}
    assert account.invoke("reply", body) == {"batchItemFailures": []}
    assert [line["outcome"] for line in outcomes(caplog)][-3:] == ["failed", "refreshed", "duplicate"]
    assert len(account.sent()) == 3


def test_a_refresh_ses_throttles_is_put_back_on_the_reply_queue_and_sent_once_later(account, inbox, caplog):
    from botocore.exceptions import ClientError

    from lambdas.adapters.mailer import Mailer, ses_throttling

    invite(account)
    body = inbox.store(reply_mail(BOB, None, method="REFRESH"), message_id="refresh-9")
    refused = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Maximum sending rate exceeded."}}, "SendEmail"
    )
    with mock.patch.object(Mailer, "send", side_effect=ses_throttling(refused)):
        assert account.invoke("reply", body) == {"batchItemFailures": []}  # handled: put back

    assert account.attendee_item(UID, BOB).refresh_pending is None  # the claim given back
    queue, _ = account.queues["reply"]
    attributes = account.sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # the same notification, later
    assert [line["outcome"] for line in outcomes(caplog)][-1] == "throttled"
    sent_before = len(account.sent())

    assert account.invoke("reply", body) == {"batchItemFailures": []}  # the copy, once its delay passed
    assert account.invoke("reply", body) == {"batchItemFailures": []}
    assert [line["outcome"] for line in outcomes(caplog)][-2:] == ["refreshed", "duplicate"]
    assert len(account.sent()) == sent_before + 1
