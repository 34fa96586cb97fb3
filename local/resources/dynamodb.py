"""AWS::DynamoDB::Table: key schema, billing, encryption, deletion protection, point-in-time recovery,
time to live (moto records it and deletes nothing, like DynamoDB before its lazy sweep: readers
treat an item past its time as gone)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.resources.base import Creation, creates
from local.template import Physical


@dataclass
class Table:
    stack: str
    logical_id: str
    name: str
    keys: list[tuple[str, str]]  # (attribute, HASH|RANGE)


@creates(
    "AWS::DynamoDB::Table",
    not_emulated=(
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "StreamSpecification",
    ),
)
def create_table(c: Creation) -> Physical:
    props = c.properties
    name = props.get("TableName") or c.physical_name(255)
    billing = props.get("BillingMode", "PROVISIONED")
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = props.get("ProvisionedThroughput") or {
            "ReadCapacityUnits": 5,
            "WriteCapacityUnits": 5,
        }
    if "SSESpecification" in props:
        request["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
    if "DeletionProtectionEnabled" in props:
        request["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
    dynamodb = c.client("dynamodb")
    table = dynamodb.create_table(**request)["TableDescription"]
    recovery = props.get("PointInTimeRecoverySpecification") or {}
    if recovery.get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    keys = [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]]
    c.inventory.tables.append(Table(stack=c.stack, logical_id=c.logical_id, name=name, keys=keys))
    return Physical(ref=name, attributes={"Arn": table["TableArn"]})
