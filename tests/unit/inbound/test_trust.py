"""Trust rules (issue 9 item 4): ATTENDEE must be the From: mailbox; SES verdicts must not accuse."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lambdas.domain.inbound.email import read_email
from lambdas.domain.inbound.notification import parse_receipt_notification
from lambdas.domain.inbound.trust import distrust
from tests.unit.inbound.ses import fixture, ses_notification


def received(**verdicts):
    return parse_receipt_notification(json.dumps(ses_notification(verdicts=verdicts)))


@pytest.fixture
def gmail():
    email = read_email(fixture("gmail-accepted.eml"))
    return email, email.answers[0]


def test_a_genuine_reply_is_trusted(gmail):
    email, answer = gmail
    assert distrust(received(), email, answer) is None


@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [
        ({"dmarc": "FAIL"}, "dmarc_fail"),
        ({"spam": "FAIL"}, "spam"),
        ({"virus": "FAIL"}, "virus"),
        ({"virus": "FAIL", "dmarc": "FAIL", "spam": "FAIL"}, "virus"),
    ],
)
def test_an_accusing_verdict_is_not_recorded(gmail, verdicts, reason):
    email, answer = gmail
    assert distrust(received(**verdicts), email, answer) == reason


@pytest.mark.parametrize("status", ["GRAY", "PROCESSING_FAILED", ""])
def test_verdicts_that_do_not_accuse(gmail, status):
    email, answer = gmail
    mail = received(dmarc=status, spam=status, virus=status, spf="FAIL", dkim="FAIL")
    assert distrust(mail, email, answer) is None


def test_attendee_must_be_the_sender(gmail):
    email, answer = gmail
    assert distrust(received(), replace(email, from_address="mallory@example.net"), answer) == "from_mismatch"
    assert distrust(received(), email, replace(answer, attendee="ANA@EXAMPLE.ORG")) is None


def test_no_sender_address(gmail):
    email, answer = gmail
    assert distrust(received(), replace(email, from_address=""), answer) == "no_from_address"
