"""The processing step against moto: an upload completes, its media file goes
to the processing queue, and the processing Lambda reads it and commits the
outcome with `media.updated` to the owner and the courses holding it
(issue 11's acceptance, through the app's own handlers)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from chalicelib.domain.media import poster_key_for
from chalicelib.services import container
from tests.integration.uploads_kit import Harness, harness_fixture  # noqa: F401 - the fixture
from tests.media_files import VIDEO, ffmpeg, ffprobe, h264_mp4, needs_ffmpeg

pytestmark = needs_ffmpeg


@pytest.fixture(scope="module")
def lecture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return h264_mp4(tmp_path_factory.mktemp("media") / "lecture.mp4", 60)


def _media(h: Harness, upload: dict[str, Any], user: str) -> dict[str, Any]:
    status, done = h.call("get", f"/uploads/{upload['operationId']}", user)
    assert status == 200
    status, media = h.call("get", f"/media/{done['mediaId']}", user)
    assert status == 200, media
    return dict(media)


def _course_with_members(h: Harness) -> dict[str, str]:
    target = h.chapter_target("alice")
    for user, role in (("erin", "editor"), ("victor", "viewer")):
        status, _ = h.call(
            "put", f"/courses/{target['courseId']}/members/{user}", "alice", {"role": role}
        )
        assert status == 200
    return target


def test_a_60_second_mp4_in_a_chapter_ends_ready_with_its_metadata_and_poster(
    harness: Harness, lecture: Path
) -> None:
    target = _course_with_members(harness)
    upload = harness.upload_file("alice", lecture.read_bytes(), target)
    assert _media(harness, upload, "alice")["status"] == "processing"

    answers = harness.process()

    assert answers == [{"batchItemFailures": []}]
    media = _media(harness, upload, "alice")
    expected = ffprobe(lecture)
    assert media["status"] == "ready"
    assert media["reason"] is None
    assert abs(media["durationSeconds"] - float(expected["format"]["duration"])) < 0.1
    assert (media["width"], media["height"]) == (320, 240)
    assert (media["videoCodec"], media["audioCodec"], media["hasPoster"]) == ("h264", "aac", True)
    poster = harness.s3.get_object(
        Bucket=harness.bucket, Key=poster_key_for("alice", media["mediaId"])
    )
    assert poster["ContentType"] == "image/jpeg"
    with av.open(io.BytesIO(poster["Body"].read()), mode="r") as image:
        assert next(image.decode(video=0)).width == 320

    # media.updated reaches the owner and the course; the chapter's new state
    # reaches the course, equal to what GET returns.
    course = f"course:{target['courseId']}"
    for channel in ("user:alice", course):
        updated = [e for e in harness.publisher.on(channel) if e.type == "media.updated"]
        assert len(updated) == 1, channel
        assert updated[0].wire()["data"]["media"]["durationSeconds"] == media["durationSeconds"]
        assert f"/media/{media['mediaId']}" in updated[0].resources
    chapter_events = [e for e in harness.publisher.on(course) if e.type == "chapter.updated"]
    path = f"/courses/{target['courseId']}/chapters/{target['chapterId']}"
    for reader in ("alice", "erin", "victor"):
        status, chapter = harness.call("get", path, reader)
        assert status == 200
        assert chapter_events[-1].wire()["data"]["chapter"] == chapter
    item = chapter_events[-1].wire()["data"]["chapter"]["items"][0]
    assert (item["durationSeconds"], item["width"], item["height"], item["hasPoster"]) == (
        media["durationSeconds"],
        320,
        240,
        True,
    )
    assert "Url" not in str(item)


def test_a_redelivered_message_changes_nothing(harness: Harness, lecture: Path) -> None:
    harness.upload_file("alice", lecture.read_bytes())
    messages = harness.processing_messages()
    harness.process(messages)
    sent = len(harness.publisher.sent)

    again = harness.process(messages, receive_count=2)

    assert again == [{"batchItemFailures": []}]
    assert len(harness.publisher.sent) == sent


def test_completing_queues_nothing_until_s3_reports_the_object(
    harness: Harness, lecture: Path
) -> None:
    data = lecture.read_bytes()
    upload = harness.start("alice", len(data))
    harness.put_parts("alice", upload, data)
    status, _ = harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})
    assert status == 202
    assert harness.processing_messages() == []

    harness.deliver(harness.s3_messages())

    assert len(harness.processing_messages()) == 1


def test_files_no_player_can_use_end_failed_with_a_reason(
    harness: Harness, lecture: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.mp4"
    ffmpeg(*VIDEO, "-frames:v", "0", "-c:v", "libx264", str(empty))
    whole = lecture.read_bytes()
    files = {
        "truncated": whole[: len(whole) // 2],
        "text": b"my lecture notes, not a video\n" * 200,
        "empty": empty.read_bytes(),
    }
    uploads = {name: harness.upload_file("alice", data) for name, data in files.items()}

    assert harness.process() == [{"batchItemFailures": []}] * 3

    reasons = {name: _media(harness, u, "alice") for name, u in uploads.items()}
    assert {name: (m["status"], m["reason"]) for name, m in reasons.items()} == {
        "truncated": ("failed", "unreadable"),
        "text": ("failed", "not_media"),
        "empty": ("failed", "no_duration"),
    }
    assert all(m["hasPoster"] is False and m["durationSeconds"] is None for m in reasons.values())
    assert container().media_store.get(reasons["text"]["mediaId"]) is not None


def test_members_get_the_poster_with_playback_and_no_one_else_does(
    harness: Harness, lecture: Path
) -> None:
    target = _course_with_members(harness)
    upload = harness.upload_file("alice", lecture.read_bytes(), target)
    path = f"/courses/{target['courseId']}/media/{_media(harness, upload, 'alice')['mediaId']}"
    status, before = harness.call("get", path + "/playback", "victor")
    assert (status, before["posterUrl"]) == (200, None)  # still processing: no poster yet
    harness.process()

    for member in ("alice", "erin", "victor"):
        status, playback = harness.call("get", path + "/playback", member)
        assert status == 200
        poster = requests.get(playback["posterUrl"], timeout=10)
        assert poster.status_code == 200
        with av.open(io.BytesIO(poster.content), mode="r") as image:
            assert next(image.decode(video=0)).height == 240

    status, refused = harness.call("get", path + "/playback", "mallory")
    assert (status, refused["error"]["code"]) == (404, "course_not_found")
    other = harness.chapter_target("mallory")
    elsewhere = f"/courses/{other['courseId']}/media/{path.rsplit('/', 1)[1]}/playback"
    status, refused = harness.call("get", elsewhere, "mallory")
    assert (status, refused["error"]["code"]) == (404, "media_not_found")


def test_deleting_a_processed_file_deletes_its_poster(harness: Harness, lecture: Path) -> None:
    upload = harness.upload_file("alice", lecture.read_bytes())
    harness.process()
    media_id = _media(harness, upload, "alice")["mediaId"]
    assert [o["Key"] for o in harness.objects() if o["Key"].startswith("posters/")]

    status, _ = harness.call("delete", f"/media/{media_id}", "alice")

    assert status == 204
    assert [o["Key"] for o in harness.objects()] == []


def test_a_link_that_read_the_file_before_processing_ended_shows_the_outcome(
    harness: Harness, lecture: Path
) -> None:
    upload = harness.upload_file("alice", lecture.read_bytes())
    media_id = _media(harness, upload, "alice")["mediaId"]
    target = harness.chapter_target("alice")
    read_before = container().media_store.get(media_id)
    assert read_before is not None
    assert read_before.status == "processing"
    harness.process()  # the outcome commits between the link's read and its write

    # The link's transaction holds on the status it read, so it reads again.
    linker = container().linker
    chapter = linker._link(target["courseId"], target["chapterId"], read_before, "alice", None)

    item = chapter.items[0]
    assert (item.status, item.has_poster, item.width) == ("ready", True, 320)
    status, stored = harness.call(
        "get", f"/courses/{target['courseId']}/chapters/{target['chapterId']}", "alice"
    )
    assert (status, stored["items"][0]["status"]) == (200, "ready")
