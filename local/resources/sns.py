"""AWS::SNS::Topic, AWS::SNS::TopicPolicy and AWS::SNS::Subscription.

An ``sqs`` subscription is created on moto's SNS, which then delivers every publication to the
queue itself, as SNS does: in the SNS envelope (Type, MessageId, TopicArn, Subject, Message,
Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL), or the bare message with
``RawMessageDelivery``. Other protocols are not emulated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from local.resources.base import Creation, creates, string
from local.template import Physical, TemplateError

_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "SignatureVersion", "TracingConfig")
_SUBSCRIPTION_ATTRIBUTES = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")


@dataclass
class Topic:
    stack: str
    logical_id: str
    name: str
    arn: str
    subscriptions: list[tuple[str, str]]  # (protocol, endpoint)


@creates("AWS::SNS::Topic", not_emulated=("FifoTopic", "Subscription"))
def create_topic(c: Creation) -> Physical:
    props = c.properties
    name = props.get("TopicName") or c.physical_name(256)
    attributes = {key: string(props[key]) for key in _TOPIC_ATTRIBUTES if key in props}
    arn = c.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
    c.inventory.topics[arn] = Topic(c.stack, c.logical_id, name, arn, subscriptions=[])
    return Physical(ref=arn, attributes={"TopicArn": arn, "TopicName": name})


@creates("AWS::SNS::TopicPolicy")
def apply_topic_policy(c: Creation) -> Physical:
    document = json.dumps(c.properties["PolicyDocument"])
    for arn in c.properties.get("Topics", []):
        c.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=document)
    return Physical(ref=c.physical_name(64))


@creates("AWS::SNS::Subscription", not_emulated=("DeliveryPolicy", "ReplayPolicy"))
def create_subscription(c: Creation) -> Physical:
    props = c.properties
    protocol = str(props.get("Protocol", "")).lower()
    if protocol != "sqs":
        raise TemplateError(f"SNS subscriptions with protocol {protocol!r} are not emulated (only sqs)")
    attributes = {}
    for key in _SUBSCRIPTION_ATTRIBUTES:
        if key in props:
            value = props[key]
            attributes[key] = json.dumps(value) if isinstance(value, dict | list) else string(value)
    arn = c.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=protocol,
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    topic = c.inventory.topics.get(props["TopicArn"])
    if topic is not None:
        topic.subscriptions.append((protocol, props["Endpoint"]))
    return Physical(ref=arn, attributes={"Arn": arn})
