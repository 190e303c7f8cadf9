"""Broadcast at scale: gone connections are forgotten, the rest are served."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import services
from chalicelib.broadcast import BroadcastDelivery
from chalicelib.events import ChapterData, ChapterUpdated
from chalicelib.models import Chapter
from chalicelib.store.connections import ConnectionStore
from chalicelib.store.dynamo import Table
from tests.conftest import use_container
from tests.fakes import EVENT_AT, FakeConnectionsApi, assert_valid_events

pytestmark = pytest.mark.integration

CHANNEL = "course:c_big"


def chapter_event() -> ChapterUpdated:
    chapter = Chapter.model_validate(
        {
            "courseId": "c_big",
            "chapterId": "ch_1",
            "title": "Week 1",
            "position": 1,
            "version": 2,
            "items": [],
            "createdAt": "2026-11-21T10:00:00.000Z",
            "updatedAt": "2026-11-21T10:00:00.000Z",
        }
    )
    return ChapterUpdated.new(
        ChapterData(chapter=chapter), course_id="c_big", resources=["/courses/c_big"], at=EVENT_AT
    )


def test_a_broadcast_to_1000_connections_with_100_gone_serves_900_and_forgets_100(
    aws: dict[str, Any],
) -> None:
    api = FakeConnectionsApi()
    container = use_container(transport=api)
    ids = [f"conn{i:04d}=" for i in range(1000)]
    container.connections.add_many((cid, f"user{i}", [CHANNEL]) for i, cid in enumerate(ids))
    gone = set(ids[::10])
    api.close(*gone)

    (sent,) = container.publisher.publish(chapter_event(), [CHANNEL])

    served = {cid for cid in ids if api.messages.get(cid)}
    assert served == set(ids) - gone
    assert all(api.received(cid) == [sent.wire()] for cid in list(served)[:50])
    assert_valid_events([sent.wire()])
    assert sorted(container.connections.connections_on(CHANNEL)) == sorted(served)
    assert all(container.connections.get(cid) is None for cid in list(gone)[:10])


class Counters:
    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def count(self, name: str, value: float = 1, unit: str = "Count") -> None:
        self.counts[name] = self.counts.get(name, 0) + value


def test_gone_connections_are_counted_for_operators(aws: dict[str, Any]) -> None:
    api, metrics = FakeConnectionsApi(), Counters()
    container = use_container(transport=api, metrics=metrics)
    container.connections.add_many((f"c{i}=", f"u{i}", [CHANNEL]) for i in range(5))
    api.close("c1=", "c2=")

    container.publisher.publish(chapter_event(), [CHANNEL])

    assert metrics.counts == {"FanoutDelivered": 3, "FanoutGone": 2}


def test_throttled_and_failed_posts_are_counted_apart(aws: dict[str, Any]) -> None:
    api, metrics = FakeConnectionsApi(), Counters()
    container = use_container(transport=api, metrics=metrics, sleep=lambda _: None)
    container.connections.add_many((f"c{i}=", f"u{i}", [CHANNEL]) for i in range(4))
    api.throttle("c0=", times=10)
    api.throttle("c1=", times=1)

    container.publisher.publish(chapter_event(), [CHANNEL])

    # c1 got through on a retry; c0 was refused on every attempt.
    assert metrics.counts == {"FanoutDelivered": 3, "FanoutThrottled": 1}


def test_a_publish_whose_connection_lookup_fails_still_keeps_the_event_for_replay(
    aws: dict[str, Any],
) -> None:
    container = services.container()
    broken = ConnectionStore(Table(container.aws.ddb, "NoSuchTable", label="a missing table"))
    delivery = BroadcastDelivery(
        broken, container.fanout, max_message_bytes=container.settings.max_ws_message_bytes
    )
    container = use_container(delivery=delivery)

    (sent,) = container.publisher.publish(chapter_event(), [CHANNEL])

    assert [e.id for e in container.event_log.since(CHANNEL, 0)] == [sent.id]
