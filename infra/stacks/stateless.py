"""Resources that can be replaced at will: the queue workers, their alarms, the alarm topic, the
SES configuration set whose delivery events feed the feedback worker, the sending-reputation alarms,
and (with `receiveReplies`) the inbound mail path that feeds the reply worker.

Every worker is a row of infra/pipelines.py: this stack resolves each row's symbolic grants, feed
and settings to the constructs here, and publishes each row's queue outputs.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import bundling, names, tuning
from infra.config import AppConfig
from infra.constructs import permissions
from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.delivery_feedback import DeliveryFeedback
from infra.constructs.inbound_mail import InboundMail, ReceiptRoute
from infra.constructs.queue_worker import QueueWorker
from infra.constructs.reputation_alarms import ReputationAlarms, ReputationRate
from infra.guard import add_placeholder_guard, add_rsvp_placeholder_guard
from infra.pipelines import Feed, Grant, Pipeline, Setting, deployed
from infra.receiving import require_receiving_region
from lambdas.runtime.config import (
    ENV_ALLOWED_ORGANIZERS,
    ENV_CANCELLATION_QUEUE_URL,
    ENV_INBOUND_BUCKET,
    ENV_INBOUND_KEY_PREFIX,
    ENV_INBOUND_RECIPIENT,
    ENV_INBOUND_TOPIC_ARN,
    ENV_INVITE_QUEUE_URL,
    ENV_TRUSTED_RELAY_DOMAINS,
)

RSVP_DOMAIN_WARNING_ID = "calendar-invite:rsvp-domain-not-verified-here"
EVENT_DOMAIN_WARNING_ID = "calendar-invite:event-domain-not-verified-here"


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
        self.config = config
        self.table = table

        alarm_topic = (
            AlarmTopic(self, "AlarmTopic", email=config.alarm_email).topic if config.alarm_email else None
        )
        # Every send names this configuration set, so that SES reports what became of it.
        self.delivery_feedback = DeliveryFeedback(
            self,
            "DeliveryFeedback",
            configuration_set_name=names.CONFIGURATION_SET_NAME,
            event_destination_name=names.FEEDBACK_EVENT_DESTINATION_NAME,
        )
        self.inbound = self._add_inbound_mail(config) if config.receive_replies else None
        # The event address's rule exists only with receiving on and an address configured; without
        # one, nothing listens for organizers' mail and no role may send as an unset address.
        self.organizer_route = (
            self._add_event_address(config, self.inbound)
            if self.inbound is not None and config.event_email
            else None
        )

        self.pipelines = deployed(
            receive_replies=config.receive_replies, event_address=self.organizer_route is not None
        )
        # Every instance of every function that sends paces itself at the account's rate divided
        # by this, so that together they can never exceed it (docs/performance.md, "Keeping to
        # the SES rate").
        self.sending_instances = tuning.sending_instances(
            config.max_concurrency,
            sending_functions=sum(pipeline.sends_email for pipeline in self.pipelines),
        )
        code = bundling.function_code()
        # In the rows' order: a row that enqueues onto another's queue (ENQUEUE_SENDS) comes after it.
        self.workers: dict[str, QueueWorker] = {}
        for pipeline in self.pipelines:
            self.workers[pipeline.kind] = self._add_worker(pipeline, code, alarm_topic)
        self.reputation_alarms = self._add_reputation_alarms(alarm_topic)
        for key, (value, description) in self._outputs().items():
            CfnOutput(self, key, value=value, description=description)

    def _add_worker(
        self, pipeline: Pipeline, code: lambda_.Code, alarm_topic: sns.ITopic | None
    ) -> QueueWorker:
        """One row of infra/pipelines.py: its queue worker, its settings, and its feed."""
        config = self.config
        worker = QueueWorker(
            self,
            pipeline.construct_id,
            description=pipeline.description,
            handler=pipeline.handler,
            code=code,
            table=self.table,
            # A row that answers as the event address sends from it (Grant.SEND_AS_EVENT_ADDRESS).
            sender=config.event_email if Grant.SEND_AS_EVENT_ADDRESS in pipeline.grants else config.sender,
            rsvp_email=config.rsvp_email,
            subject_prefix=config.subject_prefix,
            max_concurrency=config.max_concurrency,
            permissions=[
                *permissions.table_access(self.table, pipeline.table),
                *(granted for grant in pipeline.grants for granted in self._resolve(grant, pipeline)),
            ],
            fans_out=pipeline.fans_out,
            puts_back=pipeline.puts_back,
            alarm_topic=alarm_topic,
        )
        for name, value in {**self._settings(pipeline), **self._origin(pipeline.feed)}.items():
            worker.function.add_environment(name, value)
        topic = self._topic(pipeline.feed)
        if topic is not None:
            # The queue gets the SNS envelope (not raw delivery): its Type and TopicArn tell a
            # notification apart from anything else that might reach the queue.
            topic.add_subscription(subscriptions.SqsSubscription(worker.queue, raw_message_delivery=False))
        return worker

    # ------------------------------------------------------------------ a row's symbols, resolved

    def _resolve(self, grant: Grant, pipeline: Pipeline) -> list[permissions.Permission]:
        """The statements behind one grant, made anew for each role."""
        config = self.config
        if grant in (Grant.SEND_EMAIL, Grant.SEND_AS_EVENT_ADDRESS):
            as_event_address = grant is Grant.SEND_AS_EVENT_ADDRESS
            identities = config.event_sending_identities if as_event_address else config.sending_identities
            identity_arns = [
                self.format_arn(
                    service="ses",
                    resource="identity",
                    resource_name=identity,
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                )
                for identity in identities
            ]
            send = permissions.send_email_as(
                config.event_email if as_event_address else config.sender,
                identity_arns,
                configuration_set_name=self.delivery_feedback.configuration_set_name,
                configuration_set_arn=self.delivery_feedback.configuration_set_arn,
                sending_instances=self.sending_instances,
                max_send_rate=config.ses_max_send_rate,
            )
            # Without a configured rate, the function reads the account's and paces by it.
            return [send] if config.ses_max_send_rate is not None else [send, permissions.read_send_quota()]
        if grant is Grant.READ_INBOUND_MAIL:
            # Only under the prefix of the rule that feeds the row.
            prefix = self._origin(pipeline.feed)[ENV_INBOUND_KEY_PREFIX]
            return [permissions.read_objects(self._inbound_mail().bucket, prefix)]
        if grant is Grant.ENQUEUE_SENDS:
            queues = {
                ENV_INVITE_QUEUE_URL: self.workers["invite"].queue,
                ENV_CANCELLATION_QUEUE_URL: self.workers["cancellation"].queue,
            }
            return [permissions.enqueue_onto(queues)]
        raise ValueError(f"no permissions for {grant}")

    def _topic(self, feed: Feed) -> sns.ITopic | None:
        """The topic whose SNS envelopes feed the queue; None for producers sending to it directly."""
        if feed is Feed.DELIVERY_FEEDBACK:
            return self.delivery_feedback.topic
        if feed is Feed.INBOUND_MAIL:
            return self._inbound_mail().topic
        if feed is Feed.ORGANIZER_MAIL:
            return self._organizer_route().topic
        return None

    def _origin(self, feed: Feed) -> dict[str, str]:
        """What a function fed by the inbound topic checks each notification against, to refuse
        one that the receipt rule did not send (lambdas/domain/inbound/origin.py)."""
        if feed is Feed.ORGANIZER_MAIL:
            route = self._organizer_route()
            return {
                ENV_INBOUND_TOPIC_ARN: route.topic.topic_arn,
                ENV_INBOUND_BUCKET: self._inbound_mail().bucket.bucket_name,
                ENV_INBOUND_KEY_PREFIX: route.object_key_prefix,
                ENV_INBOUND_RECIPIENT: self.config.event_email,
            }
        if feed is not Feed.INBOUND_MAIL:
            return {}
        inbound = self._inbound_mail()
        return {
            ENV_INBOUND_TOPIC_ARN: inbound.topic.topic_arn,
            ENV_INBOUND_BUCKET: inbound.bucket.bucket_name,
            ENV_INBOUND_KEY_PREFIX: inbound.object_key_prefix,
        }

    def _inbound_mail(self) -> InboundMail:
        if self.inbound is None:  # pipelines.deployed leaves such a row out without receiveReplies
            raise ValueError("the inbound mail path exists only with receiveReplies")
        return self.inbound

    def _organizer_route(self) -> ReceiptRoute:
        if self.organizer_route is None:  # pipelines.deployed leaves such a row out without one
            raise ValueError("the event address's route exists only with receiveReplies and an eventEmail")
        return self.organizer_route

    def _settings(self, pipeline: Pipeline) -> dict[str, str]:
        """The environment for the row's settings that are configured; none otherwise."""
        configured = {
            Setting.TRUSTED_RELAY_DOMAINS: (
                ENV_TRUSTED_RELAY_DOMAINS,
                ",".join(self.config.trusted_relay_domains),
            ),
            Setting.ALLOWED_ORGANIZERS: (ENV_ALLOWED_ORGANIZERS, ",".join(self.config.allowed_organizers)),
        }
        return {name: value for name, value in (configured[s] for s in pipeline.settings) if value}

    # ------------------------------------------------------------------------------- the rest

    def _add_inbound_mail(self, config: AppConfig) -> InboundMail:
        """SES receiving for the RSVP address, into the bucket and the topic that feeds replies."""
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
        return InboundMail(
            self,
            "InboundMail",
            recipient=config.rsvp_email,
            rule_set_name=names.RECEIPT_RULE_SET_NAME,
            rule_name=names.RECEIPT_RULE_NAME,
            object_key_prefix=names.INBOUND_OBJECT_KEY_PREFIX,
            retention=Duration.days(config.inbound_retention_days),
        )

    def _add_event_address(self, config: AppConfig, inbound: InboundMail) -> ReceiptRoute:
        """SES receiving for the event address: a second rule, into the same bucket under its own
        prefix, announced on its own topic (docs/organizer.md, "Receiving")."""
        domain = config.event_domain
        if not config.identity_covers(domain):
            Annotations.of(self).add_warning_v2(
                EVENT_DOMAIN_WARNING_ID,
                f"SES receives mail for {config.event_email}, and sends the organizers' answers from "
                f"it, only once it or its domain {domain} is a verified SES identity in this region, "
                f"and this stack verifies {config.ses_identity}. Verify it yourself (docs/deployment.md).",
            )
        return inbound.add_route(
            "EventAddress",
            recipient=config.event_email,
            rule_name=names.ORGANIZER_RULE_NAME,
            object_key_prefix=names.ORGANIZER_OBJECT_KEY_PREFIX,
        )

    def _add_reputation_alarms(self, alarm_topic: sns.ITopic | None) -> ReputationAlarms:
        return ReputationAlarms(
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

    def _outputs(self) -> dict[str, tuple[str, str]]:
        """Output key -> (value, description): each pipeline's queues, then the shared resources."""
        outputs: dict[str, tuple[str, str]] = {}
        for pipeline in self.pipelines:
            worker = self.workers[pipeline.kind]
            outputs[pipeline.queue_output] = (worker.queue.queue_url, f"{pipeline.label} work queue")
            outputs[pipeline.dlq_output] = (
                worker.dead_letter_queue.queue_url,
                f"{pipeline.label} dead-letter queue",
            )
        outputs[names.OUTPUT_TABLE_NAME] = (self.table.table_name, "DynamoDB table of events and attendees")
        outputs[names.OUTPUT_CONFIGURATION_SET_NAME] = (
            self.delivery_feedback.configuration_set_name,
            "SES configuration set every send uses (delivery events, suppression list)",
        )
        if self.inbound is not None:
            outputs[names.OUTPUT_INBOUND_BUCKET_NAME] = (
                self.inbound.bucket.bucket_name,
                "Raw mail received for the RSVP address",
            )
            outputs[names.OUTPUT_INBOUND_TOPIC_ARN] = (
                self.inbound.topic.topic_arn,
                "SES receipt notifications for the RSVP address",
            )
            outputs[names.OUTPUT_RECEIPT_RULE_SET_NAME] = (
                self.inbound.rule_set.receipt_rule_set_name,
                "Activate once: aws ses set-active-receipt-rule-set --rule-set-name <this>",
            )
        if self.organizer_route is not None:
            outputs[names.OUTPUT_ORGANIZER_TOPIC_ARN] = (
                self.organizer_route.topic.topic_arn,
                "SES receipt notifications for the event address",
            )
        return outputs
