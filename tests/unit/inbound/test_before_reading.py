"""What is decided from the notification alone, before the mail is read: its origin, and what SES's
verdicts condemn whatever the mail says."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lambdas.domain.inbound.itip import read_email
from lambdas.domain.inbound.notification import parse_receipt_notification
from lambdas.domain.inbound.origin import ReceiptOrigin, check_origin
from lambdas.domain.inbound.trust import TrustLevel, condemned_by_verdicts, trust
from lambdas.domain.validation import InvalidRequest
from tests.unit.inbound.ses import TOPIC_ARN, fixture, ses_notification, sns_envelope

ORIGIN = ReceiptOrigin(
    topic_arn=TOPIC_ARN, bucket="cis-inbox", key_prefix="inbound/", recipient="RSVP@cis.example.com"
)
STATUSES = ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED", "")
POLICIES = (None, "none", "quarantine", "reject", "other")


def mail_from(topic_arn: str | None = TOPIC_ARN, **notification):
    notification = {"bucket": "cis-inbox", "key": "inbound/abc", **notification}
    document = ses_notification(**notification)
    body = json.dumps(document) if topic_arn is None else sns_envelope(document, topic_arn=topic_arn)
    return parse_receipt_notification(body)


def mismatches(mail) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        check_origin(mail, ORIGIN)
    return {e.field: e.reason for e in caught.value.errors}


# --------------------------------------------------------------------------------------- origin


def test_the_receipt_rules_own_notification_passes():
    check_origin(mail_from(recipients=("guest@example.org", "rsvp@cis.example.com")), ORIGIN)


def test_another_topic_is_refused_even_with_every_verdict_passing():
    errors = mismatches(mail_from(topic_arn="arn:aws:sns:us-east-1:123456789012:elsewhere"))
    assert list(errors) == ["TopicArn"]
    assert "elsewhere" in errors["TopicArn"] and "not the inbound topic" in errors["TopicArn"]


def test_a_bare_notification_did_not_come_through_the_topic():
    assert "is missing" in mismatches(mail_from(topic_arn=None))["TopicArn"]


def test_another_bucket_or_prefix_is_refused():
    assert list(mismatches(mail_from(bucket="someone-elses"))) == ["receipt.action.bucketName"]
    assert list(mismatches(mail_from(key="outbound/abc"))) == ["receipt.action.objectKey"]
    assert list(mismatches(mail_from(key="inbound"))) == ["receipt.action.objectKey"]


def test_a_notification_not_for_the_rsvp_address_is_refused():
    assert list(mismatches(mail_from(recipients=("other@cis.example.com",)))) == ["receipt.recipients"]
    assert list(mismatches(mail_from(recipients=()))) == ["receipt.recipients"]


def test_every_mismatch_is_named_at_once():
    mail = mail_from(topic_arn="arn:aws:sns:x:1:t", bucket="b", key="k", recipients=())
    assert sorted(mismatches(mail)) == [
        "TopicArn",
        "receipt.action.bucketName",
        "receipt.action.objectKey",
        "receipt.recipients",
    ]


def test_a_forged_value_is_echoed_bounded():
    reason = mismatches(mail_from(topic_arn="arn:" + "x" * 5000))["TopicArn"]
    assert len(reason) < 300


# ------------------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize(
    ("verdicts", "policy", "reason"),
    [
        ({"virus": "FAIL"}, None, "virus"),
        ({"spam": "FAIL"}, None, "spam"),
        ({"dmarc": "FAIL"}, None, "dmarc_fail"),
        ({"dmarc": "FAIL"}, "reject", "dmarc_fail"),
        ({"dmarc": "FAIL"}, "quarantine", "dmarc_fail"),
        ({"virus": "FAIL", "spam": "FAIL", "dmarc": "FAIL"}, None, "virus"),
        ({"dmarc": "FAIL"}, "none", None),  # depends on the From: the mail carries: read it
        ({"spf": "FAIL", "dkim": "FAIL"}, None, None),
        ({"spam": "GRAY", "virus": "PROCESSING_FAILED", "dmarc": "GRAY"}, None, None),
        ({}, None, None),
    ],
)
def test_what_the_verdicts_alone_condemn(verdicts, policy, reason):
    assert condemned_by_verdicts(mail_from(verdicts=verdicts, dmarc_policy=policy).verdicts) == reason


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("dmarc", STATUSES)
@pytest.mark.parametrize("spam", STATUSES)
@pytest.mark.parametrize("virus", STATUSES)
def test_deciding_early_never_changes_a_trust_decision(virus, spam, dmarc, policy):
    """Whatever the verdicts and whatever the mail: condemned before reading exactly when trust()
    would have found the answer untrusted for that same reason after reading."""
    mail = mail_from(verdicts={"virus": virus, "spam": spam, "dmarc": dmarc}, dmarc_policy=policy)
    email = read_email(fixture("gmail-accepted.eml"))
    answer = email.answers[0]
    early = condemned_by_verdicts(mail.verdicts)
    for sent in (email, replace(email, from_address=""), replace(email, from_address="eve@example.net")):
        decided = trust(mail, sent, answer)
        if early:
            assert (decided.level, decided.reason) == (TrustLevel.UNTRUSTED, early)
        else:
            assert decided.reason not in ("virus", "spam", "dmarc_fail")
