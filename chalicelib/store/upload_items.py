"""The uploads table's items: how an upload record is stored, attribute by
attribute. The names are this table's own, not the wire model's aliases, so a
JSON field can be renamed without migrating stored items; they are the names
items have been stored under since the table was created. The keys of the
sharded `openSince` index live here too, with the sweep's query of them."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from chalicelib.domain.upload_states import OPEN_STATUSES
from chalicelib.domain.uploads import Source, UploadRecord
from chalicelib.models import ChapterTarget, Upload
from chalicelib.store.dynamo import Table

# The sparse index attributes of open uploads (see chalicelib/store/uploads.py).
OPEN_MARKER = "open"
# `openSince` is one of OPEN_SHARDS keys, by a hash of the operation id, so no
# single index partition takes every open upload's writes (1,000 WCU each).
# Items written before the sharding carry the bare marker; the sweep reads it too.
OPEN_SHARDS = 10


def open_since(operation_id: str) -> str:
    return f"{OPEN_MARKER}#{zlib.crc32(operation_id.encode()) % OPEN_SHARDS}"


def open_since_keys() -> list[str]:
    """Every `openSince` key an open upload may have: the shards and the old marker."""
    return [OPEN_MARKER, *(f"{OPEN_MARKER}#{shard}" for shard in range(OPEN_SHARDS))]


def open_before(table: Table, index: str, created_before: str) -> list[str]:
    """Operation ids of open uploads created before the cutoff, oldest first,
    from every shard of the `openSince` index."""
    found = [
        (str(item["createdAt"]), str(item["operationId"]))
        for key in open_since_keys()
        for item in table.query(
            "openSince = :open AND createdAt < :cutoff",
            {":open": key, ":cutoff": created_before},
            index=index,
        )
    ]
    return [operation_id for _, operation_id in sorted(found)]


# Upload field -> table attribute (the names items have been stored under).
ATTRIBUTES: Mapping[str, str] = {
    "operation_id": "operationId",
    "upload_id": "uploadId",
    "user_id": "userId",
    "key": "key",
    "filename": "filename",
    "content_type": "contentType",
    "size": "size",
    "part_size": "partSize",
    "part_count": "partCount",
    "status": "status",
    "target": "target",
    "bytes_uploaded": "bytesUploaded",
    "media_id": "mediaId",
    "reason": "reason",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "expires_at": "expiresAt",
}
# Inside the `target` map.
TARGET_ATTRIBUTES: Mapping[str, str] = {
    "type": "type",
    "course_id": "courseId",
    "chapter_id": "chapterId",
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _maybe_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _renamed(values: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {names[k]: v for k, v in values.items() if k in names}


def record_from_item(raw: Mapping[str, Any]) -> UploadRecord:
    item = _plain(dict(raw))
    fields = {name: item[attr] for name, attr in ATTRIBUTES.items() if attr in item}
    if isinstance(fields.get("target"), dict):
        inside = {attr: name for name, attr in TARGET_ATTRIBUTES.items()}
        fields["target"] = _renamed(fields["target"], inside)
    upload = Upload.model_validate(fields)
    return UploadRecord(
        upload=upload,
        source=item.get("source", "api"),
        last_broadcast_at_ms=_maybe_int(item.get("lastBroadcastAt")),
        last_broadcast_bytes=_maybe_int(item.get("lastBroadcastBytes")),
        broadcast_in_flight_ms=_maybe_int(item.get("broadcastInFlight")),
        announced=bool(item.get("announced", True)),
        correlation_id=item.get("correlationId"),
        etag=item.get("etag"),
    )


def item_from_upload(
    upload: Upload, source: Source, correlation_id: str | None = None
) -> dict[str, Any]:
    values = upload.model_dump(mode="json")
    values["target"] = _renamed(values["target"], TARGET_ATTRIBUTES)
    item = _renamed(values, ATTRIBUTES)
    item["source"] = source
    if correlation_id:
        item["correlationId"] = correlation_id
    if upload.status in OPEN_STATUSES:
        item["openBy"] = upload.user_id
        item["openSince"] = open_since(upload.operation_id)
        if isinstance(upload.target, ChapterTarget):
            item["openInCourse"] = upload.target.course_id
    return item
