"""Uppy works with configuration alone: Companion's S3 multipart routes (as
`companionEndpoint`) and the `signRequest` endpoint, driven the way
@uppy/aws-s3 drives them, with plain HTTP to the presigned URLs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests

from chalicelib.services import container
from tests.integration.uploads_kit import MIB, Harness, data_of, harness_fixture  # noqa: F401

SIZE = 11 * MIB
# The server's part size, which Uppy is configured to cut at (getChunkSize in
# docs/uppy.md): every part URL is signed for exactly this length but the last.
CHUNK = 8 * MIB


def _companion_create(h: Harness, user: str, meta: dict[str, Any]) -> tuple[int, Any]:
    return h.call(
        "post",
        "/s3/multipart",
        user,
        {"filename": "talk.mp4", "type": "video/mp4", "metadata": meta},
    )


def test_companion_routes_carry_an_upload_from_create_to_completed(harness: Harness) -> None:
    status, created = _companion_create(harness, "alice", {"size": SIZE, "name": "talk.mp4"})
    assert status == 200
    assert set(created) == {"key", "uploadId", "bucket"}
    uid, key = created["uploadId"], quote(created["key"], safe="")
    status, batch = harness.call(
        "get", f"/s3/multipart/{uid}/batch?key={key}&partNumbers=1,2", "alice"
    )
    assert status == 200
    data = data_of(SIZE)
    for n in (1, 2):
        chunk = data[(n - 1) * CHUNK : n * CHUNK]
        assert requests.put(batch["presignedUrls"][str(n)], data=chunk, timeout=10).ok

    status, listed = harness.call("get", f"/s3/multipart/{uid}?key={key}", "alice")
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, CHUNK), (2, SIZE - CHUNK)]
    parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
    status, done = harness.call(
        "post", f"/s3/multipart/{uid}/complete?key={key}", "alice", {"parts": parts}
    )
    assert status == 200
    assert done["key"] == created["key"]
    assert done["location"]
    harness.deliver(harness.s3_messages())

    assert harness.publisher.types_on("user:alice") == ["upload.started", "upload.completed"]


def test_companion_signs_one_part_with_its_expiry(harness: Harness) -> None:
    _, created = _companion_create(harness, "alice", {"size": SIZE})
    uid, key = created["uploadId"], quote(created["key"], safe="")

    status, signed = harness.call("get", f"/s3/multipart/{uid}/2?key={key}", "alice")

    assert status == 200
    assert "partNumber=2" in signed["url"]
    assert "X-Amz-Signature=" in signed["url"]
    assert signed["expires"] == container().settings.presign_expiry_seconds


def test_companion_abort_answers_an_empty_object_and_aborts(harness: Harness) -> None:
    _, created = _companion_create(harness, "alice", {"size": SIZE})
    uid, key = created["uploadId"], quote(created["key"], safe="")

    status, body = harness.call("delete", f"/s3/multipart/{uid}?key={key}", "alice")

    assert (status, body) == (200, {})
    assert harness.multipart_uploads() == []
    assert harness.publisher.types_on("user:alice")[-1] == "upload.aborted"


def test_companion_create_takes_the_chapter_target_from_the_file_metadata(harness: Harness) -> None:
    target = harness.chapter_target("alice")
    meta = {"size": str(SIZE), "courseId": target["courseId"], "chapterId": target["chapterId"]}

    status, created = _companion_create(harness, "alice", meta)

    assert status == 200
    started = harness.publisher.on(f"course:{target['courseId']}")[-1]
    assert started.type == "upload.started"
    assert started.operationId in created["key"]


def test_companion_create_without_a_size_is_refused_before_s3(harness: Harness) -> None:
    status, body = _companion_create(harness, "alice", {"name": "talk.mp4"})

    assert (status, body["error"]["code"]) == (400, "invalid_size")
    assert harness.multipart_uploads() == []


def test_companion_batch_with_a_bad_part_number_is_refused(harness: Harness) -> None:
    _, created = _companion_create(harness, "alice", {"size": SIZE})
    uid, key = created["uploadId"], quote(created["key"], safe="")

    answers = [
        harness.call("get", f"/s3/multipart/{uid}/batch?key={key}&partNumbers={numbers}", "alice")[
            0
        ]
        for numbers in ("0", "10001", "1,x", "", quote("1,²"), "1,2,3")
    ]

    assert answers == [400, 400, 400, 400, 400, 400]


def _signed_length(url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    return query["partNumber"][0], query["X-Amz-SignedHeaders"][0]


def test_companion_signs_each_part_for_its_own_length(harness: Harness) -> None:
    """11 MiB at the server's 8 MiB parts: part 1 is 8 MiB, part 2 the 3 MiB left."""
    _, created = _companion_create(harness, "alice", {"size": SIZE})
    uid, key = created["uploadId"], quote(created["key"], safe="")

    _, batch = harness.call("get", f"/s3/multipart/{uid}/batch?key={key}&partNumbers=1,2", "alice")
    _, one = harness.call("get", f"/s3/multipart/{uid}/2?key={key}", "alice")

    for url in (*batch["presignedUrls"].values(), one["url"]):
        assert "content-length" in _signed_length(url)[1].split(";")
    status, body = harness.call("get", f"/s3/multipart/{uid}/3?key={key}", "alice")
    assert (status, body["error"]["code"]) == (400, "invalid_part_number")


def test_companion_completion_naming_a_part_past_the_count_is_refused(harness: Harness) -> None:
    _, created = _companion_create(harness, "alice", {"size": SIZE})
    uid, key = created["uploadId"], quote(created["key"], safe="")
    parts = [{"PartNumber": n, "ETag": f'"{n:032x}"'} for n in (1, 2, 3)]

    status, body = harness.call(
        "post", f"/s3/multipart/{uid}/complete?key={key}", "alice", {"parts": parts}
    )

    assert (status, body["error"]["code"]) == (400, "invalid_parts")


def test_companion_create_with_a_size_in_non_ascii_digits_is_refused(harness: Harness) -> None:
    status, body = _companion_create(harness, "alice", {"size": "²"})

    assert (status, body["error"]["code"]) == (400, "invalid_size")
    assert harness.multipart_uploads() == []


def _sign(h: Harness, user: str, **request: Any) -> dict[str, Any]:
    status, body = h.call("post", "/s3/sign", user, request)
    assert status == 200, body
    return dict(body)


FILE = {"name": "talk.mp4", "type": "video/mp4", "size": SIZE, "meta": {}}


def test_sign_request_carries_a_browser_created_multipart_upload_to_completed(
    harness: Harness,
) -> None:
    create = _sign(harness, "alice", method="POST", key="uppy-proposed-key", file=FILE)
    key = create["key"]
    assert key.startswith("uploads/alice/op_")
    answer = requests.post(create["url"], headers={"Content-Type": "video/mp4"}, timeout=10)
    upload_id = re.search(r"<UploadId>(.+?)</UploadId>", answer.text).group(1)  # type: ignore[union-attr]
    data = data_of(SIZE)
    etags = []
    for n in (1, 2):
        signed = _sign(harness, "alice", method="PUT", key=key, uploadId=upload_id, partNumber=n)
        put = requests.put(signed["url"], data=data[(n - 1) * CHUNK : n * CHUNK], timeout=10)
        etags.append(put.headers["ETag"])
    complete = _sign(harness, "alice", method="POST", key=key, uploadId=upload_id)
    xml = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        for n, etag in enumerate(etags, 1)
    )
    assert requests.post(
        complete["url"],
        data=f"<CompleteMultipartUpload>{xml}</CompleteMultipartUpload>",
        timeout=10,
    ).ok
    harness.deliver(harness.s3_messages())

    assert harness.publisher.types_on("user:alice") == ["upload.started", "upload.completed"]


def test_a_single_put_url_only_accepts_the_declared_length(harness: Harness) -> None:
    signed = _sign(harness, "alice", method="PUT", key="proposed", file={**FILE, "size": 1000})

    query = parse_qs(urlsplit(signed["url"]).query)
    # S3 refuses a body of any other length, so the URL cannot carry a bigger file
    # than the size checked against the limits (moto does not check signatures).
    assert "content-length" in query["X-Amz-SignedHeaders"][0].split(";")


def test_sign_request_carries_a_single_put_to_completed(harness: Harness) -> None:
    small = {**FILE, "size": 1000}
    signed = _sign(harness, "alice", method="PUT", key="proposed", file=small)

    assert requests.put(signed["url"], data=data_of(1000), timeout=10).ok
    harness.deliver(harness.s3_messages())

    assert harness.publisher.types_on("user:alice") == ["upload.started", "upload.completed"]


def test_sign_request_will_not_bind_another_upload_id_once_bound(harness: Harness) -> None:
    key = _sign(harness, "alice", method="POST", key="k", file=FILE)["key"]
    _sign(harness, "alice", method="PUT", key=key, uploadId="first", partNumber=1)

    status, body = harness.call(
        "post",
        "/s3/sign",
        "alice",
        {"method": "PUT", "key": key, "uploadId": "second", "partNumber": 1},
    )

    assert (status, body["error"]["code"]) == (404, "upload_not_found")


def test_sign_request_refuses_to_sign_object_reads_and_deletes(harness: Harness) -> None:
    answers = [
        harness.call("post", "/s3/sign", "alice", {"method": method, "key": "uploads/alice/x"})[1]
        for method in ("GET", "DELETE")
    ]

    assert [a["error"]["code"] for a in answers] == ["unsupported_request"] * 2


def test_companion_signs_exactly_one_part_on_the_single_part_route(harness: Harness) -> None:
    _, created = _companion_create(harness, "alice", {"size": SIZE})
    uid, key = created["uploadId"], quote(created["key"], safe="")

    status, body = harness.call("get", f"/s3/multipart/{uid}/1,2?key={key}", "alice")

    assert (status, body["error"]["code"]) == (400, "invalid_part_number")


def test_sign_request_refuses_a_part_past_the_declared_count(harness: Harness) -> None:
    key = _sign(harness, "alice", method="POST", key="k", file=FILE)["key"]
    signed = _sign(harness, "alice", method="PUT", key=key, uploadId="bound", partNumber=2)
    assert "content-length" in _signed_length(signed["url"])[1].split(";")

    status, body = harness.call(
        "post",
        "/s3/sign",
        "alice",
        {"method": "PUT", "key": key, "uploadId": "bound", "partNumber": 3},
    )

    assert (status, body["error"]["code"]) == (400, "invalid_part_number")
