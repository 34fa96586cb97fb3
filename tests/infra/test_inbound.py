"""The inbound reply path: SES receiving for the RSVP address into S3 and SNS, feeding the reply worker."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack

from infra import names
from infra.config import AppConfig, ConfigError
from infra.guard import RSVP_GUARD_RULE_ID, add_rsvp_placeholder_guard
from infra.pipelines import PIPELINES, Feed
from infra.receiving import RECEIVING_REGIONS, REGION_RULE_ID, require_receiving_region
from lambdas.runtime.config import (
    ENV_INBOUND_BUCKET,
    ENV_INBOUND_KEY_PREFIX,
    ENV_INBOUND_TOPIC_ARN,
    ENV_RSVP_EMAIL,
    RECEIPT_ORIGIN,
)
from tests.infra.helpers import actions, as_list, only, ref_target, resources, statements, text
from tests.infra.pipelines import (
    SECURE_TRANSPORT_DENY,
    conditions_as_text,
    function_id_of,
    granted,
    only_this_source,
    ses_key_statement,
    ses_publish_statement,
    ses_send_grant,
    ses_statements,
    topic_id_under,
    topic_policy_id,
    worker_queues,
)
from tests.infra.synth import CONFIGURED_CONTEXT, SKIP_BUNDLING, app_context, synthesize

STATELESS = names.STATELESS_STACK_NAME
# The pipeline the inbound topic feeds; what every row has in common: tests/infra/test_pipelines.py.
(REPLY,) = [pipeline for pipeline in PIPELINES if pipeline.feed is Feed.INBOUND_MAIL]
RULE_ARN_SUFFIX = f":receipt-rule-set/{names.RECEIPT_RULE_SET_NAME}:receipt-rule/{names.RECEIPT_RULE_NAME}"
RETENTION_DAYS = 45
INBOUND_TYPES = (
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::SES::ReceiptRuleSet",
    "AWS::SES::ReceiptRule",
)


@pytest.fixture(scope="module")
def longer_retention():
    return synthesize(app_context(SKIP_BUNDLING, {"inboundRetentionDays": str(RETENTION_DAYS)}))


def rule_arn() -> str:
    return "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}" + RULE_ARN_SUFFIX


def rsvp_rule(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The RSVP address's receipt rule (with an event address, the rule set has a second one:
    tests/infra/test_organizer_mail.py)."""
    (found,) = [
        (rule_id, rule)
        for rule_id, rule in resources(template, "AWS::SES::ReceiptRule").items()
        if rule["Properties"]["Rule"]["Name"] == names.RECEIPT_RULE_NAME
    ]
    return found


def reply_function_id(template: dict[str, Any]) -> str:
    return function_id_of(template, REPLY.handler)


def reply_queues(template: dict[str, Any]) -> tuple[str, str]:
    return worker_queues(template, REPLY.handler)


# --- receipt rule ----------------------------------------------------------------------------------


def test_one_rule_set_with_the_name_the_activation_step_uses(workers):
    rule_set_id, rule_set = only(workers, "AWS::SES::ReceiptRuleSet")
    assert rule_set["Properties"]["RuleSetName"] == names.RECEIPT_RULE_SET_NAME
    assert workers["Outputs"][names.OUTPUT_RECEIPT_RULE_SET_NAME]["Value"] == {"Ref": rule_set_id}


def test_the_rule_stores_mail_for_the_rsvp_address_in_the_bucket_and_notifies_the_topic(synth, workers):
    rule_set_id, _ = only(workers, "AWS::SES::ReceiptRuleSet")
    bucket_id, _ = only(workers, "AWS::S3::Bucket")
    _, rule = rsvp_rule(workers)
    properties = rule["Properties"]
    assert properties["RuleSetName"] == {"Ref": rule_set_id}
    assert properties["Rule"] == {
        "Name": names.RECEIPT_RULE_NAME,
        "Enabled": True,
        "Recipients": [synth.stacks.config.rsvp_email],
        "ScanEnabled": True,
        "TlsPolicy": "Require",
        "Actions": [
            {
                "S3Action": {
                    "BucketName": {"Ref": bucket_id},
                    "ObjectKeyPrefix": names.INBOUND_OBJECT_KEY_PREFIX,
                    "TopicArn": {"Ref": inbound_topic_id(workers)},
                }
            }
        ],
    }


def test_the_reply_function_is_told_the_origin_the_rule_gives_every_notification(synth, workers):
    """The topic, bucket and prefix it accepts notifications from are the rule's own: a notification
    naming any other is dead-lettered unread (lambdas/domain/inbound/origin.py)."""
    _, rule = rsvp_rule(workers)
    [action] = rule["Properties"]["Rule"]["Actions"]
    variables = workers["Resources"][reply_function_id(workers)]["Properties"]["Environment"]["Variables"]
    told = {name: variables[name] for name in RECEIPT_ORIGIN}
    assert told == {
        ENV_INBOUND_TOPIC_ARN: action["S3Action"]["TopicArn"],
        ENV_INBOUND_BUCKET: action["S3Action"]["BucketName"],
        ENV_INBOUND_KEY_PREFIX: action["S3Action"]["ObjectKeyPrefix"],
    }
    assert (
        variables[ENV_RSVP_EMAIL]
        == rule["Properties"]["Rule"]["Recipients"][0]
        == synth.stacks.config.rsvp_email
    )


def test_the_rule_is_created_after_the_policies_ses_checks_at_creation(workers):
    policy_id, _ = only(workers, "AWS::S3::BucketPolicy")
    _, rule = rsvp_rule(workers)
    assert set(rule["DependsOn"]) == {policy_id, topic_policy_id(workers, inbound_topic_id(workers))}


def test_configured_rsvp_address_is_the_recipient(configured_synth):
    _, rule = rsvp_rule(configured_synth.template(STATELESS))
    assert rule["Properties"]["Rule"]["Recipients"] == [CONFIGURED_CONTEXT["rsvpEmail"]]


# --- bucket ----------------------------------------------------------------------------------------


def test_bucket_is_encrypted_private_and_expires_mail_after_the_default_30_days(workers):
    _, bucket = only(workers, "AWS::S3::Bucket")
    properties = bucket["Properties"]
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", 30)
    assert "Prefix" not in rule and "Filter" not in rule  # every object, not only some


def test_retention_comes_from_context(longer_retention):
    _, bucket = only(longer_retention.template(STATELESS), "AWS::S3::Bucket")
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == RETENTION_DAYS


def test_bucket_policy_denies_plain_http_and_lets_only_ses_for_this_rule_put_mail(workers):
    bucket_id, _ = only(workers, "AWS::S3::Bucket")
    _, policy = only(workers, "AWS::S3::BucketPolicy")
    assert policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    document = policy["Properties"]["PolicyDocument"]
    (deny,) = [statement for statement in document["Statement"] if statement["Effect"] == "Deny"]
    assert deny["Condition"] == SECURE_TRANSPORT_DENY
    assert {text(resource) for resource in deny["Resource"]} == {
        "${" + bucket_id + ".Arn}",
        "${" + bucket_id + ".Arn}/*",
    }
    allows = [statement for statement in document["Statement"] if statement["Effect"] == "Allow"]
    assert allows == ses_statements(document)
    # the event address's rule has its own statement, for its own prefix (test_organizer_mail.py)
    (allow,) = [statement for statement in allows if statement["Sid"] == "AllowSesToStoreMailOfThisRule"]
    assert allow["Action"] == "s3:PutObject"
    assert text(allow["Resource"]) == "${" + bucket_id + ".Arn}/" + names.INBOUND_OBJECT_KEY_PREFIX + "*"
    assert conditions_as_text(allow) == only_this_source(rule_arn())


# --- topic -----------------------------------------------------------------------------------------


def inbound_topic_id(template: dict[str, Any]) -> str:
    return topic_id_under(template, f"{STATELESS}/InboundMail/Topic/")


def test_topic_is_encrypted_with_a_rotated_key_ses_may_use_for_this_rule_only(workers):
    statement = ses_key_statement(workers, inbound_topic_id(workers))
    assert conditions_as_text(statement) == only_this_source(rule_arn())


def test_topic_policy_denies_plain_http_and_lets_only_ses_for_this_rule_publish(workers):
    allow = ses_publish_statement(workers, inbound_topic_id(workers))
    assert conditions_as_text(allow) == only_this_source(rule_arn())


def test_the_rule_arn_in_the_policies_is_the_rule_the_template_creates(workers):
    """The policies above name RULE_ARN_SUFFIX; the rule set and rule must carry those names."""
    _, rule_set = only(workers, "AWS::SES::ReceiptRuleSet")
    _, rule = rsvp_rule(workers)
    set_name, rule_name = rule_set["Properties"]["RuleSetName"], rule["Properties"]["Rule"]["Name"]
    assert f":receipt-rule-set/{set_name}:receipt-rule/{rule_name}" == RULE_ARN_SUFFIX


# --- outputs --------------------------------------------------------


def test_bucket_and_topic_outputs(workers):
    bucket_id, _ = only(workers, "AWS::S3::Bucket")
    assert workers["Outputs"][names.OUTPUT_INBOUND_BUCKET_NAME]["Value"] == {"Ref": bucket_id}
    assert workers["Outputs"][names.OUTPUT_INBOUND_TOPIC_ARN]["Value"] == {"Ref": inbound_topic_id(workers)}


# --- the reply function's role, exactly --------------------------------------------------------------


def test_the_reply_role_holds_exactly_these_actions_on_these_resources(synth, workers):
    function = workers["Resources"][reply_function_id(workers)]["Properties"]
    queue_id, dlq_id = reply_queues(workers)
    bucket_id, _ = only(workers, "AWS::S3::Bucket")
    log_group_id = ref_target(function["LoggingConfig"]["LogGroup"])
    config = synth.stacks.config
    found = granted(workers, REPLY.handler)
    # its resource: see the next test; it reads event items only, and writes them and, for a
    # REFRESH re-sent, the email's message item
    reads = found.pop(("dynamodb:GetItem", "dynamodb:Query"))[1]
    writes = found.pop(("dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"))[1]
    assert reads == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["event#*"]}}
    assert writes == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["event#*", "message#*"]}}
    if config.ses_max_send_rate is None:  # the SES rate read from the account (test_templates.py)
        assert found.pop(("ses:GetAccount",)) == (("*",), None)
    assert found == {
        ("logs:CreateLogStream", "logs:PutLogEvents"): (("${" + log_group_id + ".Arn}",), None),
        # REFRESH answers are sends like any other: through the configuration set (test_feedback.py)
        ("ses:SendEmail", "ses:SendRawEmail"): ses_send_grant(workers, config),
        ("s3:GetObject",): (("${" + bucket_id + ".Arn}/" + names.INBOUND_OBJECT_KEY_PREFIX + "*",), None),
        # dead-lettering, and a throttled REFRESH put back on its own work queue (it never fans out)
        ("sqs:SendMessage",): (tuple(sorted(("${" + dlq_id + ".Arn}", "${" + queue_id + ".Arn}"))), None),
        (
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
            "sqs:ReceiveMessage",
        ): (("${" + queue_id + ".Arn}",), None),
    }


def test_the_table_statements_name_the_table(workers):
    role_id = ref_target(workers["Resources"][reply_function_id(workers)]["Properties"]["Role"])
    tables = [s for s in statements(workers, role_id) if any(a.startswith("dynamodb:") for a in actions(s))]
    assert len(tables) == 2
    for table in tables:
        (resource,) = as_list(table["Resource"])
        assert "Fn::GetStackOutput" in resource


# --- receiveReplies=false ----------------------------------------------------------------------------


def test_without_replies_none_of_the_inbound_path_exists(without_replies):
    template = without_replies.template(STATELESS)
    for resource_type in INBOUND_TYPES:
        assert not resources(template, resource_type), resource_type
    # what is left of SNS and KMS is the alarm topic and the delivery feedback topic
    for resource in [
        *resources(template, "AWS::SNS::Topic").values(),
        *resources(template, "AWS::KMS::Key").values(),
    ]:
        assert resource["Metadata"]["aws:cdk:path"].startswith(
            (f"{STATELESS}/AlarmTopic/", f"{STATELESS}/DeliveryFeedback/")
        )
    assert sorted(
        subscription["Properties"]["Protocol"]
        for subscription in resources(template, "AWS::SNS::Subscription").values()
    ) == ["email", "sqs"]
    # the functions, queues and outputs left: tests/infra/test_pipelines.py
    assert all(REGION_RULE_ID not in t.get("Rules", {}) for t in without_replies.templates.values())
    assert without_replies.violations("AwsSolutions") == []


# --- regions and placeholders -------------------------------------------------------------------------


def test_both_templates_refuse_regions_without_ses_receiving(synth):
    for template in synth.templates.values():
        (assertion,) = template["Rules"][REGION_RULE_ID]["Assertions"]
        assert assertion["Assert"] == {"Fn::Contains": [list(RECEIVING_REGIONS), {"Ref": "AWS::Region"}]}


def test_a_stack_for_a_known_region_without_receiving_fails_at_synthesis():
    stack = Stack(App(), "Probe", env=Environment(account="123456789012", region="eu-south-1"))
    with pytest.raises(ConfigError, match="does not receive email in eu-south-1"):
        require_receiving_region(stack)


def test_a_stack_for_a_known_receiving_region_needs_no_rule():
    stack = Stack(App(), "Probe", env=Environment(account="123456789012", region="eu-west-1"))
    require_receiving_region(stack)
    assert stack.node.try_find_child(REGION_RULE_ID) is None


def test_a_placeholder_rsvp_address_with_a_real_sender_is_refused_by_the_template():
    app = App(context={"sender": "invites@acme.io", "rsvpEmail": "rsvp@example.com"})
    stack = Stack(app, "Probe")
    add_rsvp_placeholder_guard(stack, AppConfig.from_node(app.node))
    assert stack.node.try_find_child(RSVP_GUARD_RULE_ID) is not None


def test_trusted_relay_domains_reach_the_reply_function_only_when_configured(default_synth, configured_synth):
    def environment(synth) -> dict[str, Any]:
        template = synth.template(STATELESS)
        function = template["Resources"][reply_function_id(template)]
        return function["Properties"]["Environment"]["Variables"]

    assert environment(configured_synth)["TRUSTED_RELAY_DOMAINS"] == CONFIGURED_CONTEXT["trustedRelayDomains"]
    assert "TRUSTED_RELAY_DOMAINS" not in environment(default_synth)
