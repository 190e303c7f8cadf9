"""Course, member and chapter routes through chalice.test.Client against moto."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import InMemoryPublisher
from tests.integration.course_kit import body, call, error_code, publisher

pytestmark = pytest.mark.integration
__all__ = ["publisher"]


@pytest.fixture
def course_id(client: Any, publisher: InMemoryPublisher) -> str:
    created = call(client, "POST", "/courses", "olga", {"title": "Biology"})
    course_id = str(body(created)["courseId"])
    call(client, "PUT", f"/courses/{course_id}/members/eddie", "olga", {"role": "editor"})
    call(client, "PUT", f"/courses/{course_id}/members/vera", "olga", {"role": "viewer"})
    return course_id


def new_chapter(client: Any, course_id: str, title: str = "Cells") -> dict[str, Any]:
    response = call(client, "POST", f"/courses/{course_id}/chapters", "olga", {"title": title})
    assert response.status_code == 201
    return dict(body(response))


def test_creating_a_course_answers_201_with_the_caller_as_owner(
    client: Any, publisher: InMemoryPublisher
) -> None:
    response = call(client, "POST", "/courses", "olga", {"title": "  Biology  "})
    assert response.status_code == 201
    course = body(response)
    assert course["title"] == "Biology"
    assert course["members"] == [{"userId": "olga", "role": "owner"}]
    assert course["chapters"] == []


def test_creating_a_course_needs_a_token(client: Any, publisher: InMemoryPublisher) -> None:
    response = client.http.post("/courses", body='{"title": "x"}')
    assert response.status_code == 401


@pytest.mark.parametrize(
    "payload",
    [{}, {"title": ""}, {"title": 7}, {"title": "x" * 201}, {"title": "x", "extra": 1}],
)
def test_a_malformed_course_is_400(
    client: Any, publisher: InMemoryPublisher, payload: dict[str, Any]
) -> None:
    response = call(client, "POST", "/courses", "olga", payload)
    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_a_course_shows_members_chapters_and_items(client: Any, course_id: str) -> None:
    chapter = new_chapter(client, course_id)
    course = body(call(client, "GET", f"/courses/{course_id}", "vera"))
    assert [m["userId"] for m in course["members"]] == ["olga", "eddie", "vera"]
    assert course["chapters"] == [chapter]


def test_a_non_member_gets_404_for_an_existing_course(client: Any, course_id: str) -> None:
    response = call(client, "GET", f"/courses/{course_id}", "mallory")
    assert response.status_code == 404
    assert error_code(response) == "course_not_found"


def test_an_owner_sets_a_members_role(client: Any, course_id: str) -> None:
    response = call(client, "PUT", f"/courses/{course_id}/members/vera", "olga", {"role": "editor"})
    assert response.status_code == 200
    assert body(response) == {"userId": "vera", "role": "editor"}


@pytest.mark.parametrize("payload", [{"role": "admin"}, {"role": None}, {}])
def test_an_unknown_role_is_400(client: Any, course_id: str, payload: dict[str, Any]) -> None:
    response = call(client, "PUT", f"/courses/{course_id}/members/vera", "olga", payload)
    assert response.status_code == 400


def test_a_malformed_user_id_is_400(client: Any, course_id: str) -> None:
    response = call(
        client, "PUT", f"/courses/{course_id}/members/{'u' * 300}", "olga", {"role": "viewer"}
    )
    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_removing_a_member_answers_204(client: Any, course_id: str) -> None:
    response = call(client, "DELETE", f"/courses/{course_id}/members/vera", "olga")
    assert response.status_code == 204
    assert call(client, "GET", f"/courses/{course_id}", "vera").status_code == 404


def test_the_last_owner_cannot_leave(client: Any, course_id: str) -> None:
    response = call(client, "DELETE", f"/courses/{course_id}/members/olga", "olga")
    assert response.status_code == 409
    assert error_code(response) == "last_owner"


def test_the_last_owner_cannot_demote_themselves(client: Any, course_id: str) -> None:
    response = call(client, "PUT", f"/courses/{course_id}/members/olga", "olga", {"role": "viewer"})
    assert response.status_code == 409
    assert error_code(response) == "last_owner"


def test_chapters_are_listed_by_position(client: Any, course_id: str) -> None:
    titles = ["One", "Two", "Three"]
    for title in titles:
        new_chapter(client, course_id, title)
    listed = body(call(client, "GET", f"/courses/{course_id}/chapters", "vera"))["chapters"]
    assert [c["title"] for c in listed] == titles
    assert [c["position"] for c in listed] == [0, 1, 2]


def test_a_new_chapter_is_published_to_the_course_as_listed(
    client: Any, course_id: str, publisher: InMemoryPublisher
) -> None:
    new_chapter(client, course_id)
    [event] = publisher.on(f"course:{course_id}")
    listed = body(call(client, "GET", f"/courses/{course_id}/chapters", "vera"))["chapters"]
    assert event.wire()["data"]["chapter"] == listed[0]


def test_a_chapter_reads_back_as_listed(client: Any, course_id: str) -> None:
    chapter = new_chapter(client, course_id)
    response = call(client, "GET", f"/courses/{course_id}/chapters/{chapter['chapterId']}", "vera")
    assert response.status_code == 200
    assert body(response) == chapter


def test_a_missing_chapter_is_404(client: Any, course_id: str) -> None:
    response = call(client, "GET", f"/courses/{course_id}/chapters/ch_nope", "vera")
    assert response.status_code == 404
    assert error_code(response) == "chapter_not_found"


def test_patch_retitles_and_answers_the_new_version(client: Any, course_id: str) -> None:
    chapter = new_chapter(client, course_id)
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    response = call(client, "PATCH", path, "eddie", {"title": "Cells 2", "version": 1})
    assert response.status_code == 200
    assert (body(response)["title"], body(response)["version"]) == ("Cells 2", 2)


def test_patch_at_a_stale_version_is_409_and_changes_nothing(
    client: Any, course_id: str, publisher: InMemoryPublisher
) -> None:
    chapter = new_chapter(client, course_id)
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    call(client, "PATCH", path, "eddie", {"title": "Newer", "version": 1})
    sent = len(publisher.sent)
    response = call(client, "PATCH", path, "olga", {"title": "Stale", "version": 1})
    assert response.status_code == 409
    assert error_code(response) == "version_conflict"
    listed = body(call(client, "GET", f"/courses/{course_id}/chapters", "olga"))["chapters"]
    assert (listed[0]["title"], listed[0]["version"]) == ("Newer", 2)
    assert len(publisher.sent) == sent


def test_an_item_order_that_is_not_a_permutation_is_400(client: Any, course_id: str) -> None:
    chapter = new_chapter(client, course_id)
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    response = call(client, "PATCH", path, "olga", {"itemOrder": ["m_x"], "version": 1})
    assert response.status_code == 400
    assert error_code(response) == "invalid_item_order"


@pytest.mark.parametrize(
    "payload",
    [{"title": "x"}, {"version": "1"}, {"version": 0}, {"version": 1, "itemOrder": "m_1"}],
)
def test_a_malformed_patch_is_400(client: Any, course_id: str, payload: dict[str, Any]) -> None:
    chapter = new_chapter(client, course_id)
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    response = call(client, "PATCH", path, "olga", payload)
    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_patching_a_missing_chapter_is_404(client: Any, course_id: str) -> None:
    path = f"/courses/{course_id}/chapters/ch_missing"
    response = call(client, "PATCH", path, "olga", {"title": "x", "version": 1})
    assert response.status_code == 404
    assert error_code(response) == "chapter_not_found"


def test_null_for_a_field_that_may_be_left_out_is_400_and_changes_nothing(
    client: Any, course_id: str
) -> None:
    # `null` used to read as "left out": the chapter's order was changed under
    # a title the client believed it was clearing, and the course patch said
    # "nothing to change" for a field the document allowed.
    chapter = new_chapter(client, course_id)
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    patches = [
        (path, {"version": 1, "title": None, "itemOrder": []}),
        (f"/courses/{course_id}", {"version": 1, "title": None}),
    ]
    for target, payload in patches:
        response = call(client, "PATCH", target, "olga", payload)
        assert response.status_code == 400, (target, body(response))
        assert error_code(response) == "validation_error"
    assert body(call(client, "GET", path, "olga"))["version"] == 1


def test_an_integer_written_with_a_zero_fraction_is_that_integer(
    client: Any, course_id: str
) -> None:
    chapter = new_chapter(client, course_id)
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    refused = call(client, "PATCH", path, "olga", {"title": "Half", "version": 1.5})
    assert refused.status_code == 400
    response = call(client, "PATCH", path, "olga", {"title": "Whole", "version": 1.0})
    assert response.status_code == 200
    assert (body(response)["title"], body(response)["version"]) == ("Whole", 2)
