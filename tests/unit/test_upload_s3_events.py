"""Reading S3 notifications out of SQS messages and sorting them: dropped (one
WARNING, one counted metric, acknowledged), retried (a batch item failure), or
handed to completion. Powertools' batch processor, no AWS behind it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from chalicelib.errors import InvalidInput, Throttled, Unavailable
from chalicelib.logging import SERVICE
from chalicelib.uploads.completion import Dropped, Outcome
from chalicelib.uploads.s3_events import (
    DROPPED_METRIC,
    ObjectClaim,
    S3EventsHandler,
    read_message,
)
from tests.poison_messages import MEDIA_BUCKET, POISON, notification


def _message(
    message_id: str, *keys: tuple[str, int], event: str = "ObjectCreated:Put"
) -> dict[str, Any]:
    document = notification()
    template = document["Records"][0]
    document["Records"] = [
        {**template, "eventName": event, "s3": {**template["s3"], "object": {"key": k, "size": s}}}
        for k, s in keys
    ]
    return {"messageId": message_id, "body": json.dumps(document)}


def _event(*messages: dict[str, Any]) -> dict[str, Any]:
    """Lambda's SQS event, as the event source mapping delivers it."""
    return {"Records": [{**m, "eventSource": "aws:sqs"} for m in messages]}


class RecordingUploads:
    def __init__(
        self,
        failing: dict[str, Exception] | None = None,
        outcomes: dict[str, Outcome] | None = None,
    ) -> None:
        self.seen: list[tuple[str, int]] = []
        self.failing = failing or {}
        self.outcomes = outcomes or {}

    def object_created(self, key: str, size: int) -> Outcome:
        if key in self.failing:
            raise self.failing[key]
        self.seen.append((key, size))
        return self.outcomes.get(key, "completed")


class RecordingMetrics:
    def __init__(self) -> None:
        self.counted: list[tuple[str, float, dict[str, str]]] = []

    def count(
        self, name: str, value: float = 1, *, dimensions: Mapping[str, str] | None = None
    ) -> None:
        self.counted.append((name, value, dict(dimensions or {})))


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def warnings() -> Iterator[Warnings]:
    handler = Warnings()
    log = logging.getLogger(SERVICE)
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)


def handler_for(
    uploads: RecordingUploads, metrics: RecordingMetrics | None = None
) -> S3EventsHandler:
    return S3EventsHandler(
        uploads, media_bucket=MEDIA_BUCKET, metrics=metrics or RecordingMetrics()
    )


@pytest.mark.parametrize("name", list(POISON))
def test_a_poison_message_is_dropped_with_one_warning_and_one_count_never_retried(
    name: str, warnings: Warnings
) -> None:
    body, reason = POISON[name]
    uploads, metrics = RecordingUploads(), RecordingMetrics()

    result = handler_for(uploads, metrics).handle(_event({"messageId": "m1", "body": body}))

    assert result == {"batchItemFailures": []}  # acknowledged: never redelivered
    assert [(r.levelno, getattr(r, "reason", None)) for r in warnings.records] == [
        (logging.WARNING, reason)
    ]
    assert [(n, d["reason"]) for n, _, d in metrics.counted] == [(DROPPED_METRIC, reason)]
    assert uploads.seen == []


def test_a_claim_completion_does_not_bear_out_is_dropped_and_counted(warnings: Warnings) -> None:
    key = "uploads/a/op_1/a.mp4"
    early = Dropped("object_absent", "S3 holds no object for this event")
    metrics = RecordingMetrics()

    result = handler_for(RecordingUploads(outcomes={key: early}), metrics).handle(
        _event(_message("m1", (key, 10)))
    )

    assert result == {"batchItemFailures": []}
    assert [getattr(r, "key", None) for r in warnings.records] == [key]
    assert metrics.counted == [(DROPPED_METRIC, 1, {"reason": "object_absent"})]


def test_many_bad_records_of_one_message_are_one_line_counted_each(warnings: Warnings) -> None:
    metrics = RecordingMetrics()
    body = json.dumps({"Records": [1, 2, 3]})

    handler_for(RecordingUploads(), metrics).handle(_event({"messageId": "m1", "body": body}))

    assert len(warnings.records) == 1
    assert metrics.counted == [(DROPPED_METRIC, 3, {"reason": "malformed_record"})]


def test_a_failing_record_is_reported_alone_so_the_others_are_not_redelivered() -> None:
    uploads = RecordingUploads({"uploads/a/op_2/b.mp4": Unavailable("dynamodb is down")})

    result = handler_for(uploads).handle(
        _event(
            _message("m1", ("uploads/a/op_1/a.mp4", 10)),
            _message("m2", ("uploads/a/op_2/b.mp4", 10)),
            _message("m3", ("uploads/a/op_3/c.mp4", 10)),
        )
    )

    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert [k for k, _ in uploads.seen] == ["uploads/a/op_1/a.mp4", "uploads/a/op_3/c.mp4"]


def test_a_record_that_can_never_succeed_is_dropped_not_retried(warnings: Warnings) -> None:
    uploads = RecordingUploads({"uploads/a/op_1/a.mp4": InvalidInput("bad")})

    result = handler_for(uploads).handle(_event(_message("m1", ("uploads/a/op_1/a.mp4", 1))))

    assert result == {"batchItemFailures": []}
    assert [getattr(r, "reason", None) for r in warnings.records] == ["refused"]


def test_a_throttled_record_is_redelivered_not_dropped() -> None:
    # A 429 is a client error on the wire, but a throttled table is no reason
    # to lose the S3 event: SQS delivers it again once DynamoDB has capacity.
    uploads = RecordingUploads({"uploads/a/op_1/a.mp4": Throttled("slow down")})

    result = handler_for(uploads).handle(_event(_message("m1", ("uploads/a/op_1/a.mp4", 1))))

    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_a_defect_is_retried_so_it_reaches_the_dead_letter_queue_rather_than_being_lost() -> None:
    uploads = RecordingUploads({"uploads/a/op_1/a.mp4": KeyError("a bug")})

    result = handler_for(uploads).handle(_event(_message("m1", ("uploads/a/op_1/a.mp4", 1))))

    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_keys_arrive_url_decoded() -> None:
    body = _message("m", ("uploads/a/op_1/My+Talk%281%29.mp4", 5))["body"]

    assert read_message(body) == [ObjectClaim(MEDIA_BUCKET, "uploads/a/op_1/My Talk(1).mp4", 5)]


def test_only_object_created_records_are_claims() -> None:
    body = _message("m", ("uploads/a/op_1/a.mp4", 5), event="ObjectRemoved:Delete")["body"]

    read = read_message(body)

    assert isinstance(read, list)
    assert [r.reason for r in read if isinstance(r, Dropped)] == ["not_object_created"]
