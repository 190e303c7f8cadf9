"""Sharded delivery's part of the composition root (chalicelib/services.py):
the FIFO queue of delivery shards, the delivery that fills it and the worker
that drains it, built from the container's clients and settings. Kept apart
only so the Container class stays readable; nothing is built anywhere else."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.broadcast import BroadcastDelivery, ChannelDelivery
    from chalicelib.fanout_worker import FanoutWorker
    from chalicelib.management_api import PostBudget
    from chalicelib.services import Container
    from chalicelib.shards import ShardedDelivery
    from chalicelib.store.fanout_queue import SqsShardQueue


class FanoutFeatures:
    """Each part's modules are imported where it is built, so a request that
    publishes nothing loads none of them (docs/PERFORMANCE.md#cold-start)."""

    def __init__(self, container: Container) -> None:
        self._c = container

    @cached_property
    def queue(self) -> SqsShardQueue:
        from chalicelib.store.fanout_queue import SqsShardQueue

        return SqsShardQueue(self._c.aws.sqs, self._c.settings.fanout_queue)

    def delivery(self) -> ChannelDelivery:
        """The last step of every event: inline, or sharded past the threshold
        once a queue is configured."""
        from chalicelib.broadcast import BroadcastDelivery

        c = self._c
        inline = BroadcastDelivery(
            c.connections,
            c.fanout,
            max_message_bytes=c.settings.max_ws_message_bytes,
            metrics=c.metrics,
        )
        return self.sharded(inline) if c.settings.fanout_queue else inline

    def is_wide(self, channel: str) -> bool:
        """Whether the channel is delivered sharded (the progress rule's test)."""
        from chalicelib.shards import ShardedDelivery

        delivery = self._c.delivery
        return isinstance(delivery, ShardedDelivery) and delivery.is_wide(channel)

    def sharded(self, inline: BroadcastDelivery) -> ShardedDelivery:
        from chalicelib.shards import ShardedDelivery

        s = self._c.settings
        return ShardedDelivery(
            inline,
            self.queue,
            threshold=s.fanout_threshold,
            groups=s.fanout_groups,
            shard_size=s.fanout_shard_size,
            max_message_bytes=s.max_ws_message_bytes,
            metrics=self._c.metrics,
        )

    @cached_property
    def budget(self) -> PostBudget:
        """This container's share of the delivery budget."""
        from chalicelib.management_api import PostBudget

        s = self._c.settings
        return PostBudget(s.fanout_posts_per_second / s.fanout_concurrency, sleep=self._c.sleep)

    @cached_property
    def worker(self) -> FanoutWorker:
        from chalicelib.broadcast import FanOut
        from chalicelib.fanout_worker import FanoutWorker
        from chalicelib.management_api import BudgetedTransport, ConnectionsApi

        api = ConnectionsApi(BudgetedTransport(self._c.transport, self.budget), sleep=self._c.sleep)
        return FanoutWorker(
            FanOut(api, self._c.settings.broadcast_workers),
            self._c.connections,
            self.budget,
            self.queue,
            retry_seconds=self._c.settings.fanout_retry_seconds,
            metrics=self._c.metrics,
        )
