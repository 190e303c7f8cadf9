"""A chapter upload is linked by the same code as a REST link: its course sees
the upload's events, then media.linked and chapter.updated, and duplicate S3
events change nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from chalicelib.services import container
from tests.integration.uploads_kit import MIB, Harness, data_of, harness_fixture

pytestmark = pytest.mark.integration
__all__ = ["harness_fixture"]

SIZE = MIB


@pytest.fixture
def chapter(harness: Harness) -> tuple[str, str]:
    courses = container().courses
    course_id = courses.create_course("olga", "Biology").course_id
    courses.set_member(course_id, "olga", "eddie", "editor")
    chapter_id = courses.create_chapter(course_id, "olga", "Cells").chapter_id
    harness.publisher.sent.clear()
    return course_id, chapter_id


def upload_into(harness: Harness, course_id: str, chapter_id: str) -> list[dict[str, Any]]:
    """Upload as eddie into the chapter; returns the S3 event messages delivered."""
    target = {"type": "chapter", "courseId": course_id, "chapterId": chapter_id}
    upload = harness.start("eddie", SIZE, target)
    harness.put_parts("eddie", upload, data_of(SIZE))
    status, _ = harness.call("post", f"/uploads/{upload['operationId']}/complete", "eddie", {})
    assert status == 202
    messages = harness.s3_messages()
    assert harness.deliver(messages) == {"batchItemFailures": []}
    return messages


def test_course_subscribers_see_the_upload_then_the_link_in_order(
    harness: Harness, chapter: tuple[str, str]
) -> None:
    course_id, chapter_id = chapter
    upload_into(harness, course_id, chapter_id)
    types = [t for t, _ in itertools.groupby(harness.publisher.types_on(f"course:{course_id}"))]
    assert types == [
        "upload.started",
        "upload.progress",
        "upload.completed",
        "media.linked",
        "chapter.updated",
    ]


def test_the_uploaded_file_is_in_the_chapter_as_the_event_says(
    harness: Harness, chapter: tuple[str, str]
) -> None:
    course_id, chapter_id = chapter
    upload_into(harness, course_id, chapter_id)
    [updated] = [e for e in harness.publisher.sent if e.type == "chapter.updated"]
    status, listed = harness.call("get", f"/courses/{course_id}/chapters", "olga")
    assert status == 200
    assert updated.wire()["data"]["chapter"] == listed["chapters"][0]
    [item] = listed["chapters"][0]["items"]
    assert (item["filename"], item["size"], item["addedBy"]) == ("Lecture 1.mp4", SIZE, "eddie")


def test_redelivered_s3_events_change_nothing(harness: Harness, chapter: tuple[str, str]) -> None:
    course_id, chapter_id = chapter
    messages = upload_into(harness, course_id, chapter_id)
    before = container().courses.get_chapter(course_id, chapter_id)
    sent = len(harness.publisher.sent)
    assert harness.deliver(messages) == {"batchItemFailures": []}
    assert container().courses.get_chapter(course_id, chapter_id) == before
    assert len(harness.publisher.sent) == sent
