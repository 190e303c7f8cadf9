"""Uppy compatibility: Companion's S3 multipart routes with Companion's paths,
query parameters, JSON field names and status codes, so `@uppy/aws-s3` works
with `companionEndpoint` alone (Uppy 6's `signRequest` is
chalicelib/routes/uppy_signer.py).

Unlike Companion, every route checks that the caller owns the upload (the key
names the uploader and the operation; the S3 upload id must be the upload's).
The upload's target comes from Uppy's file metadata (`courseId`, `chapterId`);
Companion's create call carries no size, so the metadata must (`size`). The
metadata is parsed here, at the edge, like any other input: a bad id, a wrong
type or an oversized value is a 400 before anything is written.
"""

from __future__ import annotations

from typing import Annotated, Any

from chalice.app import Response
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib.domain.upload_policy import MAX_PARTS, MAX_PARTS_PER_BATCH, parse_key
from chalicelib.domain.uploads import NewFile, UploadRecord, not_found
from chalicelib.errors import InvalidInput
from chalicelib.http import api_doc, json_response, parse_body, validate
from chalicelib.ids import ResourceId
from chalicelib.models import (
    MAX_INT,
    ChapterTarget,
    JsonInt,
    LibraryTarget,
    PartETag,
    UploadTarget,
    not_null,
    omittable,
    whole_number,
)
from chalicelib.routes.common import current_caller
from chalicelib.routes.routing import CORS, RouteBlueprint
from chalicelib.routes.upload_fields import ContentType, Filename
from chalicelib.services import container

bp = RouteBlueprint(__name__)

MultipartPath = "/s3/multipart/{uploadId}"
MAX_ID = 1024
MAX_META_FIELDS = 64
# A part number as S3 allows it, 1 to MAX_PARTS (10,000), in decimal; a batch
# lists 1 to MAX_PARTS_PER_BATCH of them, comma-separated. What the upload has,
# 1..partCount, is the policy's check (400 `invalid_part_number`).
PART_NUMBER = r"(?:[1-9][0-9]{0,3}|10000)"
PART_NUMBERS = rf"^{PART_NUMBER}(?:,{PART_NUMBER}){{0,{MAX_PARTS_PER_BATCH - 1}}}$"

# A number, or the digits of one (Uppy's metadata values are often strings). The
# lower bound is the policy's (400 `invalid_size`), as for every other route; the
# document states it, and that digits are digits.
MetaSize = (
    Annotated[
        int,
        Field(le=MAX_INT, json_schema_extra={"minimum": 1}),
        BeforeValidator(whole_number),
    ]
    | Annotated[
        str,
        StringConstraints(max_length=16),
        Field(json_schema_extra={"pattern": "^0*[1-9][0-9]*$"}),
    ]
)


class CompanionModel(BaseModel):
    """Companion's JSON uses these exact names (camelCase and S3's PascalCase)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


# A chapter upload names both, a library upload neither (else 400 `invalid_target`).
BOTH_OR_NEITHER: dict[str, Any] = {
    "anyOf": [
        {
            "required": ["courseId", "chapterId"],
            "properties": {"courseId": {"type": "string"}, "chapterId": {"type": "string"}},
        },
        {"properties": {"courseId": {"type": "null"}, "chapterId": {"type": "null"}}},
    ]
}


class FileMeta(BaseModel):
    """Uppy's file metadata. Ours are `courseId` and `chapterId` (the target:
    both or neither) and `size`; Uppy adds its own (`name`, `type`,
    `relativePath`, ...) and an app may add more: those pass unread and are
    never stored."""

    model_config = ConfigDict(
        extra="allow", strict=True, frozen=True, json_schema_extra=BOTH_OR_NEITHER, defer_build=True
    )

    courseId: ResourceId | None = None  # noqa: N815 - Uppy's field name
    chapterId: ResourceId | None = None  # noqa: N815
    size: MetaSize | None = omittable()

    _given = field_validator("size", mode="before")(not_null)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, dict) and len(value) > MAX_META_FIELDS:
            raise ValueError(f"metadata holds at most {MAX_META_FIELDS} fields")
        return value

    def target(self) -> UploadTarget:
        if self.courseId is None and self.chapterId is None:
            return LibraryTarget(type="library")
        if self.courseId is None or self.chapterId is None:
            raise InvalidInput(
                "metadata needs both courseId and chapterId for a chapter upload",
                code="invalid_target",
            )
        return ChapterTarget(type="chapter", course_id=self.courseId, chapter_id=self.chapterId)

    def file_size(self) -> int:
        size = self.size
        # isdigit() alone accepts "²", which int() refuses.
        if isinstance(size, str) and size.isascii() and size.isdigit():
            return int(size)
        if not isinstance(size, int):
            raise InvalidInput(
                "metadata.size (the file's size in bytes) is required", code="invalid_size"
            )
        return size


class CreateMultipart(CompanionModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        json_schema_extra={"required": ["filename", "type", "metadata"]},
    )

    filename: Filename
    type: ContentType
    # Companion's create call carries no size, so its metadata must: the document
    # requires both; without either, 400 `invalid_size`.
    metadata: FileMeta = Field(default_factory=FileMeta, json_schema_extra={"required": ["size"]})


class CreateMultipartResult(CompanionModel):
    key: str
    uploadId: str  # noqa: N815 - Companion's field name
    bucket: str


class KeyQuery(CompanionModel):
    key: str = Field(min_length=1, max_length=MAX_ID)


class BatchQuery(KeyQuery):
    partNumbers: str = Field(  # noqa: N815
        min_length=1,
        max_length=6 * MAX_PARTS_PER_BATCH,
        json_schema_extra={"pattern": PART_NUMBERS},
    )


class S3Part(CompanionModel):
    PartNumber: JsonInt = Field(ge=1, le=MAX_PARTS)
    ETag: PartETag


class ListedPart(S3Part):
    Size: int


class CompleteMultipart(CompanionModel):
    parts: list[S3Part] = Field(min_length=1, max_length=MAX_PARTS)


class CompleteResult(CompanionModel):
    location: str
    key: str
    bucket: str


class SignedPart(CompanionModel):
    url: str
    expires: int


class BatchSigned(CompanionModel):
    presignedUrls: dict[str, str]  # noqa: N815


class Empty(CompanionModel):
    pass


def owned_by_key(user_id: str, key: str, upload_id: str | None = None) -> UploadRecord:
    """The caller's upload behind an object key (Uppy names uploads by key and
    S3 upload id); 404 unless both belong to the caller's upload."""
    parsed = parse_key(key)
    if parsed is None or parsed[0] != user_id:
        raise not_found()
    record = container().uploads.owned(user_id, parsed[1])
    if record.upload.key != key:
        raise not_found()
    if upload_id is not None and record.upload.upload_id != upload_id:
        raise not_found()
    return record


def _query(model: type[KeyQuery]) -> Any:
    request = bp.current_request
    assert request is not None
    return validate(model, dict(request.query_params or {}))


def _part_numbers(raw: str) -> list[int]:
    numbers = []
    for item in raw.split(","):
        if not (item.strip().isascii() and item.strip().isdigit()):
            raise InvalidInput(
                f"the part numbers must be numbers between 1 and {MAX_PARTS}",
                code="invalid_part_number",
            )
        numbers.append(int(item))
    return numbers


@bp.route("/s3/multipart", methods=["POST"], cors=CORS)
@api_doc(
    "Companion: create a multipart upload",
    body=CreateMultipart,
    response=CreateMultipartResult,
    errors=(403, 404, 409, 413),
)
def create_multipart() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, CreateMultipart)
    file = NewFile(
        name=body.filename,
        content_type=body.type,
        size=body.metadata.file_size(),
        target=body.metadata.target(),
    )
    upload = container().uploads.initiate(caller.user_id, file, source="companion")
    bucket = container().settings.media_bucket
    return json_response(
        CreateMultipartResult(key=upload.key, uploadId=upload.upload_id, bucket=bucket)
    )


@bp.route(MultipartPath, methods=["GET"], cors=CORS)
@api_doc("Companion: the parts S3 holds", query=KeyQuery, errors=(409,))
def list_parts(uploadId: str) -> Response:  # noqa: N803 - Companion's parameter name
    caller = current_caller(bp)
    query = _query(KeyQuery)
    record = owned_by_key(caller.user_id, query.key, uploadId)
    parts = [
        ListedPart(PartNumber=p.part_number, ETag=p.etag, Size=p.size).model_dump()
        for p in container().uploads.parts(record.upload)
    ]
    return json_response(parts)


@bp.route(MultipartPath + "/batch", methods=["GET"], cors=CORS)
@api_doc(
    "Companion: presign a batch of parts", query=BatchQuery, response=BatchSigned, errors=(409,)
)
def sign_batch(uploadId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(BatchQuery)
    numbers = _part_numbers(query.partNumbers)
    record = owned_by_key(caller.user_id, query.key, uploadId)
    # Only the upload's own parts, each signed for its length: Uppy must cut
    # the file at the server's part size (docs/uppy.md, `getChunkSize`).
    urls, _ = container().uploads.presign(record, numbers)
    return json_response(BatchSigned(presignedUrls=urls))


@bp.route(MultipartPath + "/{partNumber}", methods=["GET"], cors=CORS)
@api_doc("Companion: presign one part", query=KeyQuery, response=SignedPart, errors=(409,))
def sign_part(uploadId: str, partNumber: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(KeyQuery)
    numbers = _part_numbers(partNumber)
    if len(numbers) != 1:
        raise InvalidInput("sign one part here; use /batch for several", code="invalid_part_number")
    record = owned_by_key(caller.user_id, query.key, uploadId)
    urls, _ = container().uploads.presign(record, numbers)
    expires = container().settings.presign_expiry_seconds
    return json_response(SignedPart(url=urls[str(numbers[0])], expires=expires))


@bp.route(MultipartPath + "/complete", methods=["POST"], cors=CORS)
@api_doc(
    "Companion: complete a multipart upload",
    query=KeyQuery,
    body=CompleteMultipart,
    response=CompleteResult,
    errors=(409,),
)
def complete_multipart(uploadId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(KeyQuery)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, CompleteMultipart)
    record = owned_by_key(caller.user_id, query.key, uploadId)
    parts = [(p.PartNumber, p.ETag) for p in body.parts]
    _, done = container().uploads.complete(record, parts)
    return json_response(CompleteResult(location=done.location, key=done.key, bucket=done.bucket))


@bp.route(MultipartPath, methods=["DELETE"], cors=CORS)
@api_doc("Companion: abort a multipart upload", query=KeyQuery, response=Empty, errors=(409,))
def abort_multipart(uploadId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(KeyQuery)
    record = owned_by_key(caller.user_id, query.key, uploadId)
    container().uploads.abort(record)
    return json_response({})
