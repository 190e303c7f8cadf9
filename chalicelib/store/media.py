"""MediaTable: one item per media file, keyed by mediaId; GSI `byOwner`
(userId, createdAt) serves a user's library newest first.

Links live in a map keyed `{courseId}#{chapterId}`, so a link transaction can
add one with `attribute_not_exists` and a delete can require `size(links) = 0`:
both conditions hold under concurrency without reading first.

Items are mapped field by field, never dumped from the wire model: renaming a
JSON field must not rename an attribute.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as _urlquote

from chalicelib.domain.media import LibraryPosition, MediaPage
from chalicelib.errors import Conflict, NotFound
from chalicelib.ids import iso
from chalicelib.models import MediaFile, MediaLink
from chalicelib.store.aws_errors import translated
from chalicelib.store.dynamo import ConditionFailed, Item, Table

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BY_OWNER = "byOwner"


def link_key(course_id: str, chapter_id: str) -> str:
    return f"{course_id}#{chapter_id}"


def link_to_attribute(link: MediaLink, order: int) -> Item:
    """A link in the media item's `links` map; `order` keeps the links in the
    order they were made (a map has none)."""
    return {"courseId": link.course_id, "chapterId": link.chapter_id, "order": order}


def media_to_item(media: MediaFile) -> Item:
    item: Item = {
        "mediaId": media.media_id,
        "userId": media.user_id,
        "filename": media.filename,
        "contentType": media.content_type,
        "size": media.size,
        "key": media.key,
        "createdAt": iso(media.created_at),
        "links": {
            link_key(link.course_id, link.chapter_id): link_to_attribute(link, n)
            for n, link in enumerate(media.links)
        },
    }
    if media.operation_id is not None:
        item["operationId"] = media.operation_id
    item.update(metadata_attributes(media))
    return item


# Attribute name -> MediaFile field, for what processing fills in. Absent or
# null attributes read back as None.
_METADATA = {
    "durationSeconds": "duration_seconds",
    "width": "width",
    "height": "height",
    "rotation": "rotation",
    "videoCodec": "video_codec",
    "audioCodec": "audio_codec",
    "bitrate": "bitrate",
}
# A record written before media had a lifecycle has no `status`: its file was
# never read, and it will not be, so it reads as ready without metadata
# instead of processing forever.
LEGACY_STATUS = "ready"
LEGACY_REASON = "not_processed"


def metadata_attributes(media: MediaFile) -> Item:
    """The lifecycle and metadata attributes of a media item. DynamoDB numbers
    are Decimals: a float duration goes in as its decimal string."""
    item: Item = {"status": media.status, "hasPoster": media.has_poster}
    if media.reason is not None:
        item["reason"] = media.reason
    for attribute, field in _METADATA.items():
        value = getattr(media, field)
        if value is None:
            continue
        item[attribute] = Decimal(str(value)) if isinstance(value, float) else value
    return item


def _metadata_from_item(raw: Item) -> dict[str, Any]:
    status = raw.get("status")
    fields: dict[str, Any] = {
        "status": str(status) if status is not None else LEGACY_STATUS,
        "reason": (
            str(raw["reason"])
            if raw.get("reason") is not None
            else (LEGACY_REASON if status is None else None)
        ),
        "has_poster": bool(raw.get("hasPoster", False)),
    }
    for attribute, field in _METADATA.items():
        value = raw.get(attribute)
        if value is None:
            fields[field] = None
        elif field == "duration_seconds":
            fields[field] = float(value)
        elif field in ("video_codec", "audio_codec"):
            fields[field] = str(value)
        else:
            fields[field] = int(value)
    return fields


def media_from_item(raw: Item) -> MediaFile:
    links = sorted(raw.get("links", {}).values(), key=lambda link: int(link.get("order", 0)))
    operation_id = raw.get("operationId")
    return MediaFile(
        media_id=str(raw["mediaId"]),
        user_id=str(raw["userId"]),
        filename=str(raw["filename"]),
        content_type=str(raw["contentType"]),
        size=int(raw["size"]),
        key=str(raw["key"]),
        operation_id=None if operation_id is None else str(operation_id),
        created_at=datetime.fromisoformat(str(raw["createdAt"])),
        links=[
            MediaLink(course_id=str(link["courseId"]), chapter_id=str(link["chapterId"]))
            for link in links
        ],
        **_metadata_from_item(raw),
    )


class MediaStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put_if_absent(self, media: MediaFile) -> bool:
        """Record a media file once: True if this call created it, False if a
        record with its id already existed (a duplicate S3 event)."""
        try:
            self._table.put(media_to_item(media), condition="attribute_not_exists(mediaId)")
        except ConditionFailed:
            return False
        return True

    def get(self, media_id: str) -> MediaFile | None:
        item = self._table.get({"mediaId": media_id})
        return media_from_item(item) if item else None

    def get_many(self, media_ids: list[str]) -> list[MediaFile]:
        """The media files of `media_ids` that exist, in no particular order."""
        items = self._table.get_many([{"mediaId": media_id} for media_id in media_ids])
        return [media_from_item(item) for item in items]

    def list_by_owner(
        self, user_id: str, limit: int, after: LibraryPosition | None = None
    ) -> MediaPage:
        start = (
            {"mediaId": after.media_id, "userId": user_id, "createdAt": after.created_at}
            if after
            else None
        )
        page = self._table.query_page(
            "userId = :u",
            {":u": user_id},
            index=BY_OWNER,
            forward=False,
            limit=limit,
            start=start,
        )
        last = page.last_key
        return MediaPage(
            [media_from_item(i) for i in page.items],
            LibraryPosition(str(last["mediaId"]), str(last["createdAt"])) if last else None,
        )

    def delete_unlinked(self, media_id: str, owner: str) -> None:
        """Delete the record if `owner` owns it and it is linked nowhere."""
        try:
            self._table.delete(
                {"mediaId": media_id},
                condition="userId = :owner AND size(links) = :zero",
                values={":owner": owner, ":zero": 0},
                old_on_failure=True,
            )
        except ConditionFailed as failed:
            old: Any = failed.item
            if old is None or old.get("userId") != owner:
                raise NotFound("media file not found") from None
            raise Conflict(
                "the media file is linked into a chapter; unlink it first", code="media_linked"
            ) from None


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
