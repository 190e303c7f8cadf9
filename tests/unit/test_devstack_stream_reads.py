"""The local stack's DynamoDB keeps a transaction all or nothing, as DynamoDB
does, stream included: one that fails (a later item's condition) leaves its
items as they were and no record for any shard iterator, made before it or
after, so the outbox's stream pump can neither deliver an event that was never
committed nor skip the real ones that take its sequence numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from devstack.moto_fixes import apply_moto_fixes, patched_attributes

REGION = "us-east-1"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    # The fixes patch moto's classes; patched here for this test only, so
    # other tests of this process meet moto as it is.
    for owner, name in patched_attributes():
        monkeypatch.setattr(owner, name, getattr(owner, name))
    apply_moto_fixes()
    with mock_aws():
        # Account-based endpoints are not moto's: the regional ones are.
        regional = Config(account_id_endpoint_mode="disabled")
        ddb = boto3.client("dynamodb", region_name=REGION, config=regional)
        streams = boto3.client("dynamodbstreams", region_name=REGION, config=regional)
        arn = ddb.create_table(
            TableName="Outbox",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]
        yield ddb, streams, arn


def _keys(streams: Any, iterator: str) -> list[str]:
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [r["dynamodb"]["Keys"]["k"]["S"] for r in records]


def _iterator(streams: Any, arn: str) -> str:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    found: str = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return found


def test_a_rolled_back_transaction_leaves_no_record_for_an_earlier_iterator(
    table: tuple[Any, Any, str],
) -> None:
    ddb, streams, arn = table
    ddb.put_item(TableName="Outbox", Item={"k": {"S": "committed"}})
    iterator = _iterator(streams, arn)
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "Outbox", "Item": {"k": {"S": "rolled-back"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "Outbox",
                        "Key": {"k": {"S": "missing"}},
                        "ConditionExpression": "attribute_exists(k)",
                    }
                },
            ]
        )
    ddb.put_item(TableName="Outbox", Item={"k": {"S": "after"}})

    assert _keys(streams, iterator) == ["committed", "after"]
    assert "Item" not in ddb.get_item(TableName="Outbox", Key={"k": {"S": "rolled-back"}})


def test_a_failed_transaction_leaves_the_items_it_touched_as_they_were(
    table: tuple[Any, Any, str],
) -> None:
    ddb, streams, arn = table
    ddb.put_item(TableName="Outbox", Item={"k": {"S": "head"}, "last": {"N": "4"}})
    ddb.put_item(TableName="Outbox", Item={"k": {"S": "old"}})
    iterator = _iterator(streams, arn)
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "Outbox",
                        "Key": {"k": {"S": "head"}},
                        "UpdateExpression": "SET #l = :n",
                        "ExpressionAttributeNames": {"#l": "last"},
                        "ExpressionAttributeValues": {":n": {"N": "5"}},
                    }
                },
                {"Delete": {"TableName": "Outbox", "Key": {"k": {"S": "old"}}}},
                {"Put": {"TableName": "Outbox", "Item": {"k": {"S": "event-5"}}}},
                {
                    "Put": {
                        "TableName": "Outbox",
                        "Item": {"k": {"S": "old"}, "x": {"S": "y"}},
                        "ConditionExpression": "attribute_not_exists(k)",
                    }
                },
            ]
        )

    head = ddb.get_item(TableName="Outbox", Key={"k": {"S": "head"}})["Item"]
    assert head["last"] == {"N": "4"}
    assert ddb.get_item(TableName="Outbox", Key={"k": {"S": "old"}})["Item"] == {"k": {"S": "old"}}
    assert "Item" not in ddb.get_item(TableName="Outbox", Key={"k": {"S": "event-5"}})
    assert _keys(streams, iterator) == ["head", "old"]
    assert _keys(streams, _iterator(streams, arn)) == ["head", "old"]

    ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "Outbox", "Item": {"k": {"S": "event-5"}}}}]
    )
    assert _keys(streams, iterator) == ["head", "old", "event-5"]
