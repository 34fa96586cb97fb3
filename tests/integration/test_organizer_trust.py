"""Who may run an event from their calendar (docs/organizer.md, "Trust"): each refusal has its own
outcome and reason, stores nothing and sends nothing; a notification the event address's receipt
rule did not send goes to the DLQ, its mail unread."""

from __future__ import annotations

import json

import pytest

from lambdas.domain.organizer.identity import attendee_uid
from local.samples import EVENTS, invite_body, record
from tests.integration.organizer_mail import (
    OUTLOOK_CREATE,
    THUNDERBIRD_SINGLE,
    EventAddress,
    dead_letter_fields,
    fixture,
    outcomes,
)
from tests.unit.organizer.fixtures import message

SENDER = "sender@example.com"  # the organizer of Thunderbird's single-event.eml (example.com is allowed)


@pytest.fixture
def events(account) -> EventAddress:
    return EventAddress(account)


def events_in(account) -> list[dict]:
    return [
        i
        for i in account.dynamodb.scan(TableName=account.table)["Items"]
        if i["sk"]["S"].startswith("event#")
    ]


def single_event(**replaced: str) -> bytes:
    raw = fixture(THUNDERBIRD_SINGLE)
    for old, new in replaced.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw


def assert_nothing_happened(account) -> None:
    assert events_in(account) == []
    assert account.sent() == []


@pytest.mark.parametrize(
    ("raw", "outcome", "reason"),
    [
        # the organizer's domain is not on the allow-list (its From: and ORGANIZER agree)
        (
            single_event(**{"sender@example.com": "sender@elsewhere.net"}),
            "organizer_not_allowed",
            "not_on_allow_list: sender@elsewhere.net",
        ),
        # an allowed sender mailing someone else's event
        (
            single_event(**{"From: Sender <sender@example.com>": "From: Other <other@example.com>"}),
            "another_organizer",
            "from_mismatch: ORGANIZER sender@example.com is not the sender other@example.com",
        ),
        # relayed: From: a relay, the ORGANIZER only in Reply-To:
        (
            single_event(
                **{
                    "From: Sender <sender@example.com>": (
                        "From: Relay <relay@example.com>\r\nReply-To: sender@example.com"
                    )
                }
            ),
            "untrusted",
            "relayed: From: relay@example.com is not the ORGANIZER sender@example.com",
        ),
    ],
    ids=["not allowed", "another organizer", "relayed"],
)
def test_a_sender_that_may_not_act_changes_nothing_and_gets_nothing(
    account, events, caplog, raw, outcome, reason
):
    assert events.mail(raw) == {"batchItemFailures": []}

    line = outcomes(caplog)[-1]
    assert (line["outcome"], line["reason"]) == (outcome, reason)
    assert_nothing_happened(account)


@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [({"virus": "FAIL"}, "virus"), ({"spam": "FAIL"}, "spam"), ({"dmarc": "FAIL"}, "dmarc_fail")],
)
def test_mail_the_verdicts_condemn_is_refused_unread(account, events, caplog, reads, verdicts, reason):
    assert events.mail(fixture(THUNDERBIRD_SINGLE), verdicts=verdicts) == {"batchItemFailures": []}

    line = outcomes(caplog)[-1]
    assert (line["outcome"], line["reason"], line["from"]) == ("untrusted", reason, SENDER)
    assert line["key"].startswith("organizer/")
    assert reads == []
    assert_nothing_happened(account)


def test_an_event_owned_by_another_organizer_is_not_changed(account, events, caplog):
    # An event the queue created under the very UID this organizer's calendar maps to.
    uid = attendee_uid(SENDER, message(THUNDERBIRD_SINGLE).uid, EVENTS.rpartition("@")[2])
    account.invoke("invite", invite_body(uid=uid, attendee="bob@example.org"))
    before, stored = len(account.sent()), account.event_item(uid)

    assert events.mail(fixture(THUNDERBIRD_SINGLE)) == {"batchItemFailures": []}

    line = outcomes(caplog)[-1]
    assert line["outcome"] == "owned_by_another_organizer"
    assert line["reason"] == f"event {uid!r} is organized by alice@example.com, not {SENDER}"
    assert account.event_item(uid) == stored
    assert account.sent()[before:] == []


@pytest.mark.parametrize(
    ("forge", "field"),
    [
        (
            lambda body: json.dumps({**json.loads(body), "TopicArn": "arn:aws:sns:us-east-1:123456789012:x"}),
            "TopicArn",
        ),
        (lambda body: body.replace("organizer/", "inbound/"), "receipt.action.objectKey"),
        (lambda body: body.replace(EVENTS, "rsvp@example.com"), "receipt.recipients"),
    ],
    ids=["another topic", "another prefix", "another recipient"],
)
def test_a_forged_notification_goes_to_the_dlq_unread(account, events, caplog, reads, forge, field):
    (delivered,) = events.receive(fixture(OUTLOOK_CREATE))
    forged = record(forge(delivered["body"]), "n-forged")

    assert events.invoke(forged) == {"batchItemFailures": []}

    (dead,) = events.dead_letters()
    assert field in dead_letter_fields(dead)
    assert outcomes(caplog)[-1]["outcome"] == "invalid"
    assert reads == []
    assert_nothing_happened(account)
