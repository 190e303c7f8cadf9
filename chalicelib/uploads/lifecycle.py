"""The REST lifecycle of an upload: start it, read it, sign its part URLs,
complete it, abort it; only ever for its uploader.

Every check (type, size, filename, permission) runs before S3 is touched; the
server chooses the part size. Anyone but the uploader gets the same 404 as for
an upload that does not exist. `completed` comes only from S3
(chalicelib/uploads/completion.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from chalicelib import correlation
from chalicelib.auth import WRITERS
from chalicelib.clock import Clock, utc
from chalicelib.domain.upload_policy import (
    UploadPolicy,
    check_completed_parts,
    check_new_file,
    check_part_numbers,
    choose_part_size,
    object_key,
    part_length,
)
from chalicelib.domain.upload_states import OPEN_STATUSES, UploadStatus, not_open, require_move
from chalicelib.domain.uploads import (
    CompletedObject,
    NewFile,
    Source,
    UploadRecord,
    browser_makes_s3_requests,
    not_found,
)
from chalicelib.errors import Conflict, DomainError, InvalidInput
from chalicelib.ids import is_operation_id, iso, new_id
from chalicelib.models import ChapterTarget, Upload, UploadPart
from chalicelib.uploads.announce import UploadAnnouncer
from chalicelib.uploads.ports import Announce, CourseAccess, MultipartObjects, UploadRecords


class UploadLifecycle:
    def __init__(
        self,
        *,
        store: UploadRecords,
        storage: MultipartObjects,
        courses: CourseAccess,
        announcer: UploadAnnouncer,
        policy: UploadPolicy,
        clock: Clock,
    ) -> None:
        self._store = store
        self._storage = storage
        self._courses = courses
        self._announcer = announcer
        self._policy = policy
        self._clock = clock

    # ---- start -----------------------------------------------------------------
    def initiate(
        self,
        user_id: str,
        file: NewFile,
        *,
        source: Source = "api",
        single_put: bool = False,
    ) -> Upload:
        """Create the upload. Where the browser makes the S3 requests
        (`browser_makes_s3_requests`), it creates the S3 upload itself and its
        id is learned later (chalicelib/uploads/browser.py)."""
        check_new_file(self._policy, file, single_put=single_put)
        if isinstance(file.target, ChapterTarget):
            self._courses.require_role(file.target.course_id, user_id, WRITERS)
            self._courses.get_chapter(file.target.course_id, file.target.chapter_id)
        operation_id = new_id("op")
        key = object_key(user_id, operation_id, file.name)
        upload_id = ""
        if not browser_makes_s3_requests(source):
            upload_id = self._storage.create(key, file.content_type)
        part_size = file.size if single_put else choose_part_size(file.size)
        now = utc(self._clock)
        upload = Upload(
            operation_id=operation_id,
            upload_id=upload_id,
            user_id=user_id,
            key=key,
            filename=file.name,
            content_type=file.content_type,
            size=file.size,
            part_size=part_size,
            part_count=max(1, math.ceil(file.size / part_size)),
            status="uploading",
            target=file.target,
            bytes_uploaded=0,
            media_id=None,
            reason=None,
            created_at=now,
            updated_at=now,
            expires_at=now + self._policy.stale_after,
        )
        try:
            # Its S3 event will log under this request's id (chalicelib/correlation.py).
            self._store.create(
                upload,
                source,
                self._announcer.start(upload),
                correlation_id=correlation.current(),
            )
        except DomainError:
            self._storage.abort(key, upload_id)
            raise
        self._announcer.started(upload)
        return upload

    # ---- reads -----------------------------------------------------------------
    def owned(self, user_id: str, operation_id: str) -> UploadRecord:
        record = self._store.get(operation_id) if is_operation_id(operation_id) else None
        if record is None or record.upload.user_id != user_id:
            raise not_found()
        return record

    def parts(self, upload: Upload) -> list[UploadPart]:
        """The parts S3 holds: what a client needs to resume."""
        if upload.status not in OPEN_STATUSES or not upload.upload_id:
            return []
        return self._storage.list_parts(upload.key, upload.upload_id)

    def with_parts(self, upload: Upload) -> tuple[Upload, list[UploadPart]]:
        """The upload beside the parts S3 holds, its bytes as S3 counts them: the
        stored bytes are those of the last progress broadcast (a report that is
        not broadcast writes nothing, chalicelib/progress.py), but every part a
        client sent since is in S3, and S3 is what a resuming client trusts."""
        parts = self.parts(upload)
        held = min(upload.size, sum(part.size for part in parts))
        if held > upload.bytes_uploaded:
            upload = upload.model_copy(update={"bytes_uploaded": held})
        return upload, parts

    def active(self, user_id: str) -> list[Upload]:
        return [r.upload for r in self._store.open_by_user(user_id)]

    # ---- sign ------------------------------------------------------------------
    def presign(
        self, record: UploadRecord, part_numbers: Sequence[int]
    ) -> tuple[dict[str, str], datetime]:
        """Part URLs, by part number, and when they expire. Only the upload's own
        parts (1..partCount) are signed, each for its exact length, so S3 can
        hold no more for the upload than its declared size."""
        upload = record.upload
        check_part_numbers(part_numbers, upload.part_count)
        if upload.status != "uploading":
            raise not_open(upload.status)
        upload_id = self._created(upload)
        urls = {
            str(n): self._storage.presign_part(
                upload.key, upload_id, n, part_length(upload.size, upload.part_size, n)
            )
            for n in sorted(set(part_numbers))
        }
        expires_at = utc(self._clock) + timedelta(seconds=self._policy.presign_expiry_seconds)
        return urls, expires_at

    # ---- complete / abort ------------------------------------------------------
    def complete(
        self,
        record: UploadRecord,
        parts: Sequence[tuple[int, str]] | None,
    ) -> tuple[Upload, CompletedObject]:
        """Ask S3 to assemble the parts (without `parts`, those S3 holds);
        `completed` follows from the S3 event."""
        upload = record.upload
        if parts is not None:
            check_completed_parts(parts, upload.part_count)
        require_move(upload.status, "completing")
        upload_id = self._created(upload)
        if parts is None:
            held = self._storage.list_parts(upload.key, upload_id)
            if not held:
                raise InvalidInput("S3 holds no parts of this upload", code="invalid_parts")
            parts = [(p.part_number, p.etag) for p in held]
        moved = self._move(upload, "completing")
        try:
            completed = self._storage.complete(upload.key, upload_id, parts)
        except InvalidInput:
            # S3 refused these parts: reopen, so the client can send the
            # missing parts (or abort) and complete again.
            self._store.transition(upload.operation_id, "uploading", updated_at=self._now())
            raise
        # The S3 event is checked against this ETag before anything is recorded,
        # so only the object this completion assembled completes the upload. If
        # the event won the race, the upload is completed already: nothing to do.
        self._store.transition(
            upload.operation_id, "completing", updated_at=self._now(), etag=completed.etag or None
        )
        return moved.upload, completed

    def abort(self, record: UploadRecord) -> Upload:
        """Abort the upload, and its S3 upload unless the browser makes the S3
        requests (it aborts it itself, with a signed URL)."""
        upload = record.upload
        require_move(upload.status, "aborted")
        if upload.status == "completing" and self._storage.head(upload.key) is not None:
            # S3 assembled it already; its event will complete the upload.
            raise Conflict("the upload has completed in S3", code="upload_not_open")
        moved = self._move(upload, "aborted", reason="aborted", announce=self._announcer.abort())
        if not browser_makes_s3_requests(record.source):
            # After the state change, so a concurrent completion cannot win
            # the race and leave a completed object behind an aborted upload.
            self._storage.abort(upload.key, upload.upload_id)
        self._announcer.aborted(moved)
        return moved.upload

    # ---- internals -------------------------------------------------------------
    def _move(
        self,
        upload: Upload,
        to: UploadStatus,
        *,
        reason: str | None = None,
        announce: Announce | None = None,
    ) -> UploadRecord:
        moved = self._store.transition(
            upload.operation_id, to, updated_at=self._now(), reason=reason, announce=announce
        )
        if moved is None:
            raise not_open(self._status_of(upload.operation_id))
        return moved

    def _created(self, upload: Upload) -> str:
        if not upload.upload_id:
            raise Conflict("the upload has not been created in S3 yet", code="upload_not_created")
        return upload.upload_id

    def _status_of(self, operation_id: str) -> str:
        record = self._store.get(operation_id)
        if record is None:
            raise not_found()
        return record.upload.status

    def _now(self) -> str:
        return iso(utc(self._clock))
