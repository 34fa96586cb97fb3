"""The local runtime follows the template: resources, environments, and the SQS poller's rules."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.local import fixture, handlers

TEST_HANDLER = "tests.local.handlers.handler"


@pytest.fixture
def echo_assembly(fixture_assembly):
    """The fixture assembly with the invite function's handler replaced by tests/local/handlers.py."""
    assembly = fixture_assembly.editable()
    function = assembly.stack(fixture.WORKERS).template["Resources"]["InviteFunction5A2B3C4D"]
    function["Properties"]["Handler"] = TEST_HANDLER
    handlers.CALLS.clear()
    return assembly


def _mapping_properties(assembly) -> dict:
    return assembly.stack(fixture.WORKERS).template["Resources"]["InviteEventSource6A2B3C4D"]["Properties"]


def _set_timing(assembly, *, visibility: int, timeout: int | None = None) -> None:
    """The template's queue visibility timeout (and function timeout), made short for a test."""
    resources = assembly.stack(fixture.WORKERS).template["Resources"]
    resources["InviteQueue1A2B3C4D"]["Properties"]["VisibilityTimeout"] = visibility
    if timeout is not None:
        resources["InviteFunction5A2B3C4D"]["Properties"]["Timeout"] = timeout


def _not_visible(runtime) -> int:
    attributes = runtime.client("sqs").get_queue_attributes(
        QueueUrl=runtime.queue("InviteQueue").url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _poll_until_delivered(runtime, timeout: float = 10.0):
    """(the next invocation, seconds waited for it)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if invocations := runtime.poll_once():
            return invocations[0], time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("nothing was delivered")


def _send(runtime, *answers: str) -> list[str]:
    sqs, url = runtime.client("sqs"), runtime.outputs()["InviteQueueUrl"]
    return [
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"answer": a}))["MessageId"] for a in answers
    ]


def _bodies(runtime, output: str) -> list[dict]:
    sqs, url = runtime.client("sqs"), runtime.outputs()[output]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in messages]


# ------------------------------------------------------------------------------------- resources


def test_queues_are_created_with_the_templates_attributes_and_redrive_policy(start_runtime, fixture_assembly):
    runtime = start_runtime(fixture_assembly)
    sqs = runtime.client("sqs")
    queue = runtime.queue("InviteQueue")
    dlq = runtime.queue("InviteDeadLetterQueue")

    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3}
    assert json.loads(attributes["Policy"])["Statement"][0]["Effect"] == "Deny"
    dlq_attributes = sqs.get_queue_attributes(QueueUrl=dlq.url, AttributeNames=["All"])["Attributes"]
    assert dlq_attributes["MessageRetentionPeriod"] == "1209600"
    assert queue.name == "FixtureWorkers-InviteQueue1A2B3C4D"
    assert (queue.max_receive_count, queue.dead_letter_arn) == (3, dlq.arn)


def test_table_identity_and_skipped_resources(start_runtime, fixture_assembly):
    runtime = start_runtime(fixture_assembly)
    table = runtime.client("dynamodb").describe_table(TableName="FixtureData-TableA1B2C3D4")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    ttl = runtime.client("dynamodb").describe_time_to_live(TableName="FixtureData-TableA1B2C3D4")
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    identity = runtime.client("sesv2").get_email_identity(EmailIdentity=fixture.SENDER)
    assert identity["VerifiedForSendingStatus"] is True
    # The topic's condition is false in us-east-1: it is not created, not even as a stand-in.
    assert runtime.not_emulated == {"AWS::Logs::LogGroup": 2}
    assert runtime.notes == []


def test_function_environments_resolve_refs_getatts_joins_and_cross_stack_references(
    start_runtime, fixture_assembly
):
    runtime = start_runtime(fixture_assembly)
    invite, cancellation = runtime.functions
    assert invite.handler == "lambdas.send_invite.handler.lambda_handler"
    assert (invite.timeout, invite.memory) == (30, 256)
    assert invite.environment == {
        "REGION": "us-east-1",
        "DYNAMODB_TABLE": "FixtureData-TableA1B2C3D4",  # Fn::ImportValue
        "SENDER": "invites@example.com",  # Fn::Join
        "RSVP_EMAIL": "rsvp@example.com",  # Fn::Sub with variables
        "SQS_URL": runtime.queue("InviteQueue").url,  # Ref
        "DLQ_URL": runtime.queue("InviteDeadLetterQueue").url,  # Fn::GetAtt QueueUrl
        "SUBJECT_PREFIX": "CalendarSnack",
        "CLAIM_LEASE_SECONDS": "30",
        "BATCH_MAX_WORKERS": "4",
    }
    assert cancellation.environment["DYNAMODB_TABLE"] == "FixtureData-TableA1B2C3D4"  # Fn::GetStackOutput
    assert cancellation.environment["SQS_URL"] == runtime.queue("CancellationQueue").url


def test_event_source_mappings_are_read_from_the_template(start_runtime, fixture_assembly):
    runtime = start_runtime(fixture_assembly)
    mapping = runtime.mapping_for("lambdas.send_invite.handler.lambda_handler")
    assert mapping.queue is runtime.queue("InviteQueue")
    assert (mapping.batch_size, mapping.batching_window, mapping.maximum_concurrency) == (10, 1, 2)
    assert mapping.report_batch_item_failures is True


def test_stack_outputs_are_published_as_cloudformation_stacks(start_runtime, fixture_assembly):
    runtime = start_runtime(fixture_assembly)
    cloudformation = runtime.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=fixture.WORKERS)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["InviteQueueUrl"] == runtime.queue("InviteQueue").url
    assert outputs["TableName"] == "FixtureData-TableA1B2C3D4"
    data = cloudformation.describe_stacks(StackName=fixture.DATA)["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in data["Outputs"]}["Region"] == "east"  # Fn::If


def test_a_handler_path_that_does_not_import_fails_at_start(start_runtime, fixture_assembly):
    from local.runtime import RuntimeProblem

    assembly = fixture_assembly.editable()
    resources = assembly.stack(fixture.WORKERS).template["Resources"]
    resources["InviteFunction5A2B3C4D"]["Properties"]["Handler"] = "lambdas.nowhere.handler"
    with pytest.raises(RuntimeProblem, match=r"lambdas\.nowhere\.handler"):
        start_runtime(assembly)
    assert "AWS_ENDPOINT_URL" not in os.environ  # stopped: environment restored


@pytest.mark.parametrize(
    ("stack", "logical_id", "name", "value"),
    [
        (fixture.WORKERS, "InviteQueue1A2B3C4D", "FifoQueue", True),
        (fixture.DATA, "TableA1B2C3D4", "GlobalSecondaryIndexes", []),
        (fixture.DATA, "TableA1B2C3D4", "StreamSpecification", {"StreamViewType": "NEW_IMAGE"}),
    ],
)
def test_a_property_whose_behaviour_is_not_emulated_fails_at_start(
    start_runtime, fixture_assembly, stack, logical_id, name, value
):
    from local.runtime import RuntimeProblem

    assembly = fixture_assembly.editable()
    assembly.stack(stack).template["Resources"][logical_id]["Properties"][name] = value
    with pytest.raises(RuntimeProblem, match=f"{logical_id}.*{name} is not emulated"):
        start_runtime(assembly)


# --------------------------------------------------------------------------------- event sources


def test_records_reach_the_handler_in_lambdas_shape_with_the_functions_environment(
    start_runtime, echo_assembly
):
    runtime = start_runtime(echo_assembly)
    [message_id] = _send(runtime, "ok")

    [invocation] = runtime.drain()

    [call] = handlers.CALLS
    [record] = call["records"]
    assert record["messageId"] == message_id
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == runtime.queue("InviteQueue").arn
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert json.loads(record["body"]) == {"answer": "ok"}
    assert call["environment"] == {
        "SQS_URL": runtime.queue("InviteQueue").url,
        "DYNAMODB_TABLE": "FixtureData-TableA1B2C3D4",
        "_HANDLER": TEST_HANDLER,
    }
    assert call["function_name"] == "FixtureWorkers-InviteFunction5A2B3C4D"
    assert 0 < call["remaining_ms"] <= 30_000
    assert invocation.deleted == [message_id]
    assert "a line on stdout" in runtime.functions[0].log_file.read_text()
    assert _bodies(runtime, "InviteQueueUrl") == []


def test_a_reported_failure_is_redelivered_until_max_receive_count_then_dead_lettered(
    start_runtime, echo_assembly
):
    _set_timing(echo_assembly, visibility=1)
    runtime = start_runtime(echo_assembly)
    ok, failing = _send(runtime, "ok", "fail")

    invocations = runtime.drain(timeout=10)

    # maxReceiveCount is 3: three deliveries of the failing message, then SQS moves it to the DLQ.
    assert [inv.message_ids for inv in invocations] == [[ok, failing], [failing], [failing]]
    assert [inv.failed for inv in invocations] == [[failing]] * 3
    assert invocations[0].deleted == [ok]
    assert _bodies(runtime, "InviteDlqUrl") == [{"answer": "fail"}]
    assert _bodies(runtime, "InviteQueueUrl") == []


def test_a_reported_failure_stays_invisible_for_the_queues_visibility_timeout(start_runtime, echo_assembly):
    _set_timing(echo_assembly, visibility=2)
    runtime = start_runtime(echo_assembly)
    [failing] = _send(runtime, "fail")

    first, _ = _poll_until_delivered(runtime)
    assert first.failed == [failing]
    assert runtime.poll_once() == []  # handed back, but not visible again at once
    assert _not_visible(runtime) == 1
    second, waited = _poll_until_delivered(runtime)

    assert second.message_ids == [failing]
    assert second.failed == [failing]
    assert 1.5 <= waited < 5  # the 2 s visibility timeout, counted from the receive
    assert handlers.CALLS[1]["records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_an_invocation_past_its_timeout_is_abandoned_and_its_late_write_refused(start_runtime, echo_assembly):
    handlers.LATE.clear()
    _set_timing(echo_assembly, visibility=3, timeout=1)
    runtime = start_runtime(echo_assembly)
    [late] = _send(runtime, "late")

    first, _ = _poll_until_delivered(runtime)

    assert first.timed_out
    assert first.error == "Task timed out after 1.00 seconds"
    assert (first.failed, first.deleted) == ([late], [])
    assert 1 <= first.seconds < handlers.LATE_SLEEP  # the poller did not wait for the handler
    assert runtime.poll_once() == []  # its record is not visible again before the visibility timeout
    assert _not_visible(runtime) == 1
    deadline = time.monotonic() + 5
    while not handlers.LATE and time.monotonic() < deadline:
        time.sleep(0.05)
    assert handlers.LATE == ["EnvironmentReset"]  # the abandoned handler woke up, and could not write
    assert _bodies(runtime, "InviteDlqUrl") == []
    assert "Task timed out after 1.00 seconds" in runtime.functions[0].log_file.read_text()

    second, waited = _poll_until_delivered(runtime)
    assert second.message_ids == [late]
    assert 1 <= waited < 5  # 3 s after the receive, of which the invocation took the first one
    assert second.timed_out  # abandoned again (and its late write refused the same way)


def test_without_report_batch_item_failures_the_whole_batch_is_deleted(start_runtime, echo_assembly):
    del _mapping_properties(echo_assembly)["FunctionResponseTypes"]
    runtime = start_runtime(echo_assembly)
    ids = _send(runtime, "ok", "fail", "ok")

    [invocation] = runtime.drain()

    assert invocation.response["batchItemFailures"] == [{"itemIdentifier": ids[1]}]  # reported, ignored
    assert invocation.failed == []
    assert sorted(invocation.deleted) == sorted(ids)
    assert _bodies(runtime, "InviteDlqUrl") == []


def test_a_handler_that_raises_leaves_the_whole_batch_for_redelivery(start_runtime, echo_assembly):
    _set_timing(echo_assembly, visibility=1)
    runtime = start_runtime(echo_assembly)
    _send(runtime, "ok", "raise")

    invocations = runtime.drain(timeout=10)

    assert len(invocations) == 3
    assert all(inv.error == "RuntimeError: the handler crashed" for inv in invocations)
    assert sorted(b["answer"] for b in _bodies(runtime, "InviteDlqUrl")) == ["ok", "raise"]
    assert "RuntimeError: the handler crashed" in runtime.functions[0].log_file.read_text()


def test_an_item_identifier_outside_the_batch_fails_the_whole_batch(start_runtime, echo_assembly):
    _mapping_properties(echo_assembly)["BatchSize"] = 2
    runtime = start_runtime(echo_assembly)
    _send(runtime, "ok", "bad-id")

    first = runtime.poll_once()[0]

    assert sorted(first.failed) == sorted(first.message_ids)
    assert first.deleted == []


def test_batch_size_caps_each_invocation(start_runtime, echo_assembly):
    _mapping_properties(echo_assembly)["BatchSize"] = 2
    runtime = start_runtime(echo_assembly)
    _send(runtime, *["ok"] * 5)

    invocations = runtime.drain()

    assert [len(inv.message_ids) for inv in invocations] == [2, 2, 1]


def test_a_disabled_mapping_delivers_nothing(start_runtime, echo_assembly):
    _mapping_properties(echo_assembly)["Enabled"] = False
    runtime = start_runtime(echo_assembly)
    _send(runtime, "ok")

    assert runtime.drain() == []
    assert handlers.CALLS == []


def test_the_environment_is_restored_when_the_runtime_stops(fixture_assembly, tmp_path, monkeypatch):

    from local.runtime import LocalRuntime

    monkeypatch.setenv("AWS_PROFILE", "someone")
    with LocalRuntime(fixture_assembly, work_dir=tmp_path) as runtime:
        assert os.environ["AWS_ENDPOINT_URL"] == runtime.endpoint
        assert "AWS_PROFILE" not in os.environ  # a profile would override the throw-away keys
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert os.environ["AWS_PROFILE"] == "someone"


def test_each_function_is_held_to_its_role_while_the_runtime_runs_and_iam_is_restored_after(
    fixture_assembly, tmp_path
):
    import boto3
    from botocore.exceptions import ClientError
    from moto import settings

    from local.runtime import LocalRuntime

    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    with LocalRuntime(fixture_assembly, work_dir=tmp_path) as runtime:
        function = runtime.functions[0]
        variables = function.lambda_environment()
        keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        as_function = boto3.Session(*(variables[key] for key in keys), region_name=runtime.region)
        as_function.client("sqs", endpoint_url=runtime.endpoint).list_queues()  # its role: sqs:*
        with pytest.raises(
            ClientError, match=f"/{function.name} is not authorized to perform: sns:ListTopics"
        ):
            as_function.client("sns", endpoint_url=runtime.endpoint).list_topics()
        runtime.client("sns").list_topics()  # the runtime's own key: the administrator's
    after = settings.INITIAL_NO_AUTH_ACTION_COUNT
    assert after == before  # not enforced for whatever runs next in this process


def test_a_function_sees_only_its_own_variables_not_stray_ones_of_this_process(
    start_runtime, echo_assembly, monkeypatch
):
    del echo_assembly.stack(fixture.WORKERS).template["Resources"]["InviteFunction5A2B3C4D"]["Properties"][
        "Environment"
    ]["Variables"]["DYNAMODB_TABLE"]
    monkeypatch.setenv("DYNAMODB_TABLE", "left-over-from-elsewhere")
    runtime = start_runtime(echo_assembly)
    _send(runtime, "ok")

    runtime.drain()

    assert handlers.CALLS[0]["environment"]["DYNAMODB_TABLE"] is None
