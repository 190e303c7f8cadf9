"""MediaStore and the media bucket against moto."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib import services
from chalicelib.errors import Conflict, NotFound
from chalicelib.store.media import MediaStore
from tests.integration.course_kit import add_media

pytestmark = pytest.mark.integration


@pytest.fixture
def store(aws: dict[str, str]) -> MediaStore:
    return services.container().media_store


def test_put_if_absent_creates_once_and_keeps_the_first_record(store: MediaStore) -> None:
    first = add_media("m_1", "ann")
    assert store.put_if_absent(first.model_copy(update={"filename": "other.mp4"})) is False
    assert store.get("m_1") == first


def test_a_missing_media_file_reads_as_none(store: MediaStore) -> None:
    assert store.get("m_nope") is None


def test_an_owners_library_pages_newest_first(store: MediaStore) -> None:
    for n in range(3):
        add_media(f"m_{n}", "ann", minutes=n)
    add_media("m_bob", "bob", minutes=9)
    first = store.list_by_owner("ann", 2)
    assert [m.media_id for m in first.items] == ["m_2", "m_1"]
    assert first.last is not None
    rest = store.list_by_owner("ann", 2, first.last)
    assert [m.media_id for m in rest.items] == ["m_0"]


def test_a_linked_file_is_not_deleted(store: MediaStore) -> None:
    add_media("m_1", "ann")
    c = services.container()
    c.aws.ddb.update_item(  # the link transaction's write, without a chapter
        TableName=c.settings.media_table,
        Key={"mediaId": {"S": "m_1"}},
        UpdateExpression="SET links.#k = :v",
        ExpressionAttributeNames={"#k": "c_1#ch_1"},
        ExpressionAttributeValues={
            ":v": {"M": {"courseId": {"S": "c_1"}, "chapterId": {"S": "ch_1"}, "order": {"N": "0"}}}
        },
    )
    with pytest.raises(Conflict) as err:
        store.delete_unlinked("m_1", "ann")
    assert err.value.code == "media_linked"
    assert store.get("m_1") is not None


def test_another_owner_cannot_delete_a_file(store: MediaStore) -> None:
    add_media("m_1", "ann")
    with pytest.raises(NotFound):
        store.delete_unlinked("m_1", "bob")
    assert store.get("m_1") is not None


def test_deleting_a_missing_file_is_not_found(store: MediaStore) -> None:
    with pytest.raises(NotFound):
        store.delete_unlinked("m_nope", "ann")


def test_the_download_url_is_presigned_for_the_object_and_expires(aws: dict[str, str]) -> None:
    c = services.container()
    media = add_media("m_1", "ann")
    url = c.media.with_download_url("m_1", "ann").download_url
    assert url is not None
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    assert parsed.path.endswith(media.key)
    assert query["X-Amz-Expires"] == [str(c.settings.download_url_expiry_seconds)]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


def test_deleting_a_file_deletes_its_object(aws: dict[str, str]) -> None:
    c = services.container()
    media = add_media("m_1", "ann")
    c.aws.s3.put_object(Bucket=c.settings.media_bucket, Key=media.key, Body=b"x")
    c.media.delete("m_1", "ann")
    listed = c.aws.s3.list_objects_v2(Bucket=c.settings.media_bucket, Prefix=media.key)
    assert listed.get("KeyCount", 0) == 0
    assert c.media_store.get("m_1") is None


def test_processing_metadata_reads_back_as_written(store: MediaStore) -> None:
    media = add_media("m_1", "ann")
    done = media.model_copy(
        update={
            "status": "ready",
            "duration_seconds": 60.042,
            "width": 1280,
            "height": 720,
            "rotation": 90,
            "video_codec": "h264",
            "audio_codec": "aac",
            "bitrate": 2_500_000,
            "has_poster": True,
        }
    )
    c = services.container()
    c.aws.ddb.delete_item(TableName=c.settings.media_table, Key={"mediaId": {"S": "m_1"}})
    assert store.put_if_absent(done) is True
    assert store.get("m_1") == done


def test_a_record_from_before_processing_reads_as_ready_without_metadata(
    store: MediaStore,
) -> None:
    c = services.container()
    c.aws.ddb.put_item(  # what completion wrote before media had a lifecycle
        TableName=c.settings.media_table,
        Item={
            "mediaId": {"S": "m_old"},
            "userId": {"S": "ann"},
            "filename": {"S": "a.mp4"},
            "contentType": {"S": "video/mp4"},
            "size": {"N": "10"},
            "key": {"S": "uploads/ann/op_x/a.mp4"},
            "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
            "links": {"M": {}},
        },
    )
    old = store.get("m_old")
    assert old is not None
    assert (old.status, old.reason, old.duration_seconds, old.has_poster) == (
        "ready",
        "not_processed",
        None,
        False,
    )
