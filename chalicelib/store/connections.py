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

The publisher's worker threads delete gone connections concurrently: the
table goes through the container's one (thread-safe) DynamoDB client, as every
store's does (chalicelib/store/dynamo.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from chalicelib.domain.connections import Connection
from chalicelib.errors import NotFound, Unavailable
from chalicelib.store.dynamo import Cancelled, ConditionFailed, Item, Table

# API Gateway's hard limit on a WebSocket connection's lifetime, plus a margin
# so an item never expires under a connection that is still open.
CONNECTION_TTL_SECONDS = 2 * 3600 + 5 * 60

BY_CHANNEL = "byChannel"
_CONNECTION_SK = "conn"
_SUB_PREFIX = "sub#"
_PK_PREFIX = "conn#"


def _pk(connection_id: str) -> str:
    return f"{_PK_PREFIX}{connection_id}"


def closed() -> NotFound:
    return NotFound("the connection is closed", code="connection_closed")


class ConnectionStore:
    def __init__(
        self,
        table: Table,
        *,
        ttl_seconds: int = CONNECTION_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
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
        self._table.write_batch(puts=self._items(conn, channels))
        return conn

    def reauthenticate(self, conn: Connection, token_expires_at: int) -> Connection:
        """Give a stored connection the rights of a fresh token of the same
        user: the connection and every subscription it holds now expire with
        that token. Subscription items are written again whole, so one that
        DynamoDB's TTL already removed comes back."""
        renewed = Connection(
            conn.connection_id, conn.user_id, conn.connected_at, conn.expires_at, token_expires_at
        )
        try:
            self._table.update(
                _connection_key(conn.connection_id),
                "SET tokenExpiresAt = :t",
                condition="attribute_exists(pk) AND userId = :u AND expiresAt > :now",
                values={":t": token_expires_at, ":u": conn.user_id, ":now": int(self._clock())},
            )
        except ConditionFailed:
            raise closed() from None
        channels = self.channels_of(conn.connection_id)
        self._table.write_batch(puts=[_subscription_item(renewed, ch) for ch in channels])
        return renewed

    def add_many(self, connections: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """Store many connections in as few requests as possible (load tests, benches)."""
        items: list[Item] = []
        for connection_id, user_id, channels in connections:
            items.extend(self._items(self._new(connection_id, user_id, None), channels))
        self._table.write_batch(puts=items)

    def subscribe(self, conn: Connection, channel: str) -> None:
        """Subscribe a stored connection. The subscription expires with its
        connection, and is refused if the connection is gone (a message that
        raced `$disconnect` must not leave an orphan subscription behind)."""
        self._transact(
            [
                self._table.tx_update(
                    _connection_key(conn.connection_id),
                    "ADD channels :ch",
                    condition="attribute_exists(pk) AND expiresAt > :now",
                    values={":ch": {channel}, ":now": int(self._clock())},
                ),
                self._table.tx_put(_subscription_item(conn, channel)),
            ]
        )

    def unsubscribe(self, connection_id: str, channel: str) -> None:
        self._transact(
            [
                self._table.tx_update(
                    _connection_key(connection_id),
                    "DELETE channels :ch",
                    condition="attribute_exists(pk)",
                    values={":ch": {channel}},
                ),
                self._table.tx_delete(_subscription_key(connection_id, channel)),
            ]
        )

    def remove(self, connection_id: str) -> None:
        """Delete a connection and all its subscriptions (idempotent)."""
        item = self._table.get(_connection_key(connection_id))
        if item is not None:
            keys = [_connection_key(connection_id)] + [
                _subscription_key(connection_id, channel)
                for channel in sorted(item.get("channels", set()))
            ]
        else:
            # No connection item: a removal that failed halfway may have left
            # subscriptions behind; find them the slow way.
            keys = [
                {"pk": found["pk"], "sk": found["sk"]}
                for found in self._table.query("pk = :pk", {":pk": _pk(connection_id)})
            ]
        self._table.write_batch(deletes=keys)

    # ---- reads -------------------------------------------------------------
    def get(self, connection_id: str) -> Connection | None:
        item = self._open(connection_id)
        if item is None:
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
        item = self._open(connection_id)
        return sorted(item.get("channels", set())) if item else []

    def connections_on(self, channel: str) -> list[str]:
        """The ids of the open connections subscribed to `channel`."""
        return self._on_channel(channel, "expiresAt > :now", {})

    def subscribers(self, channel: str, user_id: str) -> list[str]:
        """The ids of one user's open connections subscribed to `channel`."""
        return self._on_channel(channel, "expiresAt > :now AND userId = :u", {":u": user_id})

    # ---- helpers -----------------------------------------------------------
    def _new(self, connection_id: str, user_id: str, token_expires_at: int | None) -> Connection:
        now = int(self._clock())
        expires_at = now + self._ttl
        token_expiry = expires_at if token_expires_at is None else token_expires_at
        return Connection(connection_id, user_id, now, expires_at, token_expiry)

    def _open(self, connection_id: str) -> Item | None:
        """The connection item, unless it expired (TTL deletes only eventually)."""
        item = self._table.get(_connection_key(connection_id))
        if item is None or int(item["expiresAt"]) <= self._clock():
            return None
        return item

    def _on_channel(self, channel: str, open_filter: str, values: dict[str, Any]) -> list[str]:
        items = self._table.query(
            "channel = :c",
            {":c": channel, ":now": int(self._clock()), **values},
            index=BY_CHANNEL,
            filter=open_filter,
            projection="pk",
        )
        return [str(item["pk"])[len(_PK_PREFIX) :] for item in items]

    @staticmethod
    def _items(conn: Connection, channels: Sequence[str]) -> list[Item]:
        connection: Item = {
            **_connection_key(conn.connection_id),
            "userId": conn.user_id,
            "connectedAt": conn.connected_at,
            "expiresAt": conn.expires_at,
            "tokenExpiresAt": conn.token_expires_at,
        }
        # DynamoDB has no empty sets: a connection without channels has no attribute.
        if channels:
            connection["channels"] = set(channels)
        return [connection, *(_subscription_item(conn, channel) for channel in channels)]

    def _transact(self, items: list[dict[str, Any]]) -> None:
        try:
            self._table.transact(items)
        except Cancelled as cancelled:
            if cancelled.failed(0):
                raise closed() from None
            raise Unavailable(
                "the connection changed meanwhile; retry",
                code="connection_store_unavailable",
            ) from None


def _connection_key(connection_id: str) -> Item:
    return {"pk": _pk(connection_id), "sk": _CONNECTION_SK}


def _subscription_key(connection_id: str, channel: str) -> Item:
    return {"pk": _pk(connection_id), "sk": f"{_SUB_PREFIX}{channel}"}


def _subscription_item(conn: Connection, channel: str) -> Item:
    return {
        **_subscription_key(conn.connection_id, channel),
        "channel": channel,
        "userId": conn.user_id,
        # The token's expiry, not only the connection's: past it the
        # `byChannel` query filters this subscription out, so no event of the
        # channel reaches a connection whose token has expired.
        "expiresAt": conn.rights_until,
    }
