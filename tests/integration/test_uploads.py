"""Uploads end to end against moto: presigned multipart PUTs, progress, and
completion through the S3 event that reaches the SQS handler."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import boto3
from chalice.test import Client

from chalicelib import services
from chalicelib.services import Container, container
from chalicelib.settings import get_settings
from chalicelib.uploads.announce import PROGRESS_DRAIN
from tests.conftest import REGION
from tests.fakes import FakeClock, InMemoryPublisher
from tests.integration.uploads_kit import MIB, Harness, data_of, harness_fixture  # noqa: F401

SIZE = 17 * MIB  # three parts of the server's 8 MiB part size


def _complete_and_deliver(h: Harness, user: str, upload: dict[str, Any]) -> dict[str, Any]:
    status, body = h.call("post", f"/uploads/{upload['operationId']}/complete", user, {})
    assert status == 202, body
    return h.deliver(h.s3_messages())


def test_three_part_library_upload_completes_with_one_media_file_and_events_in_order(
    harness: Harness,
) -> None:
    upload = harness.start("alice", SIZE)
    assert upload["partCount"] == 3
    harness.put_parts("alice", upload, data_of(SIZE))

    result = _complete_and_deliver(harness, "alice", upload)

    assert result == {"batchItemFailures": []}
    status, done = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert (status, done["status"], done["bytesUploaded"]) == (200, "completed", SIZE)
    media = container().media_store.get(done["mediaId"])
    assert media is not None
    assert media.size == SIZE
    assert media.user_id == "alice"
    types = harness.publisher.types_on("user:alice")
    assert types[0] == "upload.started"
    assert types[-1] == "upload.completed"
    assert "upload.progress" in types[1:-1]


def test_chapter_upload_events_reach_the_course_channel_and_the_file_is_linked(
    harness: Harness,
) -> None:
    target = harness.chapter_target("alice")
    upload = harness.start("alice", SIZE, target)
    harness.put_parts("alice", upload, data_of(SIZE))

    _complete_and_deliver(harness, "alice", upload)

    on_course = harness.publisher.types_on(f"course:{target['courseId']}")
    uploads_only = [t for t in on_course if t.startswith("upload.")]
    assert uploads_only[0] == "upload.started"
    assert uploads_only[-1] == "upload.completed"
    assert "upload.progress" in uploads_only
    assert "media.linked" in on_course
    linked = container().courses.get_chapter(target["courseId"], target["chapterId"])
    expected = upload["operationId"].replace("op_", "med_")
    assert [item.media_id for item in linked.items] == [expected]


def test_duplicate_s3_events_and_a_late_progress_report_change_nothing(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    harness.put_parts("alice", upload, data_of(SIZE))
    harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})
    messages = harness.s3_messages()
    harness.deliver(messages)
    sent_before = len(harness.publisher.sent)
    _, before = harness.call("get", f"/uploads/{upload['operationId']}", "alice")

    again = harness.deliver(messages + messages)
    late, _ = harness.call(
        "post", f"/uploads/{upload['operationId']}/progress", "alice", {"bytesUploaded": 1}
    )

    assert again == {"batchItemFailures": []}
    assert late == 409
    assert len(harness.publisher.sent) == sent_before
    assert harness.publisher.types_on("user:alice").count("upload.completed") == 1
    _status, after = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert after == before


def test_an_object_of_another_size_fails_the_upload(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    # The browser sends fewer bytes than it declared.
    harness.put_parts("alice", upload, data_of(SIZE - 1))

    _complete_and_deliver(harness, "alice", upload)

    _status, done = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert (done["status"], done["reason"]) == ("failed", "size_mismatch")
    assert harness.publisher.types_on("user:alice")[-1] == "upload.failed"
    # Nobody can reach the object of a failed upload, so it does not stay behind.
    assert harness.s3.list_objects_v2(Bucket=harness.bucket).get("KeyCount", 0) == 0


def test_aborting_an_upload_publishes_aborted_and_frees_s3(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)

    status, aborted = harness.call("delete", f"/uploads/{upload['operationId']}", "alice")

    assert (status, aborted["status"]) == (200, "aborted")
    assert harness.multipart_uploads() == []
    assert harness.publisher.types_on("user:alice") == ["upload.started", "upload.aborted"]


def test_a_cancel_right_after_a_progress_broadcast_is_announced_after_it_has_gone_out(
    harness: Harness,
) -> None:
    upload = harness.start("alice", SIZE)
    harness.call(
        "post", f"/uploads/{upload['operationId']}/progress", "alice", {"bytesUploaded": 1}
    )

    harness.call("delete", f"/uploads/{upload['operationId']}", "alice")

    progress, aborted = harness.publisher.on("user:alice")[-2:]
    assert (progress.type, aborted.type) == ("upload.progress", "upload.aborted")
    # The progress broadcast had a head start of PROGRESS_DRAIN: a client can
    # never see it arrive after the upload's end.
    assert aborted.at - progress.at >= PROGRESS_DRAIN


def test_an_aborted_upload_is_no_longer_open(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    harness.call("delete", f"/uploads/{upload['operationId']}", "alice")

    status, body = harness.call(
        "post", f"/uploads/{upload['operationId']}/parts", "alice", {"partNumbers": [1]}
    )

    assert (status, body["error"]["code"]) == (409, "upload_not_open")


def test_get_lists_the_parts_s3_holds_for_resuming(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    harness.put_parts("alice", upload, data_of(SIZE))

    _status, body = harness.call("get", f"/uploads/{upload['operationId']}", "alice")

    assert [(p["partNumber"], p["size"]) for p in body["parts"]] == [
        (1, 8 * MIB),
        (2, 8 * MIB),
        (3, 1 * MIB),
    ]
    assert body["bytesUploaded"] == SIZE


def test_active_uploads_lists_only_the_callers_open_uploads(harness: Harness) -> None:
    mine = harness.start("alice", SIZE)
    closed = harness.start("alice", SIZE)
    harness.call("delete", f"/uploads/{closed['operationId']}", "alice")
    harness.start("bob", SIZE)

    status, body = harness.call("get", "/uploads?status=active", "alice")

    assert status == 200
    assert [u["operationId"] for u in body["uploads"]] == [mine["operationId"]]


def test_completing_without_parts_takes_them_from_s3(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    harness.put_parts("alice", upload, data_of(SIZE))

    status, body = harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})

    assert (status, body["status"]) == (202, "completing")
    assert [o["Size"] for o in harness.objects()] == [SIZE]


def test_objects_under_keys_we_did_not_issue_are_logged_and_dropped(harness: Harness) -> None:
    harness.s3.put_object(Bucket=harness.bucket, Key="uploads/alice/op_ffff/x.mp4", Body=b"x")
    harness.s3.put_object(Bucket=harness.bucket, Key="uploads/elsewhere.mp4", Body=b"x")

    result = harness.deliver(harness.s3_messages())

    assert result == {"batchItemFailures": []}
    assert harness.publisher.sent == []


def test_parts_s3_refuses_reopen_the_upload_for_another_try(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    parts = harness.put_parts("alice", upload, data_of(SIZE))
    wrong = [{**parts[0], "etag": '"00000000000000000000000000000000"'}, *parts[1:]]

    status, body = harness.call(
        "post", f"/uploads/{upload['operationId']}/complete", "alice", {"parts": wrong}
    )

    assert (status, body["error"]["code"]) == (400, "invalid_parts")
    _, state = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert state["status"] == "uploading"


def test_an_upload_s3_already_assembled_cannot_be_aborted(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    harness.put_parts("alice", upload, data_of(SIZE))
    harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})

    status, body = harness.call("delete", f"/uploads/{upload['operationId']}", "alice")

    assert (status, body["error"]["code"]) == (409, "upload_not_open")
    assert [o["Size"] for o in harness.objects()] == [SIZE]


class DiesBeforeLinking:
    """A boto3 session on which the first link of a completed upload into its
    chapter fails, as a Lambda that dies after completing the upload (and
    committing `upload.completed` with it) but before linking it."""

    def __init__(self) -> None:
        self.session = boto3.session.Session(region_name=REGION)
        self.failed = False
        self.session.events.register("before-call.dynamodb.TransactWriteItems", self._before_call)

    def _before_call(self, params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        if self.failed or "media.linked" not in text:
            return None
        self.failed = True
        raise ConnectionError("the Lambda went away")


def test_a_redelivered_event_finishes_an_announcement_a_crashed_handler_began(
    aws: dict[str, str],
) -> None:
    from app import app

    publisher, clock = InMemoryPublisher(), FakeClock(time.time())
    dies = DiesBeforeLinking()
    services.reset(
        Container(
            get_settings(), dies.session, delivery=publisher, clock=clock, sleep=clock.advance
        )
    )
    with Client(app) as client:
        h = Harness(client, publisher, aws, clock)
        upload = h.start("alice", SIZE, h.chapter_target("alice"))
        h.put_parts("alice", upload, data_of(SIZE))
        h.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})
        messages = h.s3_messages()
        first = h.deliver(messages)
        # SQS redelivers after the visibility timeout, well past the grace period.
        clock.advance(timedelta(minutes=3).total_seconds())

        h.deliver(messages)
        h.deliver(messages)

    assert len(first["batchItemFailures"]) >= 1
    assert publisher.types_on("user:alice").count("upload.completed") == 1
    assert "media.linked" in publisher.types_on(f"course:{upload['target']['courseId']}")


def test_a_completion_naming_ten_thousand_parts_is_read_not_refused_as_too_large(
    harness: Harness,
) -> None:
    # Uppy names every part on completion: past about 1,300 parts a 64 KiB body
    # limit answered 413 to an upload the API had accepted.
    upload = harness.start("alice", SIZE)
    etag = '"' + "0" * 32 + '"'
    parts = [{"partNumber": n, "etag": etag} for n in range(1, 10_001)]

    status, body = harness.call(
        "post", f"/uploads/{upload['operationId']}/complete", "alice", {"parts": parts}
    )

    assert (status, body["error"]["code"]) == (400, "invalid_parts")
