"""The routes a front end starts from and the ones that take things away:
`GET /courses`, `GET /courses/{courseId}/members`, `PATCH /courses/{courseId}`,
`DELETE /courses/{courseId}/chapters/{chapterId}` and `DELETE /courses/{courseId}`,
through chalice.test.Client against moto."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib import services
from chalicelib.channels import course_channel, user_channel
from chalicelib.events import ChapterData, ChapterUpdated
from chalicelib.models import ChapterItem, MediaLink
from tests.conftest import token_for
from tests.fakes import (
    EVENT_AT,
    FakeConnectionsApi,
    FakeWebsocketGateway,
    InMemoryPublisher,
    assert_valid_events,
    media_file,
)
from tests.integration.course_kit import T0, add_media, body, call, error_code, publisher

pytestmark = pytest.mark.integration
__all__ = ["publisher"]


@dataclass
class Course:
    course_id: str
    chapter_id: str
    other_chapter_id: str


def _course(client: Any, title: str = "Biology") -> Course:
    """olga owns it, eddie edits, vera views; two chapters, the first holding
    two of eddie's files and one of olga's (which the second holds too)."""
    courses = services.container().courses
    linker = services.container().linker
    course_id = courses.create_course("olga", title).course_id
    courses.set_member(course_id, "olga", "eddie", "editor")
    courses.set_member(course_id, "olga", "vera", "viewer")
    chapter = courses.create_chapter(course_id, "olga", "Cells").chapter_id
    other = courses.create_chapter(course_id, "olga", "Tissues").chapter_id
    for media_id, owner in ((f"m_e1{title}", "eddie"), (f"m_e2{title}", "eddie")):
        add_media(media_id, owner)
        linker.link(course_id, chapter, media_id, owner)
    add_media(f"m_o1{title}", "olga")
    linker.link(course_id, chapter, f"m_o1{title}", "olga")
    linker.link(course_id, other, f"m_o1{title}", "olga")
    return Course(course_id, chapter, other)


@pytest.fixture
def course(client: Any, publisher: InMemoryPublisher) -> Course:
    return _course(client)


def links_of(media_id: str) -> list[MediaLink]:
    media = services.container().media_store.get(media_id)
    assert media is not None, "the file left its owner's library"
    return media.links


def course_ids(client: Any, user: str) -> list[str]:
    response = call(client, "GET", "/courses", user)
    assert response.status_code == 200, response.body
    return [c["courseId"] for c in body(response)["courses"]]


# ---- GET /courses -----------------------------------------------------------


def test_the_course_list_holds_exactly_the_callers_courses_with_their_role(
    client: Any, publisher: InMemoryPublisher
) -> None:
    biology = _course(client, "Biology")
    courses = services.container().courses
    physics = courses.create_course("eddie", "Physics").course_id
    courses.create_course("mallory", "Secret")

    listed = body(call(client, "GET", "/courses", "eddie"))

    assert [(c["courseId"], c["title"], c["role"]) for c in listed["courses"]] == [
        (physics, "Physics", "owner"),
        (biology.course_id, "Biology", "editor"),
    ]
    assert listed["nextToken"] is None
    assert course_ids(client, "vera") == [biology.course_id]
    assert course_ids(client, "nobody") == []


def test_a_renamed_course_comes_first_in_every_members_list(
    client: Any, publisher: InMemoryPublisher
) -> None:
    older = _course(client, "Older")
    newer = _course(client, "Newer")
    assert course_ids(client, "vera") == [newer.course_id, older.course_id]

    renamed = call(
        client, "PATCH", f"/courses/{older.course_id}", "eddie", {"title": "Old", "version": 1}
    )

    assert renamed.status_code == 200, renamed.body
    for user in ("olga", "eddie", "vera"):
        assert course_ids(client, user) == [older.course_id, newer.course_id], user


def test_the_course_list_pages_with_signed_tokens(
    client: Any, publisher: InMemoryPublisher
) -> None:
    courses = services.container().courses
    made = [courses.create_course("olga", f"Course {n}").course_id for n in range(5)]

    seen: list[str] = []
    url = "/courses?limit=2"
    while True:
        page = body(call(client, "GET", url, "olga"))
        assert len(page["courses"]) <= 2
        seen += [c["courseId"] for c in page["courses"]]
        if page["nextToken"] is None:
            break
        url = f"/courses?limit=2&nextToken={page['nextToken']}"

    assert seen == list(reversed(made))
    token = body(call(client, "GET", "/courses?limit=2", "olga"))["nextToken"]
    for user, bad in (("eddie", token), ("olga", token[:-2] + "AA"), ("olga", "garbage")):
        refused = call(client, "GET", f"/courses?nextToken={bad}", user)
        assert refused.status_code == 400
        assert error_code(refused) == "invalid_next_token"


def test_a_library_token_does_not_continue_the_course_list(
    client: Any, publisher: InMemoryPublisher
) -> None:
    for n in range(3):
        add_media(f"m_{n}", "olga", minutes=n)
    library_token = body(call(client, "GET", "/media?limit=1", "olga"))["nextToken"]
    assert library_token

    refused = call(client, "GET", f"/courses?nextToken={library_token}", "olga")

    assert refused.status_code == 400
    assert error_code(refused) == "invalid_next_token"


# ---- members and PATCH -------------------------------------------------------


def test_any_member_lists_the_members_owners_first(client: Any, course: Course) -> None:
    for user in ("olga", "eddie", "vera"):
        response = call(client, "GET", f"/courses/{course.course_id}/members", user)
        assert body(response) == {
            "members": [
                {"userId": "olga", "role": "owner"},
                {"userId": "eddie", "role": "editor"},
                {"userId": "vera", "role": "viewer"},
            ]
        }
    outsider = call(client, "GET", f"/courses/{course.course_id}/members", "mallory")
    assert (outsider.status_code, error_code(outsider)) == (404, "course_not_found")


def test_a_rename_publishes_the_full_course_as_get_returns_it(
    client: Any, course: Course, publisher: InMemoryPublisher
) -> None:
    path = f"/courses/{course.course_id}"
    before = body(call(client, "GET", path, "vera"))

    renamed = call(client, "PATCH", path, "eddie", {"title": "  Cell biology ", "version": 1})

    assert renamed.status_code == 200
    current = body(call(client, "GET", path, "vera"))
    assert body(renamed) == current
    assert (current["title"], current["version"]) == ("Cell biology", 2)
    assert current["updatedAt"] > before["updatedAt"]
    assert current["chapters"] == before["chapters"]
    [event] = publisher.on(course_channel(course.course_id))[-1:]
    assert event.type == "course.updated"
    assert event.wire()["data"] == {"course": current}
    assert event.resources == ["/courses", path]
    assert_valid_events([event.wire()])


def test_a_rename_from_a_stale_version_is_409_and_changes_nothing(
    client: Any, course: Course, publisher: InMemoryPublisher
) -> None:
    path = f"/courses/{course.course_id}"
    call(client, "PATCH", path, "olga", {"title": "First", "version": 1})
    sent = len(publisher.sent)

    stale = call(client, "PATCH", path, "eddie", {"title": "Second", "version": 1})

    assert stale.status_code == 409
    assert body(stale)["error"]["code"] == "version_conflict"
    assert body(stale)["error"]["details"] == [{"expected": 1, "current": 2}]
    assert body(call(client, "GET", path, "olga"))["title"] == "First"
    assert len(publisher.sent) == sent


def test_a_patch_without_a_title_is_400(client: Any, course: Course) -> None:
    response = call(client, "PATCH", f"/courses/{course.course_id}", "olga", {"version": 1})
    assert (response.status_code, error_code(response)) == (400, "empty_patch")


# ---- DELETE a chapter ----------------------------------------------------------


def test_deleting_a_chapter_unlinks_its_files_which_stay_in_their_libraries(
    client: Any, course: Course, publisher: InMemoryPublisher
) -> None:
    path = f"/courses/{course.course_id}/chapters/{course.chapter_id}"
    chapter = body(call(client, "GET", path, "olga"))
    publisher.sent.clear()

    deleted = call(client, "DELETE", path, "eddie")

    assert deleted.status_code == 204
    gone = call(client, "GET", path, "olga")
    assert (gone.status_code, error_code(gone)) == (404, "chapter_not_found")
    assert links_of("m_e1Biology") == []
    assert links_of("m_e2Biology") == []
    # olga's file is still in the other chapter, and only there.
    assert links_of("m_o1Biology") == [
        MediaLink(course_id=course.course_id, chapter_id=course.other_chapter_id)
    ]
    assert [m["mediaId"] for m in body(call(client, "GET", "/media", "eddie"))["items"]] == [
        "m_e2Biology",
        "m_e1Biology",
    ]
    on_course = publisher.on(course_channel(course.course_id))
    assert [e.type for e in on_course] == ["media.unlinked"] * 3 + ["chapter.deleted"]
    assert on_course[-1].wire()["data"] == {"chapter": chapter}
    assert on_course[-1].resources == [
        f"/courses/{course.course_id}",
        f"/courses/{course.course_id}/chapters",
        path,
    ]
    to_eddie = publisher.on(user_channel("eddie"))
    assert [e.wire()["data"]["media"]["mediaId"] for e in to_eddie] == [
        "m_e1Biology",
        "m_e2Biology",
    ]
    assert all(e.wire()["data"]["media"]["links"] == [] for e in to_eddie)
    assert_valid_events([e.wire() for e in publisher.sent])


def test_a_viewer_cannot_delete_a_chapter_and_nothing_changes(
    client: Any, course: Course, publisher: InMemoryPublisher
) -> None:
    path = f"/courses/{course.course_id}/chapters/{course.chapter_id}"
    sent = len(publisher.sent)

    refused = call(client, "DELETE", path, "vera")

    assert (refused.status_code, error_code(refused)) == (403, "forbidden")
    assert call(client, "GET", path, "vera").status_code == 200
    assert len(links_of("m_e1Biology")) == 1
    assert len(publisher.sent) == sent


def test_deleting_a_chapter_that_does_not_exist_is_404(client: Any, course: Course) -> None:
    response = call(client, "DELETE", f"/courses/{course.course_id}/chapters/ch_nope", "olga")
    assert (response.status_code, error_code(response)) == (404, "chapter_not_found")


def test_a_chapter_too_large_for_one_transaction_is_deleted_whole(
    client: Any, course: Course, publisher: InMemoryPublisher
) -> None:
    """DynamoDB takes 100 items per transaction: 100 links take two."""
    c = services.container()
    link = MediaLink(course_id=course.course_id, chapter_id=course.other_chapter_id)
    chapter = c.courses.get_chapter(course.course_id, course.other_chapter_id)
    items = list(chapter.items)
    for n in range(99):
        media = media_file(f"m_big{n}", "olga", T0, links=[link])
        assert c.media_store.put_if_absent(media)
        items.append(
            ChapterItem(
                media_id=media.media_id,
                filename=media.filename,
                content_type=media.content_type,
                size=media.size,
                added_at=T0,
                added_by="olga",
            )
        )
    big = chapter.model_copy(update={"items": items, "version": chapter.version + 1})
    c.course_store.replace_chapter(big, expected_version=chapter.version)

    deleted = call(
        client, "DELETE", f"/courses/{course.course_id}/chapters/{course.other_chapter_id}", "olga"
    )

    assert deleted.status_code == 204
    assert all(links_of(f"m_big{n}") == [] for n in range(99))
    assert links_of("m_o1Biology") == [
        MediaLink(course_id=course.course_id, chapter_id=course.chapter_id)
    ]
    types = publisher.types_on(course_channel(course.course_id))
    assert types.count("media.unlinked") == 100
    assert types[-1] == "chapter.deleted"


# ---- DELETE a course -------------------------------------------------------------


def test_only_an_owner_deletes_a_course(client: Any, course: Course) -> None:
    for user, status in (("eddie", 403), ("vera", 403), ("mallory", 404)):
        assert call(client, "DELETE", f"/courses/{course.course_id}", user).status_code == status
    assert call(client, "GET", f"/courses/{course.course_id}", "vera").status_code == 200


def test_a_deleted_course_is_gone_for_everyone_and_no_file_links_to_it(
    client: Any, course: Course, publisher: InMemoryPublisher
) -> None:
    before = body(call(client, "GET", f"/courses/{course.course_id}", "olga"))
    publisher.sent.clear()

    deleted = call(client, "DELETE", f"/courses/{course.course_id}", "olga")

    assert deleted.status_code == 204
    for user in ("olga", "eddie", "vera"):
        assert course_ids(client, user) == []
        gone = call(client, "GET", f"/courses/{course.course_id}", user)
        assert (gone.status_code, error_code(gone)) == (404, "course_not_found")
    for media_id in ("m_e1Biology", "m_e2Biology", "m_o1Biology"):
        assert links_of(media_id) == []
    table = services.container().settings.courses_table
    left = services.container().aws.ddb.scan(TableName=table)["Items"]
    assert left == []
    assert call(client, "DELETE", "/media/m_o1Biology", "olga").status_code == 204
    course_events = publisher.on(course_channel(course.course_id))
    assert course_events[-1].type == "course.deleted"
    assert course_events[-1].wire()["data"] == {"course": before}
    for user in ("olga", "eddie", "vera"):
        assert publisher.types_on(user_channel(user))[-1] == "course.deleted", user
    assert_valid_events([e.wire() for e in publisher.sent])


def test_after_a_course_is_deleted_no_former_member_receives_its_events(
    client: Any, ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    course = _course(client)
    channel = course_channel(course.course_id)
    connections = {}
    for user in ("olga", "eddie", "vera"):
        connection_id, status = ws.connect(token_for(user))
        assert status == 200
        ws.send_json(connection_id, {"action": "subscribe", "channel": channel})
        connections[user] = connection_id

    chapter = services.container().courses.get_chapter(course.course_id, course.chapter_id)

    deleted = call(client, "DELETE", f"/courses/{course.course_id}", "olga")
    # Whatever might still be published to the channel (a late upload's event).
    late = ChapterUpdated.new(ChapterData(chapter=chapter), course_id=course.course_id, at=EVENT_AT)
    services.container().publisher.publish(late, [channel])

    assert deleted.status_code == 204
    for user, connection_id in connections.items():
        types = ws_api.types(connection_id)
        assert types[-2:] == ["course.deleted", "unsubscribed"], (user, types)
        assert services.container().connections.channels_of(connection_id) == [user_channel(user)]
    again = ws_api.received(connections["vera"])
    ws.send_json(connections["vera"], {"action": "subscribe", "channel": channel})
    assert ws_api.received(connections["vera"])[len(again) :][0]["type"] == "error"
