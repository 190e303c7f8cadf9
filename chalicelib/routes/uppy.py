"""Uppy compatibility: Companion's S3 multipart routes with Companion's paths,
query parameters, JSON field names and status codes, so `@uppy/aws-s3` works
with `companionEndpoint` alone; and one endpoint for Uppy 6's `signRequest`.

Unlike Companion, every route checks that the caller owns the upload (the key
names the uploader and the operation; the S3 upload id must be the upload's).
The upload's target comes from Uppy's file metadata (`courseId`, `chapterId`);
Companion's create call carries no size, so the metadata must (`size`).
"""

from __future__ import annotations

from typing import Any, Literal

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.errors import InvalidInput
from chalicelib.http import api_doc, json_response, parse_body, validate
from chalicelib.models import MAX_INT, ChapterTarget, LibraryTarget, PartETag, UploadTarget
from chalicelib.routes.common import CORS, current_caller
from chalicelib.services import container
from chalicelib.store.multipart import MAX_PARTS
from chalicelib.uploads import MAX_PARTS_PER_BATCH, NewFile

bp = Blueprint(__name__)

MultipartPath = "/s3/multipart/{uploadId}"
MAX_ID = 1024


class CompanionModel(BaseModel):
    """Companion's JSON uses these exact names (camelCase and S3's PascalCase)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CreateMultipart(CompanionModel):
    filename: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=3, max_length=255)
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=64)


class CreateMultipartResult(CompanionModel):
    key: str
    uploadId: str  # noqa: N815 - Companion's field name
    bucket: str


class KeyQuery(CompanionModel):
    key: str = Field(min_length=1, max_length=MAX_ID)


class BatchQuery(KeyQuery):
    partNumbers: str = Field(min_length=1, max_length=6 * MAX_PARTS_PER_BATCH)  # noqa: N815


class S3Part(CompanionModel):
    PartNumber: int = Field(ge=1, le=MAX_PARTS)
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


class SignFile(CompanionModel):
    name: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=3, max_length=255)
    size: int = Field(le=MAX_INT)
    meta: dict[str, Any] = Field(default_factory=dict, max_length=64)


class SignRequest(CompanionModel):
    """What Uppy 6 passes to `signRequest`, plus the file for a request that
    creates an upload (see docs/uppy.md)."""

    method: Literal["GET", "PUT", "POST", "DELETE"]
    key: str = Field(min_length=1, max_length=MAX_ID)
    uploadId: str | None = Field(default=None, min_length=1, max_length=MAX_ID)  # noqa: N815
    partNumber: int | None = None  # noqa: N815
    # Uppy sends it; the server's own expiry applies (SigV4 allows at most 7 days).
    expiresIn: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)  # noqa: N815
    contentType: str | None = Field(default=None, max_length=255)  # noqa: N815
    file: SignFile | None = None

    @field_validator("partNumber")
    @classmethod
    def _part_in_range(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_PARTS:
            raise ValueError(f"partNumber must be between 1 and {MAX_PARTS}")
        return value


class Signed(CompanionModel):
    url: str
    key: str


class Empty(CompanionModel):
    pass


def target_from(meta: dict[str, Any]) -> UploadTarget:
    course, chapter = meta.get("courseId"), meta.get("chapterId")
    if course is None and chapter is None:
        return LibraryTarget(type="library")
    if not (isinstance(course, str) and isinstance(chapter, str) and course and chapter):
        raise InvalidInput(
            "metadata needs both courseId and chapterId (strings) for a chapter upload",
            code="invalid_target",
        )
    if len(course) > 128 or len(chapter) > 128:
        raise InvalidInput(
            "courseId and chapterId are at most 128 characters", code="invalid_target"
        )
    return ChapterTarget(type="chapter", course_id=course, chapter_id=chapter)


def size_from(meta: dict[str, Any]) -> int:
    size = meta.get("size")
    # isdigit() alone accepts "²", which int() refuses.
    if isinstance(size, str) and size.isascii() and size.isdigit():
        size = int(size)
    if not isinstance(size, int) or isinstance(size, bool):
        raise InvalidInput(
            "metadata.size (the file's size in bytes) is required", code="invalid_size"
        )
    return size


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
    "Companion: create a multipart upload", body=CreateMultipart, response=CreateMultipartResult
)
def create_multipart() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, CreateMultipart)
    upload = container().uploads.initiate(
        caller.user_id,
        body.filename,
        body.type,
        size_from(body.metadata),
        target_from(body.metadata),
        source="companion",
    )
    bucket = container().settings.media_bucket
    return json_response(
        CreateMultipartResult(key=upload.key, uploadId=upload.upload_id, bucket=bucket)
    )


@bp.route(MultipartPath, methods=["GET"], cors=CORS)
@api_doc("Companion: the parts S3 holds", query=KeyQuery)
def list_parts(uploadId: str) -> Response:  # noqa: N803 - Companion's parameter name
    caller = current_caller(bp)
    query = _query(KeyQuery)
    uploads = container().uploads
    record = uploads.owned_by_key(caller.user_id, query.key, uploadId)
    parts = [
        ListedPart(PartNumber=p.part_number, ETag=p.etag, Size=p.size).model_dump()
        for p in uploads.parts(record.upload)
    ]
    return json_response(parts)


@bp.route(MultipartPath + "/batch", methods=["GET"], cors=CORS)
@api_doc("Companion: presign a batch of parts", query=BatchQuery, response=BatchSigned)
def sign_batch(uploadId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(BatchQuery)
    numbers = _part_numbers(query.partNumbers)
    uploads = container().uploads
    record = uploads.owned_by_key(caller.user_id, query.key, uploadId)
    urls, _ = uploads.presign_for(record, numbers, max_part=MAX_PARTS)
    return json_response(BatchSigned(presignedUrls=urls))


@bp.route(MultipartPath + "/{partNumber}", methods=["GET"], cors=CORS)
@api_doc("Companion: presign one part", query=KeyQuery, response=SignedPart)
def sign_part(uploadId: str, partNumber: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(KeyQuery)
    numbers = _part_numbers(partNumber)
    if len(numbers) != 1:
        raise InvalidInput("sign one part here; use /batch for several", code="invalid_part_number")
    uploads = container().uploads
    record = uploads.owned_by_key(caller.user_id, query.key, uploadId)
    urls, _ = uploads.presign_for(record, numbers, max_part=MAX_PARTS)
    expires = container().settings.presign_expiry_seconds
    return json_response(SignedPart(url=urls[str(numbers[0])], expires=expires))


@bp.route(MultipartPath + "/complete", methods=["POST"], cors=CORS)
@api_doc(
    "Companion: complete a multipart upload",
    query=KeyQuery,
    body=CompleteMultipart,
    response=CompleteResult,
)
def complete_multipart(uploadId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(KeyQuery)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, CompleteMultipart)
    uploads = container().uploads
    record = uploads.owned_by_key(caller.user_id, query.key, uploadId)
    parts = [(p.PartNumber, p.ETag) for p in body.parts]
    _, done = uploads.complete_record(record, parts, max_part=MAX_PARTS)
    return json_response(CompleteResult(location=done.location, key=done.key, bucket=done.bucket))


@bp.route(MultipartPath, methods=["DELETE"], cors=CORS)
@api_doc("Companion: abort a multipart upload", query=KeyQuery, response=Empty)
def abort_multipart(uploadId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    query = _query(KeyQuery)
    uploads = container().uploads
    record = uploads.owned_by_key(caller.user_id, query.key, uploadId)
    uploads.abort_record(record)
    return json_response({})


@bp.route("/s3/sign", methods=["POST"], cors=CORS)
@api_doc(
    "Uppy 6 signRequest: sign one S3 request of the caller's upload",
    body=SignRequest,
    response=Signed,
)
def sign_request() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, SignRequest)
    new_file = None
    if body.file is not None:
        new_file = NewFile(
            name=body.file.name,
            content_type=body.file.type,
            size=body.file.size,
            target=target_from(body.file.meta),
        )
    url, key = container().uploads.sign(
        caller.user_id,
        body.method,
        body.key,
        upload_id=body.uploadId,
        part_number=body.partNumber,
        new_file=new_file,
    )
    return json_response(Signed(url=url, key=key))
