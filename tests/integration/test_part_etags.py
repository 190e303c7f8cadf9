"""A part's ETag is checked before anything is written, on both complete
routes: one with a control character or NUL is a 400 and the upload stays
open (`uploading`), so the real parts can still complete it. Before, S3's
XML request failed on it as a 503 and left the upload in `completing`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.uploads_kit import MIB, Harness, data_of, harness_fixture  # noqa: F401

pytestmark = pytest.mark.integration

BAD_ETAGS = ['"abc\x00def"', '"abc\x01"', "abc\n", '"a b"', "\x7f"]


def _status(harness: Harness, operation_id: str) -> str:
    status, upload = harness.call("get", f"/uploads/{operation_id}", "alice")
    assert status == 200
    return str(upload["status"])


@pytest.mark.parametrize("etag", BAD_ETAGS)
def test_a_bad_etag_on_the_rest_complete_route_is_400_and_the_upload_stays_open(
    harness: Harness, etag: str
) -> None:
    upload = harness.start("alice", MIB)
    parts = harness.put_parts("alice", upload, data_of(MIB))
    op = upload["operationId"]

    status, error = harness.call(
        "post", f"/uploads/{op}/complete", "alice", {"parts": [{"partNumber": 1, "etag": etag}]}
    )

    assert status == 400, error
    assert error["error"]["code"] == "validation_error"
    assert error["error"]["details"][0]["field"] == "parts.0.etag"
    assert _status(harness, op) == "uploading"
    status, _ = harness.call("post", f"/uploads/{op}/complete", "alice", {"parts": parts})
    assert status == 202


@pytest.mark.parametrize("etag", BAD_ETAGS)
def test_a_bad_etag_on_the_companion_complete_route_is_400_and_the_upload_stays_open(
    harness: Harness, etag: str
) -> None:
    status, created = harness.call(
        "post",
        "/s3/multipart",
        "alice",
        {"filename": "talk.mp4", "type": "video/mp4", "metadata": {"size": MIB}},
    )
    assert status == 200
    uid, key = created["uploadId"], quote(created["key"], safe="")
    complete = f"/s3/multipart/{uid}/complete?key={key}"

    status, error = harness.call(
        "post", complete, "alice", {"parts": [{"PartNumber": 1, "ETag": etag}]}
    )

    assert status == 400, error
    assert error["error"]["details"][0]["field"] == "parts.0.ETag"
    _, active = harness.call("get", "/uploads?status=active", "alice")
    statuses: list[Any] = [u["status"] for u in active["uploads"]]
    assert statuses == ["uploading"]
