"""The media library: a user's files, newest first, a short-lived download URL,
and deletion that refuses while a chapter still shows the file."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from chalicelib.domain.media import LibraryPosition, MediaPage
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.ids import ResourceId, UserId
from chalicelib.models import MediaFile

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


class MediaRepository(Protocol):
    def put_if_absent(self, media: MediaFile) -> bool: ...
    def get(self, media_id: str) -> MediaFile | None: ...
    def list_by_owner(
        self, user_id: str, limit: int, after: LibraryPosition | None = None
    ) -> MediaPage: ...
    def delete_unlinked(self, media_id: str, owner: str) -> None: ...


class ObjectStore(Protocol):
    def delete(self, key: str) -> None: ...
    def download_url(self, key: str, filename: str) -> str: ...


_Stamp = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[0-9T:.Z+-]+$")]


class _PageToken(BaseModel):
    """Where a library page ended. It names the owner, so a token can only
    continue the library it came from; the owner's id is never taken from it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    u: UserId
    m: ResourceId
    c: _Stamp


# A truncated HMAC-SHA256: 128 bits is far past guessing within any rate limit,
# and keeps tokens short enough for a query string.
_MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def page_token_key(secret: str) -> bytes:
    """The key page tokens are signed with, derived from a deployment secret so
    the secret itself never signs two kinds of thing."""
    return hmac.new(secret.encode(), b"course-media/page-token/v1", hashlib.sha256).digest()


class PageTokens:
    """Signed page positions: `{payload}.{mac}`. A token the server did not
    issue, or one edited by a single character, fails the MAC and is a 400,
    so no client can start a page at a position of its choosing."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:_MAC_BYTES])

    def encode(self, user_id: str, last: LibraryPosition) -> str:
        token = _PageToken(u=user_id, m=last.media_id, c=last.created_at)
        payload = _b64(json.dumps(token.model_dump(), separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def decode(self, user_id: str, token: str) -> LibraryPosition:
        bad = InvalidInput("nextToken is not valid", code="invalid_next_token")
        payload, dot, mac = token.partition(".")
        if len(token) > 1024 or not dot or not hmac.compare_digest(mac, self._mac(payload)):
            raise bad
        try:
            parsed = _PageToken.model_validate_json(_unb64(payload))
        except (binascii.Error, ValueError, ValidationError):
            raise bad from None
        if parsed.u != user_id:
            raise bad
        return LibraryPosition(media_id=parsed.m, created_at=parsed.c)


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
        start = self._tokens.decode(user_id, next_token) if next_token else None
        page = self._store.list_by_owner(user_id, min(limit, MAX_PAGE_SIZE), start)
        token = self._tokens.encode(user_id, page.last) if page.last else None
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
