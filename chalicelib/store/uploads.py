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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import Conflict, DomainError, NotFound
from chalicelib.models import OPEN_STATUSES, ChapterTarget, Upload, UploadStatus
from chalicelib.store.aws_errors import AwsError, error_code, translate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

OPEN_BY_USER = "openByUser"
OPEN_BY_COURSE = "openByCourse"
OPEN_BY_AGE = "openByAge"
OPEN_MARKER = "open"

# Where an upload was started: our REST API, Companion's routes, or the signer.
Source = Literal["api", "companion", "signer"]

_OPEN = sorted(OPEN_STATUSES)
_NAMES = {"#status": "status", "#user": "userId"}
_UPLOAD_FIELDS = frozenset(f.alias or n for n, f in Upload.model_fields.items())


@dataclass(frozen=True)
class UploadRecord:
    upload: Upload
    source: Source
    progress_at_ms: int | None
    last_broadcast_at_ms: int | None
    last_broadcast_bytes: int | None
    # False between the write that completes an upload and the end of its
    # announcement (event + chapter link), so a redelivered S3 event can finish
    # what a crashed handler began.
    announced: bool = True


@dataclass(frozen=True)
class ProgressWrite:
    """The outcome of one progress report: `advanced` is False for a report that
    was not ahead of what is stored (it changed nothing)."""

    record: UploadRecord
    advanced: bool


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


def record_from_item(raw: Mapping[str, Any]) -> UploadRecord:
    item = _plain(dict(raw))
    upload = Upload.model_validate({k: v for k, v in item.items() if k in _UPLOAD_FIELDS})
    return UploadRecord(
        upload=upload,
        source=item.get("source", "api"),
        progress_at_ms=_maybe_int(item.get("progressAt")),
        last_broadcast_at_ms=_maybe_int(item.get("lastBroadcastAt")),
        last_broadcast_bytes=_maybe_int(item.get("lastBroadcastBytes")),
        announced=bool(item.get("announced", True)),
    )


def item_from_upload(upload: Upload, source: Source) -> dict[str, Any]:
    item: dict[str, Any] = upload.model_dump(mode="json", by_alias=True)
    item["source"] = source
    if upload.status in OPEN_STATUSES:
        item["openBy"] = upload.user_id
        item["openSince"] = OPEN_MARKER
        if isinstance(upload.target, ChapterTarget):
            item["openInCourse"] = upload.target.course_id
    return item


def _unavailable(exc: AwsError) -> DomainError:
    return translate(exc, "using the uploads table", code="store_unavailable")


def not_found() -> NotFound:
    return NotFound("no such upload", code="upload_not_found")


def not_open(status: str) -> Conflict:
    return Conflict(f"the upload is no longer open (it is {status})", code="upload_not_open")


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
        from_statuses: Iterable[str],
        updated_at: str,
        sets: Mapping[str, Any] | None = None,
        extra_condition: tuple[str, Mapping[str, Any]] | None = None,
    ) -> UploadRecord | None:
        """Move an upload to `to` if it is in one of `from_statuses`; None if it was
        not (someone else got there first, or it does not exist). Terminal states
        leave every open-uploads index in the same write."""
        allowed = sorted(set(from_statuses))
        values: dict[str, Any] = {":to": to, ":now": updated_at}
        placeholders = []
        for i, status in enumerate(allowed):
            values[f":f{i}"] = status
            placeholders.append(f":f{i}")
        assignments = ["#status = :to", "updatedAt = :now"]
        names = {"#status": "status"}
        for i, (name, value) in enumerate((sets or {}).items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = value
            assignments.append(f"#a{i} = :a{i}")
        expression = "SET " + ", ".join(assignments)
        if to not in OPEN_STATUSES:
            expression += " REMOVE openBy, openSince, openInCourse"
        condition = f"#status IN ({', '.join(placeholders)})"
        if extra_condition is not None:
            condition += f" AND ({extra_condition[0]})"
            values.update(extra_condition[1])
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
