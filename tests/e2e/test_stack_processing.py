"""Processing on the local stack, as Lambda would run it: the ProcessMedia
handler off its own queue (devstack/poller.py). Files no player can use end in
a terminal status with a reason within 30 s, and the dead-letter queue stays
empty (issue 11's acceptance); a real video ends ready, and its owner and the
course holding it hear `media.updated`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_stack_uploads import OpenSocket
from tests.media_files import VIDEO, ffmpeg, h264_mp4, needs_ffmpeg

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack"), needs_ffmpeg]

TERMINAL_WITHIN_SECONDS = 30.0


def _upload(stack: Stack, user: str, data: bytes, target: dict[str, Any], name: str) -> str:
    body = {"filename": name, "contentType": "video/mp4", "size": len(data), "target": target}
    started = stack.call("POST", "/uploads", user, body)
    assert started.status_code == 201, started.text
    operation_id = str(started.json()["operationId"])
    urls = stack.call("POST", f"/uploads/{operation_id}/parts", user, {"partNumbers": [1]})
    put = requests.put(urls.json()["urls"]["1"], data=data, timeout=10)
    assert put.status_code == 200, put.text
    assert stack.call("POST", f"/uploads/{operation_id}/complete", user, {}).status_code == 202
    return operation_id


def _terminal(stack: Stack, user: str, operation_id: str, deadline: float) -> dict[str, Any]:
    while time.monotonic() < deadline:
        upload = stack.call("GET", f"/uploads/{operation_id}", user).json()
        if upload.get("mediaId"):
            media: dict[str, Any] = stack.call("GET", f"/media/{upload['mediaId']}", user).json()
            if media["status"] != "processing":
                return media
        time.sleep(0.1)
    raise AssertionError(f"{operation_id} was not processed within {TERMINAL_WITHIN_SECONDS} s")


def test_unusable_files_end_terminal_with_a_reason_and_the_dlq_stays_empty(
    stack: Stack, tmp_path: Path
) -> None:
    if "ProcessingQueue" not in {q["queue"] for q in stack.status()["pollers"]}:
        pytest.skip("the stack runs no processing handler")
    whole = h264_mp4(tmp_path / "whole.mp4", 4).read_bytes()
    empty = tmp_path / "empty.mp4"
    ffmpeg(*VIDEO, "-frames:v", "0", "-c:v", "libx264", str(empty))
    files = {
        "truncated.mp4": whole[: len(whole) // 2],
        "notes.mp4": b"my lecture notes, not a video\n" * 100,
        "empty.mp4": empty.read_bytes(),
    }
    library = {"type": "library"}
    started = time.monotonic()
    operations = {name: _upload(stack, "tess", data, library, name) for name, data in files.items()}

    deadline = started + TERMINAL_WITHIN_SECONDS
    ended = {name: _terminal(stack, "tess", op, deadline) for name, op in operations.items()}
    took = time.monotonic() - started

    assert {name: (m["status"], m["reason"]) for name, m in ended.items()} == {
        "truncated.mp4": ("failed", "unreadable"),
        "notes.mp4": ("failed", "not_media"),
        "empty.mp4": ("failed", "no_duration"),
    }, f"after {took:.2f} s"
    sqs = stack.aws("sqs")
    dlq = sqs.get_queue_url(QueueName="ProcessingDeadLetterQueue")["QueueUrl"]
    depth = sqs.get_queue_attributes(
        QueueUrl=dlq,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert depth == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_a_video_in_a_chapter_ends_ready_and_its_course_hears_it(
    stack: Stack, ws: OpenSocket, tmp_path: Path
) -> None:
    if "ProcessingQueue" not in {q["queue"] for q in stack.status()["pollers"]}:
        pytest.skip("the stack runs no processing handler")
    course_id = stack.call("POST", "/courses", "tess", {"title": "Processed"}).json()["courseId"]
    stack.call("PUT", f"/courses/{course_id}/members/uli", "tess", {"role": "viewer"})
    chapter = stack.call("POST", f"/courses/{course_id}/chapters", "tess", {"title": "One"}).json()
    owner, viewer = ws("tess"), ws("uli")
    viewer.subscribe(f"course:{course_id}")
    target = {"type": "chapter", "courseId": course_id, "chapterId": chapter["chapterId"]}
    data = h264_mp4(tmp_path / "clip.mp4", 3).read_bytes()

    operation_id = _upload(stack, "tess", data, target, "clip.mp4")

    def updated(message: dict[str, Any]) -> bool:
        # This upload's file: tess's user channel also carries the outcomes of
        # the files an earlier test left processing, whenever they end.
        media = (message.get("data") or {}).get("media") or {}
        return message.get("type") == "media.updated" and media.get("operationId") == operation_id

    mine = owner.recv_until(updated, TERMINAL_WITHIN_SECONDS)
    theirs = viewer.recv_until(updated, TERMINAL_WITHIN_SECONDS)
    assert mine["data"]["media"]["status"] == theirs["data"]["media"]["status"] == "ready"
    assert theirs["data"]["media"]["durationSeconds"] == pytest.approx(3.0, abs=0.1)
    refreshed = viewer.recv_until(
        lambda m: (
            m.get("type") == "chapter.updated"
            and m["data"]["chapter"]["items"]
            and m["data"]["chapter"]["items"][0]["status"] == "ready"
        ),
        TERMINAL_WITHIN_SECONDS,
    )
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    assert refreshed["data"]["chapter"] == stack.call("GET", path, "uli").json()
    media_id = mine["data"]["media"]["mediaId"]
    playback = stack.call("GET", f"/courses/{course_id}/media/{media_id}/playback", "uli").json()
    poster = requests.get(playback["posterUrl"], timeout=10)
    assert (poster.status_code, poster.content[:2]) == (200, b"\xff\xd8")
    assert stack.call("GET", f"/uploads/{operation_id}", "tess").json()["status"] == "completed"
