"""The file name and content type of a new upload, on every route that starts one."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from chalicelib.domain.upload_policy import MAX_FILENAME, content_type_pattern, filename_pattern
from chalicelib.settings import default_allowed_types

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
