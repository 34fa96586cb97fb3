"""Small readers for synthesized CloudFormation templates."""

from __future__ import annotations

from typing import Any


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def ref_target(value: Any) -> str:
    """The logical ID a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    raise AssertionError(f"not a reference: {value!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every policy statement attached to a role: its inline Policies and AWS::IAM::Policy resources."""
    role = template["Resources"][role_id]
    found = [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for policy in resources(template, "AWS::IAM::Policy").values():
        if any(ref_target(role_ref) == role_id for role_ref in policy["Properties"].get("Roles", [])):
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    return as_list(statement["Action"])


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    """The logical ID and body of the one resource of this type."""
    (found,) = resources(template, resource_type).items()
    return found


def text(value: Any) -> str:
    """A Fn::Join / Ref as one string, each reference written ${LogicalId} or ${LogicalId.Attr}."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if "Fn::GetStackOutput" in value:
        output = value["Fn::GetStackOutput"]
        return "${" + output["StackName"] + ":" + output["OutputName"] + "}"
    separator, parts = value["Fn::Join"]
    return separator.join(text(part) for part in parts)
