"""What the realtime stores share: AttributeValue conversion for the plain
DynamoDB client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_ddb(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values -> AttributeValues (items, keys, expression values)."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_ddb(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """AttributeValues -> Python values (numbers come back as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
