"""CoursesTable: a course, its members and its chapters in one partition.

    pk = COURSE#{courseId}   sk = META              title, createdBy, owners, nextPosition
                             sk = MEMBER#{userId}   role
                             sk = CHAPTER#{id}      title, position, version, items

One partition per course means `GET /courses/{courseId}` is a single query, and
the owner count on META lets a transaction refuse to remove the last owner
however many owners are demoted at once.

Items are mapped field by field (the attribute names are the table's, fixed by
what is stored), never dumped from the wire models: renaming a JSON field must
not rename an attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.auth import ROLES, Role
from chalicelib.domain.courses import CourseRecord, CourseSnapshot
from chalicelib.errors import Conflict, NotFound, VersionConflict
from chalicelib.events import Announcement
from chalicelib.ids import iso
from chalicelib.models import Chapter, ChapterItem, Member
from chalicelib.store.dynamo import Cancelled, ConditionFailed, Item, Table
from chalicelib.store.outbox import Outbox

META = "META"
MEMBER = "MEMBER#"
CHAPTER = "CHAPTER#"


def course_pk(course_id: str) -> str:
    return f"COURSE#{course_id}"


def chapter_key(course_id: str, chapter_id: str) -> dict[str, str]:
    return {"pk": course_pk(course_id), "sk": f"{CHAPTER}{chapter_id}"}


def member_key(course_id: str, user_id: str) -> dict[str, str]:
    return {"pk": course_pk(course_id), "sk": f"{MEMBER}{user_id}"}


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _item_metadata(raw: Item) -> dict[str, Any]:
    # Items linked before media had a lifecycle carry none of these: their
    # media reads as ready without metadata (chalicelib/store/media.py).
    duration = raw.get("durationSeconds")
    width, height = raw.get("width"), raw.get("height")
    return {
        "status": str(raw.get("status", "ready")),
        "duration_seconds": None if duration is None else float(duration),
        "width": None if width is None else int(width),
        "height": None if height is None else int(height),
        "has_poster": bool(raw.get("hasPoster", False)),
    }


def _item_metadata_attributes(item: ChapterItem) -> Item:
    attributes: Item = {"status": item.status, "hasPoster": item.has_poster}
    if item.duration_seconds is not None:
        attributes["durationSeconds"] = Decimal(str(item.duration_seconds))
    if item.width is not None:
        attributes["width"] = item.width
    if item.height is not None:
        attributes["height"] = item.height
    return attributes


def chapter_from_item(raw: Item) -> Chapter:
    return Chapter(
        course_id=str(raw["courseId"]),
        chapter_id=str(raw["chapterId"]),
        title=str(raw["title"]),
        position=int(raw["position"]),
        version=int(raw["version"]),
        items=[
            ChapterItem(
                media_id=str(i["mediaId"]),
                filename=str(i["filename"]),
                content_type=str(i["contentType"]),
                size=int(i["size"]),
                added_at=_time(i["addedAt"]),
                added_by=str(i["addedBy"]),
                **_item_metadata(i),
            )
            for i in raw.get("items", [])
        ],
        created_at=_time(raw["createdAt"]),
        updated_at=_time(raw["updatedAt"]),
    )


def chapter_to_item(chapter: Chapter) -> Item:
    return {
        **chapter_key(chapter.course_id, chapter.chapter_id),
        "courseId": chapter.course_id,
        "chapterId": chapter.chapter_id,
        "title": chapter.title,
        "position": chapter.position,
        "version": chapter.version,
        "items": [
            {
                "mediaId": i.media_id,
                "filename": i.filename,
                "contentType": i.content_type,
                "size": i.size,
                "addedAt": iso(i.added_at),
                "addedBy": i.added_by,
                **_item_metadata_attributes(i),
            }
            for i in chapter.items
        ],
        "createdAt": iso(chapter.created_at),
        "updatedAt": iso(chapter.updated_at),
    }


def _role(value: Any) -> Role:
    for role in ROLES:
        if value == role:
            return role
    raise ValueError(f"unknown role {value!r}")


class CourseStore:
    """Chapter writes commit with the events that announce them (the outbox,
    chalicelib/store/outbox.py), in one transaction."""

    def __init__(self, table: Table, outbox: Outbox) -> None:
        self._table = table
        self._outbox = outbox

    # ---- reads ---------------------------------------------------------------
    def role_of(self, course_id: str, user_id: str) -> Role | None:
        item = self._table.get(member_key(course_id, user_id))
        return _role(item["role"]) if item else None

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None:
        item = self._table.get(chapter_key(course_id, chapter_id))
        return chapter_from_item(item) if item else None

    def _partition(self, course_id: str, prefix: str = "") -> list[Item]:
        if prefix:
            condition = "pk = :pk AND begins_with(sk, :prefix)"
            values = {":pk": course_pk(course_id), ":prefix": prefix}
        else:
            condition, values = "pk = :pk", {":pk": course_pk(course_id)}
        return list(self._table.query(condition, values))

    def list_chapters(self, course_id: str) -> list[Chapter]:
        chapters = [chapter_from_item(i) for i in self._partition(course_id, CHAPTER)]
        return sorted(chapters, key=lambda c: (c.position, c.chapter_id))

    def load(self, course_id: str) -> CourseSnapshot | None:
        course: CourseRecord | None = None
        members: list[Member] = []
        chapters: list[Chapter] = []
        for item in self._partition(course_id):
            sk = str(item["sk"])
            if sk == META:
                course = CourseRecord(
                    course_id=course_id,
                    title=str(item["title"]),
                    created_by=str(item["createdBy"]),
                    created_at=_time(item["createdAt"]),
                )
            elif sk.startswith(MEMBER):
                members.append(Member(user_id=str(item["userId"]), role=_role(item["role"])))
            elif sk.startswith(CHAPTER):
                chapters.append(chapter_from_item(item))
        if course is None:
            return None
        chapters.sort(key=lambda c: (c.position, c.chapter_id))
        members.sort(key=lambda m: (ROLES.index(m.role), m.user_id))
        return CourseSnapshot(course, members, chapters)

    # ---- writes --------------------------------------------------------------
    def create_course(self, course: CourseRecord) -> None:
        """The course and its creator as its first owner, atomically."""
        meta = {
            "pk": course_pk(course.course_id),
            "sk": META,
            "courseId": course.course_id,
            "title": course.title,
            "createdBy": course.created_by,
            "createdAt": iso(course.created_at),
            "owners": 1,
            "nextPosition": 0,
        }
        owner = {
            **member_key(course.course_id, course.created_by),
            "userId": course.created_by,
            "role": "owner",
        }
        try:
            self._table.transact(
                [
                    self._table.tx_put(meta, condition="attribute_not_exists(pk)"),
                    self._table.tx_put(owner),
                ]
            )
        except Cancelled:
            raise Conflict("the course exists already", code="duplicate_course") from None

    def set_role(self, course_id: str, user_id: str, role: Role, previous: Role | None) -> None:
        """Give `user_id` `role`, provided their role is still `previous`.

        The owner count on META moves in the same transaction, conditioned to
        stay at one or more, so concurrent demotions cannot orphan a course."""
        if role == previous:
            return
        member = {**member_key(course_id, user_id), "userId": user_id, "role": role}
        items = [self._table.tx_put(member, **self._still(previous))]
        delta = (role == "owner") - (previous == "owner")
        if delta:
            items.append(self._owner_count(course_id, delta))
        self._transact(items)

    def remove_member(self, course_id: str, user_id: str, previous: Role) -> None:
        key = member_key(course_id, user_id)
        items = [self._table.tx_delete(key, **self._still(previous))]
        if previous == "owner":
            items.append(self._owner_count(course_id, -1))
        self._transact(items)

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
        key = {"pk": course_pk(course_id), "sk": META}
        if delta < 0:
            condition, values = "owners > :one", {":delta": delta, ":one": 1}
        else:
            condition, values = "attribute_exists(pk)", {":delta": delta}
        return self._table.tx_update(
            key, "SET owners = owners + :delta", condition=condition, values=values
        )

    def _transact(self, items: list[dict[str, Any]]) -> None:
        try:
            self._table.transact(items)
        except Cancelled as cancelled:
            # A stale read of the member outranks the owner count: the caller's
            # premise was wrong, whatever the count says.
            if cancelled.failed(1) and not cancelled.failed(0):
                raise Conflict("a course must keep at least one owner", code="last_owner") from None
            raise Conflict(
                "the membership changed meanwhile; read it again", code="member_changed"
            ) from None

    def next_position(self, course_id: str) -> int:
        """Reserve the next chapter position (a gap after a failed create is harmless)."""
        try:
            old = self._table.update(
                {"pk": course_pk(course_id), "sk": META},
                "SET nextPosition = nextPosition + :one",
                condition="attribute_exists(pk)",
                values={":one": 1},
                returns="UPDATED_OLD",
            )
        except ConditionFailed:
            raise NotFound("course not found", code="course_not_found") from None
        return int(old["nextPosition"])

    def put_chapter(self, chapter: Chapter, announce: Sequence[Announcement] = ()) -> None:
        item = self._table.tx_put(chapter_to_item(chapter), condition="attribute_not_exists(pk)")
        try:
            self._outbox.commit([item], announce)
        except Cancelled:
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
