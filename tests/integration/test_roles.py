"""Each function runs as its own role, held to it by moto's IAM enforcement (local/moto_iam.py).

Take one action the code calls out of one function's role, in a scratch copy of the synthesized
template, deploy it, drive the function: the call fails as in AWS, and the failure names the
function (the session Lambda assumes its role in) and the action. The rest of the suite runs the
unmodified template under the same enforcement: every call it makes is granted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from local import shapes
from local.driver import PACKAGES
from local.lambda_logs import OutcomeLog
from local.samples import invite_body, record, reply_mail

BOB = "bob@example.org"


def without(assembly, function: str, action: str):
    """A scratch copy of the template whose function's role lacks ``action``."""
    scratch = assembly.editable()
    [role] = [
        definition["Properties"]["Role"]["Fn::GetAtt"][0]
        for _, _, definition in scratch.resources("AWS::Lambda::Function")
        if definition["Properties"]["Handler"].startswith(f"lambdas.{PACKAGES[function]}.")
    ]
    removed = 0
    for _, _, policy in scratch.resources("AWS::IAM::Policy"):
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        document = policy["Properties"]["PolicyDocument"]
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            removed += action in actions
            statement["Action"] = [a for a in actions if a != action]
        document["Statement"] = [s for s in document["Statement"] if s["Action"]]
    assert removed, f"the {function} role does not grant {action}"
    return scratch


def invite(driver) -> str:
    assert driver.invoke("invite", invite_body(attendee=BOB)) == {"batchItemFailures": []}
    return driver.attendee_item(invite_body()["event"]["uid"], BOB).message_id


def reply(driver) -> dict:
    invite(driver)
    return driver.invoke("reply", driver.receive(reply_mail(BOB, "ACCEPTED")))


def forged_reply(driver) -> dict:
    """A notification not from the receipt topic: dead-lettered, which needs sqs:SendMessage."""
    invite(driver)
    envelope = {**json.loads(driver.receive(reply_mail(BOB, "ACCEPTED"))), "TopicArn": "arn:aws:sns:::forged"}
    return driver.invoke("reply", records=[record(envelope)])


def cancel(driver) -> dict:
    """The whole event: its attendees are found with a Query."""
    invite(driver)
    return driver.invoke("cancel", {"event": {"uid": invite_body()["event"]["uid"]}})


def bounce(driver) -> dict:
    message_id = invite(driver)
    now = datetime.now(UTC)
    notice = shapes.bounce(message_id, BOB, now, now - timedelta(minutes=1))
    return driver.invoke("feedback", records=[record(shapes.sns_envelope(notice))])


@pytest.mark.parametrize(
    ("function", "action", "drive"),
    [
        ("invite", "dynamodb:UpdateItem", lambda driver: driver.invoke("invite", invite_body())),
        ("invite", "ses:SendEmail", lambda driver: driver.invoke("invite", invite_body())),
        ("cancel", "dynamodb:Query", cancel),
        ("reply", "dynamodb:UpdateItem", reply),
        ("reply", "sqs:SendMessage", forged_reply),
        ("feedback", "dynamodb:UpdateItem", bounce),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_call_the_role_does_not_grant_fails_naming_the_function_and_the_action(
    samples_assembly, scratch_account, function, action, drive
):
    driver = scratch_account(without(samples_assembly, function, action))
    name = driver.function(function).name

    with OutcomeLog().attached() as log:
        response = drive(driver)

    assert response["batchItemFailures"], "the record is retried, as any failure"
    [failed] = [line for line in log.outcome_lines() if line["outcome"] == "failed"]
    assert "assumed-role/" in failed["error"]
    assert f"/{name} is not authorized to perform: {action}" in failed["error"]


def test_s3_refuses_the_reply_function_without_get_object(samples_assembly, scratch_account):
    """moto's S3 names neither the role nor the action when it refuses (AWS's S3 names both)."""
    driver = scratch_account(without(samples_assembly, "reply", "s3:GetObject"))

    with OutcomeLog().attached() as log:
        assert reply(driver)["batchItemFailures"]

    [failed] = [line for line in log.outcome_lines() if line["outcome"] == "failed"]
    assert "(AccessDenied) when calling the GetObject operation" in failed["error"]


def test_the_shared_deployment_holds_each_function_to_its_role(account):
    """What the suite runs under: a call outside the function's role is refused (the invite role
    may update items, never put them), while the tests themselves act as the administrator."""
    function = account.function("invite")
    variables = function.lambda_environment()
    as_function = boto3.client(
        "dynamodb",
        region_name=account.region,
        aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=variables["AWS_SESSION_TOKEN"],
    )
    item = {"pk": {"S": "event#x"}, "sk": {"S": "event#x"}}

    with pytest.raises(ClientError, match=f"/{function.name} is not authorized to perform: dynamodb:PutItem"):
        as_function.put_item(TableName=account.table, Item=item)
    boto3.client("dynamodb", region_name=account.region).put_item(TableName=account.table, Item=item)
