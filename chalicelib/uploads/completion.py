"""Completion: S3's ObjectCreated notifications (through SQS) become completed
uploads, and the sweep closes uploads left open too long.

An S3 event is a claim, checked against S3 before anything is recorded: the
object must exist (one HeadObject) with the size the event names, the size the
upload declared and the ETag the upload's completion made. A claim that does
not hold (an event sent before the client completed, a forged or stale one)
changes nothing and is reported as `Dropped`, which the SQS side logs once and
counts (chalicelib/uploads/s3_events.py).

Completion is idempotent by conditional writes and is the only path to
`completed`: duplicate, late and out-of-order deliveries change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from chalicelib.clock import Clock, utc
from chalicelib.correlation import adopt
from chalicelib.domain.upload_policy import UploadPolicy, media_id_for, parse_key
from chalicelib.domain.upload_states import can_move
from chalicelib.domain.uploads import UploadRecord, etag_fits
from chalicelib.ids import iso
from chalicelib.logging import logger
from chalicelib.models import MediaFile, Upload
from chalicelib.uploads.ports import MediaRecords, MultipartObjects, UploadRecords

if TYPE_CHECKING:
    from chalicelib.uploads.announce import UploadAnnouncer

# How long after completing an upload a redelivered S3 event may announce it
# again; well under the queue's visibility timeout (180 s), well over a handler's run.
ANNOUNCE_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class Dropped:
    """An S3 event that changes nothing and never will, so retrying it is
    pointless: `reason` is the metric's dimension, `message` the log line."""

    reason: str
    message: str
    details: Mapping[str, object] = field(default_factory=dict)


Outcome = Literal["completed", "failed", "duplicate"] | Dropped


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

    def object_created(self, key: str, size: int) -> Outcome:
        """Handle one S3 ObjectCreated notification for `key` of `size` bytes."""
        parsed = parse_key(key)
        if parsed is None:
            return Dropped("foreign_key", "object created under a key we did not issue")
        user_id, operation_id = parsed
        record = self._store.get(operation_id)
        if record is None or record.upload.user_id != user_id or record.upload.key != key:
            return Dropped("unknown_upload", "object created for an unknown upload")
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
        return self._verified(record, size)

    def _verified(self, record: UploadRecord, size: int) -> Outcome:
        """Complete (or fail) an open upload, if S3 holds what the event claims."""
        upload = record.upload
        key = upload.key
        stored = self._storage.head(key)
        if stored is None:
            return Dropped("object_absent", "S3 holds no object for this event", {"size": size})
        facts = {"event_size": size, "size": stored.size, "declared": upload.size}
        if stored.size != size:
            return Dropped("size_not_in_s3", "the event's size is not the object's size", facts)
        fits = etag_fits(upload, record.etag, stored.etag)
        if record.etag is not None and not fits:
            return Dropped(
                "etag_mismatch",
                "the object is not the one the upload's completion assembled",
                {"etag": stored.etag, "expected": record.etag},
            )
        if stored.size != upload.size:
            failed = self._fail(upload, "size_mismatch")
            logger.warning("uploaded object size differs from the declared size", extra=facts)
            # The upload failed, so no media record will ever point at this
            # object: keeping it would only cost storage nobody can see.
            self._storage.delete_object(key)
            return "failed" if failed else "duplicate"
        if not fits:
            return Dropped(
                "etag_mismatch",
                "the object's ETag is not the one this upload's completion makes",
                {"etag": stored.etag, "parts": upload.part_count},
            )
        return self._complete(upload, stored.size)

    def _complete(self, upload: Upload, size: int) -> Outcome:
        now = utc(self._clock)
        operation_id = upload.operation_id
        media = MediaFile(
            media_id=media_id_for(operation_id),
            user_id=upload.user_id,
            filename=upload.filename,
            content_type=upload.content_type,
            size=size,
            key=upload.key,
            operation_id=operation_id,
            created_at=now,
            links=[],
            **self._announcer.first_status(),
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
            stored = self._storage.head(upload.key)
            if stored is not None:
                # S3 assembled it but the event was lost: finish it instead.
                outcome = self.object_created(upload.key, stored.size)
                if not isinstance(outcome, Dropped):
                    continue
                # An object this upload's completion did not make: nothing will
                # ever point at it.
                logger.warning(outcome.message, extra={"key": upload.key, **outcome.details})
                self._storage.delete_object(upload.key)
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
