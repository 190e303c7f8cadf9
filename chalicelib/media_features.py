"""The media processing part of the composition root (chalicelib/services.py):
the processing queue completion feeds, the `process_media` Lambda's service,
and the upload announcer that hands each completed file to the queue. Kept
apart only so the Container class stays readable; nothing is built anywhere
else."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.processing import ProcessingService
    from chalicelib.services import Container
    from chalicelib.store.media_objects import MediaObjects
    from chalicelib.store.processing_queue import ProcessingQueue
    from chalicelib.uploads.announce import UploadAnnouncer


class MediaFeatures:
    """Each part's modules are imported where it is built: only the
    `process_media` function builds the processing step, and only a request
    that completes an upload the announcer (docs/PERFORMANCE.md#cold-start)."""

    def __init__(self, container: Container) -> None:
        self._c = container

    @cached_property
    def processing_queue(self) -> ProcessingQueue | None:
        """None on a deployment without the processing step (PROCESSING_QUEUE unset)."""
        from chalicelib.store.processing_queue import ProcessingQueue

        queue = self._c.settings.processing_queue
        return ProcessingQueue(self._c.aws.sqs, queue) if queue else None

    @cached_property
    def upload_announcer(self) -> UploadAnnouncer:
        from chalicelib.uploads.announce import UploadAnnouncer

        c = self._c
        return UploadAnnouncer(
            store=c.upload_features.upload_store,
            linker=c.linker,
            processing=self.processing_queue,
            clock=c.clock,
            metrics=c.metrics,
            sleep=c.sleep,
        )

    @cached_property
    def media_objects(self) -> MediaObjects:
        from chalicelib.store.media_objects import MediaObjects

        return MediaObjects(self._c.aws.s3, self._c.settings.media_bucket)

    @cached_property
    def processing(self) -> ProcessingService:
        """The `process_media` Lambda's work."""
        from chalicelib.media_probe import probe
        from chalicelib.processing import ProcessingService
        from chalicelib.store.processed import ProcessingResults

        c, s = self._c, self._c.settings
        results = ProcessingResults(
            c.aws.table(s.media_table, "the media store"), c.course_store, c.outbox
        )
        return ProcessingService(
            results,
            self.media_objects,
            probe,
            max_receives=s.processing_max_receives,
            metrics=c.metrics,
            clock=c.clock,
            sleep=c.sleep,
        )
