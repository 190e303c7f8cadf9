"""Deleting chapters and courses.

A chapter's deletion unlinks each of its items from its media file (the files
stay in their owners' libraries) in the same transactions that delete the
chapter (chalicelib/store/links.py), then tells the course and each file's
owner: `media.unlinked` per item, then `chapter.deleted`.

A course's deletion (owners only) marks the course as being deleted, so it
reads as gone and takes no new member or chapter; deletes each chapter as
above; deletes the members and the course; tells the course channel and every
member's own channel `course.deleted`; and ends every subscription to the
course channel, so no former member receives anything more of it. Each step
can be run again: an interrupted deletion is finished by the owner's retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.auth import WRITERS
from chalicelib.channels import (
    chapter_channels,
    chapter_paths,
    course_channel,
    course_deleted_channels,
    course_paths,
    link_channels,
    media_paths,
)
from chalicelib.clock import Clock, Sleep, stamp
from chalicelib.courses import OWNERS, CourseService, course_not_found, course_view
from chalicelib.domain.courses import CourseSnapshot
from chalicelib.errors import NotFound, VersionConflict
from chalicelib.events import (
    Announcement,
    ChapterData,
    ChapterDeleted,
    CourseData,
    CourseDeleted,
    Envelope,
    MediaLinkData,
    MediaUnlinked,
)
from chalicelib.linking import MAX_ATTEMPTS, backoff
from chalicelib.logging import logger
from chalicelib.media import MediaRepository
from chalicelib.models import Chapter, MediaFile, MediaLink, Member

# Each channel an event is committed to takes two transaction items (its head
# and the event): 40 channels per commit stay inside DynamoDB's 100.
_CHANNELS_PER_COMMIT = 40


def _unlinked(chapter: Chapter, media: MediaFile, link: MediaLink, at: datetime) -> Announcement:
    """media.unlinked for one item of a deleted chapter: `media` as it is now
    (without the link), `chapter` as it was deleted; to the course and the owner."""
    unlinked = media.model_copy(
        update={"links": [x for x in media.links if x != link], "download_url": None}
    )
    event = MediaUnlinked.new(
        MediaLinkData(media=unlinked, chapter=chapter),
        at=at,
        course_id=chapter.course_id,
        resources=[
            *chapter_paths(chapter.course_id, chapter.chapter_id),
            *media_paths(media.media_id),
        ],
    )
    return Announcement.of(event, link_channels(chapter.course_id, media.user_id))


def _step_announcements(
    chapter: Chapter, linked: dict[str, MediaFile], link: MediaLink, at: datetime
) -> Callable[[list[str], bool], list[Announcement]]:
    """What each step of a chapter's deletion announces: the media.unlinked of
    the files it unlinks, and chapter.deleted with the last step."""

    def announce(media_ids: list[str], final: bool) -> list[Announcement]:
        steps = [_unlinked(chapter, linked[m], link, at) for m in media_ids]
        if final:
            deleted = ChapterDeleted.new(
                ChapterData(chapter=chapter),
                at=at,
                course_id=chapter.course_id,
                resources=chapter_paths(chapter.course_id, chapter.chapter_id),
            )
            steps.append(Announcement.of(deleted, chapter_channels(chapter.course_id)))
        return steps

    return announce


class CourseRecords(Protocol):
    """What a deletion reads and writes of the course (chalicelib/store/courses.py)."""

    def load(self, course_id: str, *, deleting: bool = False) -> CourseSnapshot | None: ...
    def list_chapters(self, course_id: str) -> list[Chapter]: ...
    def mark_deleting(self, course_id: str) -> None: ...
    def delete_course(
        self, course_id: str, announce: Sequence[Announcement] = ()
    ) -> list[Member]: ...


class ChapterDeletion(Protocol):
    """Deletes a chapter with its links (chalicelib/store/links.py)."""

    def delete_chapter(
        self,
        chapter: Chapter,
        linked: Collection[str],
        actor: str,
        at: datetime,
        announce: Callable[[list[str], bool], Sequence[Announcement]],
    ) -> None: ...


class Announcer(Protocol):
    """Commits events on their own, as the outbox does (chalicelib/store/outbox.py)."""

    def commit(
        self, items: Sequence[dict[str, Any]], announcements: Iterable[Announcement] = ()
    ) -> list[Envelope]: ...


class ChannelCloser(Protocol):
    """Ends every subscription to a channel (the realtime service)."""

    def end_channel(self, channel: str) -> int: ...


class RemovalService:
    def __init__(
        self,
        courses: CourseService,
        records: CourseRecords,
        media: MediaRepository,
        links: ChapterDeletion,
        announcer: Announcer,
        closer: ChannelCloser,
        *,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._courses = courses
        self._records = records
        self._media = media
        self._links = links
        self._announcer = announcer
        self._closer = closer
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts

    def delete_chapter(self, course_id: str, chapter_id: str, actor: str) -> None:
        """Owners and editors; a chapter that does not exist is NotFound."""
        self._courses.require_role(course_id, actor, WRITERS)
        self._delete_chapter(course_id, chapter_id, actor)

    def delete_course(self, course_id: str, actor: str) -> None:
        """Owners only. Running it again after an interruption finishes it."""
        self._courses.require_role(course_id, actor, OWNERS)
        self._records.mark_deleting(course_id)
        snapshot = self._records.load(course_id, deleting=True)
        if snapshot is None:  # a concurrent deletion finished it
            raise course_not_found()
        for chapter in self._records.list_chapters(course_id):
            try:
                self._delete_chapter(course_id, chapter.chapter_id, actor)
            except NotFound:
                continue  # deleted meanwhile
        event = CourseDeleted.new(
            CourseData(course=course_view(snapshot)),
            at=stamp(self._clock),
            course_id=course_id,
            resources=course_paths(course_id),
        )
        # The course's own channel hears it with the deletion itself; each
        # member's channel (what tells members who watch no course) after it,
        # a few channels per commit, as a transaction holds 100 items.
        gone = [Announcement.of(event, [course_channel(course_id)])]
        members = {m.user_id for m in self._records.delete_course(course_id, gone)}
        members.update(m.user_id for m in snapshot.members)
        channels = course_deleted_channels(course_id, sorted(members))[1:]
        for start in range(0, len(channels), _CHANNELS_PER_COMMIT):
            chunk = channels[start : start + _CHANNELS_PER_COMMIT]
            self._announcer.commit([], [Announcement.of(event, chunk)])
        self._end_subscriptions(course_id)

    def _delete_chapter(self, course_id: str, chapter_id: str, actor: str) -> None:
        link = MediaLink(course_id=course_id, chapter_id=chapter_id)
        for attempt in range(self._max_attempts):
            chapter = self._courses.get_chapter(course_id, chapter_id)
            files = self._media.get_many([item.media_id for item in chapter.items])
            linked = {m.media_id: m for m in files if link in m.links}

            now = stamp(self._clock)
            announce = _step_announcements(chapter, linked, link, now)
            try:
                self._links.delete_chapter(chapter, set(linked), actor, now, announce)
            except VersionConflict:
                self._sleep(backoff(attempt))
                continue
            return
        raise VersionConflict("the chapter is changing too fast; try again", code="chapter_busy")

    def _end_subscriptions(self, course_id: str) -> None:
        try:
            self._closer.end_channel(course_channel(course_id))
        except Exception:
            # The course is gone and answered for; no one can subscribe to it
            # again, and a subscription left behind dies with its connection.
            logger.exception("could not end the deleted course's subscriptions", courseId=course_id)
