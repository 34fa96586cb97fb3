"""SES email receiving for one address: each message stored raw in S3 and announced on SNS.

What reads the notifications is not this construct's business: the stack subscribes the reply
worker's queue to `topic`. The receipt rule set is created inactive; activating it is a one-time
step of the deployment (docs/deployment.md explains why the stack does not do it).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra import nag
from infra.constructs.encrypted_topic import allow_service_to_publish, encrypted_topic

SES_PRINCIPAL = "ses.amazonaws.com"


class InboundMail(Construct):
    """Bucket (SSE-S3, no public access, TLS only, expiring objects), encrypted topic, rule set, rule.

    Only SES, acting for this account and this very rule, may write into the bucket, publish on the
    topic and use the topic's key. The rule's ARN is built from the names given here rather than
    read from the rule: SES checks that it may write to the bucket when the rule is created, so the
    bucket policy must exist first, and the rule depends on it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        recipient: str,
        rule_set_name: str,
        rule_name: str,
        object_key_prefix: str,
        retention: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.object_key_prefix = object_key_prefix
        self.rule_arn = stack.format_arn(
            service="ses",
            resource="receipt-rule-set",
            resource_name=f"{rule_set_name}:receipt-rule/{rule_name}",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        # The confused-deputy guard SES documents for every resource it acts on.
        only_this_rule = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnEquals": {"aws:SourceArn": self.rule_arn},
        }
        ses_principal = iam.ServicePrincipal(SES_PRINCIPAL)

        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # Raw mail is personal data, kept only as long as a notification may wait to be
            # processed (or an operator to read mail that carried no reply), then deleted.
            lifecycle_rules=[s3.LifecycleRule(id="ExpireInboundMail", expiration=retention)],
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSesToStoreMailOfThisRule",
                principals=[ses_principal],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{object_key_prefix}*")],
                conditions=only_this_rule,
            )
        )
        nag.acknowledge(
            self.bucket.node.default_child,
            "S1",
            "Only SES, for this one receipt rule, can write here (bucket policy) and only the record "
            "reply function can read (its role); each object's arrival is already logged by the "
            "function's JSON line with its key and SES message id, and a log bucket would itself be "
            "an unlogged bucket.",
        )

        self.key, self.topic = encrypted_topic(
            self,
            display_name="Calendar Invite Server inbound mail",
            key_description="Encrypts the notifications of mail received for the RSVP address",
        )
        allow_service_to_publish(
            self.key,
            self.topic,
            service=SES_PRINCIPAL,
            sid="AllowSesReceiptRule",
            topic_conditions=only_this_rule,
            key_conditions=only_this_rule,
        )

        self.rule_set = ses.ReceiptRuleSet(self, "RuleSet", receipt_rule_set_name=rule_set_name)
        self.rule = ses.CfnReceiptRule(
            self,
            "Rule",
            rule_set_name=self.rule_set.receipt_rule_set_name,
            rule=ses.CfnReceiptRule.RuleProperty(
                name=rule_name,
                enabled=True,
                recipients=[recipient],
                # Spam and virus verdicts (and SPF, DKIM, DMARC) reach the notification; the
                # function refuses what they condemn.
                scan_enabled=True,
                tls_policy="Require",
                actions=[
                    ses.CfnReceiptRule.ActionProperty(
                        s3_action=ses.CfnReceiptRule.S3ActionProperty(
                            bucket_name=self.bucket.bucket_name,
                            object_key_prefix=object_key_prefix,
                            topic_arn=self.topic.topic_arn,
                        )
                    )
                ],
            ),
        )
        # SES tries the bucket write and the publish when the rule is created or changed, so the
        # policies allowing them must exist first (the bucket and topic themselves are referenced).
        self.rule.node.add_dependency(self.bucket.policy, self.topic.node.find_child("Policy"))
