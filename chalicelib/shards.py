"""Sharded delivery: a channel too big for one Lambda's fan-out is handed to
the fanout workers (chalicelib/fanout_worker.py) through an SQS FIFO queue.

`ShardedDelivery` is the `ChannelDelivery` every publisher uses when a queue is
configured. For each copy it reads the channel's connections (every page of
the query). A channel with at most `fanout_threshold` of them is posted inline,
as before: a two-editor course gains no hop. A bigger one is split into
delivery shards and enqueued, and `deliver` returns: the Lambda that committed
or recorded the event never waits for thousands of posts.

Order per connection. A connection belongs to one of `fanout_groups` groups,
by a stable hash of its id (never by its position in the query: a connection
that joined or left would move every later one to another page). Each group of
a channel is one FIFO message group, `{channel}#{group}`, and its connections
are cut into shards of `fanout_shard_size`, enqueued in order. SQS hands a
group's next message to a worker only once the previous one is deleted, so
whichever workers run, a connection gets seq n before n+1, and a shard retried
after a failure is retried before anything later of its group. The posts its
first attempt made arrive twice; clients drop those by event id.

A channel that was sharded stays sharded (in this container) for
`STICKY_SECONDS` even when it shrinks below the threshold, so an event posted
inline cannot overtake the shards of the one before it still in the queue.

Enqueueing is idempotent: each shard's deduplication id is its channel, seq (or
event id), group and page, so a retried delivery (the outbox stream retries a
record) does not send a shard SQS already has.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib.broadcast import BroadcastDelivery, Counters, encode
from chalicelib.errors import DomainError
from chalicelib.events import Envelope
from chalicelib.logging import logger

# Longer than a full queue takes to drain at the budget (docs/SCALE.md).
STICKY_SECONDS = 300.0


@dataclass(frozen=True)
class Shard:
    """One SQS message: the event's wire payload for some of a channel's connections."""

    channel: str
    seq: int | None
    event_id: str
    event_type: str
    group: int
    page: int
    payload: str
    connections: list[str]

    @property
    def group_id(self) -> str:
        return f"{self.channel}#{self.group}"

    @property
    def dedup_id(self) -> str:
        key = f"{self.channel}|{self.seq if self.seq is not None else self.event_id}"
        return hashlib.sha256(f"{key}|{self.group}|{self.page}".encode()).hexdigest()

    def body(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "channel": self.channel,
                "seq": self.seq,
                "id": self.event_id,
                "type": self.event_type,
                "group": self.group,
                "page": self.page,
                "payload": self.payload,
                "connections": self.connections,
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, body: str) -> Shard:
        """ValueError for a body that is not a shard of ours."""
        try:
            raw = json.loads(body)
            shard = cls(
                channel=str(raw["channel"]),
                seq=None if raw["seq"] is None else int(raw["seq"]),
                event_id=str(raw["id"]),
                event_type=str(raw["type"]),
                group=int(raw["group"]),
                page=int(raw["page"]),
                payload=str(raw["payload"]),
                connections=[str(c) for c in raw["connections"]],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a delivery shard: {exc}") from None
        if raw.get("v") != 1:
            raise ValueError(f"unknown delivery shard version {raw.get('v')!r}")
        return shard


def group_of(connection_id: str, groups: int) -> int:
    """The connection's group: CRC-32 of its id, the same in every process
    (Python's hash() of a str is salted per process)."""
    return zlib.crc32(connection_id.encode()) % groups


def shards_of(
    copy: Envelope, payload: str, connection_ids: Sequence[str], groups: int, size: int
) -> list[Shard]:
    """The copy's shards: each group's connections (sorted, so a retry cuts the
    same pages) in pages of `size`, group by group."""
    assert copy.channel is not None
    members: dict[int, list[str]] = {}
    for connection_id in sorted(connection_ids):
        members.setdefault(group_of(connection_id, groups), []).append(connection_id)
    return [
        Shard(copy.channel, copy.seq, copy.id, copy.type, group, start // size, payload, ids)
        for group in sorted(members)
        for start in range(0, len(members[group]), size)
        for ids in [members[group][start : start + size]]
    ]


class ShardQueue(Protocol):
    """The FIFO queue of delivery shards (chalicelib/store/fanout_queue.py)."""

    def send(self, shards: Sequence[Shard]) -> None:
        """Enqueue in this order; raises Unavailable when SQS fails."""
        ...


class ShardedDelivery:
    def __init__(
        self,
        inline: BroadcastDelivery,
        queue: ShardQueue,
        *,
        threshold: int,
        groups: int,
        shard_size: int,
        max_message_bytes: int,
        metrics: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inline = inline
        self._queue = queue
        self._threshold = threshold
        self._groups = groups
        self._size = shard_size
        self._max_bytes = max_message_bytes
        self._metrics = metrics
        self._clock = clock
        self._sharded_at: dict[str, float] = {}

    def deliver(self, copies: Sequence[Envelope]) -> None:
        inline: list[tuple[Envelope, list[str]]] = []
        wide: list[tuple[Envelope, list[str]]] = []
        for copy in copies:
            connection_ids = self._inline.connections_of(copy)
            sharded = self._is_wide(copy, len(connection_ids))
            (wide if sharded else inline).append((copy, connection_ids))
        # A transient event reaches a connection once, however many of its
        # channels the connection is on (BroadcastDelivery.send): one posted
        # inline (the uploader's own channel) is left out of the shards.
        posted = {(copy.id, c) for copy, ids in inline if copy.seq is None for c in ids}
        shards: list[Shard] = []
        for copy, connection_ids in wide:
            if copy.seq is None:
                connection_ids = [c for c in connection_ids if (copy.id, c) not in posted]
            payload = encode(copy, self._max_bytes).decode()
            shards.extend(shards_of(copy, payload, connection_ids, self._groups, self._size))
        if shards:
            self._enqueue(shards, durable=any(copy.durable for copy in copies))
        self._inline.send(inline)

    def is_wide(self, channel: str) -> bool:
        """Whether this container delivered the channel sharded lately: what
        the progress rule (chalicelib/progress.py) thins to one a second."""
        at = self._sharded_at.get(channel)
        return at is not None and self._clock() - at < STICKY_SECONDS

    def _is_wide(self, copy: Envelope, connections: int) -> bool:
        assert copy.channel is not None
        if connections > self._threshold:
            self._sharded_at[copy.channel] = self._clock()
            return True
        return connections > 0 and self.is_wide(copy.channel)

    def _enqueue(self, shards: list[Shard], *, durable: bool) -> None:
        try:
            self._queue.send(shards)
        except DomainError as err:
            if durable:
                # The outbox stream retries the record: the shards SQS took
                # already are deduplicated, the rest go then.
                raise
            # Progress is superseded by the next report.
            logger.warning("could not enqueue progress shards", error=str(err))
            return
        if self._metrics is not None:
            self._metrics.count("FanoutShardsQueued", len(shards))
        logger.info(
            "queued delivery shards",
            event_type=shards[0].event_type,
            event_id=shards[0].event_id,
            channel=shards[0].channel,
            seq=shards[0].seq,
            shards=len(shards),
            connections=sum(len(s.connections) for s in shards),
        )
