"""What the upload services need from their collaborators, as protocols: the
adapters in chalicelib/store/ implement them for AWS, tests/upload_fakes.py in
memory."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Protocol

from chalicelib.auth import Role
from chalicelib.domain.upload_states import UploadStatus
from chalicelib.domain.uploads import CompletedObject, Source, StoredObject, UploadRecord
from chalicelib.models import Chapter, MediaFile, Upload, UploadPart

if TYPE_CHECKING:
    from chalicelib.events import Announcement

# The events a transition announces, given the record it is about to commit.
Announce = Callable[[UploadRecord], Sequence["Announcement"]]


class UploadRecords(Protocol):
    """The uploads table (chalicelib/store/uploads.py)."""

    def create(
        self,
        upload: Upload,
        source: Source,
        announce: Sequence[Announcement] = (),
        *,
        correlation_id: str | None = None,
    ) -> None: ...

    def get(self, operation_id: str) -> UploadRecord | None: ...

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
        """With `announce`: the transition and the events it returns commit in
        one transaction (the outbox)."""
        ...

    def bind_upload_id(self, operation_id: str, upload_id: str) -> bool: ...

    def mark_announced(self, operation_id: str) -> None: ...

    def open_by_user(self, user_id: str) -> list[UploadRecord]: ...

    def open_before(self, created_before: str) -> list[str]: ...


class MultipartObjects(Protocol):
    """S3's multipart calls (chalicelib/store/multipart.py)."""

    def create(self, key: str, content_type: str) -> str: ...

    def list_parts(self, key: str, upload_id: str) -> list[UploadPart]: ...

    def complete(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> CompletedObject: ...

    def abort(self, key: str, upload_id: str) -> None: ...

    def delete_object(self, key: str) -> None: ...

    def head(self, key: str) -> StoredObject | None: ...

    def presign_part(self, key: str, upload_id: str, part_number: int, length: int) -> str: ...


class CourseAccess(Protocol):
    def require_role(self, course_id: str, user_id: str, allowed: Collection[Role]) -> Role: ...

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter: ...


class MediaRecords(Protocol):
    def put_if_absent(self, media: MediaFile) -> bool: ...

    def get(self, media_id: str) -> MediaFile | None: ...


class Linker(Protocol):
    def link_completed_upload(self, upload: Upload, media: MediaFile) -> object: ...


class ProcessingRequests(Protocol):
    """The processing queue (chalicelib/store/processing_queue.py)."""

    def enqueue(self, media_id: str) -> None: ...


class Metrics(Protocol):
    def count(self, name: str, value: float = 1, unit: str = "Count") -> None: ...


class NoMetrics:
    def count(self, name: str, value: float = 1, unit: str = "Count") -> None:
        return None
