"""The policy statements a worker's caller hands to its `QueueWorker`, one per kind of call.

Each function's role holds exactly the calls that function makes: each row of infra/pipelines.py
names its grants, and the stack resolves them to these (docs/architecture.md lists them per
function). What every worker needs
whatever its job (its log group, its own DLQ, its event source mapping) stays in `QueueWorker`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from infra.pipelines import TableAccess
from lambdas.runtime.config import (
    ENV_CONFIGURATION_SET,
    ENV_MAX_SEND_RATE,
    ENV_SENDING_INSTANCES,
    READ_FROM_ACCOUNT,
)

# The condition key that holds a table statement to the items whose partition key matches.
# ForAllValues: every partition key a request touches (each item of a transaction) must match.
LEADING_KEYS = "dynamodb:LeadingKeys"
# SES v2 SendEmail with raw content is authorised as both actions, on the sending identity and, for
# a send that names a configuration set, on the configuration set as well.
SES_SEND_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")
# The account's sending quota (SendQuota.MaxSendRate), read once per sending instance.
SES_QUOTA_ACTIONS = ("ses:GetAccount",)
# GetObject also authorises HeadObject, which a reader may use to learn the size first.
OBJECT_READ_ACTIONS = ("s3:GetObject",)


@dataclass(frozen=True)
class Permission:
    """One statement of a worker's role, and how the role's description names it.

    `acknowledgements` are the cdk-nag findings (rule and finding, e.g. "IAM5[Resource::...]")
    the statement causes on the role's policy, each with its reason; the worker applies them there.
    `environment` is what the function must be told to make the calls the statement allows (the
    worker adds it to the function's environment), so a function is told of a resource exactly
    when its role may use it.
    """

    summary: str
    statement: iam.PolicyStatement
    acknowledgements: tuple[tuple[str, str], ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)


def table_access(table: dynamodb.ITable, access: TableAccess) -> list[Permission]:
    """Reading and writing the table's items, each only in the partitions the row names.

    Not scoped by `dynamodb:Attributes`: every read fetches whole items, and every conditional
    write asks for the item back when refused (ReturnValuesOnConditionCheckFailure=ALL_OLD), which
    an attribute-limited grant does not allow (docs/architecture.md, "What the roles may write").
    """

    def statement(actions: tuple[str, ...], partitions: tuple[str, ...]) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=[f"dynamodb:{action}" for action in actions],
            resources=[table.table_arn],
            conditions={"ForAllValues:StringLike": {LEADING_KEYS: [f"{prefix}*" for prefix in partitions]}},
        )

    return [
        Permission("reading its table items", statement(access.reads, access.read_partitions)),
        Permission("writing its table items", statement(access.writes, access.write_partitions)),
    ]


def send_email_as(
    sender: str,
    identity_arns: Sequence[str],
    *,
    configuration_set_name: str,
    configuration_set_arn: str,
    sending_instances: int,
    max_send_rate: float | None,
) -> Permission:
    """SES sending through these identities and this configuration set, only as `sender`.

    ses:FromAddress is a property of the request, so the condition holds on every resource SES
    authorises the send on, the configuration set included. The function is told how many
    instances may send at once, and the configured sending rate if there is one (without one, it
    needs `read_send_quota` too): it paces itself at the rate divided by those instances.
    """
    environment = {
        ENV_CONFIGURATION_SET: configuration_set_name,
        ENV_SENDING_INSTANCES: str(sending_instances),
    }
    if max_send_rate is not None:
        environment[ENV_MAX_SEND_RATE] = f"{max_send_rate:g}"
    return Permission(
        "SES from the sender through its configuration set",
        iam.PolicyStatement(
            actions=list(SES_SEND_ACTIONS),
            resources=[*identity_arns, configuration_set_arn],
            conditions={"StringEquals": {"ses:FromAddress": sender}},
        ),
        environment=environment,
    )


def read_send_quota() -> Permission:
    """SES GetAccount, for the account's sending rate (no `sesMaxSendRate` is configured)."""
    return Permission(
        "the SES sending quota",
        iam.PolicyStatement(actions=list(SES_QUOTA_ACTIONS), resources=["*"]),
        acknowledgements=(
            (
                "IAM5[Resource::*]",
                "ses:GetAccount reads the account's own sending quota and supports no resource "
                "type, so IAM only accepts '*'; the statement allows that one read-only action.",
            ),
        ),
        environment={ENV_MAX_SEND_RATE: READ_FROM_ACCOUNT},
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


def enqueue_onto(queues: Mapping[str, sqs.IQueue]) -> Permission:
    """Sending onto other functions' work queues (`queues`: the environment variable that tells the
    function each one's URL -> the queue), and nothing else: no receiving, no deleting."""
    return Permission(
        "the invite and cancellation work queues",
        iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[q.queue_arn for q in queues.values()]),
        environment={name: queue.queue_url for name, queue in queues.items()},
    )
