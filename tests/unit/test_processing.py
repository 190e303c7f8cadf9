"""The processing step's lifecycle with fakes: never stuck. An attempt that
runs out of time or fails is retried; the last attempt SQS allows ends the
file `failed` with a reason; a redelivery after the outcome changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.processing import ERRORED, TIMED_OUT, Probe, ProcessingMessage
from chalicelib.errors import Unavailable
from chalicelib.events import Announcement
from chalicelib.models import Chapter, MediaFile
from chalicelib.processing import ProcessingService

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def _media(status: str = "processing") -> MediaFile:
    return MediaFile(
        media_id="med_1",
        user_id="alice",
        filename="a.mp4",
        content_type="video/mp4",
        size=10,
        key="uploads/alice/op_1/a.mp4",
        operation_id="op_1",
        created_at=NOW,
        links=[],
        status=status,
    )


class FakeResults:
    def __init__(self, media: MediaFile) -> None:
        self.media = media
        self.announced: list[Announcement] = []

    def get(self, media_id: str) -> MediaFile | None:
        return self.media

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None:
        return None

    def finish(self, before: MediaFile, after: MediaFile, announce: Sequence[Announcement]) -> bool:
        assert self.media.status == "processing"
        self.media = after
        self.announced.extend(announce)
        return True

    def refresh_chapter(
        self, chapter: Chapter, expected_version: int, announce: Sequence[Announcement]
    ) -> bool:
        raise AssertionError("no chapter holds it")


class FakeSource:
    bytes_read = 0
    requests = 0

    def read(self, size: int = -1, /) -> bytes | None:
        return b""

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return 0

    def tell(self) -> int:
        return 0


class FakeObjects:
    def __init__(self) -> None:
        self.posters: dict[str, bytes] = {}

    def open(self, key: str, size: int) -> FakeSource:
        return FakeSource()

    def put_poster(self, key: str, jpeg: bytes) -> None:
        self.posters[key] = jpeg


class Counter:
    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def count(self, name: str, value: float = 1, unit: str = "Count") -> None:
        self.counts[name] = self.counts.get(name, 0) + value


class Remaining:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def _service(results: FakeResults, prober: Any, metrics: Counter | None = None) -> Any:
    return ProcessingService(
        results,
        FakeObjects(),
        prober,
        max_receives=3,
        metrics=metrics or Counter(),
        sleep=lambda _: None,
        margin_seconds=0,
    )


def _event(receives: int, body: str | None = None) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "m1",
                "body": body if body is not None else ProcessingMessage("med_1").body(),
                "attributes": {"ApproximateReceiveCount": str(receives)},
                "messageAttributes": {},
            }
        ]
    }


def test_an_attempt_that_runs_out_of_time_is_retried_then_fails_visibly() -> None:
    release = threading.Event()

    def stuck(source: Any) -> Probe:
        release.wait(5)
        return Probe(duration_seconds=1.0)

    results, metrics = FakeResults(_media()), Counter()
    service = _service(results, stuck, metrics)
    try:
        first = service.handle(_event(1), Remaining(200))
        assert first == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
        assert results.media.status == "processing"

        last = service.handle(_event(3), Remaining(200))
    finally:
        release.set()

    assert last == {"batchItemFailures": []}
    assert (results.media.status, results.media.reason) == ("failed", TIMED_OUT)
    assert [a.event.type for a in results.announced] == ["media.updated"]
    assert results.announced[0].channels == ("user:alice",)
    assert metrics.counts["ProcessingFailed"] == 1


def test_an_attempt_that_fails_is_retried_and_the_last_one_ends_failed() -> None:
    def broken(source: Any) -> Probe:
        raise Unavailable("S3 is down")

    results = FakeResults(_media())
    service = _service(results, broken)

    assert service.handle(_event(2), Remaining(5000))["batchItemFailures"] == [
        {"itemIdentifier": "m1"}
    ]
    with pytest.raises(Unavailable):
        service.process("med_1", last_attempt=False, seconds=5)
    assert service.handle(_event(3), Remaining(5000)) == {"batchItemFailures": []}
    assert (results.media.status, results.media.reason) == ("failed", ERRORED)


def test_a_redelivery_after_the_outcome_changes_nothing() -> None:
    calls: list[int] = []

    def quick(source: Any) -> Probe:
        calls.append(1)
        return Probe(duration_seconds=2.5, width=4, height=2, poster=b"jpeg")

    results = FakeResults(_media())
    service = _service(results, quick)

    assert service.process("med_1", last_attempt=False, seconds=5) == "ready"
    assert service.process("med_1", last_attempt=False, seconds=5) == "duplicate"
    assert len(calls) == 1
    assert len(results.announced) == 1
    assert results.media.has_poster is True


def test_a_message_that_is_not_ours_is_dropped_not_retried() -> None:
    metrics = Counter()
    service = _service(FakeResults(_media()), lambda s: Probe(), metrics)

    assert service.handle(_event(1, body='{"mediaId": 7}'), None) == {"batchItemFailures": []}
    assert service.handle(_event(1, body="nope"), None) == {"batchItemFailures": []}
    assert metrics.counts["ProcessingDropped"] == 2
