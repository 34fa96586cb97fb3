"""An SNS topic encrypted with a key of its own, for topics that AWS services publish to.

A service publishing to a KMS-encrypted topic needs kms:GenerateDataKey* and kms:Decrypt on the
topic's key. The AWS managed key aws/sns cannot grant that: its key policy cannot be changed. So
each such topic gets a customer managed key, and its caller adds the publishing service to both
the key policy and the topic policy, with conditions naming the publisher.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


def encrypted_topic(
    scope: Construct, *, display_name: str, key_description: str
) -> tuple[kms.Key, sns.Topic]:
    """Adds `Key` (rotated) and `Topic` (encrypted with it, TLS only) to `scope`."""
    key = kms.Key(
        scope,
        "Key",
        description=key_description,
        enable_key_rotation=True,
        # Nothing is stored under this key (SNS messages are transient), so it goes with the stack.
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )
    topic = sns.Topic(scope, "Topic", display_name=display_name, master_key=key, enforce_ssl=True)
    return key, topic


def allow_service_to_publish(
    key: kms.Key,
    topic: sns.Topic,
    *,
    service: str,
    sid: str,
    topic_conditions: dict[str, Any],
    key_conditions: dict[str, Any] | None = None,
) -> None:
    """Lets `service` use the key (statement `<sid>ToEncrypt`) and publish (`<sid>ToPublish`).

    Enforcing TLS writes a topic policy, which replaces SNS's default one, so the publisher must
    be named there too.
    """
    principal = iam.ServicePrincipal(service)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}ToEncrypt",
            principals=[principal],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions=key_conditions,
        )
    )
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}ToPublish",
            principals=[principal],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions=topic_conditions,
        )
    )
