"""The link between a chapter and a media file, written to both tables in one
DynamoDB transaction so neither side can exist without the other.

Conditions, all in the same transaction:
- the chapter is still at the version the writer read (optimistic concurrency:
  two writers cannot both append to the same chapter version);
- the media file still exists, belongs to the linker, and is not yet linked to
  that chapter (or, on unlink, still is);
- the writer still holds owner or editor in the course.

The events announcing the change (`media.linked` or `media.unlinked`, then
`chapter.updated`) commit in the same transaction, through the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.errors import Conflict, Forbidden, NotFound, VersionConflict
from chalicelib.events import Announcement
from chalicelib.models import Chapter, MediaLink
from chalicelib.store.courses import chapter_to_item, member_key
from chalicelib.store.dynamo import Cancelled, Table
from chalicelib.store.media import link_key, link_to_attribute
from chalicelib.store.outbox import Outbox

# Reasons DynamoDB gives for a cancelled item that a fresh read and retry can fix.
_RETRYABLE = {"TransactionConflict"}


class LinkStore:
    def __init__(self, courses: Table, media: Table, outbox: Outbox) -> None:
        self._courses = courses
        self._media = media
        self._outbox = outbox

    def link(
        self,
        chapter: Chapter,
        expected_version: int,
        media_id: str,
        owner: str,
        actor: str,
        announce: Sequence[Announcement] = (),
    ) -> None:
        """Write `chapter` (which now holds the item) and record the link on the
        media file, or neither."""
        link = MediaLink(course_id=chapter.course_id, chapter_id=chapter.chapter_id)
        media_update = self._media.tx_update(
            {"mediaId": media_id},
            "SET links.#k = :link",
            condition="attribute_exists(mediaId) AND userId = :owner"
            " AND attribute_not_exists(links.#k)",
            names={"#k": link_key(link.course_id, link.chapter_id)},
            values={
                ":link": link_to_attribute(link, int(chapter.updated_at.timestamp() * 1000)),
                ":owner": owner,
            },
        )
        self._write(chapter, expected_version, media_update, actor, announce)

    def unlink(
        self,
        chapter: Chapter,
        expected_version: int,
        media_id: str,
        actor: str,
        announce: Sequence[Announcement] = (),
    ) -> None:
        """Write `chapter` (which no longer holds the item) and remove the link
        from the media file, or neither."""
        media_update = self._media.tx_update(
            {"mediaId": media_id},
            "REMOVE links.#k",
            condition="attribute_exists(links.#k)",
            names={"#k": link_key(chapter.course_id, chapter.chapter_id)},
        )
        self._write(chapter, expected_version, media_update, actor, announce)

    def _write(
        self,
        chapter: Chapter,
        expected_version: int,
        media_update: dict[str, Any],
        actor: str,
        announce: Sequence[Announcement],
    ) -> None:
        items = [
            self._courses.tx_put(
                chapter_to_item(chapter),
                condition="version = :expected",
                values={":expected": expected_version},
            ),
            media_update,
            self._courses.tx_check(
                member_key(chapter.course_id, actor),
                condition="#role IN (:owner, :editor)",
                names={"#role": "role"},
                values={":owner": "owner", ":editor": "editor"},
            ),
        ]
        try:
            self._outbox.commit(items, announce)
        except Cancelled as cancelled:
            raise _cancelled(cancelled) from None


def _cancelled(cancelled: Cancelled) -> Exception:
    if cancelled.failed(0) or _RETRYABLE & set(cancelled.reasons):
        # Lost an optimistic race (or DynamoDB's own conflict detection):
        # the caller reads the chapter again and retries.
        return VersionConflict("the chapter changed since it was read")
    if cancelled.failed(2):
        return Forbidden("only course owners and editors may change chapter media")
    if cancelled.failed(1):
        return NotFound("media file not found", code="media_not_found")
    return Conflict("the link could not be written", code="link_failed")
