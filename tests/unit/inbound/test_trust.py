"""Trust rules: ATTENDEE must be the From: mailbox; SES verdicts must not accuse."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lambdas.domain.inbound.itip import read_email
from lambdas.domain.inbound.notification import parse_receipt_notification
from lambdas.domain.inbound.trust import Trust, TrustLevel, distrust, trust
from tests.unit.inbound.ses import fixture, ses_notification

VERIFIED, UNVERIFIED, UNTRUSTED = TrustLevel.VERIFIED, TrustLevel.UNVERIFIED, TrustLevel.UNTRUSTED


def received(dmarc_policy=None, **verdicts):
    notification = ses_notification(verdicts=verdicts, dmarc_policy=dmarc_policy)
    return parse_receipt_notification(json.dumps(notification))


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


# ------------------------------------------------------------------------------------ three levels


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("none", Trust(UNVERIFIED, "dmarc_fail_policy_none")),
        ("NONE", Trust(UNVERIFIED, "dmarc_fail_policy_none")),
        ("quarantine", Trust(UNTRUSTED, "dmarc_fail")),
        ("reject", Trust(UNTRUSTED, "dmarc_fail")),
        (None, Trust(UNTRUSTED, "dmarc_fail")),  # no policy sent: not taken as "no action"
    ],
)
def test_a_dmarc_fail_is_judged_by_the_domains_own_policy(gmail, policy, expected):
    email, answer = gmail
    assert trust(received(dmarc="FAIL", dmarc_policy=policy), email, answer) == expected


def test_the_policy_is_read_from_the_receipt(gmail):
    assert received(dmarc="FAIL", dmarc_policy="Quarantine").verdicts.dmarc_policy == "quarantine"
    assert received().verdicts.dmarc_policy == ""


def nextcloud(email, **headers):
    """As Nextcloud's IMipPlugin sends it: From: the server's no-reply, Reply-To: the attendee."""
    return replace(email, from_address="no-reply@cloud.example.com", **headers)


def test_relayed_mail_naming_the_attendee_is_unverified(gmail):
    email, answer = gmail
    relayed = nextcloud(email, reply_to=("ana@example.org",))
    assert trust(received(), relayed, answer) == Trust(UNVERIFIED, "relayed", "no-reply@cloud.example.com")
    on_behalf = nextcloud(email, sender_address="ana@example.org")
    assert trust(received(), on_behalf, answer).level is UNVERIFIED


def test_a_trusted_relay_domain_makes_relayed_mail_verified(gmail):
    email, answer = gmail
    relayed = nextcloud(email, reply_to=("ana@example.org",))
    relays = frozenset({"cloud.example.com"})
    assert trust(received(), relayed, answer, relays) == Trust(
        VERIFIED, "trusted_relay", "no-reply@cloud.example.com"
    )
    # ...but not when the relay's own mail fails DMARC, and never a relay that names someone else.
    assert trust(received(dmarc="FAIL", dmarc_policy="none"), relayed, answer, relays).level is UNVERIFIED
    assert (
        trust(received(), nextcloud(email, reply_to=("bob@example.org",)), answer, relays).level is UNTRUSTED
    )
    assert trust(received(), relayed, answer, frozenset({"example.com"})).level is UNVERIFIED


def test_a_from_with_no_relation_to_the_attendee_stays_untrusted(gmail):
    email, answer = gmail
    assert trust(received(), nextcloud(email), answer) == Trust(UNTRUSTED, "from_mismatch")


def test_relayed_mail_still_fails_on_virus_and_spam(gmail):
    email, answer = gmail
    relayed = nextcloud(email, reply_to=("ana@example.org",))
    assert trust(received(virus="FAIL"), relayed, answer).reason == "virus"
    assert trust(received(spam="FAIL"), relayed, answer).reason == "spam"


def test_reply_to_and_sender_are_read_from_the_headers():
    raw = (
        b"From: Nextcloud <no-reply@cloud.example.com>\r\nReply-To: Ana Lima <Ana@Example.org>\r\n"
        b"Sender: relay@cloud.example.com\r\nSubject: x\r\n\r\nbody\r\n"
    )
    email = read_email(raw)
    assert (email.from_address, email.reply_to, email.sender_address) == (
        "no-reply@cloud.example.com",
        ("ana@example.org",),
        "relay@cloud.example.com",
    )
