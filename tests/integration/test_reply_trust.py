"""Trust in three levels: verified answers count; unverified ones (relayed mail, DMARC
FAIL under p=none) are kept apart with their reason and never counted; untrusted ones are refused."""

from __future__ import annotations

import json

import pytest

from local.samples import RSVP, record, reply_mail
from tests.integration.test_record_reply import BOB, CAROL, UID, counts, invite, last_outcome
from tests.support.inbox import BUCKET, Inbox
from tests.unit.inbound.ses import ses_notification, sns_envelope

RELAY = "no-reply@cloud.example.com"


@pytest.fixture
def inbox(account) -> Inbox:
    return Inbox(account)


def nextcloud_reply(attendee: str, partstat: str, **kwargs) -> bytes:
    """As Nextcloud's IMipPlugin (apps/dav) sends a user's answer: From: its own no-reply address,
    Reply-To: the attendee."""
    return reply_mail(
        attendee, partstat, sender=f"Nextcloud <{RELAY}>", headers={"Reply-To": attendee}, **kwargs
    )


def test_a_relayed_answer_is_kept_apart_with_its_reason_and_not_counted(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED", dtstamp="20261124T120000Z"))
    body = inbox.store(nextcloud_reply(BOB, "DECLINED", dtstamp="20261124T130000Z"), message_id="in-relay")
    account.invoke("reply", body)

    line = last_outcome(caplog)
    assert (line["outcome"], line["reason"], line["relayedBy"]) == ("unverified", "relayed", RELAY)
    item = account.attendee_item(UID, BOB)
    assert item.partstat == "ACCEPTED"  # the attendee's own, verified answer stands
    kept = item.unverified
    assert (kept.partstat, kept.reason, kept.relayed_by, kept.message_id) == (
        "DECLINED",
        "relayed",
        RELAY,
        "in-relay",
    )
    assert counts(account) == {"replies_accepted": 1}

    account.invoke("reply", body)  # redelivered
    assert last_outcome(caplog)["outcome"] == "duplicate"


def test_a_dmarc_fail_under_policy_none_is_unverified_and_under_reject_untrusted(account, inbox, caplog):
    invite(account)
    inbox.deliver(reply_mail(CAROL, "ACCEPTED"), verdicts={"dmarc": "FAIL"}, dmarc_policy="none")
    assert (last_outcome(caplog)["outcome"], last_outcome(caplog)["reason"]) == (
        "unverified",
        "dmarc_fail_policy_none",
    )
    assert account.attendee_item(UID, CAROL).unverified.partstat == "ACCEPTED"
    assert account.attendee_item(UID, CAROL).partstat == "NEEDS-ACTION"

    inbox.deliver(reply_mail(BOB, "ACCEPTED"), verdicts={"dmarc": "FAIL"}, dmarc_policy="reject")
    assert (last_outcome(caplog)["outcome"], last_outcome(caplog)["reason"]) == ("untrusted", "dmarc_fail")
    assert account.attendee_item(UID, BOB).unverified is None
    assert counts(account) == {}


def test_an_unverified_answer_for_someone_not_invited_creates_nothing(account, inbox, caplog):
    invite(account)
    inbox.deliver(nextcloud_reply("eve@example.org", "ACCEPTED"))

    assert last_outcome(caplog)["outcome"] == "skipped"
    assert account.attendee_item(UID, "eve@example.org") is None


def test_a_trusted_relay_domain_counts_as_verified(account, inbox, caplog):
    account.overrides["TRUSTED_RELAY_DOMAINS"] = "Cloud.Example.com, other.example.net"
    invite(account)
    inbox.deliver(nextcloud_reply(BOB, "TENTATIVE"))

    line = last_outcome(caplog)
    assert (line["outcome"], line["relayedBy"]) == ("recorded", RELAY)
    assert account.attendee_item(UID, BOB).partstat == "TENTATIVE"
    assert counts(account) == {"replies_tentative": 1}


# ------------------------------------------------------------------- counts follow the attendees


def test_removing_an_attendee_takes_their_answer_out_of_the_counts(account, inbox):
    invite(account, attendees=(BOB, CAROL))
    inbox.deliver(reply_mail(BOB, "ACCEPTED"))
    inbox.deliver(reply_mail(CAROL, "ACCEPTED"))
    assert counts(account) == {"replies_accepted": 2}

    remove = {"event": {"uid": UID}, "attendee": {"email": BOB}, "scope": "attendee"}
    account.invoke("cancel", remove)
    account.invoke("cancel", remove)  # again: counted out once

    assert counts(account) == {"replies_accepted": 1}
    item = account.attendee_item(UID, BOB)
    assert (item.status, item.counted_as, item.partstat) == ("removed", "", "ACCEPTED")


def test_removing_an_attendee_whose_answer_is_to_an_older_version_moves_no_count(account, inbox):
    invite(account, attendees=(BOB, CAROL))
    inbox.deliver(reply_mail(BOB, "DECLINED"))
    invite(account, attendees=(BOB, CAROL), sequence=1)
    inbox.deliver(reply_mail(CAROL, "ACCEPTED", sequence=1))  # the counts now describe version 1

    account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": BOB}, "scope": "attendee"})

    assert counts(account) == {"replies_accepted": 1}
    assert account.attendee_item(UID, BOB).counted_as == ""


# ------------------------------------------------------------- decided before the mail is read


def _forged(body: str, **envelope) -> str:
    return json.dumps({**json.loads(body), **envelope})


def _dead_letter_fields(account) -> tuple[set[str], str]:
    [dead] = account.dead_letters("reply")
    attributes = dead["MessageAttributes"]
    fields = {e["field"] for e in json.loads(attributes["errors"]["StringValue"])}
    return fields, attributes["reason"]["StringValue"]


@pytest.mark.parametrize(
    "forge",
    [
        # Every verdict PASS, the real bucket and key: only the topic says it is not SES's.
        lambda body: _forged(body, TopicArn="arn:aws:sns:us-east-1:123456789012:someone-elses"),
        lambda body: json.loads(body)["Message"],  # no SNS envelope at all
    ],
    ids=["another topic", "no envelope"],
)
def test_a_notification_not_from_the_receipt_topic_goes_to_the_dlq_unread(
    account, inbox, reads, caplog, forge
):
    invite(account)
    body = inbox.store(reply_mail(BOB, "ACCEPTED"), message_id="forged-1")

    assert account.invoke("reply", records=[record(forge(body), "n-forged")]) == {"batchItemFailures": []}

    fields, reason = _dead_letter_fields(account)
    assert fields == {"TopicArn"} and "TopicArn" in reason
    line = last_outcome(caplog)
    assert (line["outcome"], line["fields"]) == ("invalid", ["TopicArn"])
    assert reads == []  # S3 was never read for it
    assert account.attendee_item(UID, BOB).partstat == "NEEDS-ACTION"
    assert counts(account) == {}


def test_a_notification_naming_another_bucket_or_prefix_goes_to_the_dlq_unread(account, inbox, reads, caplog):
    invite(account)
    inbox.s3.create_bucket(Bucket="planted")
    inbox.s3.put_object(Bucket="planted", Key="inbound/x", Body=reply_mail(BOB, "ACCEPTED"))
    inbox.s3.put_object(Bucket=BUCKET, Key="elsewhere/x", Body=reply_mail(BOB, "ACCEPTED"))
    planted = sns_envelope(ses_notification(bucket="planted", key="inbound/x", recipients=(RSVP,)))
    off_prefix = sns_envelope(ses_notification(bucket=BUCKET, key="elsewhere/x", recipients=(RSVP,)))
    not_rsvp = inbox.store(reply_mail(BOB, "ACCEPTED"), recipients=("someone@example.com",))

    for body, field in (
        (planted, "receipt.action.bucketName"),
        (off_prefix, "receipt.action.objectKey"),
        (not_rsvp, "receipt.recipients"),
    ):
        assert account.invoke("reply", body) == {"batchItemFailures": []}
        assert last_outcome(caplog)["fields"] == [field]

    assert len(account.dead_letters("reply")) == 3
    assert reads == []
    assert counts(account) == {}


@pytest.mark.parametrize(
    ("verdicts", "policy", "reason"),
    [
        ({"virus": "FAIL"}, None, "virus"),
        ({"spam": "FAIL"}, None, "spam"),
        ({"dmarc": "FAIL"}, "reject", "dmarc_fail"),
        ({"dmarc": "FAIL"}, "quarantine", "dmarc_fail"),
    ],
)
def test_mail_the_verdicts_condemn_is_refused_unread(account, inbox, reads, caplog, verdicts, policy, reason):
    invite(account)
    mail = reply_mail(BOB, "ACCEPTED")
    assert inbox.deliver(mail, verdicts=verdicts, dmarc_policy=policy) == {"batchItemFailures": []}

    line = last_outcome(caplog)
    assert (line["outcome"], line["reason"]) == ("untrusted", reason)
    # Who sent it and what about, as SES read the headers for the notification.
    assert line["from"] == "ana@example.org" and line["key"].startswith("inbound/")
    assert reads == []
    assert account.dead_letters("reply") == []
    assert account.attendee_item(UID, BOB).partstat == "NEEDS-ACTION"


def test_a_dmarc_fail_under_policy_none_is_read_since_the_from_decides(account, inbox, reads, caplog):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED"), verdicts={"dmarc": "FAIL"}, dmarc_policy="none")

    assert len(reads) == 1
    assert last_outcome(caplog)["outcome"] == "unverified"
