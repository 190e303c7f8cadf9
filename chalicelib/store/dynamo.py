"""The one way every store talks to DynamoDB: boto3's plain client, one per
container, wrapped so that stores speak Python values and domain errors.

Why the plain client, and not the Table resource the course, media and upload
stores used (docs/ARCHITECTURE.md, "One way of talking to DynamoDB"):
- the fan-out deletes gone connections from its worker threads, and boto3's
  clients are thread-safe where its resources are not;
- link and membership changes are transactions, which only the client has (the
  stores reached for `resource.meta.client`, a client with the resource's
  conversion hooks that still returns failed items in DynamoDB's typed form);
- an item returned by a failed condition (`ReturnValuesOnConditionCheckFailure`)
  and the reasons of a cancelled transaction always come typed, from AWS and
  from moto alike: converting explicitly, in one place, means no code has to
  guess which form it was given.

Every call's failure stops here: a failed condition becomes `ConditionFailed`
(the store turns it into its domain's error), a cancelled transaction
`Cancelled`, and everything else goes through chalicelib/store/aws_errors.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.pages import invalid_token
from chalicelib.errors import Throttled
from chalicelib.store.aws_errors import error_code, translate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
Request = dict[str, Any]  # a request, or a transaction item, in the client's own form
Sleep = Callable[[float], None]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_BATCH = 25  # BatchWriteItem's limit
_BATCH_GET = 100  # BatchGetItem's limit
# The reasons a cancelled transaction gives for an item that was throttled.
_THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


def to_ddb(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values -> AttributeValues (items, keys, expression values)."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_ddb(item: Mapping[str, Any]) -> Item:
    """AttributeValues -> Python values (numbers come back as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class ConditionFailed(Exception):
    """A write's condition did not hold. `item` is the item as it was, when the
    write asked for it (`old_on_failure`) and there was one."""

    def __init__(self, item: Item | None) -> None:
        super().__init__("the condition did not hold")
        self.item = item


class Cancelled(Exception):
    """A transaction was cancelled. `reasons` has one code per item, in order
    (`None` for an item whose condition held)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"the transaction was cancelled: {reasons}")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether item `index`'s condition failed."""
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


class Expressions(TypedDict, total=False):
    """A write's condition, and the names and values its expressions use."""

    condition: str
    names: Mapping[str, str]
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Item]
    last_key: Item | None


class Table:
    """One table, through the container's one DynamoDB client.

    `label` and `code` name the store in the errors a client sees
    ("the course store", `store_unavailable`)."""

    def __init__(
        self,
        client: DynamoDBClient,
        name: str,
        *,
        label: str,
        code: str = "store_unavailable",
        sleep: Sleep = time.sleep,
    ) -> None:
        self._client = client
        self.name = name
        self._label = label
        self._code = code
        self._sleep = sleep

    # ---- single items ------------------------------------------------------
    def get(self, key: Mapping[str, Any]) -> Item | None:
        with self._errors("reading"):
            found = self._client.get_item(
                TableName=self.name, Key=to_ddb(key), ConsistentRead=True
            ).get("Item")
        return from_ddb(found) if found is not None else None

    def put(self, item: Mapping[str, Any], **expressions: Unpack[Expressions]) -> None:
        request = self.tx_put(item, **expressions)["Put"]
        with self._errors("writing"):
            self._client.put_item(**request)

    def update(
        self,
        key: Mapping[str, Any],
        expression: str,
        *,
        returns: str = "NONE",
        old_on_failure: bool = False,
        **expressions: Unpack[Expressions],
    ) -> Item:
        """UpdateItem; the attributes `returns` asks for (else {})."""
        request = self.tx_update(key, expression, **expressions)["Update"]
        request["ReturnValues"] = returns
        if old_on_failure:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        with self._errors("writing"):
            response = self._client.update_item(**request)
        return from_ddb(response.get("Attributes", {}))

    def delete(
        self,
        key: Mapping[str, Any],
        *,
        old_on_failure: bool = False,
        **expressions: Unpack[Expressions],
    ) -> None:
        request = self.tx_delete(key, **expressions)["Delete"]
        if old_on_failure:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        with self._errors("deleting"):
            self._client.delete_item(**request)

    # ---- queries -----------------------------------------------------------
    def query_page(
        self,
        condition: str,
        values: Mapping[str, Any],
        *,
        index: str | None = None,
        names: Mapping[str, str] | None = None,
        filter: str | None = None,
        projection: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start: Mapping[str, Any] | None = None,
    ) -> Page:
        """One page of a query. An index cannot be read consistently; the
        table itself always is."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_ddb(values),
            "ScanIndexForward": forward,
        }
        if index is not None:
            request["IndexName"] = index
        else:
            request["ConsistentRead"] = True
        if names:
            request["ExpressionAttributeNames"] = dict(names)
        if filter is not None:
            request["FilterExpression"] = filter
        if projection is not None:
            request["ProjectionExpression"] = projection
        if limit is not None:
            request["Limit"] = limit
        if start:
            request["ExclusiveStartKey"] = to_ddb(start)
        with self._errors("querying"):
            try:
                page = self._client.query(**request)
            except ClientError as exc:
                # DynamoDB refuses a start key that is not one of this query's
                # keys: the client's page token, not our storage, is at fault.
                if start and error_code(exc) == "ValidationException":
                    raise invalid_token() from None
                raise
        last = page.get("LastEvaluatedKey")
        return Page([from_ddb(i) for i in page.get("Items", [])], from_ddb(last) if last else None)

    def query(self, condition: str, values: Mapping[str, Any], **options: Any) -> Iterator[Item]:
        """Every item a query finds, page after page."""
        start: Item | None = None
        while True:
            page = self.query_page(condition, values, start=start, **options)
            yield from page.items
            if page.last_key is None:
                return
            start = page.last_key

    # ---- many items --------------------------------------------------------
    def get_many(self, keys: Sequence[Mapping[str, Any]]) -> list[Item]:
        """The items of `keys` that exist (in no particular order), read
        consistently, 100 keys per request. Unprocessed keys (throttling) are
        retried with back-off; still unprocessed after that is Throttled."""
        found: list[Item] = []
        for start in range(0, len(keys), _BATCH_GET):
            chunk = [to_ddb(key) for key in keys[start : start + _BATCH_GET]]
            pending: Any = {self.name: {"Keys": chunk, "ConsistentRead": True}}
            for attempt in range(5):
                with self._errors("reading"):
                    result = self._client.batch_get_item(RequestItems=pending)
                found += [from_ddb(i) for i in result.get("Responses", {}).get(self.name, [])]
                pending = result.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._sleep(0.05 * 2**attempt)
            else:
                raise Throttled(f"too many requests while reading {self._label}; retry shortly")
        return found

    def write_batch(
        self, puts: Sequence[Mapping[str, Any]] = (), deletes: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Put and delete many items, 25 per request. Unprocessed items (what
        DynamoDB hands back under throttling) are retried with back-off; still
        unprocessed after that is Throttled."""
        requests: list[Any] = [{"PutRequest": {"Item": to_ddb(item)}} for item in puts]
        requests += [{"DeleteRequest": {"Key": to_ddb(key)}} for key in deletes]
        for start in range(0, len(requests), _BATCH):
            pending: Any = {self.name: requests[start : start + _BATCH]}
            for attempt in range(5):
                with self._errors("writing"):
                    result = self._client.batch_write_item(RequestItems=pending)
                pending = result.get("UnprocessedItems") or {}
                if not pending:
                    break
                self._sleep(0.05 * 2**attempt)
            else:
                raise Throttled(f"too many requests while writing to {self._label}; retry shortly")

    def transact(self, items: Sequence[Mapping[str, Any]]) -> None:
        """TransactWriteItems of items built with `tx_*` (of this table or
        another: the client is the same). A cancellation whose cause is a
        condition is `Cancelled`; one caused by throttling is Throttled."""
        try:
            self._client.transact_write_items(TransactItems=list(items))  # type: ignore[arg-type]
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise translate(exc, f"writing to {self._label}", code=self._code) from None
            reasons = [
                str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])
            ]
            if "ConditionalCheckFailed" not in reasons and _THROTTLED_REASONS & set(reasons):
                raise Throttled(
                    f"too many requests while writing to {self._label}; retry shortly"
                ) from None
            raise Cancelled(reasons) from None
        except BotoCoreError as exc:
            raise translate(exc, f"writing to {self._label}", code=self._code) from None

    # Transaction items; the single-item writes above send the same requests.
    def tx_put(self, item: Mapping[str, Any], **expressions: Unpack[Expressions]) -> Request:
        return {"Put": {"TableName": self.name, "Item": to_ddb(item), **_expressions(expressions)}}

    def tx_update(
        self, key: Mapping[str, Any], expression: str, **expressions: Unpack[Expressions]
    ) -> Request:
        request = {"TableName": self.name, "Key": to_ddb(key), "UpdateExpression": expression}
        return {"Update": {**request, **_expressions(expressions)}}

    def tx_delete(self, key: Mapping[str, Any], **expressions: Unpack[Expressions]) -> Request:
        return {"Delete": {"TableName": self.name, "Key": to_ddb(key), **_expressions(expressions)}}

    def tx_check(self, key: Mapping[str, Any], **expressions: Unpack[Expressions]) -> Request:
        return {
            "ConditionCheck": {
                "TableName": self.name,
                "Key": to_ddb(key),
                **_expressions(expressions),
            }
        }

    # ---- errors ------------------------------------------------------------
    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Where every single call runs: a failed condition is ConditionFailed
        (with the old item when one came back), any other AWS failure the one
        translation's domain error."""
        try:
            yield
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                old: Any = exc.response.get("Item")
                raise ConditionFailed(from_ddb(old) if old else None) from None
            raise translate(exc, f"{doing} {self._label}", code=self._code) from None
        except BotoCoreError as exc:
            raise translate(exc, f"{doing} {self._label}", code=self._code) from None


def _expressions(expressions: Expressions) -> dict[str, Any]:
    """The request keys for a condition and the names and values expressions use."""
    request: dict[str, Any] = {}
    if "condition" in expressions:
        request["ConditionExpression"] = expressions["condition"]
    if expressions.get("names"):
        request["ExpressionAttributeNames"] = dict(expressions["names"])
    if expressions.get("values"):
        request["ExpressionAttributeValues"] = to_ddb(expressions["values"])
    return request
