"""CourseStore and LinkStore against moto: the conditions DynamoDB enforces."""

from __future__ import annotations

import pytest

from chalicelib import services
from chalicelib.domain.courses import CourseRecord
from chalicelib.errors import Conflict, Forbidden, NotFound, VersionConflict
from chalicelib.models import Chapter, ChapterItem, MediaStatus
from chalicelib.store.courses import CourseStore
from chalicelib.store.links import LinkStore
from tests.integration.course_kit import T0, add_media

pytestmark = pytest.mark.integration


@pytest.fixture
def store(aws: dict[str, str]) -> CourseStore:
    return services.container().course_store


@pytest.fixture
def links(aws: dict[str, str]) -> LinkStore:
    return services.container().link_store


@pytest.fixture
def course_id(store: CourseStore) -> str:
    store.create_course(CourseRecord("c_1", "Biology", "olga", T0, T0, version=1))
    store.set_role("c_1", "eddie", "editor", None, T0)
    store.set_role("c_1", "vera", "viewer", None, T0)
    return "c_1"


def chapter(
    course_id: str, version: int = 1, *media_ids: str, status: MediaStatus = "processing"
) -> Chapter:
    """Items repeat their file's status as a link reads it: add_media's files are
    fresh from an upload, so `processing`."""
    items = [
        ChapterItem(
            media_id=m,
            filename="f",
            content_type="video/mp4",
            size=1,
            added_at=T0,
            added_by="x",
            status=status,
        )
        for m in media_ids
    ]
    return Chapter(
        course_id=course_id,
        chapter_id="ch_1",
        title="Cells",
        position=0,
        version=version,
        items=items,
        created_at=T0,
        updated_at=T0,
    )


def test_a_course_reads_back_with_members_and_chapters(store: CourseStore, course_id: str) -> None:
    store.put_chapter(chapter(course_id))
    snapshot = store.load(course_id)
    assert snapshot is not None
    assert (snapshot.course.title, snapshot.course.created_by) == ("Biology", "olga")
    assert [(m.user_id, m.role) for m in snapshot.members] == [
        ("olga", "owner"),
        ("eddie", "editor"),
        ("vera", "viewer"),
    ]
    assert snapshot.chapters == [chapter(course_id)]


def test_a_missing_course_loads_as_none(store: CourseStore, aws: dict[str, str]) -> None:
    assert store.load("c_nope") is None


def test_a_role_change_from_a_stale_read_is_refused(store: CourseStore, course_id: str) -> None:
    with pytest.raises(Conflict) as err:
        store.set_role(course_id, "vera", "editor", previous="owner", at=T0)
    assert err.value.code == "member_changed"
    assert store.role_of(course_id, "vera") == "viewer"


def test_the_last_owner_cannot_be_demoted(store: CourseStore, course_id: str) -> None:
    with pytest.raises(Conflict) as err:
        store.set_role(course_id, "olga", "editor", previous="owner", at=T0)
    assert err.value.code == "last_owner"
    assert store.role_of(course_id, "olga") == "owner"


def test_of_two_owners_one_may_go_but_not_both(store: CourseStore, course_id: str) -> None:
    store.set_role(course_id, "eddie", "owner", previous="editor", at=T0)
    store.remove_member(course_id, "olga", previous="owner")
    with pytest.raises(Conflict) as err:
        store.remove_member(course_id, "eddie", previous="owner")
    assert err.value.code == "last_owner"
    assert store.role_of(course_id, "eddie") == "owner"


def test_chapter_positions_are_handed_out_in_turn(store: CourseStore, course_id: str) -> None:
    assert [store.next_position(course_id) for _ in range(3)] == [0, 1, 2]


def test_a_position_in_a_missing_course_is_not_found(
    store: CourseStore, aws: dict[str, str]
) -> None:
    with pytest.raises(NotFound):
        store.next_position("c_nope")


def test_replacing_a_chapter_at_a_stale_version_writes_nothing(
    store: CourseStore, course_id: str
) -> None:
    store.put_chapter(chapter(course_id))
    store.replace_chapter(chapter(course_id, 2), expected_version=1)
    with pytest.raises(VersionConflict):
        store.replace_chapter(chapter(course_id, 3, "m_x"), expected_version=1)
    assert store.get_chapter(course_id, "ch_1") == chapter(course_id, 2)


def test_a_link_writes_the_chapter_and_the_media_file_together(
    store: CourseStore, links: LinkStore, course_id: str
) -> None:
    store.put_chapter(chapter(course_id))
    add_media("m_1", "eddie")
    links.link(chapter(course_id, 2, "m_1"), 1, "m_1", owner="eddie", actor="eddie")
    assert store.get_chapter(course_id, "ch_1") == chapter(course_id, 2, "m_1")
    media = services.container().media_store.get("m_1")
    assert media is not None
    assert [(x.course_id, x.chapter_id) for x in media.links] == [(course_id, "ch_1")]


def test_a_link_at_a_stale_version_writes_neither_side(
    store: CourseStore, links: LinkStore, course_id: str
) -> None:
    store.put_chapter(chapter(course_id, 5))
    add_media("m_1", "eddie")
    with pytest.raises(VersionConflict):
        links.link(chapter(course_id, 2, "m_1"), 1, "m_1", owner="eddie", actor="eddie")
    assert store.get_chapter(course_id, "ch_1") == chapter(course_id, 5)
    assert services.container().media_store.get("m_1").links == []  # type: ignore[union-attr]


def test_a_link_of_someone_elses_media_writes_neither_side(
    store: CourseStore, links: LinkStore, course_id: str
) -> None:
    store.put_chapter(chapter(course_id))
    add_media("m_1", "olga")
    with pytest.raises(NotFound) as err:
        links.link(chapter(course_id, 2, "m_1"), 1, "m_1", owner="eddie", actor="eddie")
    assert err.value.code == "media_not_found"
    assert store.get_chapter(course_id, "ch_1") == chapter(course_id)


def test_a_link_by_a_viewer_writes_neither_side(
    store: CourseStore, links: LinkStore, course_id: str
) -> None:
    store.put_chapter(chapter(course_id))
    add_media("m_1", "vera")
    with pytest.raises(Forbidden):
        links.link(chapter(course_id, 2, "m_1"), 1, "m_1", owner="vera", actor="vera")
    assert store.get_chapter(course_id, "ch_1") == chapter(course_id)


def test_an_unlink_removes_both_sides(store: CourseStore, links: LinkStore, course_id: str) -> None:
    store.put_chapter(chapter(course_id))
    add_media("m_1", "eddie")
    links.link(chapter(course_id, 2, "m_1"), 1, "m_1", owner="eddie", actor="eddie")
    links.unlink(chapter(course_id, 3), 2, "m_1", actor="olga")
    assert store.get_chapter(course_id, "ch_1") == chapter(course_id, 3)
    assert services.container().media_store.get("m_1").links == []  # type: ignore[union-attr]


def test_a_chapter_items_media_metadata_reads_back(store: CourseStore, course_id: str) -> None:
    base = chapter(course_id, 1, "m_1", "m_2", status="ready")
    shown = base.items[0].model_copy(
        update={
            "status": "processing",
            "duration_seconds": 59.96,
            "width": 1920,
            "height": 1080,
            "has_poster": True,
        }
    )
    written = base.model_copy(update={"items": [shown, base.items[1]]})
    store.put_chapter(written)
    read = store.get_chapter(course_id, written.chapter_id)
    assert read == written
    assert read is not None
    assert read.items[1].status == "ready"  # no metadata: ready, none shown
