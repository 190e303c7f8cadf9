"""Where the processing step's outcome is written: the media file's status and
metadata with `media.updated`, then each chapter holding it with its
`chapter.updated`, each in one transaction through the outbox.

The media write holds on condition that the file is still `processing` and
linked exactly where the run read (as many links, each still there): a link
made meanwhile would otherwise keep the item it was given at `processing`,
and `media.updated` would miss that course."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.errors import VersionConflict
from chalicelib.events import Announcement
from chalicelib.models import Chapter, MediaFile
from chalicelib.store.courses import CourseStore
from chalicelib.store.dynamo import Cancelled, Table
from chalicelib.store.media import link_key, media_from_item, metadata_attributes
from chalicelib.store.outbox import Outbox

# Every attribute processing writes: one absent from the outcome is removed,
# so a file processed again does not keep what its first run found.
OUTCOME_ATTRIBUTES = (
    "status",
    "reason",
    "hasPoster",
    "durationSeconds",
    "width",
    "height",
    "rotation",
    "videoCodec",
    "audioCodec",
    "bitrate",
)


class ProcessingResults:
    def __init__(self, media: Table, courses: CourseStore, outbox: Outbox) -> None:
        self._media = media
        self._courses = courses
        self._outbox = outbox

    def get(self, media_id: str) -> MediaFile | None:
        item = self._media.get({"mediaId": media_id})
        return media_from_item(item) if item else None

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None:
        return self._courses.get_chapter(course_id, chapter_id)

    def finish(self, before: MediaFile, after: MediaFile, announce: Sequence[Announcement]) -> bool:
        """Write `after`'s outcome if the file is still `before` (processing, the
        same links); False if it is not."""
        written = metadata_attributes(after)
        names = {f"#a{n}": name for n, name in enumerate(OUTCOME_ATTRIBUTES)}
        values: dict[str, Any] = {":processing": "processing", ":links": len(before.links)}
        sets, removes = [], []
        for placeholder, name in names.items():
            if name in written:
                values[f":{placeholder[1:]}"] = written[name]
                sets.append(f"{placeholder} = :{placeholder[1:]}")
            else:
                removes.append(placeholder)
        conditions = ["#a0 = :processing", "size(links) = :links"]
        for n, link in enumerate(before.links):
            names[f"#l{n}"] = link_key(link.course_id, link.chapter_id)
            conditions.append(f"attribute_exists(links.#l{n})")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        update = self._media.tx_update(
            {"mediaId": before.media_id},
            expression,
            condition=" AND ".join(conditions),
            names=names,
            values=values,
        )
        try:
            self._outbox.commit([update], announce)
        except Cancelled:
            return False
        return True

    def refresh_chapter(
        self, chapter: Chapter, expected_version: int, announce: Sequence[Announcement]
    ) -> bool:
        """Write `chapter` if it is still at `expected_version`; False if not."""
        try:
            self._courses.replace_chapter(chapter, expected_version, announce)
        except VersionConflict:
            return False
        return True
