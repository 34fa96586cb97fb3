"""Names other tools rely on: stack names, output keys and handler paths.

A CLI looks the deployed queues and table up by these output keys, so import them from here
rather than repeating the strings.
"""

from __future__ import annotations

# Stack names (also the CloudFormation stack names).
STATEFUL_STACK_NAME = "CalendarInviteData"
STATELESS_STACK_NAME = "CalendarInviteWorkers"

# CloudFormation output keys. All of them are outputs of the stateless stack, so one
# `aws cloudformation describe-stacks --stack-name CalendarInviteWorkers` finds everything.
OUTPUT_INVITE_QUEUE_URL = "InviteQueueUrl"
OUTPUT_INVITE_DLQ_URL = "InviteDlqUrl"
OUTPUT_CANCELLATION_QUEUE_URL = "CancellationQueueUrl"
OUTPUT_CANCELLATION_DLQ_URL = "CancellationDlqUrl"
OUTPUT_TABLE_NAME = "TableName"

OUTPUT_KEYS = (
    OUTPUT_INVITE_QUEUE_URL,
    OUTPUT_INVITE_DLQ_URL,
    OUTPUT_CANCELLATION_QUEUE_URL,
    OUTPUT_CANCELLATION_DLQ_URL,
    OUTPUT_TABLE_NAME,
)

# Lambda handler paths ("<module>.<function>"), relative to the root of the function asset.
# Kept as strings so that synthesis never imports the function code; a test checks that they
# resolve to callables in the `lambdas` package.
INVITE_HANDLER = "lambdas.send_invite.handler.lambda_handler"
CANCELLATION_HANDLER = "lambdas.send_cancellation.handler.lambda_handler"
