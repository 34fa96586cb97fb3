"""An SNS topic encrypted with a key of its own, for topics that AWS services publish to.

A service publishing to a KMS-encrypted topic needs kms:GenerateDataKey* and kms:Decrypt on the
topic's key. The AWS managed key aws/sns cannot grant that: its key policy cannot be changed. So
each such topic gets a customer managed key, and its caller adds the publishing service to both
the key policy and the topic policy, with conditions naming the publisher.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
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
