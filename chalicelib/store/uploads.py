"""The uploads table, through the one DynamoDB mechanism
(chalicelib/store/dynamo.py): one item per upload operation, keyed by `operationId`.

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
from typing import Any

from chalicelib.domain.upload_states import OPEN_STATUSES, UploadStatus, not_open, sources_of
from chalicelib.domain.uploads import ProgressWrite, Source, UploadRecord, not_found
from chalicelib.errors import Conflict
from chalicelib.models import Upload
from chalicelib.store.dynamo import ConditionFailed, Item, Table
from chalicelib.store.upload_items import (
    ATTRIBUTES,
    OPEN_MARKER,
    item_from_upload,
    record_from_item,
)

OPEN_BY_USER = "openByUser"
OPEN_BY_COURSE = "openByCourse"
OPEN_BY_AGE = "openByAge"

_OPEN = sorted(OPEN_STATUSES)
_OPEN_VALUES = {":s0": _OPEN[0], ":s1": _OPEN[1]}


def _key(operation_id: str) -> Item:
    return {"operationId": operation_id}


class UploadStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # ---- writes ---------------------------------------------------------------
    def create(self, upload: Upload, source: Source, *, correlation_id: str | None = None) -> None:
        try:
            self._table.put(
                item_from_upload(upload, source, correlation_id),
                condition="attribute_not_exists(operationId)",
            )
        except ConditionFailed:
            raise Conflict("the operation exists already", code="duplicate_operation") from None

    def record_progress(
        self, operation_id: str, user_id: str, bytes_uploaded: int, now_ms: int
    ) -> ProgressWrite:
        """One conditional write: bytes only move forward, only while the upload is
        open, only for its uploader. A failed condition returns the stored item
        (no extra read) to tell a stale report from a closed or foreign upload."""
        try:
            attributes = self._table.update(
                _key(operation_id),
                "SET bytesUploaded = :b, progressAt = :now",
                condition=(
                    "#user = :u AND #status IN (:s0, :s1) AND bytesUploaded < :b AND #size >= :b"
                ),
                names={"#status": "status", "#user": "userId", "#size": "size"},
                values={":b": bytes_uploaded, ":now": now_ms, ":u": user_id, **_OPEN_VALUES},
                returns="ALL_NEW",
                old_on_failure=True,
            )
        except ConditionFailed as failed:
            if failed.item is None:
                raise not_found() from None
            record = record_from_item(failed.item)
            if record.upload.user_id != user_id:
                raise not_found() from None
            if record.upload.status not in OPEN_STATUSES:
                raise not_open(record.upload.status) from None
            return ProgressWrite(record, advanced=False)
        return ProgressWrite(record_from_item(attributes), advanced=True)

    def claim_broadcast(
        self, operation_id: str, bytes_uploaded: int, now_ms: int, min_interval_ms: int
    ) -> bool:
        """Claim the upload's next broadcast slot: at most one claim per interval
        wins however many reports race for it, and broadcast bytes only grow."""
        return (
            self._conditional_update(
                operation_id,
                "SET lastBroadcastAt = :now, lastBroadcastBytes = :b",
                condition=(
                    "#status IN (:s0, :s1)"
                    " AND (attribute_not_exists(lastBroadcastAt) OR lastBroadcastAt <= :cutoff)"
                    " AND (attribute_not_exists(lastBroadcastBytes) OR lastBroadcastBytes < :b)"
                ),
                names={"#status": "status"},
                values={
                    ":now": now_ms,
                    ":b": bytes_uploaded,
                    ":cutoff": now_ms - min_interval_ms,
                    **_OPEN_VALUES,
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
            operation_id,
            expression,
            condition=condition,
            names=names,
            values=values,
            returns="ALL_NEW",
        )
        return None if attributes is None else record_from_item(attributes)

    def bind_upload_id(self, operation_id: str, upload_id: str) -> bool:
        """Record the S3 upload id of an upload the browser created through a
        presigned URL (the signer flow); idempotent, never rebinds."""
        return (
            self._conditional_update(
                operation_id,
                "SET uploadId = :id",
                condition="uploadId = :empty OR uploadId = :id",
                values={":id": upload_id, ":empty": ""},
            )
            is not None
        )

    def mark_announced(self, operation_id: str) -> None:
        self._table.update(_key(operation_id), "SET announced = :t", values={":t": True})

    def _conditional_update(
        self,
        operation_id: str,
        expression: str,
        *,
        condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
        returns: str = "NONE",
    ) -> Item | None:
        """UpdateItem whose failed condition is an answer (None), not an error;
        the new attributes when `returns` asks for them, else {}."""
        try:
            return self._table.update(
                _key(operation_id),
                expression,
                condition=condition,
                names=names or {},
                values=values,
                returns=returns,
            )
        except ConditionFailed:
            return None

    # ---- reads ------------------------------------------------------------------
    def get(self, operation_id: str) -> UploadRecord | None:
        item = self._table.get(_key(operation_id))
        return record_from_item(item) if item else None

    def open_by_user(self, user_id: str) -> list[UploadRecord]:
        return list(self._open(OPEN_BY_USER, "openBy = :v", {":v": user_id}))

    def open_in_course(self, course_id: str) -> list[UploadRecord]:
        return list(self._open(OPEN_BY_COURSE, "openInCourse = :v", {":v": course_id}))

    def open_before(self, created_before: str) -> list[str]:
        """Operation ids of open uploads created before the cutoff, oldest first."""
        items = self._table.query(
            "openSince = :open AND createdAt < :cutoff",
            {":open": OPEN_MARKER, ":cutoff": created_before},
            index=OPEN_BY_AGE,
        )
        return [str(item["operationId"]) for item in items]

    def _open(
        self, index: str, condition: str, values: Mapping[str, Any]
    ) -> Iterator[UploadRecord]:
        for item in self._table.query(condition, values, index=index):
            record = record_from_item(item)
            # The index is eventually consistent: skip items that closed meanwhile.
            if record.upload.status in OPEN_STATUSES:
                yield record
