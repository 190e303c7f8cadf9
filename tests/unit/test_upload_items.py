"""The uploads table's item format, with no DynamoDB behind it: the stored
attribute names stay what items have been stored under, whatever the wire calls
the fields."""

from __future__ import annotations

from chalicelib.models import ChapterTarget, Upload
from chalicelib.store.upload_items import item_from_upload, record_from_item
from tests.upload_fakes import T0

UPLOAD = Upload(
    operation_id="op_0123abcd",
    upload_id="s3-upload-1",
    user_id="alice",
    key="uploads/alice/op_0123abcd/talk.mp4",
    filename="talk.mp4",
    content_type="video/mp4",
    size=20,
    part_size=10,
    part_count=2,
    status="uploading",
    target=ChapterTarget(type="chapter", course_id="c_1", chapter_id="ch_1"),
    bytes_uploaded=0,
    media_id=None,
    reason=None,
    created_at=T0,
    updated_at=T0,
    expires_at=T0,
)


def test_an_open_upload_is_stored_under_the_table_attribute_names() -> None:
    item = item_from_upload(UPLOAD, "companion")

    assert set(item) == {
        "operationId",
        "uploadId",
        "userId",
        "key",
        "filename",
        "contentType",
        "size",
        "partSize",
        "partCount",
        "status",
        "target",
        "bytesUploaded",
        "mediaId",
        "reason",
        "createdAt",
        "updatedAt",
        "expiresAt",
        "source",
        "openBy",
        "openSince",
        "openInCourse",
    }
    assert item["target"] == {"type": "chapter", "courseId": "c_1", "chapterId": "ch_1"}
    assert (item["openBy"], item["openInCourse"], item["createdAt"]) == (
        "alice",
        "c_1",
        "2026-11-21T10:00:00.000Z",
    )


def test_a_stored_item_reads_back_as_the_same_upload() -> None:
    record = record_from_item(item_from_upload(UPLOAD, "companion"))

    assert record.upload == UPLOAD
    assert record.source == "companion"
    assert record.announced is True


def test_a_closed_upload_leaves_the_open_indexes() -> None:
    closed = UPLOAD.model_copy(update={"status": "aborted"})

    assert not {"openBy", "openSince", "openInCourse"} & set(item_from_upload(closed, "api"))


def test_the_starting_requests_correlation_id_is_kept_with_the_upload() -> None:
    item = item_from_upload(UPLOAD, "api", "req_started")

    assert item["correlationId"] == "req_started"
    assert record_from_item(item).correlation_id == "req_started"
    assert record_from_item(item_from_upload(UPLOAD, "api")).correlation_id is None
