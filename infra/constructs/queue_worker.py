"""One SQS work queue with its DLQ, the function that drains it, and an alarm on the DLQ.

Every pipeline (each row of infra/pipelines.py) is an instance of `QueueWorker`; they differ in
their handler and in what else their function calls. The queue's
visibility timeout is derived from the function timeout here. The function's role holds exactly
the calls the function makes (listed in docs/architecture.md): what every worker does (logs,
dead-lettering invalid input onto its own DLQ, the event source mapping) is granted here, the rest
is handed in by the caller as `permissions` (see infra/constructs/permissions.py), together with
the environment each of them needs, and `fans_out` or `puts_back` adds sending onto its own work
queue: for the functions that fan a request out, and for those that send email and put a send SES
throttled back on their queue (docs/idempotency.md, "Throttling").
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import bundling, nag, tuning
from infra.constructs.permissions import Permission
from lambdas.runtime.config import (
    ENV_CLAIM_LEASE_SECONDS,
    ENV_DLQ_URL,
    ENV_MAX_WORKERS,
    ENV_QUEUE_URL,
    ENV_REGION,
    ENV_RSVP_EMAIL,
    ENV_SENDER,
    ENV_SUBJECT_PREFIX,
    ENV_TABLE,
)

# Fan-out onto the function's own queue (SendMessageBatch is authorised as SendMessage), and
# invalid input onto its DLQ.
QUEUE_SEND_ACTIONS = ("sqs:SendMessage",)
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


class QueueWorker(Construct):
    """Work queue + DLQ + worker function + SQS event source mapping + DLQ depth alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        handler: str,
        code: lambda_.Code,
        table: dynamodb.ITable,
        sender: str,
        rsvp_email: str,
        subject_prefix: str,
        max_concurrency: int,
        permissions: Sequence[Permission],
        fans_out: bool,
        puts_back: bool = False,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=tuning.DLQ_RETENTION,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=tuning.QUEUE_RETENTION,
            visibility_timeout=tuning.visibility_timeout(tuning.FUNCTION_TIMEOUT, tuning.MAX_BATCHING_WINDOW),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=tuning.MAX_RECEIVE_COUNT
            ),
        )

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=tuning.LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )

        # Invalid input goes to the DLQ, sent there by the batch loop itself; a fan-out, or a
        # throttled send put back for later, goes onto the work queue.
        sends_to_own_queue = fans_out or puts_back
        own_queues = [self.queue, self.dead_letter_queue] if sends_to_own_queue else [self.dead_letter_queue]
        summaries = [
            "logs",
            *(permission.summary for permission in permissions),
            "its own queues" if sends_to_own_queue else "its own DLQ",
        ]
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description}: {', '.join(summaries)}",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=list(LOG_ACTIONS), resources=[self.log_group.log_group_arn])
        )
        for permission in permissions:
            self.role.add_to_policy(permission.statement)
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=list(QUEUE_SEND_ACTIONS), resources=[queue.queue_arn for queue in own_queues]
            )
        )

        timeout_seconds = int(tuning.FUNCTION_TIMEOUT.to_seconds())
        granted_environment = {
            name: value for permission in permissions for name, value in permission.environment.items()
        }
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=bundling.RUNTIME,
            architecture=bundling.ARCHITECTURE,
            handler=handler,
            code=code,
            memory_size=tuning.FUNCTION_MEMORY_MB,
            timeout=tuning.FUNCTION_TIMEOUT,
            role=self.role,
            log_group=self.log_group,
            # Lambda's own structured logging: the runtime writes each record as one JSON object,
            # with the `extra` fields the functions pass (outcome, uid, attendee, messageId) and
            # the request id, at no import cost (docs/performance.md). The platform's INFO lines
            # include REPORT (duration, memory used), which operators size the functions with.
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            environment={
                ENV_REGION: Stack.of(self).region,
                ENV_TABLE: table.table_name,
                ENV_SENDER: sender,
                ENV_RSVP_EMAIL: rsvp_email,
                ENV_QUEUE_URL: self.queue.queue_url,
                ENV_DLQ_URL: self.dead_letter_queue.queue_url,
                ENV_SUBJECT_PREFIX: subject_prefix,
                # A claim on an attendee lasts as long as one invocation can; SQS redelivers only
                # after the visibility timeout (6x longer), so a live invocation is never overtaken.
                ENV_CLAIM_LEASE_SECONDS: str(timeout_seconds),
                ENV_MAX_WORKERS: str(tuning.BATCH_SIZE),
                **granted_environment,
            },
        )
        # CDK makes a function depend on a role passed in (the role and its DefaultPolicy). The
        # dependency on the role itself is implied by the Role GetAtt, and cfn-lint (W3005) flags
        # the duplicate; the one on the policy is what matters: the function must not start before
        # its permissions are attached. The policy exists by now (statements were added above).
        default_policy = self.role.node.find_child("DefaultPolicy").node.default_child
        self.function.node.default_child.add_override("DependsOn", [default_policy.logical_id])
        for permission in permissions:
            for rule, reason in permission.acknowledgements:
                nag.acknowledge(default_policy, rule, reason)
        nag.acknowledge(
            self.function.node.default_child,
            "L1",
            "python3.13 on purpose: the asset's wheels are resolved for CPython 3.13 "
            "(bundling.PIP_PYTHON_VERSION) and the runtime is in standard support; "
            "move both together when adopting a newer runtime.",
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=tuning.BATCH_SIZE,
                max_batching_window=tuning.MAX_BATCHING_WINDOW,
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )

        self.dlq_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterQueueAlarm",
            alarm_description=(
                f"{description}: messages in the dead-letter queue. Inspect them, fix the cause, "
                "then redrive them (docs/deployment.md)."
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=tuning.DLQ_ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=tuning.DLQ_ALARM_THRESHOLD,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if alarm_topic is not None:
            self.dlq_alarm.add_alarm_action(cloudwatch_actions.SnsAction(alarm_topic))
