"""The upload events (`upload.started`, `.completed`, `.failed`, `.aborted`):
published once per state change, to the uploader and to the course of a
chapter upload, never before a progress broadcast already claimed has gone out.
A completed chapter upload is then linked into its chapter."""

from __future__ import annotations

import time
from datetime import timedelta

from chalicelib.channels import media_paths, target_course, upload_channels, upload_path
from chalicelib.clock import Clock, Sleep, utc
from chalicelib.domain.uploads import UploadRecord
from chalicelib.errors import DomainError
from chalicelib.events import (
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
from chalicelib.publisher import Publisher
from chalicelib.uploads.ports import Linker, Metrics, NoMetrics, UploadRecords

# A progress broadcast claimed just before an upload closed may still be going
# out; a terminal event waits until this long after that claim (never longer),
# so no progress reaches a client after the upload's end. A progress fan-out
# takes tens of milliseconds (docs/PERFORMANCE.md); a cancel waits at most this.
PROGRESS_DRAIN = timedelta(milliseconds=500)


class UploadAnnouncer:
    def __init__(
        self,
        *,
        store: UploadRecords,
        publisher: Publisher,
        linker: Linker,
        clock: Clock,
        metrics: Metrics | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._linker = linker
        self._clock = clock
        self._metrics = metrics or NoMetrics()
        self._sleep = sleep

    def started(self, upload: Upload) -> None:
        self._publish(UploadStarted, UploadData(upload=upload), upload)
        self._metrics.count("UploadsStarted")

    def aborted(self, closed: UploadRecord) -> None:
        upload = closed.upload
        self._drain_progress(closed)
        self._publish(UploadAborted, UploadEndedData(upload=upload, reason="aborted"), upload)
        self._metrics.count("UploadsAborted")

    def failed(self, closed: UploadRecord, reason: str) -> None:
        upload = closed.upload
        self._drain_progress(closed)
        self._publish(UploadFailed, UploadEndedData(upload=upload, reason=reason), upload)
        self._metrics.count("UploadsFailed")

    def completed(self, closed: UploadRecord, media: MediaFile) -> None:
        """Announce a completion (and link a chapter upload), then mark it
        announced, so a redelivered S3 event can finish what a crash began."""
        self._drain_progress(closed)
        self.finish_completed(closed.upload, media)

    def finish_completed(self, done: Upload, media: MediaFile) -> None:
        event = UploadCompleted.new(
            UploadCompletedData(upload=done, media=media),
            operation_id=done.operation_id,
            course_id=target_course(done.target),
            resources=[upload_path(done.operation_id), "/uploads", *media_paths(media.media_id)],
            at=utc(self._clock),
        )
        self._publisher.publish(event, upload_channels(done))
        self._metrics.count("UploadsCompleted")
        self._metrics.count("BytesUploaded", done.size, "Bytes")
        if isinstance(done.target, ChapterTarget):
            self._link(done, media)
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

    def _drain_progress(self, closed: UploadRecord) -> None:
        """Hold a terminal event back until a progress broadcast claimed before
        the upload closed has gone out. The close stops new claims (they are
        conditional on an open upload), so only one claimed before it can race."""
        claimed_ms = closed.last_broadcast_at_ms
        if claimed_ms is None:
            return
        drain = PROGRESS_DRAIN.total_seconds()
        wait = claimed_ms / 1000 + drain - self._clock()
        if wait > 0:
            self._sleep(min(wait, drain))

    def _publish(
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
            at=utc(self._clock),
        )
        self._publisher.publish(event, upload_channels(upload))
