"""LinkService against in-memory stores: who may link, what a link publishes,
idempotency, and retrying a lost optimistic race."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.courses import CourseService
from chalicelib.errors import Conflict, Forbidden, NotFound, VersionConflict
from chalicelib.linking import LinkService
from chalicelib.models import (
    MAX_CHAPTER_ITEMS,
    ChapterItem,
    ChapterTarget,
    LibraryTarget,
    MediaFile,
    Upload,
    UploadTarget,
)
from tests.fakes import (
    InMemoryCourseStore,
    InMemoryLinkStore,
    InMemoryMediaStore,
    InMemoryPublisher,
    media_file,
)

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.publisher = InMemoryPublisher()
        self.course_store = InMemoryCourseStore(outbox=self.publisher)
        self.media = InMemoryMediaStore()
        self.links = InMemoryLinkStore(self.course_store, self.media)
        self.courses = CourseService(self.course_store)
        self.sleeps: list[float] = []
        self.linker = LinkService(self.courses, self.media, self.links, sleep=self.sleeps.append)
        self.course_id = self.courses.create_course("olga", "Biology").course_id
        self.courses.set_member(self.course_id, "olga", "eddie", "editor")
        self.courses.set_member(self.course_id, "olga", "vera", "viewer")
        self.chapter_id = self.courses.create_chapter(self.course_id, "olga", "Cells").chapter_id
        self.publisher.sent.clear()

    def add_media(self, media_id: str, owner: str = "eddie") -> MediaFile:
        media = media_file(media_id, owner, T0, size=42)
        self.media.put_if_absent(media)
        return media

    def channel(self) -> str:
        return f"course:{self.course_id}"


@pytest.fixture
def w() -> World:
    return World()


def upload_for(w: World, media: MediaFile, target: UploadTarget | None = None) -> Upload:
    return Upload(
        operation_id="op_1",
        upload_id="u-1",
        user_id=media.user_id,
        key=media.key,
        filename=media.filename,
        content_type=media.content_type,
        size=media.size,
        part_size=5 * 1024 * 1024,
        part_count=1,
        status="completed",
        target=target
        or ChapterTarget(type="chapter", course_id=w.course_id, chapter_id=w.chapter_id),
        bytes_uploaded=media.size,
        media_id=media.media_id,
        reason=None,
        created_at=T0,
        updated_at=T0,
        expires_at=T0,
    )


def test_a_link_adds_the_item_and_bumps_the_version(w: World) -> None:
    w.add_media("m_1")
    chapter = w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    assert [(i.media_id, i.size, i.added_by) for i in chapter.items] == [("m_1", 42, "eddie")]
    assert chapter.version == 2
    assert w.courses.get_chapter(w.course_id, w.chapter_id) == chapter


def test_a_link_is_recorded_on_the_media_file(w: World) -> None:
    w.add_media("m_1")
    w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    media = w.media.get("m_1")
    assert media is not None
    assert [(x.course_id, x.chapter_id) for x in media.links] == [(w.course_id, w.chapter_id)]


def test_a_link_publishes_media_linked_then_chapter_updated_to_the_course(w: World) -> None:
    w.add_media("m_1")
    chapter = w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    linked, updated = w.publisher.on(w.channel())
    assert (linked.type, updated.type) == ("media.linked", "chapter.updated")
    assert linked.data.chapter == chapter
    assert updated.data.chapter == chapter
    assert linked.data.media.links[0].chapter_id == w.chapter_id


def test_a_link_names_every_resource_it_changed(w: World) -> None:
    w.add_media("m_1")
    w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    base = f"/courses/{w.course_id}"
    expected = {base, f"{base}/chapters", f"{base}/chapters/{w.chapter_id}", "/media", "/media/m_1"}
    for event in w.publisher.on(w.channel()):
        assert set(event.resources) == expected


def test_the_media_owner_receives_media_linked_on_their_channel(w: World) -> None:
    w.add_media("m_1")
    w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    assert w.publisher.types_on("user:eddie") == ["media.linked"]


def test_linking_what_is_already_linked_changes_nothing_and_publishes_nothing(w: World) -> None:
    w.add_media("m_1")
    first = w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    sent = len(w.publisher.sent)
    again = w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    assert again == first
    assert len(w.publisher.sent) == sent


def test_a_position_places_the_item(w: World) -> None:
    for m in ("m_1", "m_2", "m_3"):
        w.add_media(m)
    w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    w.linker.link(w.course_id, w.chapter_id, "m_2", "eddie")
    chapter = w.linker.link(w.course_id, w.chapter_id, "m_3", "eddie", position=0)
    assert [i.media_id for i in chapter.items] == ["m_3", "m_1", "m_2"]


def test_a_position_past_the_end_appends(w: World) -> None:
    w.add_media("m_1")
    chapter = w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie", position=99)
    assert [i.media_id for i in chapter.items] == ["m_1"]


def test_only_the_media_owner_may_link_it(w: World) -> None:
    w.add_media("m_1", owner="eddie")
    with pytest.raises(NotFound) as err:
        w.linker.link(w.course_id, w.chapter_id, "m_1", "olga")
    assert err.value.code == "media_not_found"
    assert w.courses.get_chapter(w.course_id, w.chapter_id).items == []


def test_a_viewer_cannot_link_their_own_media(w: World) -> None:
    w.add_media("m_1", owner="vera")
    with pytest.raises(Forbidden):
        w.linker.link(w.course_id, w.chapter_id, "m_1", "vera")
    assert w.publisher.sent == []


def test_a_non_member_cannot_link_and_learns_nothing(w: World) -> None:
    w.add_media("m_1", owner="mallory")
    with pytest.raises(NotFound) as err:
        w.linker.link(w.course_id, w.chapter_id, "m_1", "mallory")
    assert err.value.code == "course_not_found"


def test_linking_into_a_missing_chapter_is_not_found(w: World) -> None:
    w.add_media("m_1")
    with pytest.raises(NotFound) as err:
        w.linker.link(w.course_id, "ch_missing", "m_1", "eddie")
    assert err.value.code == "chapter_not_found"


def test_a_lost_race_is_retried_on_the_fresh_chapter(w: World) -> None:
    w.add_media("m_1")
    w.links.lose_races = 3
    chapter = w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    assert [i.media_id for i in chapter.items] == ["m_1"]
    assert len(w.sleeps) == 3


def test_a_chapter_that_never_settles_gives_up_with_409(w: World) -> None:
    w.add_media("m_1")
    w.links.lose_races = 10_000
    with pytest.raises(VersionConflict) as err:
        w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    assert err.value.code == "chapter_busy"
    assert w.publisher.sent == []


def test_a_full_chapter_refuses_another_link(w: World) -> None:
    chapter = w.courses.get_chapter(w.course_id, w.chapter_id)
    items = [
        ChapterItem(
            media_id=f"m_{n}",
            filename="f.mp4",
            content_type="video/mp4",
            size=1,
            added_at=T0,
            added_by="eddie",
        )
        for n in range(MAX_CHAPTER_ITEMS)
    ]
    w.course_store.put_chapter(chapter.model_copy(update={"items": items}))
    w.add_media("m_new")
    with pytest.raises(Conflict) as err:
        w.linker.link(w.course_id, w.chapter_id, "m_new", "eddie")
    assert err.value.code == "chapter_full"


def test_unlink_removes_the_item_and_the_link(w: World) -> None:
    w.add_media("m_1")
    w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    chapter = w.linker.unlink(w.course_id, w.chapter_id, "m_1", "olga")
    assert (chapter.items, chapter.version) == ([], 3)
    media = w.media.get("m_1")
    assert media is not None
    assert media.links == []


def test_unlink_publishes_media_unlinked_then_chapter_updated(w: World) -> None:
    w.add_media("m_1")
    w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    w.publisher.sent.clear()
    w.linker.unlink(w.course_id, w.chapter_id, "m_1", "eddie")
    assert w.publisher.types_on(w.channel()) == ["media.unlinked", "chapter.updated"]
    assert w.publisher.types_on("user:eddie") == ["media.unlinked"]


def test_unlinking_what_is_not_linked_changes_nothing(w: World) -> None:
    w.add_media("m_1")
    chapter = w.linker.unlink(w.course_id, w.chapter_id, "m_1", "eddie")
    assert chapter.version == 1
    assert w.publisher.sent == []


def test_a_viewer_cannot_unlink(w: World) -> None:
    w.add_media("m_1")
    w.linker.link(w.course_id, w.chapter_id, "m_1", "eddie")
    with pytest.raises(Forbidden):
        w.linker.unlink(w.course_id, w.chapter_id, "m_1", "vera")
    assert len(w.courses.get_chapter(w.course_id, w.chapter_id).items) == 1


def test_a_completed_chapter_upload_is_linked_like_a_rest_link(w: World) -> None:
    media = w.add_media("m_1")
    w.linker.link_completed_upload(upload_for(w, media), media)
    assert [i.media_id for i in w.courses.get_chapter(w.course_id, w.chapter_id).items] == ["m_1"]
    assert w.publisher.types_on(w.channel()) == ["media.linked", "chapter.updated"]


def test_a_duplicate_completion_changes_nothing(w: World) -> None:
    media = w.add_media("m_1")
    upload = upload_for(w, media)
    w.linker.link_completed_upload(upload, media)
    sent = len(w.publisher.sent)
    w.linker.link_completed_upload(upload, media)
    assert len(w.courses.get_chapter(w.course_id, w.chapter_id).items) == 1
    assert len(w.publisher.sent) == sent


def test_a_library_upload_is_not_linked_anywhere(w: World) -> None:
    media = w.add_media("m_1")
    w.linker.link_completed_upload(upload_for(w, media, LibraryTarget(type="library")), media)
    assert w.publisher.sent == []
