"""What every route module shares: the caller of the current request, CORS,
and the query of a list that pages."""

from __future__ import annotations

from chalice.app import Blueprint, CORSConfig
from pydantic import ConfigDict, Field

from chalicelib.auth import Caller
from chalicelib.models import WireModel
from chalicelib.pages import MAX_PAGE_SIZE, MAX_TOKEN_LENGTH, PAGE_SIZE
from chalicelib.services import container

# Browsers call the API from the authoring app's origin; the token travels in a
# header, never a cookie, so any origin may call and no credentials are shared.
CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"], max_age=600)


def current_caller(bp: Blueprint) -> Caller:
    request = bp.current_request
    assert request is not None
    return container().caller(request.headers)


class PageQuery(WireModel):
    """`?limit=&nextToken=` of every list that pages."""

    # Query strings arrive as text, so `limit` is parsed, not strict.
    model_config = ConfigDict(strict=False)

    limit: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    next_token: str | None = Field(default=None, min_length=1, max_length=MAX_TOKEN_LENGTH)
