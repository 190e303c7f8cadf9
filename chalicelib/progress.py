"""Upload progress: coalesce however many reports arrive into at most
`progress_broadcasts_per_second` broadcasts per upload.

On a channel big enough for sharded delivery (chalicelib/shards.py), a fan-out
to thousands of viewers four times a second buys nothing a viewer sees: such a
channel gets only an upload's first broadcast of each wall-clock second (UTC),
so at most one a second; the uploader's own channel keeps all of them. The
contract's "at most 4 a second" holds on every channel either way.

A report costs one conditional DynamoDB write (bytes only move forward, only while
the upload is open). When the stored state says the broadcast slot is free, one
more conditional write claims it; only the claimant publishes, and a third
write says its fan-out has returned, which the upload's terminal event waits
for. So DynamoDB sees at most one write per report plus two per broadcast, and
concurrent Lambdas cannot broadcast more often than the limit or out of order.

Speed and ETA are computed here, from the bytes and time between the previous
broadcast and this one, so every client shows the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.broadcast import Counters
from chalicelib.channels import target_course, upload_channels, upload_path
from chalicelib.domain.uploads import ProgressWrite, UploadRecord, not_found
from chalicelib.errors import InvalidInput
from chalicelib.events import UploadProgress, UploadProgressData
from chalicelib.ids import is_operation_id, parse_channel
from chalicelib.publisher import Publisher

Clock = Callable[[], float]  # seconds since the epoch


class ProgressStore(Protocol):
    def record_progress(
        self, operation_id: str, user_id: str, bytes_uploaded: int, now_ms: int
    ) -> ProgressWrite: ...

    def claim_broadcast(
        self, operation_id: str, bytes_uploaded: int, now_ms: int, min_interval_ms: int
    ) -> bool: ...

    def broadcast_sent(self, operation_id: str, claimed_ms: int) -> None: ...

    def open_by_user(self, user_id: str) -> list[UploadRecord]: ...

    def open_in_course(self, course_id: str) -> list[UploadRecord]: ...


def progress_event(record: UploadRecord, now_ms: int) -> UploadProgress:
    """The progress event for an upload's stored state: speed over the interval
    since the previous broadcast (or since the upload started), ETA from that."""
    upload = record.upload
    done = upload.bytes_uploaded
    if record.last_broadcast_at_ms is not None and record.last_broadcast_bytes is not None:
        since_ms, since_bytes = record.last_broadcast_at_ms, record.last_broadcast_bytes
    else:
        since_ms, since_bytes = int(upload.created_at.timestamp() * 1000), 0
    elapsed = (now_ms - since_ms) / 1000
    rate = (done - since_bytes) / elapsed if elapsed > 0 and done > since_bytes else None
    remaining = max(upload.size - done, 0)
    eta = round(remaining / rate, 1) if rate else (0.0 if remaining == 0 else None)
    data = UploadProgressData(
        bytes_uploaded=done,
        total_bytes=upload.size,
        percent=round(100 * done / upload.size, 2) if upload.size else 100.0,
        bytes_per_second=round(rate, 1) if rate is not None else None,
        eta_seconds=eta,
        filename=upload.filename,
        target=upload.target,
    )
    return UploadProgress.new(
        data,
        operation_id=upload.operation_id,
        course_id=target_course(upload.target),
        resources=[upload_path(upload.operation_id)],
        at=datetime.fromtimestamp(now_ms / 1000, UTC),
    )


class ProgressTracker:
    def __init__(
        self,
        store: ProgressStore,
        publisher: Publisher,
        broadcasts_per_second: float,
        clock: Clock,
        metrics: Counters | None = None,
        wide: Callable[[str], bool] = lambda channel: False,
    ) -> None:
        self._store = store
        self._wide = wide
        self._publisher = publisher
        self._interval_ms = max(1, int(1000 / broadcasts_per_second))
        self._clock = clock
        self._metrics = metrics

    def report(self, operation_id: str, user_id: str, bytes_uploaded: int) -> UploadRecord:
        """Record a report; broadcast when the slot is free. Raises NotFound for
        anyone but the uploader and Conflict once the upload is no longer open;
        a report behind the stored bytes changes nothing."""
        if not is_operation_id(operation_id):
            raise not_found()
        if bytes_uploaded < 0:
            raise InvalidInput("bytesUploaded must not be negative", code="invalid_progress")
        now_ms = int(self._clock() * 1000)
        write = self._store.record_progress(operation_id, user_id, bytes_uploaded, now_ms)
        record = write.record
        if not write.advanced:
            if bytes_uploaded > record.upload.size:
                raise InvalidInput(
                    "bytesUploaded is larger than the upload", code="invalid_progress"
                )
            return record
        last = record.last_broadcast_at_ms
        if last is not None and now_ms - last < self._interval_ms:
            return record
        if self._store.claim_broadcast(operation_id, bytes_uploaded, now_ms, self._interval_ms):
            event = progress_event(record, now_ms)
            channels = upload_channels(record.upload)
            if last is not None and last // 1000 == now_ms // 1000:
                # Not the upload's first broadcast of this second: a channel
                # the fanout workers deliver gets one a second, not four.
                channels = [channel for channel in channels if not self._wide(channel)]
            try:
                self._publisher.publish(event, channels)
            finally:
                # The upload's terminal event waits for this (uploads/announce.py).
                self._store.broadcast_sent(operation_id, now_ms)
            if self._metrics is not None:
                self._metrics.count("ProgressBroadcasts")
        return record

    def current_progress(self, channel: str) -> list[UploadProgress]:
        """The current progress of every open upload routed to `channel`, for
        replay after a reconnect (one index query, never a scan)."""
        parsed = parse_channel(channel)
        if parsed is None:
            return []
        scope, ident = parsed
        if scope == "user":
            records = self._store.open_by_user(ident)
        else:
            records = self._store.open_in_course(ident)
        now_ms = int(self._clock() * 1000)
        return [progress_event(r, r.progress_at_ms or now_ms) for r in records]
