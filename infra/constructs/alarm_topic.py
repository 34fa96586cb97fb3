"""An encrypted SNS topic that mails alarm notifications to one address."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.constructs.encrypted_topic import allow_service_to_publish, encrypted_topic


class AlarmTopic(Construct):
    """SNS topic (KMS-encrypted, TLS only) with an email subscription.

    The key is a customer managed key because CloudWatch cannot publish to a topic encrypted
    with the AWS managed key aws/sns: that key's policy cannot be changed to let CloudWatch use it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, email: str) -> None:
        super().__init__(scope, construct_id)
        self.key, self.topic = encrypted_topic(
            self,
            display_name="Calendar Invite Server alarms",
            key_description="Encrypts the alarm notification topic",
        )
        # The topic's policy limits publishing to the alarms of this account.
        allow_service_to_publish(
            self.key,
            self.topic,
            service="cloudwatch.amazonaws.com",
            sid="AllowCloudWatchAlarms",
            topic_conditions={
                "ArnLike": {
                    "aws:SourceArn": Stack.of(self).format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(email))
