"""The poison S3-event messages: SQS message bodies no upload can come of,
each with the reason the handler must give for dropping it. The unit test
(tests/unit/test_upload_s3_events.py) and the local stack's
(tests/e2e/test_stack_poison_messages.py) use the same set.

It covers the 17 malformed messages of the hostile test and what they stood for:
bodies that are not JSON or not an object, notifications whose every level is
the wrong type or missing, sizes and keys no S3 event carries, nesting far past
any notification, and messages that are well formed but not ours.
"""

from __future__ import annotations

import json
from typing import Any

MEDIA_BUCKET = "media-bucket"
KEY = "uploads/poison/op_0000000000000000000000000000dead/clip.mp4"


def notification(
    *,
    bucket: Any = MEDIA_BUCKET,
    key: Any = KEY,
    size: Any = 10,
    event: Any = "ObjectCreated:CompleteMultipartUpload",
) -> dict[str, Any]:
    """An S3 notification as S3 sends it, with one record."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": event,
                "s3": {
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key, "size": size, "eTag": "0" * 32 + "-1"},
                },
            }
        ]
    }


def _with_s3(s3: Any) -> str:
    document = notification()
    document["Records"][0]["s3"] = s3
    return json.dumps(document)


def _without(path: tuple[str, ...]) -> str:
    document = notification()
    node = document["Records"][0]
    for name in path[:-1]:
        node = node[name]
    del node[path[-1]]
    return json.dumps(document)


DEEP = 100_000

# id -> (body, the drop reason)
POISON: dict[str, tuple[str, str]] = {
    "not-json": ("{'Records': [", "not_json"),
    "empty-body": ("", "not_json"),
    # SQS refuses a zero-length body, so on a real queue "empty" arrives as blanks.
    "blank-body": (" \n", "not_json"),
    "null": ("null", "not_an_object"),
    "array": (json.dumps([notification()]), "not_an_object"),
    "number": ("42", "not_an_object"),
    "string": (json.dumps("Records"), "not_an_object"),
    "records-missing": (json.dumps({"Service": "Amazon S3"}), "no_records"),
    "records-a-number": (json.dumps({"Records": 7}), "no_records"),
    "records-a-string": (json.dumps({"Records": "ObjectCreated"}), "no_records"),
    "records-not-objects": (json.dumps({"Records": [1, "two", None]}), "malformed_record"),
    "s3-missing": (_without(("s3",)), "malformed_record"),
    "s3-a-string": (_with_s3("s3"), "malformed_record"),
    "bucket-missing": (_without(("s3", "bucket")), "malformed_record"),
    "object-a-string": (
        _with_s3({"bucket": {"name": MEDIA_BUCKET}, "object": KEY}),
        "malformed_record",
    ),
    "key-missing": (_without(("s3", "object", "key")), "malformed_record"),
    "size-not-an-integer": (json.dumps(notification(size="10")), "malformed_record"),
    "size-negative": (json.dumps(notification(size=-1)), "malformed_record"),
    "key-with-control-chars": (json.dumps(notification(key=KEY + "%0A%00")), "bad_key"),
    "key-oversized": (json.dumps(notification(key="uploads/" + "k" * 1100)), "bad_key"),
    "nested-100000-deep": ('{"Records": ' + "[" * DEEP + "]" * DEEP + "}", "not_json"),
    "s3-test-event": (
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": MEDIA_BUCKET}),
        "test_event",
    ),
    "object-removed": (
        json.dumps(notification(event="ObjectRemoved:Delete")),
        "not_object_created",
    ),
    "foreign-bucket": (json.dumps(notification(bucket="someone-elses-bucket")), "foreign_bucket"),
    "key-we-did-not-issue": (json.dumps(notification(key="uploads/x.mp4")), "foreign_key"),
}
