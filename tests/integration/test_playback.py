"""`GET /courses/{courseId}/media/{mediaId}/playback` against moto: every
member gets a URL for a file linked into the course, whoever uploaded it; a
non-member, or a file not linked into that course, gets 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import services
from tests.fakes import InMemoryPublisher
from tests.integration.course_kit import add_media, body, call, error_code, publisher

pytestmark = pytest.mark.integration
__all__ = ["publisher"]


@pytest.fixture
def course(client: Any, publisher: InMemoryPublisher) -> tuple[str, str]:
    """A course (olga owns, eddie edits, vera views) whose chapter holds eddie's m_1."""
    courses = services.container().courses
    course_id = courses.create_course("olga", "Biology").course_id
    courses.set_member(course_id, "olga", "eddie", "editor")
    courses.set_member(course_id, "olga", "vera", "viewer")
    chapter_id = courses.create_chapter(course_id, "olga", "Cells").chapter_id
    add_media("m_1", "eddie")
    services.container().linker.link(course_id, chapter_id, "m_1", "eddie")
    return course_id, chapter_id


def playback(client: Any, course_id: str, media_id: str, user: str) -> Any:
    return call(client, "GET", f"/courses/{course_id}/media/{media_id}/playback", user)


def test_every_member_gets_a_url_for_a_file_in_the_course(
    client: Any, course: tuple[str, str]
) -> None:
    course_id, _ = course
    c = services.container()
    for user in ("olga", "eddie", "vera"):
        before = datetime.now(UTC).replace(microsecond=0)
        answer = playback(client, course_id, "m_1", user)
        assert answer.status_code == 200, answer.body
        got = body(answer)
        assert set(got) == {"url", "contentType", "size", "expiresAt", "posterUrl"}
        assert (got["contentType"], got["size"], got["posterUrl"]) == ("video/mp4", 1234, None)
        url = urlsplit(got["url"])
        media = c.media_store.get("m_1")
        assert media is not None
        assert url.path.endswith(f"/{media.key}")
        query = parse_qs(url.query)
        expiry = c.settings.playback_url_expiry_seconds
        assert query["X-Amz-Expires"] == [str(expiry)]
        expires_at = datetime.fromisoformat(got["expiresAt"])
        assert before + timedelta(seconds=expiry) <= expires_at
        assert expires_at <= before + timedelta(seconds=expiry + 2)


def test_a_non_member_gets_404_course_not_found(client: Any, course: tuple[str, str]) -> None:
    answer = playback(client, course[0], "m_1", "mallory")
    assert (answer.status_code, error_code(answer)) == (404, "course_not_found")


def test_a_file_not_linked_into_the_course_is_404_for_its_members(
    client: Any, course: tuple[str, str]
) -> None:
    course_id, _ = course
    courses = services.container().courses
    other = courses.create_course("eddie", "Physics").course_id
    other_chapter = courses.create_chapter(other, "eddie", "Waves").chapter_id
    add_media("m_elsewhere", "eddie")
    services.container().linker.link(other, other_chapter, "m_elsewhere", "eddie")
    add_media("m_library", "vera")
    for media_id in ("m_elsewhere", "m_library", "m_nope"):
        answer = playback(client, course_id, media_id, "vera")
        assert (answer.status_code, error_code(answer)) == (404, "media_not_found"), media_id
    # A member of the other course cannot reach m_1 through it either.
    answer = playback(client, other, "m_1", "eddie")
    assert (answer.status_code, error_code(answer)) == (404, "media_not_found")


def test_an_unlinked_file_and_a_deleted_course_play_no_more(
    client: Any, course: tuple[str, str]
) -> None:
    course_id, chapter_id = course
    assert playback(client, course_id, "m_1", "vera").status_code == 200
    call(client, "DELETE", f"/courses/{course_id}/chapters/{chapter_id}/media/m_1", "olga")
    assert error_code(playback(client, course_id, "m_1", "vera")) == "media_not_found"
    call(client, "PUT", f"/courses/{course_id}/chapters/{chapter_id}/media/m_1", "eddie")
    assert playback(client, course_id, "m_1", "vera").status_code == 200
    assert call(client, "DELETE", f"/courses/{course_id}", "olga").status_code == 204
    assert error_code(playback(client, course_id, "m_1", "vera")) == "course_not_found"
