"""Only the uploader may act on an upload, on every route of both families;
bad input is a 4xx and never reaches S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.services import container
from tests.conftest import auth
from tests.integration.uploads_kit import MIB, Harness, harness_fixture  # noqa: F401

SIZE = 17 * MIB


def _foreign_requests(upload: dict[str, Any]) -> list[tuple[str, str, Any]]:
    op, uid, key = upload["operationId"], upload["uploadId"], quote(upload["key"], safe="")
    return [
        ("get", f"/uploads/{op}", None),
        ("post", f"/uploads/{op}/parts", {"partNumbers": [1]}),
        ("post", f"/uploads/{op}/progress", {"bytesUploaded": 5}),
        ("post", f"/uploads/{op}/complete", {}),
        ("delete", f"/uploads/{op}", None),
        ("get", f"/s3/multipart/{uid}?key={key}", None),
        ("get", f"/s3/multipart/{uid}/batch?key={key}&partNumbers=1,2", None),
        ("get", f"/s3/multipart/{uid}/1?key={key}", None),
        (
            "post",
            f"/s3/multipart/{uid}/complete?key={key}",
            {"parts": [{"PartNumber": 1, "ETag": '"x"'}]},
        ),
        ("delete", f"/s3/multipart/{uid}?key={key}", None),
        (
            "post",
            "/s3/sign",
            {"method": "PUT", "key": upload["key"], "uploadId": uid, "partNumber": 1},
        ),
        ("post", "/s3/sign", {"method": "GET", "key": upload["key"], "uploadId": uid}),
        ("post", "/s3/sign", {"method": "POST", "key": upload["key"], "uploadId": uid}),
        ("post", "/s3/sign", {"method": "DELETE", "key": upload["key"], "uploadId": uid}),
    ]


def test_another_user_gets_404_on_every_upload_route(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)

    answers = [
        (method, path, harness.call(method, path, "mallory", body))
        for method, path, body in _foreign_requests(upload)
    ]

    wrong = [
        (m, p, s)
        for m, p, (s, b) in answers
        if (s, b["error"]["code"]) != (404, "upload_not_found")
    ]
    assert wrong == []
    _status, still = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert (still["status"], still["bytesUploaded"]) == ("uploading", 0)
    assert len(harness.multipart_uploads()) == 1


def test_the_uploader_reaches_the_same_routes(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    reads = [r for r in _foreign_requests(upload) if r[0] == "get" or "parts" in r[1]]

    statuses = [harness.call(method, path, "alice", body)[0] for method, path, body in reads]

    assert statuses == [200] * len(reads)


@pytest.fixture
def s3_calls(harness: Harness) -> Iterator[list[str]]:
    """Every S3 API call the app's own client makes (presigning is not a call)."""
    calls: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        calls.append(event_name)

    client = container().aws.s3
    client.meta.events.register("before-send.s3", record)
    yield calls
    client.meta.events.unregister("before-send.s3", record)


def _start(h: Harness, body: Any) -> tuple[int, Any]:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = h.client.http.post("/uploads", headers=auth("alice"), body=raw)
    return response.status_code, json.loads(response.body)


def _new(**overrides: Any) -> dict[str, Any]:
    body = {
        "filename": "a.mp4",
        "contentType": "video/mp4",
        "size": SIZE,
        "target": {"type": "library"},
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (_new(size=0), 400, "invalid_size"),
        (_new(size=-1), 400, "invalid_size"),
        (_new(size=60 * 1024**3), 413, "upload_too_large"),
        (_new(contentType="application/x-msdownload"), 400, "unsupported_type"),
        (_new(size="17"), 400, "validation_error"),
        (_new(size=1.5), 400, "validation_error"),
        (_new(filename=""), 400, "validation_error"),
        (_new(filename="x" * 256), 400, "validation_error"),
        (_new(target={"type": "chapter"}), 400, "validation_error"),
        (_new(target={"type": "elsewhere"}), 400, "validation_error"),
        (_new(extra=1), 400, "validation_error"),
        ({"filename": "a.mp4"}, 400, "validation_error"),
        ("[1, 2]", 400, "validation_error"),
        ("{not json", 400, "validation_error"),
        (
            _new(target={"type": "chapter", "courseId": "c_none", "chapterId": "ch_none"}),
            404,
            "course_not_found",
        ),
    ],
    ids=[
        "size-0",
        "size-negative",
        "size-over-limit",
        "disallowed-type",
        "size-string",
        "size-float",
        "empty-filename",
        "long-filename",
        "chapter-without-ids",
        "unknown-target",
        "unknown-field",
        "missing-fields",
        "array-body",
        "not-json",
        "unknown-course",
    ],
)
def test_an_invalid_new_upload_is_refused_before_s3_is_touched(
    harness: Harness, s3_calls: list[str], body: Any, status: int, code: str
) -> None:
    answer, error = _start(harness, body)

    assert answer == status
    assert error["error"]["code"] == code
    assert s3_calls == []
    assert harness.multipart_uploads() == []


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/parts", {"partNumbers": [0]}, 400, "invalid_part_number"),
        ("/parts", {"partNumbers": [10001]}, 400, "invalid_part_number"),
        ("/parts", {"partNumbers": [4]}, 400, "invalid_part_number"),
        ("/parts", {"partNumbers": []}, 400, "validation_error"),
        ("/parts", {"partNumbers": list(range(1, 102))}, 400, "validation_error"),
        ("/parts", {"partNumbers": ["1"]}, 400, "validation_error"),
        ("/progress", {"bytesUploaded": -1}, 400, "validation_error"),
        ("/progress", {"bytesUploaded": SIZE + 1}, 400, "invalid_progress"),
        ("/progress", {}, 400, "validation_error"),
        ("/complete", {"parts": [{"partNumber": 0, "etag": "x"}]}, 400, "validation_error"),
        ("/complete", {"parts": [{"partNumber": 4, "etag": "x"}]}, 400, "invalid_parts"),
        ("/complete", {"parts": "all"}, 400, "validation_error"),
    ],
    ids=[
        "part-0",
        "part-10001",
        "part-past-count",
        "no-parts",
        "too-many-parts",
        "part-string",
        "progress-negative",
        "progress-past-size",
        "progress-missing",
        "complete-part-0",
        "complete-part-past-count",
        "complete-parts-string",
    ],
)
def test_invalid_input_on_an_upload_is_refused_before_s3_is_touched(
    harness: Harness, s3_calls: list[str], path: str, body: Any, status: int, code: str
) -> None:
    upload = harness.start("alice", SIZE)
    s3_calls.clear()

    answer, error = harness.call("post", f"/uploads/{upload['operationId']}{path}", "alice", body)

    assert (answer, error["error"]["code"]) == (status, code)
    assert s3_calls == []
    _status_now, state = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    assert (state["status"], state["bytesUploaded"], state["parts"]) == ("uploading", 0, [])


def test_an_unknown_operation_is_404_and_never_reaches_s3(
    harness: Harness, s3_calls: list[str]
) -> None:
    answers = [
        harness.call(method, path.replace("{op}", "op_0123456789abcdef"), "alice", body)
        for method, path, body in [
            ("get", "/uploads/{op}", None),
            ("post", "/uploads/{op}/parts", {"partNumbers": [1]}),
            ("post", "/uploads/{op}/progress", {"bytesUploaded": 1}),
            ("post", "/uploads/{op}/complete", {}),
            ("delete", "/uploads/{op}", None),
            ("get", "/uploads/not-an-operation", None),
            # Longer than a DynamoDB key may be: refused before it gets there.
            ("get", "/uploads/op_" + "a" * 3000, None),
            ("post", "/uploads/op_" + "a" * 3000 + "/progress", {"bytesUploaded": 1}),
        ]
    ]

    assert {(s, b["error"]["code"]) for s, b in answers} == {(404, "upload_not_found")}
    assert s3_calls == []


def test_a_chapter_target_with_ids_no_course_can_have_is_400_before_s3(
    harness: Harness, s3_calls: list[str]
) -> None:
    target = {"type": "chapter", "courseId": "c" * 2000, "chapterId": "ch_1"}

    status, body = harness.call("post", "/uploads", "alice", _new(target=target))

    assert (status, body["error"]["code"]) == (400, "validation_error")
    assert "target.chapter.courseId" in [d["field"] for d in body["error"]["details"]]
    assert s3_calls == []


def test_uploads_need_a_token(harness: Harness) -> None:
    response = harness.client.http.post("/uploads", body=json.dumps(_new()))

    assert response.status_code == 401
