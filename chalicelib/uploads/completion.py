"""Completion: S3's ObjectCreated notifications (through SQS) become completed
uploads, and the sweep closes uploads left open too long.

Completion is idempotent by conditional writes and is the only path to
`completed`: duplicate, late and out-of-order deliveries change nothing.

One SQS message carries one S3 notification, which may hold several records.
Powertools' batch processor reports a message back as a batch item failure
only when handling it raised an error worth retrying, so one bad record does
not redeliver the others (the event source mapping has
`ReportBatchItemFailures`). Messages we cannot read, test events and keys we
did not issue are logged and dropped: retrying them could never succeed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import S3Event, SQSRecord

from chalicelib.clock import Clock, utc
from chalicelib.correlation import adopt, adopt_sqs
from chalicelib.domain.upload_policy import UploadPolicy, media_id_for, parse_key
from chalicelib.domain.upload_states import can_move
from chalicelib.errors import DomainError
from chalicelib.ids import iso
from chalicelib.logging import logger
from chalicelib.models import MediaFile, Upload
from chalicelib.uploads.announce import UploadAnnouncer
from chalicelib.uploads.ports import MediaRecords, MultipartObjects, UploadRecords

# How long after completing an upload a redelivered S3 event may announce it
# again; well under the queue's visibility timeout (180 s), well over a handler's run.
ANNOUNCE_GRACE = timedelta(seconds=60)


class UploadCompletion:
    def __init__(
        self,
        *,
        store: UploadRecords,
        storage: MultipartObjects,
        media: MediaRecords,
        announcer: UploadAnnouncer,
        policy: UploadPolicy,
        clock: Clock,
    ) -> None:
        self._store = store
        self._storage = storage
        self._media = media
        self._announcer = announcer
        self._policy = policy
        self._clock = clock

    def object_created(self, key: str, size: int) -> str:
        """Handle one S3 ObjectCreated notification. Returns what happened
        ("completed", "failed", "duplicate", "ignored")."""
        parsed = parse_key(key)
        if parsed is None:
            logger.warning("object created under a key we did not issue", extra={"key": key})
            return "ignored"
        user_id, operation_id = parsed
        record = self._store.get(operation_id)
        if record is None or record.upload.user_id != user_id or record.upload.key != key:
            logger.warning("object created for an unknown upload", extra={"key": key})
            return "ignored"
        # What follows (and the events it publishes) belongs to the request that
        # started the upload.
        adopt(record.correlation_id)
        upload = record.upload
        if upload.status == "completed" and not record.announced and self._settled(upload):
            # A handler completed it (and committed `upload.completed` with it)
            # but died before linking it (SQS redelivered the event): finish.
            media = self._media.get(upload.media_id or media_id_for(operation_id))
            if media is not None:
                self._announcer.finish_completed(upload, media)
                return "completed"
        if not can_move(upload.status, "completed"):
            logger.info(
                "object event for a closed upload", extra={"key": key, "status": upload.status}
            )
            return "duplicate"
        if size != upload.size:
            failed = self._fail(upload, "size_mismatch")
            logger.warning(
                "uploaded object size differs from the declared size",
                extra={"key": key, "declared": upload.size, "actual": size},
            )
            # The upload failed, so no media record will ever point at this
            # object: keeping it would only cost storage nobody can see.
            self._storage.delete_object(key)
            return "failed" if failed else "duplicate"
        now = utc(self._clock)
        media = MediaFile(
            media_id=media_id_for(operation_id),
            user_id=user_id,
            filename=upload.filename,
            content_type=upload.content_type,
            size=size,
            key=key,
            operation_id=operation_id,
            created_at=now,
            links=[],
            # Nothing reads the file's headers yet: ready, and saying so,
            # rather than processing forever.
            status="ready",
            reason="not_processed",
        )
        if not self._media.put_if_absent(media):
            media = self._media.get(media.media_id) or media
        moved = self._store.transition(
            operation_id,
            "completed",
            updated_at=iso(now),
            media_id=media.media_id,
            bytes_uploaded=size,
            announced=False,
            announce=self._announcer.complete(media),
        )
        if moved is None:
            return "duplicate"
        self._announcer.completed(moved, media)
        return "completed"

    def expire_stale(self) -> int:
        """Abort uploads open longer than the configured age and mark them failed
        (`expired`). Returns how many were expired."""
        cutoff = iso(utc(self._clock) - self._policy.stale_after)
        expired = 0
        for operation_id in self._store.open_before(cutoff):
            record = self._store.get(operation_id)
            if record is None or not can_move(record.upload.status, "failed"):
                continue
            upload = record.upload
            size = self._storage.object_size(upload.key)
            if size is not None:
                # S3 assembled it but the event was lost: finish it instead.
                self.object_created(upload.key, size)
                continue
            self._storage.abort(upload.key, upload.upload_id)
            if self._fail(upload, "expired", created_before=cutoff):
                expired += 1
        return expired

    def _settled(self, upload: Upload) -> bool:
        """Long enough since completion that no first handler is still announcing."""
        return utc(self._clock) - upload.updated_at >= ANNOUNCE_GRACE

    def _fail(self, upload: Upload, reason: str, *, created_before: str | None = None) -> bool:
        moved = self._store.transition(
            upload.operation_id,
            "failed",
            updated_at=iso(utc(self._clock)),
            reason=reason,
            created_before=created_before,
            announce=self._announcer.fail(reason),
        )
        if moved is None:
            return False
        self._announcer.failed(moved, reason)
        return True


# ---- the SQS side ------------------------------------------------------------


class ObjectCreatedHandler(Protocol):
    def object_created(self, key: str, size: int) -> str: ...


def s3_records(body: str) -> list[tuple[str, int]]:
    """(key, size) of every ObjectCreated record in one SQS message body.
    S3 URL-encodes keys in notifications (a space arrives as `+`)."""
    try:
        document = json.loads(body)
    except ValueError:
        logger.warning("dropping an SQS message that is not JSON")
        return []
    if not isinstance(document, dict):
        return []
    found: list[tuple[str, int]] = []
    if isinstance(document.get("Records"), list):
        for record in S3Event(document).records:
            try:
                if not record.event_name.startswith("ObjectCreated:"):
                    continue
                obj = record.s3.get_object
                key, size = obj.key, obj["size"]
            except (KeyError, TypeError, AttributeError):
                continue  # not a record S3 would send
            # The size is compared with the declared one: only a real integer.
            if isinstance(key, str) and type(size) is int:
                found.append((unquote_plus(key), size))
    if not found and document.get("Event") != "s3:TestEvent":
        logger.warning("dropping an SQS message without ObjectCreated records")
    return found


class S3EventsHandler:
    """The `s3_events` Lambda's work: one SQS batch of S3 notifications."""

    def __init__(self, uploads: ObjectCreatedHandler) -> None:
        self._uploads = uploads
        # The whole batch failing is reported item by item, like a partial
        # failure, rather than raised: SQS redelivers exactly those messages.
        self._processor = BatchProcessor(
            event_type=EventType.SQS, raise_on_entire_batch_failure=False
        )

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Handle Lambda's SQS event; return its partial-batch response."""
        response = process_partial_response(
            event=dict(event), record_handler=self._message, processor=self._processor
        )
        failures = response["batchItemFailures"]
        return {
            "batchItemFailures": [{"itemIdentifier": str(f["itemIdentifier"])} for f in failures]
        }

    def _message(self, record: SQSRecord) -> None:
        # Powertools passes the message as `record`.
        adopt_sqs(record.raw_event)
        for key, size in s3_records(record.body):
            try:
                outcome = self._uploads.object_created(key, size)
            except DomainError as err:
                if not err.retryable and err.status < 500:
                    logger.warning("dropping an S3 event", extra={"code": err.code})
                    continue
                logger.exception("S3 event failed; SQS will redeliver it")
                raise
            except Exception:
                logger.exception("S3 event failed; SQS will redeliver it")
                raise
            logger.info("object created", extra={"key": key, "outcome": outcome})
