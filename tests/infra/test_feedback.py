"""Delivery feedback: the configuration set every send uses, its events on an encrypted topic feeding
the feedback worker, the send roles' grant on the configuration set, and the reputation alarms."""

from __future__ import annotations

from typing import Any

import pytest

from infra import names, tuning
from infra.constructs.reputation_alarms import NAMESPACE
from infra.pipelines import PIPELINES, Feed, Grant
from lambdas.runtime.config import ENV_CONFIGURATION_SET, ENV_TABLE
from tests.infra.helpers import only, ref_target, resources
from tests.infra.pipelines import (
    conditions_as_text,
    configuration_set_arn,
    deployed_in,
    function_id_of,
    granted,
    left_out,
    only_this_source,
    ses_key_statement,
    ses_publish_statement,
    ses_send_grant,
    topic_id_under,
    topic_policy_id,
    variables_of,
    worker_queues,
)
from tests.infra.synth import ROOT

STATELESS = names.STATELESS_STACK_NAME
# The pipeline the feedback topic feeds; what every row has in common: tests/infra/test_pipelines.py.
(FEEDBACK,) = [pipeline for pipeline in PIPELINES if pipeline.feed is Feed.DELIVERY_FEEDBACK]
SENDERS = [pipeline for pipeline in PIPELINES if pipeline.sends_email]
# The event types the feedback function handles, as CloudFormation spells them.
EVENT_TYPES = ["bounce", "complaint", "delivery", "reject", "deliveryDelay", "renderingFailure"]
# It reads message, attendee and event items, and writes attendee and event items only.
TABLE_READS, TABLE_WRITES = ("dynamodb:GetItem",), ("dynamodb:UpdateItem",)
SEND_TABLE_READS = ("dynamodb:GetItem", "dynamodb:Query")


def in_partitions(*prefixes: str) -> dict[str, Any]:
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{prefix}*" for prefix in prefixes]}}


def configuration_set_id(template: dict[str, Any]) -> str:
    found, _ = only(template, "AWS::SES::ConfigurationSet")
    return found


def feedback_topic_id(template: dict[str, Any]) -> str:
    return topic_id_under(template, f"{STATELESS}/DeliveryFeedback/")


# --- configuration set and event destination ---------------------------------------------------------


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
    assert destination["Properties"] == {
        "ConfigurationSetName": {"Ref": configuration_set_id(workers)},
        "EventDestination": {
            "Name": names.FEEDBACK_EVENT_DESTINATION_NAME,
            "Enabled": True,
            "MatchingEventTypes": EVENT_TYPES,
            "SnsDestination": {"TopicARN": {"Ref": feedback_topic_id(workers)}},
        },
    }


def test_the_event_destination_is_created_after_the_topic_policy_ses_checks_at_creation(workers):
    _, destination = only(workers, "AWS::SES::ConfigurationSetEventDestination")
    assert destination["DependsOn"] == [topic_policy_id(workers, feedback_topic_id(workers))]


# --- topic -----------------------------------------------------------------------------------------


def test_topic_is_encrypted_with_a_rotated_key_ses_may_use_for_this_configuration_set_only(workers):
    statement = ses_key_statement(workers, feedback_topic_id(workers))
    assert conditions_as_text(statement) == only_this_source(configuration_set_arn(workers))


def test_topic_policy_denies_plain_http_and_lets_only_ses_for_this_configuration_set_publish(workers):
    allow = ses_publish_statement(workers, feedback_topic_id(workers))
    assert conditions_as_text(allow) == only_this_source(configuration_set_arn(workers))


# --- roles -----------------------------------------------------------------------------------------


def test_the_feedback_role_holds_exactly_these_actions_on_these_resources(synth, workers):
    queue_id, dlq_id = worker_queues(workers, FEEDBACK.handler)
    function = workers["Resources"][function_id_of(workers, FEEDBACK.handler)]["Properties"]
    log_group_id = ref_target(function["LoggingConfig"]["LogGroup"])
    found = granted(workers, FEEDBACK.handler)
    ((table_arn,), read_condition) = found.pop(TABLE_READS)
    assert found.pop(TABLE_WRITES) == ((table_arn,), in_partitions("event#"))
    assert read_condition == in_partitions("event#", "message#")
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
    # the table the send functions write, read from the data stack like the table name it is told
    for sender in [p.handler for p in deployed_in(synth) if Grant.SEND_EMAIL in p.grants]:
        assert (table_arn,) == granted(workers, sender)[SEND_TABLE_READS][0]
        assert variables_of(workers, FEEDBACK.handler)[ENV_TABLE] == variables_of(workers, sender)[ENV_TABLE]
    assert table_arn.startswith("${" + names.STATEFUL_STACK_NAME + ":")


@pytest.mark.parametrize("pipeline", SENDERS, ids=[pipeline.kind for pipeline in SENDERS])
def test_each_send_role_may_send_as_the_sender_through_its_identities_and_the_configuration_set(
    synth, workers, pipeline
):
    if left_out(synth, pipeline):
        return
    as_event_address = Grant.SEND_AS_EVENT_ADDRESS in pipeline.grants
    assert granted(workers, pipeline.handler)[("ses:SendEmail", "ses:SendRawEmail")] == ses_send_grant(
        workers, synth.stacks.config, as_event_address=as_event_address
    )


@pytest.mark.parametrize("pipeline", SENDERS, ids=[pipeline.kind for pipeline in SENDERS])
def test_each_send_function_is_told_the_configuration_set(synth, workers, pipeline):
    if left_out(synth, pipeline):
        return
    assert variables_of(workers, pipeline.handler)[ENV_CONFIGURATION_SET] == {
        "Ref": configuration_set_id(workers)
    }


def test_the_feedback_function_is_not_told_a_configuration_set_it_may_not_send_through(workers):
    assert ENV_CONFIGURATION_SET not in variables_of(workers, FEEDBACK.handler)


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
