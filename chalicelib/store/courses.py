"""CoursesTable: a course, its members and its chapters in one partition
(the layout: chalicelib/store/course_items.py).

One partition per course means `GET /courses/{courseId}` is a single query, and
the owner count on META lets a transaction refuse to remove the last owner
however many owners are demoted at once.

Deleting a course first marks META `deleting`: from then on the course reads as
gone and no member or chapter can be added to it, so the deletion that follows,
in several writes, cannot race a new member or chapter into a deleted course.

A member's `changedAt` orders their course list: when the course was last
renamed or their role in it last changed. A rename rewrites it on every member
item (one write per member); chapter edits, the frequent writes, leave it alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.auth import Role
from chalicelib.domain.courses import CourseRecord, CourseSnapshot
from chalicelib.errors import Conflict, NotFound, VersionConflict
from chalicelib.events import Announcement
from chalicelib.ids import iso
from chalicelib.models import Chapter, Member
from chalicelib.store.course_items import (
    CHAPTER,
    LIVE,
    MEMBER,
    META,
    chapter_from_item,
    chapter_key,
    chapter_to_item,
    course_pk,
    member_from_item,
    member_item,
    member_key,
    meta_key,
    ordered,
    record_from_item,
    record_to_item,
    role_of_item,
)
from chalicelib.store.dynamo import Cancelled, ConditionFailed, Item, Table
from chalicelib.store.outbox import Outbox

# A transaction holds at most 100 items.
TRANSACTION_ITEMS = 100


def course_gone() -> NotFound:
    return NotFound("course not found", code="course_not_found")


def partition(table: Table, course_id: str, prefix: str = "") -> list[Item]:
    """A course's items, or those whose sort key starts with `prefix`."""
    if prefix:
        condition = "pk = :pk AND begins_with(sk, :prefix)"
        values = {":pk": course_pk(course_id), ":prefix": prefix}
    else:
        condition, values = "pk = :pk", {":pk": course_pk(course_id)}
    return list(table.query(condition, values))


class CourseStore:
    """Chapter writes commit with the events that announce them (the outbox,
    chalicelib/store/outbox.py), in one transaction."""

    def __init__(self, table: Table, outbox: Outbox) -> None:
        self._table = table
        self._outbox = outbox

    # ---- reads ---------------------------------------------------------------
    def role_of(self, course_id: str, user_id: str) -> Role | None:
        item = self._table.get(member_key(course_id, user_id))
        return role_of_item(item) if item else None

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None:
        item = self._table.get(chapter_key(course_id, chapter_id))
        return chapter_from_item(item) if item else None

    def _partition(self, course_id: str, prefix: str = "") -> list[Item]:
        return partition(self._table, course_id, prefix)

    def list_chapters(self, course_id: str) -> list[Chapter]:
        chapters = [chapter_from_item(i) for i in self._partition(course_id, CHAPTER)]
        return sorted(chapters, key=lambda c: (c.position, c.chapter_id))

    def load(self, course_id: str, *, deleting: bool = False) -> CourseSnapshot | None:
        """The course with its members and chapters; None when there is no
        such course, or (unless `deleting`) it is being deleted."""
        course: CourseRecord | None = None
        members: list[Member] = []
        chapters: list[Chapter] = []
        for item in self._partition(course_id):
            sk = str(item["sk"])
            if sk == META:
                if "deleting" in item and not deleting:
                    return None
                course = record_from_item(item)
            elif sk.startswith(MEMBER):
                members.append(member_from_item(item))
            elif sk.startswith(CHAPTER):
                chapters.append(chapter_from_item(item))
        if course is None:
            return None
        chapters.sort(key=lambda c: (c.position, c.chapter_id))
        return CourseSnapshot(course, ordered(members), chapters)

    def list_members(self, course_id: str) -> list[Member]:
        return ordered([member_from_item(i) for i in self._partition(course_id, MEMBER)])

    # ---- writes --------------------------------------------------------------
    def create_course(self, course: CourseRecord) -> None:
        """The course and its creator as its first owner, atomically."""
        meta = record_to_item(course)
        owner = member_item(course.course_id, course.created_by, "owner", course.created_at)
        try:
            self._table.transact(
                [
                    self._table.tx_put(meta, condition="attribute_not_exists(pk)"),
                    self._table.tx_put(owner),
                ]
            )
        except Cancelled:
            raise Conflict("the course exists already", code="duplicate_course") from None

    def set_role(
        self, course_id: str, user_id: str, role: Role, previous: Role | None, at: datetime
    ) -> None:
        """Give `user_id` `role`, provided their role is still `previous` and
        the course is not being deleted; the course moves to the top of their
        course list.

        The owner count on META moves in the same transaction, conditioned to
        stay at one or more, so concurrent demotions cannot orphan a course."""
        if role == previous:
            return
        member = member_item(course_id, user_id, role, at)
        items = [self._table.tx_put(member, **self._still(previous))]
        items.append(self._owner_count(course_id, (role == "owner") - (previous == "owner")))
        self._transact(course_id, items)

    def remove_member(self, course_id: str, user_id: str, previous: Role) -> None:
        key = member_key(course_id, user_id)
        items = [self._table.tx_delete(key, **self._still(previous))]
        items.append(self._owner_count(course_id, -1 if previous == "owner" else 0))
        self._transact(course_id, items)

    @staticmethod
    def _still(previous: Role | None) -> dict[str, Any]:
        """The condition that the member's role is still what the caller read."""
        if previous is None:
            return {"condition": "attribute_not_exists(pk)"}
        return {
            "condition": "#role = :previous",
            "names": {"#role": "role"},
            "values": {":previous": previous},
        }

    def _owner_count(self, course_id: str, delta: int) -> dict[str, Any]:
        """META's part of a membership change: the owner count moves by
        `delta`, never below one, and the course must be live."""
        key = meta_key(course_id)
        if delta == 0:
            return self._table.tx_check(key, condition=LIVE)
        if delta < 0:
            condition, values = f"{LIVE} AND owners > :one", {":delta": delta, ":one": 1}
        else:
            condition, values = LIVE, {":delta": delta}
        return self._table.tx_update(
            key, "SET owners = owners + :delta", condition=condition, values=values
        )

    def _transact(self, course_id: str, items: list[dict[str, Any]]) -> None:
        try:
            self._table.transact(items)
        except Cancelled as cancelled:
            # A stale read of the member outranks the owner count: the caller's
            # premise was wrong, whatever the count says.
            if cancelled.failed(1) and not cancelled.failed(0):
                if self._live(course_id):
                    raise Conflict(
                        "a course must keep at least one owner", code="last_owner"
                    ) from None
                raise course_gone() from None
            raise Conflict(
                "the membership changed meanwhile; read it again", code="member_changed"
            ) from None

    def _live(self, course_id: str) -> bool:
        """Whether the course is still live: if so, a failed META condition
        was the owner count's."""
        item = self._table.get(meta_key(course_id))
        return item is not None and "deleting" not in item

    def next_position(self, course_id: str) -> int:
        """Reserve the next chapter position (a gap after a failed create is harmless)."""
        try:
            old = self._table.update(
                meta_key(course_id),
                "SET nextPosition = nextPosition + :one",
                condition=LIVE,
                values={":one": 1},
                returns="UPDATED_OLD",
            )
        except ConditionFailed:
            raise course_gone() from None
        return int(old["nextPosition"])

    def put_chapter(self, chapter: Chapter, announce: Sequence[Announcement] = ()) -> None:
        """Add a chapter to a live course (never to one being deleted)."""
        items = [
            self._table.tx_put(chapter_to_item(chapter), condition="attribute_not_exists(pk)"),
            self._table.tx_check(meta_key(chapter.course_id), condition=LIVE),
        ]
        try:
            self._outbox.commit(items, announce)
        except Cancelled as cancelled:
            if cancelled.failed(1):
                raise course_gone() from None
            raise Conflict("the chapter exists already", code="duplicate_chapter") from None

    def replace_chapter(
        self, chapter: Chapter, expected_version: int, announce: Sequence[Announcement] = ()
    ) -> None:
        """Write `chapter` only if the stored one is still at `expected_version`."""
        item = self._table.tx_put(
            chapter_to_item(chapter),
            condition="version = :expected",
            values={":expected": expected_version},
        )
        try:
            self._outbox.commit([item], announce)
        except Cancelled:
            raise VersionConflict("the chapter changed since that version") from None

    # ---- the course record -----------------------------------------------------
    def rename(
        self,
        course_id: str,
        title: str,
        expected_version: int,
        at: datetime,
        announce: Sequence[Announcement] = (),
    ) -> None:
        """Retitle the course if it is still at `expected_version`, with the
        events that announce it. A stale version is VersionConflict, naming
        the current one."""
        update = self._table.tx_update(
            meta_key(course_id),
            "SET title = :title, version = version + :one, updatedAt = :at",
            condition=f"{LIVE} AND version = :expected",
            values={":title": title, ":one": 1, ":at": iso(at), ":expected": expected_version},
        )
        try:
            self._outbox.commit([update], announce)
        except Cancelled:
            current = self._table.get(meta_key(course_id))
            if current is None or "deleting" in current:
                raise course_gone() from None
            raise VersionConflict(
                "the course changed since that version",
                details=[{"expected": expected_version, "current": int(current["version"])}],
            ) from None

    def touch_members(self, course_id: str, at: datetime) -> None:
        """Move the course to the top of every member's course list. One
        write per member, each conditioned never to move a stamp backwards
        (a later change may have written a later one)."""
        stamp = iso(at)
        for item in self._partition(course_id, MEMBER):
            try:
                self._table.update(
                    {"pk": item["pk"], "sk": item["sk"]},
                    "SET changedAt = :at",
                    condition="attribute_exists(pk) AND changedAt < :at",
                    values={":at": stamp},
                )
            except ConditionFailed:
                continue  # removed meanwhile, or changed later than `at`

    # ---- deletion --------------------------------------------------------------
    def mark_deleting(self, course_id: str) -> None:
        """From now on the course reads as gone and takes no new member or
        chapter. Marking twice (a retried deletion) is harmless."""
        try:
            self._table.update(
                meta_key(course_id),
                "SET deleting = :yes",
                condition="attribute_exists(pk)",
                values={":yes": True},
            )
        except ConditionFailed:
            raise course_gone() from None

    def delete_course(self, course_id: str, announce: Sequence[Announcement] = ()) -> list[Member]:
        """Delete the (chapterless, marked) course's members and record; the
        members it had. Non-owners go first in batches; the owners go with
        META, and the events announcing the deletion, in one transaction, so
        an interrupted deletion leaves an owner who can run it again."""
        members = self.list_members(course_id)
        others = [member_key(course_id, m.user_id) for m in members if m.role != "owner"]
        self._table.write_batch(deletes=others)
        owners = [member_key(course_id, m.user_id) for m in members if m.role == "owner"]
        # Past 80 owners, the extra ones go in batches before the last
        # transaction, which also holds META and the announcement's items.
        fits = TRANSACTION_ITEMS - 20
        self._table.write_batch(deletes=owners[fits:])
        requests = [self._table.tx_delete(key) for key in owners[:fits]]
        self._outbox.commit([*requests, self._table.tx_delete(meta_key(course_id))], announce)
        return members
