"""The upload routes: presigned multipart uploads straight to S3.

Only the uploader may act on an upload; anyone else gets 404, exactly as for an
upload that does not exist, so operation ids reveal nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice.app import Response
from pydantic import ConfigDict, Field

from chalicelib.domain.upload_policy import MAX_PARTS, MAX_PARTS_PER_BATCH
from chalicelib.domain.uploads import NewFile
from chalicelib.http import api_doc, json_response, parse_body, validate
from chalicelib.models import (
    MAX_INT,
    JsonInt,
    PartETag,
    Timestamp,
    Upload,
    UploadPart,
    UploadTarget,
    WireModel,
)
from chalicelib.routes.common import current_caller
from chalicelib.routes.routing import CORS, RouteBlueprint
from chalicelib.routes.upload_fields import ContentType, Filename
from chalicelib.services import container

bp = RouteBlueprint(__name__)

PART_NUMBER_BOUNDS: dict[str, Any] = {"minimum": 1, "maximum": MAX_PARTS}

OperationPath = "/uploads/{operationId}"


class StrictRequest(WireModel):
    model_config = ConfigDict(strict=True)


class InitiateRequest(StrictRequest):
    filename: Filename
    content_type: ContentType
    # The policy checks the least (400 `invalid_size`) and the deployment's
    # UPLOAD_MAX_BYTES (413 `upload_too_large`).
    size: JsonInt = Field(le=MAX_INT, json_schema_extra={"minimum": 1})
    target: UploadTarget


class PartsRequest(StrictRequest):
    # Each 1..partCount, checked by the policy (400 `invalid_part_number`);
    # the document can state S3's bounds only.
    part_numbers: list[Annotated[JsonInt, Field(json_schema_extra=PART_NUMBER_BOUNDS)]] = Field(
        min_length=1, max_length=MAX_PARTS_PER_BATCH
    )


class PartsResponse(WireModel):
    urls: dict[str, str]
    expires_at: Timestamp


class ProgressRequest(StrictRequest):
    bytes_uploaded: JsonInt = Field(ge=0, le=MAX_INT)


class ProgressAccepted(WireModel):
    operation_id: str
    bytes_uploaded: int
    status: str


class CompletedPart(StrictRequest):
    part_number: JsonInt = Field(ge=1, le=MAX_PARTS)
    etag: PartETag


class CompleteRequest(StrictRequest):
    parts: list[CompletedPart] | None = Field(default=None, min_length=1, max_length=MAX_PARTS)


class UploadDetail(Upload):
    parts: list[UploadPart]


class UploadList(WireModel):
    uploads: list[Upload]


class ListQuery(StrictRequest):
    status: Literal["active"] = "active"


@bp.route("/uploads", methods=["POST"], cors=CORS)
@api_doc(
    "Start a multipart upload",
    body=InitiateRequest,
    response=Upload,
    status=201,
    errors=(403, 404, 409, 413),
)
def initiate() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, InitiateRequest)
    file = NewFile(
        name=body.filename, content_type=body.content_type, size=body.size, target=body.target
    )
    upload = container().uploads.initiate(caller.user_id, file)
    return json_response(upload, 201)


@bp.route("/uploads", methods=["GET"], cors=CORS)
@api_doc("The caller's open uploads", response=UploadList, query=ListQuery)
def list_active() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    validate(ListQuery, dict(bp.current_request.query_params or {}))
    return json_response(UploadList(uploads=container().uploads.active(caller.user_id)))


@bp.route(OperationPath, methods=["GET"], cors=CORS)
@api_doc("An upload, with the parts S3 holds", response=UploadDetail)
def get_upload(operationId: str) -> Response:  # noqa: N803 - the path parameter's name
    caller = current_caller(bp)
    uploads = container().uploads
    upload, parts = uploads.with_parts(uploads.owned(caller.user_id, operationId).upload)
    detail = UploadDetail(**dict(upload), parts=parts)
    return json_response(detail)


@bp.route(OperationPath + "/parts", methods=["POST"], cors=CORS)
@api_doc(
    "Presign a batch of part uploads", body=PartsRequest, response=PartsResponse, errors=(409,)
)
def presign_parts(operationId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, PartsRequest)
    uploads = container().uploads
    record = uploads.owned(caller.user_id, operationId)
    urls, expires_at = uploads.presign(record, body.part_numbers)
    return json_response(PartsResponse(urls=urls, expires_at=expires_at))


@bp.route(OperationPath + "/progress", methods=["POST"], cors=CORS)
@api_doc(
    "Report bytes uploaded",
    body=ProgressRequest,
    response=ProgressAccepted,
    status=202,
    errors=(409,),
)
def report_progress(operationId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, ProgressRequest)
    record = container().progress.report(operationId, caller.user_id, body.bytes_uploaded)
    upload = record.upload
    accepted = ProgressAccepted(
        operation_id=upload.operation_id,
        bytes_uploaded=upload.bytes_uploaded,
        status=upload.status,
    )
    return json_response(accepted, 202)


@bp.route(OperationPath + "/complete", methods=["POST"], cors=CORS)
@api_doc(
    "Assemble the parts; completion follows from S3",
    body=CompleteRequest,
    response=Upload,
    status=202,
    errors=(409,),
)
def complete(operationId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, CompleteRequest)
    parts = None if body.parts is None else [(p.part_number, p.etag) for p in body.parts]
    uploads = container().uploads
    upload, _ = uploads.complete(uploads.owned(caller.user_id, operationId), parts)
    return json_response(upload, 202)


@bp.route(OperationPath, methods=["DELETE"], cors=CORS)
@api_doc("Abort an upload", response=Upload, errors=(409,))
def abort(operationId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    uploads = container().uploads
    return json_response(uploads.abort(uploads.owned(caller.user_id, operationId)))
