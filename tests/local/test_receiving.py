"""The inbound units (bucket, topic, subscription, receipt rules) and SES receiving, on a
hand-written fragment in CDK's shapes: what is stored, what is published, what reaches the queue."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from local.shapes import RECEIPT_SUBJECT as SUBJECT
from local.sources.ses_receiving import NotAccepted, as_sent
from tests.local import fixture, handlers

TEST_HANDLER = "tests.local.handlers.handler"
SHARED = Path(__file__).parents[1] / "fixtures" / "replies"  # copies of ../shared/fixtures/replies
ENVELOPE = json.loads((SHARED / "ses-receipt-notification.json").read_text())
NOTIFICATION = json.loads(ENVELOPE["Message"])


@pytest.fixture
def runtime(start_runtime, fixture_assembly):
    handlers.CALLS.clear()
    return start_runtime(fixture.add_inbound(fixture_assembly.editable(), TEST_HANDLER))


def _gmail_reply() -> bytes:
    return as_sent((SHARED / "gmail-accepted.eml").read_bytes())


def _keys(value: dict) -> set[str]:
    return set(value)


def test_the_inbound_resources_are_created_as_the_template_says(runtime):
    s3, sns, ses = runtime.client("s3"), runtime.client("sns"), runtime.client("ses")
    outputs = runtime.outputs()
    bucket = outputs["InboundBucketName"]
    assert bucket == "fixtureworkers-inboundbucketa1b2c3d4"  # generated names are lower case for S3
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Expiration"] == {"Days": 30} and rule["Status"] == "Enabled"
    # The policy is kept, not put on moto's bucket (moto would deny every object request by it).
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    statements = runtime.inventory.buckets[bucket].policy["Statement"]
    allow = next(s for s in statements if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == (
        f"arn:aws:ses:us-east-1:{runtime.site.account}:receipt-rule-set/"
        f"{outputs['ReceiptRuleSetName']}:receipt-rule/*"
    )

    topic = outputs["InboundTopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"].endswith(":alias/aws/sns")
    assert json.loads(attributes["Policy"])["Statement"][0]["Principal"] == {"Service": "ses.amazonaws.com"}
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("sqs", runtime.queue("ReplyQueue").arn)

    active = ses.describe_active_receipt_rule_set()
    assert active["Metadata"]["Name"] == outputs["ReceiptRuleSetName"]
    [receipt_rule] = active["Rules"]
    assert receipt_rule["Recipients"] == [fixture.RSVP] and receipt_rule["ScanEnabled"] is True
    assert receipt_rule["Actions"] == [
        {"S3Action": {"BucketName": bucket, "ObjectKeyPrefix": "inbound/", "TopicArn": topic}}
    ]
    assert any("activated locally" in note for note in runtime.notes)
    assert runtime.mapping_for(TEST_HANDLER).queue is runtime.queue("ReplyQueue")


def test_a_received_email_is_stored_with_ses_headers_and_reaches_the_queue_in_the_sns_envelope(runtime):
    raw = _gmail_reply()

    [receipt] = runtime.receive_email(raw, recipient=fixture.RSVP)
    invocations = runtime.drain()

    # The stored object: SES's inbound headers, then the message exactly as sent.
    bucket = runtime.outputs()["InboundBucketName"]
    assert receipt.key == f"inbound/{receipt.message_id}" and len(receipt.message_id) == 40
    stored = runtime.client("s3").get_object(Bucket=bucket, Key=receipt.key)["Body"].read()
    assert stored.endswith(raw) and as_sent(stored) == raw
    message = message_from_bytes(stored, policy=policy.default)
    assert message.defects == []
    assert message["Return-Path"] == "<ana@example.org>"
    assert message["X-SES-Spam-Verdict"] == "PASS" and message["X-SES-Virus-Verdict"] == "PASS"
    assert "dmarc=pass header.from=example.org" in message["Authentication-Results"]
    assert f"for {fixture.RSVP};" in message["Received"]
    assert message["From"] == "Ana Lima <ana@example.org>"

    # One invocation of the reply function, with the SNS envelope as the record's body.
    [invocation] = invocations
    assert invocation.function.handler == TEST_HANDLER and invocation.deleted == invocation.message_ids
    [call] = handlers.CALLS
    [record] = call["records"]
    assert record["eventSourceARN"] == runtime.queue("ReplyQueue").arn
    envelope = json.loads(record["body"])
    assert _keys(ENVELOPE) <= _keys(envelope)
    assert envelope["Type"] == "Notification" and envelope["Subject"] == SUBJECT == ENVELOPE["Subject"]
    assert envelope["TopicArn"] == runtime.outputs()["InboundTopicArn"]

    # The notification: the shape of SES's, with this mail's bucket, key and verdicts.
    notification = json.loads(envelope["Message"])
    assert notification == receipt.notification
    assert _keys(NOTIFICATION) == _keys(notification)
    assert _keys(NOTIFICATION["mail"]) <= _keys(notification["mail"])
    assert _keys(NOTIFICATION["mail"]["commonHeaders"]) <= _keys(notification["mail"]["commonHeaders"])
    assert _keys(NOTIFICATION["receipt"]) == _keys(notification["receipt"])
    assert _keys(NOTIFICATION["receipt"]["action"]) == _keys(notification["receipt"]["action"])
    mail, verdicts = notification["mail"], notification["receipt"]
    assert mail["messageId"] == receipt.message_id and mail["destination"] == [fixture.RSVP]
    assert mail["source"] == "ana@example.org"
    assert mail["commonHeaders"]["from"] == ["Ana Lima <ana@example.org>"]
    assert mail["commonHeaders"]["subject"] == message["Subject"]
    assert mail["headers"][0] == {"name": "Return-Path", "value": "<ana@example.org>"}
    assert verdicts["recipients"] == [fixture.RSVP]
    assert {
        name: verdicts[f"{name}Verdict"]["status"] for name in ("spam", "virus", "spf", "dkim", "dmarc")
    } == {name: "PASS" for name in ("spam", "virus", "spf", "dkim", "dmarc")}
    assert verdicts["action"] == {
        "type": "S3",
        "topicArn": runtime.outputs()["InboundTopicArn"],
        "bucketName": bucket,
        "objectKeyPrefix": "inbound/",
        "objectKey": receipt.key,
    }


def test_the_verdicts_are_the_callers_in_the_headers_and_the_notification(runtime):
    [receipt] = runtime.receive_email(
        _gmail_reply(), recipient="RSVP@Example.com", verdicts={"dmarc": "fail"}
    )

    message = message_from_bytes(receipt.stored, policy=policy.default)
    assert "dmarc=fail header.from=example.org" in message["Authentication-Results"]
    assert receipt.notification["receipt"]["dmarcVerdict"] == {"status": "FAIL"}
    assert receipt.notification["receipt"]["dmarcPolicy"] == "reject"  # present only on a DMARC failure
    assert receipt.notification["receipt"]["spfVerdict"] == {"status": "PASS"}
    with pytest.raises(ValueError, match="spoof"):
        runtime.receive_email(_gmail_reply(), verdicts={"spoof": "FAIL"})


def test_the_recipient_defaults_to_the_rules_and_mail_no_rule_accepts_is_rejected(runtime):
    [receipt] = runtime.receive_email(_gmail_reply())
    assert receipt.notification["mail"]["destination"] == [fixture.RSVP]
    runtime.drain()
    handlers.CALLS.clear()

    with pytest.raises(NotAccepted, match=r"someone-else@example\.com"):
        runtime.receive_email(_gmail_reply(), recipient="someone-else@example.com")
    assert runtime.drain() == [] and handlers.CALLS == []


def test_a_raw_delivery_subscription_gets_the_bare_notification(start_runtime, fixture_assembly):
    handlers.CALLS.clear()
    assembly = fixture.add_inbound(fixture_assembly.editable(), TEST_HANDLER)
    subscription = assembly.stack(fixture.WORKERS).template["Resources"]["ReplySubscriptionF1A2B3C4"]
    subscription["Properties"]["RawMessageDelivery"] = True
    runtime = start_runtime(assembly)

    [receipt] = runtime.receive_email(_gmail_reply())
    runtime.drain()

    assert json.loads(handlers.CALLS[0]["records"][0]["body"]) == receipt.notification


@pytest.mark.parametrize(
    ("logical_id", "change", "error"),
    [
        ("ReplySubscriptionF1A2B3C4", {"Protocol": "lambda"}, "protocol 'lambda' are not emulated"),
        ("RsvpRuleA2B3C4D5", {"Rule": {"Actions": [{"LambdaAction": {}}]}}, "LambdaAction"),
        ("InboundTopicD1E2F3A4", {"FifoTopic": True}, "FifoTopic is not emulated"),
    ],
)
def test_what_the_inbound_units_do_not_emulate_fails_at_start(
    start_runtime, fixture_assembly, logical_id, change, error
):
    from local.runtime import RuntimeProblem

    assembly = fixture.add_inbound(fixture_assembly.editable(), TEST_HANDLER)
    assembly.stack(fixture.WORKERS).template["Resources"][logical_id].setdefault("Properties", {}).update(
        change
    )
    with pytest.raises(RuntimeProblem, match=error):
        start_runtime(assembly)


@pytest.mark.parametrize(
    "name", ["apple-mail-accepted.eml", "thunderbird-accepted.eml", "outlook-declined.eml"]
)
def test_what_arrives_on_the_queue_is_read_by_the_reply_path_as_sent(runtime, name):
    """The functions' own readers (lambdas/domain/inbound) take the emulated notification and the
    stored object for what SES would deliver: the bucket and key, the verdicts, the answer."""
    from lambdas.domain.inbound.itip import read_email
    from lambdas.domain.inbound.notification import parse_receipt_notification

    raw = as_sent((SHARED / name).read_bytes())
    [receipt] = runtime.receive_email(raw, verdicts={"spam": "FAIL"})
    runtime.drain()

    [record] = handlers.CALLS[0]["records"]
    received = parse_receipt_notification(record["body"])
    assert (received.bucket, received.object_key) == (receipt.bucket, receipt.key)
    assert received.ses_message_id == receipt.message_id
    assert received.recipients == (fixture.RSVP,)
    assert (received.verdicts.spam, received.verdicts.dmarc) == ("FAIL", "PASS")
    stored = runtime.client("s3").get_object(Bucket=received.bucket, Key=received.object_key)["Body"]
    assert [a.partstat for a in read_email(stored).answers] == [a.partstat for a in read_email(raw).answers]
    assert read_email(raw).answers


def test_a_from_header_in_raw_utf8_bytes_is_received_and_handed_on_as_decoded_text(runtime):
    # 8-bit headers (no RFC 2047 words) are common from hand-rolled mailers; SES accepts them.
    raw = (
        "From: Zoë Ñandú <zoe@example.org>\r\n"
        f"To: {fixture.RSVP}\r\n"
        "Subject: Accepted: Réunion\r\n"
        "Message-ID: <utf8-header@example.org>\r\n"
        "\r\n"
        "See you there.\r\n"
    ).encode()

    [receipt] = runtime.receive_email(raw)
    runtime.drain()

    mail = receipt.notification["mail"]
    assert mail["commonHeaders"]["from"] == ["Zoë Ñandú <zoe@example.org>"]
    assert mail["commonHeaders"]["subject"] == "Accepted: Réunion"
    assert {"name": "From", "value": "Zoë Ñandú <zoe@example.org>"} in mail["headers"]
    assert mail["source"] == "zoe@example.org"
    assert receipt.stored.endswith(raw)  # the stored object keeps the bytes as sent
    [call] = handlers.CALLS
    envelope = json.loads(call["records"][0]["body"])
    assert json.loads(envelope["Message"]) == receipt.notification
