"""The per-channel event log (EventsTable): sequence numbers and replay.

    channel={channel}  seq=0        last            the channel's head: its latest seq
    channel={channel}  seq={n}      event, expiresAt one durable event, as it was sent

A durable event takes the channel's next seq with one atomic UpdateItem (ADD
on the head, returning the new value), so two Lambdas publishing to the same
channel at once never share a number. The head never expires: if it did, seq
would restart at 1 and a client replaying `since` its last seq would miss
everything. Events expire after the retention window; DynamoDB's TTL deletes
them only eventually (moto never), so reads filter them too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.events import Envelope, parse_event
from chalicelib.store.aws_errors import AWS_ERRORS, AwsError, translate
from chalicelib.store.ddb import from_ddb, to_ddb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_HEAD_SEQ = 0
# DynamoDB refuses items over 400 KB. An event that large is kept without its
# data, as the publisher sends it anyway when it exceeds a WebSocket message:
# the client refetches its `resources`.
MAX_STORED_EVENT_BYTES = 350 * 1024


def _failed(exc: AwsError, doing: str) -> Exception:
    return translate(exc, doing, code="event_log_unavailable")


class EventLog:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ddb = client
        self._table = table
        self._retention = retention_seconds
        self._clock = clock

    def append(self, event: Envelope, channel: str) -> Envelope:
        """Number `event` on `channel` and keep it for replay; return the stamped copy."""
        try:
            head = self._ddb.update_item(
                TableName=self._table,
                Key=to_ddb({"channel": channel, "seq": _HEAD_SEQ}),
                UpdateExpression="ADD #last :one",
                ExpressionAttributeNames={"#last": "last"},
                ExpressionAttributeValues=to_ddb({":one": 1}),
                ReturnValues="UPDATED_NEW",
            )
        except AWS_ERRORS as exc:
            raise _failed(exc, "numbering an event") from None
        seq = int(from_ddb(head["Attributes"])["last"])
        stamped = event.on_channel(channel, seq)
        body = stamped.to_json()
        if len(body.encode()) > MAX_STORED_EVENT_BYTES:
            body = stamped.without_data().to_json()
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=to_ddb(
                    {
                        "channel": channel,
                        "seq": seq,
                        "event": body,
                        "expiresAt": int(self._clock() + self._retention),
                    }
                ),
            )
        except AWS_ERRORS as exc:
            raise _failed(exc, "storing an event") from None
        return stamped

    def current_seq(self, channel: str) -> int:
        """The seq of the channel's latest durable event (0 before the first)."""
        try:
            item = self._ddb.get_item(
                TableName=self._table,
                Key=to_ddb({"channel": channel, "seq": _HEAD_SEQ}),
                ConsistentRead=True,
            ).get("Item")
        except AWS_ERRORS as exc:
            raise _failed(exc, "reading a channel's seq") from None
        return int(from_ddb(item)["last"]) if item else 0

    def since(self, channel: str, seq: int, through: int | None = None) -> list[Envelope]:
        """The retained durable events of `channel` after `seq` (up to
        `through`, when given), oldest first."""
        condition = "channel = :c AND seq > :s"
        values: dict[str, Any] = {
            ":c": channel,
            ":s": max(seq, _HEAD_SEQ),
            ":now": int(self._clock()),
        }
        if through is not None:
            condition = "channel = :c AND seq BETWEEN :s AND :t"
            values[":s"] = max(seq, _HEAD_SEQ) + 1
            values[":t"] = through
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "FilterExpression": "expiresAt > :now",
            "ExpressionAttributeValues": to_ddb(values),
            "ConsistentRead": True,
        }
        events: list[Envelope] = []
        try:
            while True:
                page = self._ddb.query(**kwargs)
                events.extend(
                    parse_event(str(from_ddb(item)["event"])) for item in page.get("Items", [])
                )
                if "LastEvaluatedKey" not in page:
                    return events
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except AWS_ERRORS as exc:
            raise _failed(exc, "replaying a channel") from None
