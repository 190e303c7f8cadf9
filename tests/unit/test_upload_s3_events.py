"""Reading S3 notifications out of SQS messages and reporting partial batch
failures (Powertools' batch processor), with no AWS behind it."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.errors import InvalidInput, Throttled, Unavailable
from chalicelib.uploads.completion import S3EventsHandler, s3_records


def _message(
    message_id: str, *keys: tuple[str, int], event: str = "ObjectCreated:Put"
) -> dict[str, Any]:
    records = [{"eventName": event, "s3": {"object": {"key": k, "size": s}}} for k, s in keys]
    return {"messageId": message_id, "body": json.dumps({"Records": records})}


def _event(*messages: dict[str, Any]) -> dict[str, Any]:
    """Lambda's SQS event, as the event source mapping delivers it."""
    return {"Records": [{**m, "eventSource": "aws:sqs"} for m in messages]}


class RecordingUploads:
    def __init__(self, failing: dict[str, Exception] | None = None) -> None:
        self.seen: list[tuple[str, int]] = []
        self.failing = failing or {}

    def object_created(self, key: str, size: int) -> str:
        if key in self.failing:
            raise self.failing[key]
        self.seen.append((key, size))
        return "completed"


def test_a_failing_record_is_reported_alone_so_the_others_are_not_redelivered() -> None:
    uploads = RecordingUploads({"uploads/a/op_2/b.mp4": Unavailable("dynamodb is down")})
    handler = S3EventsHandler(uploads)

    result = handler.handle(
        _event(
            _message("m1", ("uploads/a/op_1/a.mp4", 10)),
            _message("m2", ("uploads/a/op_2/b.mp4", 10)),
            _message("m3", ("uploads/a/op_3/c.mp4", 10)),
        )
    )

    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert [k for k, _ in uploads.seen] == ["uploads/a/op_1/a.mp4", "uploads/a/op_3/c.mp4"]


def test_a_record_that_can_never_succeed_is_dropped_not_retried() -> None:
    uploads = RecordingUploads({"uploads/a/op_1/a.mp4": InvalidInput("bad")})

    result = S3EventsHandler(uploads).handle(_event(_message("m1", ("uploads/a/op_1/a.mp4", 1))))

    assert result == {"batchItemFailures": []}


def test_a_throttled_record_is_redelivered_not_dropped() -> None:
    # A 429 is a client error on the wire, but a throttled table is no reason
    # to lose the S3 event: SQS delivers it again once DynamoDB has capacity.
    uploads = RecordingUploads({"uploads/a/op_1/a.mp4": Throttled("slow down")})

    result = S3EventsHandler(uploads).handle(_event(_message("m1", ("uploads/a/op_1/a.mp4", 1))))

    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_unreadable_messages_and_test_events_are_dropped() -> None:
    uploads = RecordingUploads()
    messages = [
        {"messageId": "m1", "body": "not json"},
        {"messageId": "m2", "body": json.dumps({"Event": "s3:TestEvent", "Service": "Amazon S3"})},
        {"messageId": "m3", "body": json.dumps([1, 2])},
    ]

    result = S3EventsHandler(uploads).handle(_event(*messages))

    assert result == {"batchItemFailures": []}
    assert uploads.seen == []


def test_keys_arrive_url_decoded() -> None:
    body = _message("m", ("uploads/a/op_1/My+Talk%281%29.mp4", 5))["body"]

    assert s3_records(body) == [("uploads/a/op_1/My Talk(1).mp4", 5)]


def test_only_object_created_records_count() -> None:
    body = _message("m", ("uploads/a/op_1/a.mp4", 5), event="ObjectRemoved:Delete")["body"]

    assert s3_records(body) == []
