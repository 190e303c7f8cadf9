"""CourseService against in-memory stores: roles, members, chapters, versions."""

from __future__ import annotations

import pytest

from chalicelib.courses import CourseService
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound, VersionConflict
from chalicelib.models import Chapter, ChapterItem
from tests.fakes import InMemoryCourseStore, InMemoryPublisher


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


@pytest.fixture
def store(publisher: InMemoryPublisher) -> InMemoryCourseStore:
    return InMemoryCourseStore(outbox=publisher)


@pytest.fixture
def courses(store: InMemoryCourseStore) -> CourseService:
    return CourseService(store)


@pytest.fixture
def course_id(courses: CourseService) -> str:
    course_id = courses.create_course("olga", "Biology").course_id
    courses.set_member(course_id, "olga", "eddie", "editor")
    courses.set_member(course_id, "olga", "vera", "viewer")
    return course_id


def with_items(store: InMemoryCourseStore, chapter: Chapter, *media_ids: str) -> Chapter:
    items = [
        ChapterItem(
            media_id=m,
            filename=f"{m}.mp4",
            content_type="video/mp4",
            size=1,
            added_at=chapter.created_at,
            added_by="olga",
        )
        for m in media_ids
    ]
    stored = chapter.model_copy(update={"items": items})
    store.put_chapter(stored)
    return stored


def test_the_creator_becomes_the_courses_only_owner(courses: CourseService) -> None:
    course = courses.create_course("olga", "Biology")
    assert [(m.user_id, m.role) for m in course.members] == [("olga", "owner")]
    assert courses.role_of(course.course_id, "olga") == "owner"


def test_require_role_answers_the_members_role(courses: CourseService, course_id: str) -> None:
    assert courses.require_role(course_id, "eddie", {"owner", "editor"}) == "editor"


def test_require_role_hides_the_course_from_a_non_member(
    courses: CourseService, course_id: str
) -> None:
    with pytest.raises(NotFound) as err:
        courses.require_role(course_id, "mallory", {"owner", "editor", "viewer"})
    assert err.value.code == "course_not_found"


def test_require_role_answers_a_missing_course_like_a_hidden_one(courses: CourseService) -> None:
    with pytest.raises(NotFound) as err:
        courses.require_role("c_missing", "olga", {"owner"})
    assert err.value.code == "course_not_found"


def test_require_role_forbids_a_member_whose_role_is_not_allowed(
    courses: CourseService, course_id: str
) -> None:
    with pytest.raises(Forbidden) as err:
        courses.require_role(course_id, "vera", {"owner", "editor"})
    assert err.value.code == "forbidden"


def test_get_chapter_of_a_missing_chapter_is_not_found(
    courses: CourseService, course_id: str
) -> None:
    with pytest.raises(NotFound) as err:
        courses.get_chapter(course_id, "ch_missing")
    assert err.value.code == "chapter_not_found"


def test_a_course_lists_its_members_and_chapters(courses: CourseService, course_id: str) -> None:
    courses.create_chapter(course_id, "eddie", "Cells")
    course = courses.get_course(course_id, "vera")
    assert [(m.user_id, m.role) for m in course.members] == [
        ("olga", "owner"),
        ("eddie", "editor"),
        ("vera", "viewer"),
    ]
    assert [c.title for c in course.chapters] == ["Cells"]


def test_a_non_member_cannot_read_the_course(courses: CourseService, course_id: str) -> None:
    with pytest.raises(NotFound):
        courses.get_course(course_id, "mallory")


def test_an_editor_cannot_manage_members(courses: CourseService, course_id: str) -> None:
    with pytest.raises(Forbidden):
        courses.set_member(course_id, "eddie", "newbie", "viewer")
    assert courses.role_of(course_id, "newbie") is None


def test_an_owner_changes_a_members_role(courses: CourseService, course_id: str) -> None:
    courses.set_member(course_id, "olga", "vera", "editor")
    assert courses.role_of(course_id, "vera") == "editor"


def test_the_last_owner_cannot_demote_themselves(courses: CourseService, course_id: str) -> None:
    with pytest.raises(Conflict) as err:
        courses.set_member(course_id, "olga", "olga", "editor")
    assert err.value.code == "last_owner"
    assert courses.role_of(course_id, "olga") == "owner"


def test_the_last_owner_cannot_be_removed(courses: CourseService, course_id: str) -> None:
    with pytest.raises(Conflict) as err:
        courses.remove_member(course_id, "olga", "olga")
    assert err.value.code == "last_owner"


def test_an_owner_may_leave_while_another_owner_remains(
    courses: CourseService, course_id: str
) -> None:
    courses.set_member(course_id, "olga", "eddie", "owner")
    courses.remove_member(course_id, "olga", "olga")
    assert courses.role_of(course_id, "olga") is None


def test_removing_a_non_member_is_not_found(courses: CourseService, course_id: str) -> None:
    with pytest.raises(NotFound) as err:
        courses.remove_member(course_id, "olga", "stranger")
    assert err.value.code == "member_not_found"


def test_chapters_are_listed_in_the_order_they_were_added(
    courses: CourseService, course_id: str
) -> None:
    for title in ("One", "Two", "Three"):
        courses.create_chapter(course_id, "olga", title)
    chapters = courses.list_chapters(course_id, "vera")
    assert [(c.title, c.position) for c in chapters] == [("One", 0), ("Two", 1), ("Three", 2)]


def test_a_viewer_cannot_create_a_chapter(
    courses: CourseService, course_id: str, store: InMemoryCourseStore
) -> None:
    with pytest.raises(Forbidden):
        courses.create_chapter(course_id, "vera", "Sneaky")
    assert store.list_chapters(course_id) == []


def test_a_new_chapter_is_published_to_the_course_with_its_paths(
    courses: CourseService, course_id: str, publisher: InMemoryPublisher
) -> None:
    chapter = courses.create_chapter(course_id, "eddie", "Cells")
    [event] = publisher.on(f"course:{course_id}")
    assert event.type == "chapter.updated"
    assert event.data.chapter == chapter
    assert event.resources == [
        f"/courses/{course_id}",
        f"/courses/{course_id}/chapters",
        f"/courses/{course_id}/chapters/{chapter.chapter_id}",
    ]


def test_patch_retitles_and_bumps_the_version(courses: CourseService, course_id: str) -> None:
    chapter = courses.create_chapter(course_id, "olga", "Cells")
    patched = courses.patch_chapter(
        course_id, chapter.chapter_id, "eddie", version=1, title="Cells II"
    )
    assert (patched.title, patched.version) == ("Cells II", 2)
    assert courses.get_chapter(course_id, chapter.chapter_id) == patched


def test_patch_at_a_stale_version_is_a_conflict_and_changes_nothing(
    courses: CourseService, course_id: str, publisher: InMemoryPublisher
) -> None:
    chapter = courses.create_chapter(course_id, "olga", "Cells")
    courses.patch_chapter(course_id, chapter.chapter_id, "olga", version=1, title="New")
    sent = len(publisher.sent)
    with pytest.raises(VersionConflict) as err:
        courses.patch_chapter(course_id, chapter.chapter_id, "eddie", version=1, title="Lost")
    assert err.value.code == "version_conflict"
    assert courses.get_chapter(course_id, chapter.chapter_id).title == "New"
    assert len(publisher.sent) == sent


def test_patch_reorders_the_items(
    courses: CourseService, course_id: str, store: InMemoryCourseStore
) -> None:
    chapter = with_items(store, courses.create_chapter(course_id, "olga", "C"), "m_a", "m_b")
    patched = courses.patch_chapter(
        course_id, chapter.chapter_id, "olga", version=1, item_order=["m_b", "m_a"]
    )
    assert [i.media_id for i in patched.items] == ["m_b", "m_a"]


@pytest.mark.parametrize("order", [["m_a"], ["m_a", "m_a"], ["m_a", "m_b", "m_c"], ["m_a", "m_x"]])
def test_an_item_order_that_is_not_a_permutation_is_rejected(
    courses: CourseService, course_id: str, store: InMemoryCourseStore, order: list[str]
) -> None:
    chapter = with_items(store, courses.create_chapter(course_id, "olga", "C"), "m_a", "m_b")
    with pytest.raises(InvalidInput) as err:
        courses.patch_chapter(course_id, chapter.chapter_id, "olga", version=1, item_order=order)
    assert err.value.code == "invalid_item_order"
    assert courses.get_chapter(course_id, chapter.chapter_id) == chapter


def test_a_patch_without_changes_is_rejected(courses: CourseService, course_id: str) -> None:
    chapter = courses.create_chapter(course_id, "olga", "C")
    with pytest.raises(InvalidInput) as err:
        courses.patch_chapter(course_id, chapter.chapter_id, "olga", version=1)
    assert err.value.code == "empty_patch"


def test_a_viewer_cannot_patch_a_chapter(courses: CourseService, course_id: str) -> None:
    chapter = courses.create_chapter(course_id, "olga", "C")
    with pytest.raises(Forbidden):
        courses.patch_chapter(course_id, chapter.chapter_id, "vera", version=1, title="x")


class RecordingRevoker:
    def __init__(self) -> None:
        self.revoked: list[tuple[str, str]] = []

    def revoke(self, user_id: str, channel: str) -> int:
        self.revoked.append((user_id, channel))
        return 1


def test_removing_a_member_ends_their_live_course_subscriptions(
    store: InMemoryCourseStore, publisher: InMemoryPublisher
) -> None:
    revoker = RecordingRevoker()
    courses = CourseService(store, revoker=revoker)
    course_id = courses.create_course("olga", "Biology").course_id
    courses.set_member(course_id, "olga", "vera", "viewer")

    courses.remove_member(course_id, "olga", "vera")

    assert revoker.revoked == [("vera", f"course:{course_id}")]
    assert courses.role_of(course_id, "vera") is None
