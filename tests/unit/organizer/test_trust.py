"""Each check on the sender of an organizer's message refuses with its own outcome and reason; only
an allowed sender who is the ORGANIZER, in mail SES did not condemn, gets through."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from lambdas.domain.inbound.notification import Verdicts
from lambdas.domain.inbound.trust import DMARC_FAIL, DMARC_FAIL_POLICY_NONE, NO_FROM, SPAM, VIRUS
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from lambdas.domain.organizer.reading import read_organizer_email
from lambdas.domain.organizer.trust import OrganizerPolicy, check_sender
from lambdas.domain.outcomes import SharedOutcome
from tests.unit.organizer.fixtures import FIXTURES
from tests.unit.test_outcomes import FUNCTIONS

PASS = Verdicts(spf="PASS", dkim="PASS", dmarc="PASS", spam="PASS", virus="PASS")
OUTLOOK = "comm-central/outlook-test-invite.eml"  # From: and ORGANIZER marge@example.org
GOOGLE = "comm-central/meet-meeting-invite.eml"  # From: example@gmail.com, Sender: Google's


def mail(name: str = OUTLOOK, **headers: str):
    """The fixture, with headers replaced (``from_address``, ``reply_to``, ``sender_address``)."""
    email, found = read_organizer_email((FIXTURES / name).read_bytes())
    return dataclasses.replace(email, **headers), found.message


def test_the_organizer_on_the_allow_list_may_act():
    email, message = mail()
    assert check_sender(PASS, email, message, OrganizerPolicy.from_entries(["marge@example.org"])) is None


def test_google_mail_from_the_organizer_sent_by_google_may_act():
    email, message = mail(GOOGLE)
    assert email.sender_address == "calendar-notification@google.com"
    assert check_sender(PASS, email, message, OrganizerPolicy.from_entries(["gmail.com"])) is None


@pytest.mark.parametrize(
    "entries",
    [["marge@example.org"], ["MARGE@Example.ORG "], ["example.org"], ["@example.org"], ["", "example.org"]],
)
def test_the_allow_list_names_addresses_or_domains(entries):
    email, message = mail()
    assert check_sender(PASS, email, message, OrganizerPolicy.from_entries(entries)) is None


@pytest.mark.parametrize(
    "entries", [[], ["example.com"], ["homer@example.org"], ["mail.example.org"], ["org"]]
)
def test_anyone_else_is_not_allowed(entries):
    email, message = mail()
    refused = check_sender(PASS, email, message, OrganizerPolicy.from_entries(entries))
    assert refused.outcome is OrganizerOutcome.NOT_ALLOWED
    assert "marge@example.org" in refused.reason


ALLOWED = OrganizerPolicy.from_entries(["example.org", "example.net"])


@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [
        (dataclasses.replace(PASS, virus="FAIL"), VIRUS),
        (dataclasses.replace(PASS, spam="FAIL"), SPAM),
        (dataclasses.replace(PASS, dmarc="FAIL", dmarc_policy="reject"), DMARC_FAIL),
        (dataclasses.replace(PASS, dmarc="FAIL", dmarc_policy="quarantine"), DMARC_FAIL),
        (dataclasses.replace(PASS, dmarc="FAIL"), DMARC_FAIL),  # no policy given: taken as enforcing
        # Unlike an answer (kept apart as unverified), an organizer's message under p=none is refused.
        (dataclasses.replace(PASS, dmarc="FAIL", dmarc_policy="none"), DMARC_FAIL_POLICY_NONE),
    ],
)
def test_what_ses_condemns_is_refused(verdicts, reason):
    email, message = mail()
    refused = check_sender(verdicts, email, message, ALLOWED)
    assert (refused.outcome, refused.reason) == (OrganizerOutcome.UNTRUSTED, reason)


@pytest.mark.parametrize("dmarc", ["GRAY", "PROCESSING_FAILED", ""])
def test_dmarc_that_did_not_fail_is_no_accusation(dmarc):
    email, message = mail()
    assert check_sender(dataclasses.replace(PASS, dmarc=dmarc), email, message, ALLOWED) is None


def test_mail_without_a_single_from_is_refused():
    email, message = mail(from_address="")
    refused = check_sender(PASS, email, message, ALLOWED)
    assert (refused.outcome, refused.reason) == (OrganizerOutcome.UNTRUSTED, NO_FROM)


def test_a_request_naming_another_organizer_is_refused():
    """An allowed sender mails a calendar whose ORGANIZER is someone else."""
    email, message = mail(from_address="lisa@example.org")
    refused = check_sender(PASS, email, message, ALLOWED)
    assert refused.outcome is OrganizerOutcome.ANOTHER_ORGANIZER
    assert "marge@example.org" in refused.reason and "lisa@example.org" in refused.reason


@pytest.mark.parametrize(
    "relay", [{"reply_to": ("marge@example.org",)}, {"sender_address": "marge@example.org"}]
)
def test_relayed_mail_is_refused_even_from_an_allowed_relay(relay):
    email, message = mail(from_address="noreply@example.net", **relay)
    refused = check_sender(PASS, email, message, ALLOWED)
    assert refused.outcome is OrganizerOutcome.UNTRUSTED
    assert refused.reason.startswith("relayed")


def test_a_sender_not_allowed_is_refused_before_its_organizer_is_looked_at():
    email, message = mail(from_address="mallory@example.com")
    refused = check_sender(PASS, email, message, ALLOWED)
    assert refused.outcome is OrganizerOutcome.NOT_ALLOWED


def test_the_verdicts_come_first_even_for_an_allowed_organizer():
    email, message = mail()
    refused = check_sender(dataclasses.replace(PASS, virus="FAIL"), email, message, ALLOWED)
    assert refused.outcome is OrganizerOutcome.UNTRUSTED


def test_refusals_are_never_retried_and_reaching_for_anothers_event_is_a_warning():
    assert not any(outcome.retry for outcome in OrganizerOutcome)
    warned = {o for o in OrganizerOutcome if o.level == logging.WARNING}
    assert warned == {
        OrganizerOutcome.UNTRUSTED,
        OrganizerOutcome.ANOTHER_ORGANIZER,
        OrganizerOutcome.OWNED_BY_ANOTHER,
    }


def test_a_value_means_what_it_means_in_every_other_function():
    """The log readers match on the value alone (tests/unit/test_outcomes.py)."""
    others = {o.value: (o.retry, o.level) for kind in (*FUNCTIONS, SharedOutcome) for o in kind}
    for outcome in OrganizerOutcome:
        assert others.get(outcome.value, (outcome.retry, outcome.level)) == (outcome.retry, outcome.level)
