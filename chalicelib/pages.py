"""Signed page tokens, for every list route that pages (`GET /media`,
`GET /courses`).

A token names where a page ended (an item id and its sort stamp) and the user
it was issued to, and carries a truncated HMAC. A token the server did not
issue, one edited by a single character, one issued to another user, or one
issued by another list is a 400 `invalid_next_token`, so no client can start a
page at a position of its choosing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from chalicelib.domain.pages import PagePosition, invalid_token
from chalicelib.ids import ResourceId, UserId

MAX_TOKEN_LENGTH = 1024
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

_Stamp = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[0-9T:.Z+-]+$")]


class _PageToken(BaseModel):
    """The token's payload. It names the user, so a token can only continue
    the list it came from; whose list it is never comes from the token."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

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


def page_token_key(secret: str, purpose: str = "page-token") -> bytes:
    """The key one list's tokens are signed with, derived from a deployment
    secret and the list's `purpose`: the secret itself never signs anything,
    and a library token cannot continue the course list."""
    label = f"course-media/{purpose}/v1".encode()
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


class PageTokens:
    """Signed page positions: `{payload}.{mac}`."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:_MAC_BYTES])

    def encode(self, user_id: str, last: PagePosition) -> str:
        token = _PageToken(u=user_id, m=last.item_id, c=last.at)
        payload = _b64(json.dumps(token.model_dump(), separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def decode(self, user_id: str, token: str) -> PagePosition:
        payload, dot, mac = token.partition(".")
        if len(token) > MAX_TOKEN_LENGTH or not dot:
            raise invalid_token()
        # As bytes: compare_digest raises on a str holding non-ASCII, which a
        # query string can carry (it was a 500).
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            raise invalid_token()
        try:
            parsed = _PageToken.model_validate_json(_unb64(payload))
        except (binascii.Error, ValueError, ValidationError):
            raise invalid_token() from None
        if parsed.u != user_id:
            raise invalid_token()
        return PagePosition(item_id=parsed.m, at=parsed.c)
