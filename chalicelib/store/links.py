"""The link between a chapter and a media file, written to both tables in one
DynamoDB transaction so neither side can exist without the other.

Conditions, all in the same transaction:
- the chapter is still at the version the writer read (optimistic concurrency:
  two writers cannot both append to the same chapter version);
- the media file still exists, belongs to the linker, and is not yet linked to
  that chapter (or, on unlink, still is);
- the writer still holds owner or editor in the course.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import Conflict, Forbidden, NotFound, VersionConflict
from chalicelib.models import Chapter, MediaLink
from chalicelib.store.aws_errors import error_code, translate
from chalicelib.store.courses import (
    cancellation_codes,
    chapter_to_item,
    member_key,
)
from chalicelib.store.media import link_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Reasons DynamoDB gives for a cancelled item that a fresh read and retry can fix.
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


class LinkStore:
    def __init__(self, client: DynamoDBClient, courses_table: str, media_table: str) -> None:
        # A client taken from a DynamoDB *resource*: it accepts and returns
        # plain Python values, like the tables the other stores use.
        self._client = client
        self._courses = courses_table
        self._media = media_table

    def link(
        self, chapter: Chapter, expected_version: int, media_id: str, owner: str, actor: str
    ) -> None:
        """Write `chapter` (which now holds the item) and record the link on the
        media file, or neither."""
        link = MediaLink(course_id=chapter.course_id, chapter_id=chapter.chapter_id)
        media_update = {
            "Update": {
                "TableName": self._media,
                "Key": {"mediaId": media_id},
                "UpdateExpression": "SET links.#k = :link",
                "ConditionExpression": "attribute_exists(mediaId) AND userId = :owner"
                " AND attribute_not_exists(links.#k)",
                "ExpressionAttributeNames": {"#k": link_key(link.course_id, link.chapter_id)},
                "ExpressionAttributeValues": {
                    ":link": link.wire() | {"order": int(chapter.updated_at.timestamp() * 1000)},
                    ":owner": owner,
                },
            }
        }
        self._write(chapter, expected_version, media_update, actor)

    def unlink(self, chapter: Chapter, expected_version: int, media_id: str, actor: str) -> None:
        """Write `chapter` (which no longer holds the item) and remove the link
        from the media file, or neither."""
        media_update = {
            "Update": {
                "TableName": self._media,
                "Key": {"mediaId": media_id},
                "UpdateExpression": "REMOVE links.#k",
                "ConditionExpression": "attribute_exists(links.#k)",
                "ExpressionAttributeNames": {"#k": link_key(chapter.course_id, chapter.chapter_id)},
            }
        }
        self._write(chapter, expected_version, media_update, actor)

    def _write(
        self, chapter: Chapter, expected_version: int, media_update: dict[str, Any], actor: str
    ) -> None:
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self._courses,
                    "Item": chapter_to_item(chapter),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": expected_version},
                }
            },
            media_update,
            {
                "ConditionCheck": {
                    "TableName": self._courses,
                    "Key": member_key(chapter.course_id, actor),
                    "ConditionExpression": "#role IN (:owner, :editor)",
                    "ExpressionAttributeNames": {"#role": "role"},
                    "ExpressionAttributeValues": {":owner": "owner", ":editor": "editor"},
                }
            },
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except BotoCoreError as exc:
            raise translate(exc, "linking media", code="store_unavailable") from None
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise translate(exc, "linking media", code="store_unavailable") from None
            raise _cancelled(cancellation_codes(exc)) from None


def _cancelled(codes: list[str]) -> Exception:
    chapter, media, member = (codes + ["None"] * 3)[:3]
    if chapter == "ConditionalCheckFailed" or _RETRYABLE & set(codes):
        # Lost an optimistic race (or DynamoDB's own conflict detection):
        # the caller reads the chapter again and retries.
        return VersionConflict("the chapter changed since it was read")
    if member == "ConditionalCheckFailed":
        return Forbidden("only course owners and editors may change chapter media")
    if media == "ConditionalCheckFailed":
        return NotFound("media file not found", code="media_not_found")
    return Conflict("the link could not be written", code="link_failed")
