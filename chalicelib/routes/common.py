"""What every route module shares: the caller of the current request, CORS,
the query of a list that pages, and the file name and content type of a new
upload."""

from __future__ import annotations

from typing import Annotated, Any

from chalice.app import Blueprint, CORSConfig
from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.auth import Caller
from chalicelib.domain.upload_policy import MAX_FILENAME, content_type_pattern, filename_pattern
from chalicelib.models import WireModel
from chalicelib.pages import MAX_PAGE_SIZE, MAX_TOKEN_LENGTH, PAGE_SIZE
from chalicelib.services import container
from chalicelib.settings import default_allowed_types

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
    next_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TOKEN_LENGTH,
        description="The previous page's nextToken, as the server issued it to the caller "
        "for this list; any other value is 400 invalid_next_token.",
    )


# A new upload's content type, on every route that starts one: well-formed here
# (400 `validation_error`), then one of UPLOAD_ALLOWED_TYPES for the policy
# (400 `unsupported_type`). The document states both, with the default types.
ContentType = Annotated[
    str,
    StringConstraints(min_length=3, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+(;.*)?$"),
    Field(json_schema_extra={"pattern": content_type_pattern(default_allowed_types())}),
]


def _printable(schema: dict[str, Any]) -> None:
    schema["pattern"] = filename_pattern()


# A new upload's file name: the policy refuses (400 `invalid_filename`) one that
# is blank or holds a control, format or separator character; the document's
# pattern says the same, character by character.
Filename = Annotated[
    str, Field(min_length=1, max_length=MAX_FILENAME, json_schema_extra=_printable)
]
