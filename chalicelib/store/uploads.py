"""The uploads table, through the one DynamoDB mechanism
(chalicelib/store/dynamo.py): one item per upload operation, keyed by `operationId`.

Open uploads carry three sparse index attributes, removed in the same write that
makes an upload terminal, so every "open uploads of ..." read is a query of a
small index, never a scan:
- `openBy` (userId) for `GET /uploads?status=active` and the user channel's replay,
- `openInCourse` (courseId, chapter targets only) for the course channel's replay,
- `openSince` (`open#0` to `open#9` by a hash of the operation id, so no one
  index partition takes every upload's writes) with `createdAt` for the
  stale-upload sweep, which reads every shard.

Progress bookkeeping (`lastBroadcastAt`, `lastBroadcastBytes`, `broadcastInFlight`)
lives on the same item, so that a report that is broadcast costs one conditional
write and one that is not costs none (chalicelib/progress.py).

The item's attribute names are this table's own (chalicelib/store/upload_items.py),
not the wire model's aliases: a JSON field can be renamed without migrating items.
Which status may move to which is the domain's table
(chalicelib/domain/upload_states.py); every transition's condition comes from it.

A change that announces events (the start, and every terminal state) commits
them in the same transaction through the outbox (chalicelib/store/outbox.py).
Such a transition reads the item first: a transaction returns no attributes,
and the events carry the upload's new state. It commits on condition that the
status and the last progress claim are still what it read, so its events
describe exactly what was written and no progress broadcast was claimed after
the one the announcer waited for; losing that race means reading again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.upload_states import OPEN_STATUSES, UploadStatus, sources_of
from chalicelib.domain.uploads import BROADCAST_FANOUT_LIMIT_MS, Source, UploadRecord
from chalicelib.errors import Conflict, Throttled
from chalicelib.models import Upload
from chalicelib.store.dynamo import Cancelled, ConditionFailed, Item, Table
from chalicelib.store.outbox import Outbox
from chalicelib.store.upload_items import (
    ATTRIBUTES,
    item_from_upload,
    open_before,
    record_from_item,
)

if TYPE_CHECKING:
    from chalicelib.events import Announcement

OPEN_BY_USER = "openByUser"
OPEN_BY_COURSE = "openByCourse"
OPEN_BY_AGE = "openByAge"

_OPEN = sorted(OPEN_STATUSES)
# How often an announcing transition reads again after a racing write.
_ANNOUNCE_ATTEMPTS = 5
_OPEN_INDEX_ATTRIBUTES = ("openBy", "openSince", "openInCourse")

Announce = Callable[[UploadRecord], Sequence["Announcement"]]
_OPEN_VALUES = {":s0": _OPEN[0], ":s1": _OPEN[1]}


def _key(operation_id: str) -> Item:
    return {"operationId": operation_id}


class UploadStore:
    def __init__(self, table: Table, outbox: Outbox) -> None:
        self._table = table
        self._outbox = outbox

    # ---- writes ---------------------------------------------------------------
    def create(
        self,
        upload: Upload,
        source: Source,
        announce: Sequence[Announcement] = (),
        *,
        correlation_id: str | None = None,
    ) -> None:
        item = self._table.tx_put(
            item_from_upload(upload, source, correlation_id),
            condition="attribute_not_exists(operationId)",
        )
        try:
            self._outbox.commit([item], announce)
        except Cancelled:
            raise Conflict("the operation exists already", code="duplicate_operation") from None

    def record_broadcast(
        self,
        operation_id: str,
        user_id: str,
        bytes_uploaded: int,
        now_ms: int,
        after_ms: int | None,
    ) -> bool:
        """Store a report that is to be broadcast, and claim its broadcast, in one
        conditional write: only while the upload is open, only for its uploader,
        bytes only forward, and only if no broadcast was claimed since the one the
        caller read (`after_ms`, None for none), so concurrent reports cannot
        broadcast out of order or past the pace. The claim stays in flight until
        `broadcast_sent`. False if the condition failed."""
        if after_ms is None:
            since = "attribute_not_exists(lastBroadcastAt)"
            values: dict[str, Any] = {}
        else:
            since, values = "lastBroadcastAt = :after", {":after": after_ms}
        return (
            self._conditional_update(
                operation_id,
                "SET bytesUploaded = :b, lastBroadcastAt = :now, lastBroadcastBytes = :b,"
                " broadcastInFlight = :now",
                condition=(
                    "#user = :u AND #status IN (:s0, :s1) AND bytesUploaded < :b"
                    f" AND #size >= :b AND {since}"
                ),
                names={"#status": "status", "#user": "userId", "#size": "size"},
                values={
                    ":b": bytes_uploaded,
                    ":now": now_ms,
                    ":u": user_id,
                    **_OPEN_VALUES,
                    **values,
                },
            )
            is not None
        )

    def broadcast_sent(self, operation_id: str, claimed_ms: int) -> None:
        """That claim's fan-out returned: a terminal event no longer waits for it."""
        self._conditional_update(
            operation_id,
            "REMOVE broadcastInFlight",
            condition="broadcastInFlight = :claim",
            values={":claim": claimed_ms},
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
        etag: str | None = None,
        created_before: str | None = None,
        announce: Announce | None = None,
    ) -> UploadRecord | None:
        """Move an upload to `to` if the transition table allows it from the
        stored status (and, with `created_before`, only if it was created before
        then); None if not (someone else got there first, or it does not exist).
        Terminal states leave every open-uploads index in the same write. With
        `announce`, the events it returns for the new record commit with it."""
        changes = {
            ATTRIBUTES["reason"]: reason,
            ATTRIBUTES["media_id"]: media_id,
            ATTRIBUTES["bytes_uploaded"]: bytes_uploaded,
            "announced": announced,
            "etag": etag,
        }
        set_now = {name: value for name, value in changes.items() if value is not None}
        if announce is not None:
            return self._announced_transition(
                operation_id, to, updated_at, set_now, created_before, announce
            )
        expression, names, values = _transition_update(to, updated_at, set_now)
        placeholders = []
        for i, status in enumerate(sorted(sources_of(to))):
            values[f":f{i}"] = status
            placeholders.append(f":f{i}")
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

    def _announced_transition(
        self,
        operation_id: str,
        to: UploadStatus,
        updated_at: str,
        changes: Mapping[str, Any],
        created_before: str | None,
        announce: Announce,
    ) -> UploadRecord | None:
        for _ in range(_ANNOUNCE_ATTEMPTS):
            current = self._table.get(_key(operation_id))
            if current is None or current.get("status") not in sources_of(to):
                return None
            if created_before is not None and str(current["createdAt"]) >= created_before:
                return None
            after = {**current, **changes, "status": to, "updatedAt": updated_at}
            if to not in OPEN_STATUSES:
                for name in _OPEN_INDEX_ATTRIBUTES:
                    after.pop(name, None)
            moved = record_from_item(after)
            announcements = announce(moved)
            expression, names, values = _transition_update(to, updated_at, changes)
            values[":was"] = current["status"]
            condition = "#status = :was"
            claim = current.get("lastBroadcastAt")
            if claim is None:
                condition += " AND attribute_not_exists(lastBroadcastAt)"
            else:
                condition += " AND lastBroadcastAt = :claim"
                values[":claim"] = claim
            # None in flight (announce waited for it); one whose Lambda died is given up.
            condition += " AND (attribute_not_exists(broadcastInFlight)"
            condition += " OR broadcastInFlight < :gone)"
            values[":gone"] = _epoch_ms(updated_at) - BROADCAST_FANOUT_LIMIT_MS
            update = self._table.tx_update(
                _key(operation_id), expression, condition=condition, names=names, values=values
            )
            try:
                self._outbox.commit([update], announcements)
            except Cancelled:
                continue  # another write (a transition, a progress claim) got in first
            return moved
        raise Throttled("the upload is changing too fast; retry shortly")

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
        return open_before(self._table, OPEN_BY_AGE, created_before)

    def _open(
        self, index: str, condition: str, values: Mapping[str, Any]
    ) -> Iterator[UploadRecord]:
        for item in _through_index(self._table, index, condition, values):
            record = record_from_item(item)
            # The index is eventually consistent: skip items that closed meanwhile.
            if record.upload.status in OPEN_STATUSES:
                yield record


def _through_index(
    table: Table, index: str, condition: str, values: Mapping[str, Any]
) -> Iterator[Item]:
    """The items an index lists, read from the table in the index's order. The
    open-uploads indexes carry keys only, so that a progress write, which
    changes no key, writes to none of them (infra/template.json)."""
    keys = [_key(str(i["operationId"])) for i in table.query(condition, values, index=index)]
    found = {str(item["operationId"]): item for item in table.get_many(keys)}
    return (found[k["operationId"]] for k in keys if k["operationId"] in found)


def _transition_update(
    to: UploadStatus, updated_at: str, changes: Mapping[str, Any]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The update expression of a transition, its names and values."""
    values: dict[str, Any] = {":to": to, ":now": updated_at}
    names = {"#status": "status"}
    assignments = ["#status = :to", "updatedAt = :now"]
    for i, (name, value) in enumerate(changes.items()):
        names[f"#a{i}"] = name
        values[f":a{i}"] = value
        assignments.append(f"#a{i} = :a{i}")
    expression = "SET " + ", ".join(assignments)
    if to not in OPEN_STATUSES:
        expression += " REMOVE " + ", ".join((*_OPEN_INDEX_ATTRIBUTES, "broadcastInFlight"))
    return expression, names, values


def _epoch_ms(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp).timestamp() * 1000)
