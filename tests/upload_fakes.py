"""In-memory stand-ins for what the upload services talk to (the protocols in
chalicelib/uploads/ports.py): the uploads table with its conditional writes,
S3's multipart calls, course access and the linker. With them the upload
services run in unit tests, no moto and no network."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.auth import Role
from chalicelib.domain.upload_policy import UploadPolicy
from chalicelib.domain.upload_states import OPEN_STATUSES, UploadStatus, sources_of
from chalicelib.domain.uploads import CompletedObject, Source, StoredObject, UploadRecord
from chalicelib.errors import Conflict
from chalicelib.events import Announcement
from chalicelib.ids import iso
from chalicelib.models import Chapter, MediaFile, Upload, UploadPart
from chalicelib.uploads.ports import Announce
from tests.fakes import InMemoryPublisher

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
POLICY = UploadPolicy(
    max_bytes=50 * 1024**3,
    allowed_types=("video/*", "application/pdf"),
    stale_after=timedelta(hours=24),
    presign_expiry_seconds=900,
)


class InMemoryUploadStore:
    """chalicelib.store.uploads.UploadStore in memory: every transition is the
    same conditional write, from the statuses the domain's table allows; what a
    write announces goes to `outbox` once the write is done."""

    def __init__(self, outbox: InMemoryPublisher | None = None) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, UploadRecord] = {}
        self.outbox = outbox or InMemoryPublisher()

    def create(
        self,
        upload: Upload,
        source: Source,
        announce: Sequence[Announcement] = (),
        *,
        correlation_id: str | None = None,
    ) -> None:
        with self._lock:
            if upload.operation_id in self.records:
                raise Conflict("the operation exists already", code="duplicate_operation")
            self.records[upload.operation_id] = UploadRecord(
                upload, source, None, None, correlation_id=correlation_id
            )
            self.outbox.commit(announce)

    def get(self, operation_id: str) -> UploadRecord | None:
        return self.records.get(operation_id)

    def put(self, record: UploadRecord) -> None:
        """Test setup: store a record as it is."""
        self.records[record.upload.operation_id] = record

    def status_of(self, operation_id: str) -> str:
        return self.records[operation_id].upload.status

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
        with self._lock:
            record = self.records.get(operation_id)
            if record is None or record.upload.status not in sources_of(to):
                return None
            upload = record.upload
            if created_before is not None and iso(upload.created_at) >= created_before:
                return None
            changes: dict[str, Any] = {
                "status": to,
                "updated_at": datetime.fromisoformat(updated_at),
            }
            for name, value in (
                ("reason", reason),
                ("media_id", media_id),
                ("bytes_uploaded", bytes_uploaded),
            ):
                if value is not None:
                    changes[name] = value
            moved = replace(record, upload=upload.model_copy(update=changes))
            if announced is not None:
                moved = replace(moved, announced=announced)
            if etag is not None:
                moved = replace(moved, etag=etag)
            self.records[operation_id] = moved
            if announce is not None:
                self.outbox.commit(announce(moved))
            return moved

    def bind_upload_id(self, operation_id: str, upload_id: str) -> bool:
        with self._lock:
            record = self.records.get(operation_id)
            if record is None or record.upload.upload_id not in {"", upload_id}:
                return False
            upload = record.upload.model_copy(update={"upload_id": upload_id})
            self.records[operation_id] = replace(record, upload=upload)
            return True

    def mark_announced(self, operation_id: str) -> None:
        with self._lock:
            self.records[operation_id] = replace(self.records[operation_id], announced=True)

    def open_by_user(self, user_id: str) -> list[UploadRecord]:
        return [
            r
            for r in self.records.values()
            if r.upload.user_id == user_id and r.upload.status in OPEN_STATUSES
        ]

    def open_before(self, created_before: str) -> list[str]:
        found = [
            r.upload
            for r in self.records.values()
            if r.upload.status in OPEN_STATUSES and iso(r.upload.created_at) < created_before
        ]
        return [u.operation_id for u in sorted(found, key=lambda u: u.created_at)]


class FakeMultipart:
    """S3's multipart calls in memory: uploads, their parts, finished objects.
    `on_complete` runs inside CompleteMultipartUpload (to refuse parts, say)."""

    def __init__(self) -> None:
        self.uploads: dict[str, dict[int, UploadPart]] = {}
        self.objects: dict[str, StoredObject] = {}
        self.aborted: list[str] = []
        self.on_complete: Callable[[str], None] | None = None
        self._next = 0

    def create(self, key: str, content_type: str) -> str:
        self._next += 1
        upload_id = f"s3-upload-{self._next}"
        self.uploads[upload_id] = {}
        return upload_id

    def put_part(self, upload_id: str, number: int, size: int) -> None:
        self.uploads[upload_id][number] = UploadPart(
            part_number=number, etag=f'"e{number}"', size=size
        )

    def list_parts(self, key: str, upload_id: str) -> list[UploadPart]:
        return sorted(self.uploads.get(upload_id, {}).values(), key=lambda p: p.part_number)

    def complete(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> CompletedObject:
        if self.on_complete is not None:
            self.on_complete(key)
        held = self.uploads.pop(upload_id, {})
        stored = self.put_object(key, sum(p.size for p in held.values()), parts=len(held))
        return CompletedObject(f"https://s3.example/{key}", key, "bucket", stored.etag)

    def put_object(self, key: str, size: int, *, parts: int | None = None) -> StoredObject:
        """An object as S3 would hold it: a multipart ETag (`"...-N"`) for N parts,
        a plain one without."""
        tag = f"{abs(hash((key, size))):032x}"[:32]
        stored = StoredObject(size, f'"{tag}-{parts}"' if parts else f'"{tag}"')
        self.objects[key] = stored
        return stored

    def abort(self, key: str, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)
        self.aborted.append(key)

    def delete_object(self, key: str) -> None:
        self.objects.pop(key, None)

    def head(self, key: str) -> StoredObject | None:
        return self.objects.get(key)

    def presign_part(self, key: str, upload_id: str, part_number: int, length: int) -> str:
        return (
            f"https://s3.example/{key}?uploadId={upload_id}&partNumber={part_number}"
            f"&length={length}"
        )


class OpenCourses:
    """Course access that lets everyone write into any chapter."""

    def require_role(self, course_id: str, user_id: str, allowed: Collection[Role]) -> Role:
        return "owner"

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter:
        return Chapter(
            course_id=course_id,
            chapter_id=chapter_id,
            title="Chapter",
            position=0,
            version=1,
            items=[],
            created_at=T0,
            updated_at=T0,
        )


class RecordingLinker:
    def __init__(self) -> None:
        self.linked: list[tuple[str, str]] = []

    def link_completed_upload(self, upload: Upload, media: MediaFile) -> None:
        self.linked.append((upload.operation_id, media.media_id))
