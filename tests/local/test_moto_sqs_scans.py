"""The served moto's SQS: the same answers, without a walk of the whole queue for each message."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.sqs import models

from local import moto_clock
from local.sandbox import CREDENTIALS, REGION
from local.server import MotoServer

DEPTH = 300


@pytest.fixture
def sqs():
    server = MotoServer().start()
    try:
        server.reset()
        yield boto3.client("sqs", endpoint_url=server.url, region_name=REGION, **CREDENTIALS)
    finally:
        server.stop()
        moto_clock.rewind()


@pytest.fixture
def queue(sqs) -> str:
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    for start in range(0, DEPTH, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)]
        )
    return url


def _counts(sqs, url: str) -> tuple[int, int]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


@pytest.fixture
def asked(monkeypatch) -> dict[str, int]:
    """How often moto asks a message whether it is visible, or whether it had a receipt handle."""
    calls = {"visible": 0, "had_receipt_handle": 0}
    visible = models.Message.visible.fget
    had = models.Message.had_receipt_handle

    def counted_visible(message):
        calls["visible"] += 1
        return visible(message)

    def counted_had(message, handle):
        calls["had_receipt_handle"] += 1
        return had(message, handle)

    monkeypatch.setattr(models.Message, "visible", property(counted_visible))
    monkeypatch.setattr(models.Message, "had_receipt_handle", counted_had)
    return calls


def test_the_counts_stay_right_through_sends_receives_and_deletes(sqs, queue):
    assert _counts(sqs, queue) == (DEPTH, 0)
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    assert _counts(sqs, queue) == (DEPTH - 10, 10)
    sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
    )
    assert _counts(sqs, queue) == (DEPTH - 10, 0)
    bodies = set()
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        bodies |= {m["Body"] for m in batch}
        for m in batch:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    assert bodies == {f"m{i}" for i in range(DEPTH)} - {m["Body"] for m in received}
    assert _counts(sqs, queue) == (0, 0)


def test_a_message_is_deleted_by_any_handle_it_had_and_deleting_again_is_harmless(sqs, queue):
    [first] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=0)["Messages"]
    again = [
        m
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
        if m["MessageId"] == first["MessageId"]
    ]
    assert again and again[0]["ReceiptHandle"] != first["ReceiptHandle"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])  # the older handle
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=again[0]["ReceiptHandle"])  # already deleted
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])
    assert _counts(sqs, queue) == (DEPTH - 10, 9)


def test_a_handle_never_handed_out_or_of_another_queue_is_refused_as_moto_refuses_it(sqs, queue):
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"]
    for url, handle in ((queue, "not-a-handle"), (other, message["ReceiptHandle"])):
        with pytest.raises(ClientError, match="ReceiptHandleIsInvalid"):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert _counts(sqs, queue) == (DEPTH - 1, 1)


def test_sending_receiving_and_deleting_ask_no_other_message_about_itself(sqs, queue, asked):
    sqs.send_message(QueueUrl=queue, MessageBody="one more")
    assert asked == {"visible": 0, "had_receipt_handle": 0}
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    # The receive looks at the queue once to find visible messages (moto's `messages`), no more.
    assert asked["visible"] <= 2 * (DEPTH + 1)
    asked["visible"] = 0
    for message in received:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert asked == {"visible": 0, "had_receipt_handle": 0}
