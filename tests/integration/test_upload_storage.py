"""The S3 multipart adapter against moto."""

from __future__ import annotations

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.services import container
from chalicelib.store.multipart import MultipartStorage


@pytest.fixture
def storage(aws: dict[str, str]) -> MultipartStorage:
    # A page of two parts, so five parts take three ListParts pages.
    return MultipartStorage(container().aws.s3, aws["MEDIA_BUCKET"], 900, parts_page_size=2)


def test_list_parts_pages_until_s3_has_no_more(storage: MultipartStorage) -> None:
    upload_id = storage.create("uploads/a/op_1/f.bin", "video/mp4")
    s3 = container().aws.s3
    for n in range(1, 6):
        s3.upload_part(
            Bucket=storage.bucket, Key="uploads/a/op_1/f.bin", UploadId=upload_id,
            PartNumber=n, Body=b"x" * n,
        )  # fmt: skip

    parts = storage.list_parts("uploads/a/op_1/f.bin", upload_id)

    assert [(p.part_number, p.size) for p in parts] == [(n, n) for n in range(1, 6)]


def test_an_upload_s3_no_longer_holds_has_no_parts(storage: MultipartStorage) -> None:
    upload_id = storage.create("uploads/a/op_1/f.bin", "video/mp4")
    storage.abort("uploads/a/op_1/f.bin", upload_id)

    assert storage.list_parts("uploads/a/op_1/f.bin", upload_id) == []


def test_aborting_twice_is_harmless(storage: MultipartStorage) -> None:
    upload_id = storage.create("uploads/a/op_1/f.bin", "video/mp4")
    storage.abort("uploads/a/op_1/f.bin", upload_id)

    storage.abort("uploads/a/op_1/f.bin", upload_id)


def test_completing_with_a_part_s3_does_not_hold_is_invalid(storage: MultipartStorage) -> None:
    upload_id = storage.create("uploads/a/op_1/f.bin", "video/mp4")

    with pytest.raises(InvalidInput):
        storage.complete("uploads/a/op_1/f.bin", upload_id, [(1, '"0000"')])


def test_presigned_part_urls_are_sigv4_on_the_regional_endpoint(storage: MultipartStorage) -> None:
    url = storage.presign_part("uploads/a/op_1/f.bin", "uid", 3, 8 * 1024**2)

    assert url.startswith(f"https://{storage.bucket}.s3.us-east-1.amazonaws.com/")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert "X-Amz-Expires=900" in url
    assert "partNumber=3" in url
    # The part's length is signed: S3 refuses a body of any other length.
    assert "X-Amz-SignedHeaders=content-length%3Bhost" in url
