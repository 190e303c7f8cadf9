"""The CoursesTable's keys and items, mapped field by field.

    pk = COURSE#{courseId}   sk = META              title, createdBy, version, updatedAt,
                                                    owners, nextPosition, deleting?
                             sk = MEMBER#{userId}   userId, role, changedAt
                             sk = CHAPTER#{id}      title, position, version, items

    GSI byMember (userId, changedAt): only member items carry both, so it holds
    exactly one entry per membership: a user's course list, newest change first.

The attribute names are the table's, fixed by what is stored, never dumped
from the wire models: renaming a JSON field must not rename an attribute.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.auth import ROLES, Role
from chalicelib.domain.courses import CourseRecord
from chalicelib.ids import iso
from chalicelib.models import Chapter, ChapterItem, Member
from chalicelib.store.dynamo import Item

META = "META"
MEMBER = "MEMBER#"
CHAPTER = "CHAPTER#"
BY_MEMBER = "byMember"
PREFIX = "COURSE#"
# The course exists and is not being deleted.
LIVE = "attribute_exists(pk) AND attribute_not_exists(deleting)"


def course_pk(course_id: str) -> str:
    return f"{PREFIX}{course_id}"


def course_of(pk: Any) -> str:
    return str(pk)[len(PREFIX) :]


def meta_key(course_id: str) -> dict[str, str]:
    return {"pk": course_pk(course_id), "sk": META}


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


def record_to_item(course: CourseRecord) -> Item:
    """A new course's META item: one owner, no chapter positions used yet."""
    return {
        **meta_key(course.course_id),
        "courseId": course.course_id,
        "title": course.title,
        "createdBy": course.created_by,
        "createdAt": iso(course.created_at),
        "updatedAt": iso(course.updated_at),
        "version": course.version,
        "owners": 1,
        "nextPosition": 0,
    }


def record_from_item(item: Item) -> CourseRecord:
    return CourseRecord(
        course_id=course_of(item["pk"]),
        title=str(item["title"]),
        created_by=str(item["createdBy"]),
        created_at=_time(item["createdAt"]),
        updated_at=_time(item["updatedAt"]),
        version=int(item["version"]),
    )


def member_item(course_id: str, user_id: str, role: Role, at: datetime) -> Item:
    return {
        **member_key(course_id, user_id),
        "userId": user_id,
        "role": role,
        "changedAt": iso(at),
    }


def member_from_item(item: Item) -> Member:
    return Member(user_id=str(item["userId"]), role=role_of_item(item))


def role_of_item(item: Item) -> Role:
    value = item["role"]
    for role in ROLES:
        if value == role:
            return role
    raise ValueError(f"unknown role {value!r}")


def ordered(members: list[Member]) -> list[Member]:
    """Owners, then editors, then viewers; by user id within a role."""
    return sorted(members, key=lambda m: (ROLES.index(m.role), m.user_id))
