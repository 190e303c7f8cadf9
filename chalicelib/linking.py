"""Linking library media into chapters, and unlinking it.

One code path serves the REST routes and chapter uploads that complete, so a
course sees the same `media.linked` + `chapter.updated` pair whichever way the
media arrived. Each change is one transaction (chalicelib/store/links.py) on
the chapter version that was read; losing that race means reading again and
retrying, a bounded number of times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Protocol

from chalicelib.auth import WRITERS
from chalicelib.channels import chapter_paths, link_channels, media_paths
from chalicelib.clock import Clock, Sleep, stamp
from chalicelib.courses import CourseService, chapter_announcement
from chalicelib.domain.media import chapter_item
from chalicelib.errors import Conflict, NotFound, VersionConflict
from chalicelib.events import Announcement, MediaLinkData, MediaLinked, MediaUnlinked
from chalicelib.media import MediaRepository
from chalicelib.models import (
    MAX_CHAPTER_ITEMS,
    Chapter,
    ChapterTarget,
    MediaFile,
    MediaLink,
    Upload,
)

MAX_ATTEMPTS = 25


class LinkRepository(Protocol):
    def link(
        self,
        chapter: Chapter,
        expected_version: int,
        media_id: str,
        owner: str,
        actor: str,
        announce: Sequence[Announcement] = (),
    ) -> None: ...
    def unlink(
        self,
        chapter: Chapter,
        expected_version: int,
        media_id: str,
        actor: str,
        announce: Sequence[Announcement] = (),
    ) -> None: ...


def backoff(attempt: int) -> float:
    """Full jitter, capped: concurrent writers to one chapter spread out
    instead of colliding again on the next version."""
    return random.uniform(0, min(0.2, 0.005 * 2**attempt))  # noqa: S311 - jitter, not security


class LinkService:
    def __init__(
        self,
        courses: CourseService,
        media: MediaRepository,
        links: LinkRepository,
        *,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._courses = courses
        self._media = media
        self._links = links
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts

    def link(
        self,
        course_id: str,
        chapter_id: str,
        media_id: str,
        actor: str,
        position: int | None = None,
    ) -> Chapter:
        """Place the caller's media file in a chapter. Linking what is already
        linked changes nothing and publishes nothing."""
        self._courses.require_role(course_id, actor, WRITERS)
        media = self._media.get(media_id)
        if media is None or media.user_id != actor:
            raise NotFound("media file not found", code="media_not_found")
        return self._link(course_id, chapter_id, media, actor, position)

    def link_completed_upload(self, upload: Upload, media: MediaFile) -> None:
        """Link the media file a chapter upload produced into its chapter.

        Safe to call for every duplicate or late S3 event: a media file already
        in the chapter is left alone. Raises NotFound/Forbidden when the chapter
        is gone or the uploader lost their role since starting the upload."""
        target = upload.target
        if not isinstance(target, ChapterTarget):
            return
        # Exactly the REST link, as the uploader: same checks, transaction and events.
        self.link(target.course_id, target.chapter_id, media.media_id, upload.user_id)

    def unlink(self, course_id: str, chapter_id: str, media_id: str, actor: str) -> Chapter:
        """Take a media file out of a chapter. Any owner or editor may, whoever
        owns the file; unlinking what is not linked changes nothing."""
        self._courses.require_role(course_id, actor, WRITERS)
        for attempt in range(self._max_attempts):
            chapter = self._courses.get_chapter(course_id, chapter_id)
            if not any(i.media_id == media_id for i in chapter.items):
                return chapter
            updated = chapter.model_copy(
                update={
                    "items": [i for i in chapter.items if i.media_id != media_id],
                    "version": chapter.version + 1,
                    "updated_at": stamp(self._clock),
                }
            )
            media = self._media.get(media_id)
            announce = []
            if media is not None:
                kept = [
                    link
                    for link in media.links
                    if (link.course_id, link.chapter_id) != (course_id, chapter_id)
                ]
                unlinked = media.model_copy(update={"links": kept})
                announce = announcements(MediaUnlinked, updated, unlinked)
            try:
                self._links.unlink(updated, chapter.version, media_id, actor, announce)
            except VersionConflict:
                self._sleep(backoff(attempt))
                continue
            return updated
        raise _busy()

    def _link(
        self,
        course_id: str,
        chapter_id: str,
        media: MediaFile,
        actor: str,
        position: int | None,
    ) -> Chapter:
        for attempt in range(self._max_attempts):
            if attempt:
                # Its processing may have ended since: the item repeats its outcome.
                media = self._media.get(media.media_id) or media
            chapter = self._courses.get_chapter(course_id, chapter_id)
            if any(i.media_id == media.media_id for i in chapter.items):
                return chapter
            if len(chapter.items) >= MAX_CHAPTER_ITEMS:
                raise Conflict(
                    f"a chapter holds at most {MAX_CHAPTER_ITEMS} media files", code="chapter_full"
                )
            now = stamp(self._clock)
            item = chapter_item(media, added_at=now, added_by=actor)
            items = list(chapter.items)
            # A position past the end appends: the chapter may have shrunk since
            # the client computed it.
            items.insert(len(items) if position is None else min(position, len(items)), item)
            updated = chapter.model_copy(
                update={"items": items, "version": chapter.version + 1, "updated_at": now}
            )
            link = MediaLink(course_id=course_id, chapter_id=chapter_id)
            linked = media.model_copy(update={"links": [*media.links, link]})
            announce = announcements(MediaLinked, updated, linked)
            try:
                self._links.link(
                    updated, chapter.version, media.media_id, media.user_id, actor, announce
                )
            except VersionConflict:
                self._sleep(backoff(attempt))
                continue
            return updated
        raise _busy()


def announcements(
    kind: type[MediaLinked] | type[MediaUnlinked], chapter: Chapter, media: MediaFile
) -> list[Announcement]:
    """The link change for the course and the media owner, then the chapter's
    new state for the course: committed with the change itself."""
    media = media.model_copy(update={"download_url": None})
    resources = [
        *chapter_paths(chapter.course_id, chapter.chapter_id),
        *media_paths(media.media_id),
    ]
    event = kind.new(
        MediaLinkData(media=media, chapter=chapter),
        at=chapter.updated_at,
        course_id=chapter.course_id,
        resources=resources,
    )
    return [
        Announcement.of(event, link_channels(chapter.course_id, media.user_id)),
        chapter_announcement(chapter, extra_resources=media_paths(media.media_id)),
    ]


def _busy() -> Conflict:
    return VersionConflict("the chapter is changing too fast; try again", code="chapter_busy")
