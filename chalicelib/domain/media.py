"""The media library's records as the services see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.models import ChapterItem, MediaFile


@dataclass(frozen=True)
class LibraryPosition:
    """Where a page of a user's library ended: the next page starts after it."""

    media_id: str
    created_at: str


@dataclass(frozen=True)
class MediaPage:
    """One page of a user's library, newest first; `last` is None on the last page."""

    items: list[MediaFile]
    last: LibraryPosition | None


# Posters live outside `uploads/`, so writing one raises no S3 ObjectCreated
# notification (the bucket notifies for that prefix only) and no upload key
# parser ever sees one. One fixed key per media file: a redelivered processing
# message overwrites the same object instead of leaving a second.
POSTER_PREFIX = "posters/"


def poster_key_for(user_id: str, media_id: str) -> str:
    return f"{POSTER_PREFIX}{user_id}/{media_id}.jpg"


def poster_key(media: MediaFile) -> str | None:
    """The poster's object key, or None while the media file has none."""
    return poster_key_for(media.user_id, media.media_id) if media.has_poster else None


def item_metadata(media: MediaFile) -> dict[str, Any]:
    """What a chapter item repeats of its media file's processing result, as a
    `model_copy` update for an item already in a chapter."""
    return {
        "status": media.status,
        "duration_seconds": media.duration_seconds,
        "width": media.width,
        "height": media.height,
        "has_poster": media.has_poster,
    }


def chapter_item(media: MediaFile, *, added_at: datetime, added_by: str) -> ChapterItem:
    return ChapterItem(
        media_id=media.media_id,
        filename=media.filename,
        content_type=media.content_type,
        size=media.size,
        added_at=added_at,
        added_by=added_by,
        status=media.status,
        duration_seconds=media.duration_seconds,
        width=media.width,
        height=media.height,
        has_poster=media.has_poster,
    )
