"""The policy statements a worker's caller hands to its `QueueWorker`, one per kind of call.

Each function's role holds exactly the calls that function makes: the stack picks, per worker,
which of these it needs (docs/architecture.md lists them per function). What every worker needs
whatever its job (its log group, its own DLQ, its event source mapping) stays in `QueueWorker`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

# Everything the functions do on the table. TransactWriteItems is authorised per item action,
# so UpdateItem and ConditionCheckItem cover the transactions; no Scan, PutItem or DeleteItem.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
)
# SES v2 SendEmail with raw content is authorised as both actions.
SES_SEND_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")
# GetObject also authorises HeadObject, which a reader may use to learn the size first.
OBJECT_READ_ACTIONS = ("s3:GetObject",)


@dataclass(frozen=True)
class Permission:
    """One statement of a worker's role, and how the role's description names it.

    `acknowledgements` are the cdk-nag findings (rule and finding, e.g. "IAM5[Resource::...]")
    the statement causes on the role's policy, each with its reason; the worker applies them there.
    """

    summary: str
    statement: iam.PolicyStatement
    acknowledgements: tuple[tuple[str, str], ...] = ()


def table_items(table: dynamodb.ITable) -> Permission:
    return Permission(
        "its table items",
        iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=[table.table_arn]),
    )


def send_email_as(sender: str, identity_arns: Sequence[str]) -> Permission:
    """SES sending through these identities, and only with `sender` as the From address."""
    return Permission(
        "SES from the sender",
        iam.PolicyStatement(
            actions=list(SES_SEND_ACTIONS),
            resources=list(identity_arns),
            conditions={"StringEquals": {"ses:FromAddress": sender}},
        ),
    )


def read_objects(bucket: s3.IBucket, key_prefix: str) -> Permission:
    """Reading the objects under one key prefix of one bucket; no listing, no writing."""
    bucket_id = Stack.of(bucket).get_logical_id(bucket.node.default_child)
    return Permission(
        "the inbound mail it is notified of",
        iam.PolicyStatement(
            actions=list(OBJECT_READ_ACTIONS), resources=[bucket.arn_for_objects(f"{key_prefix}*")]
        ),
        acknowledgements=(
            (
                f"IAM5[Resource::<{bucket_id}.Arn>/{key_prefix}*]",
                "Object keys are SES message ids, known only when a message arrives; the wildcard "
                f"is limited to the {key_prefix} prefix SES writes under, in this one bucket, and "
                "to s3:GetObject.",
            ),
        ),
    )
