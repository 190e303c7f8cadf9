"""Course records as the services see them, whatever DynamoDB holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.auth import Role
from chalicelib.domain.pages import PagePosition
from chalicelib.models import Chapter, Member


@dataclass(frozen=True)
class CourseRecord:
    """What a course is, without its members and chapters. `version` and
    `updated_at` move when the record itself (its title) changes."""

    course_id: str
    title: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class CourseSnapshot:
    """A course with its members and chapters, read together."""

    course: CourseRecord
    members: list[Member]
    chapters: list[Chapter]


@dataclass(frozen=True)
class Membership:
    """One course in a user's course list. `changed_at` orders the list: when
    the course was last renamed or the user's role in it last changed."""

    course_id: str
    role: Role
    changed_at: str


@dataclass(frozen=True)
class MembershipPage:
    """One page of a user's memberships, most recently changed first; `last`
    is None on the last page."""

    items: list[Membership]
    last: PagePosition | None
