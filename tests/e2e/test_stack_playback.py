"""Playback on the local stack: a viewer of a course gets a URL for media in
one of its chapters, and the URL (a presigned GET through the S3 front to
moto) answers Range requests with 206 and exactly the bytes asked for, as a
<video> element seeking needs. Anyone else gets 404."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_stack_uploads import EVENT_TIMEOUT, PAYLOAD, OpenSocket, of_type, upload

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]


@pytest.fixture
def linked(stack: Stack, ws: OpenSocket) -> tuple[str, str, str]:
    """(courseId, the chapter upload's mediaId, a library file of the owner's mediaId)."""
    if not stack.status()["handlers"]["queues"]:
        pytest.skip("the app has no @app.on_sqs_message handler yet")
    course_id = stack.call("POST", "/courses", "pia", {"title": "Playback"}).json()["courseId"]
    stack.call("PUT", f"/courses/{course_id}/members/quin", "pia", {"role": "viewer"})
    chapter = stack.call("POST", f"/courses/{course_id}/chapters", "pia", {"title": "One"}).json()
    owner = ws("pia")
    target = {"type": "chapter", "courseId": course_id, "chapterId": chapter["chapterId"]}
    media_ids = []
    for where in (target, {"type": "library"}):
        operation_id = upload(stack, "pia", where)
        done = owner.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)
        media_ids.append(done["data"]["media"]["mediaId"])
    return course_id, media_ids[0], media_ids[1]


def test_a_viewer_plays_chapter_media_and_seeks_with_a_range_request(
    stack: Stack, linked: tuple[str, str, str]
) -> None:
    course_id, media_id, _ = linked
    path = f"/courses/{course_id}/media/{media_id}/playback"
    answer = stack.call("GET", path, "quin")
    for _ in range(50):  # the chapter link may follow the completion event
        if answer.status_code == 200:
            break
        time.sleep(0.1)
        answer = stack.call("GET", path, "quin")
    assert answer.status_code == 200, answer.text
    playback: dict[str, Any] = answer.json()
    assert set(playback) == {"url", "contentType", "size", "expiresAt", "posterUrl"}
    assert (playback["contentType"], playback["size"]) == ("video/mp4", len(PAYLOAD))
    assert playback["posterUrl"] is None

    ranged = requests.get(playback["url"], headers={"Range": "bytes=100-199"}, timeout=10)

    assert ranged.status_code == 206, ranged.text
    assert ranged.content == PAYLOAD[100:200]
    assert ranged.headers["Content-Range"] == f"bytes 100-199/{len(PAYLOAD)}"
    whole = requests.get(playback["url"], timeout=10)
    assert (whole.status_code, whole.content) == (200, PAYLOAD)


def test_playback_is_404_for_a_non_member_and_for_media_not_in_the_course(
    stack: Stack, linked: tuple[str, str, str]
) -> None:
    course_id, media_id, library_id = linked
    outsider = stack.call("GET", f"/courses/{course_id}/media/{media_id}/playback", "rex")
    assert (outsider.status_code, outsider.json()["error"]["code"]) == (404, "course_not_found")
    elsewhere = stack.call("GET", f"/courses/{course_id}/media/{library_id}/playback", "quin")
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (404, "media_not_found")
