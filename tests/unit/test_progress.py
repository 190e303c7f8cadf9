"""Progress coalescing against an in-memory store and a simulated clock."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.uploads import UploadRecord
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.models import ChapterTarget, LibraryTarget, Upload
from chalicelib.progress import ProgressPace, ProgressTracker
from tests.fakes import InMemoryPublisher

T0 = 1_800_000_000.0
SIZE = 100 * 1024**2
PACE = ProgressPace()  # the defaults: 4 a second, 5 % steps, 10 s heartbeat
# Every report ahead is news: isolates the 4-a-second limit from the step rule.
FINE = ProgressPace(step_percent=0.001)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class InMemoryProgressStore:
    """The uploads table's progress read and conditional writes, in memory."""

    def __init__(self, record: UploadRecord) -> None:
        self.record = record
        self.reads = 0
        self.writes = 0

    def get(self, operation_id: str) -> UploadRecord | None:
        self.reads += 1
        return self.record if operation_id == self.record.upload.operation_id else None

    def record_broadcast(
        self,
        operation_id: str,
        user_id: str,
        bytes_uploaded: int,
        now_ms: int,
        after_ms: int | None,
    ) -> bool:
        self.writes += 1
        r, upload = self.record, self.record.upload
        if (
            operation_id != upload.operation_id
            or user_id != upload.user_id
            or upload.status not in {"uploading", "completing"}
            or not upload.bytes_uploaded < bytes_uploaded <= upload.size
            or r.last_broadcast_at_ms != after_ms
        ):
            return False
        self.record = replace(
            r,
            upload=upload.model_copy(update={"bytes_uploaded": bytes_uploaded}),
            last_broadcast_at_ms=now_ms,
            last_broadcast_bytes=bytes_uploaded,
            broadcast_in_flight_ms=now_ms,
        )
        return True

    def broadcast_sent(self, operation_id: str, claimed_ms: int) -> None:
        self.writes += 1
        if self.record.broadcast_in_flight_ms == claimed_ms:
            self.record = replace(self.record, broadcast_in_flight_ms=None)

    def open_by_user(self, user_id: str) -> list[UploadRecord]:
        upload = self.record.upload
        return [self.record] if upload.user_id == user_id and upload.status == "uploading" else []

    def open_in_course(self, course_id: str) -> list[UploadRecord]:
        return []

    def close(self) -> None:
        upload = self.record.upload.model_copy(update={"status": "completed"})
        self.record = replace(self.record, upload=upload)


def _record() -> UploadRecord:
    created = datetime.fromtimestamp(T0, UTC)
    upload = Upload(
        operation_id="op_1", upload_id="u", user_id="alice", key="uploads/alice/op_1/a.mp4",
        filename="a.mp4", content_type="video/mp4", size=SIZE, part_size=8 * 1024**2,
        part_count=13, status="uploading", target=LibraryTarget(type="library"),
        bytes_uploaded=0, media_id=None, reason=None, created_at=created,
        updated_at=created, expires_at=created,
    )  # fmt: skip
    return UploadRecord(upload, "api", None, None)


Rig = tuple[ProgressTracker, "InMemoryProgressStore", InMemoryPublisher, Clock]


@pytest.fixture
def setup() -> Rig:
    store = InMemoryProgressStore(_record())
    publisher = InMemoryPublisher()
    clock = Clock()
    return ProgressTracker(store, publisher, PACE, clock), store, publisher, clock


def test_a_hundred_reports_a_second_broadcast_at_most_four_times_a_second() -> None:
    publisher, clock = InMemoryPublisher(), Clock()
    tracker = ProgressTracker(InMemoryProgressStore(_record()), publisher, FINE, clock)
    for i in range(1, 1001):  # 10 s at 100 reports a second
        clock.now = T0 + i / 100
        tracker.report("op_1", "alice", i * 1000)

    per_second: dict[int, int] = {}
    for event in publisher.sent:
        second = int(event.at.timestamp() - T0 - 0.001)
        per_second[second] = per_second.get(second, 0) + 1
    assert max(per_second.values()) == 4
    assert len(publisher.sent) == 40


def test_a_report_costs_one_read_and_only_a_broadcast_writes() -> None:
    """A report that is not broadcast changes nothing a reader sees, so it
    writes nothing; a broadcast writes the bytes with its claim, and then the
    note that its fan-out returned (which the upload's terminal event waits for)."""
    store, publisher, clock = InMemoryProgressStore(_record()), InMemoryPublisher(), Clock()
    tracker = ProgressTracker(store, publisher, FINE, clock)
    for i in range(1, 101):
        clock.now = T0 + i / 100
        tracker.report("op_1", "alice", i * 1000)

    assert len(publisher.sent) == 4
    assert (store.reads, store.writes) == (100, 2 * 4)


def test_a_128_part_upload_is_broadcast_in_steps_of_a_twentieth_and_at_its_last_byte(
    setup: Rig,
) -> None:
    tracker, store, publisher, clock = setup
    part = SIZE // 128
    for n in range(1, 129):  # a part a second, a report after each
        clock.now = T0 + n
        tracker.report("op_1", "alice", n * part)

    sent = [e.data.bytes_uploaded for e in publisher.sent]
    assert sent[0] == part
    assert sent[-1] == SIZE
    assert all(b - a >= SIZE / 20 for a, b in itertools.pairwise(sent[:-1]))
    assert len(sent) == 20
    assert store.writes == 2 * 20


def test_a_slow_upload_is_still_broadcast_every_ten_seconds(setup: Rig) -> None:
    tracker, _store, publisher, clock = setup
    for s in range(1, 62):  # 0.1 % of the file a second: a 5 % step takes 50 s
        clock.now = T0 + s
        tracker.report("op_1", "alice", s * SIZE // 1000)

    at = [int(e.at.timestamp() - T0) for e in publisher.sent]
    assert at == [1, 11, 21, 31, 41, 51, 61]


def test_between_broadcasts_the_stored_bytes_are_what_watchers_last_saw(setup: Rig) -> None:
    tracker, store, publisher, clock = setup
    clock.now = T0 + 1
    tracker.report("op_1", "alice", 1024**2)
    clock.now = T0 + 2
    answer = tracker.report("op_1", "alice", 2 * 1024**2)  # 1 % more: not news

    assert [e.data.bytes_uploaded for e in publisher.sent] == [1024**2]
    assert answer.upload.bytes_uploaded == store.record.upload.bytes_uploaded == 1024**2


def test_two_reports_racing_for_one_slot_broadcast_once(setup: Rig) -> None:
    """Another Lambda claims the slot between this report's read and its
    write: this one reads again and, the slot taken, broadcasts nothing."""
    tracker, store, publisher, clock = setup
    clock.now = T0 + 1
    tracker.report("op_1", "alice", 1024**2)
    clock.now = T0 + 20
    claim = store.record_broadcast
    raced: list[int] = []

    def racing(op: str, user: str, b: int, now_ms: int, after_ms: int | None) -> bool:
        if not raced:
            raced.append(now_ms)
            assert claim(op, user, 30 * 1024**2, now_ms - 10, after_ms)  # the other Lambda
        return claim(op, user, b, now_ms, after_ms)

    store.record_broadcast = racing  # type: ignore[method-assign,assignment]
    tracker.report("op_1", "alice", 20 * 1024**2)

    assert [e.data.bytes_uploaded for e in publisher.sent] == [1024**2]
    assert store.record.upload.bytes_uploaded == 30 * 1024**2
    assert store.reads == 3


def test_a_broadcast_is_in_flight_until_its_fan_out_returns(setup: Rig) -> None:
    tracker, store, publisher, clock = setup
    seen: list[int | None] = []
    publish = publisher.publish

    def watching(event: Any, channels: Any) -> Any:
        seen.append(store.record.broadcast_in_flight_ms)
        return publish(event, channels)

    publisher.publish = watching  # type: ignore[method-assign]
    clock.now = T0 + 1
    tracker.report("op_1", "alice", 1000)

    assert seen == [int((T0 + 1) * 1000)]
    assert store.record.broadcast_in_flight_ms is None


def test_progress_never_goes_backwards(setup: Rig) -> None:
    tracker, store, publisher, clock = setup
    clock.now = T0 + 1
    tracker.report("op_1", "alice", 5000)
    clock.now = T0 + 2
    tracker.report("op_1", "alice", 3000)

    assert store.record.upload.bytes_uploaded == 5000
    assert [e.data.bytes_uploaded for e in publisher.sent] == [5000]


def test_speed_and_eta_are_computed_between_broadcasts(setup: Rig) -> None:
    tracker, _store, publisher, clock = setup
    clock.now = T0 + 1
    tracker.report("op_1", "alice", 1024**2)
    clock.now = T0 + 2
    tracker.report("op_1", "alice", 6 * 1024**2)

    data = publisher.sent[-1].data
    assert data.bytes_per_second == 5 * 1024**2
    assert data.eta_seconds == 18.8
    assert data.percent == 6.0


def test_no_progress_is_broadcast_after_the_upload_closed(setup: Rig) -> None:
    tracker, store, publisher, clock = setup
    store.close()
    clock.now = T0 + 5

    with pytest.raises(Conflict):
        tracker.report("op_1", "alice", 5000)
    assert publisher.sent == []


def test_progress_past_the_size_is_refused(setup: Rig) -> None:
    tracker, _store, publisher, _clock = setup

    with pytest.raises(InvalidInput):
        tracker.report("op_1", "alice", SIZE + 1)
    assert publisher.sent == []


def test_progress_goes_to_the_uploaders_channel_only_for_a_library_upload(setup: Rig) -> None:
    tracker, _store, publisher, clock = setup
    clock.now = T0 + 1
    tracker.report("op_1", "alice", 1000)

    assert [(e.type, e.channel, e.seq) for e in publisher.sent] == [
        ("upload.progress", "user:alice", None)
    ]


def test_a_reconnect_replays_the_current_progress_of_the_channels_open_uploads(
    setup: Rig,
) -> None:
    tracker, store, _publisher, clock = setup
    clock.now = T0 + 2
    tracker.report("op_1", "alice", 5 * 1024**2)

    (replayed,) = tracker.current_progress("user:alice")
    store.close()

    assert (replayed.type, replayed.operationId) == ("upload.progress", "op_1")
    assert replayed.data.bytes_uploaded == 5 * 1024**2  # type: ignore[union-attr]
    assert tracker.current_progress("user:alice") == []
    assert tracker.current_progress("not a channel") == []


def test_a_report_for_an_id_we_never_issue_is_not_found(setup: Rig) -> None:
    tracker, store, _publisher, _clock = setup

    with pytest.raises(NotFound):
        tracker.report("op_XYZ", "alice", 1)
    assert store.writes == 0


def test_each_broadcast_is_counted_for_the_dashboard() -> None:
    counted: list[str] = []

    class Counters:
        def count(self, name: str, value: float = 1, unit: str = "Count") -> None:
            counted.extend([name] * int(value))

    clock = Clock()
    publisher = InMemoryPublisher()
    tracker = ProgressTracker(InMemoryProgressStore(_record()), publisher, FINE, clock, Counters())
    for i in range(1, 201):  # 2 s at 100 reports a second
        clock.now = T0 + i / 100
        tracker.report("op_1", "alice", i * 1000)

    assert counted == ["ProgressBroadcasts"] * len(publisher.sent) == ["ProgressBroadcasts"] * 8


def test_a_channel_delivered_sharded_gets_one_broadcast_a_second_and_the_uploader_all() -> None:
    record = _record()
    target = ChapterTarget(type="chapter", course_id="c_big", chapter_id="ch_1")
    record = replace(record, upload=record.upload.model_copy(update={"target": target}))
    publisher, clock = InMemoryPublisher(), Clock()
    tracker = ProgressTracker(
        InMemoryProgressStore(record),
        publisher,
        FINE,
        clock,
        wide=lambda channel: channel == "course:c_big",
    )
    for i in range(1, 1001):  # 10 s at 100 reports a second
        clock.now = T0 + i / 100
        tracker.report("op_1", "alice", i * 1000)

    def per_second(channel: str) -> list[int]:
        counts: dict[int, int] = {}
        for event in publisher.on(channel):
            second = int(event.at.timestamp())
            counts[second] = counts.get(second, 0) + 1
        return list(counts.values())

    assert len(publisher.on("user:alice")) == 40
    assert max(per_second("user:alice")) == 4
    assert per_second("course:c_big") == [1] * 10
