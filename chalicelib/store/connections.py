"""WebSocket connections and their channel subscriptions (ConnectionsTable).

Layout, one partition per connection so `$disconnect` removes everything with
one query:
    pk=conn#{id}  sk=conn            userId, connectedAt, expiresAt, tokenExpiresAt,
                                     channels (set)
    pk=conn#{id}  sk=sub#{channel}   channel, userId, expiresAt
The `byChannel` index (channel, pk) holds only subscription items (connection
items have no `channel`), so a broadcast finds a channel's connections with one
query, never a scan. The connection item also lists its channels, so removing
a gone connection is a GetItem and one batch delete, not a query.

API Gateway closes every connection after 2 hours, so items carry a TTL just
past that; DynamoDB deletes expired items only eventually (and moto never), so
every read filters them out too.

A connection's rights end with its token: a subscription item expires at the
token's `exp` (or the connection's, if sooner), so past it the channel's
query no longer finds the connection and nothing is delivered to it.
`reauthenticate` moves the token expiry of the connection and of every one of
its subscriptions to a fresh token's.

Built on the plain DynamoDB client rather than a Table resource: the
publisher's worker threads delete gone connections concurrently, and boto3
clients are thread-safe where resources are not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import NotFound, Throttled
from chalicelib.store.aws_errors import AWS_ERRORS, AwsError, error_code, translate
from chalicelib.store.ddb import from_ddb, to_ddb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# API Gateway's hard limit on a WebSocket connection's lifetime, plus a margin
# so an item never expires under a connection that is still open.
CONNECTION_TTL_SECONDS = 2 * 3600 + 5 * 60

BY_CHANNEL = "byChannel"
_CONNECTION_SK = "conn"
_SUB_PREFIX = "sub#"
_PK_PREFIX = "conn#"
_BATCH = 25  # BatchWriteItem's limit


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: str
    connected_at: int
    expires_at: int
    # The `exp` of the token the connection last presented (epoch seconds).
    token_expires_at: int

    @property
    def rights_until(self) -> int:
        """When its subscriptions stop receiving: the sooner of the two."""
        return min(self.expires_at, self.token_expires_at)


def _pk(connection_id: str) -> str:
    return f"{_PK_PREFIX}{connection_id}"


def _failed(exc: AwsError, doing: str) -> Exception:
    return translate(exc, doing, code="connection_store_unavailable")


class ConnectionStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        ttl_seconds: int = CONNECTION_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ddb = client
        self._table = table
        self._ttl = ttl_seconds
        self._clock = clock

    # ---- writes ------------------------------------------------------------
    def add(
        self,
        connection_id: str,
        user_id: str,
        channels: Sequence[str] = (),
        *,
        token_expires_at: int | None = None,
    ) -> Connection:
        """Store a new connection, already subscribed to `channels`, with the
        rights of a token valid until `token_expires_at` (default: as long as
        the connection)."""
        conn = self._new(connection_id, user_id, token_expires_at)
        self._write_batches(self._put_requests(conn, channels), "connecting")
        return conn

    def reauthenticate(self, conn: Connection, token_expires_at: int) -> Connection:
        """Give a stored connection the rights of a fresh token of the same
        user: the connection and every subscription it holds now expire with
        that token. Subscription items are written again whole, so one that
        DynamoDB's TTL already removed comes back."""
        now = int(self._clock())
        renewed = Connection(
            conn.connection_id, conn.user_id, conn.connected_at, conn.expires_at, token_expires_at
        )
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=to_ddb(_connection_key(conn.connection_id)),
                UpdateExpression="SET tokenExpiresAt = :t",
                ConditionExpression="attribute_exists(pk) AND userId = :u AND expiresAt > :now",
                ExpressionAttributeValues=to_ddb(
                    {":t": token_expires_at, ":u": conn.user_id, ":now": now}
                ),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound("the connection is closed", code="connection_closed") from None
            raise _failed(exc, "re-authenticating") from None
        channels = self.channels_of(conn.connection_id)
        self._write_batches(
            [
                {"PutRequest": {"Item": to_ddb(_subscription_item(renewed, channel))}}
                for channel in channels
            ],
            "re-authenticating",
        )
        return renewed

    def add_many(self, connections: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """Store many connections in as few requests as possible (load tests, benches)."""
        requests: list[dict[str, Any]] = []
        for connection_id, user_id, channels in connections:
            requests.extend(self._put_requests(self._new(connection_id, user_id, None), channels))
        self._write_batches(requests, "connecting")

    def subscribe(self, conn: Connection, channel: str) -> None:
        """Subscribe a stored connection. The subscription expires with its
        connection, and is refused if the connection is gone (a message that
        raced `$disconnect` must not leave an orphan subscription behind)."""
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_ddb(_connection_key(conn.connection_id)),
                        "UpdateExpression": "ADD channels :ch",
                        "ConditionExpression": "attribute_exists(pk) AND expiresAt > :now",
                        "ExpressionAttributeValues": to_ddb(
                            {":ch": {channel}, ":now": int(self._clock())}
                        ),
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_ddb(_subscription_item(conn, channel)),
                    }
                },
            ],
            "subscribing",
        )

    def unsubscribe(self, connection_id: str, channel: str) -> None:
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_ddb(_connection_key(connection_id)),
                        "UpdateExpression": "DELETE channels :ch",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": to_ddb({":ch": {channel}}),
                    }
                },
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": to_ddb({"pk": _pk(connection_id), "sk": f"{_SUB_PREFIX}{channel}"}),
                    }
                },
            ],
            "unsubscribing",
        )

    def remove(self, connection_id: str) -> None:
        """Delete a connection and all its subscriptions (idempotent)."""
        item = self._connection_item(connection_id)
        if item is not None:
            keys = [_connection_key(connection_id)] + [
                {"pk": _pk(connection_id), "sk": f"{_SUB_PREFIX}{channel}"}
                for channel in sorted(item.get("channels", set()))
            ]
        else:
            # No connection item: a removal that failed halfway may have left
            # subscriptions behind; find them the slow way.
            keys = [
                {"pk": found["pk"], "sk": found["sk"]}
                for found in self._query(
                    "reading a connection",
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": _pk(connection_id)},
                    ConsistentRead=True,
                )
            ]
        self._write_batches(
            [{"DeleteRequest": {"Key": to_ddb(key)}} for key in keys], "disconnecting"
        )

    # ---- reads -------------------------------------------------------------
    def get(self, connection_id: str) -> Connection | None:
        item = self._connection_item(connection_id)
        if item is None or int(item["expiresAt"]) <= self._clock():
            return None
        expires_at = int(item["expiresAt"])
        return Connection(
            connection_id=connection_id,
            user_id=str(item["userId"]),
            connected_at=int(item["connectedAt"]),
            expires_at=expires_at,
            token_expires_at=int(item.get("tokenExpiresAt", expires_at)),
        )

    def channels_of(self, connection_id: str) -> list[str]:
        item = self._connection_item(connection_id)
        if item is None or int(item["expiresAt"]) <= self._clock():
            return []
        return sorted(item.get("channels", set()))

    def connections_on(self, channel: str) -> list[str]:
        """The ids of the open connections subscribed to `channel`."""
        items = self._query(
            "finding a channel's connections",
            IndexName=BY_CHANNEL,
            KeyConditionExpression="channel = :c",
            FilterExpression="expiresAt > :now",
            ExpressionAttributeValues={":c": channel, ":now": int(self._clock())},
            ProjectionExpression="pk",
        )
        return [str(item["pk"])[len(_PK_PREFIX) :] for item in items]

    def subscribers(self, channel: str, user_id: str) -> list[str]:
        """The ids of one user's open connections subscribed to `channel`."""
        items = self._query(
            "finding a user's connections on a channel",
            IndexName=BY_CHANNEL,
            KeyConditionExpression="channel = :c",
            FilterExpression="expiresAt > :now AND userId = :u",
            ExpressionAttributeValues={":c": channel, ":u": user_id, ":now": int(self._clock())},
            ProjectionExpression="pk",
        )
        return [str(item["pk"])[len(_PK_PREFIX) :] for item in items]

    # ---- helpers -----------------------------------------------------------
    def _new(self, connection_id: str, user_id: str, token_expires_at: int | None) -> Connection:
        now = int(self._clock())
        expires_at = now + self._ttl
        token_expiry = expires_at if token_expires_at is None else token_expires_at
        return Connection(connection_id, user_id, now, expires_at, token_expiry)

    def _put_requests(self, conn: Connection, channels: Sequence[str]) -> list[dict[str, Any]]:
        items = [
            {
                **_connection_key(conn.connection_id),
                "userId": conn.user_id,
                "connectedAt": conn.connected_at,
                "expiresAt": conn.expires_at,
                "tokenExpiresAt": conn.token_expires_at,
                # DynamoDB has no empty sets: a connection without channels has no attribute.
                **({"channels": set(channels)} if channels else {}),
            },
            *(_subscription_item(conn, channel) for channel in channels),
        ]
        return [{"PutRequest": {"Item": to_ddb(item)}} for item in items]

    def _connection_item(self, connection_id: str) -> dict[str, Any] | None:
        try:
            found = self._ddb.get_item(
                TableName=self._table,
                Key=to_ddb(_connection_key(connection_id)),
                ConsistentRead=True,
            ).get("Item")
        except AWS_ERRORS as exc:
            raise _failed(exc, "reading a connection") from None
        return from_ddb(found) if found is not None else None

    def _transact(self, items: list[Any], doing: str) -> None:
        try:
            self._ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons", [])
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    raise NotFound("the connection is closed", code="connection_closed") from None
            raise _failed(exc, doing) from None
        except BotoCoreError as exc:
            raise _failed(exc, doing) from None

    def _query(self, doing: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every page of a query, as Python values."""
        kwargs["TableName"] = self._table
        kwargs["ExpressionAttributeValues"] = to_ddb(kwargs["ExpressionAttributeValues"])
        items: list[dict[str, Any]] = []
        try:
            while True:
                page = self._ddb.query(**kwargs)
                items.extend(from_ddb(item) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except AWS_ERRORS as exc:
            raise _failed(exc, doing) from None

    def _write_batches(self, requests: list[dict[str, Any]], doing: str) -> None:
        for start in range(0, len(requests), _BATCH):
            pending: dict[str, Any] = {self._table: requests[start : start + _BATCH]}
            # Unprocessed items come back under throttling; retry them a few
            # times with backoff before giving up.
            for attempt in range(5):
                try:
                    result = self._ddb.batch_write_item(RequestItems=pending)
                except AWS_ERRORS as exc:
                    raise _failed(exc, doing) from None
                pending = dict(result.get("UnprocessedItems") or {})
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise Throttled(f"too many requests while {doing}; retry shortly")


def _connection_key(connection_id: str) -> dict[str, Any]:
    return {"pk": _pk(connection_id), "sk": _CONNECTION_SK}


def _subscription_item(conn: Connection, channel: str) -> dict[str, Any]:
    return {
        "pk": _pk(conn.connection_id),
        "sk": f"{_SUB_PREFIX}{channel}",
        "channel": channel,
        "userId": conn.user_id,
        # The token's expiry, not only the connection's: past it the
        # `byChannel` query filters this subscription out, so no event of the
        # channel reaches a connection whose token has expired.
        "expiresAt": conn.rights_until,
    }
