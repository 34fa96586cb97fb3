"""The single DynamoDB table that holds events and attendees."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from lambdas.domain.items import MESSAGE_EXPIRY_ATTRIBUTE
from lambdas.domain.keys import PARTITION_KEY, SORT_KEY


class InviteTable(Construct):
    """On-demand, encrypted, point-in-time recoverable, kept when its stack is deleted, and rid of
    message items once no feedback can still arrive for them."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # The AWS managed key (aws/dynamodb): encryption is explicit in the template, and the
            # functions need no KMS permissions of their own.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The data outlives the stack: `cdk destroy` leaves the table, and the table refuses a
            # DeleteTable call until someone turns deletion protection off on purpose.
            removal_policy=RemovalPolicy.RETAIN,
            deletion_protection=True,
            # Only message items carry it (lambdas/domain/items.py, MESSAGE_RETENTION): events
            # and attendees are kept.
            time_to_live_attribute=MESSAGE_EXPIRY_ATTRIBUTE,
        )
