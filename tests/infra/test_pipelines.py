"""Each row of infra/pipelines.py against the synthesized workers stack: the function, its queues,
outputs, alarm, feed and role are what the row declares, and nothing the rows do not declare exists.

The expected IAM actions per grant are spelled out here, independently of
infra/constructs/permissions.py, so that a grant the stack resolves wrongly fails a test.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from infra import names, tuning
from infra.pipelines import PIPELINE_BY_KIND, PIPELINES, Feed, Grant, Pipeline, Setting, deployed
from lambdas.domain import keys
from lambdas.runtime.config import (
    ENV_ALLOWED_ORGANIZERS,
    ENV_CONFIGURATION_SET,
    ENV_SENDING_INSTANCES,
    ENV_TRUSTED_RELAY_DOMAINS,
)
from tests.infra.helpers import actions, as_list, ref_target, resources, statements
from tests.infra.pipelines import (
    assert_drains_its_own_queue_which_redrives_to_its_own_dlq,
    assert_queue_gets_the_sns_envelope_of_this_topic_only,
    deployed_in,
    function_id_of,
    left_out,
    topic_id_under,
    variables_of,
    worker_queues,
)

STATELESS = names.STATELESS_STACK_NAME
ROWS = pytest.mark.parametrize("pipeline", PIPELINES, ids=[pipeline.kind for pipeline in PIPELINES])

# What every worker's role holds whatever its row: its log group, dead-lettering (and, when it fans
# out or puts back, sending onto its work queue), and what the event source mapping needs.
EVERY_WORKER_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
GRANT_ACTIONS = {
    Grant.SEND_EMAIL: {"ses:SendEmail", "ses:SendRawEmail"},
    Grant.READ_INBOUND_MAIL: {"s3:GetObject"},
    Grant.SEND_AS_EVENT_ADDRESS: {"ses:SendEmail", "ses:SendRawEmail"},
    Grant.ENQUEUE_SENDS: {"sqs:SendMessage"},
}
# What each function does on the table: {actions: the partition key prefixes they are held to}.
# A read statement and a write statement (ConditionCheckItem guards the writes of a transaction).
SEND_TABLE = {
    ("dynamodb:GetItem", "dynamodb:Query"): ["event#*"],
    ("dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"): ["event#*", "message#*"],
}
TABLE = {
    "invite": SEND_TABLE,
    # its transactions check nothing apart from what they write
    "cancellation": {
        ("dynamodb:GetItem", "dynamodb:Query"): ["event#*"],
        ("dynamodb:UpdateItem",): ["event#*", "message#*"],
    },
    "reply": SEND_TABLE,  # a REFRESH re-sent records its message item
    # it reads the message item an event names, and never writes one
    "feedback": {("dynamodb:GetItem",): ["event#*", "message#*"], ("dynamodb:UpdateItem",): ["event#*"]},
    # it writes the event item and its occurrences, never a message item (its reads and writes are
    # held to the same partitions, so IAM's policy has them as one statement)
    "organizer": {("dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"): ["event#*"]},
}
# The construct each feed's topic belongs to.
FEED_TOPICS = {
    Feed.DELIVERY_FEEDBACK: "DeliveryFeedback/",
    Feed.INBOUND_MAIL: "InboundMail/Topic/",
    Feed.ORGANIZER_MAIL: "InboundMail/EventAddress/",
}


def role_id(template, pipeline: Pipeline) -> str:
    return ref_target(template["Resources"][function_id_of(template, pipeline.handler)]["Properties"]["Role"])


# --- the declaration itself ----------------------------------------------------------------------


def test_rows_name_distinct_kinds_constructs_handlers_and_outputs():
    for field in ("kind", "construct_id", "handler", "queue_output", "dlq_output"):
        values = [getattr(pipeline, field) for pipeline in PIPELINES]
        assert len(set(values)) == len(values), field
    outputs = [key for pipeline in PIPELINES for key in pipeline.outputs]
    assert len(set(outputs)) == len(outputs)


@ROWS
def test_each_handler_resolves_to_a_function_in_the_lambdas_package(pipeline):
    module_name, _, function_name = pipeline.handler.rpartition(".")
    assert module_name.startswith("lambdas.")
    assert callable(getattr(importlib.import_module(module_name), function_name))


# --- each row in the template ----------------------------------------------------------------------


def test_the_stack_has_exactly_one_function_per_row(synth, workers):
    handlers = [fn["Properties"]["Handler"] for fn in resources(workers, "AWS::Lambda::Function").values()]
    assert sorted(handlers) == sorted(pipeline.handler for pipeline in deployed_in(synth))


def test_the_organizer_row_is_deployed_only_with_an_event_address(default_synth, configured_synth):
    assert [p.kind for p in PIPELINES if p not in deployed_in(default_synth)] == ["organizer"]
    assert deployed_in(configured_synth) == PIPELINES


@ROWS
def test_each_row_is_its_construct_and_description(synth, workers, pipeline):
    if left_out(synth, pipeline):
        return
    function = workers["Resources"][function_id_of(workers, pipeline.handler)]
    assert function["Metadata"]["aws:cdk:path"].startswith(f"{STATELESS}/{pipeline.construct_id}/")
    assert function["Properties"]["Description"] == pipeline.description


@ROWS
def test_each_row_drains_its_own_queue_which_redrives_to_its_own_dlq_named_by_its_outputs(
    synth, workers, pipeline
):
    if left_out(synth, pipeline):
        return
    assert_drains_its_own_queue_which_redrives_to_its_own_dlq(
        workers,
        pipeline.handler,
        max_concurrency=synth.stacks.config.max_concurrency,
        queue_output=pipeline.queue_output,
        dlq_output=pipeline.dlq_output,
    )
    assert workers["Outputs"][pipeline.queue_output]["Description"] == f"{pipeline.label} work queue"
    assert workers["Outputs"][pipeline.dlq_output]["Description"] == f"{pipeline.label} dead-letter queue"


@ROWS
def test_each_row_s_dlq_has_a_depth_alarm_that_names_the_function(synth, workers, pipeline):
    if left_out(synth, pipeline):
        return
    _, dlq_id = worker_queues(workers, pipeline.handler)
    (alarm,) = [
        alarm["Properties"]
        for alarm in resources(workers, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    ]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Threshold"] == tuning.DLQ_ALARM_THRESHOLD
    assert alarm["AlarmDescription"].startswith(f"{pipeline.description}: ")


@ROWS
def test_each_row_s_queue_is_fed_by_its_topic_only(synth, workers, pipeline):
    if left_out(synth, pipeline):
        return
    queue_id, _ = worker_queues(workers, pipeline.handler)
    feeding = [
        subscription
        for subscription in resources(workers, "AWS::SNS::Subscription").values()
        if subscription["Properties"].get("Endpoint") == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    if pipeline.feed is Feed.PRODUCERS:
        assert feeding == []
        return
    topic_id = topic_id_under(workers, f"{STATELESS}/{FEED_TOPICS[pipeline.feed]}")
    assert_queue_gets_the_sns_envelope_of_this_topic_only(workers, topic_id, queue_id)


@ROWS
def test_each_role_allows_exactly_the_row_s_grants(synth, workers, pipeline):
    if left_out(synth, pipeline):
        return
    found = statements(workers, role_id(workers, pipeline))
    assert all(statement["Effect"] == "Allow" for statement in found)
    expected = EVERY_WORKER_ACTIONS.union(
        *(GRANT_ACTIONS[grant] for grant in pipeline.grants), *TABLE[pipeline.kind]
    )
    if pipeline.sends_email and synth.stacks.config.ses_max_send_rate is None:
        expected.add("ses:GetAccount")  # pacing reads the account's rate
    assert {action for statement in found for action in actions(statement)} == expected


@ROWS
def test_each_role_reads_and_writes_the_table_only_in_its_partitions(synth, workers, pipeline):
    if left_out(synth, pipeline):
        return
    table = {
        tuple(sorted(actions(statement))): statement.get("Condition")
        for statement in statements(workers, role_id(workers, pipeline))
        if any(action.startswith("dynamodb:") for action in actions(statement))
    }
    assert table == {
        found: {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": prefixes}}
        for found, prefixes in TABLE[pipeline.kind].items()
    }


def test_every_item_s_partition_key_is_in_a_partition_the_rows_name():
    """Every key builder of lambdas/domain/keys.py: a key shape outside the partitions the rows
    name would be refused by every role (dynamodb:LeadingKeys), so it must be added to a row."""
    named = {prefix for pipeline in PIPELINES for prefix in pipeline.table.read_partitions}
    shapes = {}
    for name in dir(keys):
        builder = getattr(keys, name)
        signature = inspect.signature(builder) if inspect.isfunction(builder) else None
        if signature and "dict" in str(signature.return_annotation):  # a key, not a reader of one
            shapes[name] = builder(*["x"] * len(signature.parameters))[keys.PARTITION_KEY]
    assert {"event_key", "attendee_key", "message_key"} <= set(shapes)
    assert {name: pk for name, pk in shapes.items() if not pk.startswith(tuple(named))} == {}


@ROWS
def test_each_function_sends_onto_its_work_queue_only_when_it_fans_out_or_puts_back(synth, workers, pipeline):
    if left_out(synth, pipeline):
        return
    sends = [s for s in statements(workers, role_id(workers, pipeline)) if "sqs:SendMessage" in actions(s)]
    work_queue, dlq = worker_queues(workers, pipeline.handler)
    targets = {ref_target(resource) for send in sends for resource in as_list(send["Resource"])}
    expected = {work_queue, dlq} if pipeline.fans_out or pipeline.puts_back else {dlq}
    if Grant.ENQUEUE_SENDS in pipeline.grants:  # and the send functions' work queues, nothing else
        expected |= {
            worker_queues(workers, PIPELINE_BY_KIND[kind].handler)[0] for kind in ("invite", "cancellation")
        }
    assert targets == expected


def test_the_sending_instances_are_every_instance_of_the_rows_that_send(synth, workers):
    senders = [pipeline for pipeline in deployed_in(synth) if pipeline.sends_email]
    instances = str(len(senders) * synth.stacks.config.max_concurrency)
    for pipeline in deployed_in(synth):
        variables = variables_of(workers, pipeline.handler)
        told = (variables.get(ENV_SENDING_INSTANCES), ENV_CONFIGURATION_SET in variables)
        assert told == ((instances, True) if pipeline.sends_email else (None, False))


@ROWS
def test_each_function_is_told_its_row_s_settings_when_configured(default_synth, configured_synth, pipeline):
    variables = {
        Setting.TRUSTED_RELAY_DOMAINS: ENV_TRUSTED_RELAY_DOMAINS,
        Setting.ALLOWED_ORGANIZERS: ENV_ALLOWED_ORGANIZERS,
    }

    def told(synth):
        if left_out(synth, pipeline):
            return set()
        found = variables_of(synth.template(STATELESS), pipeline.handler)
        return {setting for setting, name in variables.items() if name in found}

    assert told(default_synth) == set()  # none configured
    assert told(configured_synth) == set(pipeline.settings)


# --- receiveReplies off ------------------------------------------------------------------------------


def test_without_replies_only_the_rows_that_need_no_inbound_mail_exist(without_replies):
    template = without_replies.template(STATELESS)
    rows = deployed(receive_replies=False)
    assert {pipeline.kind for pipeline in PIPELINES} - {pipeline.kind for pipeline in rows} == {
        "reply",
        "organizer",
    }
    handlers = [fn["Properties"]["Handler"] for fn in resources(template, "AWS::Lambda::Function").values()]
    assert sorted(handlers) == sorted(pipeline.handler for pipeline in rows)
    assert len(resources(template, "AWS::SQS::Queue")) == 2 * len(rows)
    assert set(template["Outputs"]) == set(names.OUTPUT_KEYS)
    concurrency = without_replies.stacks.config.max_concurrency
    for pipeline in rows:
        if pipeline.sends_email:
            instances = variables_of(template, pipeline.handler)[ENV_SENDING_INSTANCES]
            assert instances == str(concurrency * sum(p.sends_email for p in rows))
