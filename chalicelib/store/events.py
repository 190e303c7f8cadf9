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
from typing import Any

from chalicelib.events import Envelope, parse_event
from chalicelib.store.dynamo import Table

_HEAD_SEQ = 0
# DynamoDB refuses items over 400 KB. An event that large is kept without its
# data, as the publisher sends it anyway when it exceeds a WebSocket message:
# the client refetches its `resources`.
MAX_STORED_EVENT_BYTES = 350 * 1024


class EventLog:
    def __init__(
        self,
        table: Table,
        *,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table
        self._retention = retention_seconds
        self._clock = clock

    def append(self, event: Envelope, channel: str) -> Envelope:
        """Number `event` on `channel` and keep it for replay; return the stamped copy."""
        head = self._table.update(
            {"channel": channel, "seq": _HEAD_SEQ},
            "ADD #last :one",
            names={"#last": "last"},
            values={":one": 1},
            returns="UPDATED_NEW",
        )
        seq = int(head["last"])
        stamped = event.on_channel(channel, seq)
        body = stamped.to_json()
        if len(body.encode()) > MAX_STORED_EVENT_BYTES:
            body = stamped.without_data().to_json()
        self._table.put(
            {
                "channel": channel,
                "seq": seq,
                "event": body,
                "expiresAt": int(self._clock() + self._retention),
            }
        )
        return stamped

    def current_seq(self, channel: str) -> int:
        """The seq of the channel's latest durable event (0 before the first)."""
        item = self._table.get({"channel": channel, "seq": _HEAD_SEQ})
        return int(item["last"]) if item else 0

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
        items = self._table.query(condition, values, filter="expiresAt > :now")
        return [parse_event(str(item["event"])) for item in items]
