"""Sharded delivery's rules that need no queue: which channels are sharded and
for how long, how connections map to groups, and the workers' budget."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.broadcast import BroadcastDelivery, FanOut
from chalicelib.events import ChapterData, ChapterUpdated
from chalicelib.fanout_worker import FanoutWorker
from chalicelib.management_api import BudgetedTransport, ConnectionsApi, PostBudget
from chalicelib.models import Chapter
from chalicelib.shards import STICKY_SECONDS, Shard, ShardedDelivery, group_of, shards_of
from tests.fakes import EVENT_AT, FakeConnectionsApi, InMemoryConnections

CHANNEL = "course:c_1"


class Queue:
    def __init__(self) -> None:
        self.sent: list[Shard] = []

    def send(self, shards: Sequence[Shard]) -> None:
        self.sent.extend(shards)

    def retry_soon(self, receipt_handles: Sequence[str], seconds: int) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def event(seq: int) -> ChapterUpdated:
    chapter = Chapter.model_validate(
        {
            "courseId": "c_1",
            "chapterId": "ch_1",
            "title": "Week 1",
            "position": 1,
            "version": seq,
            "items": [],
            "createdAt": "2026-11-21T10:00:00.000Z",
            "updatedAt": "2026-11-21T10:00:00.000Z",
        }
    )
    return ChapterUpdated.new(
        ChapterData(chapter=chapter), course_id="c_1", at=EVENT_AT
    ).on_channel(CHANNEL, seq)


def rig(clock: Clock) -> tuple[ShardedDelivery, InMemoryConnections, FakeConnectionsApi, Queue]:
    api, connections, queue = FakeConnectionsApi(), InMemoryConnections(), Queue()
    inline = BroadcastDelivery(
        connections, FanOut(ConnectionsApi(api), workers=4), max_message_bytes=128 * 1024
    )
    delivery = ShardedDelivery(
        inline,
        queue,
        threshold=10,
        groups=3,
        shard_size=4,
        max_message_bytes=128 * 1024,
        clock=clock,
    )
    return delivery, connections, api, queue


def test_a_connection_keeps_its_group_whoever_joins_or_leaves_the_channel() -> None:
    before = [f"c{i}=" for i in range(30)]
    after = [f"new{i}=" for i in range(7)] + before[5:]
    copy = event(1)

    def groups(ids: list[str]) -> dict[str, tuple[int, str]]:
        return {
            cid: (shard.group, shard.group_id)
            for shard in shards_of(copy, "{}", ids, 3, 4)
            for cid in shard.connections
        }

    assert {cid: groups(after)[cid] for cid in before[5:]} == {
        cid: groups(before)[cid] for cid in before[5:]
    }
    assert all(groups(before)[cid][0] == group_of(cid, 3) for cid in before)
    assert all(len(s.connections) <= 4 for s in shards_of(copy, "{}", before, 3, 4))


def test_a_channel_that_shrank_stays_sharded_so_no_inline_post_overtakes_its_queue() -> None:
    clock = Clock()
    delivery, connections, api, queue = rig(clock)
    ids = [f"c{i}=" for i in range(12)]
    for cid in ids:
        connections.add(cid, "u", [CHANNEL])

    delivery.deliver([event(1)])
    for cid in ids[3:]:
        connections.remove(cid)  # down to 3, under the threshold of 10
    delivery.deliver([event(2)])

    assert api.posts == 0  # both went to the queue, in order
    assert sorted(c for s in queue.sent if s.seq == 2 for c in s.connections) == sorted(ids[:3])

    clock.now += STICKY_SECONDS + 1
    delivery.deliver([event(3)])

    assert not any(s.seq == 3 for s in queue.sent)
    assert all(api.types(cid) == ["chapter.updated"] for cid in ids[:3])


def test_the_budget_holds_the_rate_and_banks_only_a_short_burst() -> None:
    clock = Clock()
    budget = PostBudget(100, burst=0.25, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(1000):
        budget.take()
    # 1,000 posts at 100 a second, less the quarter second a fresh bucket holds.
    assert 9.7 <= clock.now - start <= 10.0
    assert budget.waited > 9.5

    clock.now += 60  # a long pause banks a quarter second, not a minute
    start, waited = clock.now, budget.waited
    for _ in range(125):
        budget.take()
    assert budget.waited - waited > 0.9  # 25 went at once, the other 100 at the rate
    assert 0.9 <= clock.now - start <= 1.0


def test_a_worker_that_waited_for_the_budget_says_so() -> None:
    clock, api = Clock(), FakeConnectionsApi()
    counts: dict[str, float] = {}
    budget = PostBudget(50, burst=0.0, clock=clock, sleep=clock.sleep)

    class Metrics:
        def count(self, name: str, value: float = 1, unit: str = "Count") -> None:
            counts[name] = counts.get(name, 0) + value

    worker = FanoutWorker(
        FanOut(ConnectionsApi(BudgetedTransport(api, budget)), workers=1),
        InMemoryConnections(),
        budget,
        Queue(),
        retry_seconds=0,
        metrics=Metrics(),
    )
    shard = Shard(
        CHANNEL, 1, "evt_1", "chapter.updated", 0, 0, "{}", [f"c{i}=" for i in range(100)]
    )

    worker.handle({"Records": [{"messageId": "m1", "receiptHandle": "r1", "body": shard.body()}]})

    assert counts["FanoutDelivered"] == 100
    assert 1.9 <= counts["FanoutBudgetWait"] <= 2.0  # 100 posts at 50 a second
