"""Delivery feedback: the configuration set every send uses, its events on an encrypted topic feeding
the feedback worker, the send roles' grant on the configuration set, and the reputation alarms."""

from __future__ import annotations

from typing import Any

import pytest

from infra import names, tuning
from infra.constructs.reputation_alarms import NAMESPACE
from lambdas.runtime.config import ENV_CONFIGURATION_SET, ENV_DLQ_URL, ENV_QUEUE_URL
from tests.infra.helpers import actions, as_list, only, ref_target, resources, statements, text
from tests.infra.synth import ROOT

STATELESS = names.STATELESS_STACK_NAME
SES = {"Service": "ses.amazonaws.com"}
SECURE_TRANSPORT_DENY = {"Bool": {"aws:SecureTransport": "false"}}
SEND_HANDLERS = (names.INVITE_HANDLER, names.CANCELLATION_HANDLER, names.REPLY_HANDLER)
ARN_PREFIX = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
# The event types the feedback function handles, as CloudFormation spells them.
EVENT_TYPES = ["bounce", "complaint", "delivery", "reject", "deliveryDelay", "renderingFailure"]


def configuration_set_id(template: dict[str, Any]) -> str:
    found, _ = only(template, "AWS::SES::ConfigurationSet")
    return found


def configuration_set_arn(template: dict[str, Any]) -> str:
    return ARN_PREFIX + "configuration-set/${" + configuration_set_id(template) + "}"


def feedback_topic_id(template: dict[str, Any]) -> str:
    (topic_id,) = [
        topic_id
        for topic_id, topic in resources(template, "AWS::SNS::Topic").items()
        if topic["Metadata"]["aws:cdk:path"].startswith(f"{STATELESS}/DeliveryFeedback/")
    ]
    return topic_id


def function_id_of(template: dict[str, Any], handler: str) -> str:
    (function_id,) = [
        function_id
        for function_id, fn in resources(template, "AWS::Lambda::Function").items()
        if fn["Properties"]["Handler"] == handler
    ]
    return function_id


def variables_of(template: dict[str, Any], handler: str) -> dict[str, Any]:
    return template["Resources"][function_id_of(template, handler)]["Properties"]["Environment"]["Variables"]


def feedback_queues(template: dict[str, Any]) -> tuple[str, str]:
    variables = variables_of(template, names.FEEDBACK_HANDLER)
    return ref_target(variables[ENV_QUEUE_URL]), ref_target(variables[ENV_DLQ_URL])


def only_this_configuration_set(template: dict[str, Any], statement: dict[str, Any]) -> bool:
    condition = statement["Condition"]
    return condition == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnEquals": {"aws:SourceArn": condition["ArnEquals"]["aws:SourceArn"]},
    } and text(condition["ArnEquals"]["aws:SourceArn"]) == configuration_set_arn(template)


def ses_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [statement for statement in document["Statement"] if statement.get("Principal") == SES]


# --- configuration set -------------------------------------------------------------------------------


def test_one_configuration_set_with_reputation_metrics_sending_and_suppression_of_bounces_and_complaints(
    workers,
):
    _, configuration_set = only(workers, "AWS::SES::ConfigurationSet")
    assert configuration_set["Properties"] == {
        "Name": names.CONFIGURATION_SET_NAME,
        "ReputationOptions": {"ReputationMetricsEnabled": True},
        "SendingOptions": {"SendingEnabled": True},
        "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
    }
    assert workers["Outputs"][names.OUTPUT_CONFIGURATION_SET_NAME]["Value"] == {
        "Ref": configuration_set_id(workers)
    }


def test_the_event_destination_publishes_the_feedback_events_to_the_feedback_topic(workers):
    _, destination = only(workers, "AWS::SES::ConfigurationSetEventDestination")
    properties = destination["Properties"]
    assert properties["ConfigurationSetName"] == {"Ref": configuration_set_id(workers)}
    event_destination = properties["EventDestination"]
    assert event_destination == {
        "Name": names.FEEDBACK_EVENT_DESTINATION_NAME,
        "Enabled": True,
        "MatchingEventTypes": EVENT_TYPES,
        "SnsDestination": {"TopicARN": {"Ref": feedback_topic_id(workers)}},
    }


def test_the_event_destination_is_created_after_the_topic_policy_ses_checks_at_creation(workers):
    (policy_id,) = [
        policy_id
        for policy_id, policy in resources(workers, "AWS::SNS::TopicPolicy").items()
        if policy["Properties"]["Topics"] == [{"Ref": feedback_topic_id(workers)}]
    ]
    _, destination = only(workers, "AWS::SES::ConfigurationSetEventDestination")
    assert destination["DependsOn"] == [policy_id]


# --- topic -----------------------------------------------------------------------------------------


def test_topic_is_encrypted_with_a_rotated_key_ses_may_use_for_this_configuration_set_only(workers):
    topic = workers["Resources"][feedback_topic_id(workers)]
    key = workers["Resources"][ref_target(topic["Properties"]["KmsMasterKeyId"])]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = ses_statements(key["Properties"]["KeyPolicy"])
    assert sorted(actions(statement)) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert only_this_configuration_set(workers, statement)


def test_topic_policy_denies_plain_http_and_lets_only_ses_for_this_configuration_set_publish(workers):
    topic_id = feedback_topic_id(workers)
    (policy,) = [
        policy
        for policy in resources(workers, "AWS::SNS::TopicPolicy").values()
        if policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    ]
    document = policy["Properties"]["PolicyDocument"]
    (deny,) = [statement for statement in document["Statement"] if statement["Effect"] == "Deny"]
    assert deny["Condition"] == SECURE_TRANSPORT_DENY
    allows = [statement for statement in document["Statement"] if statement["Effect"] == "Allow"]
    assert allows == ses_statements(document)
    (allow,) = allows
    assert (allow["Action"], allow["Resource"]) == ("sns:Publish", {"Ref": topic_id})
    assert only_this_configuration_set(workers, allow)


def test_a_condition_naming_another_configuration_set_is_not_taken_for_this_one(workers):
    """Guards the two tests above: the check compares the ARN, not only the condition's shape."""
    other = {
        "Condition": {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnEquals": {"aws:SourceArn": ARN_PREFIX + "configuration-set/other"},
        }
    }
    assert not only_this_configuration_set(workers, other)


# --- topic -> feedback queue -> feedback function ----------------------------------------------------


def test_the_feedback_queue_subscribes_to_the_topic_and_receives_the_sns_envelope(workers):
    queue_id, _ = feedback_queues(workers)
    (subscription,) = [
        subscription
        for subscription in resources(workers, "AWS::SNS::Subscription").values()
        if subscription["Properties"]["TopicArn"] == {"Ref": feedback_topic_id(workers)}
    ]
    properties = subscription["Properties"]
    assert properties["Protocol"] == "sqs"
    assert properties["Endpoint"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert properties["RawMessageDelivery"] is False


def test_the_feedback_queue_lets_only_the_feedback_topic_send_to_it(workers):
    queue_id, _ = feedback_queues(workers)
    (policy,) = [
        policy
        for policy in resources(workers, "AWS::SQS::QueuePolicy").values()
        if policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    (allow,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": feedback_topic_id(workers)}}}


def test_the_feedback_function_drains_its_own_queue_which_redrives_to_its_own_dlq(synth, workers):
    queue_id, dlq_id = feedback_queues(workers)
    function_id = function_id_of(workers, names.FEEDBACK_HANDLER)
    (mapping,) = [
        mapping
        for mapping in resources(workers, "AWS::Lambda::EventSourceMapping").values()
        if ref_target(mapping["Properties"]["FunctionName"]) == function_id
    ]
    properties = mapping["Properties"]
    assert ref_target(properties["EventSourceArn"]) == queue_id
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == tuning.BATCH_SIZE
    assert properties["ScalingConfig"]["MaximumConcurrency"] == synth.stacks.config.max_concurrency
    queue = workers["Resources"][queue_id]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": tuning.MAX_RECEIVE_COUNT,
    }
    assert queue["SqsManagedSseEnabled"] is True
    assert workers["Resources"][dlq_id]["Properties"]["SqsManagedSseEnabled"] is True
    assert workers["Outputs"][names.OUTPUT_FEEDBACK_QUEUE_URL]["Value"] == {"Ref": queue_id}
    assert workers["Outputs"][names.OUTPUT_FEEDBACK_DLQ_URL]["Value"] == {"Ref": dlq_id}


def test_the_feedback_dlq_has_a_depth_alarm(workers):
    _, dlq_id = feedback_queues(workers)
    (alarm,) = [
        alarm
        for alarm in resources(workers, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    ]
    assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Properties"]["Threshold"] == tuning.DLQ_ALARM_THRESHOLD


# --- roles -----------------------------------------------------------------------------------------

TABLE_ACTIONS = ("dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem")


def granted(template: dict[str, Any], handler: str) -> dict[tuple[str, ...], tuple[tuple[str, ...], Any]]:
    """The role's statements as {sorted actions: (sorted resources as text, condition)}."""
    role_id = ref_target(template["Resources"][function_id_of(template, handler)]["Properties"]["Role"])
    found = {}
    for statement in statements(template, role_id):
        assert statement["Effect"] == "Allow"
        resources_text = tuple(sorted(text(resource) for resource in as_list(statement["Resource"])))
        key = tuple(sorted(actions(statement)))
        assert key not in found
        found[key] = (resources_text, statement.get("Condition"))
    return found


def test_the_feedback_role_holds_exactly_these_actions_on_these_resources(workers):
    function = workers["Resources"][function_id_of(workers, names.FEEDBACK_HANDLER)]["Properties"]
    queue_id, dlq_id = feedback_queues(workers)
    log_group_id = ref_target(function["LoggingConfig"]["LogGroup"])
    found = granted(workers, names.FEEDBACK_HANDLER)
    ((table_arn,), table_condition) = found.pop(TABLE_ACTIONS)
    assert table_condition is None
    assert table_arn.startswith("${" + names.STATEFUL_STACK_NAME + ":")  # the table, from its stack
    assert found == {
        ("logs:CreateLogStream", "logs:PutLogEvents"): (("${" + log_group_id + ".Arn}",), None),
        # dead-lettering only: it never fans out, and it sends no email
        ("sqs:SendMessage",): (("${" + dlq_id + ".Arn}",), None),
        (
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
            "sqs:ReceiveMessage",
        ): (("${" + queue_id + ".Arn}",), None),
    }
    # the same table the send functions write
    assert (table_arn,) == granted(workers, names.INVITE_HANDLER)[TABLE_ACTIONS][0]


@pytest.mark.parametrize("handler", SEND_HANDLERS)
def test_each_send_role_may_send_as_the_sender_through_its_identities_and_the_configuration_set(
    synth, workers, handler
):
    config = synth.stacks.config
    identity_arns = [ARN_PREFIX + "identity/" + identity for identity in config.sending_identities]
    assert granted(workers, handler)[("ses:SendEmail", "ses:SendRawEmail")] == (
        tuple(sorted([*identity_arns, configuration_set_arn(workers)])),
        {"StringEquals": {"ses:FromAddress": config.sender}},
    )


@pytest.mark.parametrize("handler", SEND_HANDLERS)
def test_each_send_function_is_told_the_configuration_set(workers, handler):
    assert variables_of(workers, handler)[ENV_CONFIGURATION_SET] == {"Ref": configuration_set_id(workers)}


def test_the_feedback_function_is_not_told_a_configuration_set_it_may_not_send_through(workers):
    assert ENV_CONFIGURATION_SET not in variables_of(workers, names.FEEDBACK_HANDLER)


# --- reputation alarms -------------------------------------------------------------------------------


def reputation_alarms(template: dict[str, Any]) -> dict[tuple[str, float], dict[str, Any]]:
    return {
        (alarm["Properties"]["MetricName"], alarm["Properties"]["Threshold"]): alarm["Properties"]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == NAMESPACE
    }


def test_bounce_and_complaint_rates_alarm_early_and_at_the_review_thresholds(workers):
    found = reputation_alarms(workers)
    bounce, complaint = tuning.BOUNCE_RATE_REVIEW_THRESHOLD, tuning.COMPLAINT_RATE_REVIEW_THRESHOLD
    assert (bounce, complaint) == (0.05, 0.001)  # what AWS reviews; changing them needs a reason
    early = tuning.EARLY_WARNING_FRACTION
    assert sorted(found) == sorted(
        [
            ("Reputation.BounceRate", bounce * early),
            ("Reputation.BounceRate", bounce),
            ("Reputation.ComplaintRate", complaint * early),
            ("Reputation.ComplaintRate", complaint),
        ]
    )
    for properties in found.values():
        assert "Dimensions" not in properties  # the account's rate, not one configuration set's
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert properties["Statistic"] == "Maximum"
        assert properties["Period"] == tuning.REPUTATION_ALARM_PERIOD.to_seconds()
        assert properties["EvaluationPeriods"] == 1
        assert properties["TreatMissingData"] == "ignore"
        assert 'docs/deployment.md, "When a reputation alarm fires"' in properties["AlarmDescription"]


def test_the_runbook_the_alarms_point_at_exists():
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    assert "\n## When a reputation alarm fires\n" in deployment


def test_reputation_alarms_notify_the_alarm_topic_when_there_is_one(default_synth, configured_synth):
    for properties in reputation_alarms(default_synth.template(STATELESS)).values():
        assert "AlarmActions" not in properties
    configured = configured_synth.template(STATELESS)
    (alarm_topic_id,) = [
        topic_id
        for topic_id, topic in resources(configured, "AWS::SNS::Topic").items()
        if topic["Metadata"]["aws:cdk:path"].startswith(f"{STATELESS}/AlarmTopic/")
    ]
    found = reputation_alarms(configured)
    assert len(found) == 4
    for properties in found.values():
        assert properties["AlarmActions"] == [{"Ref": alarm_topic_id}]
