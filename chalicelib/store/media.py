"""MediaTable: one item per media file, keyed by mediaId; GSI `byOwner`
(userId, createdAt) serves a user's library newest first.

Links live in a map keyed `{courseId}#{chapterId}`, so a link transaction can
add one with `attribute_not_exists` and a delete can require `size(links) = 0`:
both conditions hold under concurrency without reading first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote as _urlquote

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import Conflict, DomainError, InvalidInput, NotFound
from chalicelib.models import MediaFile, MediaLink
from chalicelib.store.aws_errors import AWS_ERRORS, AwsError, error_code, translate, translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client

BY_OWNER = "byOwner"


def link_key(course_id: str, chapter_id: str) -> str:
    return f"{course_id}#{chapter_id}"


def media_to_item(media: MediaFile) -> dict[str, Any]:
    item = media.wire()
    item.pop("downloadUrl", None)
    if item["operationId"] is None:
        del item["operationId"]
    item["links"] = {
        link_key(link.course_id, link.chapter_id): link.wire() | {"order": n}
        for n, link in enumerate(media.links)
    }
    return item


def media_from_item(raw: dict[str, Any]) -> MediaFile:
    links = sorted(raw.get("links", {}).values(), key=lambda link: int(link.get("order", 0)))
    return MediaFile(
        media_id=str(raw["mediaId"]),
        user_id=str(raw["userId"]),
        filename=str(raw["filename"]),
        content_type=str(raw["contentType"]),
        size=int(raw["size"]),
        key=str(raw["key"]),
        operation_id=raw.get("operationId"),
        created_at=raw["createdAt"],
        links=[
            MediaLink(course_id=link["courseId"], chapter_id=link["chapterId"]) for link in links
        ],
    )


def _unavailable(exc: AwsError) -> DomainError:
    return translate(exc, "using the media store", code="store_unavailable")


class MediaPage:
    __slots__ = ("items", "last_key")

    def __init__(self, items: list[MediaFile], last_key: dict[str, str] | None) -> None:
        self.items = items
        self.last_key = last_key


class MediaStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put_if_absent(self, media: MediaFile) -> bool:
        """Record a media file once: True if this call created it, False if a
        record with its id already existed (a duplicate S3 event)."""
        try:
            self._table.put_item(
                Item=media_to_item(media), ConditionExpression="attribute_not_exists(mediaId)"
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        return True

    def get(self, media_id: str) -> MediaFile | None:
        try:
            got = self._table.get_item(Key={"mediaId": media_id}, ConsistentRead=True)
        except AWS_ERRORS as exc:
            raise _unavailable(exc) from exc
        item = got.get("Item")
        return media_from_item(item) if item else None

    def list_by_owner(
        self, user_id: str, limit: int, start_key: dict[str, str] | None = None
    ) -> MediaPage:
        kwargs: dict[str, Any] = {
            "IndexName": BY_OWNER,
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": {":u": user_id},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        try:
            page = self._table.query(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "ValidationException":
                raise InvalidInput("nextToken is not valid", code="invalid_next_token") from None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        last = page.get("LastEvaluatedKey")
        return MediaPage(
            [media_from_item(i) for i in page.get("Items", [])],
            {k: str(v) for k, v in last.items()} if last else None,
        )

    def delete_unlinked(self, media_id: str, owner: str) -> None:
        """Delete the record if `owner` owns it and it is linked nowhere."""
        try:
            self._table.delete_item(
                Key={"mediaId": media_id},
                ConditionExpression="userId = :owner AND size(links) = :zero",
                ExpressionAttributeValues={":owner": owner, ":zero": 0},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise _unavailable(exc) from exc
            old: Any = exc.response.get("Item")
            if old is None or old.get("userId", {}).get("S") != owner:
                raise NotFound("media file not found") from None
            raise Conflict(
                "the media file is linked into a chapter; unlink it first", code="media_linked"
            ) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None


def quote(filename: str) -> str:
    return _urlquote(filename, safe="")


class S3Objects:
    """The media bucket: deleting objects and presigning downloads."""

    def __init__(self, s3: S3Client, bucket: str, expiry_seconds: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._expiry = expiry_seconds

    def delete(self, key: str) -> None:
        # DeleteObject succeeds for a missing key, so a retried delete is harmless.
        with translated("deleting a media object", code="bucket_unavailable"):
            self._s3.delete_object(Bucket=self._bucket, Key=key)

    def download_url(self, key: str, filename: str) -> str:
        # Presigning is local computation: no request, so no AWS error to map.
        return self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": f"inline; filename*=UTF-8''{quote(filename)}",
            },
            ExpiresIn=self._expiry,
        )
