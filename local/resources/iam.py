"""AWS::IAM::Role and AWS::IAM::Policy: each function's role, in the form moto can enforce.

Each function runs with credentials assumed from its role (local/resources/lambda_function.py),
and moto's IAM enforcement (local/moto_iam.py) refuses any call its policies do not allow.
moto evaluates a statement's Effect and Action (or NotAction), but checks DynamoDB, SES and SNS
requests against the resource "*", which no ARN matches, and denies on any Condition it cannot
evaluate (``dynamodb:LeadingKeys``, ``ses:FromAddress``). So each statement is kept with its
Effect and actions, for any resource and without its Condition, and a Deny with a Condition is
left out (moto could only make it deny everything). Locally the actions are enforced; what each
role may touch (resources, conditions) is asserted on the template by tests/infra.

Managed policies are not attached: moto holds no AWS managed policy, and the only one a function
role commonly carries grants CloudWatch Logs, which the functions do not call here (their logs
are written to local files).
"""

from __future__ import annotations

import json

from local.resources.base import Creation, creates
from local.template import Physical


def enforceable(document: dict) -> str:
    statements = document.get("Statement", [])
    kept = [
        {key: s[key] for key in ("Effect", "Action", "NotAction") if key in s} | {"Resource": "*"}
        for s in ([statements] if isinstance(statements, dict) else statements)
        if s.get("Effect") == "Allow" or "Condition" not in s
    ]
    return json.dumps({"Version": document.get("Version", "2012-10-17"), "Statement": kept})


@creates("AWS::IAM::Role")
def create_role(c: Creation) -> Physical:
    props, iam = c.properties, c.client("iam")
    name = props.get("RoleName") or c.physical_name(64)
    trust = json.dumps(props["AssumeRolePolicyDocument"])
    role = iam.create_role(RoleName=name, Path=props.get("Path", "/"), AssumeRolePolicyDocument=trust)["Role"]
    for policy in props.get("Policies", []):
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=enforceable(policy["PolicyDocument"]),
        )
    if props.get("ManagedPolicyArns"):
        c.note(f"{c.stack}/{c.logical_id}: managed policies are not attached (moto holds none)")
    return Physical(ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})


@creates("AWS::IAM::Policy")
def attach_policy(c: Creation) -> Physical:
    props = c.properties
    for role in props.get("Roles", []):
        c.client("iam").put_role_policy(
            RoleName=role, PolicyName=props["PolicyName"], PolicyDocument=enforceable(props["PolicyDocument"])
        )
    return Physical(ref=props["PolicyName"])
