"""The per-channel event log (EventsTable): what was delivered, for replay.

    channel={channel}  seq=0        last                       the channel's head: its latest seq
    channel={channel}  seq={n}      event, expiresAt, delivered  one durable event, as it was sent

Events are numbered where they are committed, in the outbox
(chalicelib/store/outbox.py); the delivery Lambda copies each one here before
it sends it, so an event a client was sent can always be replayed. Copying is
idempotent by (channel, seq): a redelivered stream record finds its event here
and makes no second one, and `delivered` tells whether its connections were
already sent it. The head only moves forward. It never expires: if it did, a
client replaying `since` its last seq would miss everything. Events expire
after the retention window; DynamoDB's TTL deletes them only eventually (moto
never), so reads filter them too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from chalicelib.events import Envelope, parse_event
from chalicelib.store.dynamo import ConditionFailed, Table
from chalicelib.store.outbox import HEAD_SEQ, stored_body


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

    def record(self, copy: Envelope) -> bool:
        """Keep a stamped copy for replay, once, then move the head up to it.
        True when its connections were sent it already (an earlier delivery
        of the same stream record marked it)."""
        assert copy.channel is not None
        assert copy.seq is not None
        key = {"channel": copy.channel, "seq": copy.seq}
        item = {**key, "event": stored_body(copy), "expiresAt": self._expiry()}
        try:
            self._table.put(item, condition="attribute_not_exists(seq)")
            delivered = False
        except ConditionFailed:
            found = self._table.get(key)
            delivered = bool(found and found.get("delivered"))
        # After the event, so a reader who sees the head can read the event;
        # a failed condition means a later event of the channel is recorded.
        with suppress(ConditionFailed):
            self._table.update(
                {"channel": copy.channel, "seq": HEAD_SEQ},
                "SET #last = :seq",
                condition="attribute_not_exists(#last) OR #last < :seq",
                names={"#last": "last"},
                values={":seq": copy.seq},
            )
        return delivered

    def mark_delivered(self, copy: Envelope) -> None:
        assert copy.channel is not None
        assert copy.seq is not None
        self._table.update(
            {"channel": copy.channel, "seq": copy.seq},
            "SET delivered = :yes",
            values={":yes": True},
        )

    def _expiry(self) -> int:
        return int(self._clock() + self._retention)

    def current_seq(self, channel: str) -> int:
        """The seq of the channel's latest durable event (0 before the first)."""
        item = self._table.get({"channel": channel, "seq": HEAD_SEQ})
        return int(item["last"]) if item else 0

    def since(self, channel: str, seq: int, through: int | None = None) -> list[Envelope]:
        """The retained durable events of `channel` after `seq` (up to
        `through`, when given), oldest first."""
        condition = "channel = :c AND seq > :s"
        values: dict[str, Any] = {
            ":c": channel,
            ":s": max(seq, HEAD_SEQ),
            ":now": int(self._clock()),
        }
        if through is not None:
            condition = "channel = :c AND seq BETWEEN :s AND :t"
            values[":s"] = max(seq, HEAD_SEQ) + 1
            values[":t"] = through
        items = self._table.query(condition, values, filter="expiresAt > :now")
        return [parse_event(str(item["event"])) for item in items]
