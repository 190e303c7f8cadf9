"""The processing step: the `process_media` Lambda reads each new media file's
headers off its own queue and commits what they said (docs/processing.md).

Completion sends one message per media file (chalicelib/uploads/announce.py),
after the upload is committed and linked: `POST /uploads/{id}/complete` never
waits for it. A message is handled once in effect, however often SQS delivers
it: the outcome commits on condition that the file is still `processing`, so a
redelivery finds it `ready` or `failed` and changes nothing.

Never stuck: each attempt gets the function's remaining time less a margin. An
attempt that runs out of it, or fails, is retried (the message is reported as a
batch item failure and SQS shows it again after its visibility timeout); the
last attempt SQS allows (`ApproximateReceiveCount` reaching the queue's
`maxReceiveCount`) ends the file `failed` with `processing_timed_out` or
`processing_error` instead, so the message never needs the dead-letter queue.
Only a function that dies outright (out of memory) on every attempt leaves a
message there, which the dead-letter alarm shows.

The outcome and `media.updated` (to the owner and every course whose chapters
hold the file) commit in one transaction, on condition that the file's links
are still those read; then each chapter holding it is rewritten with the
item's new metadata and its `chapter.updated`, so a chapter in an event is the
chapter GET returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.channels import course_channel, media_paths, user_channel
from chalicelib.clock import Clock, Sleep, stamp
from chalicelib.correlation import adopt_sqs
from chalicelib.courses import chapter_announcement
from chalicelib.domain.media import item_metadata, poster_key_for
from chalicelib.domain.processing import ERRORED, TIMED_OUT, Probe, ProcessingMessage
from chalicelib.events import Announcement, MediaData, MediaUpdated
from chalicelib.linking import backoff
from chalicelib.logging import logger
from chalicelib.models import Chapter, MediaFile

# Time kept back from the function's timeout for the commit after a probe.
MARGIN_SECONDS = 10.0
COMMIT_ATTEMPTS = 10


class Source(Protocol):
    """A media object opened for the parser, counting what it fetched."""

    bytes_read: int
    requests: int

    def read(self, size: int = -1, /) -> bytes | None: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


class MediaObjects(Protocol):
    def open(self, key: str, size: int) -> Source: ...
    def put_poster(self, key: str, jpeg: bytes) -> None: ...


class Results(Protocol):
    def get(self, media_id: str) -> MediaFile | None: ...
    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None: ...
    def finish(
        self, before: MediaFile, after: MediaFile, announce: Sequence[Announcement]
    ) -> bool: ...
    def refresh_chapter(
        self, chapter: Chapter, expected_version: int, announce: Sequence[Announcement]
    ) -> bool: ...


class Metrics(Protocol):
    def count(self, name: str, value: float = 1, unit: str = "Count") -> None: ...


class Context(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


Prober = Callable[[Source], Probe]


class Retry(Exception):
    """This attempt did not finish; SQS delivers the message again."""


class ProcessingService:
    def __init__(
        self,
        results: Results,
        objects: MediaObjects,
        prober: Prober,
        *,
        max_receives: int,
        metrics: Metrics,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        margin_seconds: float = MARGIN_SECONDS,
    ) -> None:
        self._results = results
        self._objects = objects
        self._prober = prober
        self._max_receives = max_receives
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._margin = margin_seconds

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
        """One SQS batch: the messages to deliver again, as `batchItemFailures`.
        `context` is Lambda's (Chalice types it as a dict; it is not one)."""
        has_timer = hasattr(context, "get_remaining_time_in_millis")
        timer: Context | None = context if has_timer else None
        failures = []
        for record in event.get("Records", []):
            adopt_sqs(record)
            message = ProcessingMessage.parse(str(record.get("body", "")))
            if message is None:
                body = record.get("body")
                logger.warning("not a processing message; dropped", extra={"body": body})
                self._metrics.count("ProcessingDropped")
                continue
            receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
            left = timer.get_remaining_time_in_millis() / 1000 if timer else 60.0
            try:
                self.process(
                    message.media_id,
                    last_attempt=receives >= self._max_receives,
                    seconds=max(1.0, left - self._margin),
                )
            except Exception:
                logger.exception("processing attempt failed; SQS delivers it again")
                failures.append({"itemIdentifier": str(record["messageId"])})
        return {"batchItemFailures": failures}

    def process(self, media_id: str, *, last_attempt: bool, seconds: float) -> str:
        """Read one media file and commit what it holds; returns the outcome."""
        media = self._results.get(media_id)
        if media is None:
            logger.info("media file deleted before processing", extra={"mediaId": media_id})
            return "gone"
        if media.status != "processing":
            # A redelivery, or a run whose chapter refresh was cut short.
            self._refresh_chapters(media)
            return "duplicate"
        started = self._clock()
        probe, source = self._probe(media, seconds, last_attempt)
        if probe.poster is not None:
            self._objects.put_poster(poster_key_for(media.user_id, media.media_id), probe.poster)
        done = self._commit(media_id, probe)
        if done is None:
            return "duplicate"
        self._refresh_chapters(done)
        self._metrics.count("MediaProcessed")
        if done.status == "failed":
            self._metrics.count("ProcessingFailed")
        logger.info(
            "media file processed",
            extra={
                "mediaId": media_id,
                "status": done.status,
                "reason": done.reason,
                "size": media.size,
                "bytesRead": source.bytes_read if source else 0,
                "requests": source.requests if source else 0,
                "seconds": round(self._clock() - started, 3),
            },
        )
        return done.status

    def _probe(
        self, media: MediaFile, seconds: float, last_attempt: bool
    ) -> tuple[Probe, Source | None]:
        """The probe, run on a thread of its own so that an attempt that would
        outlast the function ends on time (the thread is abandoned)."""
        found: dict[str, Any] = {}

        def run() -> None:
            try:
                source = self._objects.open(media.key, media.size)
                found["source"] = source
                found["probe"] = self._prober(source)
            except Exception as exc:  # re-raised on the handler's thread
                found["error"] = exc

        worker = threading.Thread(target=run, name=f"probe-{media.media_id}", daemon=True)
        worker.start()
        worker.join(seconds)
        source = found.get("source")
        if worker.is_alive():
            logger.warning("processing ran out of time", extra={"mediaId": media.media_id})
            if not last_attempt:
                raise Retry("out of time")
            return Probe(failed=TIMED_OUT), source
        if "error" in found:
            if not last_attempt:
                raise found["error"]
            logger.error(
                "processing failed on its last attempt",
                extra={"mediaId": media.media_id, "error": repr(found["error"])},
            )
            return Probe(failed=ERRORED), source
        probe: Probe = found["probe"]
        return probe, source

    def _commit(self, media_id: str, probe: Probe) -> MediaFile | None:
        """Commit the outcome with `media.updated`, on the file as read; None when
        another run committed first (or the file was deleted)."""
        for attempt in range(COMMIT_ATTEMPTS):
            media = self._results.get(media_id)
            if media is None or media.status != "processing":
                return None
            done = media.model_copy(update=probe.metadata())
            if self._results.finish(media, done, [media_updated(done, stamp(self._clock))]):
                return done
            # A link came or went meanwhile: read the file again.
            self._sleep(backoff(attempt))
        raise Retry("the media file kept changing")

    def _refresh_chapters(self, media: MediaFile) -> None:
        """Rewrite each chapter holding `media` whose item does not yet show
        its outcome, with `chapter.updated`."""
        wanted = item_metadata(media)
        for link in media.links:
            for attempt in range(COMMIT_ATTEMPTS):
                chapter = self._results.get_chapter(link.course_id, link.chapter_id)
                if chapter is None:
                    break
                items = [
                    item.model_copy(update=wanted) if item.media_id == media.media_id else item
                    for item in chapter.items
                ]
                if items == chapter.items:
                    break
                updated = chapter.model_copy(
                    update={
                        "items": items,
                        "version": chapter.version + 1,
                        "updated_at": stamp(self._clock),
                    }
                )
                event = chapter_announcement(updated, extra_resources=media_paths(media.media_id))
                if self._results.refresh_chapter(updated, chapter.version, [event]):
                    break
                self._sleep(backoff(attempt))


def media_updated(media: MediaFile, at: datetime) -> Announcement:
    """`media.updated` with the file's new state, for its owner and each course
    whose chapters hold it."""
    courses = list(dict.fromkeys(link.course_id for link in media.links))
    # The file's own paths: its chapters' new state follows in chapter.updated,
    # which names theirs, so a client derives both and refetches nothing.
    event = MediaUpdated.new(
        MediaData(media=media.model_copy(update={"download_url": None})),
        resources=media_paths(media.media_id),
        at=at,
    )
    channels = [user_channel(media.user_id), *(course_channel(c) for c in courses)]
    return Announcement.of(event, channels)
