"""OutboxTable: every durable event, committed in the transaction of the change
it announces, and numbered per channel there.

    channel={channel}  seq=0   last                           the channel's head: its latest seq
    channel={channel}  seq=N   event (JSON), eventId, expiresAt  one event as it will be sent

A write that announces events reads the head of each of their channels, then
commits, in one TransactWriteItems: its own items (the chapter, the link, the
upload), each channel's head moved from the seq it read to the next one, and
each event at its seq. Two writers on one channel cannot take the same number:
the second's head condition fails, it reads the head again and retries, and its
own items were never written. So a committed change always has its events, a
change that failed has none, and numbers have no holes.

Delivery follows from these items, never from the request that wrote them:
the table's stream (NEW_IMAGE) feeds the `outbox_delivery` Lambda
(chalicelib/delivery.py), which copies each event into the event log for replay
and sends it to the channel's connections. This is not the event log itself
because a write must commit while the event log is failing: delivery waits and
retries, the write does not.

Event items expire after the retention window (long enough to redrive a batch
from the on-failure queue, docs/OPERATIONS.md); heads never expire, or numbering
would restart.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chalicelib import correlation
from chalicelib.errors import Throttled
from chalicelib.store.dynamo import Cancelled, Item, Request, Table, from_ddb

if TYPE_CHECKING:
    # The event classes load with the first event parsed or written: a sweep
    # that finds nothing stale builds the outbox and defines none of them.
    from chalicelib.events import Announcement, Envelope

HEAD_SEQ = 0
# DynamoDB refuses items over 400 KB. An event that large is kept (and sent)
# without its data: the client refetches its `resources`.
MAX_STORED_EVENT_BYTES = 350 * 1024
# How often a write retries after another writer took the channel's next
# number first; each retry reads the head again.
MAX_ATTEMPTS = 12
# Reasons for a cancelled item that a fresh read and retry can fix.
_RACES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})

AfterCommit = Callable[[Sequence["Envelope"]], None]
Sleep = Callable[[float], None]


def stored_body(copy: Envelope) -> str:
    """The JSON kept for one stamped copy: whole, or without data when too large."""
    body = copy.to_json()
    if len(body.encode()) > MAX_STORED_EVENT_BYTES:
        body = copy.without_data().to_json()
    return body


def copy_from_item(item: Mapping[str, Any]) -> Envelope | None:
    """The stamped copy an event item holds; None for a head (or anything else)."""
    body = item.get("event")
    if not isinstance(body, str) or int(item.get("seq", HEAD_SEQ)) == HEAD_SEQ:
        return None
    from chalicelib.events import parse_event

    return parse_event(body)


class NotAnEvent(ValueError):
    """A stream record that holds no event of ours, and never will."""


def copy_from_record(record: Mapping[str, Any]) -> tuple[Envelope, str | None] | None:
    """The stamped copy a Lambda DynamoDB stream record of this table carries,
    with the correlation id of the write that committed it; None for a record
    that is not an event's insert (a head moving, a TTL removal)."""
    if record.get("eventName") != "INSERT":
        return None
    change = record.get("dynamodb")
    image = change.get("NewImage") if isinstance(change, Mapping) else None
    if not isinstance(image, Mapping):
        raise NotAnEvent("the record has no new image (the stream must be NEW_IMAGE)")
    try:
        item = from_ddb(image)
        copy = copy_from_item(item)
    except (TypeError, ValueError, KeyError, ValidationError) as exc:
        raise NotAnEvent(f"the new image is not an outbox event: {type(exc).__name__}") from None
    if copy is None:
        return None
    if copy.channel != item.get("channel") or copy.seq != int(item.get("seq", -1)):
        raise NotAnEvent("the event's channel and seq differ from its key")
    carried = item.get(correlation.ATTRIBUTE)
    return copy, str(carried) if carried else None


def _backoff(attempt: int) -> float:
    return random.uniform(0, min(0.1, 0.002 * 2**attempt))  # noqa: S311 - jitter, not security


class Outbox:
    def __init__(
        self,
        table: Table,
        *,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = time.sleep,
        after_commit: AfterCommit | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._table = table
        self._retention = retention_seconds
        self._clock = clock
        self._sleep = sleep
        self._after_commit = after_commit
        self._max_attempts = max_attempts

    def commit(
        self, items: Sequence[Request], announcements: Iterable[Announcement] = ()
    ) -> list[Envelope]:
        """Write `items` (transaction items of any table, built with Table.tx_*)
        and the announced events, or nothing. Returns each channel's stamped
        copy of each event, in announcement order.

        A cancellation caused by one of `items` is raised as `Cancelled` with
        the reasons of `items` only, so the caller maps it as it always did."""
        announced = list(announcements)
        own = len(items)
        for attempt in range(self._max_attempts):
            staged, copies = self._stage(announced)
            try:
                self._table.transact([*items, *staged])
            except Cancelled as cancelled:
                mine = cancelled.reasons[:own]
                if any(reason == "ConditionalCheckFailed" for reason in mine):
                    raise Cancelled(mine) from None
                if not _RACES & set(cancelled.reasons):
                    raise Cancelled(mine) from None
                # Another writer numbered one of our channels first (or
                # DynamoDB saw two transactions on one item): nothing of ours
                # was written; read the heads again.
                self._sleep(_backoff(attempt))
                continue
            if self._after_commit is not None and copies:
                self._after_commit(copies)
            return copies
        raise Throttled("too many concurrent changes on one channel; retry shortly")

    def head(self, channel: str) -> int:
        item = self._table.get({"channel": channel, "seq": HEAD_SEQ})
        return int(item["last"]) if item else 0

    def get(self, channel: str, seq: int) -> Envelope | None:
        """One committed copy (a redrive reads them back by key)."""
        item = self._table.get({"channel": channel, "seq": seq})
        return copy_from_item(item) if item else None

    def _stage(self, announced: list[Announcement]) -> tuple[list[Request], list[Envelope]]:
        by_channel: dict[str, list[Envelope]] = {}
        for announcement in announced:
            for channel in announcement.channels:
                by_channel.setdefault(channel, []).append(announcement.event)
        expires = int(self._clock() + self._retention)
        carried = correlation.current()
        staged: list[Request] = []
        stamped: dict[tuple[str, str], Envelope] = {}
        for channel, events in by_channel.items():
            last = self.head(channel)
            staged.append(self._move_head(channel, last, last + len(events)))
            for offset, event in enumerate(events, start=1):
                copy = event.on_channel(channel, last + offset)
                stamped[(event.id, channel)] = copy
                item: Item = {
                    "channel": channel,
                    "seq": last + offset,
                    "eventId": event.id,
                    "event": stored_body(copy),
                    "expiresAt": expires,
                }
                if carried:
                    item[correlation.ATTRIBUTE] = carried
                staged.append(self._table.tx_put(item, condition="attribute_not_exists(seq)"))
        copies = [stamped[(a.event.id, channel)] for a in announced for channel in a.channels]
        return staged, copies

    def _move_head(self, channel: str, last: int, new: int) -> Request:
        key = {"channel": channel, "seq": HEAD_SEQ}
        if last == 0:
            return self._table.tx_put({**key, "last": new}, condition="attribute_not_exists(seq)")
        return self._table.tx_update(
            key,
            "SET #last = :new",
            condition="#last = :read",
            names={"#last": "last"},
            values={":new": new, ":read": last},
        )
