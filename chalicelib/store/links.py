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

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from chalicelib.errors import Conflict, Forbidden, NotFound, VersionConflict
from chalicelib.events import Announcement
from chalicelib.models import Chapter, MediaLink
from chalicelib.store.course_items import chapter_key, chapter_to_item, member_key
from chalicelib.store.dynamo import Cancelled, Table
from chalicelib.store.media import LEGACY_STATUS, link_key, link_to_attribute
from chalicelib.store.outbox import Outbox

# Reasons DynamoDB gives for a cancelled item that a fresh read and retry can fix.
_RETRYABLE = {"TransactionConflict"}
# A transaction holds 100 items. Each unlink in a chapter's deletion takes its
# media update and its media.unlinked on two channels (the event and the
# channel's head each): 20 of them, the chapter, the role check and
# chapter.deleted stay well inside.
_UNLINKS_PER_TRANSACTION = 20
# What a deletion step announces: given the media ids it unlinks and whether it
# deletes the chapter, the events to commit with it.
StepAnnouncements = Callable[[list[str], bool], Sequence[Announcement]]


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
        # The item repeats the file's processing outcome as read: if processing
        # committed meanwhile, the link must not freeze a `processing` item
        # into the chapter (chalicelib/store/processed.py reads the links it saw).
        status = next(i.status for i in chapter.items if i.media_id == media_id)
        as_read = (
            "#st = :st" if status != LEGACY_STATUS else "(#st = :st OR attribute_not_exists(#st))"
        )
        media_update = self._media.tx_update(
            {"mediaId": media_id},
            "SET links.#k = :link",
            condition="attribute_exists(mediaId) AND userId = :owner"
            f" AND attribute_not_exists(links.#k) AND {as_read}",
            names={"#k": link_key(link.course_id, link.chapter_id), "#st": "status"},
            values={
                ":link": link_to_attribute(link, int(chapter.updated_at.timestamp() * 1000)),
                ":owner": owner,
                ":st": status,
            },
        )
        try:
            self._write(chapter, expected_version, media_update, actor, announce)
        except NotFound:
            item = self._media.get({"mediaId": media_id}) or {}
            moved_on = item.get("userId") == owner
            if moved_on and str(item.get("status", LEGACY_STATUS)) != status:
                raise VersionConflict("the media file changed since it was read") from None
            raise

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

    def delete_chapter(
        self,
        chapter: Chapter,
        linked: Collection[str],
        actor: str,
        at: datetime,
        announce: StepAnnouncements,
    ) -> None:
        """Delete `chapter` (as read, at its version) and remove its link from
        each of the `linked` media files, with the events each step announces.

        Up to 20 links go in the chapter's own deleting transaction. A larger
        chapter first sheds its items 20 at a time, each in a transaction that
        rewrites the chapter without them, unlinks them and commits their
        media.unlinked, so chapter, files and events agree after every step:
        an interrupted deletion leaves a smaller chapter that a retry deletes."""
        version, remaining = chapter.version, list(chapter.items)
        while len(remaining) > _UNLINKS_PER_TRANSACTION:
            shed = remaining[:_UNLINKS_PER_TRANSACTION]
            remaining = remaining[_UNLINKS_PER_TRANSACTION:]
            smaller = chapter.model_copy(
                update={"items": remaining, "version": version + 1, "updated_at": at}
            )
            write = self._courses.tx_put(
                chapter_to_item(smaller),
                condition="version = :expected",
                values={":expected": version},
            )
            media_ids = [i.media_id for i in shed if i.media_id in linked]
            self._shed(chapter, write, media_ids, actor, announce(media_ids, False))
            version += 1
        delete = self._courses.tx_delete(
            chapter_key(chapter.course_id, chapter.chapter_id),
            condition="version = :expected",
            values={":expected": version},
        )
        media_ids = [i.media_id for i in remaining if i.media_id in linked]
        self._shed(chapter, delete, media_ids, actor, announce(media_ids, True))

    def _shed(
        self,
        chapter: Chapter,
        write: dict[str, Any],
        media_ids: list[str],
        actor: str,
        announce: Sequence[Announcement],
    ) -> None:
        unlinks = [
            self._media.tx_update(
                {"mediaId": media_id},
                "REMOVE links.#k",
                condition="attribute_exists(links.#k)",
                names={"#k": link_key(chapter.course_id, chapter.chapter_id)},
            )
            for media_id in media_ids
        ]
        try:
            self._outbox.commit([write, self._writer_check(chapter, actor), *unlinks], announce)
        except Cancelled as cancelled:
            if cancelled.failed(1):
                raise Forbidden("only course owners and editors may delete chapters") from None
            # The chapter moved on, or a file's links did: read again and retry.
            raise VersionConflict("the chapter changed since it was read") from None

    def _writer_check(self, chapter: Chapter, actor: str) -> dict[str, Any]:
        """The actor still holds owner or editor in the chapter's course."""
        return self._courses.tx_check(
            member_key(chapter.course_id, actor),
            condition="#role IN (:owner, :editor)",
            names={"#role": "role"},
            values={":owner": "owner", ":editor": "editor"},
        )

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
            self._writer_check(chapter, actor),
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
