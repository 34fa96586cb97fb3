"""The local runtime behaves as AWS would with the real template, and when the template is broken."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from infra.pipelines import PIPELINE_BY_KIND, deployed
from lambdas.adapters.mailer import Mailer
from lambdas.runtime import config
from local.samples import invite_body

UID = "evt-42@example.com"
GUESTS = ["ana@example.org", "ben@example.org", "chloe@example.org"]
INVITE_HANDLER = PIPELINE_BY_KIND["invite"].handler


@pytest.fixture
def throttled():
    """SES fails every send to ben@ (or only the first ``times`` ones) with an error that is not
    throttling (a throttled send is put back on the queue instead: tests/resilience/test_ses_rate.py)."""
    real_send = Mailer.send
    state = {"times": None, "refused": 0}

    def send(self, recipient, raw):
        if recipient == "ben@example.org" and (state["times"] is None or state["refused"] < state["times"]):
            state["refused"] += 1
            raise ClientError(
                {"Error": {"Code": "InternalFailure", "Message": "An internal failure occurred."}}, "x"
            )
        return real_send(self, recipient, raw)

    with mock.patch.object(Mailer, "send", send):
        yield state


def _short_visibility(assembly, seconds: int = 1):
    """The template with its queues' visibility timeout cut to ``seconds``, nothing else changed:
    the runtime keeps SQS's timing, so a redelivery comes after the template's visibility timeout
    (542 s). The throttled send gives its claim back, so the short timeout overtakes no lease."""
    edited = assembly.editable()
    for _, _, queue in edited.resources("AWS::SQS::Queue"):
        if "VisibilityTimeout" in queue.get("Properties", {}):
            queue["Properties"]["VisibilityTimeout"] = seconds
    return edited


def _fan_out(runtime) -> None:
    url = runtime.outputs()["InviteQueueUrl"]
    runtime.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(invite_body(attendee=GUESTS)))


def _messages(runtime, output: str) -> list[dict]:
    return (
        runtime.client("sqs")
        .receive_message(QueueUrl=runtime.outputs()[output], MaxNumberOfMessages=10, VisibilityTimeout=0)
        .get("Messages", [])
    )


def test_every_function_in_the_template_has_an_importable_handler_and_a_complete_environment(
    app_assembly, start_runtime
):
    runtime = start_runtime(app_assembly)
    # cdk.json's defaults: replies received, no event address (so no organizer function)
    expected = deployed(receive_replies=True)
    assert sorted(f.handler for f in runtime.functions) == sorted(pipeline.handler for pipeline in expected)
    for function in runtime.functions:
        assert set(config.REQUIRED) <= set(function.environment)
        settings = config.Settings.from_environ(function.environment)
        assert settings.table_name == runtime.tables[0].name
        assert settings.queue_url in {q.url for q in runtime.queues.values()}
    for mapping in runtime.mappings:
        assert mapping.function.environment[config.ENV_QUEUE_URL] == mapping.queue.url
        assert mapping.report_batch_item_failures
        assert mapping.queue.max_receive_count
        assert mapping.queue.visibility_timeout >= 6 * mapping.function.timeout


def test_a_reported_failure_is_redelivered_and_then_sent(app_assembly, start_runtime, throttled):
    throttled["times"] = 1
    runtime = start_runtime(_short_visibility(app_assembly))
    _fan_out(runtime)

    invocations = runtime.drain(timeout=20)

    assert [sorted(i.outcomes.elements()) for i in invocations] == [
        ["fanned_out"],
        ["failed", "sent", "sent"],
        ["sent"],  # ben's record alone, redelivered
    ]
    assert sorted(e.recipient for e in runtime.sent_emails()) == GUESTS
    assert _messages(runtime, "InviteDlqUrl") == []


def test_a_record_that_keeps_failing_reaches_the_dlq_after_max_receive_count(
    app_assembly, start_runtime, throttled
):
    runtime = start_runtime(_short_visibility(app_assembly))
    max_receive_count = runtime.mapping_for(INVITE_HANDLER).queue.max_receive_count
    _fan_out(runtime)

    invocations = runtime.drain(timeout=20)

    ben = [i for i in invocations if i.failed]
    assert len(ben) == max_receive_count
    assert sorted(e.recipient for e in runtime.sent_emails()) == ["ana@example.org", "chloe@example.org"]
    [dead] = _messages(runtime, "InviteDlqUrl")
    assert json.loads(dead["Body"])["attendee"]["email"] == "ben@example.org"
    assert _messages(runtime, "InviteQueueUrl") == []


def test_without_report_batch_item_failures_the_failed_record_is_deleted_with_its_batch(
    app_assembly, start_runtime, throttled
):
    broken = app_assembly.editable()
    for _, _, mapping in broken.resources("AWS::Lambda::EventSourceMapping"):
        del mapping["Properties"]["FunctionResponseTypes"]
    runtime = start_runtime(broken)
    assert not runtime.mapping_for(INVITE_HANDLER).report_batch_item_failures
    _fan_out(runtime)

    _fan_out_invocation, batch = runtime.drain()  # no redelivery: two invocations only

    assert batch.outcomes == {"sent": 2, "failed": 1}
    [reported] = batch.response["batchItemFailures"]  # the function reported ben's record...
    assert reported["itemIdentifier"] in batch.deleted  # ...and it was deleted with the rest, as AWS does
    assert sorted(batch.deleted) == sorted(batch.message_ids)
    assert sorted(e.recipient for e in runtime.sent_emails()) == ["ana@example.org", "chloe@example.org"]
    assert _messages(runtime, "InviteQueueUrl") == []
    assert _messages(runtime, "InviteDlqUrl") == []  # lost: the reason the flag is required


def test_a_function_whose_environment_is_broken_sends_its_batches_to_the_dlq(app_assembly, start_runtime):
    broken = _short_visibility(app_assembly)
    for _, _, function in broken.resources("AWS::Lambda::Function"):
        del function["Properties"]["Environment"]["Variables"][config.ENV_SENDER]
    runtime = start_runtime(broken)
    _fan_out(runtime)

    invocations = runtime.drain(timeout=20)

    assert all(
        i.error.startswith("ConfigurationError: missing environment variables: SENDER") for i in invocations
    )
    assert len(invocations) == runtime.mapping_for(INVITE_HANDLER).queue.max_receive_count
    assert len(_messages(runtime, "InviteDlqUrl")) == 1
    assert runtime.sent_emails() == []
