"""The media library's records as the services see them."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.models import MediaFile


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
