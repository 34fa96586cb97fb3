"""The event address's path (docs/organizer.md): its receipt rule in the RSVP address's rule set,
storing into the same bucket under its own prefix, announced on its own topic, feeding the
organizer function, whose role reads that prefix only and enqueues onto the send functions' queues.
What every row has in common: tests/infra/test_pipelines.py."""

from __future__ import annotations

from typing import Any

from infra import names
from infra.pipelines import PIPELINE_BY_KIND
from lambdas.runtime.config import (
    ENV_ALLOWED_ORGANIZERS,
    ENV_CANCELLATION_QUEUE_URL,
    ENV_INBOUND_BUCKET,
    ENV_INBOUND_KEY_PREFIX,
    ENV_INBOUND_RECIPIENT,
    ENV_INBOUND_TOPIC_ARN,
    ENV_INVITE_QUEUE_URL,
    ENV_SENDER,
)
from tests.infra.helpers import only, ref_target, resources, text
from tests.infra.pipelines import (
    conditions_as_text,
    granted,
    only_this_source,
    ses_key_statement,
    ses_publish_statement,
    topic_id_under,
    variables_of,
    worker_queues,
)
from tests.infra.synth import CONFIGURED_CONTEXT

STATELESS = names.STATELESS_STACK_NAME
ORGANIZER = PIPELINE_BY_KIND["organizer"]
RULE_ARN = (
    "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
    f":receipt-rule-set/{names.RECEIPT_RULE_SET_NAME}:receipt-rule/{names.ORGANIZER_RULE_NAME}"
)


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        rule["Properties"]["Rule"]["Name"]: rule
        for rule in resources(template, "AWS::SES::ReceiptRule").values()
    }


def organizer_topic_id(template: dict[str, Any]) -> str:
    return topic_id_under(template, f"{STATELESS}/InboundMail/EventAddress/")


def test_without_an_event_address_there_is_no_rule_topic_or_function_for_it(default_synth):
    template = default_synth.template(STATELESS)
    assert set(rules(template)) == {names.RECEIPT_RULE_NAME}
    handlers = [fn["Properties"]["Handler"] for fn in resources(template, "AWS::Lambda::Function").values()]
    assert ORGANIZER.handler not in handlers
    assert not set(names.ORGANIZER_OUTPUT_KEYS) & set(template["Outputs"])


def test_its_rule_follows_the_rsvp_rule_and_stores_under_its_own_prefix_for_its_own_topic(configured_synth):
    template = configured_synth.template(STATELESS)
    rule_set_id, _ = only(template, "AWS::SES::ReceiptRuleSet")
    bucket_id, _ = only(template, "AWS::S3::Bucket")
    found = rules(template)
    rsvp_id = next(
        i
        for i, r in resources(template, "AWS::SES::ReceiptRule").items()
        if r is found[names.RECEIPT_RULE_NAME]
    )
    properties = found[names.ORGANIZER_RULE_NAME]["Properties"]
    assert properties["RuleSetName"] == {"Ref": rule_set_id}
    assert properties["After"] == {"Ref": rsvp_id}  # rules of one set are created one after the other
    assert properties["Rule"] == {
        "Name": names.ORGANIZER_RULE_NAME,
        "Enabled": True,
        "Recipients": [CONFIGURED_CONTEXT["eventEmail"]],
        "ScanEnabled": True,
        "TlsPolicy": "Require",
        "Actions": [
            {
                "S3Action": {
                    "BucketName": {"Ref": bucket_id},
                    "ObjectKeyPrefix": names.ORGANIZER_OBJECT_KEY_PREFIX,
                    "TopicArn": {"Ref": organizer_topic_id(template)},
                }
            }
        ],
    }
    assert template["Outputs"][names.OUTPUT_ORGANIZER_TOPIC_ARN]["Value"] == {
        "Ref": organizer_topic_id(template)
    }


def test_only_ses_for_its_rule_may_store_under_its_prefix_publish_and_use_the_key(configured_synth):
    template = configured_synth.template(STATELESS)
    bucket_id, _ = only(template, "AWS::S3::Bucket")
    _, policy = only(template, "AWS::S3::BucketPolicy")
    (allow,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "AllowSesToStoreMailOfEventAddress"
    ]
    assert text(allow["Resource"]) == "${" + bucket_id + ".Arn}/" + names.ORGANIZER_OBJECT_KEY_PREFIX + "*"
    assert conditions_as_text(allow) == only_this_source(RULE_ARN)
    topic_id = organizer_topic_id(template)
    assert conditions_as_text(ses_key_statement(template, topic_id)) == only_this_source(RULE_ARN)
    assert conditions_as_text(ses_publish_statement(template, topic_id)) == only_this_source(RULE_ARN)


def test_the_organizer_function_is_told_its_rule_s_origin_and_sends_as_the_event_address(configured_synth):
    template = configured_synth.template(STATELESS)
    (action,) = rules(template)[names.ORGANIZER_RULE_NAME]["Properties"]["Rule"]["Actions"]
    variables = variables_of(template, ORGANIZER.handler)
    assert {
        name: variables[name] for name in (ENV_INBOUND_TOPIC_ARN, ENV_INBOUND_BUCKET, ENV_INBOUND_KEY_PREFIX)
    } == {
        ENV_INBOUND_TOPIC_ARN: action["S3Action"]["TopicArn"],
        ENV_INBOUND_BUCKET: action["S3Action"]["BucketName"],
        ENV_INBOUND_KEY_PREFIX: action["S3Action"]["ObjectKeyPrefix"],
    }
    assert variables[ENV_INBOUND_RECIPIENT] == variables[ENV_SENDER] == CONFIGURED_CONTEXT["eventEmail"]
    assert variables[ENV_ALLOWED_ORGANIZERS] == "organizers.acme-events.io,@partner.example,carol@example.net"
    invite_queue, _ = worker_queues(template, PIPELINE_BY_KIND["invite"].handler)
    cancellation_queue, _ = worker_queues(template, PIPELINE_BY_KIND["cancellation"].handler)
    assert ref_target(variables[ENV_INVITE_QUEUE_URL]) == invite_queue
    assert ref_target(variables[ENV_CANCELLATION_QUEUE_URL]) == cancellation_queue


def test_its_role_reads_mail_under_its_prefix_only_and_enqueues_onto_the_send_queues(configured_synth):
    template = configured_synth.template(STATELESS)
    bucket_id, _ = only(template, "AWS::S3::Bucket")
    found = granted(template, ORGANIZER.handler)
    assert found[("s3:GetObject",)] == (
        ("${" + bucket_id + ".Arn}/" + names.ORGANIZER_OBJECT_KEY_PREFIX + "*",),
        None,
    )
    queue_id, dlq_id = worker_queues(template, ORGANIZER.handler)
    invite_queue, _ = worker_queues(template, PIPELINE_BY_KIND["invite"].handler)
    cancellation_queue, _ = worker_queues(template, PIPELINE_BY_KIND["cancellation"].handler)
    (resources_sent_to, condition) = found[("sqs:SendMessage",)]
    assert condition is None
    assert set(resources_sent_to) == {
        "${" + q + ".Arn}" for q in (queue_id, dlq_id, invite_queue, cancellation_queue)
    }
