"""The upload events (`upload.started`, `.completed`, `.failed`, `.aborted`):
committed with the state change they announce (the outbox,
chalicelib/store/outbox.py), once per change, to the uploader and to the course
of a chapter upload, never before a progress broadcast already claimed has gone
out. A completed chapter upload is then linked into its chapter, and every
completed file handed to the processing queue (chalicelib/processing.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from chalicelib.channels import media_paths, target_course, upload_channels, upload_path
from chalicelib.clock import Clock, Sleep, utc
from chalicelib.domain.uploads import BROADCAST_FANOUT_LIMIT_MS, UploadRecord
from chalicelib.errors import DomainError
from chalicelib.events import (
    Announcement,
    UploadAborted,
    UploadCompleted,
    UploadCompletedData,
    UploadData,
    UploadEndedData,
    UploadFailed,
    UploadStarted,
)
from chalicelib.logging import logger
from chalicelib.models import ChapterTarget, MediaFile, Upload
from chalicelib.uploads.ports import (
    Announce,
    Linker,
    Metrics,
    NoMetrics,
    ProcessingRequests,
    UploadRecords,
)

# A progress broadcast claimed just before an upload closed may still be going
# out; a terminal event waits until its fan-out has returned (the claim's
# in-flight marker is gone), and at least this long after the claim, so no
# progress reaches a client after the upload's end. A small fan-out takes tens
# of milliseconds; 1,000 connections behind a slow endpoint take seconds, and
# the wait follows them (never past BROADCAST_FANOUT_LIMIT_MS).
PROGRESS_DRAIN = timedelta(milliseconds=500)
# How often the wait reads the upload again (one GetItem each).
IN_FLIGHT_POLL = timedelta(milliseconds=100)


class UploadAnnouncer:
    def __init__(
        self,
        *,
        store: UploadRecords,
        linker: Linker,
        processing: ProcessingRequests | None = None,
        clock: Clock,
        metrics: Metrics | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._store = store
        self._linker = linker
        self._processing = processing
        self._clock = clock
        self._metrics = metrics or NoMetrics()
        self._sleep = sleep

    def first_status(self) -> dict[str, str | None]:
        """A new media file's lifecycle fields: `processing` until the processing
        step commits its outcome; on a deployment without one, `ready` and
        saying it was never read, rather than processing forever."""
        if self._processing is None:
            return {"status": "ready", "reason": "not_processed"}
        return {"status": "processing", "reason": None}

    # ---- what each change announces: the store commits it with the change ----
    def start(self, upload: Upload) -> list[Announcement]:
        return [self._announcement(UploadStarted, UploadData(upload=upload), upload)]

    def abort(self) -> Announce:
        return self._closing(
            lambda upload: self._announcement(
                UploadAborted, UploadEndedData(upload=upload, reason="aborted"), upload
            )
        )

    def fail(self, reason: str) -> Announce:
        return self._closing(
            lambda upload: self._announcement(
                UploadFailed, UploadEndedData(upload=upload, reason=reason), upload
            )
        )

    def complete(self, media: MediaFile) -> Announce:
        def completed(done: Upload) -> Announcement:
            event = UploadCompleted.new(
                UploadCompletedData(upload=done, media=media),
                operation_id=done.operation_id,
                course_id=target_course(done.target),
                resources=[
                    upload_path(done.operation_id),
                    "/uploads",
                    *media_paths(media.media_id),
                ],
                at=utc(self._clock),
            )
            return Announcement.of(event, upload_channels(done))

        return self._closing(completed)

    # ---- once the change (and its events) committed ---------------------------
    def started(self, upload: Upload) -> None:
        self._metrics.count("UploadsStarted")

    def aborted(self, closed: UploadRecord) -> None:
        self._metrics.count("UploadsAborted")

    def failed(self, closed: UploadRecord, reason: str) -> None:
        self._metrics.count("UploadsFailed")

    def completed(self, closed: UploadRecord, media: MediaFile) -> None:
        """Count a completion, link a chapter upload, then mark it announced, so
        a redelivered S3 event can finish what a crash began."""
        done = closed.upload
        self._metrics.count("UploadsCompleted")
        self._metrics.count("BytesUploaded", done.size, "Bytes")
        self.finish_completed(done, media)

    def finish_completed(self, done: Upload, media: MediaFile) -> None:
        """What follows a committed completion: `upload.completed` is committed
        already, with the change; a chapter upload is linked into its chapter,
        then the file goes to the processing queue (after the link, so the run
        finds the chapter to show its outcome in). A crash before
        `mark_announced` repeats both on the redelivered S3 event: linking is
        idempotent, and processing a file twice commits once."""
        if isinstance(done.target, ChapterTarget):
            self._link(done, media)
        if self._processing is not None and media.status == "processing":
            self._processing.enqueue(media.media_id)
        self._store.mark_announced(done.operation_id)

    def _link(self, upload: Upload, media: MediaFile) -> None:
        try:
            self._linker.link_completed_upload(upload, media)
        except DomainError as err:
            if err.status >= 500:
                raise  # worth retrying: the redelivered S3 event links it
            # The file stays in the uploader's library; the chapter may have gone
            # or the uploader lost their role while the bytes were in flight.
            logger.warning(
                "completed upload could not be linked",
                extra={"operationId": upload.operation_id, "code": err.code},
            )

    def _closing(self, build: Callable[[Upload], Announcement]) -> Announce:
        """The announcement of a terminal state, built once the store knows the
        record it is about to commit (and after the progress drain)."""

        def announce(closed: UploadRecord) -> list[Announcement]:
            self._drain_progress(closed)
            return [build(closed.upload)]

        return announce

    def _drain_progress(self, closed: UploadRecord) -> None:
        """Hold a terminal event back until a progress broadcast claimed before
        it has gone out: at least PROGRESS_DRAIN after the claim, and until its
        fan-out has returned (the claim is no longer in flight). The store
        commits the close on condition that no claim was made since the one
        this waited for and none is in flight, and claims need an open upload,
        so none can follow the end."""
        claimed_ms = closed.last_broadcast_at_ms
        if claimed_ms is None:
            return
        drain = PROGRESS_DRAIN.total_seconds()
        wait = claimed_ms / 1000 + drain - self._clock()
        if wait > 0:
            self._sleep(min(wait, drain))
        in_flight = closed.broadcast_in_flight_ms
        if in_flight is None:
            return
        give_up = (in_flight + BROADCAST_FANOUT_LIMIT_MS) / 1000
        while self._clock() < give_up:
            current = self._store.get(closed.upload.operation_id)
            if current is None or current.broadcast_in_flight_ms != in_flight:
                return
            self._sleep(IN_FLIGHT_POLL.total_seconds())

    def _announcement(
        self,
        kind: type[UploadStarted | UploadAborted | UploadFailed],
        data: UploadData | UploadEndedData,
        upload: Upload,
    ) -> Announcement:
        event = kind.new(
            data,
            operation_id=upload.operation_id,
            course_id=target_course(upload.target),
            resources=[upload_path(upload.operation_id), "/uploads"],
            at=utc(self._clock),
        )
        return Announcement.of(event, upload_channels(upload))
