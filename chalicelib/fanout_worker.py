"""The `fanout_worker` Lambda: posts the delivery shards of big channels
(chalicelib/shards.py) from the FIFO queue, within the delivery budget.

Each shard's connections are posted in parallel on the worker's pool; gone
ones (410) are deleted with their subscriptions; throttled posts (429) are
retried with full jitter by the @connections client and counted.

A shard that fails (the worker crashed in the middle, the connections table
failed) is reported in `batchItemFailures` with every shard after it in the
batch: those may be later shards of the same message group, which must not
overtake it. Their visibility is cut to `fanout_retry_seconds`, so the group
waits about a second, not the queue's visibility timeout. A retried shard posts
to every one of its connections again; those that had it drop the copy by id.

The budget. Every post (a retry too) takes a token from the container's
`PostBudget` (chalicelib/management_api.py), whose rate is the configured posts
per second divided by the function's reserved concurrency: however many
containers run, together they stay under the budget. `FanoutBudgetWait`
(seconds a shard waited for tokens) is above zero exactly when the budget,
not the work, bounds delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from chalicelib.broadcast import ChannelConnections, Counters, FanOut, count_outcome, forget_gone
from chalicelib.logging import logger
from chalicelib.shards import Shard


class Budget(Protocol):
    """chalicelib/management_api.py's PostBudget: seconds its takers waited."""

    waited: float


class RetryQueue(Protocol):
    """chalicelib/store/fanout_queue.py's SqsShardQueue."""

    def retry_soon(self, receipt_handles: Sequence[str], seconds: int) -> None: ...


class FanoutWorker:
    def __init__(
        self,
        fanout: FanOut,
        connections: ChannelConnections,
        budget: Budget,
        queue: RetryQueue,
        *,
        retry_seconds: int,
        metrics: Counters | None = None,
    ) -> None:
        self._fanout = fanout
        self._connections = connections
        self._budget = budget
        self._queue = queue
        self._retry_seconds = retry_seconds
        self._metrics = metrics

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """One Lambda SQS batch, in the queue's order."""
        records = event.get("Records")
        failed: list[Mapping[str, Any]] = []
        for record in records if isinstance(records, list) else []:
            if failed:
                failed.append(record)  # a later shard of its group must not overtake
                continue
            try:
                shard = Shard.parse(str(record.get("body", "")))
            except ValueError as exc:
                logger.warning("dropping a message that is not a delivery shard", reason=str(exc))
                self._count("FanoutShardsDropped")
                continue
            try:
                self.deliver(shard)
            except Exception:
                logger.exception(
                    "delivery shard failed; it is retried before its group goes on",
                    channel=shard.channel,
                    seq=shard.seq,
                    group=shard.group,
                    page=shard.page,
                )
                failed.append(record)
        if failed:
            self._count("FanoutShardRetries", len(failed))
            handles = [str(r.get("receiptHandle")) for r in failed]
            self._queue.retry_soon(handles, self._retry_seconds)
        return {"batchItemFailures": [{"itemIdentifier": str(r["messageId"])} for r in failed]}

    def deliver(self, shard: Shard) -> None:
        payload = shard.payload.encode()
        waited_before = self._budget.waited
        report = self._fanout.send([(cid, payload) for cid in shard.connections])
        gone = sorted(set(report.gone))
        if gone:
            self._fanout.run(lambda cid: forget_gone(self._connections, cid), gone)
        waited = self._budget.waited - waited_before
        if self._metrics is not None:
            count_outcome(self._metrics, report, len(gone))
            if waited > 0:
                self._metrics.count("FanoutBudgetWait", waited, unit="Seconds")
        log = logger.warning if report.failed else logger.info
        log(
            "delivered a shard",
            event_type=shard.event_type,
            event_id=shard.event_id,
            channel=shard.channel,
            seq=shard.seq,
            group=shard.group,
            page=shard.page,
            delivered=report.delivered,
            gone=len(gone),
            failed=len(report.failed),
            throttled=len(report.throttled),
            budget_wait_seconds=round(waited, 3),
        )

    def _count(self, name: str, value: float = 1) -> None:
        if self._metrics is not None:
            self._metrics.count(name, value)
