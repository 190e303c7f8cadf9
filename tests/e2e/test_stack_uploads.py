"""Uploads end to end on the local stack: presigned PUTs straight to moto's S3,
the S3 event through SQS to the app's handler, and the events a subscriber sees."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Socket, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

OpenSocket = Callable[..., Socket]
PAYLOAD = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
# The S3 event crosses SQS and the poller's long poll before the handler runs.
EVENT_TIMEOUT = 15.0


def upload(stack: Stack, user: str, target: dict[str, Any], name: str = "clip.mp4") -> str:
    """Start, PUT and complete a one-part upload; return its operation id."""
    body = {"filename": name, "contentType": "video/mp4", "size": len(PAYLOAD), "target": target}
    started = stack.call("POST", "/uploads", user, body)
    assert started.status_code == 201, started.text
    operation_id = str(started.json()["operationId"])
    urls = stack.call("POST", f"/uploads/{operation_id}/parts", user, {"partNumbers": [1]})
    assert urls.status_code == 200, urls.text
    put = requests.put(urls.json()["urls"]["1"], data=PAYLOAD, timeout=10)
    assert put.status_code == 200, put.text
    assert put.headers["ETag"]
    done = stack.call("POST", f"/uploads/{operation_id}/complete", user, {})
    assert done.status_code == 202, done.text
    return operation_id


def of_type(kind: str, operation_id: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def match(message: dict[str, Any]) -> bool:
        same_op = operation_id is None or message.get("operationId") == operation_id
        return message.get("type") == kind and same_op

    return match


def test_part_url_answers_a_browser_preflight_and_exposes_the_etag(stack: Stack) -> None:
    body = {
        "filename": "a.mp4",
        "contentType": "video/mp4",
        "size": 10,
        "target": {"type": "library"},
    }
    operation_id = stack.call("POST", "/uploads", "uma", body).json()["operationId"]
    url = stack.call("POST", f"/uploads/{operation_id}/parts", "uma", {"partNumbers": [1]}).json()[
        "urls"
    ]["1"]
    preflight = requests.options(
        url,
        headers={"Origin": stack.base_url, "Access-Control-Request-Method": "PUT"},
        timeout=5,
    )
    assert preflight.status_code == 200
    assert "ETag" in preflight.headers.get("Access-Control-Expose-Headers", "")


def test_library_upload_completes_for_the_uploader(stack: Stack, ws: OpenSocket) -> None:
    sock = ws("uma")
    operation_id = upload(stack, "uma", {"type": "library"})
    completed = sock.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)
    media_id = completed["data"]["media"]["mediaId"]
    listed = stack.call("GET", "/media", "uma").json()["items"]
    assert media_id in [item["mediaId"] for item in listed]
    assert stack.call("GET", f"/uploads/{operation_id}", "uma").json()["status"] == "completed"


def test_chapter_upload_shows_up_for_a_course_subscriber(stack: Stack, ws: OpenSocket) -> None:
    course_id = stack.call("POST", "/courses", "vera", {"title": "Uploads"}).json()["courseId"]
    stack.call("PUT", f"/courses/{course_id}/members/walt", "vera", {"role": "editor"})
    chapter = stack.call("POST", f"/courses/{course_id}/chapters", "vera", {"title": "One"}).json()
    watcher = ws("walt")
    subscribed = watcher.subscribe(f"course:{course_id}")
    assert subscribed["type"] == "subscribed"
    target = {"type": "chapter", "courseId": course_id, "chapterId": chapter["chapterId"]}
    operation_id = upload(stack, "vera", target)
    watcher.recv_until(of_type("upload.started", operation_id), EVENT_TIMEOUT)
    watcher.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)
    updated = watcher.recv_until(of_type("chapter.updated"), EVENT_TIMEOUT)
    assert len(updated["data"]["chapter"]["items"]) == 1


def test_linking_library_media_updates_the_course_subscriber(stack: Stack, ws: OpenSocket) -> None:
    course_id = stack.call("POST", "/courses", "xena", {"title": "Links"}).json()["courseId"]
    stack.call("PUT", f"/courses/{course_id}/members/yuri", "xena", {"role": "editor"})
    chapter_id = stack.call(
        "POST", f"/courses/{course_id}/chapters", "xena", {"title": "Two"}
    ).json()["chapterId"]
    owner = ws("xena")
    operation_id = upload(stack, "xena", {"type": "library"})
    media_id = owner.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)["data"][
        "media"
    ]["mediaId"]
    watcher = ws("yuri")
    watcher.subscribe(f"course:{course_id}")
    linked = stack.call(
        "PUT", f"/courses/{course_id}/chapters/{chapter_id}/media/{media_id}", "xena", {}
    )
    assert linked.status_code == 200, linked.text
    event = watcher.recv_until(of_type("media.linked"), EVENT_TIMEOUT)
    assert event["data"]["media"]["mediaId"] == media_id
    assert f"/courses/{course_id}/chapters" in event["resources"]


def test_a_completed_upload_reaches_the_s3_event_handler_once(stack: Stack, ws: OpenSocket) -> None:
    # S3 sends one ObjectCreated:CompleteMultipartUpload per assembled upload;
    # the local stack must not add a second (moto also announced its inner put).
    sock = ws("ursa")
    operation_id = upload(stack, "ursa", {"type": "library"})
    sock.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)
    time.sleep(2.5)  # past the poller's next receive: a second event would be in by now

    handled = [
        line
        for line in stack.output().splitlines()
        if operation_id in line
        and ('"object created"' in line or '"object event for a closed upload"' in line)
    ]
    assert len(handled) == 1, handled
    assert '"outcome":"completed"' in handled[0]
