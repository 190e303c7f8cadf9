"""CoursesTable: a course, its members and its chapters in one partition.

    pk = COURSE#{courseId}   sk = META              title, createdBy, owners, nextPosition
                             sk = MEMBER#{userId}   role
                             sk = CHAPTER#{id}      title, position, version, items

One partition per course means `GET /courses/{courseId}` is a single query, and
the owner count on META lets a transaction refuse to remove the last owner
however many owners are demoted at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.auth import ROLES, Role
from chalicelib.errors import Conflict, DomainError, NotFound, VersionConflict
from chalicelib.ids import iso
from chalicelib.models import Chapter, ChapterItem, Member
from chalicelib.store.aws_errors import AWS_ERRORS, AwsError, error_code, translate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

META = "META"
MEMBER = "MEMBER#"
CHAPTER = "CHAPTER#"


def course_pk(course_id: str) -> str:
    return f"COURSE#{course_id}"


def chapter_key(course_id: str, chapter_id: str) -> dict[str, str]:
    return {"pk": course_pk(course_id), "sk": f"{CHAPTER}{chapter_id}"}


def member_key(course_id: str, user_id: str) -> dict[str, str]:
    return {"pk": course_pk(course_id), "sk": f"{MEMBER}{user_id}"}


class CourseRecord:
    """The META item: what a course is, without its members and chapters."""

    __slots__ = ("course_id", "created_at", "created_by", "title")

    def __init__(self, course_id: str, title: str, created_by: str, created_at: datetime) -> None:
        self.course_id = course_id
        self.title = title
        self.created_by = created_by
        self.created_at = created_at


class CourseSnapshot:
    """Everything in a course's partition, read in one query."""

    __slots__ = ("chapters", "course", "members")

    def __init__(
        self, course: CourseRecord, members: list[Member], chapters: list[Chapter]
    ) -> None:
        self.course = course
        self.members = members
        self.chapters = chapters


def chapter_from_item(raw: dict[str, Any]) -> Chapter:
    return Chapter(
        course_id=str(raw["courseId"]),
        chapter_id=str(raw["chapterId"]),
        title=str(raw["title"]),
        position=int(raw["position"]),
        version=int(raw["version"]),
        items=[
            ChapterItem.model_validate({**i, "size": int(i["size"])}) for i in raw.get("items", [])
        ],
        created_at=raw["createdAt"],
        updated_at=raw["updatedAt"],
    )


def chapter_to_item(chapter: Chapter) -> dict[str, Any]:
    return {**chapter_key(chapter.course_id, chapter.chapter_id), **chapter.wire()}


def _role(value: Any) -> Role:
    for role in ROLES:
        if value == role:
            return role
    raise ValueError(f"unknown role {value!r}")


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction ('None' for items that passed)."""
    reasons: Any = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code", "None")) for r in reasons]


def unavailable(exc: AwsError) -> DomainError:
    return translate(exc, "using the course store", code="store_unavailable")


class CourseStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    @property
    def table_name(self) -> str:
        return self._table.name

    # ---- reads ---------------------------------------------------------------
    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        try:
            return self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        except AWS_ERRORS as exc:
            raise unavailable(exc) from exc

    def role_of(self, course_id: str, user_id: str) -> Role | None:
        item = self._get(member_key(course_id, user_id))
        return _role(item["role"]) if item else None

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None:
        item = self._get(chapter_key(course_id, chapter_id))
        return chapter_from_item(item) if item else None

    def _query(self, course_id: str, prefix: str | None) -> list[dict[str, Any]]:
        expr = "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else "")
        values: dict[str, Any] = {":pk": course_pk(course_id)}
        if prefix:
            values[":prefix"] = prefix
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": expr,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        try:
            while True:
                page = self._table.query(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except AWS_ERRORS as exc:
            raise unavailable(exc) from exc

    def list_chapters(self, course_id: str) -> list[Chapter]:
        chapters = [chapter_from_item(i) for i in self._query(course_id, CHAPTER)]
        return sorted(chapters, key=lambda c: (c.position, c.chapter_id))

    def load(self, course_id: str) -> CourseSnapshot | None:
        course: CourseRecord | None = None
        members: list[Member] = []
        chapters: list[Chapter] = []
        for item in self._query(course_id, None):
            sk = str(item["sk"])
            if sk == META:
                course = CourseRecord(
                    course_id=course_id,
                    title=str(item["title"]),
                    created_by=str(item["createdBy"]),
                    created_at=datetime.fromisoformat(str(item["createdAt"])),
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
        meta: dict[str, Any] = {
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
            self._table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": meta,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self.table_name, "Item": owner}},
                ]
            )
        except AWS_ERRORS as exc:
            raise unavailable(exc) from exc

    def set_role(self, course_id: str, user_id: str, role: Role, previous: Role | None) -> None:
        """Give `user_id` `role`, provided their role is still `previous`.

        The owner count on META moves in the same transaction, conditioned to
        stay at one or more, so concurrent demotions cannot orphan a course."""
        if role == previous:
            return
        member = {**member_key(course_id, user_id), "userId": user_id, "role": role}
        items: list[Any] = [
            {"Put": {"TableName": self.table_name, "Item": member, **self._still(previous)}}
        ]
        delta = (role == "owner") - (previous == "owner")
        if delta:
            items.append(self._owner_count(course_id, delta))
        self._transact(items)

    def remove_member(self, course_id: str, user_id: str, previous: Role) -> None:
        key = member_key(course_id, user_id)
        items: list[Any] = [
            {"Delete": {"TableName": self.table_name, "Key": key, **self._still(previous)}}
        ]
        if previous == "owner":
            items.append(self._owner_count(course_id, -1))
        self._transact(items)

    @staticmethod
    def _still(previous: Role | None) -> dict[str, Any]:
        """The condition that the member's role is still what the caller read."""
        if previous is None:
            return {"ConditionExpression": "attribute_not_exists(pk)"}
        return {
            "ConditionExpression": "#role = :previous",
            "ExpressionAttributeNames": {"#role": "role"},
            "ExpressionAttributeValues": {":previous": previous},
        }

    def _owner_count(self, course_id: str, delta: int) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"pk": course_pk(course_id), "sk": META},
            "UpdateExpression": "SET owners = owners + :delta",
            "ExpressionAttributeValues": {":delta": delta},
            "ConditionExpression": "attribute_exists(pk)",
        }
        if delta < 0:
            update["ConditionExpression"] = "owners > :one"
            update["ExpressionAttributeValues"][":one"] = 1
        return {"Update": update}

    def _transact(self, items: list[Any]) -> None:
        try:
            self._table.meta.client.transact_write_items(TransactItems=items)
        except BotoCoreError as exc:
            raise unavailable(exc) from None
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise unavailable(exc) from exc
            codes = cancellation_codes(exc)
            # A stale read of the member outranks the owner count: the caller's
            # premise was wrong, whatever the count says.
            if codes[1:2] == ["ConditionalCheckFailed"] and codes[0] != "ConditionalCheckFailed":
                raise Conflict("a course must keep at least one owner", code="last_owner") from None
            raise Conflict(
                "the membership changed meanwhile; read it again", code="member_changed"
            ) from None

    def next_position(self, course_id: str) -> int:
        """Reserve the next chapter position (a gap after a failed create is harmless)."""
        try:
            got = self._table.update_item(
                Key={"pk": course_pk(course_id), "sk": META},
                UpdateExpression="SET nextPosition = nextPosition + :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": 1},
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound("course not found", code="course_not_found") from None
            raise unavailable(exc) from exc
        except BotoCoreError as exc:
            raise unavailable(exc) from None
        return int(str(got["Attributes"]["nextPosition"]))

    def put_chapter(self, chapter: Chapter) -> None:
        try:
            self._table.put_item(
                Item=chapter_to_item(chapter), ConditionExpression="attribute_not_exists(pk)"
            )
        except AWS_ERRORS as exc:
            raise unavailable(exc) from exc

    def replace_chapter(self, chapter: Chapter, expected_version: int) -> None:
        """Write `chapter` only if the stored one is still at `expected_version`."""
        try:
            self._table.put_item(
                Item=chapter_to_item(chapter),
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": expected_version},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise VersionConflict("the chapter changed since that version") from None
            raise unavailable(exc) from exc
        except BotoCoreError as exc:
            raise unavailable(exc) from None
