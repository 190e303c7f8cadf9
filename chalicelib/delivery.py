"""From the outbox to the connections: what the `outbox_delivery` Lambda does
with each committed event, and the publisher services use.

The OutboxTable's stream (chalicelib/store/outbox.py) hands the Lambda each
event item a transaction committed, one channel's copy at a time, in commit
order per channel. For each: record it in the event log (idempotent by channel
and seq), send it to the channel's connections through a `ChannelDelivery`
(chalicelib/broadcast.py), mark it delivered. A record the stream delivers
again (Lambda retries a batch, or bisects it after a crash) finds its event
recorded: no second event, no second seq, and no second send once it was
marked delivered.

A failure that a retry can cure (the event log or the connections table
failing) stops the batch at that record and reports it in `batchItemFailures`:
Lambda retries from there, so nothing of the channel is delivered out of order
or skipped, and the event reaches its subscribers once the table recovers.
What can never be delivered (a record that is not an event of ours) is dropped
with one WARNING and the `OutboxRecordsDropped` metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from chalicelib import correlation
from chalicelib.broadcast import ChannelDelivery, Counters
from chalicelib.errors import DomainError
from chalicelib.events import Announcement, Envelope
from chalicelib.logging import logger

# A Lambda DynamoDB stream record -> the stamped copy it carries and the
# correlation id of the write that committed it, or None for a record that is
# not an event's insert; ValueError for one that can never be
# (chalicelib/store/outbox.py's copy_from_record).
ReadRecord = Callable[[Mapping[str, Any]], tuple[Envelope, str | None] | None]


class DeliveryLog(Protocol):
    """The event log (chalicelib/store/events.py)."""

    def record(self, copy: Envelope) -> bool:
        """Keep the copy for replay (once); True when its connections were
        sent it already."""
        ...

    def mark_delivered(self, copy: Envelope) -> None: ...


class Committer(Protocol):
    """The outbox (chalicelib/store/outbox.py)."""

    def commit(
        self, items: Sequence[Any], announcements: Sequence[Announcement] = ()
    ) -> list[Envelope]: ...


class OutboxConsumer:
    def __init__(
        self,
        log: DeliveryLog,
        delivery: ChannelDelivery,
        read_record: ReadRecord,
        metrics: Counters | None = None,
    ) -> None:
        self._log = log
        self._delivery = delivery
        self._read = read_record
        self._metrics = metrics

    def deliver(self, copies: Sequence[Envelope]) -> None:
        """Record and send committed copies; raises what a retry may cure."""
        fresh = []
        for copy in copies:
            if self._log.record(copy):
                logger.info("outbox event delivered already", event_id=copy.id, seq=copy.seq)
                continue
            fresh.append(copy)
        if not fresh:
            return
        self._delivery.deliver(fresh)
        for copy in fresh:
            try:
                self._log.mark_delivered(copy)
            except DomainError as err:
                # Sent and recorded: a redelivery of this record would only
                # send it again, which clients drop by id. Not worth a retry.
                logger.warning("could not mark an event delivered", error=str(err))

    def deliver_after_commit(self, copies: Sequence[Envelope]) -> None:
        """Inline delivery (OUTBOX_DELIVERY=inline): the committing Lambda sends
        right away. A failure is the stream consumer's to retry, never the
        committed write's."""
        try:
            self.deliver(copies)
        except Exception:
            logger.exception("inline delivery failed; the outbox stream delivers it")

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """One Lambda batch of stream records, in order. Stops at the first
        record a retry may cure and reports it: Lambda (ReportBatchItemFailures)
        then retries from that record, never past it."""
        records = event.get("Records")
        if not isinstance(records, list):
            logger.warning("dropping an outbox batch without Records")
            self._count("OutboxRecordsDropped")
            return {"batchItemFailures": []}
        for record in records:
            change = record.get("dynamodb") if isinstance(record, Mapping) else None
            sequence = change.get("SequenceNumber") if isinstance(change, Mapping) else None
            try:
                read = self._read(record) if isinstance(record, Mapping) else None
            except ValueError as exc:
                logger.warning("dropping an outbox stream record", reason=str(exc))
                self._count("OutboxRecordsDropped")
                continue
            if read is None:
                continue
            copy, carried = read
            # Log as the request that committed it did (chalicelib/correlation.py).
            correlation.adopt(carried)
            try:
                self.deliver([copy])
            except Exception:
                logger.exception(
                    "outbox delivery failed; Lambda retries from this record",
                    channel=copy.channel,
                    seq=copy.seq,
                )
                self._count("OutboxDeliveryRetries")
                if not isinstance(sequence, str):
                    raise  # no id to report: the whole batch is retried (and bisected)
                return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        return {"batchItemFailures": []}

    def _count(self, name: str) -> None:
        if self._metrics is not None:
            self._metrics.count(name)


class OutboxPublisher:
    """The Publisher (chalicelib/publisher.py) services publish through.

    A durable event is committed to the outbox on its own: for a write that is
    not (yet) a transaction with its events, the event at least takes its
    number where every other does and is delivered by the stream. A transient
    one (upload progress) is sent at once and kept nowhere."""

    def __init__(self, outbox: Committer, delivery: ChannelDelivery) -> None:
        self._outbox = outbox
        self._delivery = delivery

    def publish(self, event: Envelope, channels: Sequence[str]) -> list[Envelope]:
        if event.durable:
            return self._outbox.commit([], [Announcement.of(event, channels)])
        copies = [event.on_channel(channel, None) for channel in channels]
        self._delivery.deliver(copies)
        return copies
