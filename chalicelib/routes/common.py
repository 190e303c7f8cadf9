"""What every route module shares: the caller of the current request, the
paths of a course, the check of the ids a path names, and the query of a list
that pages. (CORS is routing.py's, beside the table; the fields of a new
upload are upload_fields.py's: loading them costs the first request of a route
that starts none.)"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from chalicelib.auth import Caller
from chalicelib.errors import InvalidInput
from chalicelib.ids import is_resource_id
from chalicelib.models import WireModel
from chalicelib.pages import MAX_PAGE_SIZE, MAX_TOKEN_LENGTH, PAGE_SIZE
from chalicelib.routes.routing import RouteBlueprint
from chalicelib.services import container

# The paths of a course and of what it holds.
COURSE = "/courses/{courseId}"
CHAPTER = COURSE + "/chapters/{chapterId}"
CHAPTER_MEDIA = CHAPTER + "/media/{mediaId}"


def current_caller(bp: RouteBlueprint) -> Caller:
    request = bp.current_request
    assert request is not None
    return container().caller(request.headers)


def ids(**values: str) -> None:
    bad = [
        {"field": name, "issue": "invalid_id"}
        for name, v in values.items()
        if not is_resource_id(v)
    ]
    if bad:
        raise InvalidInput("a path parameter is not a valid id", details=bad)


class PageQuery(WireModel):
    """`?limit=&nextToken=` of every list that pages."""

    # Query strings arrive as text, so `limit` is parsed, not strict.
    model_config = ConfigDict(strict=False)

    limit: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    next_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TOKEN_LENGTH,
        description="The previous page's nextToken, as the server issued it to the caller "
        "for this list; any other value is 400 invalid_next_token.",
    )
