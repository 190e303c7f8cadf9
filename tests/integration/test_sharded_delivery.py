"""Big channels are delivered by the fanout workers, in order per connection
(issue 12).

The publisher (here the committing container, OUTBOX_DELIVERY=inline) puts a
big channel's delivery shards on moto's FIFO queue; the `fanout_worker`
handler of app.py drains it as Lambda's SQS event source would, through the
local stack's own poller (devstack/poller.py, with infra/template.json's
settings), so its AWS calls are checked against its role too.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from app import app
from chalicelib import services
from chalicelib.events import ChapterData, ChapterUpdated, UploadProgress, UploadProgressData
from chalicelib.fanout_worker import FanoutWorker
from chalicelib.models import Chapter, ChapterTarget
from chalicelib.services import Container
from chalicelib.shards import Shard
from devstack.handlers import AppHandlers
from devstack.poller import QueuePoller
from devstack.provision import load_template
from tests.conftest import REGION, use_container
from tests.fakes import FakeConnectionsApi, InMemoryConnections, assert_valid_events

pytestmark = pytest.mark.integration

CHANNEL = "course:c_big"
QUEUE = "FanoutQueue.fifo"


def chapter_event(version: int) -> ChapterUpdated:
    chapter = Chapter.model_validate(
        {
            "courseId": "c_big",
            "chapterId": "ch_1",
            "title": f"Week 1, take {version}",
            "position": 1,
            "version": version,
            "items": [],
            "createdAt": "2026-11-21T10:00:00.000Z",
            "updatedAt": "2026-11-21T10:00:00.000Z",
        }
    )
    return ChapterUpdated.new(
        ChapterData(chapter=chapter),
        course_id="c_big",
        resources=["/courses/c_big"],
        at=chapter.updated_at,
    )


class CrashingOncePerShard(FanoutWorker):
    """A worker that dies in the middle of every shard's first attempt, after
    posting to a fifth of its connections, as a Lambda that timed out would."""

    def __init__(self, real: FanoutWorker) -> None:
        self.__dict__.update(real.__dict__)
        self.crashed: set[tuple[str, int | None, int, int]] = set()

    def deliver(self, shard: Shard) -> None:
        key = (shard.channel, shard.seq, shard.group, shard.page)
        if key in self.crashed:
            super().deliver(shard)
            return
        self.crashed.add(key)
        cut = len(shard.connections) // 5
        super().deliver(Shard(**{**shard.__dict__, "connections": shard.connections[:cut]}))
        raise RuntimeError("the worker died mid-shard")


@pytest.fixture
def sharded(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "FANOUT_THRESHOLD": "1000",
        "FANOUT_SHARD_SIZE": "500",
        "FANOUT_GROUPS": "5",
        "FANOUT_RETRY_SECONDS": "0",
        # The budget's pacing has a bench of its own (bench/fanout.py).
        "FANOUT_POSTS_PER_SECOND": "1000000",
    }.items():
        monkeypatch.setenv(name, value)
    services.reset()


def sqs() -> Any:
    return boto3.session.Session(region_name=REGION).client("sqs")


def drain(poller: QueuePoller) -> int:
    """Run the worker until the queue is empty; how many invocations it took."""
    client = sqs()
    invocations = 0
    while True:
        poller.poll_once()
        invocations += 1
        attributes = client.get_queue_attributes(
            QueueUrl=poller.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if not any(int(v) for v in attributes.values()):
            return invocations
        assert invocations < 1000, "the fanout queue does not drain"


def worker_poller() -> QueuePoller:
    (handler,) = [q for q in AppHandlers(app, load_template()).queues() if q.queue_name == QUEUE]
    assert handler.report_item_failures
    poller = QueuePoller(handler, sqs(), REGION, threading.Event(), wait_seconds=0)
    assert poller.resolve()
    return poller


def test_2500_connections_get_20_events_once_each_in_order_though_every_shard_fails_once(
    sharded: None,
) -> None:
    api = FakeConnectionsApi()
    container: Container = use_container(transport=api)
    # The connections in memory: moto answers one channel query of 2,500
    # subscriptions in seconds, and the store's paging has tests of its own.
    connections = InMemoryConnections()
    container.__dict__["connections"] = connections
    ids = [f"conn{i:04d}=" for i in range(2500)]
    for i, cid in enumerate(ids):
        connections.add(cid, f"user{i}", [CHANNEL])
    gone = set(ids[7::100])
    api.close(*gone)
    crashing = CrashingOncePerShard(container.fanout_features.worker)
    container.fanout_features.__dict__["worker"] = crashing

    for version in range(1, 21):
        container.publisher.publish(chapter_event(version), [CHANNEL])
    assert api.posts == 0, "publish() posted to a big channel itself"
    drain(worker_poller())

    assert len(crashing.crashed) >= 20 * 5  # every event's shards, every group, failed once
    duplicates = 0
    for cid in sorted(set(ids) - gone):
        received = api.received(cid)
        seqs = [m["seq"] for m in received]
        # Never n+1 before n, even counting the copies a retried shard sent again.
        assert seqs == sorted(seqs), cid
        first_of_each: dict[str, int] = {}
        for message in received:
            first_of_each.setdefault(message["id"], message["seq"])
        # What the client keeps after its dedupe by id: each event once, in seq order.
        assert list(first_of_each.values()) == list(range(1, 21)), cid
        duplicates += len(received) - len(first_of_each)
    assert duplicates > 0  # the retries did post twice; the client's dedupe is what hides it
    assert_valid_events(api.received(ids[0]))
    assert all(not api.messages.get(cid) for cid in gone)
    assert set(connections.connections_on(CHANNEL)) == set(ids) - gone


def test_a_channel_under_the_threshold_is_posted_inline_and_nothing_is_queued(
    sharded: None,
) -> None:
    api = FakeConnectionsApi()
    container = use_container(transport=api)
    ids = [f"small{i}=" for i in range(12)]
    container.connections.add_many((cid, f"user{i}", [CHANNEL]) for i, cid in enumerate(ids))

    (sent,) = container.publisher.publish(chapter_event(1), [CHANNEL])

    # Delivered before publish() returned: no worker ran.
    assert all(api.received(cid) == [sent.wire()] for cid in ids)
    client = sqs()
    url = client.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert "Messages" not in client.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_progress_reaches_the_uploader_once_when_its_course_channel_is_sharded(
    sharded: None,
) -> None:
    api = FakeConnectionsApi()
    container = use_container(transport=api)
    connections = InMemoryConnections()
    container.__dict__["connections"] = connections
    connections.add("uploader=", "alice", ["user:alice", CHANNEL])
    for i in range(1500):
        connections.add(f"viewer{i:04d}=", f"user{i}", [CHANNEL])
    progress = UploadProgress.new(
        UploadProgressData(
            bytes_uploaded=5,
            total_bytes=10,
            percent=50.0,
            bytes_per_second=None,
            eta_seconds=None,
            filename="talk.mp4",
            target=ChapterTarget(type="chapter", course_id="c_big", chapter_id="ch_1"),
        ),
        operation_id="op_1",
        course_id="c_big",
        at=datetime(2026, 12, 4, tzinfo=UTC),
    )

    container.publisher.publish(progress, ["user:alice", CHANNEL])
    drain(worker_poller())

    assert [m["channel"] for m in api.received("uploader=")] == ["user:alice"]
    assert all(len(api.received(f"viewer{i:04d}=")) == 1 for i in range(0, 1500, 7))
