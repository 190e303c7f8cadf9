"""Upload progress: turn however many reports arrive into the few broadcasts a
watcher can tell apart.

A report is broadcast only when it shows something new (`ProgressPace`): the
upload's first report, its last byte, a step of `progress_step_percent` of the
file (5 %) since the last broadcast, or `progress_heartbeat_seconds` (10 s)
without one while bytes moved; and never more often than
`progress_broadcasts_per_second` (4) per upload. A 128-part upload therefore
broadcasts 20 times, not once per part: at 5 watchers, posting every part
cost as much as the upload's S3 requests (docs/PERFORMANCE.md#cost-per-upload).

On a channel big enough for sharded delivery (chalicelib/shards.py), a fan-out
to thousands of viewers four times a second buys nothing a viewer sees: such a
channel gets only an upload's first broadcast of each wall-clock second (UTC),
so at most one a second; the uploader's own channel keeps all of them. The
contract's "at most 4 a second" holds on every channel either way.

A report costs one strongly consistent read, which answers who may report and
whether the upload is open. A report that is not broadcast writes nothing: the
stored bytes are those of the last broadcast, which is what every watcher and
a reconnect's replay show. A report that is broadcast makes one conditional
write (the bytes, the broadcast slot and its in-flight mark; it holds only if
no other broadcast was claimed since the read, so concurrent Lambdas cannot
broadcast more often than the pace or out of order), and a second write says
its fan-out has returned, which the upload's terminal event waits for.

Speed and ETA are computed here, from the bytes and time between the previous
broadcast and this one, so every client shows the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.broadcast import Counters
from chalicelib.channels import target_course, upload_channels, upload_path
from chalicelib.domain.upload_states import OPEN_STATUSES, not_open
from chalicelib.domain.uploads import UploadRecord, not_found
from chalicelib.errors import InvalidInput
from chalicelib.events import UploadProgress, UploadProgressData
from chalicelib.ids import is_operation_id, parse_channel
from chalicelib.publisher import Publisher

Clock = Callable[[], float]  # seconds since the epoch

# Reads again after losing a broadcast slot to a concurrent report, so that a
# report ahead of the winner's is not lost to the race alone.
_ATTEMPTS = 3


@dataclass(frozen=True)
class ProgressPace:
    """When a report is worth a broadcast (module docstring)."""

    broadcasts_per_second: float = 4.0
    step_percent: float = 5.0
    heartbeat_seconds: float = 10.0

    def due(self, record: UploadRecord, bytes_uploaded: int, now_ms: int) -> bool:
        """Whether a report ahead of the stored bytes is to be broadcast."""
        last = record.last_broadcast_at_ms
        if last is None:
            return True
        since_ms = now_ms - last
        if since_ms < max(1, int(1000 / self.broadcasts_per_second)):
            return False
        size = record.upload.size
        moved = bytes_uploaded - (record.last_broadcast_bytes or 0)
        return (
            bytes_uploaded >= size
            or moved * 100 >= size * self.step_percent
            or since_ms >= self.heartbeat_seconds * 1000
        )


class ProgressStore(Protocol):
    def get(self, operation_id: str) -> UploadRecord | None: ...

    def record_broadcast(
        self,
        operation_id: str,
        user_id: str,
        bytes_uploaded: int,
        now_ms: int,
        after_ms: int | None,
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
        pace: ProgressPace,
        clock: Clock,
        metrics: Counters | None = None,
        wide: Callable[[str], bool] = lambda channel: False,
    ) -> None:
        self._store = store
        self._wide = wide
        self._publisher = publisher
        self._pace = pace
        self._clock = clock
        self._metrics = metrics

    def report(self, operation_id: str, user_id: str, bytes_uploaded: int) -> UploadRecord:
        """Take a report; broadcast it when the pace says so. Raises NotFound for
        anyone but the uploader and Conflict once the upload is no longer open;
        a report at or behind the stored bytes changes nothing. Returns the
        upload as stored after the report."""
        if not is_operation_id(operation_id):
            raise not_found()
        if bytes_uploaded < 0:
            raise InvalidInput("bytesUploaded must not be negative", code="invalid_progress")
        now_ms = int(self._clock() * 1000)
        for _ in range(_ATTEMPTS):
            record = self._reportable(operation_id, user_id, bytes_uploaded)
            upload = record.upload
            if bytes_uploaded <= upload.bytes_uploaded or not self._pace.due(
                record, bytes_uploaded, now_ms
            ):
                return record
            last = record.last_broadcast_at_ms
            if self._store.record_broadcast(operation_id, user_id, bytes_uploaded, now_ms, last):
                moved = replace(
                    record, upload=upload.model_copy(update={"bytes_uploaded": bytes_uploaded})
                )
                self._broadcast(moved, now_ms)
                return replace(
                    moved, last_broadcast_at_ms=now_ms, last_broadcast_bytes=bytes_uploaded
                )
        return record

    def _reportable(self, operation_id: str, user_id: str, bytes_uploaded: int) -> UploadRecord:
        """The stored upload, if `user_id` may report `bytes_uploaded` into it."""
        record = self._store.get(operation_id)
        if record is None or record.upload.user_id != user_id:
            raise not_found()
        if record.upload.status not in OPEN_STATUSES:
            raise not_open(record.upload.status)
        if bytes_uploaded > record.upload.size:
            raise InvalidInput("bytesUploaded is larger than the upload", code="invalid_progress")
        return record

    def _broadcast(self, record: UploadRecord, now_ms: int) -> None:
        """Publish the progress of `record` (its bytes new, its last broadcast
        still the previous one), then lift the in-flight mark."""
        event = progress_event(record, now_ms)
        channels = upload_channels(record.upload)
        last = record.last_broadcast_at_ms
        if last is not None and last // 1000 == now_ms // 1000:
            # Not the upload's first broadcast of this second: a channel
            # the fanout workers deliver gets one a second, not four.
            channels = [channel for channel in channels if not self._wide(channel)]
        try:
            self._publisher.publish(event, channels)
        finally:
            # The upload's terminal event waits for this (uploads/announce.py).
            self._store.broadcast_sent(record.upload.operation_id, now_ms)
        if self._metrics is not None:
            self._metrics.count("ProgressBroadcasts")

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
        return [progress_event(r, r.last_broadcast_at_ms or now_ms) for r in records]
