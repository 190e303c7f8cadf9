"""The uploads' part of the composition root (chalicelib/services.py): the
upload store, S3's multipart calls, the policy, and the services that only some
requests and functions build (the browser-driven uploads, completion, the S3
events handler). Kept apart only so the Container class stays readable;
nothing is built anywhere else."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, cast

from chalicelib.aws_clients import OnFirstUse
from chalicelib.metrics import EmfMetrics

if TYPE_CHECKING:
    from chalicelib.domain.upload_policy import UploadPolicy
    from chalicelib.services import Container
    from chalicelib.store.multipart import MultipartStorage
    from chalicelib.store.uploads import UploadStore
    from chalicelib.uploads.announce import UploadAnnouncer
    from chalicelib.uploads.browser import BrowserDrivenUploads
    from chalicelib.uploads.completion import UploadCompletion
    from chalicelib.uploads.s3_events import S3EventsHandler


class UploadFeatures:
    """Each part's modules are imported where it is built, so a request that
    touches no upload loads none of them (docs/PERFORMANCE.md#cold-start)."""

    def __init__(self, container: Container) -> None:
        self._c = container

    @cached_property
    def upload_store(self) -> UploadStore:
        from chalicelib.store.uploads import UploadStore

        return UploadStore(
            self._c.aws.table(self._c.settings.uploads_table, "the upload store"), self._c.outbox
        )

    @cached_property
    def multipart(self) -> MultipartStorage:
        from chalicelib.store.multipart import MultipartStorage

        s = self._c.settings
        return MultipartStorage(self._c.aws.s3, s.media_bucket, s.presign_expiry_seconds)

    @cached_property
    def upload_policy(self) -> UploadPolicy:
        from chalicelib.domain.upload_policy import UploadPolicy

        s = self._c.settings
        return UploadPolicy(
            max_bytes=s.upload_max_bytes,
            allowed_types=s.allowed_types,
            stale_after=timedelta(hours=s.stale_upload_after_hours),
            presign_expiry_seconds=s.presign_expiry_seconds,
        )

    @cached_property
    def browser_uploads(self) -> BrowserDrivenUploads:
        from chalicelib.uploads.browser import BrowserDrivenUploads

        return BrowserDrivenUploads(store=self.upload_store, clock=self._c.clock)

    @cached_property
    def upload_completion(self) -> UploadCompletion:
        from chalicelib.uploads.completion import UploadCompletion

        return UploadCompletion(
            store=self.upload_store,
            storage=self.multipart,
            media=self._c.media_store,
            # Built on its first use: a sweep that finds nothing stale (most
            # sweeps) then loads no linker, course, realtime or processing
            # modules (docs/PERFORMANCE.md#cold-start).
            announcer=cast(
                "UploadAnnouncer", OnFirstUse(lambda: self._c.media_features.upload_announcer)
            ),
            policy=self.upload_policy,
            clock=self._c.clock,
        )

    @cached_property
    def s3_events(self) -> S3EventsHandler:
        from chalicelib.uploads.s3_events import S3EventsHandler

        return S3EventsHandler(
            self.upload_completion,
            media_bucket=self._c.settings.media_bucket,
            metrics=EmfMetrics(),
        )
