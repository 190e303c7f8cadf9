"""Courses, members and chapters: who may do what in a course, and chapter
changes under optimistic concurrency.

Role rules (docs/API.md, "Courses, chapters and media"): a non-member gets 404
for every course resource, so nobody learns that a course exists by probing;
any member reads; owners and editors write chapters; only owners manage members.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from chalicelib.auth import ROLES, WRITERS, Role
from chalicelib.channels import chapter_channels, chapter_paths, course_channel, course_paths
from chalicelib.clock import Clock, stamp
from chalicelib.domain.courses import CourseRecord, CourseSnapshot
from chalicelib.errors import Forbidden, InvalidInput, NotFound, VersionConflict
from chalicelib.events import Announcement, ChapterData, ChapterUpdated, CourseData, CourseUpdated
from chalicelib.ids import new_id
from chalicelib.logging import logger
from chalicelib.models import Chapter, Course, Member

OWNERS: frozenset[Role] = frozenset({"owner"})
MEMBERS: frozenset[Role] = frozenset(ROLES)


class CourseRepository(Protocol):
    def role_of(self, course_id: str, user_id: str) -> Role | None: ...
    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None: ...
    def list_chapters(self, course_id: str) -> list[Chapter]: ...
    def load(self, course_id: str, *, deleting: bool = False) -> CourseSnapshot | None: ...
    def list_members(self, course_id: str) -> list[Member]: ...
    def create_course(self, course: CourseRecord) -> None: ...
    def set_role(
        self, course_id: str, user_id: str, role: Role, previous: Role | None, at: datetime
    ) -> None: ...
    def remove_member(self, course_id: str, user_id: str, previous: Role) -> None: ...
    def next_position(self, course_id: str) -> int: ...
    def put_chapter(self, chapter: Chapter, announce: Sequence[Announcement] = ()) -> None: ...
    def replace_chapter(
        self, chapter: Chapter, expected_version: int, announce: Sequence[Announcement] = ()
    ) -> None: ...
    def rename(
        self,
        course_id: str,
        title: str,
        expected_version: int,
        at: datetime,
        announce: Sequence[Announcement] = (),
    ) -> None: ...
    def touch_members(self, course_id: str, at: datetime) -> None: ...


class AccessRevoker(Protocol):
    """Ends a user's live subscriptions to a channel (the realtime service)."""

    def revoke(self, user_id: str, channel: str) -> int: ...


def course_not_found() -> NotFound:
    return NotFound("course not found", code="course_not_found")


def course_view(snapshot: CourseSnapshot) -> Course:
    c = snapshot.course
    return Course(
        course_id=c.course_id,
        title=c.title,
        created_by=c.created_by,
        created_at=c.created_at,
        updated_at=c.updated_at,
        version=c.version,
        members=snapshot.members,
        chapters=snapshot.chapters,
    )


def chapter_announcement(chapter: Chapter, extra_resources: Sequence[str] = ()) -> Announcement:
    """`chapter.updated` with the chapter's new state, for the course."""
    event = ChapterUpdated.new(
        ChapterData(chapter=chapter),
        at=chapter.updated_at,
        course_id=chapter.course_id,
        resources=[*chapter_paths(chapter.course_id, chapter.chapter_id), *extra_resources],
    )
    return Announcement.of(event, chapter_channels(chapter.course_id))


class CourseService:
    def __init__(
        self,
        store: CourseRepository,
        revoker: AccessRevoker | None = None,
        *,
        clock: Clock = time.time,
    ) -> None:
        self._store = store
        self._clock = clock
        self._revoker = revoker

    # ---- access --------------------------------------------------------------
    def role_of(self, course_id: str, user_id: str) -> Role | None:
        return self._store.role_of(course_id, user_id)

    def require_role(self, course_id: str, user_id: str, allowed: Collection[Role]) -> Role:
        """The caller's role if it is one of `allowed`. A non-member (or a course
        that does not exist) is NotFound, so probing reveals nothing; a member
        whose role is not allowed is Forbidden."""
        role = self._store.role_of(course_id, user_id)
        if role is None:
            raise course_not_found()
        if role not in allowed:
            raise Forbidden(
                f"a course {role} may not do this",
                code="forbidden",
                details=[{"role": role, "allowed": sorted(allowed)}],
            )
        return role

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter:
        chapter = self._store.get_chapter(course_id, chapter_id)
        if chapter is None:
            raise NotFound("chapter not found", code="chapter_not_found")
        return chapter

    # ---- courses -------------------------------------------------------------
    def create_course(self, user_id: str, title: str) -> Course:
        now = stamp(self._clock)
        record = CourseRecord(new_id("c"), title, user_id, now, now, version=1)
        self._store.create_course(record)
        return course_view(CourseSnapshot(record, [Member(user_id=user_id, role="owner")], []))

    def get_course(self, course_id: str, user_id: str) -> Course:
        snapshot = self._store.load(course_id)
        if snapshot is None or not any(m.user_id == user_id for m in snapshot.members):
            raise course_not_found()
        return course_view(snapshot)

    def rename_course(self, course_id: str, actor: str, *, version: int, title: str) -> Course:
        """Retitle a course the writer read at `version`; a stale version is a
        VersionConflict (409) and writes nothing. The course moves to the top
        of every member's course list."""
        self.require_role(course_id, actor, WRITERS)
        snapshot = self._store.load(course_id)
        if snapshot is None:
            raise course_not_found()
        if snapshot.course.version != version:
            raise VersionConflict(
                "the course changed since that version",
                details=[{"expected": version, "current": snapshot.course.version}],
            )
        now = stamp(self._clock)
        record = replace(snapshot.course, title=title, version=version + 1, updated_at=now)
        course = course_view(replace(snapshot, course=record))
        event = CourseUpdated.new(
            CourseData(course=course),
            at=now,
            course_id=course_id,
            resources=course_paths(course_id),
        )
        # The rename commits with its event; a concurrent chapter change makes
        # the event's chapters one step old, and its own chapter.updated follows.
        announce = [Announcement.of(event, [course_channel(course_id)])]
        self._store.rename(course_id, title, version, now, announce)
        self._touch(course_id, now)
        return course

    def _touch(self, course_id: str, at: datetime) -> None:
        try:
            self._store.touch_members(course_id, at)
        except Exception:
            # The rename is committed; a course list left in the old order
            # is put right by the next change, so this is logged, not raised.
            logger.exception("could not reorder the members' course lists", courseId=course_id)

    # ---- members -------------------------------------------------------------
    def list_members(self, course_id: str, user_id: str) -> list[Member]:
        self.require_role(course_id, user_id, MEMBERS)
        return self._store.list_members(course_id)

    def set_member(self, course_id: str, actor: str, user_id: str, role: Role) -> Member:
        self.require_role(course_id, actor, OWNERS)
        previous = self._store.role_of(course_id, user_id)
        self._store.set_role(course_id, user_id, role, previous, stamp(self._clock))
        return Member(user_id=user_id, role=role)

    def remove_member(self, course_id: str, actor: str, user_id: str) -> None:
        self.require_role(course_id, actor, OWNERS)
        previous = self._store.role_of(course_id, user_id)
        if previous is None:
            raise NotFound("that user is not a member of the course", code="member_not_found")
        self._store.remove_member(course_id, user_id, previous)
        self._end_live_access(course_id, user_id)

    def _end_live_access(self, course_id: str, user_id: str) -> None:
        """A removed member must stop receiving the course's events now, not when
        their connection next reconnects (up to API Gateway's 2 hours)."""
        if self._revoker is None:
            return
        try:
            self._revoker.revoke(user_id, course_channel(course_id))
        except Exception:
            # The removal itself is committed and answered; a subscription left
            # behind still dies with its connection, so this is logged, not raised.
            logger.exception(
                "could not end a removed member's subscriptions",
                extra={"courseId": course_id, "userId": user_id},
            )

    # ---- chapters ------------------------------------------------------------
    def list_chapters(self, course_id: str, user_id: str) -> list[Chapter]:
        self.require_role(course_id, user_id, MEMBERS)
        return self._store.list_chapters(course_id)

    def read_chapter(self, course_id: str, chapter_id: str, user_id: str) -> Chapter:
        self.require_role(course_id, user_id, MEMBERS)
        return self.get_chapter(course_id, chapter_id)

    def create_chapter(self, course_id: str, actor: str, title: str) -> Chapter:
        self.require_role(course_id, actor, WRITERS)
        now = stamp(self._clock)
        chapter = Chapter(
            course_id=course_id,
            chapter_id=new_id("ch"),
            title=title,
            position=self._store.next_position(course_id),
            version=1,
            items=[],
            created_at=now,
            updated_at=now,
        )
        self._store.put_chapter(chapter, [chapter_announcement(chapter)])
        return chapter

    def patch_chapter(
        self,
        course_id: str,
        chapter_id: str,
        actor: str,
        *,
        version: int,
        title: str | None = None,
        item_order: Sequence[str] | None = None,
    ) -> Chapter:
        """Retitle or reorder a chapter the writer read at `version`; a stale
        version is a VersionConflict (409) and writes nothing."""
        self.require_role(course_id, actor, WRITERS)
        if title is None and item_order is None:
            raise InvalidInput("nothing to change: give title or itemOrder", code="empty_patch")
        current = self.get_chapter(course_id, chapter_id)
        if current.version != version:
            raise VersionConflict(
                "the chapter changed since that version",
                details=[{"expected": version, "current": current.version}],
            )
        items = current.items
        if item_order is not None:
            by_id = {item.media_id: item for item in current.items}
            if len(item_order) != len(by_id) or set(item_order) != set(by_id):
                raise InvalidInput(
                    "itemOrder must list each of the chapter's mediaIds exactly once",
                    code="invalid_item_order",
                    details=[{"field": "itemOrder", "expected": sorted(by_id)}],
                )
            items = [by_id[media_id] for media_id in item_order]
        updated = current.model_copy(
            update={
                "title": current.title if title is None else title,
                "items": items,
                "version": current.version + 1,
                "updated_at": stamp(self._clock),
            }
        )
        self._store.replace_chapter(
            updated, expected_version=current.version, announce=[chapter_announcement(updated)]
        )
        return updated
