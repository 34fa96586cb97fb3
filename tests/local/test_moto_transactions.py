"""The served moto's TransactWriteItems: an item-level rollback point, and ClientRequestToken kept."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from local.sandbox import CREDENTIALS, REGION
from local.server import MotoServer


@pytest.fixture
def dynamodb():
    server = MotoServer().start()
    try:
        server.reset()
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION, **CREDENTIALS)
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
    finally:
        server.stop()


def _add_one(sk: str, condition: str | None = None) -> dict:
    update = {
        "TableName": "t",
        "Key": {"pk": {"S": "a"}, "sk": {"S": sk}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def _counts(dynamodb) -> dict[str, str]:
    return {item["sk"]["S"]: item["n"]["N"] for item in dynamodb.scan(TableName="t")["Items"]}


def test_a_refused_transaction_leaves_every_item_as_it_was(dynamodb):
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})

    with pytest.raises(ClientError, match="TransactionCanceled"):
        # the first two apply, the third's condition fails: all three are rolled back
        dynamodb.transact_write_items(
            TransactItems=[_add_one("1"), _add_one("2"), _add_one("3", "attribute_exists(pk)")]
        )

    assert _counts(dynamodb) == {"1": "1"}  # "2", created by the refused transaction, is gone


def test_a_retried_transaction_with_the_same_client_request_token_is_applied_once(dynamodb):
    dynamodb.transact_write_items(TransactItems=[_add_one("1")], ClientRequestToken="retry-of-one-call")
    dynamodb.transact_write_items(TransactItems=[_add_one("1")], ClientRequestToken="retry-of-one-call")
    dynamodb.transact_write_items(TransactItems=[_add_one("1")], ClientRequestToken="another-call")

    assert _counts(dynamodb) == {"1": "2"}
