"""AWS::SQS::Queue (attributes, redrive policy to its DLQ) and AWS::SQS::QueuePolicy."""

from __future__ import annotations

import json
from dataclasses import dataclass

from local.resources.base import Creation, creates, string
from local.template import Physical

QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
)


@dataclass
class Queue:
    stack: str
    logical_id: str
    name: str
    url: str
    arn: str
    visibility_timeout: int
    dead_letter_arn: str | None = None
    max_receive_count: int | None = None


@creates("AWS::SQS::Queue", not_emulated=("FifoQueue",))
def create_queue(c: Creation) -> Physical:
    props = c.properties
    name = props.get("QueueName") or c.physical_name(80)
    attributes = {key: string(props[key]) for key in QUEUE_ATTRIBUTES if key in props}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            attributes[key] = json.dumps(props[key]) if isinstance(props[key], dict) else props[key]
    sqs = c.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = props.get("RedrivePolicy") or {}
    if isinstance(redrive, str):
        redrive = json.loads(redrive)
    c.inventory.queues[arn] = Queue(
        stack=c.stack,
        logical_id=c.logical_id,
        name=name,
        url=url,
        arn=arn,
        visibility_timeout=int(props.get("VisibilityTimeout", 30)),
        dead_letter_arn=redrive.get("deadLetterTargetArn"),
        max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
    )
    return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


@creates("AWS::SQS::QueuePolicy")
def apply_queue_policy(c: Creation) -> Physical:
    document = json.dumps(c.properties["PolicyDocument"])
    for url in c.properties.get("Queues", []):
        c.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})
    return Physical(ref=c.physical_name(64))
