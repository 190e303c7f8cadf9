"""Uploads whose S3 requests the browser makes itself, each one signed by the
server (Uppy's signRequest mode): the S3 upload id is learned from the browser,
and the browser, not the server, asks S3 to assemble or abort."""

from __future__ import annotations

from chalicelib.clock import Clock, utc
from chalicelib.domain.upload_states import not_open, require_move
from chalicelib.domain.uploads import UploadRecord, not_found
from chalicelib.ids import iso
from chalicelib.models import Upload
from chalicelib.uploads.ports import UploadRecords


class BrowserDrivenUploads:
    def __init__(self, *, store: UploadRecords, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def bind(self, record: UploadRecord, upload_id: str) -> UploadRecord:
        """Tie the S3 upload id the browser created to its operation. The first
        request that names one wins; any other id is someone else's upload."""
        if record.upload.upload_id == upload_id:
            return record
        if record.upload.upload_id or not self._store.bind_upload_id(
            record.upload.operation_id, upload_id
        ):
            raise not_found()
        bound = self._store.get(record.upload.operation_id)
        if bound is None:
            raise not_found()
        return bound

    def completing(self, record: UploadRecord) -> Upload:
        """The browser is about to ask S3 to assemble the upload: `completing`
        from now on, so an abort checks S3 first. `completed` follows from the
        S3 event, as for every upload."""
        require_move(record.upload.status, "completing")
        moved = self._store.transition(
            record.upload.operation_id, "completing", updated_at=iso(utc(self._clock))
        )
        if moved is None:
            current = self._store.get(record.upload.operation_id)
            raise not_open(current.upload.status) if current else not_found()
        return moved.upload
