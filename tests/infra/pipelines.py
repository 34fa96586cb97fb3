"""Checks shared by the workers an AWS service feeds through an encrypted SNS topic: the reply worker
(SES receiving) and the feedback worker (SES event publishing).

Each check asserts the part every such pipeline has in common and returns what differs between them
(the publisher's conditions), for the caller to compare.
"""

from __future__ import annotations

from typing import Any

from infra import tuning
from infra.config import AppConfig
from lambdas.runtime.config import ENV_DLQ_URL, ENV_QUEUE_URL
from tests.infra.helpers import actions, as_list, only, ref_target, resources, statements, text

SES = {"Service": "ses.amazonaws.com"}
SECURE_TRANSPORT_DENY = {"Bool": {"aws:SecureTransport": "false"}}
# An SES ARN in this stack's account and region, as `text` writes it.
SES_ARN_PREFIX = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"

Template = dict[str, Any]


def topic_id_under(template: Template, construct_path: str) -> str:
    """The one topic whose construct path starts with `construct_path` (e.g. "Stack/InboundMail/")."""
    (topic_id,) = [
        topic_id
        for topic_id, topic in resources(template, "AWS::SNS::Topic").items()
        if topic["Metadata"]["aws:cdk:path"].startswith(construct_path)
    ]
    return topic_id


def function_id_of(template: Template, handler: str) -> str:
    (function_id,) = [
        function_id
        for function_id, fn in resources(template, "AWS::Lambda::Function").items()
        if fn["Properties"]["Handler"] == handler
    ]
    return function_id


def variables_of(template: Template, handler: str) -> dict[str, Any]:
    return template["Resources"][function_id_of(template, handler)]["Properties"]["Environment"]["Variables"]


def worker_queues(template: Template, handler: str) -> tuple[str, str]:
    """The work queue and DLQ the function is told of."""
    variables = variables_of(template, handler)
    return ref_target(variables[ENV_QUEUE_URL]), ref_target(variables[ENV_DLQ_URL])


def only_this_source(source_arn: str) -> dict[str, Any]:
    """The confused-deputy guard SES documents: this account, and the SES resource `source_arn`
    (written as `text` writes it), as `conditions_as_text` returns it."""
    return {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnEquals": {"aws:SourceArn": source_arn},
    }


def conditions_as_text(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement's conditions, with each ArnEquals value written as one string."""
    condition = dict(statement["Condition"])
    if "ArnEquals" in condition:
        condition["ArnEquals"] = {key: text(value) for key, value in condition["ArnEquals"].items()}
    return condition


def ses_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [statement for statement in document["Statement"] if statement.get("Principal") == SES]


def ses_key_statement(template: Template, topic_id: str) -> dict[str, Any]:
    """The topic's key is rotated and lets SES (one statement) encrypt; that statement, for its conditions."""
    topic = template["Resources"][topic_id]
    key = template["Resources"][ref_target(topic["Properties"]["KmsMasterKeyId"])]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = ses_statements(key["Properties"]["KeyPolicy"])
    assert sorted(actions(statement)) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    return statement


def topic_policy_id(template: Template, topic_id: str) -> str:
    (policy_id,) = [
        policy_id
        for policy_id, policy in resources(template, "AWS::SNS::TopicPolicy").items()
        if policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    ]
    return policy_id


def ses_publish_statement(template: Template, topic_id: str) -> dict[str, Any]:
    """The topic refuses plain HTTP and lets SES alone publish; SES's statement, for its conditions."""
    document = template["Resources"][topic_policy_id(template, topic_id)]["Properties"]["PolicyDocument"]
    (deny,) = [statement for statement in document["Statement"] if statement["Effect"] == "Deny"]
    assert deny["Condition"] == SECURE_TRANSPORT_DENY
    allows = [statement for statement in document["Statement"] if statement["Effect"] == "Allow"]
    assert allows == ses_statements(document)
    (allow,) = allows
    assert (allow["Action"], allow["Resource"]) == ("sns:Publish", {"Ref": topic_id})
    return allow


def assert_queue_gets_the_sns_envelope_of_this_topic_only(
    template: Template, topic_id: str, queue_id: str
) -> None:
    (subscription,) = [
        subscription
        for subscription in resources(template, "AWS::SNS::Subscription").values()
        if subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    ]
    properties = subscription["Properties"]
    assert properties["Protocol"] == "sqs"
    assert properties["Endpoint"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert properties.get("RawMessageDelivery", False) is False
    (policy,) = [
        policy
        for policy in resources(template, "AWS::SQS::QueuePolicy").values()
        if policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    (allow,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}}


def assert_drains_its_own_queue_which_redrives_to_its_own_dlq(
    template: Template, handler: str, *, max_concurrency: int, queue_output: str, dlq_output: str
) -> None:
    queue_id, dlq_id = worker_queues(template, handler)
    function_id = function_id_of(template, handler)
    (mapping,) = [
        mapping
        for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if ref_target(mapping["Properties"]["FunctionName"]) == function_id
    ]
    properties = mapping["Properties"]
    assert ref_target(properties["EventSourceArn"]) == queue_id
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == tuning.BATCH_SIZE
    assert properties["ScalingConfig"]["MaximumConcurrency"] == max_concurrency
    queue = template["Resources"][queue_id]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": tuning.MAX_RECEIVE_COUNT,
    }
    assert queue["SqsManagedSseEnabled"] is True
    assert template["Resources"][dlq_id]["Properties"]["SqsManagedSseEnabled"] is True
    assert template["Outputs"][queue_output]["Value"] == {"Ref": queue_id}
    assert template["Outputs"][dlq_output]["Value"] == {"Ref": dlq_id}


def granted(template: Template, handler: str) -> dict[tuple[str, ...], tuple[tuple[str, ...], Any]]:
    """The function's role as {sorted actions: (sorted resources as text, condition)}; all Allow."""
    role_id = ref_target(template["Resources"][function_id_of(template, handler)]["Properties"]["Role"])
    found: dict[tuple[str, ...], tuple[tuple[str, ...], Any]] = {}
    for statement in statements(template, role_id):
        assert statement["Effect"] == "Allow"
        key = tuple(sorted(actions(statement)))
        assert key not in found, key
        resources_text = tuple(sorted(text(resource) for resource in as_list(statement["Resource"])))
        found[key] = (resources_text, statement.get("Condition"))
    return found


def configuration_set_arn(template: Template) -> str:
    """The ARN of the stack's one SES configuration set, as `text` writes it."""
    configuration_set_id, _ = only(template, "AWS::SES::ConfigurationSet")
    return SES_ARN_PREFIX + "configuration-set/${" + configuration_set_id + "}"


def ses_send_grant(
    template: Template, config: AppConfig, *, as_event_address: bool = False
) -> tuple[tuple[str, ...], Any]:
    """What a send function's SES statement must be, in `granted`'s form: its identities and the
    configuration set (SES authorises a send on both), only as the sender (or, for the organizer
    function, only as the event address, through its identities)."""
    identities = config.event_sending_identities if as_event_address else config.sending_identities
    identity_arns = [SES_ARN_PREFIX + "identity/" + identity for identity in identities]
    return (
        tuple(sorted([*identity_arns, configuration_set_arn(template)])),
        {"StringEquals": {"ses:FromAddress": config.event_email if as_event_address else config.sender}},
    )


def deployed_in(synth) -> tuple:
    """The rows `synth`'s configuration deploys (infra.pipelines.deployed)."""
    from infra.pipelines import deployed

    config = synth.stacks.config
    return deployed(receive_replies=config.receive_replies, event_address=bool(config.event_email))


def left_out(synth, pipeline) -> bool:
    """Whether `synth`'s configuration leaves the row out; if so, asserts that its template has no
    function for it (the organizer's row without an event address, the inbound rows without replies)."""
    if pipeline in deployed_in(synth):
        return False
    from infra import names

    template = synth.template(names.STATELESS_STACK_NAME)
    assert pipeline.handler not in [
        fn["Properties"]["Handler"] for fn in resources(template, "AWS::Lambda::Function").values()
    ]
    return True
