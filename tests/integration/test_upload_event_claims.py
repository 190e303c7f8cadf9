"""An S3 event is a claim, checked against S3 before anything is recorded: an
event for an upload not completed yet, for another bucket, with another size or
for an object the upload's completion did not make changes nothing (no media
file, no event, no object deleted), and the upload still completes normally
when S3's own event arrives."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.uploads_kit import MIB, Harness, data_of, harness_fixture  # noqa: F401
from tests.poison_messages import notification

SIZE = 9 * MIB  # two parts


def forged(harness: Harness, upload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An S3 notification for the upload's key, as an attacker or a stale sender
    would put it on the queue."""
    claim = {"bucket": harness.bucket, "key": upload["key"], "size": upload["size"], **changes}
    return {"MessageId": "forged", "ReceiptHandle": "r", "Body": json.dumps(notification(**claim))}


def uploaded(harness: Harness) -> dict[str, Any]:
    """An upload of alice's whose parts S3 holds, not yet completed."""
    upload = harness.start("alice", SIZE)
    harness.put_parts("alice", upload, data_of(SIZE))
    return upload


def upload_events(harness: Harness) -> list[str]:
    return [t for t in harness.publisher.types_on("user:alice") if t != "upload.progress"]


def nothing_changed(harness: Harness, upload: dict[str, Any], status: str) -> None:
    _, state = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert state["status"] == status
    _, media = harness.call("get", "/media", "alice")
    assert media["items"] == []
    assert upload_events(harness) == ["upload.started"]


def complete_normally(harness: Harness, upload: dict[str, Any]) -> None:
    status, _ = harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})
    assert status == 202
    assert harness.deliver(harness.s3_messages()) == {"batchItemFailures": []}
    _, state = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert state["status"] == "completed"
    _, media = harness.call("get", "/media", "alice")
    assert [m["size"] for m in media["items"]] == [SIZE]
    assert upload_events(harness) == ["upload.started", "upload.completed"]


def test_an_event_sent_before_the_client_completes_changes_nothing(harness: Harness) -> None:
    upload = uploaded(harness)

    assert harness.deliver([forged(harness, upload)]) == {"batchItemFailures": []}

    nothing_changed(harness, upload, "uploading")
    assert len(harness.multipart_uploads()) == 1  # the parts are still S3's
    complete_normally(harness, upload)


def test_an_event_with_another_size_for_an_open_upload_neither_fails_it_nor_deletes(
    harness: Harness,
) -> None:
    upload = uploaded(harness)

    harness.deliver([forged(harness, upload, size=SIZE + 1)])
    harness.deliver([forged(harness, upload, size=1)])

    nothing_changed(harness, upload, "uploading")
    complete_normally(harness, upload)


def test_an_event_from_another_bucket_changes_nothing_even_once_the_object_exists(
    harness: Harness,
) -> None:
    upload = uploaded(harness)
    harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})
    real = harness.s3_messages()  # S3's own events, held back

    harness.deliver([forged(harness, upload, bucket="someone-elses-bucket")])
    harness.deliver([forged(harness, upload, size=SIZE - 1)])

    nothing_changed(harness, upload, "completing")
    assert [o["Size"] for o in harness.objects()] == [SIZE]  # not deleted
    assert harness.deliver(real) == {"batchItemFailures": []}
    _, state = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert state["status"] == "completed"


def test_an_object_the_completion_did_not_assemble_does_not_complete_the_upload(
    harness: Harness,
) -> None:
    upload = uploaded(harness)
    harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})
    harness.s3_messages()
    # Same key, same size, other bytes: not the object CompleteMultipartUpload returned.
    harness.s3.put_object(Bucket=harness.bucket, Key=upload["key"], Body=b"\x01" * SIZE)
    harness.s3_messages()

    assert harness.deliver([forged(harness, upload)]) == {"batchItemFailures": []}

    nothing_changed(harness, upload, "completing")
