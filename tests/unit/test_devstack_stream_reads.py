"""The local stack's DynamoDB stream shows only committed writes, as DynamoDB's
does: a transaction that moto rolls back (a later item's condition failed)
leaves no record for a shard iterator made before it, so the outbox's stream
pump can neither deliver an event that was never committed nor skip the real
ones that take its sequence numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from devstack.aws import stream_reads_see_only_committed_writes

REGION = "us-east-1"


@pytest.fixture
def table() -> Iterator[tuple[Any, Any, str]]:
    stream_reads_see_only_committed_writes()
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
