"""Resources that can be replaced at will: the two queue workers, their alarms, the alarm topic."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra import bundling, names
from infra.config import AppConfig
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

        def worker(construct_id: str, description: str, handler: str) -> QueueWorker:
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
                sending_identity_arns=identity_arns,
                max_concurrency=config.max_concurrency,
                alarm_topic=alarm_topic,
            )

        self.invite = worker("InviteWorker", "Sends calendar invitations", names.INVITE_HANDLER)
        self.cancellation = worker(
            "CancellationWorker", "Sends calendar cancellations", names.CANCELLATION_HANDLER
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
