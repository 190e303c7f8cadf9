"""A user's course list: the byMember index over the member items of
CoursesTable (chalicelib/store/course_items.py), and the course records it
names.

A member's `changedAt` is when the course was last renamed or their role in it
last changed (CourseStore writes it).
"""

from __future__ import annotations

from chalicelib.domain.courses import CourseRecord, Membership, MembershipPage
from chalicelib.domain.pages import PagePosition
from chalicelib.store.course_items import (
    BY_MEMBER,
    course_of,
    member_key,
    meta_key,
    record_from_item,
    role_of_item,
)
from chalicelib.store.dynamo import Table


class MembershipIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    def memberships(
        self, user_id: str, limit: int, after: PagePosition | None = None
    ) -> MembershipPage:
        """A page of the user's memberships, most recently changed first. The
        index is eventually consistent: a course joined a moment ago may be
        missing for that moment."""
        start = None
        if after is not None:
            start = {
                **member_key(after.item_id, user_id),
                "userId": user_id,
                "changedAt": after.at,
            }
        page = self._table.query_page(
            "userId = :u",
            {":u": user_id},
            index=BY_MEMBER,
            forward=False,
            limit=limit,
            start=start,
        )
        items = [
            Membership(
                course_id=course_of(i["pk"]),
                role=role_of_item(i),
                changed_at=str(i["changedAt"]),
            )
            for i in page.items
        ]
        last = page.last_key
        position = None
        if last is not None:
            position = PagePosition(course_of(last["pk"]), str(last["changedAt"]))
        return MembershipPage(items, position)

    def records(self, course_ids: list[str]) -> dict[str, CourseRecord]:
        """The course records of `course_ids` that exist and are not being deleted."""
        found = self._table.get_many([meta_key(c) for c in course_ids])
        records = [record_from_item(item) for item in found if "deleting" not in item]
        return {r.course_id: r for r in records}
