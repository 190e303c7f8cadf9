"""Wire models: the JSON representations clients see, in REST bodies and inside
event data alike. One model per resource, so a chapter in `chapter.updated`
is byte-for-byte the chapter `GET /courses/{courseId}/chapters` returns.

Python attributes are snake_case; the wire is camelCase (`operationId`,
`courseId`, ...), as the contract names them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from chalicelib.auth import Role
from chalicelib.domain.upload_states import UploadStatus
from chalicelib.ids import ResourceId, iso

Timestamp = Annotated[datetime, PlainSerializer(iso, return_type=str, when_used="json")]

# What a part's ETag can be: S3 sends a quoted hex digest, printable ASCII
# without spaces. A control character or NUL would reach S3's XML request and
# fail there as a 5xx, after the upload moved to `completing`.
ETAG_PATTERN = r"^[\x21-\x7e]+$"
PartETag = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=ETAG_PATTERN)]
# The largest integer a request may carry: past every real size or version,
# and within what DynamoDB's numbers (38 digits) and JavaScript hold exactly.
MAX_INT = 2**53 - 1


def whole_number(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as JSON and docs/openapi.json's `"type": "integer"` mean it: `67.0`
# is 67 (JSON has one number type, and JSON Schema counts a zero fraction as an
# integer), while `67.5`, `"67"` and `true` stay refused by the strict models.
# Bounds go on the field; in a union, inside the member, before the validator:
# `Annotated[int, Field(ge=0), BeforeValidator(whole_number)] | None`.
JsonInt = Annotated[int, BeforeValidator(whole_number)]


def not_null(value: object) -> object:
    """A before-validator for a field that is given or left out: `null` would
    read as "left out" to the server and as a value to the document."""
    if value is None:
        raise ValueError("give a value or leave the field out")
    return value


def without_null(schema: dict[str, Any]) -> None:
    """A field's `json_schema_extra` for `not_null` fields with a default."""
    choices = [c for c in schema.pop("anyOf", []) if c.get("type") != "null"]
    if len(choices) == 1:
        schema.update(choices[0])
    elif choices:
        schema["anyOf"] = choices
    schema.pop("default", None)


def omittable() -> Any:
    """`Field` of a field that may be left out but not sent as `null` (with
    `not_null`): the document shows it without `null` and without a default."""
    return Field(default=None, json_schema_extra=without_null)


class WireModel(BaseModel):
    """Base of every wire model: camelCase on the wire, strict on input."""

    # Every field is serialized, defaulted or not, so the response schemas
    # (docs/openapi.json) list them all as required, as events.schema.json
    # does: generated client types then agree on what a response holds.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        json_schema_serialization_defaults_required=True,
        defer_build=True,
    )

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class LibraryTarget(WireModel):
    type: Literal["library"]


class ChapterTarget(WireModel):
    type: Literal["chapter"]
    course_id: ResourceId
    chapter_id: ResourceId


UploadTarget = Annotated[LibraryTarget | ChapterTarget, Field(discriminator="type")]


class Member(WireModel):
    user_id: str
    role: Role


# A media file's processing state: `processing` from completion until the
# processing step has read its headers, then `ready` (metadata filled in where
# the container has it; `reason` says when none could be read) or `failed`
# (`reason` says why). docs/processing.md describes each reason.
MediaStatus = Literal["processing", "ready", "failed"]


# A chapter is one DynamoDB item (400 KB at most); a chapter item with the
# longest allowed filename and content type takes under 2 KB, so this many fit.
MAX_CHAPTER_ITEMS = 200


class ChapterItem(WireModel):
    """A media file placed in a chapter, with enough of the file to render it:
    what a course outline shows (duration, frame size, whether a poster exists).
    Never a signed URL, so a chapter in an event equals the chapter GET returns."""

    media_id: str
    filename: str
    content_type: str
    size: int
    added_at: Timestamp
    added_by: str
    status: MediaStatus = "ready"
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    has_poster: bool = False


class Chapter(WireModel):
    course_id: str
    chapter_id: str
    title: str
    position: int
    version: int
    items: list[ChapterItem]
    created_at: Timestamp
    updated_at: Timestamp


class Course(WireModel):
    course_id: str
    title: str
    created_by: str
    created_at: Timestamp
    # The course's own record (its title): `version` is what `PATCH` names,
    # `updatedAt` when it last changed. Chapters and members carry their own.
    updated_at: Timestamp
    version: int
    members: list[Member]
    chapters: list[Chapter]


class CourseSummary(WireModel):
    """A course in the caller's course list, with the caller's role in it."""

    course_id: str
    title: str
    role: Role
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    version: int


class MediaLink(WireModel):
    course_id: str
    chapter_id: str


class MediaFile(WireModel):
    media_id: str
    user_id: str  # the owner: only they may link it
    filename: str
    content_type: str
    size: int
    key: str
    operation_id: str | None
    created_at: Timestamp
    links: list[MediaLink]
    # What the processing step read from the file's headers (None where the
    # container does not say, or until processing ends).
    status: MediaStatus = "processing"
    reason: str | None = None
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    rotation: int | None = None  # clockwise degrees a player turns the frame: 0, 90, 180, 270
    video_codec: str | None = None
    audio_codec: str | None = None
    bitrate: int | None = None  # bits per second over the whole file
    # A JPEG poster frame exists as its own object (chalicelib/domain/media.poster_key).
    has_poster: bool = False
    download_url: str | None = None


class Playback(WireModel):
    """What a course member's player needs: a short-lived URL that serves HTTP
    Range requests (so a <video> element seeks) and the poster's, if any."""

    url: str
    content_type: str
    size: int
    expires_at: Timestamp
    poster_url: str | None


class UploadPart(WireModel):
    part_number: int
    etag: str
    size: int


class Upload(WireModel):
    operation_id: str
    upload_id: str
    user_id: str
    key: str
    filename: str
    content_type: str
    size: int
    part_size: int
    part_count: int
    status: UploadStatus
    target: UploadTarget
    bytes_uploaded: int
    media_id: str | None
    reason: str | None
    created_at: Timestamp
    updated_at: Timestamp
    expires_at: Timestamp
