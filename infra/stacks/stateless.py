"""Resources that can be replaced at will: the queue workers, their alarms, the alarm topic, the
SES configuration set whose delivery events feed the feedback worker, the sending-reputation alarms,
and (with `receiveReplies`) the inbound mail path that feeds the reply worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import bundling, names, tuning
from infra.config import AppConfig
from infra.constructs import permissions
from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.delivery_feedback import DeliveryFeedback
from infra.constructs.inbound_mail import InboundMail
from infra.constructs.queue_worker import QueueWorker
from infra.constructs.reputation_alarms import ReputationAlarms, ReputationRate
from infra.guard import add_placeholder_guard, add_rsvp_placeholder_guard
from infra.receiving import require_receiving_region
from lambdas.runtime.config import ENV_TRUSTED_RELAY_DOMAINS

RSVP_DOMAIN_WARNING_ID = "calendar-invite:rsvp-domain-not-verified-here"


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
        # Every send names this configuration set, so that SES reports what became of it.
        self.delivery_feedback = DeliveryFeedback(
            self,
            "DeliveryFeedback",
            configuration_set_name=names.CONFIGURATION_SET_NAME,
            event_destination_name=names.FEEDBACK_EVENT_DESTINATION_NAME,
        )

        # Every instance of every function that sends (invite, cancellation and, for a REFRESH,
        # record reply) paces itself at the account's rate divided by this, so that together
        # they can never exceed it (docs/performance.md, "Keeping to the SES rate").
        sending_instances = tuning.sending_instances(
            config.max_concurrency, sending_functions=3 if config.receive_replies else 2
        )

        def table_and_ses() -> list[permissions.Permission]:
            quota = [] if config.ses_max_send_rate is not None else [permissions.read_send_quota()]
            return [
                permissions.table_items(table),
                permissions.send_email_as(
                    config.sender,
                    identity_arns,
                    configuration_set_name=self.delivery_feedback.configuration_set_name,
                    configuration_set_arn=self.delivery_feedback.configuration_set_arn,
                    sending_instances=sending_instances,
                    max_send_rate=config.ses_max_send_rate,
                ),
                *quota,
            ]

        def worker(
            construct_id: str,
            description: str,
            handler: str,
            grants: Sequence[permissions.Permission],
            *,
            fans_out: bool,
            puts_back: bool = True,
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
                puts_back=puts_back,
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

        # It records what SES reports on each send in the table; it sends no email and never
        # fans out. Its queue gets the SNS envelope (not raw delivery), as the reply queue does.
        self.feedback = worker(
            "FeedbackWorker",
            "Records SES delivery feedback",
            names.FEEDBACK_HANDLER,
            [permissions.table_items(table)],
            fans_out=False,
            puts_back=False,
        )
        self.delivery_feedback.topic.add_subscription(
            subscriptions.SqsSubscription(self.feedback.queue, raw_message_delivery=False)
        )
        self.reputation_alarms = ReputationAlarms(
            self,
            "SendingReputation",
            rates=(
                ReputationRate(
                    "BounceRate", "Reputation.BounceRate", "bounce", tuning.BOUNCE_RATE_REVIEW_THRESHOLD
                ),
                ReputationRate(
                    "ComplaintRate",
                    "Reputation.ComplaintRate",
                    "complaint",
                    tuning.COMPLAINT_RATE_REVIEW_THRESHOLD,
                ),
            ),
            early_fraction=tuning.EARLY_WARNING_FRACTION,
            period=tuning.REPUTATION_ALARM_PERIOD,
            alarm_topic=alarm_topic,
        )

        self.inbound: InboundMail | None = None
        self.reply: QueueWorker | None = None
        if config.receive_replies:
            self._add_reply_path(config, worker, table_and_ses())

        outputs = {
            **_queue_outputs(self.invite, *names.QUEUE_OUTPUTS["invite"], "Invite"),
            **_queue_outputs(self.cancellation, *names.QUEUE_OUTPUTS["cancellation"], "Cancellation"),
            names.OUTPUT_TABLE_NAME: (table.table_name, "DynamoDB table of events and attendees"),
            **_queue_outputs(self.feedback, *names.QUEUE_OUTPUTS["feedback"], "Feedback"),
            names.OUTPUT_CONFIGURATION_SET_NAME: (
                self.delivery_feedback.configuration_set_name,
                "SES configuration set every send uses (delivery events, suppression list)",
            ),
        }
        if self.inbound is not None and self.reply is not None:
            outputs.update(
                {
                    **_queue_outputs(self.reply, *names.QUEUE_OUTPUTS["reply"], "Reply"),
                    names.OUTPUT_INBOUND_BUCKET_NAME: (
                        self.inbound.bucket.bucket_name,
                        "Raw mail received for the RSVP address",
                    ),
                    names.OUTPUT_INBOUND_TOPIC_ARN: (
                        self.inbound.topic.topic_arn,
                        "SES receipt notifications for the RSVP address",
                    ),
                    names.OUTPUT_RECEIPT_RULE_SET_NAME: (
                        self.inbound.rule_set.receipt_rule_set_name,
                        "Activate once: aws ses set-active-receipt-rule-set --rule-set-name <this>",
                    ),
                }
            )
        for key, (value, description) in outputs.items():
            CfnOutput(self, key, value=value, description=description)

    def _add_reply_path(self, config: AppConfig, worker, table_and_ses: list[permissions.Permission]) -> None:
        """SES receiving for the RSVP address, feeding the record reply worker through SNS."""
        require_receiving_region(self)
        add_rsvp_placeholder_guard(self, config)
        if not config.rsvp_is_placeholder and not config.identity_covers_rsvp_domain:
            Annotations.of(self).add_warning_v2(
                RSVP_DOMAIN_WARNING_ID,
                f"SES receives mail for {config.rsvp_email} only once its domain "
                f"{config.rsvp_domain} is a verified SES domain identity in this region, and this "
                f"stack verifies {config.ses_identity}. Verify {config.rsvp_domain} yourself "
                "(docs/deployment.md).",
            )
        self.inbound = InboundMail(
            self,
            "InboundMail",
            recipient=config.rsvp_email,
            rule_set_name=names.RECEIPT_RULE_SET_NAME,
            rule_name=names.RECEIPT_RULE_NAME,
            object_key_prefix=names.INBOUND_OBJECT_KEY_PREFIX,
            retention=Duration.days(config.inbound_retention_days),
        )
        # It records answers in the table, re-sends the current invitation for a REFRESH through
        # SES (putting a throttled one back on its queue), and reads the raw mail each
        # notification points at; it never fans out.
        read_mail = permissions.read_objects(self.inbound.bucket, names.INBOUND_OBJECT_KEY_PREFIX)
        self.reply = worker(
            "ReplyWorker",
            "Records attendees' replies",
            names.REPLY_HANDLER,
            [*table_and_ses, read_mail],
            fans_out=False,
        )
        if config.trusted_relay_domains:  # answers relayed by these count as verified (docs/replies.md)
            self.reply.function.add_environment(
                ENV_TRUSTED_RELAY_DOMAINS, ",".join(config.trusted_relay_domains)
            )
        # The queue gets the SNS envelope (not raw delivery): its Type and TopicArn tell a
        # notification apart from anything else that might reach the queue.
        self.inbound.topic.add_subscription(
            subscriptions.SqsSubscription(self.reply.queue, raw_message_delivery=False)
        )


def _queue_outputs(
    worker: QueueWorker, queue_key: str, dlq_key: str, label: str
) -> dict[str, tuple[str, str]]:
    return {
        queue_key: (worker.queue.queue_url, f"{label} work queue"),
        dlq_key: (worker.dead_letter_queue.queue_url, f"{label} dead-letter queue"),
    }
