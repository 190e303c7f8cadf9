"""The media library: a user's files, newest first, a short-lived download URL,
and deletion (of the file and its poster) that refuses while a chapter still
shows the file."""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.media import LibraryPosition, MediaPage, poster_key
from chalicelib.domain.pages import PagePosition
from chalicelib.errors import NotFound
from chalicelib.models import MediaFile
from chalicelib.pages import MAX_PAGE_SIZE, PAGE_SIZE, PageTokens


class MediaRepository(Protocol):
    def put_if_absent(self, media: MediaFile) -> bool: ...
    def get(self, media_id: str) -> MediaFile | None: ...
    def get_many(self, media_ids: list[str]) -> list[MediaFile]: ...
    def list_by_owner(
        self, user_id: str, limit: int, after: LibraryPosition | None = None
    ) -> MediaPage: ...
    def delete_unlinked(self, media_id: str, owner: str) -> None: ...


class ObjectStore(Protocol):
    def delete(self, key: str) -> None: ...
    def download_url(self, key: str, filename: str) -> str: ...


class MediaService:
    def __init__(self, store: MediaRepository, objects: ObjectStore, tokens: PageTokens) -> None:
        self._store = store
        self._objects = objects
        self._tokens = tokens

    def owned(self, media_id: str, user_id: str) -> MediaFile:
        """The caller's media file; anyone else's is NotFound, like a missing one."""
        media = self._store.get(media_id)
        if media is None or media.user_id != user_id:
            raise NotFound("media file not found", code="media_not_found")
        return media

    def library(
        self, user_id: str, limit: int = PAGE_SIZE, next_token: str | None = None
    ) -> tuple[list[MediaFile], str | None]:
        start = None
        if next_token:
            position = self._tokens.decode(user_id, next_token)
            start = LibraryPosition(media_id=position.item_id, created_at=position.at)
        page = self._store.list_by_owner(user_id, min(limit, MAX_PAGE_SIZE), start)
        token = None
        if page.last:
            last = PagePosition(item_id=page.last.media_id, at=page.last.created_at)
            token = self._tokens.encode(user_id, last)
        return page.items, token

    def with_download_url(self, media_id: str, user_id: str) -> MediaFile:
        media = self.owned(media_id, user_id)
        url = self._objects.download_url(media.key, media.filename)
        return media.model_copy(update={"download_url": url})

    def delete(self, media_id: str, user_id: str) -> None:
        media = self.owned(media_id, user_id)
        # The record goes first, conditioned on having no links: an object
        # without a record is unreachable garbage, a record without an object
        # would be a broken file in someone's library.
        self._store.delete_unlinked(media_id, user_id)
        self._objects.delete(media.key)
        poster = poster_key(media)
        if poster is not None:
            self._objects.delete(poster)
