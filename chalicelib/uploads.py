"""The upload service: presigned multipart uploads straight to S3.

Every check (type, size, filename, permission) runs before S3 is touched; the
server chooses the part size. Only the uploader may act on an upload, and anyone
else gets the same 404 as for an upload that does not exist. Completion comes
from S3 (ObjectCreated -> SQS), is idempotent by conditional writes, and is the
only path to `completed`.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from chalicelib.auth import WRITERS, Role
from chalicelib.errors import Conflict, DomainError, InvalidInput, NotFound, TooLarge
from chalicelib.events import (
    UploadAborted,
    UploadCompleted,
    UploadCompletedData,
    UploadData,
    UploadEndedData,
    UploadFailed,
    UploadProgress,
    UploadStarted,
    media_paths,
    target_course,
    upload_channels,
    upload_path,
)
from chalicelib.ids import iso, new_id
from chalicelib.logging import logger
from chalicelib.models import (
    OPEN_STATUSES,
    Chapter,
    ChapterTarget,
    MediaFile,
    Upload,
    UploadPart,
    UploadTarget,
)
from chalicelib.progress import ProgressTracker, progress_event
from chalicelib.publisher import Publisher
from chalicelib.store.multipart import (
    MAX_PART_SIZE,
    MAX_PARTS,
    MAX_SINGLE_PUT,
    MIN_PART_SIZE,
    CompletedObject,
    MultipartStorage,
)
from chalicelib.store.uploads import Source, UploadRecord, UploadStore, not_found, not_open

MIB = 1024**2
# Parts smaller than this make a browser spend its time on request overhead.
PREFERRED_PART_SIZE = 8 * MIB
MAX_PARTS_PER_BATCH = 100
MAX_FILENAME = 255
# How long after completing an upload a redelivered S3 event may announce it
# again; well under the queue's visibility timeout (180 s), well over a handler's run.
ANNOUNCE_GRACE = timedelta(seconds=60)
# A progress broadcast claimed just before an upload closed may still be going
# out; a terminal event waits until this long after that claim (never longer),
# so no progress reaches a client after the upload's end. A progress fan-out
# takes tens of milliseconds (docs/PERFORMANCE.md); a cancel waits at most this.
PROGRESS_DRAIN = timedelta(milliseconds=500)
KEY_PREFIX = "uploads/"
# What new_id("op") issues; anything else is refused before it reaches DynamoDB.
_OPERATION_ID = r"op_[0-9a-f]{1,64}"
# `\Z`, not `$`: Python's `$` also matches before a trailing newline.
_OPERATION = re.compile(rf"^{_OPERATION_ID}\Z")
_KEY = re.compile(rf"^uploads/([^/]+)/({_OPERATION_ID})/([^/]+)\Z")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# ---- collaborators (built in chalicelib/services.py) ------------------------


class CourseAccess(Protocol):
    def require_role(self, course_id: str, user_id: str, allowed: Collection[Role]) -> Role: ...

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter: ...


class MediaRecords(Protocol):
    def put_if_absent(self, media: MediaFile) -> bool: ...

    def get(self, media_id: str) -> MediaFile | None: ...


class Linker(Protocol):
    def link_completed_upload(self, upload: Upload, media: MediaFile) -> object: ...


class Metrics(Protocol):
    def count(self, name: str, value: float = 1, unit: str = "Count") -> None: ...


class NoMetrics:
    def count(self, name: str, value: float = 1, unit: str = "Count") -> None:
        return None


@dataclass(frozen=True)
class NewFile:
    """A file a browser is about to upload, as Uppy describes it."""

    name: str
    content_type: str
    size: int
    target: UploadTarget


@dataclass(frozen=True)
class UploadPolicy:
    max_bytes: int
    allowed_types: tuple[str, ...]
    stale_after: timedelta
    presign_expiry_seconds: int


# ---- pure helpers ------------------------------------------------------------


def safe_filename(filename: str) -> str:
    """The filename as it appears in the object key: ASCII letters, digits, dot,
    dash and underscore, so the key needs no URL-encoding in S3 events."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-")
    return (cleaned or "file")[-120:]


def object_key(user_id: str, operation_id: str, filename: str) -> str:
    return f"{KEY_PREFIX}{user_id}/{operation_id}/{safe_filename(filename)}"


def parse_key(key: str) -> tuple[str, str] | None:
    """(userId, operationId) of a key we issued; None for any other key."""
    match = _KEY.fullmatch(key)
    return (match.group(1), match.group(2)) if match else None


def media_id_for(operation_id: str) -> str:
    """One media id per operation, so every duplicate completion names the same file."""
    return "med_" + operation_id.removeprefix("op_")


def choose_part_size(size: int) -> int:
    """The smallest whole-MiB part size at or above our preference that keeps the
    upload within S3's 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS)
    part = max(PREFERRED_PART_SIZE, MIN_PART_SIZE, math.ceil(needed / MIB) * MIB)
    return min(part, MAX_PART_SIZE)


def type_allowed(content_type: str, allowed: Sequence[str]) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    for pattern in allowed:
        if pattern.endswith("/*") and base.startswith(pattern[:-1]):
            return True
        if base == pattern:
            return True
    return False


# ---- the service ---------------------------------------------------------------

CreatedBy = Literal["server", "browser"]


class UploadService:
    def __init__(
        self,
        *,
        store: UploadStore,
        storage: MultipartStorage,
        publisher: Publisher,
        courses: CourseAccess,
        media: MediaRecords,
        linker: Callable[[], Linker | None],
        progress: ProgressTracker,
        policy: UploadPolicy,
        clock: Callable[[], datetime],
        metrics: Metrics | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._storage = storage
        self._publisher = publisher
        self._courses = courses
        self._media = media
        self._linker = linker
        self._progress = progress
        self._policy = policy
        self._clock = clock
        self._metrics = metrics or NoMetrics()
        self._sleep = sleep

    # ---- initiate ------------------------------------------------------------
    def validate_new(
        self,
        user_id: str,
        filename: str,
        content_type: str,
        size: int,
        target: UploadTarget,
        *,
        single_put: bool = False,
    ) -> None:
        """Every check a new upload must pass; none of them touches S3."""
        if (
            not filename.strip()
            or len(filename) > MAX_FILENAME
            or any(unicodedata.category(ch).startswith("C") for ch in filename)
        ):
            raise InvalidInput(
                "filename must be 1 to 255 printable characters", code="invalid_filename"
            )
        if size < 1:
            raise InvalidInput("size must be at least 1 byte", code="invalid_size")
        limit = min(
            self._policy.max_bytes, MAX_SINGLE_PUT if single_put else MAX_PARTS * MAX_PART_SIZE
        )
        if size > limit:
            raise TooLarge(f"size must be at most {limit} bytes", code="upload_too_large")
        if not type_allowed(content_type, self._policy.allowed_types):
            raise InvalidInput(
                f"content type {content_type!r} is not allowed", code="unsupported_type"
            )
        if isinstance(target, ChapterTarget):
            self._courses.require_role(target.course_id, user_id, WRITERS)
            self._courses.get_chapter(target.course_id, target.chapter_id)

    def initiate(
        self,
        user_id: str,
        filename: str,
        content_type: str,
        size: int,
        target: UploadTarget,
        *,
        source: Source = "api",
        created_by: CreatedBy = "server",
        single_put: bool = False,
    ) -> Upload:
        """Create the upload. With `created_by="browser"` (the signer flow) the
        browser creates the S3 upload through a presigned URL and the upload id
        is bound on the first request that carries it."""
        self.validate_new(user_id, filename, content_type, size, target, single_put=single_put)
        operation_id = new_id("op")
        key = object_key(user_id, operation_id, filename)
        upload_id = ""
        if created_by == "server":
            upload_id = self._storage.create(key, content_type)
        part_size = size if single_put else choose_part_size(size)
        now = self._clock()
        upload = Upload(
            operation_id=operation_id,
            upload_id=upload_id,
            user_id=user_id,
            key=key,
            filename=filename,
            content_type=content_type,
            size=size,
            part_size=part_size,
            part_count=max(1, math.ceil(size / part_size)),
            status="uploading",
            target=target,
            bytes_uploaded=0,
            media_id=None,
            reason=None,
            created_at=now,
            updated_at=now,
            expires_at=now + self._policy.stale_after,
        )
        try:
            self._store.create(upload, source)
        except DomainError:
            self._storage.abort(key, upload_id)
            raise
        self._announce(UploadStarted, UploadData(upload=upload), upload)
        self._metrics.count("UploadsStarted")
        return upload

    # ---- reads -------------------------------------------------------------------
    def owned(self, user_id: str, operation_id: str) -> UploadRecord:
        record = self._store.get(operation_id) if _OPERATION.fullmatch(operation_id) else None
        if record is None or record.upload.user_id != user_id:
            raise not_found()
        return record

    def owned_by_key(self, user_id: str, key: str, upload_id: str | None = None) -> UploadRecord:
        """The caller's upload behind an object key (Uppy's routes identify uploads
        by key and S3 upload id); 404 unless both belong to the caller's upload."""
        parsed = parse_key(key)
        if parsed is None or parsed[0] != user_id:
            raise not_found()
        record = self.owned(user_id, parsed[1])
        if record.upload.key != key:
            raise not_found()
        if upload_id is not None and record.upload.upload_id != upload_id:
            raise not_found()
        return record

    def parts(self, upload: Upload) -> list[UploadPart]:
        if upload.status not in OPEN_STATUSES or not upload.upload_id:
            return []
        return self._storage.list_parts(upload.key, upload.upload_id)

    def active(self, user_id: str) -> list[Upload]:
        return [r.upload for r in self._store.open_by_user(user_id)]

    def current_progress(self, channel: str) -> list[UploadProgress]:
        """The current progress of every open upload routed to `channel`, for
        replay after a reconnect (two index queries at most, never a scan)."""
        scope, _, ident = channel.partition(":")
        if scope == "user" and ident:
            records = self._store.open_by_user(ident)
        elif scope == "course" and ident:
            records = self._store.open_in_course(ident)
        else:
            return []
        now_ms = self._progress.now_ms()
        return [progress_event(r, r.progress_at_ms or now_ms) for r in records]

    # ---- presign -------------------------------------------------------------
    def presign_parts(
        self,
        user_id: str,
        operation_id: str,
        part_numbers: Sequence[int],
        *,
        max_part: int | None = None,
    ) -> tuple[dict[str, str], datetime]:
        record = self.owned(user_id, operation_id)
        return self.presign_for(record, part_numbers, max_part=max_part)

    def presign_for(
        self, record: UploadRecord, part_numbers: Sequence[int], *, max_part: int | None = None
    ) -> tuple[dict[str, str], datetime]:
        upload = record.upload
        highest = max_part or upload.part_count
        if not part_numbers or len(part_numbers) > MAX_PARTS_PER_BATCH:
            raise InvalidInput(
                f"ask for 1 to {MAX_PARTS_PER_BATCH} part numbers at a time", code="invalid_parts"
            )
        bad = [n for n in part_numbers if not 1 <= n <= highest]
        if bad:
            raise InvalidInput(
                f"part numbers must be between 1 and {highest}",
                code="invalid_part_number",
                details=[
                    {"field": "partNumbers", "issue": "out_of_range", "value": n} for n in bad
                ],
            )
        if upload.status != "uploading":
            raise not_open(upload.status)
        if not upload.upload_id:
            raise Conflict("the upload has not been created in S3 yet", code="upload_not_created")
        urls = {
            str(n): self._storage.presign_part(upload.key, upload.upload_id, n)
            for n in sorted(set(part_numbers))
        }
        expires_at = self._clock() + timedelta(seconds=self._policy.presign_expiry_seconds)
        return urls, expires_at

    # ---- progress --------------------------------------------------------------
    def report_progress(self, user_id: str, operation_id: str, bytes_uploaded: int) -> Upload:
        if not operation_id.startswith("op_"):
            raise not_found()
        return self._progress.report(operation_id, user_id, bytes_uploaded).upload

    # ---- complete / abort ---------------------------------------------------------
    def complete(
        self, user_id: str, operation_id: str, parts: Sequence[tuple[int, str]] | None
    ) -> tuple[Upload, CompletedObject]:
        record = self.owned(user_id, operation_id)
        return self.complete_record(record, parts)

    def complete_record(
        self,
        record: UploadRecord,
        parts: Sequence[tuple[int, str]] | None,
        *,
        max_part: int | None = None,
    ) -> tuple[Upload, CompletedObject]:
        """Ask S3 to assemble the parts; `completed` follows from the S3 event."""
        upload = record.upload
        if parts is not None:
            numbers = [n for n, _ in parts]
            highest = max_part or upload.part_count
            if (
                not parts
                or len(set(numbers)) != len(numbers)
                or not all(1 <= n <= highest for n in numbers)
            ):
                raise InvalidInput(
                    f"parts must name distinct part numbers between 1 and {highest}",
                    code="invalid_parts",
                )
        if upload.status not in OPEN_STATUSES:
            raise not_open(upload.status)
        if not upload.upload_id:
            raise Conflict("the upload has not been created in S3 yet", code="upload_not_created")
        if parts is None:
            held = self._storage.list_parts(upload.key, upload.upload_id)
            if not held:
                raise InvalidInput("S3 holds no parts of this upload", code="invalid_parts")
            parts = [(p.part_number, p.etag) for p in held]
        moved = self._store.transition(
            upload.operation_id,
            "completing",
            from_statuses=OPEN_STATUSES,
            updated_at=iso(self._clock()),
        )
        if moved is None:
            raise not_open(self._status_of(upload.operation_id))
        try:
            completed = self._storage.complete(upload.key, upload.upload_id, parts)
        except InvalidInput:
            # S3 refused these parts: reopen, so the client can send the
            # missing parts (or abort) and complete again.
            self._store.transition(
                upload.operation_id,
                "uploading",
                from_statuses={"completing"},
                updated_at=iso(self._clock()),
            )
            raise
        return moved.upload, completed

    def abort(self, user_id: str, operation_id: str) -> Upload:
        record = self.owned(user_id, operation_id)
        return self.abort_record(record)

    def abort_record(self, record: UploadRecord, *, in_s3: bool = True) -> Upload:
        upload = record.upload
        if upload.status not in OPEN_STATUSES:
            raise not_open(upload.status)
        if upload.status == "completing" and self._storage.object_size(upload.key) is not None:
            # S3 assembled it already; its event will complete the upload.
            raise Conflict("the upload has completed in S3", code="upload_not_open")
        moved = self._store.transition(
            upload.operation_id,
            "aborted",
            from_statuses=OPEN_STATUSES,
            updated_at=iso(self._clock()),
            sets={"reason": "aborted"},
        )
        if moved is None:
            raise not_open(self._status_of(upload.operation_id))
        if in_s3:
            # After the state change, so a concurrent completion cannot win
            # the race and leave a completed object behind an aborted upload.
            self._storage.abort(upload.key, upload.upload_id)
        aborted = moved.upload
        self._drain_progress(moved)
        self._announce(UploadAborted, UploadEndedData(upload=aborted, reason="aborted"), aborted)
        self._metrics.count("UploadsAborted")
        return aborted

    # ---- the browser-created (signer) flow ----------------------------------------
    def bind(self, record: UploadRecord, upload_id: str) -> UploadRecord:
        """Tie the browser-created S3 upload id to its operation (first use wins)."""
        if record.upload.upload_id == upload_id:
            return record
        if record.upload.upload_id or not self._store.bind_upload_id(
            record.upload.operation_id, upload_id
        ):
            raise not_found()
        bound = self._store.get(record.upload.operation_id)
        assert bound is not None
        return bound

    def mark_completing(self, record: UploadRecord) -> None:
        if record.upload.status not in OPEN_STATUSES:
            raise not_open(record.upload.status)
        self._store.transition(
            record.upload.operation_id,
            "completing",
            from_statuses=OPEN_STATUSES,
            updated_at=iso(self._clock()),
        )

    def sign(
        self,
        user_id: str,
        method: str,
        key: str,
        *,
        upload_id: str | None,
        part_number: int | None,
        new_file: NewFile | None,
    ) -> tuple[str, str]:
        """Sign one S3 request for Uppy's `signRequest` option: (url, key).

        A create (POST, or a single-file PUT) without an upload id starts a new
        upload from `new_file` under a key the server chooses, which Uppy then
        uses; every later request must name the caller's upload by key and S3
        upload id. The first request that carries the browser-created upload
        id binds it."""
        if upload_id is None:
            if method not in {"POST", "PUT"} or part_number is not None:
                raise InvalidInput(
                    "only uploads can be signed: POST to create, PUT for one file",
                    code="unsupported_request",
                )
            if new_file is None:
                raise InvalidInput("a new upload needs its file", code="missing_file")
            single = method == "PUT"
            upload = self.initiate(
                user_id,
                new_file.name,
                new_file.content_type,
                new_file.size,
                new_file.target,
                source="signer",
                created_by="browser",
                single_put=single,
            )
            if single:
                return (
                    self._storage.presign_put(upload.key, upload.content_type, upload.size),
                    upload.key,
                )
            return self._storage.presign_create(upload.key, upload.content_type), upload.key
        record = self.owned_by_key(user_id, key)
        if record.upload.upload_id != upload_id:
            if record.source != "signer":
                raise not_found()
            record = self.bind(record, upload_id)
        upload = record.upload
        if method == "PUT":
            if part_number is None:
                raise InvalidInput("a part upload needs its partNumber", code="invalid_parts")
            urls, _ = self.presign_for(record, [part_number], max_part=MAX_PARTS)
            return urls[str(part_number)], upload.key
        if part_number is not None:
            raise InvalidInput("only part uploads carry a partNumber", code="invalid_parts")
        if method == "GET":
            return self._storage.presign_list_parts(upload.key, upload_id), upload.key
        if method == "POST":
            self.mark_completing(record)
            return self._storage.presign_complete(upload.key, upload_id), upload.key
        self.abort_record(record, in_s3=False)
        return self._storage.presign_abort(upload.key, upload_id), upload.key

    # ---- completion from S3 events -----------------------------------------------
    def object_created(self, key: str, size: int) -> str:
        """Handle one S3 ObjectCreated notification. Returns what happened
        ("completed", "failed", "duplicate", "ignored"); duplicates, late and
        out-of-order deliveries change nothing."""
        parsed = parse_key(key)
        if parsed is None:
            logger.warning("object created under a key we did not issue", extra={"key": key})
            return "ignored"
        user_id, operation_id = parsed
        record = self._store.get(operation_id)
        if record is None or record.upload.user_id != user_id or record.upload.key != key:
            logger.warning("object created for an unknown upload", extra={"key": key})
            return "ignored"
        upload = record.upload
        if upload.status == "completed" and not record.announced and self._settled(upload):
            # A handler completed it but died before announcing it (SQS
            # redelivered the event): finish the announcement.
            media = self._media.get(upload.media_id or media_id_for(operation_id))
            if media is not None:
                self._announce_completed(upload, media)
                return "completed"
        if upload.status not in OPEN_STATUSES:
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
        now = self._clock()
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
        )
        if not self._media.put_if_absent(media):
            media = self._media.get(media.media_id) or media
        moved = self._store.transition(
            operation_id,
            "completed",
            from_statuses=OPEN_STATUSES,
            updated_at=iso(now),
            sets={"mediaId": media.media_id, "bytesUploaded": size, "announced": False},
        )
        if moved is None:
            return "duplicate"
        self._drain_progress(moved)
        self._announce_completed(moved.upload, media)
        return "completed"

    def _settled(self, upload: Upload) -> bool:
        """Long enough since completion that no first handler is still announcing."""
        return self._clock() - upload.updated_at >= ANNOUNCE_GRACE

    def _announce_completed(self, done: Upload, media: MediaFile) -> None:
        event = UploadCompleted.new(
            UploadCompletedData(upload=done, media=media),
            operation_id=done.operation_id,
            course_id=target_course(done.target),
            resources=[upload_path(done.operation_id), "/uploads", *media_paths(media.media_id)],
        )
        self._publisher.publish(event, upload_channels(done))
        self._metrics.count("UploadsCompleted")
        self._metrics.count("BytesUploaded", done.size, "Bytes")
        if isinstance(done.target, ChapterTarget):
            self._link(done, media)
        self._store.mark_announced(done.operation_id)

    def _link(self, upload: Upload, media: MediaFile) -> None:
        linker = self._linker()
        if linker is None:
            logger.error("no linker configured; chapter upload left in the library")
            return
        try:
            linker.link_completed_upload(upload, media)
        except DomainError as err:
            if err.status >= 500:
                raise  # worth retrying: the redelivered S3 event links it
            # The file stays in the uploader's library; the chapter may have gone
            # or the uploader lost their role while the bytes were in flight.
            logger.warning(
                "completed upload could not be linked",
                extra={"operationId": upload.operation_id, "code": err.code},
            )

    # ---- the stale-upload sweep ---------------------------------------------------------
    def expire_stale(self) -> int:
        """Abort uploads open longer than the configured age and mark them failed
        (`expired`). Returns how many were expired."""
        now = self._clock()
        cutoff = iso(now - self._policy.stale_after)
        expired = 0
        for operation_id in self._store.open_before(cutoff):
            record = self._store.get(operation_id)
            if record is None or record.upload.status not in OPEN_STATUSES:
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

    # ---- internals ---------------------------------------------------------------------
    def _fail(self, upload: Upload, reason: str, *, created_before: str | None = None) -> bool:
        extra = None
        if created_before is not None:
            extra = ("createdAt < :cutoff", {":cutoff": created_before})
        moved = self._store.transition(
            upload.operation_id,
            "failed",
            from_statuses=OPEN_STATUSES,
            updated_at=iso(self._clock()),
            sets={"reason": reason},
            extra_condition=extra,
        )
        if moved is None:
            return False
        failed = moved.upload
        self._drain_progress(moved)
        self._announce(UploadFailed, UploadEndedData(upload=failed, reason=reason), failed)
        self._metrics.count("UploadsFailed")
        return True

    def _drain_progress(self, closed: UploadRecord) -> None:
        """Hold a terminal event back until a progress broadcast claimed before
        the upload closed has gone out. The close stops new claims (they are
        conditional on an open upload), so only one claimed before it can race."""
        claimed_ms = closed.last_broadcast_at_ms
        if claimed_ms is None:
            return
        drain = PROGRESS_DRAIN.total_seconds()
        wait = claimed_ms / 1000 + drain - self._clock().timestamp()
        if wait > 0:
            self._sleep(min(wait, drain))

    def _status_of(self, operation_id: str) -> str:
        record = self._store.get(operation_id)
        if record is None:
            raise NotFound("no such upload", code="upload_not_found")
        return record.upload.status

    def _announce(
        self,
        kind: type[UploadStarted | UploadAborted | UploadFailed],
        data: UploadData | UploadEndedData,
        upload: Upload,
    ) -> None:
        event = kind.new(
            data,
            operation_id=upload.operation_id,
            course_id=target_course(upload.target),
            resources=[upload_path(upload.operation_id), "/uploads"],
        )
        self._publisher.publish(event, upload_channels(upload))
