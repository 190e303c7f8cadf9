"""Uppy 6's `signRequest` option: the browser makes every S3 call of an upload
itself, and this endpoint signs each one, for an upload the caller owns.

A create (POST, or a single-file PUT) without an upload id starts a new upload
from the request's `file` under a key the server chooses, which Uppy then uses;
every later request must name the caller's upload by key and S3 upload id, and
the first one that carries the browser-created upload id binds it. The server
learns of completion only from the S3 event, as with every other upload.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from chalice.app import Response
from pydantic import BeforeValidator, ConfigDict, Field, field_validator

from chalicelib.domain.upload_policy import MAX_PARTS
from chalicelib.domain.uploads import NewFile, not_found
from chalicelib.errors import InvalidInput
from chalicelib.http import api_doc, json_response, parse_body
from chalicelib.models import MAX_INT, JsonInt, UploadTarget, whole_number
from chalicelib.routes.common import current_caller
from chalicelib.routes.routing import CORS, RouteBlueprint
from chalicelib.routes.upload_fields import ContentType, Filename
from chalicelib.routes.uppy import MAX_ID, CompanionModel, FileMeta, owned_by_key
from chalicelib.services import container

if TYPE_CHECKING:
    from chalicelib.uploads.browser import BrowserDrivenUploads
    from chalicelib.uploads.lifecycle import UploadLifecycle

bp = RouteBlueprint(__name__)


class SignFile(CompanionModel):
    name: Filename
    type: ContentType
    # The least is the policy's (400 `invalid_size`), the most the deployment's (413).
    size: JsonInt = Field(le=MAX_INT, json_schema_extra={"minimum": 1})
    meta: FileMeta = Field(default_factory=FileMeta)


# Which requests can be signed, for the document (UppySigner.sign decides the
# same, 400 otherwise): a create (POST, or PUT for one file) with its file; a
# part PUT of an upload with its partNumber; any other method of an upload
# without one.
SIGNABLE: dict[str, Any] = {
    "anyOf": [
        {
            "required": ["file"],
            "properties": {
                "method": {"enum": ["POST", "PUT"]},
                "uploadId": {"type": "null"},
                "partNumber": {"type": "null"},
                "file": {"type": "object"},
            },
        },
        {
            "required": ["uploadId", "partNumber"],
            "properties": {
                "method": {"const": "PUT"},
                "uploadId": {"type": "string"},
                "partNumber": {"type": "integer"},
            },
        },
        {
            "required": ["uploadId"],
            "properties": {
                "method": {"enum": ["GET", "POST", "DELETE"]},
                "uploadId": {"type": "string"},
                "partNumber": {"type": "null"},
            },
        },
    ]
}


class SignRequest(CompanionModel):
    """What Uppy 6 passes to `signRequest`, plus the file for a request that
    creates an upload (see docs/uppy.md)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, json_schema_extra=SIGNABLE)

    method: Literal["GET", "PUT", "POST", "DELETE"]
    key: str = Field(min_length=1, max_length=MAX_ID)
    uploadId: str | None = Field(default=None, min_length=1, max_length=MAX_ID)  # noqa: N815
    partNumber: JsonInt | None = Field(  # noqa: N815
        default=None, json_schema_extra={"minimum": 1, "maximum": MAX_PARTS}
    )
    # Uppy sends it; the server's own expiry applies (SigV4 allows at most 7 days).
    expiresIn: (  # noqa: N815
        Annotated[int, Field(ge=1, le=7 * 24 * 3600), BeforeValidator(whole_number)] | None
    ) = None
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


class BrowserRequests(Protocol):
    """Presigned S3 requests a browser makes itself (chalicelib/store/multipart.py)."""

    def presign_create(self, key: str, content_type: str) -> str: ...
    def presign_put(self, key: str, content_type: str, size: int) -> str: ...
    def presign_list_parts(self, key: str, upload_id: str) -> str: ...
    def presign_complete(self, key: str, upload_id: str) -> str: ...
    def presign_abort(self, key: str, upload_id: str) -> str: ...


class UppySigner:
    """Signs one S3 request of Uppy's browser-driven upload: the upload's
    lifecycle decides, S3's presigner signs."""

    def __init__(
        self, uploads: UploadLifecycle, browser: BrowserDrivenUploads, storage: BrowserRequests
    ) -> None:
        self._uploads = uploads
        self._browser = browser
        self._storage = storage

    def sign(self, user_id: str, request: SignRequest) -> Signed:
        # The file's target is checked whatever the request, as every field is.
        target = request.file.meta.target() if request.file is not None else None
        if request.uploadId is None:
            return self._create(user_id, request, target)
        method, upload_id, part_number = request.method, request.uploadId, request.partNumber
        record = owned_by_key(user_id, request.key)
        if record.upload.upload_id != upload_id:
            if record.source != "signer":
                raise not_found()
            record = self._browser.bind(record, upload_id)
        key = record.upload.key
        if method == "PUT":
            if part_number is None:
                raise InvalidInput("a part upload needs its partNumber", code="invalid_parts")
            urls, _ = self._uploads.presign(record, [part_number])
            return Signed(url=urls[str(part_number)], key=key)
        if part_number is not None:
            raise InvalidInput("only part uploads carry a partNumber", code="invalid_parts")
        if method == "GET":
            return Signed(url=self._storage.presign_list_parts(key, upload_id), key=key)
        if method == "POST":
            self._browser.completing(record)
            return Signed(url=self._storage.presign_complete(key, upload_id), key=key)
        self._uploads.abort(record)
        return Signed(url=self._storage.presign_abort(key, upload_id), key=key)

    def _create(self, user_id: str, request: SignRequest, target: UploadTarget | None) -> Signed:
        if request.method not in {"POST", "PUT"} or request.partNumber is not None:
            raise InvalidInput(
                "only uploads can be signed: POST to create, PUT for one file",
                code="unsupported_request",
            )
        if request.file is None or target is None:
            raise InvalidInput("a new upload needs its file", code="missing_file")
        single = request.method == "PUT"
        file = NewFile(
            name=request.file.name,
            content_type=request.file.type,
            size=request.file.size,
            target=target,
        )
        upload = self._uploads.initiate(user_id, file, source="signer", single_put=single)
        if single:
            url = self._storage.presign_put(upload.key, upload.content_type, upload.size)
        else:
            url = self._storage.presign_create(upload.key, upload.content_type)
        return Signed(url=url, key=upload.key)


@bp.route("/s3/sign", methods=["POST"], cors=CORS)
@api_doc(
    "Uppy 6 signRequest: sign one S3 request of the caller's upload",
    body=SignRequest,
    response=Signed,
    errors=(403, 404, 409, 413),
)
def sign_request() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, SignRequest)
    c = container()
    signer = UppySigner(c.uploads, c.upload_features.browser_uploads, c.upload_features.multipart)
    return json_response(signer.sign(caller.user_id, body))
