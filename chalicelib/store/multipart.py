"""The S3 multipart adapter: every S3 call an upload makes, and the one place
botocore's S3 errors become domain errors.

Presigned URLs are SigV4 against the regional endpoint (the client comes from the
composition root configured that way) and short-lived: a URL dies with the
credentials that signed it, so clients ask for them in batches as they go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.uploads import CompletedObject, StoredObject
from chalicelib.errors import Conflict, DomainError, InvalidInput
from chalicelib.models import UploadPart
from chalicelib.store.aws_errors import AwsError, error_code, translate

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_BAD_PARTS = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"}


class MultipartStorage:
    def __init__(
        self, s3: S3Client, bucket: str, expiry_seconds: int, *, parts_page_size: int = 1000
    ) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.expiry_seconds = expiry_seconds
        self._parts_page_size = parts_page_size

    # ---- calls that touch S3 ------------------------------------------------
    def create(self, key: str, content_type: str) -> str:
        try:
            response = self._s3.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc, "create") from None
        return response["UploadId"]

    def list_parts(self, key: str, upload_id: str) -> list[UploadPart]:
        """Every part S3 holds, paging past ListParts' 1,000 per call.
        An upload S3 no longer knows (completed or aborted) has none."""
        parts: list[UploadPart] = []
        marker = 0
        while True:
            try:
                page = self._s3.list_parts(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                    MaxParts=self._parts_page_size,
                )
            except ClientError as exc:
                if error_code(exc) == "NoSuchUpload":
                    return parts
                raise self._unavailable(exc, "list_parts") from None
            except BotoCoreError as exc:
                raise self._unavailable(exc, "list_parts") from None
            for part in page.get("Parts", []):
                parts.append(
                    UploadPart(
                        part_number=int(part["PartNumber"]),
                        etag=str(part["ETag"]),
                        size=int(part["Size"]),
                    )
                )
            if not page.get("IsTruncated"):
                return parts
            marker = int(page.get("NextPartNumberMarker", 0))

    def complete(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> CompletedObject:
        ordered = sorted(parts)
        try:
            response = self._s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": number, "ETag": etag} for number, etag in ordered]
                },
            )
        except ClientError as exc:
            code = error_code(exc)
            if code in _BAD_PARTS:
                raise InvalidInput(
                    "S3 refused the parts: " + str(exc.response["Error"].get("Message", code)),
                    code="invalid_parts",
                ) from None
            if code == "NoSuchUpload":
                stored = self.head(key)
                if stored is not None:
                    # Completed already (a retried request): the object is there.
                    return CompletedObject(self._location(key), key, self.bucket, stored.etag)
                raise Conflict("S3 no longer holds this upload", code="upload_not_open") from None
            raise self._unavailable(exc, "complete") from None
        except BotoCoreError as exc:
            raise self._unavailable(exc, "complete") from None
        return CompletedObject(
            str(response.get("Location") or self._location(key)),
            key,
            self.bucket,
            str(response.get("ETag", "")),
        )

    def abort(self, key: str, upload_id: str) -> None:
        """Abort, treating an upload S3 no longer holds as already aborted."""
        if not upload_id:
            return
        try:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if error_code(exc) not in {"NoSuchUpload", "404"}:
                raise self._unavailable(exc, "abort") from None
        except BotoCoreError as exc:
            raise self._unavailable(exc, "abort") from None

    def delete_object(self, key: str) -> None:
        """Remove an object no media record will ever point at (deleting a
        missing key is not an error in S3)."""
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc, "delete") from None

    def head(self, key: str) -> StoredObject | None:
        """What S3 holds under the key (one HeadObject), or None."""
        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise self._unavailable(exc, "head") from None
        except BotoCoreError as exc:
            raise self._unavailable(exc, "head") from None
        return StoredObject(size=int(head["ContentLength"]), etag=str(head.get("ETag", "")))

    # ---- presigning (local computation, no S3 call) ------------------------
    def presign_part(self, key: str, upload_id: str, part_number: int, length: int) -> str:
        # The part's length is signed (Content-Length is a signed header): S3
        # refuses a body of any other length, so a part URL carries exactly
        # the bytes the server allowed for that part.
        return self._presign(
            "upload_part",
            {"Key": key, "UploadId": upload_id, "PartNumber": part_number, "ContentLength": length},
        )

    def presign_create(self, key: str, content_type: str) -> str:
        return self._presign("create_multipart_upload", {"Key": key, "ContentType": content_type})

    def presign_put(self, key: str, content_type: str, size: int) -> str:
        # The length is signed: S3 refuses a body of any other size, so the URL
        # cannot carry more than the size the upload was checked for.
        return self._presign(
            "put_object", {"Key": key, "ContentType": content_type, "ContentLength": size}
        )

    def presign_list_parts(self, key: str, upload_id: str) -> str:
        return self._presign("list_parts", {"Key": key, "UploadId": upload_id})

    def presign_complete(self, key: str, upload_id: str) -> str:
        return self._presign("complete_multipart_upload", {"Key": key, "UploadId": upload_id})

    def presign_abort(self, key: str, upload_id: str) -> str:
        return self._presign("abort_multipart_upload", {"Key": key, "UploadId": upload_id})

    def _presign(self, operation: str, params: dict[str, Any]) -> str:
        return self._s3.generate_presigned_url(
            ClientMethod=operation,
            Params={"Bucket": self.bucket, **params},
            ExpiresIn=self.expiry_seconds,
        )

    def _location(self, key: str) -> str:
        return f"{self._s3.meta.endpoint_url}/{self.bucket}/{key}"

    @staticmethod
    def _unavailable(exc: AwsError, action: str) -> DomainError:
        return translate(exc, f"calling S3 ({action})", code="storage_unavailable")
