"""Who receives an event, and what it changed: the channel names, the routing
rule of each scope, and the REST paths an event's `resources` name.

Services publish to the channels these rules give (docs/realtime.md's routing
table); a client refetches the `resources` when an event comes without `data`.
The messages themselves are in chalicelib/events.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.models import ChapterTarget, Upload, UploadTarget

# ---- channels: one naming rule, one routing rule per scope -----------------


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def course_channel(course_id: str) -> str:
    return f"course:{course_id}"


def upload_channels(upload: Upload) -> list[str]:
    """Upload events go to the uploader, and to the course when the target is a chapter."""
    channels = [user_channel(upload.user_id)]
    if isinstance(upload.target, ChapterTarget):
        channels.append(course_channel(upload.target.course_id))
    return channels


def link_channels(course_id: str, media_owner: str) -> list[str]:
    """media.linked / media.unlinked go to the course and to the media owner."""
    return [course_channel(course_id), user_channel(media_owner)]


def chapter_channels(course_id: str) -> list[str]:
    return [course_channel(course_id)]


def course_deleted_channels(course_id: str, member_ids: Sequence[str]) -> list[str]:
    """course.deleted goes to the course and to each member's own channel, so
    a member not watching the course still learns it is gone."""
    return [course_channel(course_id), *(user_channel(user_id) for user_id in member_ids)]


# ---- resources: the REST paths an event changed -----------------------------


def upload_path(operation_id: str) -> str:
    return f"/uploads/{operation_id}"


def media_paths(media_id: str) -> list[str]:
    return ["/media", f"/media/{media_id}"]


def chapter_paths(course_id: str, chapter_id: str) -> list[str]:
    return [
        f"/courses/{course_id}",
        f"/courses/{course_id}/chapters",
        f"/courses/{course_id}/chapters/{chapter_id}",
    ]


def course_paths(course_id: str) -> list[str]:
    return ["/courses", f"/courses/{course_id}"]


def target_course(target: UploadTarget) -> str | None:
    return target.course_id if isinstance(target, ChapterTarget) else None
