"""Assertions on the synthesized templates, with names imported from the `lambdas` package."""

from __future__ import annotations

from infra import names, tuning
from infra.pipelines import PIPELINE_BY_KIND, PIPELINES, Feed, Grant, Setting
from lambdas.domain.items import MESSAGE_EXPIRY_ATTRIBUTE
from lambdas.domain.keys import PARTITION_KEY, SORT_KEY
from lambdas.runtime.config import (
    ENV_ALLOWED_ORGANIZERS,
    ENV_CANCELLATION_QUEUE_URL,
    ENV_CLAIM_LEASE_SECONDS,
    ENV_CONFIGURATION_SET,
    ENV_DLQ_URL,
    ENV_INBOUND_RECIPIENT,
    ENV_INVITE_QUEUE_URL,
    ENV_MAX_SEND_RATE,
    ENV_MAX_WORKERS,
    ENV_QUEUE_URL,
    ENV_REGION,
    ENV_RSVP_EMAIL,
    ENV_SENDER,
    ENV_SENDING_INSTANCES,
    ENV_SUBJECT_PREFIX,
    ENV_TABLE,
    ENV_TRUSTED_RELAY_DOMAINS,
    READ_FROM_ACCOUNT,
    RECEIPT_ORIGIN,
    REQUIRED,
)
from tests.infra.helpers import actions, as_list, ref_target, resources, statements
from tests.infra.pipelines import deployed_in
from tests.infra.synth import CONFIGURED_CONTEXT

STATEFUL = names.STATEFUL_STACK_NAME
STATELESS = names.STATELESS_STACK_NAME
# The functions that send email, through the configuration set (record reply answers REFRESH).
SEND_HANDLERS = {pipeline.handler for pipeline in PIPELINES if pipeline.sends_email}
TOLD_RELAYS = {
    pipeline.handler for pipeline in PIPELINES if Setting.TRUSTED_RELAY_DOMAINS in pipeline.settings
}
TOLD_ORGANIZERS = {
    pipeline.handler for pipeline in PIPELINES if Setting.ALLOWED_ORGANIZERS in pipeline.settings
}
FED_BY_INBOUND_MAIL = {
    pipeline.handler for pipeline in PIPELINES if pipeline.feed in (Feed.INBOUND_MAIL, Feed.ORGANIZER_MAIL)
}
FED_BY_ORGANIZER_MAIL = {pipeline.handler for pipeline in PIPELINES if pipeline.feed is Feed.ORGANIZER_MAIL}
# The organizer function answers as the event address, and hands changes to the send functions' queues.
AS_EVENT_ADDRESS = {
    pipeline.handler for pipeline in PIPELINES if Grant.SEND_AS_EVENT_ADDRESS in pipeline.grants
}
ENQUEUES_SENDS = {pipeline.handler for pipeline in PIPELINES if Grant.ENQUEUE_SENDS in pipeline.grants}


def handlers_of(synth) -> set[str]:
    """The handlers of the rows `synth`'s configuration deploys."""
    return {pipeline.handler for pipeline in deployed_in(synth)}


SECURE_TRANSPORT_DENY = {"Bool": {"aws:SecureTransport": "false"}}


def functions(template):
    return resources(template, "AWS::Lambda::Function")


def mappings(template):
    return resources(template, "AWS::Lambda::EventSourceMapping")


def queues(template):
    return resources(template, "AWS::SQS::Queue")


def work_queue_ids(template):
    return {ref_target(mapping["Properties"]["EventSourceArn"]) for mapping in mappings(template).values()}


def dead_letter_queue_ids(template):
    return {
        ref_target(queues(template)[queue_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for queue_id in work_queue_ids(template)
    }


# --- functions -----------------------------------------------------------------------------------


def test_each_handler_has_one_function_on_python_313_arm64(synth, workers):
    found = functions(workers).values()
    assert sorted(fn["Properties"]["Handler"] for fn in found) == sorted(handlers_of(synth))
    for fn in found:
        assert fn["Properties"]["Runtime"] == "python3.13"
        assert fn["Properties"]["Architectures"] == ["arm64"]
        assert fn["Properties"]["MemorySize"] == tuning.FUNCTION_MEMORY_MB
        assert fn["Properties"]["Timeout"] == tuning.FUNCTION_TIMEOUT.to_seconds()


def test_functions_get_exactly_the_environment_the_runtime_config_reads(workers):
    common = {
        ENV_REGION,
        ENV_TABLE,
        ENV_SENDER,
        ENV_RSVP_EMAIL,
        ENV_QUEUE_URL,
        ENV_DLQ_URL,
        ENV_SUBJECT_PREFIX,
        ENV_CLAIM_LEASE_SECONDS,
        ENV_MAX_WORKERS,
    }
    assert set(REQUIRED) <= common
    for fn in functions(workers).values():
        # only a function that sends is told the configuration set (its role may use it) and
        # how to pace its sends
        sends = fn["Properties"]["Handler"] in SEND_HANDLERS
        pacing = {ENV_CONFIGURATION_SET, ENV_MAX_SEND_RATE, ENV_SENDING_INSTANCES}
        expected = {*common, *pacing} if sends else common
        # only a function whose row names them is told the trusted relay domains, and only when
        # some are configured (tests/infra/test_pipelines.py)
        variables = fn["Properties"]["Environment"]["Variables"]
        if fn["Properties"]["Handler"] in TOLD_RELAYS and ENV_TRUSTED_RELAY_DOMAINS in variables:
            expected = {*expected, ENV_TRUSTED_RELAY_DOMAINS}
        # only the function the inbound topic feeds is told the receipt origin (test_inbound.py)
        if fn["Properties"]["Handler"] in FED_BY_INBOUND_MAIL:
            expected = {*expected, *RECEIPT_ORIGIN}
        # the organizer function is told its rule's recipient, the send functions' queues, and
        # the allow-list when one is configured
        if fn["Properties"]["Handler"] in FED_BY_ORGANIZER_MAIL:
            expected = {*expected, ENV_INBOUND_RECIPIENT}
        if fn["Properties"]["Handler"] in ENQUEUES_SENDS:
            expected = {*expected, ENV_INVITE_QUEUE_URL, ENV_CANCELLATION_QUEUE_URL}
        if fn["Properties"]["Handler"] in TOLD_ORGANIZERS and ENV_ALLOWED_ORGANIZERS in variables:
            expected = {*expected, ENV_ALLOWED_ORGANIZERS}
        assert set(variables) == expected


def test_the_sending_functions_together_can_never_exceed_the_ses_rate(synth, workers):
    """Each sending instance paces at rate / SES_SENDING_INSTANCES: that number must be every
    instance the sending functions' event source mappings can run at once."""
    senders = {fid for fid, fn in functions(workers).items() if fn["Properties"]["Handler"] in SEND_HANDLERS}
    concurrent = sum(
        m["Properties"]["ScalingConfig"]["MaximumConcurrency"]
        for m in mappings(workers).values()
        if ref_target(m["Properties"]["FunctionName"]) in senders
    )
    configured = synth.stacks.config.ses_max_send_rate
    for function_id in senders:
        variables = functions(workers)[function_id]["Properties"]["Environment"]["Variables"]
        assert variables[ENV_SENDING_INSTANCES] == str(concurrent)
        rate = READ_FROM_ACCOUNT if configured is None else f"{configured:g}"
        assert variables[ENV_MAX_SEND_RATE] == rate
        quota_reads = [
            statement
            for statement in statements(workers, role_of(workers, function_id))
            if "ses:GetAccount" in actions(statement)
        ]
        # Only a function told to read the rate from the account may do so.
        assert len(quota_reads) == (1 if configured is None else 0)
        for statement in quota_reads:
            assert actions(statement) == ["ses:GetAccount"] and as_list(statement["Resource"]) == ["*"]


def test_each_function_is_pointed_at_its_own_queue_and_dead_letter_queue(workers):
    for function_id, fn in functions(workers).items():
        variables = fn["Properties"]["Environment"]["Variables"]
        (mapping,) = [
            m
            for m in mappings(workers).values()
            if ref_target(m["Properties"]["FunctionName"]) == function_id
        ]
        queue_id = ref_target(mapping["Properties"]["EventSourceArn"])
        dlq_id = ref_target(queues(workers)[queue_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        assert ref_target(variables[ENV_QUEUE_URL]) == queue_id
        assert ref_target(variables[ENV_DLQ_URL]) == dlq_id


def test_claim_lease_is_the_function_timeout_and_workers_the_batch_size(workers):
    for fn in functions(workers).values():
        variables = fn["Properties"]["Environment"]["Variables"]
        assert variables[ENV_CLAIM_LEASE_SECONDS] == str(fn["Properties"]["Timeout"])
        assert variables[ENV_MAX_WORKERS] == str(tuning.BATCH_SIZE)


def test_configuration_reaches_the_function_environment(configured_synth):
    for fn in functions(configured_synth.template(STATELESS)).values():
        variables = fn["Properties"]["Environment"]["Variables"]
        as_event_address = fn["Properties"]["Handler"] in AS_EVENT_ADDRESS
        assert variables[ENV_SENDER] == CONFIGURED_CONTEXT["eventEmail" if as_event_address else "sender"]
        assert variables[ENV_RSVP_EMAIL] == CONFIGURED_CONTEXT["rsvpEmail"]
        assert variables[ENV_SUBJECT_PREFIX] == CONFIGURED_CONTEXT["subjectPrefix"]
        assert variables[ENV_REGION] == {"Ref": "AWS::Region"}


def test_functions_log_to_their_own_log_group_with_retention(workers):
    groups = resources(workers, "AWS::Logs::LogGroup")
    used = [ref_target(fn["Properties"]["LoggingConfig"]["LogGroup"]) for fn in functions(workers).values()]
    assert sorted(used) == sorted(groups)
    assert all(group["Properties"]["RetentionInDays"] > 0 for group in groups.values())
    assert not resources(workers, "Custom::LogRetention")


def test_functions_use_lambdas_json_log_format_so_extra_fields_become_json_keys(workers):
    for function in functions(workers).values():
        config = function["Properties"]["LoggingConfig"]
        assert (config["LogFormat"], config["ApplicationLogLevel"]) == ("JSON", "INFO")


# --- event source mappings and queues -------------------------------------------------------------


def test_every_mapping_reports_batch_item_failures_with_batching_and_capped_concurrency(synth, workers):
    found = mappings(workers)
    assert len(found) == len(handlers_of(synth))
    for mapping in found.values():
        properties = mapping["Properties"]
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert properties["BatchSize"] == tuning.BATCH_SIZE
        assert properties["MaximumBatchingWindowInSeconds"] == tuning.MAX_BATCHING_WINDOW.to_seconds()
        assert properties["ScalingConfig"]["MaximumConcurrency"] == synth.stacks.config.max_concurrency
        assert properties["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_max_concurrency_comes_from_context(configured_synth):
    for mapping in mappings(configured_synth.template(STATELESS)).values():
        assert mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"] == int(
            CONFIGURED_CONTEXT["maxConcurrency"]
        )


def test_visibility_timeout_is_at_least_six_function_timeouts_plus_the_batching_window(workers):
    for mapping in mappings(workers).values():
        properties = mapping["Properties"]
        fn = workers["Resources"][ref_target(properties["FunctionName"])]
        queue = workers["Resources"][ref_target(properties["EventSourceArn"])]
        minimum = 6 * fn["Properties"]["Timeout"] + properties["MaximumBatchingWindowInSeconds"]
        assert queue["Properties"]["VisibilityTimeout"] >= minimum


def test_work_queues_redrive_to_their_own_dead_letter_queue(synth, workers):
    targets = []
    for queue_id in work_queue_ids(workers):
        redrive = queues(workers)[queue_id]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == tuning.MAX_RECEIVE_COUNT
        targets.append(ref_target(redrive["deadLetterTargetArn"]))
    assert len(set(targets)) == len(handlers_of(synth))


def test_dead_letter_queues_keep_messages_for_14_days(workers):
    for dlq_id in dead_letter_queue_ids(workers):
        assert queues(workers)[dlq_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_all_queues_are_encrypted_and_deny_plain_http(synth, workers):
    found = queues(workers)
    assert len(found) == 2 * len(handlers_of(synth))
    denied = set()
    for policy in resources(workers, "AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == SECURE_TRANSPORT_DENY:
                assert statement["Action"] == "sqs:*"
                denied.update(ref_target(resource) for resource in as_list(statement["Resource"]))
    for queue_id, queue in found.items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties
        assert queue_id in denied


def test_each_dead_letter_queue_has_a_depth_alarm(workers):
    alarmed = {
        ref_target(dimension["Value"])
        for alarm in resources(workers, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["Namespace"] == "AWS/SQS"
        and alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Properties"]["Dimensions"]
        if dimension["Name"] == "QueueName"
    }
    assert alarmed == dead_letter_queue_ids(workers)


def alarm_topics(template):
    return {
        topic_id: topic
        for topic_id, topic in resources(template, "AWS::SNS::Topic").items()
        if topic["Metadata"]["aws:cdk:path"].startswith(f"{STATELESS}/AlarmTopic/")
    }


def test_alarm_topic_only_when_an_alarm_email_is_given(default_synth, configured_synth):
    assert not alarm_topics(default_synth.template(STATELESS))
    configured = configured_synth.template(STATELESS)
    ((topic_id, topic),) = alarm_topics(configured).items()
    assert "KmsMasterKeyId" in topic["Properties"]
    (subscription,) = [
        subscription
        for subscription in resources(configured, "AWS::SNS::Subscription").values()
        if subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    ]
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == CONFIGURED_CONTEXT["alarmEmail"]
    for alarm in resources(configured, "AWS::CloudWatch::Alarm").values():
        assert [ref_target(action) for action in alarm["Properties"]["AlarmActions"]] == [topic_id]


# --- table -----------------------------------------------------------------------------------------


def test_table_keys_come_from_the_lambdas_package(synth):
    (table,) = resources(synth.template(STATEFUL), "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
    ]
    assert sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        [
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "S"},
        ],
        key=lambda a: a["AttributeName"],
    )


def test_table_is_on_demand_encrypted_recoverable_and_retained(synth):
    (table,) = resources(synth.template(STATEFUL), "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_message_items_expire_by_the_table_s_time_to_live(synth):
    (table,) = resources(synth.template(STATEFUL), "AWS::DynamoDB::Table").values()
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": MESSAGE_EXPIRY_ATTRIBUTE,
        "Enabled": True,
    }
    assert MESSAGE_EXPIRY_ATTRIBUTE == "expires_at"


# --- roles -----------------------------------------------------------------------------------------


def role_of(template, function_id):
    return ref_target(template["Resources"][function_id]["Properties"]["Role"])


def test_each_function_has_its_own_role_without_managed_policies(synth, workers):
    roles = resources(workers, "AWS::IAM::Role")
    used = [role_of(workers, function_id) for function_id in functions(workers)]
    assert len(set(used)) == len(handlers_of(synth))
    for role in roles.values():
        assert not role["Properties"].get("ManagedPolicyArns")
    assert not resources(workers, "AWS::IAM::ManagedPolicy")


# Each role's exact actions, per row of infra/pipelines.py: tests/infra/test_pipelines.py.


def test_no_role_statement_allows_every_resource_but_the_quota_read(workers):
    for function_id in functions(workers):
        for statement in statements(workers, role_of(workers, function_id)):
            # GetAccount supports no resource type: the one statement IAM only accepts on "*".
            if actions(statement) != ["ses:GetAccount"]:
                assert "*" not in as_list(statement["Resource"])


def test_table_access_is_scoped_to_the_table(workers):
    for function_id in functions(workers):
        for statement in statements(workers, role_of(workers, function_id)):
            if any(action.startswith("dynamodb:") for action in actions(statement)):
                (resource,) = as_list(statement["Resource"])
                # the table ARN, read from the stateful stack's output
                assert "Fn::GetStackOutput" in resource


def test_ses_sending_is_scoped_to_identities_and_conditioned_on_the_sender(synth, workers):
    config = synth.stacks.config
    for function_id, fn in functions(workers).items():
        ses_statements = [
            statement
            for statement in statements(workers, role_of(workers, function_id))
            if "ses:SendEmail" in actions(statement)
        ]
        assert len(ses_statements) == (1 if fn["Properties"]["Handler"] in SEND_HANDLERS else 0)
        as_event_address = fn["Properties"]["Handler"] in AS_EVENT_ADDRESS
        sender = config.event_email if as_event_address else config.sender
        expected = config.event_sending_identities if as_event_address else config.sending_identities
        for statement in ses_statements:
            assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": sender}}
            arns = as_list(statement["Resource"])
            # besides the identities, the configuration set (tests/infra/test_feedback.py)
            last_parts = [arn["Fn::Join"][1][-1] for arn in arns]
            identities = sorted(
                part.removeprefix(":identity/")
                for part in last_parts
                if isinstance(part, str) and part.startswith(":identity/")
            )
            assert identities == sorted(expected)
            assert len(arns) == len(identities) + 1


def test_queue_sends_are_scoped_to_the_functions_own_queues(synth, workers):
    for function_id, fn in functions(workers).items():
        variables = fn["Properties"]["Environment"]["Variables"]
        own = {ref_target(variables[ENV_QUEUE_URL]), ref_target(variables[ENV_DLQ_URL])}
        if fn["Properties"]["Handler"] in ENQUEUES_SENDS:  # and the send functions' work queues
            for kind in ("invite", "cancellation"):
                (send_function,) = [
                    f
                    for f in functions(workers).values()
                    if f["Properties"]["Handler"] == PIPELINE_BY_KIND[kind].handler
                ]
                own.add(ref_target(send_function["Properties"]["Environment"]["Variables"][ENV_QUEUE_URL]))
        for statement in statements(workers, role_of(workers, function_id)):
            if any(action.startswith("sqs:") for action in actions(statement)):
                assert {ref_target(resource) for resource in as_list(statement["Resource"])} <= own


# --- SES identity ----------------------------------------------------------------------------------


def test_default_identity_is_the_sender_address(default_synth):
    (identity,) = resources(default_synth.template(STATEFUL), "AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == default_synth.stacks.config.sender
    assert not resources(default_synth.template(STATEFUL), "AWS::Route53::RecordSet")


def test_domain_identity_uses_easy_dkim_with_records_in_the_hosted_zone(configured_synth):
    template = configured_synth.template(STATEFUL)
    (identity,) = resources(template, "AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == CONFIGURED_CONTEXT["sesIdentity"]
    assert identity["Properties"]["DkimAttributes"] == {"SigningEnabled": True}
    records = resources(template, "AWS::Route53::RecordSet").values()
    assert len(records) == 3
    for record in records:
        assert record["Properties"]["Type"] == "CNAME"
        assert record["Properties"]["HostedZoneId"] == CONFIGURED_CONTEXT["hostedZone"]


# --- outputs ---------------------------------------------------------------------------------------


def test_outputs_carry_the_documented_keys(synth, workers):
    organizer = names.ORGANIZER_OUTPUT_KEYS if synth.stacks.config.event_email else ()
    assert set(workers["Outputs"]) == {*names.OUTPUT_KEYS, *names.REPLY_OUTPUT_KEYS, *organizer}
    # which queue each names: tests/infra/test_pipelines.py
    queue_outputs = {key for pipeline in deployed_in(synth) for key in pipeline.outputs}
    assert {ref_target(workers["Outputs"][key]["Value"]) for key in queue_outputs} == set(queues(workers))


def test_table_name_output_is_the_table_the_functions_use(workers):
    for fn in functions(workers).values():
        assert (
            workers["Outputs"][names.OUTPUT_TABLE_NAME]["Value"]
            == fn["Properties"]["Environment"]["Variables"][ENV_TABLE]
        )
