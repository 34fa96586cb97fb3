"""SES email receiving for one address: each message stored raw in S3 and announced on SNS.

What reads the notifications is not this construct's business: the stack subscribes the reply
worker's queue to `topic`. The receipt rule set is created inactive; activating it is a one-time
step of the deployment (docs/deployment.md explains why the stack does not do it).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import nag
from infra.constructs.encrypted_topic import allow_service_to_publish, encrypted_topic, only_for_source

SES_PRINCIPAL = "ses.amazonaws.com"


@dataclass(frozen=True)
class ReceiptRoute:
    """One address's receipt rule, and the topic that announces what it stored under its prefix."""

    key: kms.Key
    topic: sns.Topic
    rule: ses.CfnReceiptRule
    object_key_prefix: str


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
        self.object_key_prefix = object_key_prefix
        self.rule_set_name = rule_set_name
        self.rule_arn = self._rule_arn(rule_name)

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
        nag.acknowledge(
            self.bucket.node.default_child,
            "S1",
            "Only SES, for its receipt rules, each under its own prefix, can write here (bucket "
            "policy) and only the functions those rules feed can read, each its own prefix (their "
            "roles); each object's arrival is already logged by the "
            "function's JSON line with its key and SES message id, and a log bucket would itself be "
            "an unlogged bucket.",
        )

        self.rule_set = ses.ReceiptRuleSet(self, "RuleSet", receipt_rule_set_name=rule_set_name)
        # The RSVP address's route is built on this construct itself (its resources' logical IDs
        # predate the event address's route, which has a construct of its own).
        rsvp = self._route(
            self,
            recipient=recipient,
            rule_name=rule_name,
            object_key_prefix=object_key_prefix,
            what="mail received for the RSVP address",
            sid="AllowSesReceiptRule",
            bucket_sid="AllowSesToStoreMailOfThisRule",
        )
        self.key, self.topic, self.rule = rsvp.key, rsvp.topic, rsvp.rule

    def add_route(
        self, construct_id: str, *, recipient: str, rule_name: str, object_key_prefix: str
    ) -> ReceiptRoute:
        """A second address: its own rule in the same rule set (after the first), storing into the
        same bucket under its own prefix, announced on its own topic. Its own topic keeps each
        function's origin check to one topic, one prefix and one recipient (docs/organizer.md)."""
        return self._route(
            Construct(self, construct_id),
            recipient=recipient,
            rule_name=rule_name,
            object_key_prefix=object_key_prefix,
            what=f"mail received for {recipient}",
            sid=f"AllowSes{construct_id}",
            bucket_sid=f"AllowSesToStoreMailOf{construct_id}",
            after=self.rule,
        )

    def _route(
        self,
        scope: Construct,
        *,
        recipient: str,
        rule_name: str,
        object_key_prefix: str,
        what: str,
        sid: str,
        bucket_sid: str,
        after: ses.CfnReceiptRule | None = None,
    ) -> ReceiptRoute:
        rule_arn = self._rule_arn(rule_name)
        # The confused-deputy guard SES documents for every resource it acts on.
        only_this_rule = only_for_source(self, rule_arn)
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=bucket_sid,
                principals=[iam.ServicePrincipal(SES_PRINCIPAL)],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{object_key_prefix}*")],
                conditions=only_this_rule,
            )
        )
        key, topic = encrypted_topic(
            scope,
            display_name=f"Calendar Invite Server {'inbound' if after is None else recipient} mail",
            key_description=f"Encrypts the notifications of {what}",
        )
        allow_service_to_publish(
            key,
            topic,
            service=SES_PRINCIPAL,
            sid=sid,
            topic_conditions=only_this_rule,
            key_conditions=only_this_rule,
        )
        rule = ses.CfnReceiptRule(
            scope,
            "Rule",
            rule_set_name=self.rule_set.receipt_rule_set_name,
            # Rules of one set are created in order: the second names the first.
            after=after.ref if after is not None else None,
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
                            topic_arn=topic.topic_arn,
                        )
                    )
                ],
            ),
        )
        # SES tries the bucket write and the publish when the rule is created or changed, so the
        # policies allowing them must exist first (the bucket and topic themselves are referenced).
        rule.node.add_dependency(self.bucket.policy, topic.node.find_child("Policy"))
        return ReceiptRoute(key=key, topic=topic, rule=rule, object_key_prefix=object_key_prefix)

    def _rule_arn(self, rule_name: str) -> str:
        return Stack.of(self).format_arn(
            service="ses",
            resource="receipt-rule-set",
            resource_name=f"{self.rule_set_name}:receipt-rule/{rule_name}",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
