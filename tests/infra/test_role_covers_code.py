"""Every AWS action each function's code can call is in its role, and its role holds nothing else.

What the code can call is read from the code (tests/infra/code_calls.py: the call graph from the
handler module through lambdas/, boto3 calls mapped to IAM actions by the botocore service model,
with the documented exceptions there); what the role holds is read from the synthesized template.
Actions only: which resources and conditions each statement has is asserted by
tests/infra/test_pipelines.py and the other template tests. moto checks actions, not conditions
such as dynamodb:LeadingKeys, so this is where a missing action is caught before `cdk deploy`.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra import names
from infra.pipelines import PIPELINES, Pipeline
from lambdas.runtime.config import ENV_MAX_SEND_RATE, READ_FROM_ACCOUNT
from tests.infra.code_calls import reach
from tests.infra.helpers import actions, ref_target, statements
from tests.infra.pipelines import function_id_of, left_out, variables_of

STATELESS = names.STATELESS_STACK_NAME
ROWS = pytest.mark.parametrize("pipeline", PIPELINES, ids=[pipeline.kind for pipeline in PIPELINES])

# Calls the code makes only when its environment says so: the static reach counts them as made
# whatever the configuration (lambdas/runtime/services.py `send_pace` asks SES for the account's
# rate only when SES_MAX_SEND_RATE is "account"; a configured rate, or none, costs no call).
CALLED_ONLY_WHEN = {"ses:GetAccount": (ENV_MAX_SEND_RATE, READ_FROM_ACCOUNT)}
# What the role holds for Lambda itself, not for the function's code: the platform writes the
# function's logs, and the event source mapping polls and deletes from the work queue, with it.
PLATFORM_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}


def role_actions(template: dict[str, Any], pipeline: Pipeline) -> set[str]:
    function = template["Resources"][function_id_of(template, pipeline.handler)]
    role_id = ref_target(function["Properties"]["Role"])
    return {action for statement in statements(template, role_id) for action in actions(statement)}


def code_actions(template: dict[str, Any], pipeline: Pipeline) -> dict[str, set[str]]:
    """IAM action -> where in lambdas/ the function's code calls it, as configured in `template`."""
    variables = variables_of(template, pipeline.handler)
    return {
        action: where
        for action, where in reach(pipeline.handler.rpartition(".")[0]).iam_actions().items()
        if action not in CALLED_ONLY_WHEN
        or variables.get(CALLED_ONLY_WHEN[action][0]) == CALLED_ONLY_WHEN[action][1]
    }


def uncovered(template: dict[str, Any], pipeline: Pipeline) -> list[str]:
    """One line per action the function's code can call that its role does not grant."""
    granted = role_actions(template, pipeline)
    return [
        f"{pipeline.kind} ({pipeline.handler}) can call {action} (in {', '.join(sorted(where))}), "
        "which its role does not grant"
        for action, where in sorted(code_actions(template, pipeline).items())
        if action not in granted
    ]


def unused(template: dict[str, Any], pipeline: Pipeline) -> list[str]:
    """One line per action the role grants that no code path of the function calls."""
    needed = set(code_actions(template, pipeline)) | PLATFORM_ACTIONS
    return [
        f"{pipeline.kind} ({pipeline.handler}): its role grants {action}, which no code path of it calls"
        for action in sorted(role_actions(template, pipeline) - needed)
    ]


@ROWS
def test_every_action_the_function_s_code_can_call_is_in_its_role(synth, pipeline):
    if left_out(synth, pipeline):
        return
    assert uncovered(synth.template(STATELESS), pipeline) == []


@ROWS
def test_the_role_grants_no_action_the_function_s_code_never_calls(synth, pipeline):
    if left_out(synth, pipeline):
        return
    assert unused(synth.template(STATELESS), pipeline) == []


def without_action(template: dict[str, Any], pipeline: Pipeline, action: str) -> dict[str, Any]:
    """A scratch copy of the template whose function role lacks `action`."""
    scratch = copy.deepcopy(template)
    role_id = ref_target(
        scratch["Resources"][function_id_of(scratch, pipeline.handler)]["Properties"]["Role"]
    )
    for statement in statements(scratch, role_id):
        kept = [found for found in actions(statement) if found != action]
        statement["Action"] = kept if len(kept) != 1 else kept[0]
    return scratch


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("invite", "dynamodb:Query"),  # a plain call (Store._query)
        ("invite", "dynamodb:ConditionCheckItem"),  # an item of a transaction (the claim)
        ("cancellation", "sqs:SendMessage"),  # SendMessageBatch (the fan-out) and SendMessage
        ("reply", "ses:SendRawEmail"),  # SES v2 SendEmail with raw content
        ("reply", "s3:GetObject"),
        ("feedback", "dynamodb:GetItem"),
    ],
)
def test_a_role_missing_an_action_its_code_calls_fails_naming_the_function_and_the_action(
    default_synth, kind, action
):
    (pipeline,) = [pipeline for pipeline in PIPELINES if pipeline.kind == kind]
    scratch = without_action(default_synth.template(STATELESS), pipeline, action)
    (line,) = uncovered(scratch, pipeline)
    assert line.startswith(f"{kind} ({pipeline.handler}) can call {action} (in lambdas.")


def test_an_action_no_code_path_calls_is_reported(default_synth):
    (feedback,) = [pipeline for pipeline in PIPELINES if pipeline.kind == "feedback"]
    scratch = copy.deepcopy(default_synth.template(STATELESS))
    role_id = ref_target(
        scratch["Resources"][function_id_of(scratch, feedback.handler)]["Properties"]["Role"]
    )
    (first, *_) = statements(scratch, role_id)
    first["Action"] = [*actions(first), "ses:SendEmail"]
    assert unused(scratch, feedback) == [
        f"feedback ({feedback.handler}): its role grants ses:SendEmail, which no code path of it calls"
    ]


def test_the_configured_rate_spares_the_sending_quota_call(configured_synth, default_synth):
    (invite,) = [pipeline for pipeline in PIPELINES if pipeline.kind == "invite"]
    assert "ses:GetAccount" in code_actions(default_synth.template(STATELESS), invite)
    assert "ses:GetAccount" not in code_actions(configured_synth.template(STATELESS), invite)


def test_the_reach_follows_the_handler_into_each_adapter_it_uses():
    """The walk itself: it must get from each handler to the clients' calls, or it proves nothing."""
    found = {pipeline.kind: reach(pipeline.handler.rpartition(".")[0]) for pipeline in PIPELINES}
    for kind, walked in found.items():
        assert walked.services == {"dynamodb", "sesv2", "sqs", "s3"}, kind
        assert f"lambdas.{kind_package(kind)}.workflow" in {f.partition(":")[0] for f in walked.functions}
    assert ("s3", "GetObject") in found["reply"].operations()
    assert ("sesv2", "SendEmail") not in found["feedback"].operations()
    assert ("dynamodb", "TransactWriteItems") in found["feedback"].operations()
    # a lazy import (send_cancellation.workflow imports its uncount module inside a function)
    assert "lambdas.send_cancellation.uncount" in {
        f.partition(":")[0] for f in found["cancellation"].functions
    }


def kind_package(kind: str) -> str:
    (pipeline,) = [pipeline for pipeline in PIPELINES if pipeline.kind == kind]
    return pipeline.handler.split(".")[1]
