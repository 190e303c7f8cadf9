"""What the realtime stores share: AttributeValue conversion for the plain
DynamoDB client, and botocore errors turned into domain errors here, at the
adapter, so nothing above the stores ever sees a ClientError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.errors import DomainError, Throttled, Unavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_ddb(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values -> AttributeValues (items, keys, expression values)."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_ddb(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """AttributeValues -> Python values (numbers come back as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: ClientError, doing: str, *, code: str) -> DomainError:
    """Throttling is the caller's to retry (429); anything else is a 503 that
    names what failed without leaking AWS details."""
    if error_code(exc) in THROTTLING_CODES:
        return Throttled(f"too many requests while {doing}; retry shortly")
    return Unavailable(f"storage failed while {doing}", code=code)
