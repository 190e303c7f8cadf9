"""Linking through the routes against moto, and the issue's acceptance checks:
concurrent links, the chapter in the event equals the chapter a GET returns,
stale versions, who may link."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.linking import LinkService
from chalicelib.services import Container
from chalicelib.settings import get_settings
from tests.fakes import InMemoryPublisher
from tests.integration.course_kit import (
    add_media,
    atomic_moto,
    body,
    call,
    error_code,
    publisher,
)

pytestmark = pytest.mark.integration
__all__ = ["atomic_moto", "publisher"]


@pytest.fixture
def course(client: Any, publisher: InMemoryPublisher) -> tuple[str, str]:
    """A course (olga owner, eddie editor, vera viewer) with one chapter."""
    course_id = str(body(call(client, "POST", "/courses", "olga", {"title": "Bio"}))["courseId"])
    call(client, "PUT", f"/courses/{course_id}/members/eddie", "olga", {"role": "editor"})
    call(client, "PUT", f"/courses/{course_id}/members/vera", "olga", {"role": "viewer"})
    chapter = body(call(client, "POST", f"/courses/{course_id}/chapters", "olga", {"title": "C"}))
    publisher.sent.clear()
    return course_id, str(chapter["chapterId"])


def media_path(course: tuple[str, str], media_id: str) -> str:
    return f"/courses/{course[0]}/chapters/{course[1]}/media/{media_id}"


def chapters(client: Any, course_id: str) -> list[dict[str, Any]]:
    return list(body(call(client, "GET", f"/courses/{course_id}/chapters", "olga"))["chapters"])


def test_a_link_answers_the_chapter_with_the_new_item(client: Any, course: tuple[str, str]) -> None:
    add_media("m_1", "eddie")
    response = call(client, "PUT", media_path(course, "m_1"), "eddie", {})
    assert response.status_code == 200
    chapter = body(response)
    assert [i["mediaId"] for i in chapter["items"]] == ["m_1"]
    assert chapter["version"] == 2


def test_the_chapter_in_the_event_equals_the_chapter_a_get_returns(
    client: Any, course: tuple[str, str], publisher: InMemoryPublisher
) -> None:
    add_media("m_1", "eddie")
    call(client, "PUT", media_path(course, "m_1"), "eddie")
    linked, updated = publisher.on(f"course:{course[0]}")
    listed = chapters(client, course[0])[0]
    assert (linked.type, updated.type) == ("media.linked", "chapter.updated")
    assert updated.wire()["data"]["chapter"] == listed
    assert linked.wire()["data"]["chapter"] == listed


def test_linking_again_answers_200_and_publishes_nothing(
    client: Any, course: tuple[str, str], publisher: InMemoryPublisher
) -> None:
    add_media("m_1", "eddie")
    first = body(call(client, "PUT", media_path(course, "m_1"), "eddie"))
    sent = len(publisher.sent)
    again = call(client, "PUT", media_path(course, "m_1"), "eddie")
    assert again.status_code == 200
    assert body(again) == first
    assert len(publisher.sent) == sent


def test_a_position_puts_the_item_first(client: Any, course: tuple[str, str]) -> None:
    add_media("m_1", "eddie")
    add_media("m_2", "eddie")
    call(client, "PUT", media_path(course, "m_1"), "eddie")
    chapter = body(call(client, "PUT", media_path(course, "m_2"), "eddie", {"position": 0}))
    assert [i["mediaId"] for i in chapter["items"]] == ["m_2", "m_1"]


def test_a_viewer_cannot_link(client: Any, course: tuple[str, str]) -> None:
    add_media("m_1", "vera")
    response = call(client, "PUT", media_path(course, "m_1"), "vera")
    assert response.status_code == 403
    assert chapters(client, course[0])[0]["items"] == []


def test_a_non_member_cannot_link(client: Any, course: tuple[str, str]) -> None:
    add_media("m_1", "mallory")
    response = call(client, "PUT", media_path(course, "m_1"), "mallory")
    assert response.status_code == 404
    assert error_code(response) == "course_not_found"


def test_an_editor_cannot_link_someone_elses_media(client: Any, course: tuple[str, str]) -> None:
    add_media("m_1", "olga")
    response = call(client, "PUT", media_path(course, "m_1"), "eddie")
    assert response.status_code == 404
    assert error_code(response) == "media_not_found"


def test_a_linked_media_file_cannot_be_deleted(client: Any, course: tuple[str, str]) -> None:
    add_media("m_1", "eddie")
    call(client, "PUT", media_path(course, "m_1"), "eddie")
    response = call(client, "DELETE", "/media/m_1", "eddie")
    assert response.status_code == 409
    assert error_code(response) == "media_linked"


def test_after_an_unlink_the_media_file_can_be_deleted(
    client: Any, course: tuple[str, str]
) -> None:
    add_media("m_1", "eddie")
    call(client, "PUT", media_path(course, "m_1"), "eddie")
    unlinked = call(client, "DELETE", media_path(course, "m_1"), "olga")
    assert unlinked.status_code == 200
    assert body(unlinked)["items"] == []
    assert call(client, "DELETE", "/media/m_1", "eddie").status_code == 204


def test_an_unlink_publishes_media_unlinked_and_chapter_updated(
    client: Any, course: tuple[str, str], publisher: InMemoryPublisher
) -> None:
    add_media("m_1", "eddie")
    call(client, "PUT", media_path(course, "m_1"), "eddie")
    publisher.sent.clear()
    call(client, "DELETE", media_path(course, "m_1"), "eddie")
    assert publisher.types_on(f"course:{course[0]}") == ["media.unlinked", "chapter.updated"]
    assert publisher.types_on("user:eddie") == ["media.unlinked"]


def test_media_shows_where_it_is_linked(client: Any, course: tuple[str, str]) -> None:
    add_media("m_1", "eddie")
    call(client, "PUT", media_path(course, "m_1"), "eddie")
    media = body(call(client, "GET", "/media/m_1", "eddie"))
    assert media["links"] == [{"courseId": course[0], "chapterId": course[1]}]


def test_ten_links_at_once_each_land_exactly_once(
    client: Any, course: tuple[str, str], publisher: InMemoryPublisher, atomic_moto: None
) -> None:
    course_id, chapter_id = course
    media_ids = [f"m_{n}" for n in range(10)]
    for media_id in media_ids:
        add_media(media_id, "eddie")
    lost_races: list[float] = []

    def counted_sleep(seconds: float) -> None:
        lost_races.append(seconds)
        time.sleep(seconds)

    def linker() -> LinkService:
        # One container each, as concurrent Lambda invocations have; a sleep
        # that counts the optimistic races lost, to show the links really collided.
        return Container(get_settings(), delivery=publisher, sleep=counted_sleep).linker

    linkers = [linker() for _ in media_ids]
    start = threading.Barrier(len(media_ids))

    def link(n: int) -> int:
        start.wait()
        return linkers[n].link(course_id, chapter_id, media_ids[n], "eddie").version

    with ThreadPoolExecutor(max_workers=len(media_ids)) as pool:
        versions = list(pool.map(link, range(len(media_ids))))

    chapter = chapters(client, course_id)[0]
    assert lost_races, "the links did not overlap"
    assert sorted(i["mediaId"] for i in chapter["items"]) == media_ids
    assert sorted(versions) == list(range(2, 12))
    assert chapter["version"] == 11
    updates = [e for e in publisher.on(f"course:{course_id}") if e.type == "chapter.updated"]
    assert sorted(e.wire()["data"]["chapter"]["version"] for e in updates) == list(range(2, 12))
    last = max(updates, key=lambda e: e.wire()["data"]["chapter"]["version"])
    assert last.wire()["data"]["chapter"] == chapter
