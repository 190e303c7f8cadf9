"""Course records as the services see them, whatever DynamoDB holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.models import Chapter, Member


@dataclass(frozen=True)
class CourseRecord:
    """What a course is, without its members and chapters."""

    course_id: str
    title: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class CourseSnapshot:
    """A course with its members and chapters, read together."""

    course: CourseRecord
    members: list[Member]
    chapters: list[Chapter]
