"""Resources that can be replaced at will: the two queue workers, their alarms, the alarm topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra import bundling, names
from infra.config import AppConfig
from infra.constructs import permissions
from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.queue_worker import QueueWorker
from infra.guard import add_placeholder_guard


class StatelessStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        table: dynamodb.ITable,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        add_placeholder_guard(self, config)

        alarm_topic = (
            AlarmTopic(self, "AlarmTopic", email=config.alarm_email).topic if config.alarm_email else None
        )
        identity_arns = [
            self.format_arn(
                service="ses",
                resource="identity",
                resource_name=identity,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            for identity in config.sending_identities
        ]
        code = bundling.function_code()

        def table_and_ses() -> list[permissions.Permission]:
            return [permissions.table_items(table), permissions.send_email_as(config.sender, identity_arns)]

        def worker(
            construct_id: str,
            description: str,
            handler: str,
            grants: Sequence[permissions.Permission],
            *,
            fans_out: bool,
        ) -> QueueWorker:
            return QueueWorker(
                self,
                construct_id,
                description=description,
                handler=handler,
                code=code,
                table=table,
                sender=config.sender,
                rsvp_email=config.rsvp_email,
                subject_prefix=config.subject_prefix,
                max_concurrency=config.max_concurrency,
                permissions=grants,
                fans_out=fans_out,
                alarm_topic=alarm_topic,
            )

        # Both send functions claim attendees in the table, send through SES, and fan a request
        # out into one message per attendee on their own queue.
        self.invite = worker(
            "InviteWorker",
            "Sends calendar invitations",
            names.INVITE_HANDLER,
            table_and_ses(),
            fans_out=True,
        )
        self.cancellation = worker(
            "CancellationWorker",
            "Sends calendar cancellations",
            names.CANCELLATION_HANDLER,
            table_and_ses(),
            fans_out=True,
        )

        outputs = {
            names.OUTPUT_INVITE_QUEUE_URL: (self.invite.queue.queue_url, "Invite work queue"),
            names.OUTPUT_INVITE_DLQ_URL: (
                self.invite.dead_letter_queue.queue_url,
                "Invite dead-letter queue",
            ),
            names.OUTPUT_CANCELLATION_QUEUE_URL: (
                self.cancellation.queue.queue_url,
                "Cancellation work queue",
            ),
            names.OUTPUT_CANCELLATION_DLQ_URL: (
                self.cancellation.dead_letter_queue.queue_url,
                "Cancellation dead-letter queue",
            ),
            names.OUTPUT_TABLE_NAME: (table.table_name, "DynamoDB table of events and attendees"),
        }
        for key, (value, description) in outputs.items():
            CfnOutput(self, key, value=value, description=description)
