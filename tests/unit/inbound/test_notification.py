"""The SES receipt notification: what locates the email is required, the rest is read leniently."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from lambdas.domain.inbound.notification import (
    ReceivedMail,
    SetupNotification,
    Verdicts,
    parse_receipt_notification,
)
from lambdas.domain.validation import InvalidRequest
from tests.unit.inbound.ses import fixture, ses_notification, sns_envelope


def rejected(body) -> list[str]:
    with pytest.raises(InvalidRequest) as caught:
        parse_receipt_notification(body)
    return caught.value.fields


def test_the_shared_fixture_envelope():
    mail = parse_receipt_notification(fixture("ses-receipt-notification.json").decode())
    assert mail == ReceivedMail(
        ses_message_id="12f9a75d526842fa9b85754d0919db91",
        bucket="cis-inbox-123456789012",
        object_key="inbound/0123456789abcdef",
        recipients=("rsvp@cis.example.com",),
        verdicts=Verdicts(spf="PASS", dkim="PASS", dmarc="PASS", spam="PASS", virus="PASS"),
        received_at=datetime(2026, 11, 24, 12, 0, 5, tzinfo=UTC),
        topic_arn="arn:aws:sns:us-east-1:123456789012:cis-inbound",
        sender="ana@example.org",  # commonHeaders.from: "Ana Lima <ana@example.org>"
        subject="Accepted: Project kickoff",
    )


@pytest.mark.parametrize("timestamp", [None, 7, "yesterday", "0001-01-01T00:00:00+05:00"])
def test_an_unreadable_receipt_time_reads_as_none(timestamp):
    notification = ses_notification(key="inbound/abc")
    notification["mail"]["timestamp"] = timestamp
    assert parse_receipt_notification(json.dumps(notification)).received_at is None


def test_bare_notification_and_envelope_read_the_same_but_for_the_topic():
    notification = ses_notification(key="inbound/abc", verdicts={"dmarc": "fail"})
    bare = parse_receipt_notification(json.dumps(notification))
    enveloped = parse_receipt_notification(sns_envelope(notification, topic_arn="arn:aws:sns:x:1:t"))
    assert (bare.topic_arn, enveloped.topic_arn) == ("", "arn:aws:sns:x:1:t")
    assert bare == dataclasses.replace(enveloped, topic_arn="")
    assert bare.object_key == "inbound/abc"
    assert bare.verdicts.dmarc == "FAIL"  # upper-cased


@pytest.mark.parametrize(
    "senders, sender",
    [
        (["Ana <ANA@Example.org>"], "ana@example.org"),
        (["ana@example.org", "eve@example.net"], ""),  # not one sender: none logged
        ([], ""),
        ("ana@example.org", ""),  # not a list
        (["no address"], ""),
        (["a" * 320 + "@example.org"], ""),  # longer than any address
    ],
)
def test_the_sender_is_the_one_from_address_ses_read(senders, sender):
    notification = ses_notification()
    notification["mail"]["commonHeaders"]["from"] = senders
    assert parse_receipt_notification(json.dumps(notification)).sender == sender


def test_an_envelope_without_a_string_topic_has_none():
    envelope = json.loads(sns_envelope(ses_notification()))
    envelope["TopicArn"] = ["arn:aws:sns:us-east-1:123456789012:cis-inbound"]
    assert parse_receipt_notification(json.dumps(envelope)).topic_arn == ""


def test_bytes_body_is_accepted():
    assert parse_receipt_notification(sns_envelope(ses_notification()).encode()).bucket


def test_missing_verdicts_and_recipients_are_empty_not_errors():
    notification = ses_notification(recipients=("RSVP@CIS.Example.com",))
    for name in ("spf", "dkim", "dmarc", "spam", "virus"):
        del notification["receipt"][f"{name}Verdict"]
    notification["receipt"]["spamVerdict"] = "PASS"  # not an object: ignored
    mail = parse_receipt_notification(json.dumps(notification))
    assert mail.verdicts == Verdicts()
    assert mail.recipients == ("rsvp@cis.example.com",)
    del notification["receipt"]["recipients"]
    assert parse_receipt_notification(json.dumps(notification)).recipients == ()


@pytest.mark.parametrize("body", [None, "", "not json", "[1, 2]", b"\xff\xfe"])
def test_not_a_json_object(body):
    assert len(rejected(body)) == 1


def test_envelope_with_broken_message_names_it():
    assert rejected(sns_envelope("{not json")) == ["Message"]


def test_every_bad_field_is_named_at_once():
    notification = ses_notification()
    notification["notificationType"] = "Bounce"
    notification["receipt"]["action"] = {"type": "SNS", "encoding": "UTF8"}
    del notification["mail"]["messageId"]
    assert rejected(sns_envelope(notification)) == [
        "notificationType",
        "mail.messageId",
        "receipt.action.type",
        "receipt.action.bucketName",
        "receipt.action.objectKey",
    ]


def test_missing_objects():
    assert rejected(json.dumps({"notificationType": "Received"})) == ["mail", "receipt"]
    notification = ses_notification()
    del notification["receipt"]["action"]
    assert rejected(json.dumps(notification)) == ["receipt.action"]


@pytest.mark.parametrize("key", ["", "   ", "a\nb", "k" * 1025])
def test_bad_object_key(key):
    assert rejected(json.dumps(ses_notification(key=key))) == ["receipt.action.objectKey"]


def test_subscription_confirmation_is_not_a_notification():
    body = json.dumps({"Type": "SubscriptionConfirmation", "Message": "You have chosen to subscribe"})
    assert "notificationType" in rejected(body)


@pytest.mark.parametrize(
    "notification",
    [
        {
            "notificationType": "AmazonSnsSubscriptionSucceeded",
            "message": "You have successfully subscribed your Amazon SNS topic to receive 'Received'"
            " notifications from Amazon SES.",
        },
        ses_notification(message_id="AMAZON_SES_SETUP_NOTIFICATION"),
        ses_notification(key="inbound/AMAZON_SES_SETUP_NOTIFICATION"),
    ],
    ids=["subscription-succeeded", "setup-message-id", "setup-object"],
)
def test_ses_setup_notifications_are_told_apart_from_mail(notification):
    with pytest.raises(SetupNotification):
        parse_receipt_notification(sns_envelope(notification))
