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
OUTPUT_FEEDBACK_QUEUE_URL = "FeedbackQueueUrl"
OUTPUT_FEEDBACK_DLQ_URL = "FeedbackDlqUrl"
OUTPUT_CONFIGURATION_SET_NAME = "ConfigurationSetName"
# Only with the `receiveReplies` context switch on (the default).
OUTPUT_REPLY_QUEUE_URL = "ReplyQueueUrl"
OUTPUT_REPLY_DLQ_URL = "ReplyDlqUrl"
OUTPUT_INBOUND_BUCKET_NAME = "InboundBucketName"
OUTPUT_INBOUND_TOPIC_ARN = "InboundTopicArn"
OUTPUT_RECEIPT_RULE_SET_NAME = "ReceiptRuleSetName"

# Each queue-fed pipeline: kind -> (work queue output, dead-letter queue output). The stack
# publishes its outputs from this table and cisctl finds the queues by it, so a pipeline is named
# once. The reply pair exists only when replies are received.
QUEUE_OUTPUTS = {
    "invite": (OUTPUT_INVITE_QUEUE_URL, OUTPUT_INVITE_DLQ_URL),
    "cancellation": (OUTPUT_CANCELLATION_QUEUE_URL, OUTPUT_CANCELLATION_DLQ_URL),
    "reply": (OUTPUT_REPLY_QUEUE_URL, OUTPUT_REPLY_DLQ_URL),
    "feedback": (OUTPUT_FEEDBACK_QUEUE_URL, OUTPUT_FEEDBACK_DLQ_URL),
}

# The outputs every deployment has.
OUTPUT_KEYS = (
    OUTPUT_INVITE_QUEUE_URL,
    OUTPUT_INVITE_DLQ_URL,
    OUTPUT_CANCELLATION_QUEUE_URL,
    OUTPUT_CANCELLATION_DLQ_URL,
    OUTPUT_TABLE_NAME,
    OUTPUT_FEEDBACK_QUEUE_URL,
    OUTPUT_FEEDBACK_DLQ_URL,
    OUTPUT_CONFIGURATION_SET_NAME,
)
# The outputs of the inbound reply path, added to OUTPUT_KEYS when replies are received.
REPLY_OUTPUT_KEYS = (
    OUTPUT_REPLY_QUEUE_URL,
    OUTPUT_REPLY_DLQ_URL,
    OUTPUT_INBOUND_BUCKET_NAME,
    OUTPUT_INBOUND_TOPIC_ARN,
    OUTPUT_RECEIPT_RULE_SET_NAME,
)

# SES receiving. Names are set explicitly: the bucket policy, the topic policy and the topic's key
# policy name the rule's ARN, which is built from them before the rule exists, and the one-time
# activation (docs/deployment.md) names the rule set. Rule set names are unique per account and
# region, hence the stack name in it.
RECEIPT_RULE_SET_NAME = f"{STATELESS_STACK_NAME}-replies"
RECEIPT_RULE_NAME = "rsvp-to-reply-queue"
# Where SES stores each raw message: <prefix><SES message id>.
INBOUND_OBJECT_KEY_PREFIX = "inbound/"

# SES delivery feedback. The configuration set's name is set explicitly: the topic policy and the
# topic key's policy name its ARN, and the send functions are given the name and an IAM grant on
# the ARN. Configuration set names are unique per account and region, hence the stack name in it.
CONFIGURATION_SET_NAME = f"{STATELESS_STACK_NAME}-sends"
FEEDBACK_EVENT_DESTINATION_NAME = "delivery-feedback-to-sns"

# Lambda handler paths ("<module>.<function>"), relative to the root of the function asset.
# Kept as strings so that synthesis never imports the function code; a test checks that they
# resolve to callables in the `lambdas` package.
INVITE_HANDLER = "lambdas.send_invite.handler.lambda_handler"
CANCELLATION_HANDLER = "lambdas.send_cancellation.handler.lambda_handler"
REPLY_HANDLER = "lambdas.record_reply.handler.lambda_handler"
FEEDBACK_HANDLER = "lambdas.record_feedback.handler.lambda_handler"
