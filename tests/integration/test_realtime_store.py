"""The connection store and the event log, against moto's DynamoDB."""

from __future__ import annotations

import pytest

from chalicelib.errors import NotFound
from chalicelib.events import ChapterData, ChapterUpdated, Envelope, UploadStarted, parse_event
from chalicelib.models import Chapter
from chalicelib.services import Container
from chalicelib.store.connections import CONNECTION_TTL_SECONDS, ConnectionStore
from chalicelib.store.events import EventLog
from tests.conftest import use_container
from tests.fakes import EVENT_AT, FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def container(aws: dict[str, str], clock: FakeClock) -> Container:
    return use_container(clock=clock)


@pytest.fixture
def store(container: Container) -> ConnectionStore:
    return container.connections


class DeliveredLog:
    """The event log as the delivery fills it: each event committed to the
    outbox (which numbers it), then recorded by the stream consumer's code
    (inline, as configured for tests)."""

    def __init__(self, container: Container) -> None:
        self._publisher = container.publisher
        self._log: EventLog = container.event_log

    def append(self, event: Envelope, channel: str) -> Envelope:
        (copy,) = self._publisher.publish(event, [channel])
        return copy

    def current_seq(self, channel: str) -> int:
        return self._log.current_seq(channel)

    def since(self, channel: str, seq: int) -> list[Envelope]:
        return self._log.since(channel, seq)


@pytest.fixture
def log(container: Container) -> DeliveredLog:
    return DeliveredLog(container)


def started(n: int = 0) -> UploadStarted:
    # The event log stores whatever envelope it is given; data is irrelevant here.
    return UploadStarted.model_validate(
        {"id": f"evt_{n}", "at": "2026-11-21T10:00:00.000Z", "data": None}
    )


# ---- connections -------------------------------------------------------------


def test_a_channel_lists_exactly_its_subscribed_connections(store: ConnectionStore) -> None:
    store.add("a=", "alice", ["user:alice", "course:c_1"])
    store.add("b=", "bob", ["user:bob"])
    store.add("c=", "carol", ["user:carol", "course:c_1"])

    assert sorted(store.connections_on("course:c_1")) == ["a=", "c="]
    assert store.connections_on("user:bob") == ["b="]


def test_connections_past_api_gateways_two_hour_limit_are_ignored(
    store: ConnectionStore, clock: FakeClock
) -> None:
    store.add("a=", "alice", ["user:alice"])

    clock.now += CONNECTION_TTL_SECONDS + 1

    assert store.connections_on("user:alice") == []
    assert store.get("a=") is None


def test_a_connection_item_outlives_the_two_hour_limit_only_briefly(
    store: ConnectionStore, clock: FakeClock
) -> None:
    conn = store.add("a=", "alice", ["user:alice"])

    assert 2 * 3600 < conn.expires_at - clock.now <= 2 * 3600 + 15 * 60


def test_removing_a_connection_removes_all_its_subscriptions(store: ConnectionStore) -> None:
    conn = store.add("a=", "alice", ["user:alice"])
    store.subscribe(conn, "course:c_1")

    store.remove("a=")

    assert store.get("a=") is None
    assert store.connections_on("course:c_1") == []
    assert store.channels_of("a=") == []


def test_removing_an_unknown_connection_changes_nothing(store: ConnectionStore) -> None:
    store.add("a=", "alice", ["user:alice"])

    store.remove("zzz=")

    assert store.connections_on("user:alice") == ["a="]


def test_a_closed_connection_cannot_subscribe(store: ConnectionStore) -> None:
    conn = store.add("a=", "alice", ["user:alice"])
    store.remove("a=")

    with pytest.raises(NotFound) as caught:
        store.subscribe(conn, "course:c_1")

    assert caught.value.code == "connection_closed"
    assert store.connections_on("course:c_1") == []


def test_unsubscribing_leaves_the_other_channels(store: ConnectionStore) -> None:
    conn = store.add("a=", "alice", ["user:alice"])
    store.subscribe(conn, "course:c_1")

    store.unsubscribe("a=", "course:c_1")

    assert store.channels_of("a=") == ["user:alice"]


def test_many_connections_are_stored_in_batches(store: ConnectionStore) -> None:
    store.add_many((f"c{i}=", f"u{i}", ["course:c_1"]) for i in range(60))

    assert len(store.connections_on("course:c_1")) == 60


# ---- event log ---------------------------------------------------------------


def test_each_channel_numbers_its_durable_events_from_one(log: DeliveredLog) -> None:
    seqs = [log.append(started(n), ch).seq for n, ch in enumerate(["c:a", "c:a", "c:b", "c:a"])]

    assert seqs == [1, 2, 1, 3]
    assert log.current_seq("c:a") == 3


def test_a_channel_without_events_is_at_seq_zero(log: DeliveredLog) -> None:
    assert log.current_seq("course:none") == 0


def test_replay_returns_the_events_after_a_seq_in_order(log: DeliveredLog) -> None:
    for n in range(5):
        log.append(started(n), "course:c_1")

    replayed = log.since("course:c_1", 2)

    assert [e.seq for e in replayed] == [3, 4, 5]
    assert [e.id for e in replayed] == ["evt_2", "evt_3", "evt_4"]
    assert all(e.channel == "course:c_1" for e in replayed)


def test_replay_from_zero_returns_every_retained_event(log: DeliveredLog) -> None:
    for n in range(3):
        log.append(started(n), "course:c_1")

    assert [e.seq for e in log.since("course:c_1", 0)] == [1, 2, 3]


def test_events_past_the_retention_window_are_not_replayed(
    log: DeliveredLog, clock: FakeClock
) -> None:
    log.append(started(0), "course:c_1")
    clock.now += 24 * 3600 + 1
    log.append(started(1), "course:c_1")

    assert [e.seq for e in log.since("course:c_1", 0)] == [2]


def test_a_replayed_event_is_the_copy_that_was_sent(log: DeliveredLog) -> None:
    stamped = log.append(started(7), "course:c_1")

    (replayed,) = log.since("course:c_1", 0)

    assert replayed.to_json() == parse_event(stamped.to_json()).to_json()


def test_an_event_too_large_for_an_item_is_kept_without_data(log: DeliveredLog) -> None:
    chapter = Chapter.model_validate(
        {
            "courseId": "c_1",
            "chapterId": "ch_1",
            "title": "x" * 400_000,
            "position": 1,
            "version": 1,
            "items": [],
            "createdAt": "2026-11-21T10:00:00.000Z",
            "updatedAt": "2026-11-21T10:00:00.000Z",
        }
    )
    event = ChapterUpdated.new(
        ChapterData(chapter=chapter), course_id="c_1", resources=["/r"], at=EVENT_AT
    )

    log.append(event, "course:c_1")

    (kept,) = log.since("course:c_1", 0)
    assert kept.data is None
    assert kept.resources == ["/r"]
