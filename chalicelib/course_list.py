"""`GET /courses`: the caller's courses with their role, most recently changed
first, in pages continued by signed tokens (chalicelib/pages.py).

A page is one query of the byMember index (the caller's memberships in order)
and one batch read of the courses it names; a course whose deletion has begun
is left out.
"""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.courses import CourseRecord, MembershipPage
from chalicelib.domain.pages import PagePosition
from chalicelib.models import CourseSummary
from chalicelib.pages import MAX_PAGE_SIZE, PAGE_SIZE, PageTokens


class MembershipRepository(Protocol):
    def memberships(
        self, user_id: str, limit: int, after: PagePosition | None = None
    ) -> MembershipPage: ...
    def records(self, course_ids: list[str]) -> dict[str, CourseRecord]: ...


class CourseList:
    def __init__(self, index: MembershipRepository, tokens: PageTokens) -> None:
        self._index = index
        self._tokens = tokens

    def courses(
        self, user_id: str, limit: int = PAGE_SIZE, next_token: str | None = None
    ) -> tuple[list[CourseSummary], str | None]:
        start = self._tokens.decode(user_id, next_token) if next_token else None
        page = self._index.memberships(user_id, min(limit, MAX_PAGE_SIZE), start)
        records = self._index.records([m.course_id for m in page.items]) if page.items else {}
        courses = [
            CourseSummary(
                course_id=record.course_id,
                title=record.title,
                role=membership.role,
                created_by=record.created_by,
                created_at=record.created_at,
                updated_at=record.updated_at,
                version=record.version,
            )
            for membership in page.items
            if (record := records.get(membership.course_id)) is not None
        ]
        token = self._tokens.encode(user_id, page.last) if page.last else None
        return courses, token
