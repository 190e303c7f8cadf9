"""The uploads table: one item per upload operation, keyed by `operationId`.

Open uploads carry three sparse index attributes, removed in the same write that
makes an upload terminal, so every "open uploads of ..." read is a query of a
small index, never a scan:
- `openBy` (userId) for `GET /uploads?status=active` and the user channel's replay,
- `openInCourse` (courseId, chapter targets only) for the course channel's replay,
- `openSince` (the constant `open`) with `createdAt` for the stale-upload sweep.

Progress bookkeeping (`progressAt`, `lastBroadcastAt`, `lastBroadcastBytes`) lives
on the same item so that a report costs one conditional write and a broadcast one
conditional claim.

The item's attribute names are this table's own (chalicelib/store/upload_items.py),
not the wire model's aliases: a JSON field can be renamed without migrating items.
Which status may move to which is the domain's table
(chalicelib/domain/upload_states.py); every transition's condition comes from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.upload_states import OPEN_STATUSES, UploadStatus, not_open, sources_of
from chalicelib.domain.uploads import ProgressWrite, Source, UploadRecord, not_found
from chalicelib.errors import Conflict, DomainError
from chalicelib.models import Upload
from chalicelib.store.aws_errors import AwsError, error_code, translate
from chalicelib.store.upload_items import (
    ATTRIBUTES,
    OPEN_MARKER,
    item_from_upload,
    record_from_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

OPEN_BY_USER = "openByUser"
OPEN_BY_COURSE = "openByCourse"
OPEN_BY_AGE = "openByAge"

_OPEN = sorted(OPEN_STATUSES)
_NAMES = {"#status": "status", "#user": "userId"}


def _unavailable(exc: AwsError) -> DomainError:
    return translate(exc, "using the uploads table", code="store_unavailable")


class UploadStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # ---- writes ---------------------------------------------------------------
    def create(self, upload: Upload, source: Source) -> None:
        try:
            self._table.put_item(
                Item=item_from_upload(upload, source),
                ConditionExpression="attribute_not_exists(operationId)",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise Conflict("the operation exists already", code="duplicate_operation") from None
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None

    def record_progress(
        self, operation_id: str, user_id: str, bytes_uploaded: int, now_ms: int
    ) -> ProgressWrite:
        """One conditional write: bytes only move forward, only while the upload is
        open, only for its uploader. A failed condition returns the stored item
        (no extra read) to tell a stale report from a closed or foreign upload."""
        try:
            response = self._table.update_item(
                Key={"operationId": operation_id},
                UpdateExpression="SET bytesUploaded = :b, progressAt = :now",
                ConditionExpression=(
                    "#user = :u AND #status IN (:s0, :s1) AND bytesUploaded < :b AND #size >= :b"
                ),
                ExpressionAttributeNames={**_NAMES, "#size": "size"},
                ExpressionAttributeValues={
                    ":b": bytes_uploaded,
                    ":now": now_ms,
                    ":u": user_id,
                    ":s0": _OPEN[0],
                    ":s1": _OPEN[1],
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise _unavailable(exc) from None
            old: Any = dict(exc.response).get("Item")
            if not old:
                raise not_found() from None
            record = record_from_item(_deserialize(old))
            if record.upload.user_id != user_id:
                raise not_found() from None
            if record.upload.status not in OPEN_STATUSES:
                raise not_open(record.upload.status) from None
            return ProgressWrite(record, advanced=False)
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        return ProgressWrite(record_from_item(response["Attributes"]), advanced=True)

    def claim_broadcast(
        self, operation_id: str, bytes_uploaded: int, now_ms: int, min_interval_ms: int
    ) -> bool:
        """Claim the upload's next broadcast slot: at most one claim per interval
        wins however many reports race for it, and broadcast bytes only grow."""
        return (
            self._conditional_update(
                Key={"operationId": operation_id},
                UpdateExpression="SET lastBroadcastAt = :now, lastBroadcastBytes = :b",
                ConditionExpression=(
                    "#status IN (:s0, :s1)"
                    " AND (attribute_not_exists(lastBroadcastAt) OR lastBroadcastAt <= :cutoff)"
                    " AND (attribute_not_exists(lastBroadcastBytes) OR lastBroadcastBytes < :b)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":now": now_ms,
                    ":b": bytes_uploaded,
                    ":cutoff": now_ms - min_interval_ms,
                    ":s0": _OPEN[0],
                    ":s1": _OPEN[1],
                },
            )
            is not None
        )

    def transition(
        self,
        operation_id: str,
        to: UploadStatus,
        *,
        updated_at: str,
        reason: str | None = None,
        media_id: str | None = None,
        bytes_uploaded: int | None = None,
        announced: bool | None = None,
        created_before: str | None = None,
    ) -> UploadRecord | None:
        """Move an upload to `to` if the transition table allows it from the
        stored status (and, with `created_before`, only if it was created before
        then); None if not (someone else got there first, or it does not exist).
        Terminal states leave every open-uploads index in the same write."""
        values: dict[str, Any] = {":to": to, ":now": updated_at}
        placeholders = []
        for i, status in enumerate(sorted(sources_of(to))):
            values[f":f{i}"] = status
            placeholders.append(f":f{i}")
        assignments = ["#status = :to", "updatedAt = :now"]
        names = {"#status": "status"}
        changes = {
            ATTRIBUTES["reason"]: reason,
            ATTRIBUTES["media_id"]: media_id,
            ATTRIBUTES["bytes_uploaded"]: bytes_uploaded,
            "announced": announced,
        }
        for i, (name, value) in enumerate((n, v) for n, v in changes.items() if v is not None):
            names[f"#a{i}"] = name
            values[f":a{i}"] = value
            assignments.append(f"#a{i} = :a{i}")
        expression = "SET " + ", ".join(assignments)
        if to not in OPEN_STATUSES:
            expression += " REMOVE openBy, openSince, openInCourse"
        condition = f"#status IN ({', '.join(placeholders)})"
        if created_before is not None:
            condition += " AND createdAt < :cutoff"
            values[":cutoff"] = created_before
        attributes = self._conditional_update(
            Key={"operationId": operation_id},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return None if attributes is None else record_from_item(attributes)

    def bind_upload_id(self, operation_id: str, upload_id: str) -> bool:
        """Record the S3 upload id of an upload the browser created through a
        presigned URL (the signer flow); idempotent, never rebinds."""
        return (
            self._conditional_update(
                Key={"operationId": operation_id},
                UpdateExpression="SET uploadId = :id",
                ConditionExpression="uploadId = :empty OR uploadId = :id",
                ExpressionAttributeValues={":id": upload_id, ":empty": ""},
            )
            is not None
        )

    def mark_announced(self, operation_id: str) -> None:
        try:
            self._table.update_item(
                Key={"operationId": operation_id},
                UpdateExpression="SET announced = :t",
                ExpressionAttributeValues={":t": True},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from None

    def _conditional_update(self, **kwargs: Any) -> dict[str, Any] | None:
        """UpdateItem whose failed condition is an answer (None), not an error;
        the new attributes when ReturnValues asks for them, else {}."""
        try:
            response = self._table.update_item(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        return dict(response.get("Attributes", {}))

    # ---- reads ------------------------------------------------------------------
    def get(self, operation_id: str) -> UploadRecord | None:
        try:
            response = self._table.get_item(Key={"operationId": operation_id}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from None
        item = response.get("Item")
        return record_from_item(item) if item else None

    def open_by_user(self, user_id: str) -> list[UploadRecord]:
        return list(self._query(OPEN_BY_USER, Key("openBy").eq(user_id)))

    def open_in_course(self, course_id: str) -> list[UploadRecord]:
        return list(self._query(OPEN_BY_COURSE, Key("openInCourse").eq(course_id)))

    def open_before(self, created_before: str) -> list[str]:
        """Operation ids of open uploads created before the cutoff, oldest first."""
        condition = Key("openSince").eq(OPEN_MARKER) & Key("createdAt").lt(created_before)
        return [str(item["operationId"]) for item in self._items(OPEN_BY_AGE, condition)]

    def _query(self, index: str, condition: Any) -> Iterator[UploadRecord]:
        for item in self._items(index, condition):
            record = record_from_item(item)
            # The index is eventually consistent: skip items that closed meanwhile.
            if record.upload.status in OPEN_STATUSES:
                yield record

    def _items(self, index: str, condition: Any) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": condition}
        while True:
            try:
                page = self._table.query(**kwargs)
            except (ClientError, BotoCoreError) as exc:
                raise _unavailable(exc) from None
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _deserialize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The item a failed condition returns comes in DynamoDB's typed form even
    through the resource API."""
    from boto3.dynamodb.types import TypeDeserializer

    sample = next(iter(raw.values()), None)
    if isinstance(sample, dict) and len(sample) == 1 and next(iter(sample)) in _TYPE_TAGS:
        deserializer = TypeDeserializer()
        return {k: deserializer.deserialize(v) for k, v in raw.items()}
    return dict(raw)


_TYPE_TAGS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}
