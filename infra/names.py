"""Names other tools rely on: stack names and output keys (each pipeline's are in infra/pipelines.py).

A CLI looks the deployed queues and table up by these output keys, so import them from here
rather than repeating the strings.
"""

from __future__ import annotations

from infra.pipelines import PIPELINES

# Stack names (also the CloudFormation stack names).
STATEFUL_STACK_NAME = "CalendarInviteData"
STATELESS_STACK_NAME = "CalendarInviteWorkers"

# CloudFormation output keys. All of them are outputs of the stateless stack, so one
# `aws cloudformation describe-stacks --stack-name CalendarInviteWorkers` finds everything. Each
# pipeline's queue and DLQ keys are in its row of infra/pipelines.py.
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_CONFIGURATION_SET_NAME = "ConfigurationSetName"
# Only with the `receiveReplies` context switch on (the default).
OUTPUT_INBOUND_BUCKET_NAME = "InboundBucketName"
OUTPUT_INBOUND_TOPIC_ARN = "InboundTopicArn"
OUTPUT_RECEIPT_RULE_SET_NAME = "ReceiptRuleSetName"
# Only with an event address (`eventEmail`) as well.
OUTPUT_ORGANIZER_TOPIC_ARN = "OrganizerTopicArn"

# Each pipeline: kind -> (work queue output, dead-letter queue output), from its row. The reply
# pair exists only when replies are received.
QUEUE_OUTPUTS = {pipeline.kind: pipeline.outputs for pipeline in PIPELINES}

# The outputs every deployment has.
OUTPUT_KEYS = (
    *(key for pipeline in PIPELINES if not pipeline.needs_replies for key in pipeline.outputs),
    OUTPUT_TABLE_NAME,
    OUTPUT_CONFIGURATION_SET_NAME,
)
# The outputs of the inbound reply path, added to OUTPUT_KEYS when replies are received.
REPLY_OUTPUT_KEYS = (
    *(
        key
        for pipeline in PIPELINES
        if pipeline.needs_replies and not pipeline.needs_event_address
        for key in pipeline.outputs
    ),
    OUTPUT_INBOUND_BUCKET_NAME,
    OUTPUT_INBOUND_TOPIC_ARN,
    OUTPUT_RECEIPT_RULE_SET_NAME,
)

# The outputs of the event address's path, added to those when an event address is configured.
ORGANIZER_OUTPUT_KEYS = (
    *(key for pipeline in PIPELINES if pipeline.needs_event_address for key in pipeline.outputs),
    OUTPUT_ORGANIZER_TOPIC_ARN,
)

# SES receiving. Names are set explicitly: the bucket policy, the topic policy and the topic's key
# policy name the rule's ARN, which is built from them before the rule exists, and the one-time
# activation (docs/deployment.md) names the rule set. Rule set names are unique per account and
# region, hence the stack name in it.
RECEIPT_RULE_SET_NAME = f"{STATELESS_STACK_NAME}-replies"
RECEIPT_RULE_NAME = "rsvp-to-reply-queue"
# Where SES stores each raw message: <prefix><SES message id>.
INBOUND_OBJECT_KEY_PREFIX = "inbound/"
# The event address's rule, in the same rule set, storing into the same bucket under its own prefix.
ORGANIZER_RULE_NAME = "event-address-to-organizer-queue"
ORGANIZER_OBJECT_KEY_PREFIX = "organizer/"

# SES delivery feedback. The configuration set's name is set explicitly: the topic policy and the
# topic key's policy name its ARN, and the send functions are given the name and an IAM grant on
# the ARN. Configuration set names are unique per account and region, hence the stack name in it.
CONFIGURATION_SET_NAME = f"{STATELESS_STACK_NAME}-sends"
FEEDBACK_EVENT_DESTINATION_NAME = "delivery-feedback-to-sns"
